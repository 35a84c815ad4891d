/**
 * The root span of every HTTP request ("POST /graphql"): the GraphQL operation and the source
 * statements it runs are its children. A W3C `traceparent` sent by the caller (a gateway, a
 * proxy) makes it a child of the caller's trace, when the SDK registers a propagator
 * (app/tracing.ts); without the SDK this is the API's no-op.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, propagation } from '@opentelemetry/api';
import { tracer } from '../core/tracing.js';

/** Routes named in span names; any other path is "other" (span names stay few). */
const ROUTES = new Set(['/graphql', '/healthz', '/readyz', '/metrics', '/console', '/']);

export function tracedListener(handler: (req: IncomingMessage, res: ServerResponse) => void): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const segment = `/${path.split('/')[1] ?? ''}`;
    const route = ROUTES.has(segment) ? segment : 'other';
    const method = req.method ?? 'GET';
    const parent = propagation.extract(ROOT_CONTEXT, req.headers);
    tracer().startActiveSpan(
      `${method} ${route}`,
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': method, 'http.route': route } },
      parent,
      (span) => {
        res.once('close', () => {
          span.setAttribute('http.response.status_code', res.statusCode);
          if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
          span.end();
        });
        handler(req, res);
      },
    );
  };
}
