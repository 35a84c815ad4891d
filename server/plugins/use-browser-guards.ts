/**
 * What a browser may do to /graphql on behalf of another site.
 *
 * - CSRF: a cross-site page can send a "simple" request without asking first: a form post
 *   (application/x-www-form-urlencoded, multipart/form-data, text/plain) or a GET. Yoga's CSRF
 *   prevention refuses those unless they carry a header a page can only set after a CORS
 *   preflight: `x-crmlink-csrf` (any value), or the `x-api-key` a client sends anyway. JSON posts
 *   (what the console, GraphiQL and clients send) are always preflighted cross-site, so they pass.
 * - CORS: off unless server.cors.origins lists the origin; then that origin only, never with
 *   credentials (the API takes keys and tokens in headers, not cookies).
 */
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import type { CORSOptions, Plugin } from 'graphql-yoga';
import type { ServerConfig } from '../../config/schema.js';

/** The header a non-browser client (curl, scripts) adds to a GET, or to a form-encoded post. */
export const CSRF_HEADER = 'x-crmlink-csrf';

export function useCsrfPrevention(): Plugin {
  return useCSRFPrevention({ requestHeaders: [CSRF_HEADER, 'x-graphql-yoga-csrf', 'x-api-key'] });
}

/** Yoga's `cors` option: false (no CORS headers at all) or the allowlisted origin, per request. */
export function corsOptions(server: Pick<ServerConfig, 'cors'>): false | ((request: Request) => CORSOptions) {
  const allowed = new Set(server.cors.origins);
  if (allowed.size === 0) return false;
  return (request) => {
    const origin = request.headers.get('origin');
    if (!origin || !allowed.has(origin)) return false;
    return {
      origin: [origin],
      credentials: false,
      methods: ['GET', 'POST'],
      allowedHeaders: ['content-type', 'accept', 'authorization', 'x-api-key', CSRF_HEADER],
      maxAge: 600,
    };
  };
}
