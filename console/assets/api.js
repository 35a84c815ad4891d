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
