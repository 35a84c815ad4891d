/**
 * GraphQL Code Generator for the example client: types of the schema (schema.graphql, printed by
 * `crmlink schema print`) and of each operation in operations.graphql, as typed document nodes.
 * Offline: it reads the printed SDL, not a running server. Run from the repository root:
 *
 *   npx graphql-codegen --config docs/examples/typed-client/codegen.ts
 */
import type { CodegenConfig } from '@graphql-codegen/cli';

const HERE = 'docs/examples/typed-client';

const config: CodegenConfig = {
  schema: `${HERE}/schema.graphql`,
  documents: `${HERE}/operations.graphql`,
  generates: {
    [`${HERE}/generated/graphql.ts`]: {
      plugins: ['typescript-operations', 'typed-document-node'],
      config: {
        // crmlink's scalars as JSON carries them: decimals and dates are strings, never numbers.
        scalars: { Decimal: 'string', Date: 'string', DateTime: 'string', JSON: 'unknown' },
        enumsAsTypes: true,
        useTypeImports: true,
      },
    },
  },
};

export default config;
