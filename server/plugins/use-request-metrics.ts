/**
 * Prometheus metrics of /graphql requests, in prom-client's default registry (the one /metrics
 * serves, with the sync's metrics):
 *
 * - crmlink_http_request_duration_seconds{operation,status}  histogram, request to response
 * - crmlink_http_request_errors_total{operation,code}        each GraphQL error by its code, and
 *                                                            each refused request by its status
 * - crmlink_http_requests_in_flight                          gauge
 *
 * `operation` is the executed operation's name ("Customer360"), "anonymous" for an unnamed one,
 * and "none" for a request refused before execution (credentials, limits, a bad document). Names
 * come from clients, so only the first MAX_OPERATION_NAMES distinct well-formed names get their
 * own series; the rest are counted as "other", and the label set stays bounded.
 */
import type { Plugin } from 'graphql-yoga';
import { Counter, Gauge, Histogram, register } from 'prom-client';
import { getOperationAST, type ExecutionResult, type GraphQLError } from '../../schema/graphql-runtime.js';
import { isCrmlinkError } from '../../core/errors.js';
import { graphqlCodeOf } from './use-error-masking.js';

export const MAX_OPERATION_NAMES = 200;
const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

const single = <M>(name: string, make: () => M): M => (register.getSingleMetric(name) as M | undefined) ?? make();

export const requestDuration = single(
  'crmlink_http_request_duration_seconds',
  () =>
    new Histogram({
      name: 'crmlink_http_request_duration_seconds',
      help: 'Duration of /graphql requests, by operation name and HTTP status.',
      labelNames: ['operation', 'status'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    }),
);

export const requestErrors = single(
  'crmlink_http_request_errors_total',
  () =>
    new Counter({
      name: 'crmlink_http_request_errors_total',
      help: 'Errors of /graphql requests: GraphQL errors by extensions.code, requests refused before execution by HTTP status (http_401 ...).',
      labelNames: ['operation', 'code'] as const,
    }),
);

export const requestsInFlight = single(
  'crmlink_http_requests_in_flight',
  () => new Gauge({ name: 'crmlink_http_requests_in_flight', help: '/graphql requests being served now.' }),
);

/** Operation names seen so far, each kept as a label value (bounded by MAX_OPERATION_NAMES). */
const seenNames = new Set<string>();

function operationLabel(name: string | undefined): string {
  if (name === undefined) return 'anonymous';
  if (seenNames.has(name)) return name;
  if (!NAME.test(name) || seenNames.size >= MAX_OPERATION_NAMES) return 'other';
  seenNames.add(name);
  return name;
}

/** The code the client will see in extensions.code (errors are mapped after execution, in use-error-masking.ts). */
function codeOf(error: GraphQLError): string {
  const code = error.extensions?.code;
  if (typeof code === 'string') return code;
  return isCrmlinkError(error.originalError) ? graphqlCodeOf(error.originalError.code).code : 'INTERNAL';
}

interface RequestState {
  started: number;
  operation: string;
  graphqlErrors: number;
}

export function useRequestMetrics(opts: { now?: () => number } = {}): Plugin<{ request: Request }> {
  const now = opts.now ?? (() => performance.now());
  const requests = new WeakMap<Request, RequestState>();
  return {
    onRequest({ request }) {
      requests.set(request, { started: now(), operation: 'none', graphqlErrors: 0 });
      requestsInFlight.inc();
    },
    onExecute({ args }) {
      const state = requests.get(args.contextValue.request);
      if (!state) return;
      state.operation = operationLabel(getOperationAST(args.document, args.operationName)?.name?.value);
      return {
        onExecuteDone({ result }) {
          for (const error of (result as ExecutionResult).errors ?? []) {
            requestErrors.inc({ operation: state.operation, code: codeOf(error) });
            state.graphqlErrors += 1;
          }
        },
      };
    },
    onResponse({ request, response }) {
      const state = requests.get(request);
      if (!state) return;
      requests.delete(request);
      requestsInFlight.dec();
      const status = String(response.status);
      requestDuration.observe({ operation: state.operation, status }, (now() - state.started) / 1000);
      if (response.status >= 400 && state.graphqlErrors === 0) requestErrors.inc({ operation: state.operation, code: `http_${status}` });
    },
  };
}
