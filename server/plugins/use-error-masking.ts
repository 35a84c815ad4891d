/**
 * The one place where crmlink errors become GraphQL errors: an exhaustive switch from ErrorCode to
 * `extensions.code` and an HTTP status, and the masking of unexpected errors in production
 * (`server.production`): a bug's message, stack or SQL never reaches a client there; it is logged.
 *
 * HTTP status: request-level errors (authentication, depth/cost limits: no field path) set the
 * response status; an error inside one field of an executed operation keeps 200, so the rest of
 * the data is still usable, and carries its code in `extensions`.
 */
import { GraphQLError } from '../../schema/graphql-runtime.js';
import type { YogaServerOptions } from 'graphql-yoga';
import { CrmlinkError, isCrmlinkError, type ErrorCode } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';

export interface GraphQLErrorCode {
  code: string;
  status: number;
}

export function graphqlCodeOf(code: ErrorCode): GraphQLErrorCode {
  switch (code) {
    case 'VALIDATION_FAILED':
      return { code: 'VALIDATION_FAILED', status: 400 };
    case 'QUERY_TOO_COMPLEX':
      return { code: 'QUERY_TOO_COMPLEX', status: 400 };
    case 'UNAUTHENTICATED':
      return { code: 'UNAUTHENTICATED', status: 401 };
    case 'FORBIDDEN':
      return { code: 'FORBIDDEN', status: 403 };
    case 'WRITE_FORBIDDEN':
      return { code: 'WRITE_FORBIDDEN', status: 403 };
    case 'NOT_FOUND':
      return { code: 'NOT_FOUND', status: 404 };
    case 'VERSION_CONFLICT':
      return { code: 'VERSION_CONFLICT', status: 409 };
    case 'ROW_REJECTED':
      return { code: 'ROW_REJECTED', status: 422 };
    case 'TRANSFORM_FAILED':
      return { code: 'TRANSFORM_FAILED', status: 422 };
    case 'LOCKED':
      return { code: 'LOCKED', status: 423 };
    case 'NOT_AVAILABLE':
      return { code: 'NOT_AVAILABLE', status: 501 };
    case 'SOURCE_UNREACHABLE':
      return { code: 'SOURCE_UNAVAILABLE', status: 503 };
    case 'DB_TRANSIENT':
      return { code: 'SOURCE_UNAVAILABLE', status: 503 };
    case 'SOURCE_AUTH_FAILED':
    case 'SOURCE_DATABASE_UNKNOWN':
      return { code: 'SOURCE_MISCONFIGURED', status: 502 };
    case 'CONFIG_INVALID':
    case 'CONFIG_ENV_MISSING':
    case 'CONFIG_NOT_FOUND':
    case 'SOURCE_UNKNOWN':
    case 'MAPPING_INVALID':
    case 'SCHEMA_CHANGED':
      return { code: 'SERVER_MISCONFIGURED', status: 500 };
    case 'DB_ERROR':
    case 'INTERNAL':
      return { code: 'INTERNAL', status: 500 };
    default: {
      const never: never = code;
      return { code: String(never), status: 500 };
    }
  }
}

/** Context keys safe to show a client (never the SQL or connection details). */
const PUBLIC_CONTEXT = ['entity', 'field', 'source', 'setting', 'operation', 'currentVersion', 'expectedVersion'] as const;

export const MASKED_MESSAGE = 'Unexpected error.';

export interface ErrorOptions {
  production: boolean;
  logger?: Logger;
}

type Located = Pick<GraphQLError, 'nodes' | 'source' | 'positions' | 'path' | 'locations'> | undefined;

function build(message: string, code: GraphQLErrorCode, located: Located, extra: Record<string, unknown>): GraphQLError {
  const requestLevel = !located?.path;
  const e = new GraphQLError(message, {
    nodes: located?.nodes,
    source: located?.source,
    positions: located?.positions,
    path: located?.path,
    extensions: { code: code.code, ...extra, ...(requestLevel ? { http: { status: code.status } } : {}) },
  });
  // graphql-jit's errors carry their locations without the AST nodes: keep them.
  if (!e.locations && located?.locations?.length) Object.defineProperty(e, 'locations', { value: located.locations, enumerable: true, writable: true, configurable: true });
  return e;
}

