/**
 * Timestamp strategy: cursor = (timestamp, key), re-reading a look-back window each sweep.
 *
 * A sweep reads rows with ts >= high-water mark − lookBack, ordered by (ts, key), a page a call.
 * The checkpoint remembers, for rows delivered inside the window, key → short hash prefix: a row
 * read again with the same hash was already delivered and is dropped, so rows sharing a timestamp
 * are neither missed (the window re-reads them) nor repeated (the hash drops them), and a late
 * commit or a skewed clock inside the window still gets in.
 *
 * Cost. A sweep re-reads the whole window (the design), so the window's rows are O(rows read);
 * what must not happen is work per page proportional to the window, which made a bulk load
 * quadratic. So the checkpoint is never copied or rewritten entry by entry on each page:
 * - `seen` holds what completed sweeps delivered and is read-only during a sweep (the next page's
 *   checkpoint shares it); lookups are by key, O(1) per row;
 * - `sweep` holds what the sweep in progress delivered, one bucket per page appended as it is
 *   read; buckets wholly older than max − lookBack are dropped as the sweep moves on;
 * - when the sweep completes, the buckets are merged into a new `seen` pruned to the window
 *   (O(window), once per sweep, within the rows the sweep read).
 * The checkpoint handed in is never modified (a caller may retry from it), and its size stays
 * bounded by the rows inside the window (plus one page).
 */
import type { CaptureSpec, Change, ChangeBatch, Checkpoint } from '../driver.js';
import { encodeKey } from '../keys.js';
import { rowHash } from '../hash.js';
import { formatNaive, parseNaive, toInstant } from '../../model/time.js';
import { captureColumns, type CaptureHost } from './host.js';

export type TsValue = string | number;

/**
 * encoded key → entry: the row hash's first HASH_PREFIX hex digits followed by its timestamp
 * order (ms, base 36), e.g. "3fa94c01b2e7lr8x4k00".
 */
export type SeenEntries = Record<string, string>;

/** One page of the sweep in progress: [highest timestamp order in it, entries]. */
export type SeenBucket = [number, SeenEntries];

export interface TimestampCheckpoint extends Checkpoint {
  strategy: 'timestamp';
  /** Shape of `seen` (2: entries as below); older checkpoints are converted when read. */
  v: 2;
  /** Highest timestamp of completed sweeps. */
  hwm: TsValue | null;
  /** Highest timestamp seen in the sweep in progress. */
  sweepMax: TsValue | null;
  /** Position inside the sweep in progress; null between sweeps. */
  cursor: { ts: TsValue; key: unknown[] } | null;
  /** Rows completed sweeps delivered inside the look-back window (read-only during a sweep). */
  seen: SeenEntries;
  /** Rows the sweep in progress delivered, a bucket per page in reading order; [] between sweeps. */
  sweep: SeenBucket[];
}

/** 48 bits: a changed row is taken for an unchanged one with odds of 1 in 2.8e14. */
export const HASH_PREFIX = 12;

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
  const cp = readCheckpoint(prev);
  const lookBackMs = spec.lookBackSeconds * 1000;
  const extra = [] as NonNullable<CaptureSpec['where']>[];
  extra.push({ column, op: 'isNull', value: false });
  if (!cp.cursor && cp.hwm !== null) extra.push({ column, op: 'gte', value: shiftTs(cp.hwm, -spec.lookBackSeconds) });
  const rows = await host.select({
    table: spec.table,
    schema: spec.schema,
    columns,
    where: { and: spec.where ? [spec.where, ...extra] : extra },
    orderBy: [{ column, direction: 'asc' }, ...spec.key.map((k) => ({ column: k, direction: 'asc' as const }))],
    after: cp.cursor ? [cp.cursor.ts, ...cp.cursor.key] : undefined,
    // The timestamp is filtered IS NOT NULL and keys hold no NULLs.
    // Stryker disable next-line BooleanLiteral: equivalent: without NULLs the NULL-aware keyset comparison selects the same rows
    keysetNotNull: true,
    limit: pageSize + 1,
    signal,
  });
  const hasMore = rows.length > pageSize;
  const page = hasMore ? rows.slice(0, pageSize) : rows;
  const zone = host.source.timezone;
  const changes: Change[] = [];
  const entries: SeenEntries = Object.create(null) as SeenEntries;
  let bucketMax = -Infinity;
  let sweepMax = cp.sweepMax;
  const seen = cp.seen;
  const sweep = cp.sweep;
  const sweepBuckets = sweep.length;
  for (const row of page) {
    const ts = tsValue(row[column]);
    const order = tsOrder(ts);
    const key = spec.key.map((k) => row[k]);
    const hash = rowHash(row, columns);
    const id = encodeKey(key);
    // Delivered by an earlier sweep, unchanged (the hash covers the timestamp), and not delivered
    // in another version by this sweep since: skip.
    const known = own(seen, id);
    if (known !== undefined && known.startsWith(hash.slice(0, HASH_PREFIX)) && !deliveredIn(sweep, sweepBuckets, id)) continue;
    entries[id] = entry(hash, order);
    if (order > bucketMax) bucketMax = order;
    const instant = toInstant(row[column], zone);
    changes.push({ key, op: 'upsert', row, changedAt: instant === null ? null : new Date(instant), hash });
    if (sweepMax === null || order > tsOrder(sweepMax)) sweepMax = ts;
  }
  const buckets = changes.length > 0 ? [...sweep, [bucketMax, entries] as SeenBucket] : sweep;
  const last = page[page.length - 1];
  let next: TimestampCheckpoint;
  if (hasMore && last) {
    // Entries older than where the next sweep starts are never re-read unchanged: drop the
    // buckets wholly below it (the one straddling it stays: at most a page more).
    const cutoff = highest(cp.hwm, sweepMax) - lookBackMs;
    next = {
      strategy: 'timestamp',
      v: 2,
      hwm: cp.hwm,
      sweepMax,
      cursor: { ts: tsValue(last[column]), key: spec.key.map((k) => last[k]) },
      seen: cp.seen,
      sweep: buckets.some((b) => b[0] < cutoff) ? buckets.filter((b) => b[0] >= cutoff) : buckets,
    };
  } else {
    const hwm = sweepMax !== null && (cp.hwm === null || tsOrder(sweepMax) > tsOrder(cp.hwm)) ? sweepMax : cp.hwm;
    next = { strategy: 'timestamp', v: 2, hwm, sweepMax: null, cursor: null, seen: mergeSeen(cp.seen, buckets, highest(hwm, null) - lookBackMs), sweep: [] };
  }
  return { changes, checkpoint: next, hasMore, snapshot: false };
}

