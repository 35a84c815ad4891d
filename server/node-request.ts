/** A node:http request's headers as a fetch Headers (what authentication reads). */
import type { IncomingMessage } from 'node:http';

export function toHeaders(req: IncomingMessage): Headers {
  const h = new Headers();
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined) continue;
    h.set(k, Array.isArray(v) ? v.join(', ') : v);
  }
  return h;
}
