/**
 * Wall-clock ↔ instant conversion for zone-less columns (SQL Server datetime, MySQL DATETIME,
 * PostgreSQL timestamp), with Intl only: no time-zone library.
 */

const NAIVE_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?$/;
const ZONED_RE = /(Z|[+-]\d{2}:?\d{2})$/i;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Throws RangeError for an unknown IANA zone. */
export function assertTimeZone(timeZone: string): void {
  formatter(timeZone);
}

/** The zone's wall clock at `ms` (UTC epoch), as epoch ms of that wall clock read as UTC. */
function wallClockMs(ms: number, timeZone: string): number {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(ms))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  const whole = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second);
  return whole + (((ms % 1000) + 1000) % 1000);
}

export interface WallClock {
  /** Epoch ms of the wall clock read as if it were UTC. */
  ms: number;
  /** Fraction digits as written (beyond ms are dropped). */
  fraction: string;
}

/** Parse "YYYY-MM-DD[ T]HH:MM[:SS[.fff]]" (no zone); null when not that shape. */
export function parseNaive(text: string): WallClock | null {
  const m = NAIVE_RE.exec(text.trim());
  if (!m) return null;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = ''] = m;
  const ms = Number(frac.padEnd(3, '0').slice(0, 3));
  const t = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms);
  const check = new Date(t);
  if (check.getUTCDate() !== Number(d) || check.getUTCMonth() !== Number(mo) - 1) return null;
  return { ms: t, fraction: frac };
}

/** A wall clock in `timeZone` → the UTC instant (epoch ms). Gaps/overlaps resolve to the earlier offset. */
export function zonedToUtc(wallMs: number, timeZone: string): number {
  if (timeZone === 'UTC' || timeZone === 'Etc/UTC') return wallMs;
  const offset1 = wallClockMs(wallMs, timeZone) - wallMs;
  let t = wallMs - offset1;
  const offset2 = wallClockMs(t, timeZone) - t;
  if (offset2 !== offset1) t = wallMs - offset2;
  return t;
}

/** A UTC instant → the wall clock in `timeZone` (epoch ms of it read as UTC). */
export function utcToZoned(ms: number, timeZone: string): number {
  if (timeZone === 'UTC' || timeZone === 'Etc/UTC') return ms;
  return wallClockMs(ms, timeZone);
}

/** "YYYY-MM-DD HH:MM:SS[.mmm]" of a wall clock (fraction only when not zero). */
export function formatNaive(wallMs: number): string {
  const iso = new Date(wallMs).toISOString();
  const base = `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
  const ms = iso.slice(20, 23);
  return ms === '000' ? base : `${base}.${ms}`;
}

/**
 * Any temporal value a driver returns → the UTC instant (epoch ms): a Date is an instant; a
 * string with Z/offset is one; a naive string is a wall clock in `timeZone`; a number is epoch
 * seconds (< 1e11) or ms. null when it is none of these.
 */
export function toInstant(value: unknown, timeZone: string): number | null {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.getTime();
  if (typeof value === 'number') return Number.isFinite(value) ? (Math.abs(value) < 1e11 ? value * 1000 : value) : null;
  if (typeof value !== 'string') return null;
  const text = value.trim();
  if (ZONED_RE.test(text) && /\d[T ]\d/.test(text)) {
    const t = Date.parse(text.replace(' ', 'T'));
    return Number.isNaN(t) ? null : t;
  }
  const naive = parseNaive(text);
  return naive ? zonedToUtc(naive.ms, timeZone) : null;
}
