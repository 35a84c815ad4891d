/**
 * Row hashes: sha256 over a canonical JSON of the selected columns. Canonical means sorted column
 * names and driver-independent value forms (Date → ISO, Buffer → hex, bigint → text), so the same
 * row read twice hashes the same.
 */
import { createHash } from 'node:crypto';
import type { Row } from './driver.js';

export function canonicalValue(v: unknown): unknown {
  if (v === undefined || v === null) return null;
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'bigint') return v.toString();
  if (Buffer.isBuffer(v)) return `0x${v.toString('hex')}`;
  if (v instanceof Uint8Array) return `0x${Buffer.from(v).toString('hex')}`;
  return v;
}

export function canonicalJson(row: Row, columns: readonly string[]): string {
  const sorted = [...columns].sort();
  return JSON.stringify(sorted.map((c) => [c, canonicalValue(row[c])]));
}

export function rowHash(row: Row, columns: readonly string[]): string {
  return createHash('sha256').update(canonicalJson(row, columns)).digest('hex');
}

export function keyHash(key: readonly unknown[]): string {
  return createHash('sha256').update(JSON.stringify(['key', key.map(canonicalValue)])).digest('hex');
}
