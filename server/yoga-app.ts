/**
 * The yoga server for an application: the schema (with the operations part of the API) and every
 * plugin configured from `server` (request metrics, auth, CSRF, depth and cost limits, error mapping,
 * introspection and suggestion switches, compiled execution, an OpenTelemetry span per operation).
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
import { createYoga, type YogaServerInstance, type Plugin } from 'graphql-yoga';
import { silentLogger } from '../core/logger.js';
import { fieldSuggestionsEnabled, introspectionEnabled } from '../config/server.js';
import { buildSchema, CUSTOMER_360, federationModule, subscriptionModule, type CrmContext, type SchemaApp } from '../schema/index.js';
import type { GraphQLSchema } from 'graphql';
import { OPERATION_MODULES } from '../ops/index.js';
import { useAuth } from './plugins/use-auth.js';
import { corsOptions, useCsrfPrevention } from './plugins/use-browser-guards.js';
import { useDepthLimit } from './plugins/use-depth-limit.js';
import { useCostLimit } from './plugins/use-cost-limit.js';
import { useDocumentLimits } from './plugins/use-document-limits.js';
import { useDisableIntrospection } from './plugins/use-introspection.js';
import { useHideFieldSuggestions } from './plugins/use-field-suggestions.js';
import { maskedErrors } from './plugins/use-error-masking.js';
import { useJit } from './plugins/use-jit.js';
import { useRequestMetrics } from './plugins/use-request-metrics.js';
import { useTracing } from './plugins/use-tracing.js';
import { useResponseWarnings } from './plugins/use-response-warnings.js';
import { renderOfflineGraphiQL } from './graphiql.js';

export { graphqlCodeOf, toGraphQLError } from './plugins/use-error-masking.js';
export { operationCost } from './plugins/use-cost-limit.js';

export type CrmYoga = YogaServerInstance<Record<string, unknown>, CrmContext>;

/**
 * Whether the server offers GraphiQL: `server.graphiql`, never with `server.production` and
 * never without introspection (GraphiQL needs it).
 *
 * `production` wins even over `graphiql: true`: config/schema.ts defaults `graphiql` to true, so
 * an explicit `graphiql: true` cannot be told from the default. Letting an explicit setting win
 * (`graphiql ?? !production`) needs `server.graphiql` to have no default in the config schema.
 */
export function graphiqlEnabled(server: Pick<SchemaApp['config']['server'], 'graphiql' | 'production' | 'introspection'>): boolean {
  return server.graphiql && !server.production && introspectionEnabled(server);
}

/**
 * The schema `app` serves: the model's types, the operations part of the API, subscriptions, and
 * the federation subgraph fields when server.federation is on (`federation` overrides it).
 * `crmlink schema print` prints it.
 */
export function appSchema(app: SchemaApp, opts: { federation?: boolean } = {}): GraphQLSchema {
  const federation = opts.federation ?? app.config.server.federation;
  return buildSchema(app, [...OPERATION_MODULES, subscriptionModule, ...(federation ? [federationModule] : [])]);
}

/**
 * The yoga server for `app`, with every plugin configured from `server`: call `yoga.fetch` in
 * tests, or hand it to node:http as a request listener.
 */
export function createYogaApp(app: SchemaApp, opts: { logger?: boolean; jit?: boolean } = {}): CrmYoga {
  const server = app.config.server;
  const logger = opts.logger === false ? silentLogger : app.logger;
  const plugins: Plugin[] = [
    useRequestMetrics() as Plugin,
    useCsrfPrevention(),
    useAuth({ config: app.config }) as Plugin,
    useDocumentLimits(server.limits),
    useDepthLimit({ maxDepth: server.limits.depth }),
    useCostLimit({ maxCost: server.limits.cost, weights: { aggregate: server.limits.aggregateCost } }),
    useResponseWarnings(),
  ];
  if (!introspectionEnabled(server)) plugins.push(useDisableIntrospection());
  if (!fieldSuggestionsEnabled(server)) plugins.push(useHideFieldSuggestions());
  // Compiled execution for queries (server/plugins/use-jit.ts); CRMLINK_GRAPHQL_JIT=off turns it off to compare.
  if (opts.jit ?? process.env.CRMLINK_GRAPHQL_JIT !== 'off') plugins.push(useJit({ logger }));
  // Last: it wraps whichever executor the plugins before it chose.
  plugins.push(useTracing());
  return createYoga<Record<string, unknown>, CrmContext>({
    // Subscriptions are served over server-sent events (yoga's built-in SSE), through the same plugins.
    schema: appSchema(app),
    graphqlEndpoint: '/graphql',
    graphiql: graphiqlEnabled(server) ? { defaultQuery: CUSTOMER_360, title: 'crmlink' } : false,
    // GraphiQL's assets come from the package, not a CDN: the page works offline (server/graphiql.ts).
    renderGraphiQL: renderOfflineGraphiQL,
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
