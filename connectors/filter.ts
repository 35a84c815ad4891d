/**
 * Where trees in memory: evaluating one against a row, ordering rows as a source would, and
 * splitting a tree into the part a connector evaluates (capabilities.filters) and the rest, which
 * crmlink evaluates on the rows read (`selectFiltered`).
 *
 * File connectors evaluate every operator this way over the rows they parsed; a plugin that can
 * push down only some operators declares those, and the caller filters the rest.
 */
import { Decimal } from 'decimal.js';
import { DECIMAL_RE } from '../model/decimal.js';
import { CrmlinkError } from '../core/errors.js';
import type { Connector } from './connector.js';
import type { FilterOp, OrderBy, Row, SelectSpec, Where } from './driver.js';

/** Compare two non-null values the way a database would compare a column with a parameter. */
export function compareValues(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0;
  if (a instanceof Date || b instanceof Date) return timeOf(a) - timeOf(b);
  if (typeof a === 'boolean' || typeof b === 'boolean') return Number(truthy(a)) - Number(truthy(b));
  const da = asDecimal(a);
  const db = asDecimal(b);
  // Numbers and numeric text (Access currency, decimal columns read as text) compare by value.
  if (da && db && (typeof a !== 'string' || typeof b !== 'string' || (DECIMAL_RE.test(a) && DECIMAL_RE.test(b)))) return da.comparedTo(db);
  const sa = String(a);
  const sb = String(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

function timeOf(v: unknown): number {
  if (v instanceof Date) return v.getTime();
  const t = Date.parse(String(v));
  return Number.isNaN(t) ? Number.NaN : t;
}

function truthy(v: unknown): boolean {
  if (typeof v === 'string') return v === '1' || v.toLowerCase() === 'true';
  return Boolean(v);
}

function asDecimal(v: unknown): Decimal | null {
  if (typeof v === 'number') return Number.isFinite(v) ? new Decimal(v) : null;
  if (typeof v === 'bigint') return new Decimal(v.toString());
  if (typeof v === 'string' && DECIMAL_RE.test(v.trim())) return new Decimal(v.trim());
  return null;
}

function equal(a: unknown, b: unknown): boolean {
  if (a === null || a === undefined || b === null || b === undefined) return false;
  return compareValues(a, b) === 0;
}

/** Whether `row` satisfies `where` (SQL semantics: a comparison with NULL is not true). */
export function matchesWhere(row: Row, where: Where | undefined): boolean {
  if (!where) return true;
  if ('and' in where) return where.and.every((w) => matchesWhere(row, w));
  if ('or' in where) return where.or.some((w) => matchesWhere(row, w));
  if ('not' in where) return !matchesWhere(row, where.not);
  const v = row[where.column];
  const isNull = v === null || v === undefined;
  switch (where.op) {
    case 'isNull':
      return where.value === false ? !isNull : isNull;
    case 'eq':
      return equal(v, where.value);
    case 'ne':
      return !isNull && where.value !== null && where.value !== undefined && !equal(v, where.value);
    case 'in':
      return !isNull && asArray(where.value).some((x) => equal(v, x));
    case 'nin':
      return !isNull && !asArray(where.value).some((x) => equal(v, x));
    case 'lt':
      return !isNull && where.value != null && compareValues(v, where.value) < 0;
    case 'lte':
      return !isNull && where.value != null && compareValues(v, where.value) <= 0;
    case 'gt':
      return !isNull && where.value != null && compareValues(v, where.value) > 0;
    case 'gte':
      return !isNull && where.value != null && compareValues(v, where.value) >= 0;
    case 'contains':
      // Case-insensitive, as every SQL dialect and the hub evaluate it (docs/filters.md).
      return !isNull && String(v).toLowerCase().includes(String(where.value).toLowerCase());
    case 'startsWith':
      return !isNull && String(v).startsWith(String(where.value));
  }
}

function asArray(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [v];
}

/** The operators a Where tree uses. */
export function whereOps(where: Where | undefined, out = new Set<FilterOp>()): Set<FilterOp> {
  if (!where) return out;
  if ('and' in where) where.and.forEach((w) => whereOps(w, out));
  else if ('or' in where) where.or.forEach((w) => whereOps(w, out));
  else if ('not' in where) whereOps(where.not, out);
  else out.add(where.op);
  return out;
}

/**
 * Split `where` into what a connector supporting `ops` can evaluate (`pushed`) and what the caller
 * must evaluate on the rows it gets back (`residual`); `pushed AND residual` ≡ `where`. Only the
 * top-level conjunction is split: an OR or NOT with an unsupported operator inside stays whole
 * in the residual.
 */
export function splitWhere(where: Where | undefined, ops: readonly FilterOp[]): { pushed?: Where; residual?: Where } {
  if (!where) return {};
  const supported = (w: Where) => [...whereOps(w)].every((op) => ops.includes(op));
  if (supported(where)) return { pushed: where };
  if (!('and' in where)) return { residual: where };
  const pushed: Where[] = [];
  const residual: Where[] = [];
  for (const part of where.and) {
    const s = splitWhere(part, ops);
    if (s.pushed) pushed.push(s.pushed);
    if (s.residual) residual.push(s.residual);
  }
  return {
    ...(pushed.length ? { pushed: pushed.length === 1 ? pushed[0] : { and: pushed } } : {}),
    ...(residual.length ? { residual: residual.length === 1 ? residual[0] : { and: residual } } : {}),
  };
}

/** A Where with an operator the connector does not evaluate: refused, naming the connector and the operators. */
export function assertPushable(connector: Pick<Connector, 'name' | 'kind' | 'capabilities'>, where: Where | undefined): void {
  const unsupported = [...whereOps(where)].filter((op) => !connector.capabilities.filters.includes(op));
  if (unsupported.length === 0) return;
  throw new CrmlinkError(
    'NOT_AVAILABLE',
    `source "${connector.name}" (${connector.kind}) cannot filter with ${unsupported.join(', ')}: use selectFiltered, which filters those in crmlink`,
    { source: connector.name, operators: unsupported },
  );
}

/**
 * `select` through any connector with any Where: the operators it supports are pushed down, the
 * rest are evaluated here, and `limit` is met by reading on by keyset (the order must end with
 * the key, as every keyset read's does).
 */
export async function selectFiltered(connector: Connector, spec: SelectSpec): Promise<Row[]> {
  const { pushed, residual } = splitWhere(spec.where, connector.capabilities.filters);
  if (!residual) return connector.select(spec);
  if (spec.offset) throw new CrmlinkError('NOT_AVAILABLE', `source "${connector.name}": offset with a filter it cannot push down; page by keyset instead`, { source: connector.name });
  const order = spec.orderBy ?? [];
  const columns = [...new Set([...spec.columns, ...columnsOf(residual), ...order.map((o) => o.column)])];
  const want = spec.limit ?? Number.POSITIVE_INFINITY;
  const batch = Math.max(100, Math.min(5000, Number.isFinite(want) ? want * 2 : 1000));
  const out: Row[] = [];
  let after = spec.after;
  for (;;) {
    const page = await connector.select({ ...spec, columns, where: pushed, after, limit: order.length ? batch : undefined, offset: undefined });
    for (const row of page) {
      if (matchesWhere(row, residual)) out.push(pick(row, spec.columns));
      if (out.length >= want) return out;
    }
    if (!order.length || page.length < batch) return out;
    const last = page[page.length - 1];
    after = order.map((o) => last[o.column]);
  }
}

function columnsOf(where: Where, out: string[] = []): string[] {
  if ('and' in where) where.and.forEach((w) => columnsOf(w, out));
  else if ('or' in where) where.or.forEach((w) => columnsOf(w, out));
  else if ('not' in where) columnsOf(where.not, out);
  else out.push(where.column);
  return out;
}

function pick(row: Row, columns: readonly string[]): Row {
  const out: Row = {};
  for (const c of columns) out[c] = row[c];
  return out;
}

/**
 * A comparator for `orderBy`, NULLs first or last ascending as the source sorts them (and the
 * other way descending, as SQL does).
 */
export function rowComparator(orderBy: readonly OrderBy[], nullsAscending: 'first' | 'last'): (a: Row, b: Row) => number {
  return (a, b) => {
    for (const o of orderBy) {
      const c = compareNullable(a[o.column], b[o.column], nullsAscending);
      if (c !== 0) return o.direction === 'desc' ? -c : c;
    }
    return 0;
  };
}

export function compareNullable(a: unknown, b: unknown, nullsAscending: 'first' | 'last'): number {
  const an = a === null || a === undefined;
  const bn = b === null || b === undefined;
  if (an && bn) return 0;
  if (an) return nullsAscending === 'first' ? -1 : 1;
  if (bn) return nullsAscending === 'first' ? 1 : -1;
  return compareValues(a, b);
}

/** Whether `row` comes strictly after the keyset position `after` in `orderBy`. */
export function isAfter(row: Row, orderBy: readonly OrderBy[], after: readonly unknown[], nullsAscending: 'first' | 'last'): boolean {
  for (let i = 0; i < orderBy.length; i++) {
    const o = orderBy[i];
    let c = compareNullable(row[o.column], after[i], nullsAscending);
    if (o.direction === 'desc') c = -c;
    if (c !== 0) return c > 0;
  }
  return false;
}
