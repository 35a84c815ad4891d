/**
 * `Where` trees and keyset positions compiled onto a knex builder. Values always travel as bind
 * parameters and identifiers through knex, so legacy names (Chinese, spaces, reserved words) are
 * quoted per dialect.
 */
import type { Knex } from 'knex';
import type { OrderBy, Where } from './driver.js';

/** Turns a value into the parameter bound against `column` (mssql: VarChar for varchar columns). */
export type Binder = (column: string, value: unknown) => unknown;

const identity: Binder = (_c, v) => v;

/** LIKE patterns use '!' as the escape character: it needs no quoting in any dialect's string syntax. */
export function escapeLike(value: string): string {
  return value.replace(/[!%_[]/g, (ch) => `!${ch}`);
}

export function applyWhere(qb: Knex.QueryBuilder, where: Where | undefined, bind: Binder = identity): Knex.QueryBuilder {
  if (!where) return qb;
  return qb.where((b) => {
    compile(b, where, bind);
  });
}

function compile(b: Knex.QueryBuilder, w: Where, bind: Binder): void {
  if ('and' in w) {
    if (w.and.length === 0) return;
    for (const part of w.and) b.where((s) => compile(s, part, bind));
    return;
  }
  if ('or' in w) {
    if (w.or.length === 0) {
      b.whereRaw('1 = 0');
      return;
    }
    for (const part of w.or) b.orWhere((s) => compile(s, part, bind));
    return;
  }
  if ('not' in w) {
    b.whereNot((s) => compile(s, w.not, bind));
    return;
  }
  const { column, op, value } = w;
  switch (op) {
    case 'eq':
      if (value === null || value === undefined) b.whereNull(column);
      else b.where(column, '=', bind(column, value) as Knex.Value);
      return;
    case 'ne':
      if (value === null || value === undefined) b.whereNotNull(column);
      else b.where(column, '<>', bind(column, value) as Knex.Value);
      return;
    case 'in':
    case 'nin': {
      const list = toList(value).map((v) => bind(column, v) as Knex.Value);
      if (op === 'in') {
        if (list.length === 0) b.whereRaw('1 = 0');
        else b.whereIn(column, list);
      } else if (list.length > 0) b.whereNotIn(column, list);
      return;
    }
    case 'lt':
    case 'lte':
    case 'gt':
    case 'gte':
      b.where(column, OPS[op], bind(column, value) as Knex.Value);
      return;
    case 'contains': {
      // Case-insensitive on every engine, whatever the column's collation (docs/filters.md):
      // both sides lowered; PostgreSQL lowers text only, so the column is read as text there.
      const pattern = `%${escapeLike(String(value))}%`;
      const text = b.client.dialect === 'postgresql' ? 'lower(cast(?? as text))' : 'lower(??)';
      b.whereRaw(`${text} like lower(?) escape '!'`, [column, bind(column, pattern) as Knex.Value]);
      return;
    }
    case 'startsWith': {
      const pattern = `${escapeLike(String(value))}%`;
      b.whereRaw(`?? like ? escape '!'`, [column, bind(column, pattern) as Knex.Value]);
      return;
    }
    case 'isNull':
      if (value === false) b.whereNotNull(column);
      else b.whereNull(column);
      return;
  }
}

const OPS = { lt: '<', lte: '<=', gt: '>', gte: '>=' } as const;

function toList(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  if (value === undefined) return [];
  return [value];
}

/** Where `ORDER BY c ASC` puts NULLs: first (SQL Server, MySQL, SQLite) or last (PostgreSQL). */
export type NullOrder = 'first' | 'last';

export type KeysetOptions = { rowValues: boolean; bind?: Binder } & (
  | {
      /** The order columns hold no NULLs (keys, filtered columns): plain comparisons suffice. */
      notNull: true;
      nulls?: NullOrder;
    }
  | { notNull?: false; nulls: NullOrder }
);

/**
 * Keyset condition: rows strictly after `values` in `order`, as the dialect's ORDER BY sorts them.
 *
 * With `notNull` (and no NULL among `values`): a row-value comparison for uniform directions where
 * the dialect has one (it uses the index), otherwise the expanded form (a > x) OR (a = x AND b > y) ...
 *
 * Otherwise NULL-aware, following where the dialect sorts NULLs (`nulls`, for ascending order; a
 * descending column has them at the other end): a column whose NULLs come last adds "OR c IS NULL"
 * after a value; after a NULL only NULL-free rows follow (NULLs first) or nothing does (NULLs
 * last); equality with a NULL position is IS NULL.
 */
export function applyAfter(qb: Knex.QueryBuilder, order: readonly OrderBy[], values: readonly unknown[], opts: KeysetOptions): Knex.QueryBuilder {
  if (values.length !== order.length) throw new TypeError(`keyset position has ${values.length} values for ${order.length} order columns`);
  const bind = opts.bind ?? identity;
  const isNull = (v: unknown) => v === null || v === undefined;
  const bound = order.map((o, i) => (isNull(values[i]) ? null : (bind(o.column, values[i]) as Knex.Value)));
  const gt = (o: OrderBy) => (o.direction === 'desc' ? '<' : '>');

  if (opts.notNull && !values.some(isNull)) {
    if (order.length === 1) return qb.where(order[0].column, gt(order[0]), bound[0] as Knex.Value);
    const uniform = order.every((o) => o.direction === order[0].direction);
    if (uniform && opts.rowValues) {
      const cols = order.map(() => '??').join(', ');
      const params = order.map(() => '?').join(', ');
      return qb.whereRaw(`(${cols}) ${gt(order[0])} (${params})`, [...order.map((o) => o.column), ...(bound as Knex.Value[])]);
    }
    return qb.where((outer) => {
      order.forEach((o, i) => {
        outer.orWhere((inner) => {
          for (let j = 0; j < i; j++) inner.where(order[j].column, '=', bound[j] as Knex.Value);
          inner.where(o.column, gt(o), bound[i] as Knex.Value);
        });
      });
    });
  }

  const nulls = opts.nulls ?? 'first';
  return qb.where((outer) => {
    let branches = 0;
    order.forEach((o, i) => {
      const nullsLast = (nulls === 'last') === (o.direction === 'asc');
      // Nothing sorts after a NULL in a column whose NULLs come last.
      if (isNull(values[i]) && nullsLast) return;
      branches++;
      outer.orWhere((inner) => {
        for (let j = 0; j < i; j++) {
          if (bound[j] === null) inner.whereNull(order[j].column);
          else inner.where(order[j].column, '=', bound[j] as Knex.Value);
        }
        const v = bound[i];
        if (v === null) inner.whereNotNull(o.column);
        else if (nullsLast) inner.where((s) => s.where(o.column, gt(o), v).orWhereNull(o.column));
        else inner.where(o.column, gt(o), v);
      });
    });
    if (branches === 0) outer.whereRaw('1 = 0');
  });
}

/** Rows whose key is one of `keys`: IN for one column, row-value IN or OR-of-ANDs for composite keys. */
export function applyKeyIn(
  qb: Knex.QueryBuilder,
  key: readonly string[],
  keys: readonly (readonly unknown[])[],
  opts: { rowValues: boolean; bind?: Binder },
): Knex.QueryBuilder {
  const bind = opts.bind ?? identity;
  if (keys.length === 0) return qb.whereRaw('1 = 0');
  if (key.length === 1) return qb.whereIn(key[0], keys.map((k) => bind(key[0], k[0]) as Knex.Value));
  if (opts.rowValues) {
    return qb.whereIn(
      [...key],
      keys.map((k) => key.map((c, i) => bind(c, k[i]) as Knex.Value)),
    );
  }
  return qb.where((outer) => {
    for (const k of keys) {
      outer.orWhere((inner) => {
        key.forEach((c, i) => inner.where(c, '=', bind(c, k[i]) as Knex.Value));
      });
    }
  });
}
