/**
 * Error classification and retry. Only operational faults (deadlocks, lock and statement timeouts,
 * serialization failures, dropped connections) are retried, with exponential backoff; anything else
 * fails at once, because retrying bad data or a bug only repeats it.
 */
import pRetry, { AbortError } from 'p-retry';
import { CrmlinkError, DatabaseError } from '../core/errors.js';

// PostgreSQL SQLSTATEs worth retrying: serialization failure, deadlock, lock not available,
// admin shutdown / crash shutdown / cannot connect now, too many connections, connection exceptions.
const PG_TRANSIENT = new Set(['40001', '40P01', '55P03', '57P01', '57P02', '57P03', '53300', '08000', '08001', '08003', '08004', '08006', '57014']);
// MySQL/MariaDB: deadlock, lock wait timeout, server gone away / lost connection.
const MYSQL_TRANSIENT = new Set([1213, 1205, 2006, 2013, 1040, 1053]);
const NODE_TRANSIENT = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ESOCKET',
  'ETIMEOUT',
  'PROTOCOL_CONNECTION_LOST',
  'ER_LOCK_DEADLOCK',
  'ER_LOCK_WAIT_TIMEOUT',
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
]);

/** True when `err` (or an error it wraps) is a fault that may pass if the work is tried again. */
export function isTransient(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    if (e instanceof CrmlinkError) return e.transient;
    // A primitive has none of these properties: the checks below find nothing and the loop ends.
    const o = e as { code?: unknown; errno?: unknown; number?: unknown; name?: unknown; cause?: unknown };
    if (typeof o.code === 'string' && (PG_TRANSIENT.has(o.code) || NODE_TRANSIENT.has(o.code))) return true;
    if (typeof o.errno === 'number' && MYSQL_TRANSIENT.has(o.errno)) return true;
    // SQL Server deadlock victim / lock request timeout.
    if (o.number === 1205 || o.number === 1222) return true;
    if (o.name === 'KnexTimeoutError') return true;
    e = o.cause;
  }
  return false;
}

export interface RetryOptions {
  signal?: AbortSignal;
  /** Retries after the first attempt. Default 4. */
  retries?: number;
  /** First backoff in ms; doubles each time. Default 100. */
  minTimeout?: number;
  /** Told about each failed attempt that will be retried. */
  onRetry?: (err: unknown, attempt: number) => void;
}

/**
 * Run `fn`, retrying transient failures with exponential backoff. `attempt` starts at 1, so work
 * whose outcome may be unknown after a failure (a dropped connection during commit) can check
 * before it repeats itself.
 */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  return pRetry(
    async (attempt) => {
      try {
        return await fn(attempt);
      } catch (err) {
        // Permanent errors end the retry loop at once; p-retry rethrows the original.
        if (!isTransient(err)) throw new AbortError(err instanceof Error ? err : new Error(String(err)));
        throw err;
      }
    },
    {
      retries: opts.retries ?? 4,
      minTimeout: opts.minTimeout ?? 100,
      factor: 2,
      maxTimeout: 5_000,
      randomize: true,
      signal: opts.signal,
      onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
        if (retriesLeft > 0) opts.onRetry?.(error, attemptNumber);
      },
    },
  );
}

/** Wrap anything thrown while talking to the hub so it carries a code and says where. */
export function hubError(err: unknown, what: string, context: Record<string, unknown> = {}): CrmlinkError {
  if (err instanceof CrmlinkError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new DatabaseError(isTransient(err) ? 'DB_TRANSIENT' : 'DB_ERROR', `hub: ${what}: ${message}`, context, { cause: err });
}
