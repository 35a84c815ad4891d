/**
 * Opaque keyset cursors: the raw values of the sort columns of one row, the record key last, plus
 * a signature of the ordering so a cursor is never applied to a different sort. Raw values (as the
 * store returned them) are compared back with the store's own columns, so cursors stay stable on
 * composite keys, legacy code columns and transformed fields alike.
 */
import { CrmlinkError } from '../core/errors.js';

type Encoded = null | string | number | boolean | { d: string } | { b: string } | { n: string };

function enc(v: unknown): Encoded {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return { d: v.toISOString() };
  if (Buffer.isBuffer(v)) return { b: v.toString('base64') };
  if (typeof v === 'bigint') return { n: v.toString() };
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  return String(v);
}

function dec(v: Encoded): unknown {
  if (v === null || typeof v !== 'object') return v;
  if ('d' in v) return new Date(v.d);
  if ('b' in v) return Buffer.from(v.b, 'base64');
  return BigInt(v.n);
}

export function encodeCursor(signature: string, values: readonly unknown[]): string {
  return Buffer.from(JSON.stringify({ s: signature, v: values.map(enc) }), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string, signature: string, arg: string): unknown[] {
  let parsed: { s?: unknown; v?: unknown };
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { s?: unknown; v?: unknown };
  } catch {
    throw new CrmlinkError('VALIDATION_FAILED', `${arg}: not a cursor returned by this API`, { field: arg });
  }
  if (!Array.isArray(parsed.v)) throw new CrmlinkError('VALIDATION_FAILED', `${arg}: not a cursor returned by this API`, { field: arg });
  if (parsed.s !== signature) {
    throw new CrmlinkError('VALIDATION_FAILED', `${arg}: the cursor belongs to a different orderBy; page with the orderBy it came from`, { field: arg });
  }
  return (parsed.v as Encoded[]).map(dec);
}
