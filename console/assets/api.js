// GraphQL over fetch: the console uses the public API only, with the caller's own credential.
import { authHeaders } from './signin.js';

export class ApiError extends Error {
  constructor(message, { code = 'INTERNAL', status = 0, errors = [] } = {}) {
    super(message);
    this.code = code;
    this.status = status;
    this.errors = errors;
  }
}

/** { data, errors } as the server sent them (for batches where some parts may fail). */
export async function gqlRaw(query, variables = {}) {
  let res;
  try {
    res = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', ...authHeaders() },
      body: JSON.stringify({ query, variables }),
      credentials: 'omit',
    });
  } catch (err) {
    throw new ApiError(err instanceof Error ? err.message : String(err), { code: 'NETWORK' });
  }
  let body;
  try {
    body = await res.json();
  } catch {
    throw new ApiError(`HTTP ${res.status}`, { status: res.status });
  }
  const errors = body.errors ?? [];
  const unauth = res.status === 401 || errors.some((e) => e.extensions?.code === 'UNAUTHENTICATED');
  if (unauth) {
    window.dispatchEvent(new CustomEvent('crmlink:unauthenticated', { detail: errors[0]?.message ?? '' }));
    throw new ApiError(errors[0]?.message ?? 'unauthenticated', { code: 'UNAUTHENTICATED', status: res.status, errors });
  }
  return { data: body.data ?? null, errors, status: res.status };
}

/** The data, or an ApiError with the first error's message and code. */
export async function gql(query, variables = {}) {
  const r = await gqlRaw(query, variables);
  if (r.errors.length > 0) {
    const e = r.errors[0];
    throw new ApiError(e.message, { code: e.extensions?.code ?? 'INTERNAL', status: r.status, errors: r.errors });
  }
  return r.data;
}

/** Escape a value for a GraphQL string literal (aliases in batched mutations). */
export function gqlString(v) {
  return JSON.stringify(String(v));
}

/**
 * A GraphQL subscription over server-sent events (one long POST with accept: text/event-stream):
 * `onData(data)` for each event, `onOpen()` once the server listens (its first bytes arrived), `onError(err)` when the
 * stream fails or ends with errors. Returns stop(). No polling: one request for the whole stream.
 */
export function subscribe(query, variables, { onData, onOpen = () => {}, onError = () => {} }) {
  const ctrl = new AbortController();
  (async () => {
    const res = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...authHeaders() },
      body: JSON.stringify({ query, variables }),
      credentials: 'omit',
      signal: ctrl.signal,
    });
    if (!res.ok || !res.body) throw new ApiError(`HTTP ${res.status}`, { status: res.status });
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    let opened = false;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      // The server's first bytes (a ping) come once the subscription listens: not the headers.
      if (!opened) {
        opened = true;
        onOpen();
      }
      buffer += value;
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (!block.startsWith('event: next')) continue; // pings (":") and the closing "complete"
        const line = block.split('\n').find((l) => l.startsWith('data: '));
        if (!line) continue;
        const body = JSON.parse(line.slice(6));
        if (body.errors?.length) throw new ApiError(body.errors[0].message, { code: body.errors[0].extensions?.code ?? 'INTERNAL', errors: body.errors });
        onData(body.data);
      }
    }
  })().catch((err) => {
    if (!ctrl.signal.aborted) onError(err);
  });
  return () => ctrl.abort();
}