/** Any thrown value → the GraphQL error a client sees. */
export function toGraphQLError(err: unknown, opts: ErrorOptions, located?: Located): GraphQLError {
  if (isCrmlinkError(err)) {
    const code = graphqlCodeOf(err.code);
    if (err.kind === 'unexpected') {
      opts.logger?.error({ err, code: err.code }, 'unexpected error in a GraphQL request');
      if (opts.production) return build(MASKED_MESSAGE, graphqlCodeOf('INTERNAL'), located, {});
    }
    const extra: Record<string, unknown> = {};
    for (const k of PUBLIC_CONTEXT) if (err.context[k] !== undefined) extra[k] = err.context[k];
    return build(err.message, code, located, extra);
  }
  opts.logger?.error({ err }, 'unexpected error in a GraphQL request');
  const message = opts.production ? MASKED_MESSAGE : err instanceof Error ? err.message : String(err);
  return build(message, graphqlCodeOf('INTERNAL'), located, {});
}

/** The longest error message a client gets; GraphQL's own messages quote invalid values whole. */
export const MESSAGE_MAX = 600;

/** The error with its message cut to MESSAGE_MAX characters (a megabyte of input never comes back). */
function capped(e: GraphQLError): GraphQLError {
  if (e.message.length <= MESSAGE_MAX) return e;
  const message = `${e.message.slice(0, MESSAGE_MAX)}… (message cut, ${e.message.length} characters)`;
  const out = new GraphQLError(message, { nodes: e.nodes, source: e.source, positions: e.positions, path: e.path, extensions: e.extensions });
  if (!out.locations && e.locations?.length) Object.defineProperty(out, 'locations', { value: e.locations, enumerable: true, writable: true, configurable: true });
  return out;
}

/**
 * A CrmlinkError wrapped by GraphQL (a scalar refusing a variable: GraphQL wraps the scalar's
 * error once for the value and once for the variable), or undefined.
 */
function wrappedCrmlinkError(error: GraphQLError): CrmlinkError | undefined {
  let e: unknown = error.originalError;
  for (let depth = 0; e instanceof GraphQLError && depth < 5; depth++) e = e.originalError;
  return isCrmlinkError(e) ? e : undefined;
}

/** Yoga's maskedErrors option, routed through toGraphQLError. */
export function maskedErrors(opts: ErrorOptions): NonNullable<YogaServerOptions<object, object>['maskedErrors']> {
  return {
    maskError: (error: unknown) => {
      if (error instanceof GraphQLError) {
        const original = error.originalError;
        if (!original || original === error) {
          // GraphQL's own errors (syntax, validation) and ones already mapped by a plugin.
          return capped(error);
        }
        if (original instanceof GraphQLError && !original.originalError) return capped(original.extensions?.code ? original : error);
        const inner = original instanceof GraphQLError ? wrappedCrmlinkError(error) : undefined;
        if (inner && inner.kind === 'user') {
          // GraphQL's message says which variable and where; the code is the scalar's own.
          const extra: Record<string, unknown> = {};
          for (const k of PUBLIC_CONTEXT) if (inner.context[k] !== undefined) extra[k] = inner.context[k];
          return capped(build(error.message, graphqlCodeOf(inner.code), error, extra));
        }
        return capped(toGraphQLError(original, opts, error));
      }
      return capped(toGraphQLError(error, opts));
    },
  };
}

/** A CrmlinkError raised by a plugin before execution (auth, limits), already mapped. */
export function requestError(code: ErrorCode, message: string, context: Record<string, unknown> = {}): GraphQLError {
  return toGraphQLError(new CrmlinkError(code, message, context), { production: false });
}
