/**
 * SQL pieces the analysis queries share, per hub dialect. Money is turned into whole cents inside
 * the database so every SUM is an integer sum: exact on SQLite, whose hub keeps decimals as text
 * (summing that text would go through REAL), and on PostgreSQL (numeric).
 */
import { Decimal } from 'decimal.js';
import { MODEL, type EntityName } from '../model/entities.js';
import { utcToZoned } from '../model/time.js';

export type HubDialect = 'sqlite' | 'postgres';

/** A quoted column of a hub entity table alias: `o."orderDate"`. */
export function col(alias: string, field: string): string {
  return `${alias}."${field}"`;
}

/** The rows of a `knex.raw` result: an array on SQLite, `{ rows }` on PostgreSQL. */
export function rowsOf(res: unknown): Record<string, unknown>[] {
  return Array.isArray(res) ? (res as Record<string, unknown>[]) : ((res as { rows?: Record<string, unknown>[] }).rows ?? []);
}

export function table(entity: EntityName): string {
  return MODEL[entity].table;
}

/**
 * A decimal column (canonical text on SQLite, numeric on PostgreSQL) as a whole number of units of
 * 10^-scale: "-12.5" at scale 2 → -1250. Exact whatever the size on SQLite too (long text is
 * read digit by digit); digits past `scale` are dropped (the hub keeps at most the field's scale).
 */
export function units(dialect: HubDialect, expr: string, scale: number): string {
  if (dialect === 'postgres') return `ROUND(${expr} * ${10 ** scale})`;
  // Short text with at most `scale` decimals: through a double, which is exact there (at most 11
  // characters: |value| × 10^scale < 10^15, well inside the 2^53 a double holds exactly, so the
  // rounding error stays far below one unit) and 4× cheaper than taking the text apart, which
  // remains for longer values. At 1M order lines this was most of a full refresh.
  const short = `length(${expr}) <= 11 AND (instr(${expr}, '.') = 0 OR length(${expr}) - instr(${expr}, '.') <= ${scale})`;
  return `(CASE WHEN ${short} THEN CAST(ROUND(CAST(${expr} AS REAL) * ${10 ** scale}) AS INTEGER) ELSE ${digitsUnits(expr, scale)} END)`;
}

/** units() on SQLite by reading the digits of the text: exact whatever the size. */
function digitsUnits(expr: string, scale: number): string {
  const abs = `ltrim(${expr}, '-')`;
  const dot = `instr(${abs}, '.')`;
  const whole = `CAST(CASE WHEN ${dot} > 0 THEN substr(${abs}, 1, ${dot} - 1) ELSE ${abs} END AS INTEGER)`;
  const frac = scale === 0 ? '0' : `CAST(substr(CASE WHEN ${dot} > 0 THEN substr(${abs}, ${dot} + 1) ELSE '' END || '${'0'.repeat(scale)}', 1, ${scale}) AS INTEGER)`;
  return `(CASE WHEN ${expr} IS NULL THEN NULL ELSE (CASE WHEN substr(${expr}, 1, 1) = '-' THEN -1 ELSE 1 END) * (${whole} * ${10 ** scale} + ${frac}) END)`;
}

/**
 * quantity (scale 4) × unit amount (scale 4), rounded half away from zero to cents. On SQLite the
 * product is an integer of 10^-8 units (exact while |quantity × amount| < 9.2e10).
 */
export function productCents(dialect: HubDialect, quantity: string, unitAmount: string): string {
  if (dialect === 'postgres') return `ROUND(ROUND(${quantity} * ${unitAmount}, 2) * 100)`;
  const p = `(${units(dialect, quantity, 4)} * ${units(dialect, unitAmount, 4)})`;
  return `((${p} + CASE WHEN ${p} < 0 THEN -500000 ELSE 500000 END) / 1000000)`;
}

/** A value a SUM or a bigint column returned (number, bigint or numeric text) as a bigint; null stays null. */
export function bigOf(v: unknown): bigint | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(Math.round(v));
  const s = String(v).trim();
  // numeric text from PostgreSQL ("1250" or "1250.000")
  return BigInt(new Decimal(s).toDecimalPlaces(0, Decimal.ROUND_HALF_UP).toFixed(0));
}

export function bigOr0(v: unknown): bigint {
  return bigOf(v) ?? 0n;
}

/** Cents → canonical decimal text ("-1250" → "-12.5"). */
export function centsToDecimal(cents: bigint): string {
  const d = new Decimal(cents.toString()).div(100);
  return d.isZero() ? '0' : d.toFixed();
}

/** Today's calendar day ("YYYY-MM-DD") in `timeZone` at the instant `now`. */
export function todayIn(now: Date, timeZone: string): string {
  return new Date(utcToZoned(now.getTime(), timeZone)).toISOString().slice(0, 10);
}

function parts(day: string): [number, number, number] {
  return [Number(day.slice(0, 4)), Number(day.slice(5, 7)), Number(day.slice(8, 10))];
}

/** `day` moved by whole months; the day of month is kept, or the month's last when it has fewer days. */
export function addMonths(day: string, months: number): string {
  const [y, m, d] = parts(day);
  const first = new Date(Date.UTC(y, m - 1 + months, 1));
  const last = new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth() + 1, 0)).getUTCDate();
  return new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth(), Math.min(d, last))).toISOString().slice(0, 10);
}

export function addDays(day: string, days: number): string {
  const [y, m, d] = parts(day);
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

/** Whole days from `from` to `to` (both "YYYY-MM-DD"). */
export function daysBetween(from: string, to: string): number {
  const [y1, m1, d1] = parts(from);
  const [y2, m2, d2] = parts(to);
  return Math.round((Date.UTC(y2, m2 - 1, d2) - Date.UTC(y1, m1 - 1, d1)) / 86_400_000);
}

/** `?, ?, ?` for n bindings. */
export function marks(n: number): string {
  return Array.from({ length: n }, () => '?').join(', ');
}
