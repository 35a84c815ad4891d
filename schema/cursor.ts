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

/**
 * One encoded value back to its raw value, or undefined when it is not something encodeCursor
 * writes: a cursor is client input, and a forged one (`{"n":"abc"}`, an invalid date, an object)
 * must be refused as such, not fail inside BigInt or the store.
 */
function dec(v: unknown): { ok: true; value: unknown } | undefined {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return { ok: true, value: v };
  if (typeof v === 'number') return Number.isFinite(v) ? { ok: true, value: v } : undefined;
  if (typeof v !== 'object' || Array.isArray(v)) return undefined;
  const keys = Object.keys(v);
  if (keys.length !== 1) return undefined;
  const [k] = keys;
  const s = (v as Record<string, unknown>)[k];
  if (typeof s !== 'string') return undefined;
  if (k === 'd') {
    const d = new Date(s);
    return Number.isNaN(d.getTime()) ? undefined : { ok: true, value: d };
  }
  if (k === 'b') return /^[A-Za-z0-9+/]*={0,2}$/.test(s) ? { ok: true, value: Buffer.from(s, 'base64') } : undefined;
  if (k === 'n') return /^-?\d{1,40}$/.test(s) ? { ok: true, value: BigInt(s) } : undefined;
  return undefined;
}

export function encodeCursor(signature: string, values: readonly unknown[]): string {
  return Buffer.from(JSON.stringify({ s: signature, v: values.map(enc) }), 'utf8').toString('base64url');
}

/** The raw values of a cursor made for `signature` with `columns` sort columns; VALIDATION_FAILED otherwise. */
export function decodeCursor(cursor: string, signature: string, arg: string, columns: number): unknown[] {
  const forged = () => new CrmlinkError('VALIDATION_FAILED', `${arg}: not a cursor returned by this API`, { field: arg });
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw forged();
  }
  if (typeof parsed !== 'object' || parsed === null || !Array.isArray((parsed as { v?: unknown }).v)) throw forged();
  const { s, v } = parsed as { s?: unknown; v: unknown[] };
  if (s !== signature) {
    throw new CrmlinkError('VALIDATION_FAILED', `${arg}: the cursor belongs to a different orderBy; page with the orderBy it came from`, { field: arg });
  }
  if (v.length !== columns) throw forged();
  const out: unknown[] = [];
  for (const x of v) {
    const d = dec(x);
    if (!d) throw forged();
    out.push(d.value);
  }
  return out;
}

/** A cursor over one numeric column (an id, a version), as the operations' lists issue it. */
export function decodeNumberCursor(cursor: string, signature: string, arg: string): number {
  const [n] = decodeCursor(cursor, signature, arg, 1);
  if (typeof n !== 'number') throw new CrmlinkError('VALIDATION_FAILED', `${arg}: not a cursor returned by this API`, { field: arg });
  return n;
}
