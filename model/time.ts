/**
 * Times: the one rule for dates, instants and zone-less wall clocks.
 *
 * Canonical forms (model/entities.ts): a date is "YYYY-MM-DD"; a date-time is an instant written
 * as ISO-8601 UTC with milliseconds ("2024-01-02T03:04:05.000Z"). Zone-less columns (SQL Server
 * datetime, MySQL DATETIME, PostgreSQL timestamp) hold wall clocks in the source's time zone.
 *
 * Zone offsets come from Intl (no time-zone library) and are cached per zone and UTC day: a day
 * whose offset is the same at its first and last millisecond has that offset throughout (no zone
 * changes its offset twice within one day), so Intl runs once per zone and day instead of once
 * per value; a day with a transition is resolved per value. The Temporal polyfill gives the same
 * answers at every transition of every IANA zone and is 20–500× slower per conversion, so it is
 * the tests' oracle, not the implementation (docs/ARCHITECTURE.md, bench/libraries.bench.ts).
 */

const DAY_MS = 86_400_000;
/** Cached days per zone before the cache starts over (a few years of data per zone is ~1,500). */
const MAX_CACHED_DAYS = 100_000;
const ZONED_RE = /(Z|[+-]\d{2}:?\d{2})$/i;

interface ZoneRule {
  format: Intl.DateTimeFormat;
  /** UTC day number → the zone's offset (ms) that whole day, NaN when it changes during the day. */
  days: Map<number, number>;
}

const zones = new Map<string, ZoneRule>();

function zoneRule(timeZone: string): ZoneRule {
  let rule = zones.get(timeZone);
  if (!rule) {
    const format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      era: 'short',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    rule = { format, days: new Map() };
    zones.set(timeZone, rule);
  }
  return rule;
}

/** Throws RangeError for an unknown IANA zone. */
export function assertTimeZone(timeZone: string): void {
  zoneRule(timeZone);
}

/** The zone's offset at `ms` straight from Intl (whole seconds). */
function intlOffset(ms: number, format: Intl.DateTimeFormat): number {
  const whole = Math.floor(ms / 1000) * 1000;
  let year = 0;
  let month = 0;
  let day = 0;
  let hour = 0;
  let minute = 0;
  let second = 0;
  // Stryker disable next-line BooleanLiteral: equivalent: every en-US format with era: 'short' has an era part, which sets it
  let bc = false;
  for (const p of format.formatToParts(new Date(whole))) {
    if (p.type === 'year') year = Number(p.value);
    else if (p.type === 'era') bc = p.value === 'BC';
    else if (p.type === 'month') month = Number(p.value);
    else if (p.type === 'day') day = Number(p.value);
    else if (p.type === 'hour') hour = Number(p.value);
    else if (p.type === 'minute') minute = Number(p.value);
    // Stryker disable next-line ConditionalExpression: equivalent: the second is the last part of the en-US format, so no literal overwrites it
    else if (p.type === 'second') second = Number(p.value);
  }
  return utcMs(bc ? 1 - year : year, month - 1, day, hour, minute, second, 0) - whole;
}

/** Date.UTC without its reading of years 0–99 as 1900–1999 ("0001-01-01" is year 1). */
function utcMs(year: number, month: number, day: number, hour: number, minute: number, second: number, ms: number): number {
  // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent: from year 100 on both ways give the same epoch ms; this one is faster
  if (year >= 100) return Date.UTC(year, month, day, hour, minute, second, ms);
  const date = new Date(Date.UTC(2000, 0, 1, hour, minute, second, ms));
  date.setUTCFullYear(year, month, day);
  return date.getTime();
}

/** The zone's offset from UTC at the instant `ms` (positive east of Greenwich). */
export function zoneOffsetMs(ms: number, timeZone: string): number {
  const rule = zoneRule(timeZone);
  const day = Math.floor(ms / DAY_MS);
  let offset = rule.days.get(day);
  // Stryker disable next-line ConditionalExpression: equivalent: the cache skipped, Intl gives the same offset
  if (offset === undefined) {
    const first = intlOffset(day * DAY_MS, rule.format);
    // Stryker disable next-line ArithmeticOperator: equivalent: a day misjudged as having a change is resolved per value, which is right too
    const last = intlOffset(day * DAY_MS + DAY_MS - 1, rule.format);
    // Stryker disable next-line ConditionalExpression: equivalent: a day misjudged as having a change is resolved per value, which is right too
    offset = first === last ? first : Number.NaN;
    // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent: only how many days stay cached
    if (rule.days.size >= MAX_CACHED_DAYS) rule.days.clear();
    rule.days.set(day, offset);
  }
  return Number.isNaN(offset) ? intlOffset(ms, rule.format) : offset;
}

export interface WallClock {
  /** Epoch ms of the wall clock read as if it were UTC. */
  ms: number;
  /** Fraction digits as written (beyond ms are dropped). */
  fraction: string;
}

