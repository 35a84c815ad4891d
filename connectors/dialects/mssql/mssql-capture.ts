/**
 * SQL for SQL Server's own change capture: rowversion columns bounded by MIN_ACTIVE_ROWVERSION()
 * (rows of still-open transactions are not skipped past), and Change Tracking's CHANGETABLE.
 * The strategies in connectors/capture/ run these.
 */
import type { Knex } from 'knex';
import type { OrderBy, TableRef, Where } from '../../driver.js';
import { qualified, tableBuilder } from '../../dialect-adapter.js';
import { applyAfter, applyWhere, type Binder } from '../../where.js';

/**
 * Rows whose rowversion is above `after` (hex, e.g. 0x00000000000007D1) and below the lowest
 * rowversion of any open transaction, oldest first.
 */
export function rowversionQuery(
  knex: Knex,
  opts: TableRef & { columns: string[]; column: string; after: string | null; where?: Where; limit: number; bind?: Binder },
): Knex.QueryBuilder {
  const qb = tableBuilder(knex, opts)
    .select(opts.columns.length > 0 ? opts.columns : ['*'])
    .select(knex.raw('CONVERT(varchar(18), CAST(?? AS binary(8)), 1) AS [crmlink_rv]', [opts.column]))
    .whereRaw('?? < MIN_ACTIVE_ROWVERSION()', [opts.column]);
  if (opts.after) qb.whereRaw('?? > CONVERT(binary(8), ?, 1)', [opts.column, opts.after]);
  applyWhere(qb, opts.where, opts.bind);
  return qb.orderBy(opts.column, 'asc').limit(opts.limit);
}

export function changeTrackingVersionQuery(knex: Knex, table: TableRef): Knex.Raw {
  return knex.raw(
    'SELECT CHANGE_TRACKING_CURRENT_VERSION() AS [current_version], CHANGE_TRACKING_MIN_VALID_VERSION(OBJECT_ID(?)) AS [min_valid_version]',
    [qualified(table)],
  );
}

/**
 * Net changes since `since` up to `until` (both Change Tracking versions), joined back to the
 * current rows (a NULL row side means the row is gone), keyset-paged by (version, key).
 */
export function changeTableQuery(
  knex: Knex,
  opts: TableRef & { key: string[]; columns: string[]; since: number; until: number; after: unknown[] | null; limit: number; bind?: Binder },
): Knex.QueryBuilder {
  const cols = opts.columns.filter((c) => !opts.key.includes(c));
  const qb = knex
    .select(knex.raw('[ct].[SYS_CHANGE_VERSION] AS [crmlink_version]'), knex.raw('[ct].[SYS_CHANGE_OPERATION] AS [crmlink_op]'))
    .select(opts.key.map((k) => `ct.${k}`))
    .select(knex.raw('CASE WHEN ?? IS NULL THEN 0 ELSE 1 END AS [crmlink_exists]', [`t.${opts.key[0]}`]))
    .select(cols.map((c) => `t.${c}`))
    .from(knex.raw('CHANGETABLE(CHANGES ??, ?) AS [ct]', [qualified(opts), opts.since]))
    .leftJoin(`${qualified(opts)} as t`, (j) => {
      for (const k of opts.key) j.on(`t.${k}`, '=', `ct.${k}`);
    })
    .where('ct.SYS_CHANGE_VERSION', '<=', opts.until);
  const order: OrderBy[] = [{ column: 'ct.SYS_CHANGE_VERSION', direction: 'asc' }, ...opts.key.map((k) => ({ column: `ct.${k}`, direction: 'asc' as const }))];
  if (opts.after) applyAfter(qb, order, opts.after, { rowValues: false, bind: opts.bind, notNull: true });
  for (const o of order) qb.orderBy(o.column, o.direction);
  return qb.limit(opts.limit);
}
