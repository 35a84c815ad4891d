/**
 * graphql-js, loaded from the one file every other package loads. graphql 16 ships a CommonJS
 * build (index.js, what Node resolves for yoga and graphql-tools) and an ESM build (index.mjs,
 * what vite/vitest picks for our own sources): two copies of GraphQLObjectType fail with "from
 * another module or realm". Importing index.js explicitly keeps one realm everywhere.
 * Type-only imports may keep using 'graphql'.
 */
export * from 'graphql/index.js';
