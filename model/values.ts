/**
 * Canonical values (see schema/model.ts) compared and hashed the same way everywhere: the merge,
 * the no-echo check and the hub all agree on when two values are "the same".
 */
import { createHash } from 'node:crypto';
import type { CrmRecord, CrmValue } from './entities.js';

/** Plain-notation decimal without insignificant zeros: "1500.00" → "1500", "-0.0" → "0". */
export function normalizeDecimal(input: string | number | bigint): string {
  let s = typeof input === 'string' ? input.trim() : String(input);
  if (/e/i.test(s)) throw new RangeError(`decimal in exponent notation: ${s}`);
  let sign = '';
  if (s.startsWith('-') || s.startsWith('+')) {
    sign = s[0] === '-' ? '-' : '';
    s = s.slice(1);
  }
  if (!/^\d*\.?\d*$/.test(s) || s === '' || s === '.') throw new RangeError(`not a decimal: ${String(input)}`);
  let [int = '', frac = ''] = s.split('.');
  int = int.replace(/^0+(?=\d)/, '') || '0';
  frac = frac.replace(/0+$/, '');
  const out = frac ? `${int}.${frac}` : int;
  return out === '0' ? '0' : sign + out;
}

/** Equality of canonical values; decimals compare by value ("1.50" equals "1.5"). */
export function sameValue(a: CrmValue | undefined, b: CrmValue | undefined): boolean {
  if (a === undefined) a = null;
  if (b === undefined) b = null;
  if (a === b) return true;
  if (a === null || b === null) return false;
  return String(a) === String(b);
}

/** Stable JSON: keys sorted, so equal records hash equally. */
export function stableStringify(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  const obj = value as Record<string, unknown>;
  return `{${Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${stableStringify(obj[k])}`)
    .join(',')}}`;
}

export function hashRecord(record: CrmRecord | Record<string, unknown>): string {
  return createHash('sha256').update(stableStringify(record)).digest('hex');
}
