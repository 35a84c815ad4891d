/**
 * Every failure crmlink raises on purpose is a CrmlinkError: a stable `code`, a `kind` that says
 * how to react, and the context needed to act on it (source, entity, table, key, field, config path).
 *
 * - user: bad config or input; fix it, retrying will not help.
 * - operational: transient (timeouts, deadlocks, dropped connections); the only kind that is retried.
 * - unexpected: a bug; masked in production responses.
 */
export type ErrorKind = 'user' | 'operational' | 'unexpected';

export interface ErrorContext {
  source?: string;
  entity?: string;
  table?: string;
  key?: string;
  field?: string;
  column?: string;
  /** Dotted config path, e.g. `sources.erp.dialect`. */
  path?: string;
  line?: number;
  /** The SQL that failed, with secrets redacted. */
  sql?: string;
  /** The config setting or environment variable the user should change. */
  setting?: string;
  [extra: string]: unknown;
}

export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'CONFIG_ENV_MISSING'
  | 'CONFIG_NOT_FOUND'
  | 'SOURCE_UNREACHABLE'
  | 'SOURCE_AUTH_FAILED'
  | 'SOURCE_DATABASE_UNKNOWN'
  | 'SOURCE_UNKNOWN'
  | 'MAPPING_INVALID'
  | 'TRANSFORM_FAILED'
  | 'WRITE_FORBIDDEN'
  | 'ROW_REJECTED'
  | 'DB_TRANSIENT'
  | 'DB_ERROR'
  | 'VALIDATION_FAILED'
  | 'VERSION_CONFLICT'
  | 'NOT_FOUND'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'QUERY_TOO_COMPLEX'
  | 'NOT_AVAILABLE'
  | 'LOCKED'
  | 'SCHEMA_CHANGED'
  | 'INTERNAL';

const KIND_BY_CODE: Record<ErrorCode, ErrorKind> = {
  CONFIG_INVALID: 'user',
  CONFIG_ENV_MISSING: 'user',
  CONFIG_NOT_FOUND: 'user',
  SOURCE_UNREACHABLE: 'operational',
  SOURCE_AUTH_FAILED: 'user',
  SOURCE_DATABASE_UNKNOWN: 'user',
  SOURCE_UNKNOWN: 'user',
  MAPPING_INVALID: 'user',
  TRANSFORM_FAILED: 'user',
  WRITE_FORBIDDEN: 'user',
  ROW_REJECTED: 'user',
  DB_TRANSIENT: 'operational',
  DB_ERROR: 'unexpected',
  VALIDATION_FAILED: 'user',
  VERSION_CONFLICT: 'user',
  NOT_FOUND: 'user',
  UNAUTHENTICATED: 'user',
  FORBIDDEN: 'user',
  QUERY_TOO_COMPLEX: 'user',
  NOT_AVAILABLE: 'user',
  LOCKED: 'operational',
  SCHEMA_CHANGED: 'user',
  INTERNAL: 'unexpected',
};

export class CrmlinkError extends Error {
  readonly code: ErrorCode;
  readonly kind: ErrorKind;
  readonly context: ErrorContext;

  constructor(code: ErrorCode, message: string, context: ErrorContext = {}, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.kind = KIND_BY_CODE[code];
    this.context = context;
  }

  /** True for faults worth retrying with backoff. */
  get transient(): boolean {
    return this.kind === 'operational';
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, kind: this.kind, message: this.message, ...this.context };
  }
}

/** Bad configuration: names the config path and, when known, its line. */
export class ConfigError extends CrmlinkError {
  readonly issues: ConfigIssue[];
  constructor(issues: ConfigIssue[], file?: string) {
    const head = file ? `invalid config ${file}` : 'invalid config';
    const lines = issues.map(formatIssue);
    super(
      issues.some((i) => i.code === 'CONFIG_ENV_MISSING') && issues.every((i) => i.code === 'CONFIG_ENV_MISSING')
        ? 'CONFIG_ENV_MISSING'
        : 'CONFIG_INVALID',
      `${head}:\n  ${lines.join('\n  ')}`,
      { path: issues[0]?.path, line: issues[0]?.line },
    );
    this.issues = issues;
  }
}

export interface ConfigIssue {
  code: 'CONFIG_INVALID' | 'CONFIG_ENV_MISSING';
  path: string;
  message: string;
  line?: number;
}

export function formatIssue(issue: ConfigIssue): string {
  const where = issue.path === '' ? '(root)' : issue.path;
  return `${where}: ${issue.message}${issue.line ? ` (line ${issue.line})` : ''}`;
}

/** A source could not be reached or refused us; the message names the setting to fix. */
export class ConnectionError extends CrmlinkError {}

/** A mapping refers to something that does not exist or cannot be transformed. */
export class MappingError extends CrmlinkError {}

/** One row was refused (constraint, bad value); the rest of its batch goes on. */
export class RowError extends CrmlinkError {}

/**
 * A source's table no longer has the shape the mapping and the capture position were built on: a
 * mapped column gone, a key column of another type. Names source, table and column; nothing of
 * the page that met it is applied, and the run stops until someone fixes the source or the mapping.
 */
export class SchemaError extends CrmlinkError {
  constructor(message: string, context: ErrorContext, options: { cause?: unknown } = {}) {
    super('SCHEMA_CHANGED', message, context, options);
  }
}

/** A database failure, wrapped with where it happened. `code` DB_TRANSIENT is retried. */
export class DatabaseError extends CrmlinkError {}

export class ValidationError extends CrmlinkError {
  constructor(message: string, context: ErrorContext = {}) {
    super('VALIDATION_FAILED', message, context);
  }
}

export class NotAvailableError extends CrmlinkError {
  constructor(feature: string) {
    super('NOT_AVAILABLE', `${feature} is not available in this version of crmlink yet`);
  }
}

export function isCrmlinkError(err: unknown): err is CrmlinkError {
  return err instanceof CrmlinkError;
}

/**
 * Remove passwords from connection strings and option dumps before they reach a log or an error.
 * A URL's password runs to the last `@` before a space, so one holding `/`, `#`, `?` or `@`
 * (what breaks URL parsing in the first place) is removed whole.
 */
export function redact(text: string): string {
  return redactUrlPasswords(text.replace(/(password|pwd|secret|token)(["']?\s*[:=]\s*["']?)[^"',;\s}]+/gi, '$1$2***'));
}

/** `//user:` (the start of a URL's credentials). */
const URL_USER = /\/\/[^:/?#@\s]*:/g;

/**
 * `//user:password@` → `//user:***@`, the password running to the last `@` before a space. A
 * loop rather than one pattern: `\S*@` would rescan the rest of the text from every `//user:`
 * (quadratic on text made of them); here each character is looked at a bounded number of times.
 */
function redactUrlPasswords(text: string): string {
  let out = '';
  let from = 0;
  URL_USER.lastIndex = 0;
  for (let m = URL_USER.exec(text); m; m = URL_USER.exec(text)) {
    const start = m.index + m[0].length;
    let end = start;
    while (end < text.length && !/\s/.test(text[end])) end++;
    const at = text.lastIndexOf('@', end - 1);
    if (at >= start) {
      out += `${text.slice(from, start)}***`;
      from = at;
    }
    // Whatever follows in the same run is the password or the host: continue after it.
    URL_USER.lastIndex = Math.max(end, start);
  }
  return out + text.slice(from);
}
