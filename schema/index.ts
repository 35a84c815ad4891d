/**
 * The GraphQL API: the schema generated from the canonical model and the config, and the yoga
 * server with its plugins (auth, depth and cost limits, error mapping, introspection switch).
 *
 * @example
 *   const app = await openApp(loadConfigFile('crmlink.yaml'));
 *   const yoga = createYogaApp(app);
 *   const res = await yoga.fetch('http://localhost/graphql', {
 *     method: 'POST',
 *     headers: { 'content-type': 'application/json', 'x-api-key': process.env.KEY ?? '' },
 *     body: JSON.stringify({ query: '{ customers(first: 5) { nodes { id name receivableBalance } } }' }),
 *   });
 */
import type { GraphQLSchema } from 'graphql';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { createYoga, type YogaServerInstance, type Plugin } from 'graphql-yoga';
import type { App } from '../app/app.js';
import { silentLogger } from '../core/logger.js';
import { DateScalar, DateTimeScalar, DecimalScalar } from './scalars.js';
import { Runtime } from './runtime.js';
import { buildTypeDefs } from './typedefs.js';
import { buildResolvers, type CrmContext } from './resolvers.js';
import { buildMutations } from './mutations.js';
import { opsResolvers, OPS_TYPEDEFS, JSONScalar } from './ops.js';
import { CUSTOMER_360 } from './graphiql.js';
import { ANALYSIS_TYPEDEFS, analysisResolvers } from './analysis.js';
import { useAuth } from '../server/plugins/use-auth.js';
import { corsOptions, useCsrfPrevention } from '../server/plugins/use-browser-guards.js';
import { useDepthLimit } from '../server/plugins/use-depth-limit.js';
import { useCostLimit } from '../server/plugins/use-cost-limit.js';
import { useDisableIntrospection } from '../server/plugins/use-introspection.js';
import { useHideFieldSuggestions } from '../server/plugins/use-field-suggestions.js';
import { fieldSuggestionsEnabled, introspectionEnabled } from '../config/server.js';
import { maskedErrors } from '../server/plugins/use-error-masking.js';
import { useJit } from '../server/plugins/use-jit.js';

export { type CrmContext } from './resolvers.js';
export { type Viewer } from './security.js';
export { federatedId, decodeId } from './ids.js';
export { graphqlCodeOf, toGraphQLError } from '../server/plugins/use-error-masking.js';
export { operationCost } from '../server/plugins/use-cost-limit.js';
export { CUSTOMER_360 } from './graphiql.js';

/** The executable schema for `app`: types per entity (custom fields included), resolvers, mutations, ops. */
export function buildSchema(app: App): GraphQLSchema {
  const rt = new Runtime(app);
  const typeDefs = buildTypeDefs(rt, {
    types: `${OPS_TYPEDEFS.types}\n${ANALYSIS_TYPEDEFS.types}`,
    query: [...OPS_TYPEDEFS.query, ...ANALYSIS_TYPEDEFS.query],
    mutation: [...OPS_TYPEDEFS.mutation, ...ANALYSIS_TYPEDEFS.mutation],
  });
  const read = buildResolvers(rt);
  const ops = opsResolvers(rt);
  const analysis = analysisResolvers(rt);
  const resolvers = {
    ...read,
    ...ops.types,
    ...analysis.types,
    Customer: { ...(read.Customer as object), ...analysis.types.Customer },
    Decimal: DecimalScalar,
    Date: DateScalar,
    DateTime: DateTimeScalar,
    JSON: JSONScalar,
    Query: { ...(read.Query as object), ...ops.query, ...analysis.query },
    Mutation: { ...buildMutations(rt), ...ops.mutation, ...(read.Mutation as object) },
  };
  return makeExecutableSchema({ typeDefs, resolvers });
}

export type CrmYoga = YogaServerInstance<Record<string, unknown>, CrmContext>;

/**
 * Whether the server offers GraphiQL: `server.graphiql`, never with `server.production` and
 * never without introspection (GraphiQL needs it).
 *
 * `production` wins even over `graphiql: true`: config/schema.ts defaults `graphiql` to true, so
 * an explicit `graphiql: true` cannot be told from the default. Letting an explicit setting win
 * (`graphiql ?? !production`) needs `server.graphiql` to have no default in the config schema.
 */
export function graphiqlEnabled(server: Pick<App['config']['server'], 'graphiql' | 'production' | 'introspection'>): boolean {
  return server.graphiql && !server.production && introspectionEnabled(server);
}

/**
 * The yoga server for `app`, with every plugin configured from `server`: call `yoga.fetch` in
 * tests, or hand it to node:http as a request listener.
 */
export function createYogaApp(app: App, opts: { logger?: boolean; jit?: boolean } = {}): CrmYoga {
  const server = app.config.server;
  const logger = opts.logger === false ? silentLogger : app.logger;
  const plugins: Plugin[] = [
    useCsrfPrevention(),
    useAuth({ config: app.config }) as Plugin,
    useDepthLimit({ maxDepth: server.limits.depth }),
    useCostLimit({ maxCost: server.limits.cost }),
  ];
  if (!introspectionEnabled(server)) plugins.push(useDisableIntrospection());
  if (!fieldSuggestionsEnabled(server)) plugins.push(useHideFieldSuggestions());
  // Compiled execution for queries (server/plugins/use-jit.ts); CRMLINK_GRAPHQL_JIT=off turns it off to compare.
  if (opts.jit ?? process.env.CRMLINK_GRAPHQL_JIT !== 'off') plugins.push(useJit({ logger }));
  return createYoga<Record<string, unknown>, CrmContext>({
    schema: buildSchema(app),
    graphqlEndpoint: '/graphql',
    graphiql: graphiqlEnabled(server) ? { defaultQuery: CUSTOMER_360, title: 'crmlink' } : false,
    landingPage: false,
    cors: corsOptions(server),
    // No upload scalar: a multipart body has nothing to carry but a cross-site form post.
    multipart: false,
    maskedErrors: maskedErrors({ production: server.production, logger }),
    logging: opts.logger === false ? false : {
      debug: (...args: unknown[]) => logger.debug(args.map(String).join(' ')),
      info: (...args: unknown[]) => logger.info(args.map(String).join(' ')),
      warn: (...args: unknown[]) => logger.warn(args.map(String).join(' ')),
      error: (...args: unknown[]) => logger.error(args.map(String).join(' ')),
    },
    plugins,
  });
}
