/**
 * Value transforms between source columns and the canonical CRM representation (model/): text
 * clean-up (trim, case, full-width → half-width), code maps both ways, and the column side of
 * decimals, ints, booleans, dates and zone-less date-times, whose rules live in model/decimal.ts
 * and model/time.ts. Each `read*` turns a driver value into a CrmValue, each `write*` the reverse;
 * failures throw TransformError, which EntityMapping wraps with the source, table, key, field and
 * column.
 */
import type { CrmValue } from '../../model/entities.js';
import { normalizeDecimal, roundDecimal, toDecimalString } from '../../model/decimal.js';
import { dateTimeHint, formatNaive, isIsoDate, toInstant, utcToZoned } from '../../model/time.js';
import { halfWidth } from '../../model/text.js';

export { normalizeDecimal, roundDecimal, toDecimalString, fixedDecimal } from '../../model/decimal.js';

export class TransformError extends Error {}

export interface TextOptions {
  trim?: boolean;
  case?: 'upper' | 'lower';
  halfWidth?: boolean;
}

/** `halfWidth: true`: Unicode NFKC (model/text.ts), full-width ASCII and other compatibility characters folded. */
export { halfWidth } from '../../model/text.js';

export function cleanText(text: string, opts: TextOptions): string {
  let s = text;
  if (opts.halfWidth) s = halfWidth(s);
  if (opts.trim) s = s.trim();
  if (opts.case === 'upper') s = s.toUpperCase();
  else if (opts.case === 'lower') s = s.toLowerCase();
  return s;
}

/** Any driver value as text (Date → ISO, Buffer → hex). */
export function asText(raw: unknown): string {
  if (typeof raw === 'string') return raw;
  if (raw instanceof Date) return raw.toISOString();
  if (Buffer.isBuffer(raw)) return raw.toString('hex');
  return String(raw);
}

// ------------------------------------------------------------------ code maps

export type CodeMap = Record<string, string | number | boolean | null>;

/** Source code → CRM value ("1" → "ACTIVE"); the code is compared as text. */
export function mapCode(raw: unknown, map: CodeMap): CrmValue {
  const code = asText(raw);
  if (Object.prototype.hasOwnProperty.call(map, code)) return map[code];
  // Padded CHAR codes ("1 ") match their trimmed form.
  const trimmed = code.trim();
  if (trimmed !== code && Object.prototype.hasOwnProperty.call(map, trimmed)) return map[trimmed];
  throw new TransformError(`code ${JSON.stringify(code)} is not in the map (${Object.keys(map).join(', ')})`);
}

/** CRM value → source code ("ACTIVE" → "1"): the first code mapping to it. */
export function unmapCode(value: CrmValue, map: CodeMap): string {
  for (const [code, v] of Object.entries(map)) if (v === value) return code;
  for (const [code, v] of Object.entries(map)) if (v !== null && value !== null && String(v) === String(value)) return code;
  throw new TransformError(`no code maps to ${JSON.stringify(value)} (known: ${Object.values(map).map((v) => JSON.stringify(v)).join(', ')})`);
}

// ------------------------------------------------------------------ numbers

/** Exact decimal text, normalised ("1.50" → "1.5"). Never through a float when the driver gives text. */
export function readDecimal(raw: unknown): string {
  const s = toDecimalString(raw);
  if (s === null) throw new TransformError(`not a decimal number`);
  return s;
}

/** Decimal text for the column: rounded half-up to `scale` when given. */
export function writeDecimal(value: CrmValue, scale?: number): string {
  const s = toDecimalString(value);
  if (s === null) throw new TransformError(`not a decimal number`);
  return scale === undefined ? s : roundDecimal(s, scale);
}

export function readInt(raw: unknown): number {
  if (typeof raw === 'number' && Number.isSafeInteger(raw)) return raw;
  const n = toDecimalString(raw);
  if (n === null || n.includes('.')) throw new TransformError('not an integer');
  const v = Number(n);
  if (!Number.isSafeInteger(v)) throw new TransformError('integer out of the safe range (map it as decimal or string)');
  return v;
}

// ------------------------------------------------------------------ booleans

const TRUE = new Set(['1', 'y', 'yes', 't', 'true', 'on', '是']);
const FALSE = new Set(['0', 'n', 'no', 'f', 'false', 'off', '否']);

/** 0/1, 'Y'/'N', 't'/'f', true/false, bit(1) buffers. */
export function readBoolean(raw: unknown): boolean {
  if (typeof raw === 'boolean') return raw;
  if (typeof raw === 'number' || typeof raw === 'bigint') {
    if (raw === 0 || raw === 0n) return false;
    if (raw === 1 || raw === 1n) return true;
  }
  if (Buffer.isBuffer(raw) && raw.length === 1) return raw[0] !== 0;
  const s = asText(raw).trim().toLowerCase();
  if (TRUE.has(s)) return true;
  if (FALSE.has(s)) return false;
  throw new TransformError('not a boolean (expected 0/1, Y/N, t/f, true/false; use `map` for other codes)');
}

