/**
 * The GraphQL schema: types generated from the canonical model and the config, the read and write
 * resolvers, plus the parts of the API other layers contribute (`modules`, e.g. ops/'s jobs and
 * console). The yoga server around it is built in server/yoga-app.ts.
 *
 * @example
 *   const schema = buildSchema(app, OPERATION_MODULES);
 */
import type { GraphQLSchema } from 'graphql';
import { makeExecutableSchema } from '@graphql-tools/schema';
import type { SchemaApp } from './schema-app.js';
import { DateScalar, DateTimeScalar, DecimalScalar } from './scalars.js';
import { Runtime } from './runtime.js';
import { buildTypeDefs } from './typedefs.js';
import { buildResolvers } from './resolvers.js';
import { buildMutations } from './mutations.js';
import type { SchemaModule } from './module.js';
import { analysisModule } from './analysis.js';
import { CrmlinkError } from '../core/errors.js';

export { type CrmContext } from './resolvers.js';
export { type Viewer } from './viewer.js';
export { type SchemaApp } from './schema-app.js';
export { type SchemaModule, type ExtraTypeDefs, type Resolver, type SubscriptionField } from './module.js';
export { subscriptionModule } from './subscriptions.js';
export { federationModule, FEDERATION_SPEC } from './federation.js';
export { codeEnum, enumResolvers, type CodeEnum } from './enums.js';
export { federatedId, decodeId } from './ids.js';
export { CUSTOMER_360 } from './graphiql.js';

/** The executable schema for `app`: types per entity (custom fields included), resolvers, mutations, and each module's part. */
export function buildSchema(app: SchemaApp, extra: readonly SchemaModule[] = []): GraphQLSchema {
  const rt = new Runtime(app);
  // Customer analysis reads the hub only: part of every schema.
  const modules = [analysisModule, ...extra];
  const typeDefs = buildTypeDefs(
    rt,
    modules.map((m) => m.typeDefs),
    modules.map((m) => m.entityDirectives ?? '').join(' ').trim(),
  );
  const read = buildResolvers(rt);
  const parts = modules.map((m) => m.resolvers(rt));
  // A module may add fields to a generated type (e.g. Customer.history): merged per type, field by field.
  const types: Record<string, object> = {};
  for (const p of parts) for (const [t, fields] of Object.entries(p.types ?? {})) types[t] = { ...(types[t] ?? (read as Record<string, object>)[t] ?? {}), ...fields };
  const resolvers = {
    ...read,
    ...types,
    ...Object.assign({}, ...modules.map((m) => m.scalars ?? {})),
    ...Object.assign({}, ...modules.map((m) => m.enums ?? {})),
    Decimal: DecimalScalar,
    Date: DateScalar,
    DateTime: DateTimeScalar,
    Query: Object.assign({}, read.Query, ...parts.map((p) => p.query ?? {})),
    Mutation: Object.assign(buildMutations(rt), ...parts.map((p) => p.mutation ?? {})),
  };
  const subscription = Object.assign({}, ...parts.map((p) => p.subscription ?? {})) as Record<string, unknown>;
  if (Object.keys(subscription).length > 0) Object.assign(resolvers, { Subscription: subscription });
  const makers = modules.flatMap((m) => (m.makeSchema ? [m.makeSchema] : []));
  if (makers.length > 1) throw new CrmlinkError('INTERNAL', `${makers.length} schema modules each build the executable schema; at most one may`);
  return makers[0] ? makers[0](typeDefs, resolvers, rt) : makeExecutableSchema({ typeDefs, resolvers });
}
export { responseWarnings } from './runtime.js';
