/**
 * A part of the API defined outside the schema layer (operations: jobs, conflicts, the console's
 * queries): its SDL, its resolvers over the runtime, and any scalar it brings. buildSchema takes a
 * list of them, so schema/ imports nothing above it.
 */
import type { GraphQLFieldResolver, GraphQLScalarType, GraphQLSchema } from 'graphql';
import type { Runtime } from './runtime.js';
import type { CrmContext } from './resolvers.js';

export type Resolver = GraphQLFieldResolver<unknown, CrmContext, Record<string, unknown>>;

/** SDL a module contributes: its types, and the fields it adds to Query and Mutation. */
export interface ExtraTypeDefs {
  types: string;
  query: string[];
  mutation: string[];
  /** Fields of Subscription (served over server-sent events). */
  subscription?: string[];
}

/** A subscription field: the event stream, and how one event becomes the field's value. */
export interface SubscriptionField {
  subscribe(parent: unknown, args: Record<string, unknown>, ctx: CrmContext): AsyncIterable<unknown> | Promise<AsyncIterable<unknown>>;
  resolve(event: unknown): unknown;
}

export interface ModuleResolvers {
  types?: Record<string, Record<string, Resolver>>;
  query?: Record<string, Resolver>;
  mutation?: Record<string, Resolver>;
  subscription?: Record<string, SubscriptionField>;
}

export interface SchemaModule {
  typeDefs: ExtraTypeDefs;
  resolvers(rt: Runtime): ModuleResolvers;
  scalars?: Record<string, GraphQLScalarType>;
  /** Internal values of the module's enums: enum name → (GraphQL value → the code resolvers see); see enums.ts. */
  enums?: Record<string, Record<string, string>>;
  /** Directives placed on the type of every entity of the model (federation's `@key(fields: "id")`). */
  entityDirectives?: string;
  /**
   * Makes the executable schema from the whole SDL and resolver map, in place of
   * makeExecutableSchema (federation builds a subgraph). At most one module may bring one.
   */
  makeSchema?(typeDefs: string, resolvers: Record<string, unknown>, rt: Runtime): GraphQLSchema;
}