/** Written as 1/0: every dialect accepts it for bit, tinyint, integer and boolean columns. */
export function writeBoolean(value: CrmValue): number {
  if (typeof value === 'boolean') return value ? 1 : 0;
  return readBoolean(value) ? 1 : 0;
}

// ------------------------------------------------------------------ dates and times

/** 'YYYY-MM-DD'. A Date from the driver is a date at UTC midnight (pg/mssql date columns). */
export function readDate(raw: unknown): string {
  if (raw instanceof Date) {
    if (Number.isNaN(raw.getTime())) throw new TransformError('invalid date');
    return raw.toISOString().slice(0, 10);
  }
  const s = asText(raw).trim();
  // The leading YYYY-MM-DD: digits, dashes, a calendar day (isIsoDate: no regex match, no Date).
  const day = s.length === 10 ? s : s.slice(0, 10);
  if (!isIsoDate(day)) throw new TransformError('not a date (YYYY-MM-DD)');
  return day;
}

export function writeDate(value: CrmValue): string {
  return readDate(value);
}

/**
 * ISO-8601 UTC. A naive value ("2024-01-02 08:00:00") is a wall clock in `timeZone`; a Date or a
 * string with an offset is already an instant.
 */
export function readDateTime(raw: unknown, timeZone: string): string {
  const t = toInstant(raw, timeZone);
  if (t === null) throw new TransformError(`not a date-time${dateTimeHint(raw)}`);
  return new Date(t).toISOString();
}

/** The column's wall clock in `timeZone` for an instant: "YYYY-MM-DD HH:MM:SS[.mmm]". */
export function writeDateTime(value: CrmValue, timeZone: string): string {
  const t = toInstant(value, 'UTC');
  if (t === null) throw new TransformError(`not a date-time${dateTimeHint(value)}`);
  return formatNaive(utcToZoned(t, timeZone));
}

// ------------------------------------------------------------------ concat / split

/** Non-empty parts joined by `separator` (null when every part is empty). */
export function concatParts(parts: unknown[], separator: string): string | null {
  const present = parts.filter((p) => p !== null && p !== undefined && asText(p) !== '').map(asText);
  return present.length === 0 ? null : present.join(separator);
}

/** The inverse of concatParts for `count` columns: the last column keeps any extra separators. */
export function splitParts(value: CrmValue, separator: string, count: number): (string | null)[] {
  if (value === null) return new Array<string | null>(count).fill(null);
  const parts = String(value).split(separator);
  const out: (string | null)[] = [];
  for (let i = 0; i < count; i++) {
    if (i === count - 1) out.push(parts.slice(i).join(separator) || null);
    else out.push(parts[i] ?? null);
  }
  return out;
}

export function splitPart(raw: unknown, separator: string, index: number): string | null {
  if (raw === null || raw === undefined) return null;
  return asText(raw).split(separator)[index] ?? null;
}

// ------------------------------------------------------------------ row conditions

/** A value or a test on one column (config `cases[].when`, `negate`). */
export type ConditionValue =
  | string
  | number
  | boolean
  | null
  | { eq?: ConditionScalar; ne?: ConditionScalar; in?: ConditionScalar[]; nin?: ConditionScalar[]; isNull?: boolean; empty?: boolean };
type ConditionScalar = string | number | boolean | null;

/**
 * Whether a row read from a source meets every condition. Values compare as the source would
 * print them: booleans as 1/0, numbers by value ("1.50" = 1.5), text trimmed.
 */
export function rowMatches(row: Record<string, unknown>, condition: Record<string, ConditionValue>): boolean {
  for (const [column, test] of Object.entries(condition)) {
    const v = comparable(row[column]);
    if (test === null || typeof test !== 'object') {
      if (v !== comparable(test)) return false;
      continue;
    }
    if (test.eq !== undefined && v !== comparable(test.eq)) return false;
    if (test.ne !== undefined && v === comparable(test.ne)) return false;
    if (test.in !== undefined && !test.in.some((x) => comparable(x) === v)) return false;
    if (test.nin !== undefined && test.nin.some((x) => comparable(x) === v)) return false;
    if (test.isNull !== undefined && (row[column] === null || row[column] === undefined) !== test.isNull) return false;
    if (test.empty !== undefined && (v === null || v === '') !== test.empty) return false;
  }
  return true;
}

function comparable(raw: unknown): string | null {
  if (raw === null || raw === undefined) return null;
  if (typeof raw === 'boolean') return raw ? '1' : '0';
  if (typeof raw === 'number' || typeof raw === 'bigint') {
    const d = toDecimalString(raw);
    return d === null ? String(raw) : normalizeDecimal(d);
  }
  const text = asText(raw).trim();
  return /^[+-]?\d+(\.\d+)?$/.test(text) ? normalizeDecimal(text) : text;
}

/** -x of a canonical number (decimal text or int); zero stays zero. */
export function negateNumber(value: CrmValue): CrmValue {
  if (typeof value === 'number') return value === 0 ? 0 : -value;
  if (typeof value !== 'string') throw new TransformError(`negate: ${JSON.stringify(value)} is not a number`);
  if (/^-?0(\.0*)?$/.test(value)) return value.replace(/^-/, '');
  return value.startsWith('-') ? value.slice(1) : `-${value}`;
}
