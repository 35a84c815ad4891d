/**
 * Exact decimal arithmetic on canonical decimal strings (see core/values.ts): money is summed
 * with BigInt at a common scale, never as JS floats.
 */
import { normalizeDecimal } from '../model/values.js';

function split(d: string): { units: bigint; scale: number } {
  const n = normalizeDecimal(d);
  const neg = n.startsWith('-');
  const [int, frac = ''] = (neg ? n.slice(1) : n).split('.');
  const units = BigInt(int + frac) * (neg ? -1n : 1n);
  return { units, scale: frac.length };
}

export function addDecimals(values: readonly string[]): string {
  if (values.length === 0) return '0';
  const parts = values.map(split);
  const scale = Math.max(...parts.map((p) => p.scale));
  let total = 0n;
  for (const p of parts) total += p.units * 10n ** BigInt(scale - p.scale);
  return fromUnits(total, scale);
}

function fromUnits(units: bigint, scale: number): string {
  const neg = units < 0n;
  const digits = (neg ? -units : units).toString().padStart(scale + 1, '0');
  const int = digits.slice(0, digits.length - scale);
  const frac = digits.slice(digits.length - scale);
  return normalizeDecimal(`${neg ? '-' : ''}${int}${scale ? `.${frac}` : ''}`);
}

/**
 * A number an engine computed (SQLite sums text decimals as REAL) back to a decimal string,
 * rounded to `scale` places: exact while |value| < 2^53 / 10^scale.
 */
export function decimalFromDb(v: unknown, scale?: number): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return null;
    return normalizeDecimal(scale === undefined ? String(v) : v.toFixed(scale));
  }
  if (typeof v === 'bigint') return v.toString();
  const s = String(v).trim();
  if (/e/i.test(s)) return decimalFromDb(Number(s), scale);
  return normalizeDecimal(s);
}
