/**
 * GraphQL Code Generator for the example client, offline: the types of each operation in
 * operations.graphql against the schema `crmlink schema print` gives for a config, as typed
 * document nodes, written to generated/graphql.ts. It uses the generator's core and plugins
 * directly (no CLI: the CLI's loaders for remote schemas need a newer Node than crmlink requires,
 * and a printed schema needs none of them). The printed SDL is not kept in the repository (the
 * schema is defined once, in schema/); print it first. From the repository root:
 *
 *   node bin/crmlink.mjs schema print --config examples/demo/crmlink.yaml > docs/examples/typed-client/schema.graphql
 *   node --import tsx docs/examples/typed-client/codegen.ts
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { codegen } from '@graphql-codegen/core';
import * as typescriptOperations from '@graphql-codegen/typescript-operations';
import * as typedDocumentNode from '@graphql-codegen/typed-document-node';
import { parse } from 'graphql';

const HERE = import.meta.dirname;
export const GENERATED = join(HERE, 'generated', 'graphql.ts');

/** The generated TypeScript for a printed schema (SDL) and operations.graphql. */
export function generateClientTypes(sdl: string): Promise<string> {
  return codegen({
    filename: GENERATED,
    schema: parse(sdl),
    documents: [{ location: 'operations.graphql', document: parse(readFileSync(join(HERE, 'operations.graphql'), 'utf8')) }],
    plugins: [{ 'typescript-operations': {} }, { 'typed-document-node': {} }],
    pluginMap: { 'typescript-operations': typescriptOperations, 'typed-document-node': typedDocumentNode },
    config: {
      // crmlink's scalars as JSON carries them: decimals and dates are strings, never numbers.
      scalars: { Decimal: 'string', Date: 'string', DateTime: 'string', JSON: 'unknown' },
      enumsAsTypes: true,
      useTypeImports: true,
    },
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  writeFileSync(GENERATED, await generateClientTypes(readFileSync(process.argv[2] ?? join(HERE, 'schema.graphql'), 'utf8')));
}
