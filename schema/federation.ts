/**
 * crmlink as an Apollo Federation v2 subgraph: every entity of the model is a federation entity
 * keyed by its global id (`@key(fields: "id")`), `_service { sdl }` gives the subgraph SDL, and
 * `_entities` resolves references through the same batched loaders as `node` — N references of
 * one entity cost one statement per source, whatever N — with the viewer's row rules applied
 * (a reference the viewer may not see resolves to null, as node(id) does).
 *
 * The subgraph schema is built by @apollo/subgraph from the same SDL and resolvers as the plain
 * schema, so a field of the API is the same field with federation on or off.
 *
 * @example
 *   const schema = buildSchema(app, [...OPERATION_MODULES, federationModule]);
 */
import type { GraphQLArgument, GraphQLInputField, GraphQLSchema } from 'graphql';
import { getNamedType, isEnumType, isInputObjectType, isObjectType, parse } from './graphql-runtime.js';
import { createRequire } from 'node:module';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import { ENTITY_NAMES, type EntityName } from '../model/entities.js';
import { CrmlinkError } from '../core/errors.js';
import { MAX_PAGE_SIZE } from './connections.js';
import type { SchemaModule } from './module.js';
import { resolveNode, scope, type CrmContext } from './resolvers.js';
import type { Runtime } from './runtime.js';

// @apollo/subgraph (CommonJS, as graphql is here: one graphql instance) is required when a
// federated schema is built, not with every server: most never turn server.federation on.
const requireCjs = createRequire(import.meta.url);
const subgraph = (): typeof import('@apollo/subgraph') => requireCjs('@apollo/subgraph') as typeof import('@apollo/subgraph');

/** The federation version the subgraph declares (2.3: understood by every federation 2 gateway and router in use). */
export const FEDERATION_SPEC = 'https://specs.apollo.dev/federation/v2.3';

/** What a gateway sends for each entity it needs: the type name and the key fields. */
interface Representation {
  __typename: string;
  id?: unknown;
}

/** `__resolveReference` of `entity`: the record by global id, null when unknown or not visible. */
function referenceResolver(rt: Runtime, entity: EntityName) {
  return (ref: Representation, ctx: CrmContext) => (typeof ref.id === 'string' ? resolveNode(scope(rt, ctx), ref.id, entity) : null);
}

function makeSubgraphSchema(typeDefs: string, resolvers: Record<string, unknown>, rt: Runtime): GraphQLSchema {
  const withReferences: Record<string, unknown> = { ...resolvers };
  for (const entity of ENTITY_NAMES) {
    withReferences[entity] = { ...(resolvers[entity] as object | undefined), __resolveReference: referenceResolver(rt, entity) };
  }
  // The map is the one makeExecutableSchema takes; @apollo/subgraph reads the same shape.
  const schema = subgraph().buildSubgraphSchema({ typeDefs: parse(typeDefs), resolvers: withReferences as GraphQLResolverMap<unknown> });
  internalEnumDefaults(schema);
  capReferences(schema);
  return schema;
}

/**
 * `_entities` answers at most MAX_PAGE_SIZE references per request, as `nodes(ids:)` does: a
 * gateway sends one request per subgraph and batch, far below it; a longer list is a client
 * asking for a table in one go, refused before any statement runs.
 */
function capReferences(schema: GraphQLSchema): void {
  const field = schema.getQueryType()?.getFields()._entities;
  const resolve = field?.resolve;
  if (!field || !resolve) return;
  field.resolve = (source, args: { representations?: unknown[] }, ctx, info) => {
    const n = args.representations?.length ?? 0;
    if (n > MAX_PAGE_SIZE) {
      throw new CrmlinkError('VALIDATION_FAILED', `representations: ${n} references; at most ${MAX_PAGE_SIZE} per request`, { field: 'representations' });
    }
    return resolve(source, args, ctx, info);
  };
}

/**
 * An enum default in the SDL (`status: ParkedStatusFilter = PARKED`) as the enum's internal value
 * ('parked'), as makeExecutableSchema leaves it: @apollo/subgraph gives enums their internal values
 * after the defaults were read, so resolvers would get the name and printing the schema would fail.
 */
function internalEnumDefaults(schema: GraphQLSchema): void {
  const fix = (x: GraphQLArgument | GraphQLInputField) => {
    const type = getNamedType(x.type);
    if (!isEnumType(type) || typeof x.defaultValue !== 'string') return;
    const value = type.getValue(x.defaultValue);
    if (value) x.defaultValue = value.value;
  };
  for (const type of Object.values(schema.getTypeMap())) {
    if (isObjectType(type)) for (const field of Object.values(type.getFields())) field.args.forEach(fix);
    if (isInputObjectType(type)) Object.values(type.getFields()).forEach(fix);
  }
}

/** The federation part of the schema (server.federation). */
export const federationModule: SchemaModule = {
  typeDefs: {
    types: `extend schema @link(url: "${FEDERATION_SPEC}", import: ["@key"])`,
    query: [],
    mutation: [],
  },
  resolvers: () => ({}),
  entityDirectives: '@key(fields: "id")',
  makeSchema: makeSubgraphSchema,
};
