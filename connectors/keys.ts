/**
 * Source keys as strings: what the hub's cross-reference stores and what a ref field holds.
 * A single-column key is its value as text ("C0001", "42"); a composite key is a JSON array
 * (["SO1", 3]) so parts containing separators cannot collide.
 */
import type { KeyValues } from './driver.js';

export function encodeKey(values: KeyValues): string {
  if (values.length === 1) return encodeSingleKey(values[0]);
  return JSON.stringify(values.map(keyPart));
}

/** encodeKey of a one-column key, from its value (no array per row). */
export function encodeSingleKey(value: unknown): string {
  return String(keyPart(value));
}

/**
 * The inverse of encodeKey for a key of `width` columns. A single-column key comes back as a
 * string (databases compare '42' with an integer key column correctly).
 */
export function decodeKey(encoded: string, width = 1): KeyValues {
  if (width === 1) return [encoded];
  let parsed: unknown;
  try {
    parsed = JSON.parse(encoded);
  } catch {
    throw new TypeError(`not a composite key: ${encoded}`);
  }
  if (!Array.isArray(parsed) || parsed.length !== width) throw new TypeError(`expected a key of ${width} parts: ${encoded}`);
  return parsed;
}

function keyPart(v: unknown): unknown {
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'bigint') return v.toString();
  if (Buffer.isBuffer(v)) return v.toString('hex');
  return v ?? null;
}
