/**
 * Timestamp strategy: cursor = (timestamp, key), re-reading a look-back window each sweep.
 *
 * A sweep reads rows with ts >= high-water mark − lookBack, ordered by (ts, key), a page a call.
 * The checkpoint remembers, for rows inside the window, (key → hash): a row read again with the
 * same hash was already delivered and is dropped, so rows sharing a timestamp are neither missed
 * (the window re-reads them) nor repeated (the hash drops them), and a late commit or a skewed
 * clock inside the window still gets in. Memory: one entry per row in the window.
 */
import type { CaptureSpec, Change, ChangeBatch, Checkpoint } from '../driver.js';
import { encodeKey } from '../keys.js';
import { rowHash } from '../hash.js';
import { formatNaive, parseNaive, toInstant } from '../mapping/time.js';
import { captureColumns, type CaptureHost } from './host.js';

export type TsValue = string | number;

export interface TimestampCheckpoint extends Checkpoint {
  strategy: 'timestamp';
  /** Highest timestamp of completed sweeps. */
  hwm: TsValue | null;
  /** Highest timestamp seen in the sweep in progress. */
  sweepMax: TsValue | null;
  /** Position inside the sweep in progress; null between sweeps. */
  cursor: { ts: TsValue; key: unknown[] } | null;
  /** encoded key → [hash prefix, ts order value] for rows inside the look-back window. */
  seen: Record<string, [string, number]>;
}

const HASH_PREFIX = 24;

export async function timestampChanges(
  host: CaptureHost,
  spec: CaptureSpec,
  prev: TimestampCheckpoint | null,
  pageSize: number,
  signal?: AbortSignal,
): Promise<ChangeBatch> {
  const column = spec.column;
  if (!column) throw new TypeError('timestamp capture needs `column`');
  const columns = captureColumns(spec.columns, spec.key, column);
  const cp: TimestampCheckpoint = prev
    ? { ...prev, seen: { ...prev.seen } }
    : { strategy: 'timestamp', hwm: null, sweepMax: null, cursor: null, seen: {} };
  const lookBack = spec.lookBackSeconds;
  const extra = [] as NonNullable<CaptureSpec['where']>[];
  extra.push({ column, op: 'isNull', value: false });
  if (!cp.cursor && cp.hwm !== null) extra.push({ column, op: 'gte', value: shiftTs(cp.hwm, -lookBack) });
  const rows = await host.select({
    table: spec.table,
    schema: spec.schema,
    columns,
    where: { and: spec.where ? [spec.where, ...extra] : extra },
    orderBy: [{ column, direction: 'asc' }, ...spec.key.map((k) => ({ column: k, direction: 'asc' as const }))],
    after: cp.cursor ? [cp.cursor.ts, ...cp.cursor.key] : undefined,
    limit: pageSize + 1,
    signal,
  });
  const hasMore = rows.length > pageSize;
  const page = hasMore ? rows.slice(0, pageSize) : rows;
  const zone = host.source.timezone;
  const changes: Change[] = [];
  for (const row of page) {
    const ts = tsValue(row[column]);
    const key = spec.key.map((k) => row[k]);
    const hash = rowHash(row, columns);
    const id = encodeKey(key);
    if (cp.seen[id]?.[0] === hash.slice(0, HASH_PREFIX)) continue;
    cp.seen[id] = [hash.slice(0, HASH_PREFIX), tsOrder(ts)];
    const instant = toInstant(row[column], zone);
    changes.push({ key, op: 'upsert', row, changedAt: instant === null ? null : new Date(instant), hash });
    if (cp.sweepMax === null || tsOrder(ts) > tsOrder(cp.sweepMax)) cp.sweepMax = ts;
  }
  const last = page[page.length - 1];
  if (hasMore && last) {
    cp.cursor = { ts: tsValue(last[column]), key: spec.key.map((k) => last[k]) };
  } else {
    if (cp.sweepMax !== null && (cp.hwm === null || tsOrder(cp.sweepMax) > tsOrder(cp.hwm))) cp.hwm = cp.sweepMax;
    cp.sweepMax = null;
    cp.cursor = null;
  }
  // Entries older than the next sweep's start can never be re-read unchanged: forget them.
  const top = [cp.hwm, cp.sweepMax].filter((v): v is TsValue => v !== null).map(tsOrder);
  if (top.length > 0) {
    const cutoff = Math.max(...top) - lookBack * 1000;
    for (const [id, [, order]] of Object.entries(cp.seen)) if (order < cutoff) delete cp.seen[id];
  }
  return { changes, checkpoint: cp, hasMore, snapshot: false };
}

/** A timestamp as stored in the checkpoint: the driver's text, an ISO instant for Dates, or a number. */
export function tsValue(v: unknown): TsValue {
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  return String(v);
}

/** Orders timestamps of one column: naive text is read as UTC (only differences matter). */
export function tsOrder(v: TsValue): number {
  if (typeof v === 'number') return Math.abs(v) < 1e11 ? v * 1000 : v;
  const t = toInstant(v, 'UTC');
  return t ?? 0;
}

/** Move a timestamp by `seconds`, keeping its form (naive text stays naive text of the same shape). */
export function shiftTs(v: TsValue, seconds: number): TsValue {
  if (typeof v === 'number') return Math.abs(v) < 1e11 ? v + seconds : v + seconds * 1000;
  const naive = parseNaive(v);
  if (naive) {
    const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(v.trim());
    const shifted = naive.ms + seconds * 1000;
    if (dateOnly) return new Date(shifted).toISOString().slice(0, 10);
    const text = formatNaive(shifted);
    // Keep the separator and fraction digits the column uses so text comparisons still hold.
    const sep = v.trim().charAt(10) === 'T' ? 'T' : ' ';
    const withSep = text.slice(0, 10) + sep + text.slice(11, 19);
    const ms = String(((shifted % 1000) + 1000) % 1000).padStart(3, '0');
    const digits = naive.fraction.length;
    return digits > 0 ? `${withSep}.${(ms + '0'.repeat(Math.max(0, digits - 3))).slice(0, digits)}` : withSep;
  }
  const t = toInstant(v, 'UTC');
  return t === null ? v : new Date(t + seconds * 1000).toISOString();
}
