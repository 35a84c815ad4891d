/**
 * How the command line shows its log. Commands (`sync run`, `hub backup`, ...) are read by people:
 * each warning or error becomes one readable line — what failed, with the job, source, table and
 * key it names, and what to do — followed by a hint for the details. The JSON log (pino, one
 * object per line, stack and SQL included) is for machines: `serve` and `demo` write it by
 * default, and any command does with `--log-format json`; `--verbose` turns a command's log into
 * that JSON too, at info level, with everything in it.
 *
 * @example
 *   error: sync run failed (job customers, source erp, table Customer): source "erp": Customer has no column cCusNam (…) [SCHEMA_CHANGED]
 *     what to do: check the tables and columns mapped for source erp (entities.<Entity>.sources.erp) against the database: crmlink sources introspect erp
 *     details: run again with --verbose
 */
import type { DestinationStream } from 'pino';

export type LogFormat = 'human' | 'json';

export const LOG_FORMATS: readonly LogFormat[] = ['human', 'json'];

interface LoggedError {
  message?: string;
  code?: string;
  kind?: 'user' | 'operational' | 'unexpected';
  context?: Record<string, unknown>;
  [field: string]: unknown;
}

interface LogRecord {
  level: number;
  msg?: string;
  job?: string;
  source?: string;
  entity?: string;
  table?: string;
  key?: string;
  err?: LoggedError;
  [field: string]: unknown;
}

const WARN = 40;

/** A pino destination writing readable lines for warnings and errors through `write`. */
export function humanLogDestination(write: (text: string) => void): DestinationStream {
  const shown = new Set<string>();
  return {
    write(line: string) {
      let rec: LogRecord;
      try {
        rec = JSON.parse(line) as LogRecord;
      } catch {
        write(line);
        return;
      }
      if (rec.level < WARN) return;
      const text = describeLogRecord(rec);
      // A failure is often logged twice (with its cause, then as a summary): say it once.
      const seen = `${rec.level >= 50 ? 'error' : 'warn'}\0${rec.msg ?? ''}\0${rec.job ?? ''}`;
      if (shown.has(seen) && !rec.err) return;
      shown.add(seen);
      write(`${text}\n`);
    },
  };
}

/** The readable form of one log record: a line, then what to do and where the details are. */
export function describeLogRecord(rec: LogRecord): string {
  const err = rec.err;
  const ctx = { ...(err?.context ?? {}) } as Record<string, unknown>;
  const where: string[] = [];
  for (const [label, value] of [
    ['job', rec.job],
    ['source', ctx.source ?? rec.source],
    ['entity', ctx.entity ?? rec.entity],
    ['table', ctx.table ?? rec.table],
    ['key', ctx.key ?? rec.key],
    ['field', ctx.field],
  ] as const) {
    if (typeof value === 'string' && value !== '') where.push(`${label} ${value}`);
  }
  const head = `${rec.level >= 50 ? 'error' : 'warning'}: ${rec.msg ?? 'failed'}${where.length ? ` (${where.join(', ')})` : ''}`;
  if (!err) return head;
  const lines = [`${head}: ${withoutSql(firstLine(err.message ?? ''), ctx.sql)}${err.code ? ` [${err.code}]` : ''}`];
  const advice = whatToDo(err, ctx);
  if (advice) lines.push(`  what to do: ${advice}`);
  lines.push('  details: run again with --verbose');
  return lines.join('\n');
}

function firstLine(s: string): string {
  return s.split('\n')[0];
}

/** The logged message carries the driver's cause, SQL and all: the readable line stops before the SQL. */
function withoutSql(message: string, sql: unknown): string {
  if (typeof sql !== 'string' || sql.length < 6) return message;
  const at = message.indexOf(`: ${sql.slice(0, 12)}`);
  return at > 0 ? message.slice(0, at) : message;
}

function whatToDo(err: LoggedError, ctx: Record<string, unknown>): string {
  const source = typeof ctx.source === 'string' ? ctx.source : undefined;
  const setting = typeof ctx.setting === 'string' ? ctx.setting : typeof ctx.path === 'string' ? ctx.path : undefined;
  if ((err.code === 'DB_ERROR' || err.code === 'SCHEMA_CHANGED') && source) {
    return `check the tables and columns mapped for source ${source} (entities.<Entity>.sources.${source}) against the database: crmlink sources introspect ${source}`;
  }
  if (err.code === 'ROW_REJECTED' || err.code === 'TRANSFORM_FAILED') return 'fix the row or the mapping, then retry the parked records (crmlink sync parked --retry)';
  if (err.kind === 'operational') return `a transient failure: check that ${source ?? 'the database'} is reachable (crmlink sources test${source ? ` ${source}` : ''}), then run again`;
  if (err.kind === 'user') return setting ? `fix ${setting}, then run again` : 'fix the setting or input the message names, then run again';
  return 'this looks like a bug: run again with --verbose and report the details';
}
