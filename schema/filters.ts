/**
 * Filters between GraphQL and SQL. A GraphQL `where` becomes a field-level filter (`Filter`),
 * which each store compiles for its own side: the hub turns fields into its columns, a federated
 * source turns them into source columns through the mapping (`fieldColumn`). Values never reach
 * SQL text: both compile to bind parameters.
 *
 * Semantics chosen once here, so the hub and every source agree:
 * - `ne` / `nin` keep NULLs (a customer without a city is "not in Shanghai"): compiled as
 *   `(col <> v OR col IS NULL)`.
 * - `eq: null` means `isNull: true`.
 * - `in: []` matches nothing; the query is then not sent at all.
 */
import type { FilterOp } from '../connectors/driver.js';
import { CrmlinkError } from '../core/errors.js';

export type Filter =
  | { and: Filter[] }
  | { or: Filter[] }
  | { not: Filter }
  | { const: boolean }
  /** A canonical field with a canonical value (the store maps it to its column and value). */
  | { field: string; op: FilterOp; value: unknown }
  /** A store column with a raw value as read from it (keyset cursors, keys). */
  | { column: string; op: FilterOp; value: unknown }
  /** Store-space record keys (hub ids or source keys). */
  | { keyIn: string[] };

export const TRUE: Filter = { const: true };
export const FALSE: Filter = { const: false };

export function and(...parts: (Filter | undefined | null)[]): Filter {
  return simplify({ and: parts.filter((p): p is Filter => !!p) });
}

/** Fold constants, flatten nested and/or, turn `in []` into FALSE. */
export function simplify(f: Filter): Filter {
  if ('and' in f) {
    const parts: Filter[] = [];
    for (const p of f.and.map(simplify)) {
      if ('const' in p) {
        if (!p.const) return FALSE;
        continue;
      }
      if ('and' in p) parts.push(...p.and);
      else parts.push(p);
    }
    return parts.length === 0 ? TRUE : parts.length === 1 ? parts[0] : { and: parts };
  }
  if ('or' in f) {
    const parts: Filter[] = [];
    for (const p of f.or.map(simplify)) {
      if ('const' in p) {
        if (p.const) return TRUE;
        continue;
      }
      if ('or' in p) parts.push(...p.or);
      else parts.push(p);
    }
    return parts.length === 0 ? FALSE : parts.length === 1 ? parts[0] : { or: parts };
  }
  if ('not' in f) {
    const inner = simplify(f.not);
    return 'const' in inner ? { const: !inner.const } : { not: inner };
  }
  if ('keyIn' in f) return f.keyIn.length === 0 ? FALSE : f;
  if ('op' in f && (f.op === 'in' || f.op === 'nin') && Array.isArray(f.value) && f.value.length === 0) {
    return f.op === 'in' ? FALSE : TRUE;
  }
  return f;
}

export function isConst(f: Filter, value: boolean): boolean {
  return 'const' in f && f.const === value;
}

/** Fields a filter touches (for masking and computed-field checks). */
export function fieldsIn(f: Filter, out = new Set<string>()): Set<string> {
  if ('and' in f) f.and.forEach((p) => fieldsIn(p, out));
  else if ('or' in f) f.or.forEach((p) => fieldsIn(p, out));
  else if ('not' in f) fieldsIn(f.not, out);
  else if ('field' in f) out.add(f.field);
  return out;
}

const OPS: readonly FilterOp[] = ['eq', 'ne', 'in', 'nin', 'lt', 'lte', 'gt', 'gte', 'contains', 'startsWith', 'isNull'];

export type GqlWhere = Record<string, unknown>;

/** How ref fields and ids are turned into store-space keys (they arrive as global ids). */
export interface WhereContext {
  /** Fields of the entity and their types. */
  fieldType(field: string): string | undefined;
  /** Global ids of this entity → store keys (unknown or foreign ids are dropped). */
  idsToKeys(ids: string[]): Promise<string[]>;
  /** Global ids of `field`'s referenced entity → values as stored in this entity's ref column. */
  refIdsToValues(field: string, ids: string[]): Promise<string[]>;
}

