import { pino, type Logger, type LoggerOptions } from 'pino';
import { redact } from './errors.js';

export type { Logger };

/** An error as a plain object (message, stack, code, cause and its own fields such as `input`). */
const serializeError = (e: Error): Record<string, unknown> => ({ ...(pino.stdSerializers.err(e) as unknown as Record<string, unknown>) });

/**
 * Every string inside a value to log, redacted (core/errors.ts `redact`): messages, stacks, and
 * fields such as the `input` of Node's "Invalid URL" error, which holds the whole URL with its
 * password. Errors become plain objects here so that their fields are reached too.
 */
export function redactForLog(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return redact(value);
  if (value === null || typeof value !== 'object' || depth > 8) return value;
  if (seen.has(value)) return '[Circular]';
  seen.add(value);
  if (value instanceof Error) return redactForLog(serializeError(value), depth + 1, seen);
  if (Array.isArray(value)) return value.map((v) => redactForLog(v, depth + 1, seen));
  if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = redactForLog(v, depth + 1, seen);
  return out;
}

/** Pino options that keep credentials out of every log line, whatever was logged. */
export const REDACTING_LOG_OPTIONS: Pick<LoggerOptions, 'redact' | 'formatters' | 'hooks' | 'serializers'> = {
  // formatters.log has already turned errors into redacted plain objects.
  serializers: { err: (e: unknown) => (e instanceof Error ? redactForLog(e) : e) },
  redact: { paths: ['*.password', '*.connection.password', 'connection.password', 'password', '*.apiKey', 'authorization'], censor: '***' },
  formatters: { log: (obj) => redactForLog(obj) as Record<string, unknown> },
  hooks: {
    logMethod(args, method) {
      const out: unknown[] = args.map((a) => (typeof a === 'string' ? redact(a) : a));
      // pino takes the message of an error logged without one from the error itself, unredacted.
      const [first] = out;
      const err = first instanceof Error ? first : first && typeof first === 'object' ? (first as { err?: unknown }).err : undefined;
      if (err instanceof Error && typeof out[1] !== 'string') out.splice(1, 0, redact(err.message));
      if (first instanceof Error) out[0] = { err: first };
      return method.apply(this, out as Parameters<typeof method>);
    },
  },
};

/**
 * Structured JSON logs on stderr (stdout stays for command output). Secrets never reach a log:
 * connection settings are redacted by path, and every string (messages, error fields) by pattern.
 */
export function createLogger(level: string = process.env.CRMLINK_LOG_LEVEL ?? 'info', destination: pino.DestinationStream = pino.destination(2)): Logger {
  return pino({ level, base: { app: 'crmlink' }, ...REDACTING_LOG_OPTIONS }, destination);
}

export const silentLogger: Logger = pino({ level: 'silent' });
