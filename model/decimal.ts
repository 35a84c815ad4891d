/**
 * Exact decimals as strings ("12345678901234.5678"). Money never goes through a JS float: digits
 * are handled as text and bigint.
 */

/** Plain decimal notation, optionally signed. */
export const DECIMAL_RE = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;
const EXP_RE = /^([+-]?)(\d+)(?:\.(\d*))?[eE]([+-]?\d+)$/;

/** Any decimal-ish value (string, number, bigint) as plain notation; null when it is not one. */
export function toDecimalString(value: unknown): string | null {
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return null;
    return expandExponent(String(value));
  }
  if (typeof value === 'string') {
    const s = value.trim().replace(/,/g, '');
    if (DECIMAL_RE.test(s)) return s;
    return EXP_RE.test(s) ? expandExponent(s) : null;
  }
  return null;
}

function expandExponent(s: string): string {
  const m = EXP_RE.exec(s);
  if (!m) return s;
  const [, sign, int, frac = '', expText] = m;
  const exp = Number(expText);
  let digits = int + frac;
  let point = int.length + exp;
  if (point <= 0) {
    digits = '0'.repeat(1 - point) + digits;
    point = 1;
  } else if (point > digits.length) digits = digits + '0'.repeat(point - digits.length);
  const tail = digits.slice(point);
  const out = tail ? `${digits.slice(0, point)}.${tail}` : digits.slice(0, point);
  return sign + out;
}

/** Canonical form for comparison: "1.50" → "1.5", "007" → "7", "-0.0" → "0". */
export function normalizeDecimal(s: string): string {
  const plain = toDecimalString(s);
  if (plain === null) throw new TypeError(`not a decimal: ${s}`);
  let sign = '';
  let body = plain;
  if (body.startsWith('-') || body.startsWith('+')) {
    sign = body[0] === '-' ? '-' : '';
    body = body.slice(1);
  }
  let [int, frac = ''] = body.split('.');
  int = int.replace(/^0+(?=\d)/, '') || '0';
  frac = frac.replace(/0+$/, '');
  const out = frac ? `${int}.${frac}` : int;
  return out === '0' ? '0' : sign + out;
}

/** Round half away from zero to `scale` places (what finance calls half-up); result normalised. */
export function roundDecimal(s: string, scale: number): string {
  const n = normalizeDecimal(s);
  const negative = n.startsWith('-');
  const body = negative ? n.slice(1) : n;
  const [int, frac = ''] = body.split('.');
  if (frac.length <= scale) return n;
  const kept = BigInt(int + frac.slice(0, scale));
  const roundUp = frac.charCodeAt(scale) - 48 >= 5;
  const v = roundUp ? kept + 1n : kept;
  const digits = v.toString().padStart(scale + 1, '0');
  const result = scale === 0 ? digits : `${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}`;
  return normalizeDecimal((negative ? '-' : '') + result);
}

/** Fixed number of places ("1.5", 2 → "1.50"), for columns that want them written out. */
export function fixedDecimal(s: string, scale: number): string {
  const r = roundDecimal(s, scale);
  if (scale === 0) return r;
  const [int, frac = ''] = r.split('.');
  return `${int}.${frac.padEnd(scale, '0')}`;
}