/** GraphQL `where` input → Filter. Async because ids and refs are translated through crm_xref. */
export async function whereToFilter(where: GqlWhere | null | undefined, ctx: WhereContext): Promise<Filter> {
  if (!where) return TRUE;
  const parts: Filter[] = [];
  for (const [key, raw] of Object.entries(where)) {
    if (raw === undefined) continue;
    if (key === 'and' || key === 'or') {
      const list = (raw as GqlWhere[] | null) ?? [];
      const subs = await Promise.all(list.map((w) => whereToFilter(w, ctx)));
      parts.push(key === 'and' ? { and: subs } : { or: subs });
      continue;
    }
    if (key === 'not') {
      if (raw) parts.push({ not: await whereToFilter(raw as GqlWhere, ctx) });
      continue;
    }
    if (raw === null) continue;
    const ops = raw as Record<string, unknown>;
    if (key === 'id') {
      parts.push(await keyFilter(ops, (ids) => ctx.idsToKeys(ids)));
      continue;
    }
    const type = ctx.fieldType(key);
    if (!type) throw new CrmlinkError('VALIDATION_FAILED', `where: unknown field "${key}"`, { field: key });
    if (type === 'ref') {
      parts.push(await refFilter(key, ops, (ids) => ctx.refIdsToValues(key, ids)));
      continue;
    }
    for (const [op, value] of Object.entries(ops)) {
      if (value === undefined) continue;
      if (!OPS.includes(op as FilterOp)) throw new CrmlinkError('VALIDATION_FAILED', `where.${key}: unknown operator "${op}"`, { field: key });
      parts.push(leaf(key, op as FilterOp, value));
    }
  }
  return simplify({ and: parts });
}

/**
 * The longest string a filter compares with. A LIKE pattern has engine limits (SQLite refuses
 * patterns over 50,000 bytes, SQL Server's are 8,000 bytes), and no real search needs more.
 */
export const MAX_FILTER_STRING = 4000;
/** The most values an `in` / `nin` list may hold (each id of one is translated, each value bound). */
export const MAX_FILTER_LIST = 1000;

function checkLength(field: string, op: string, value: unknown): void {
  if (Array.isArray(value) && value.length > MAX_FILTER_LIST) {
    throw new CrmlinkError('VALIDATION_FAILED', `where.${field}.${op}: ${value.length} values; at most ${MAX_FILTER_LIST} are allowed`, { field });
  }
  const values = Array.isArray(value) ? value : [value];
  for (const v of values) {
    if (typeof v === 'string' && v.length > MAX_FILTER_STRING) {
      throw new CrmlinkError('VALIDATION_FAILED', `where.${field}.${op}: a value of ${v.length} characters; at most ${MAX_FILTER_STRING} are allowed`, { field });
    }
  }
}

/** Whether a filter value (or one of a list) holds U+0000, which no stored text holds. */
function holdsNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  return Array.isArray(value) && value.some((v) => typeof v === 'string' && v.includes('\u0000'));
}

function leaf(field: string, op: FilterOp, value: unknown): Filter {
  checkLength(field, op, value);
  // SQLite ends a LIKE pattern at U+0000 (`contains: "\u0000"` would match every row) and
  // PostgreSQL refuses it in text: refused here for every store alike.
  if (holdsNul(value)) throw new CrmlinkError('VALIDATION_FAILED', `where.${field}.${op}: text cannot hold the NUL character (U+0000)`, { field });
  switch (op) {
    case 'eq':
      return value === null ? { field, op: 'isNull', value: true } : { field, op, value };
    case 'ne':
      return value === null
        ? { field, op: 'isNull', value: false }
        : { or: [{ field, op, value }, { field, op: 'isNull', value: true }] };
    case 'nin': {
      const list = (value as unknown[] | null) ?? [];
      const nonNull = list.filter((v) => v !== null);
      const keepsNull = nonNull.length === list.length;
      const f: Filter = nonNull.length ? { field, op: 'nin', value: nonNull } : TRUE;
      return keepsNull ? { or: [f, { field, op: 'isNull', value: true }] } : { and: [f, { field, op: 'isNull', value: false }] };
    }
    case 'in': {
      const list = (value as unknown[] | null) ?? [];
      const nonNull = list.filter((v) => v !== null);
      const f: Filter = { field, op: 'in', value: nonNull };
      return nonNull.length === list.length ? f : { or: [f, { field, op: 'isNull', value: true }] };
    }
    case 'isNull':
      return value === null ? TRUE : { field, op, value: Boolean(value) };
    default:
      if (value === null) throw new CrmlinkError('VALIDATION_FAILED', `where.${field}.${op}: a value is required`, { field });
      return { field, op, value };
  }
}