/** Two (or four) ASCII digits at `at` as a number, or -1. */
function num(s: string, at: number, len: number): number {
  let n = 0;
  for (let i = at; i < at + len; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}

/** Parse "YYYY-MM-DD[ T]HH:MM[:SS[.fff]]" (no zone); null when not that shape or not a calendar day. */
export function parseNaive(input: string): WallClock | null {
  // Every white space at either end, as String.prototype.trim knows it: values pasted from
  // spreadsheets and ERP exports carry U+00A0, U+3000 or a byte-order mark as often as a blank.
  const s = input.trim();
  const n = s.length;
  if (n < 10 || s[4] !== '-' || s[7] !== '-') return null;
  const y = num(s, 0, 4);
  const mo = num(s, 5, 2);
  const d = num(s, 8, 2);
  if (y < 0 || mo < 0 || d < 0) return null;
  let h = 0;
  let mi = 0;
  let sec = 0;
  let fraction = '';
  if (n > 10) {
    if ((s[10] !== ' ' && s[10] !== 'T') || n < 16 || s[13] !== ':') return null;
    h = num(s, 11, 2);
    mi = num(s, 14, 2);
    if (h < 0 || mi < 0) return null;
    if (n > 16) {
      if (s[16] !== ':' || n < 19) return null;
      sec = num(s, 17, 2);
      if (sec < 0) return null;
      if (n > 19) {
        fraction = s.slice(20);
        if (s[19] !== '.' || fraction.length < 1 || fraction.length > 9 || num(fraction, 0, fraction.length) < 0) return null;
      }
    }
  }
  const ms = fraction === '' ? 0 : Number(fraction.padEnd(3, '0').slice(0, 3));
  const t = utcMs(y, mo - 1, d, h, mi, sec, ms);
  const check = new Date(t);
  if (check.getUTCDate() !== d || check.getUTCMonth() !== mo - 1) return null;
  return { ms: t, fraction };
}

/**
 * A wall clock in `timeZone` → the UTC instant (epoch ms). Around a change of offset it resolves
 * as Temporal's default ('compatible', also java.time's and Python's fold=0): a wall clock in a
 * gap is read with the offset before the change, i.e. moved forward by the gap (New York 02:30 on
 * 2024-03-10 → 03:30 EDT); one in an overlap, which happens twice, is the earlier instant (Berlin
 * 02:30 on 2024-10-27 → 00:30Z). tests/model/time-zones.test.ts checks this against
 * temporal-polyfill at every transition of a set of zones.
 */
export function zonedToUtc(wallMs: number, timeZone: string): number {
  // Stryker disable next-line ConditionalExpression,StringLiteral: equivalent: UTC through Intl has offset 0 too; this skips it
  if (timeZone === 'UTC' || timeZone === 'Etc/UTC') return wallMs;
  // The offsets a day either side: the instant is within ±14 h of the wall clock read as UTC.
  const before = zoneOffsetMs(wallMs - DAY_MS, timeZone);
  const after = zoneOffsetMs(wallMs + DAY_MS, timeZone);
  // Stryker disable next-line ConditionalExpression: equivalent: with no change the next line returns the same early instant
  if (before === after) return wallMs - before;
  const early = wallMs - before;
  if (zoneOffsetMs(early, timeZone) === before) return early; // before the change, or an overlap's first time
  const late = wallMs - after;
  if (zoneOffsetMs(late, timeZone) === after) return late; // after the change
  return early; // in the gap: the offset before the change moves it forward
}

/** A UTC instant → the wall clock in `timeZone` (epoch ms of it read as UTC). */
export function utcToZoned(ms: number, timeZone: string): number {
  // Stryker disable next-line ConditionalExpression,StringLiteral: equivalent: UTC through Intl has offset 0 too; this skips it
  if (timeZone === 'UTC' || timeZone === 'Etc/UTC') return ms;
  return ms + zoneOffsetMs(ms, timeZone);
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
  const naive = parseNaive(value);
  if (naive) return zonedToUtc(naive.ms, timeZone);
  const text = value.trim();
  if (ZONED_RE.test(text) && /\d[T ]\d/.test(text)) {
    const t = Date.parse(text.replace(' ', 'T'));
    return Number.isNaN(t) ? null : t;
  }
  return null;
}

/**
 * A UTC offset followed by more text: "2024-01-02T03:04:05+08:00[Asia/Shanghai]", or JavaScript's
 * "Tue Jan 02 2024 03:04:05 GMT+0800 (China Standard Time)".
 */
const OFFSET_THEN_TEXT_RE = /\d:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:(?:GMT|UTC)\s*)?(?:Z|[+-]\d{2}:?\d{2})\s*\S/i;

/**
 * What to add to "is not a date-time" for a value refused because text follows its UTC offset
 * (empty otherwise). An offset is read only where it ends the value: the text after it is mostly a
 * zone name, which can disagree with the offset, and Date.parse reads such text differently from
 * one engine to another. Refusing it, with this hint, is safer than guessing which one is meant.
 */
export function dateTimeHint(value: unknown): string {
  return typeof value === 'string' && OFFSET_THEN_TEXT_RE.test(value)
    ? ': text follows its UTC offset; the offset must end the value (as in "2024-01-02T03:04:05+08:00")'
    : '';
}

/** The canonical date-time (ISO-8601 UTC) of an instant; a naive value counts as UTC. null when not a time. */
export function normalizeDateTime(value: unknown): string | null {
  const t = toInstant(value, 'UTC');
  return t === null ? null : new Date(t).toISOString();
}

/**
 * Whether `text` is a canonical date: exactly "YYYY-MM-DD" and a real calendar day (proleptic
 * Gregorian, as Date). No regex match and no Date per value: source rows check every date with it.
 */
export function isIsoDate(text: string): boolean {
  if (text.length !== 10 || text[4] !== '-' || text[7] !== '-') return false;
  const y = num(text, 0, 4);
  const mo = num(text, 5, 2);
  const d = num(text, 8, 2);
  if (y < 0 || mo < 1 || mo > 12 || d < 1) return false;
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  return d <= (mo === 2 ? (leap ? 29 : 28) : mo === 4 || mo === 6 || mo === 9 || mo === 11 ? 30 : 31);
}
