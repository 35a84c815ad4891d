/**
 * Canonical values (see model/entities.ts) converted, compared and hashed the same way
 * everywhere: the merge, the no-echo check, the push, the hub and the GraphQL layer all agree on
 * when two values are "the same".
 */
import { createHash } from 'node:crypto';
import type { CrmRecord, CrmValue, ModelField } from './entities.js';
import { normalizeDecimal } from './decimal.js';

export { normalizeDecimal } from './decimal.js';

/**
 * Equality of canonical values. Decimals compare by value because canonical decimals are equal
 * exactly when their strings are ("1.5" for "1.50"); undefined is null.
 */
export function sameValue(a: CrmValue | undefined, b: CrmValue | undefined): boolean {
  if (a === undefined) a = null;
  if (b === undefined) b = null;
  if (a === b) return true;
  if (a === null || b === null) return false;
  return String(a) === String(b);
}

/**
 * A stored or driver value → the field's canonical value: SQLite booleans are 0/1, PostgreSQL
 * numerics carry trailing zeros, bigints come back as text.
 */
export function canonicalFieldValue(field: Pick<ModelField, 'type'>, v: unknown): CrmValue {
  if (v === null || v === undefined) return null;
  switch (field.type) {
    case 'boolean':
      return v === true || v === 1 || v === '1' || v === 't' || v === 'true';
    case 'int':
      return Number(v);
    case 'decimal':
      return normalizeDecimal(typeof v === 'number' || typeof v === 'bigint' ? v : String(v));
    default:
      return String(v);
  }
}

/** The named fields of a record, absent ones as null. */
export function pickFields(values: Readonly<CrmRecord>, fields: readonly string[]): CrmRecord {
  const out: CrmRecord = {};
  for (const f of fields) out[f] = values[f] ?? null;
  return out;
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