async function keyFilter(ops: Record<string, unknown>, toKeys: (ids: string[]) => Promise<string[]>): Promise<Filter> {
  const parts: Filter[] = [];
  for (const [op, value] of Object.entries(ops)) {
    if (value === undefined || value === null) continue;
    checkLength('id', op, value);
    const ids = Array.isArray(value) ? (value as string[]) : [String(value)];
    const keys = await toKeys(ids);
    if (op === 'eq' || op === 'in') parts.push({ keyIn: keys });
    else if (op === 'ne' || op === 'nin') parts.push(keys.length ? { not: { keyIn: keys } } : TRUE);
    else throw new CrmlinkError('VALIDATION_FAILED', `where.id: operator "${op}" is not supported on ids (use eq, ne, in, nin)`, { field: 'id' });
  }
  return { and: parts };
}

async function refFilter(field: string, ops: Record<string, unknown>, toValues: (ids: string[]) => Promise<string[]>): Promise<Filter> {
  const parts: Filter[] = [];
  for (const [op, value] of Object.entries(ops)) {
    if (value === undefined) continue;
    if (op === 'isNull') {
      if (value !== null) parts.push({ field, op: 'isNull', value: Boolean(value) });
      continue;
    }
    if (value === null) {
      parts.push(leaf(field, op === 'ne' ? 'ne' : 'eq', null));
      continue;
    }
    checkLength(field, op, value);
    const ids = Array.isArray(value) ? (value as string[]) : [String(value)];
    const values = await toValues(ids);
    if (op === 'eq' || op === 'in') parts.push({ field, op: 'in', value: values });
    else if (op === 'ne' || op === 'nin') parts.push(values.length ? leaf(field, 'nin', values) : TRUE);
    else throw new CrmlinkError('VALIDATION_FAILED', `where.${field}: operator "${op}" is not supported on references (use eq, ne, in, nin, isNull)`, { field });
  }
  return { and: parts };
}

export interface SortColumn {
  column: string;
  direction: 'asc' | 'desc';
}

/**
 * Keyset predicate: rows strictly after `values` in the order of `sort` (the last columns are the
 * record key, so the order is total). NULLs are placed where the engine's default ORDER BY puts
 * them: first in ascending order on SQLite, MySQL/MariaDB and SQL Server, last on PostgreSQL.
 */
export function keysetAfter(sort: readonly SortColumn[], values: readonly unknown[], nullsFirstAsc: boolean): Filter {
  const branches: Filter[] = [];
  for (let i = 0; i < sort.length; i++) {
    const prefix: Filter[] = [];
    for (let j = 0; j < i; j++) prefix.push(eqNullSafe(sort[j].column, values[j]));
    const after = strictlyAfter(sort[i], values[i], nullsFirstAsc);
    if (after === null) continue;
    branches.push({ and: [...prefix, after] });
  }
  return simplify({ or: branches });
}

function eqNullSafe(column: string, v: unknown): Filter {
  return v === null || v === undefined ? { column, op: 'isNull', value: true } : { column, op: 'eq', value: v };
}

function strictlyAfter(s: SortColumn, v: unknown, nullsFirstAsc: boolean): Filter | null {
  const nullsFirst = (s.direction === 'asc') === nullsFirstAsc;
  if (v === null || v === undefined) return nullsFirst ? { column: s.column, op: 'isNull', value: false } : null;
  const cmp: Filter = { column: s.column, op: s.direction === 'asc' ? 'gt' : 'lt', value: v };
  return nullsFirst ? cmp : { or: [cmp, { column: s.column, op: 'isNull', value: true }] };
}
