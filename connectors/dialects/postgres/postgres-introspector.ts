/** PostgreSQL introspection: pg_catalog for tables, keys and comments, information_schema for columns. */
import type { Knex } from 'knex';
import type { ColumnInfo, TableInfo } from '../../driver.js';
import { rawRows } from '../../dialect-adapter.js';
import { assembleTables, num, str } from '../shared.js';

export async function introspectPostgres(knex: Knex, opts: { schema: string; table?: string }): Promise<TableInfo[]> {
  const only = opts.table ? ' and c.relname = ?' : '';
  const onlyCol = opts.table ? ' and col.table_name = ?' : '';
  const args = opts.table ? [opts.schema, opts.table] : [opts.schema];
  const tables = rawRows(
    await knex.raw(
      `select c.relname as name, obj_description(c.oid, 'pg_class') as comment
         from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where c.relkind in ('r', 'v', 'p', 'm', 'f') and n.nspname = ?${only}
        order by c.relname`,
      args,
    ),
  );
  const columns = rawRows(
    await knex.raw(
      `select col.table_name, col.column_name, col.data_type, col.udt_name, col.is_nullable, col.character_maximum_length,
              col.numeric_precision, col.numeric_scale, col.column_default, col.is_identity,
              col_description(c.oid, col.ordinal_position::int) as comment
         from information_schema.columns col
         join pg_namespace n on n.nspname = col.table_schema
         join pg_class c on c.relnamespace = n.oid and c.relname = col.table_name
        where col.table_schema = ?${onlyCol}
        order by col.table_name, col.ordinal_position`,
      args,
    ),
  );
  const keys = rawRows(
    await knex.raw(
      `select t.relname as table_name, i.relname as index_name, ix.indisprimary as is_primary, a.attname as column_name
         from pg_index ix
         join pg_class t on t.oid = ix.indrelid
         join pg_class i on i.oid = ix.indexrelid
         join pg_namespace n on n.oid = t.relnamespace
         cross join lateral unnest(ix.indkey) with ordinality as k(attnum, ord)
         join pg_attribute a on a.attrelid = t.oid and a.attnum = k.attnum
        where n.nspname = ? and ix.indisunique and ix.indpred is null${opts.table ? ' and t.relname = ?' : ''}
        order by t.relname, ix.indisprimary desc, i.relname, k.ord`,
      args,
    ),
  );
  const foreignKeys = rawRows(
    await knex.raw(
      `select t.relname as table_name, c.conname as name, a.attname as column_name, rn.nspname as ref_schema, rt.relname as ref_table, ra.attname as ref_column
         from pg_constraint c
         join pg_class t on t.oid = c.conrelid
         join pg_namespace n on n.oid = t.relnamespace
         join pg_class rt on rt.oid = c.confrelid
         join pg_namespace rn on rn.oid = rt.relnamespace
         cross join lateral unnest(c.conkey, c.confkey) with ordinality as k(attnum, refnum, ord)
         join pg_attribute a on a.attrelid = t.oid and a.attnum = k.attnum
         join pg_attribute ra on ra.attrelid = rt.oid and ra.attnum = k.refnum
        where c.contype = 'f' and n.nspname = ?${opts.table ? ' and t.relname = ?' : ''}
        order by t.relname, c.conname, k.ord`,
      args,
    ),
  );
  return assembleTables(
    tables.map((t) => ({ schema: opts.schema, name: String(t.name), comment: str(t.comment) })),
    columns.map(
      (c): ColumnInfo & { table: string } => ({
        table: String(c.table_name),
        name: String(c.column_name),
        type: c.data_type === 'USER-DEFINED' || c.data_type === 'ARRAY' ? String(c.udt_name) : String(c.data_type),
        nullable: c.is_nullable === 'YES',
        maxLength: num(c.character_maximum_length),
        precision: num(c.numeric_precision),
        scale: num(c.numeric_scale),
        autoIncrement: c.is_identity === 'YES' || String(c.column_default ?? '').startsWith('nextval('),
        defaultValue: str(c.column_default),
        comment: str(c.comment),
      }),
    ),
    keys.map((k) => ({ table: String(k.table_name), index: String(k.index_name), primary: k.is_primary === true, column: String(k.column_name) })),
    foreignKeys.map((f) => ({
      table: String(f.table_name),
      name: String(f.name),
      column: String(f.column_name),
      refSchema: String(f.ref_schema),
      refTable: String(f.ref_table),
      refColumn: String(f.ref_column),
    })),
  );
}