/** `seen` with this sweep's buckets laid over it (the newest delivery of a key wins), pruned to `cutoff`. */
function mergeSeen(seen: SeenEntries, buckets: readonly SeenBucket[], cutoff: number): SeenEntries {
  const out = Object.create(null) as SeenEntries;
  for (const id of Object.keys(seen)) {
    if (entryOrder(seen[id]) >= cutoff) out[id] = seen[id];
  }
  for (const [, entries] of buckets) {
    for (const id of Object.keys(entries)) {
      const e = entries[id];
      if (entryOrder(e) >= cutoff) out[id] = e;
      else delete out[id];
    }
  }
  return out;
}

/** The checkpoint as handed in, in the current shape (never modified; older shapes converted). */
function readCheckpoint(prev: TimestampCheckpoint | null): TimestampCheckpoint {
  if (!prev) return { strategy: 'timestamp', v: 2, hwm: null, sweepMax: null, cursor: null, seen: {}, sweep: [] };
  // O(1) for the current shape: nothing is enumerated or copied.
  if (prev.v === 2) return prev;
  // The first shape: key → [24-digit hash prefix, ts order], the sweep in progress included.
  const seen = (prev.seen ?? {}) as Record<string, unknown>;
  const converted = Object.create(null) as SeenEntries;
  for (const id of Object.keys(seen)) {
    const v = seen[id];
    if (Array.isArray(v) && typeof v[0] === 'string' && typeof v[1] === 'number') converted[id] = v[0].slice(0, HASH_PREFIX) + encodeOrder(v[1]);
  }
  return { strategy: 'timestamp', v: 2, hwm: prev.hwm ?? null, sweepMax: prev.sweepMax ?? null, cursor: prev.cursor ?? null, seen: converted, sweep: [] };
}

function own(entries: SeenEntries, id: string): string | undefined {
  return Object.getOwnPropertyDescriptor(entries, id)?.value as string | undefined;
}

/** Whether one of the sweep's first `count` buckets holds `id`. */
function deliveredIn(sweep: readonly SeenBucket[], count: number, id: string): boolean {
  for (let i = 0; i < count; i++) if (own(sweep[i][1], id) !== undefined) return true;
  return false;
}

function entry(hash: string, order: number): string {
  return hash.slice(0, HASH_PREFIX) + encodeOrder(order);
}

/** Rounded up: an entry is never dropped before its row leaves the window. */
function encodeOrder(order: number): string {
  return Math.ceil(order).toString(36);
}

function entryOrder(e: string): number {
  return parseInt(e.slice(HASH_PREFIX), 36);
}

function highest(a: TsValue | null, b: TsValue | null): number {
  // Math.max() of nothing is -Infinity: no mark, no cutoff.
  return Math.max(...[a, b].filter((v): v is TsValue => v !== null).map(tsOrder));
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
    // Stryker disable next-line Regex: equivalent: a text parseNaive reads that ends in a date is that date alone
    const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(v.trim());
    const shifted = naive.ms + seconds * 1000;
    if (dateOnly) return new Date(shifted).toISOString().slice(0, 10);
    const text = formatNaive(shifted);
    // Keep the separator and fraction digits the column uses so text comparisons still hold.
    const sep = v.trim().charAt(10) === 'T' ? 'T' : ' ';
    const withSep = text.slice(0, 10) + sep + text.slice(11, 19);
    const ms = String(((shifted % 1000) + 1000) % 1000).padStart(3, '0');
    const digits = naive.fraction.length;
    // Stryker disable next-line ArithmeticOperator: equivalent: the padding is cut to `digits` anyway; more zeros change nothing
    return digits > 0 ? `${withSep}.${(ms + '0'.repeat(Math.max(0, digits - 3))).slice(0, digits)}` : withSep;
  }
  // Stryker disable next-line StringLiteral: equivalent: only zoned text gets here (naive text returned above), and its offset decides
  const t = toInstant(v, 'UTC');
  return t === null ? v : new Date(t + seconds * 1000).toISOString();
}
