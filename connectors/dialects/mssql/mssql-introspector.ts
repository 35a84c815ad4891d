/** SQL Server introspection through the sys.* catalog views (tables and views, MS_Description comments). */
import type { Knex } from 'knex';
import type { ColumnInfo, TableInfo } from '../../driver.js';
import { rawRows } from '../../dialect-adapter.js';
import { assembleTables, num, str } from '../shared.js';

export function introspectMssqlQueries(knex: Knex, opts: { schema?: string; table?: string }): { tables: Knex.Raw; columns: Knex.Raw; keys: Knex.Raw; foreignKeys: Knex.Raw } {
  const filter = (alias: string) =>
    `${opts.schema ? ` and s.name = ?` : ` and s.name = schema_name()`}${opts.table ? ` and ${alias}.name = ?` : ''}`;
  const args = [...(opts.schema ? [opts.schema] : []), ...(opts.table ? [opts.table] : [])];
  return {
    tables: knex.raw(
      `select s.name as schema_name, o.name as table_name, cast(ep.value as nvarchar(4000)) as comment
         from sys.objects o join sys.schemas s on s.schema_id = o.schema_id
         left join sys.extended_properties ep on ep.class = 1 and ep.major_id = o.object_id and ep.minor_id = 0 and ep.name = 'MS_Description'
        where o.type in ('U', 'V')${filter('o')}
        order by o.name`,
      args,
    ),
    columns: knex.raw(
      `select o.name as table_name, c.name as column_name, ty.name as type_name, c.is_nullable, c.max_length, c.precision, c.scale,
              c.is_identity, dc.definition as default_value, cast(ep.value as nvarchar(4000)) as comment
         from sys.columns c
         join sys.objects o on o.object_id = c.object_id
         join sys.schemas s on s.schema_id = o.schema_id
         join sys.types ty on ty.user_type_id = c.user_type_id
         left join sys.default_constraints dc on dc.object_id = c.default_object_id
         left join sys.extended_properties ep on ep.class = 1 and ep.major_id = c.object_id and ep.minor_id = c.column_id and ep.name = 'MS_Description'
        where o.type in ('U', 'V')${filter('o')}
        order by o.name, c.column_id`,
      args,
    ),
    keys: knex.raw(
      `select o.name as table_name, i.name as index_name, i.is_primary_key, c.name as column_name
         from sys.indexes i
         join sys.objects o on o.object_id = i.object_id
         join sys.schemas s on s.schema_id = o.schema_id
         join sys.index_columns ic on ic.object_id = i.object_id and ic.index_id = i.index_id and ic.is_included_column = 0
         join sys.columns c on c.object_id = ic.object_id and c.column_id = ic.column_id
        where i.is_unique = 1 and i.has_filter = 0${filter('o')}
        order by o.name, i.is_primary_key desc, i.name, ic.key_ordinal`,
      args,
    ),
    foreignKeys: knex.raw(
      `select o.name as table_name, fk.name as fk_name, c.name as column_name, rs.name as ref_schema, ro.name as ref_table, rc.name as ref_column
         from sys.foreign_keys fk
         join sys.foreign_key_columns fkc on fkc.constraint_object_id = fk.object_id
         join sys.objects o on o.object_id = fk.parent_object_id
         join sys.schemas s on s.schema_id = o.schema_id
         join sys.columns c on c.object_id = fkc.parent_object_id and c.column_id = fkc.parent_column_id
         join sys.objects ro on ro.object_id = fk.referenced_object_id
         join sys.schemas rs on rs.schema_id = ro.schema_id
         join sys.columns rc on rc.object_id = fkc.referenced_object_id and rc.column_id = fkc.referenced_column_id
        where 1 = 1${filter('o')}
        order by o.name, fk.name, fkc.constraint_column_id`,
      args,
    ),
  };
}

export async function introspectMssql(knex: Knex, opts: { schema?: string; table?: string }): Promise<TableInfo[]> {
  const q = introspectMssqlQueries(knex, opts);
  const [tables, columns, keys, foreignKeys] = [rawRows(await q.tables), rawRows(await q.columns), rawRows(await q.keys), rawRows(await q.foreignKeys)];
  return assembleTables(
    tables.map((t) => ({ schema: String(t.schema_name), name: String(t.table_name), comment: str(t.comment) })),
    columns.map((c): ColumnInfo & { table: string } => {
      const type = String(c.type_name);
      const bytes = num(c.max_length);
      const chars = bytes === -1 ? null : /^n(var)?char$/i.test(type) && bytes !== null ? bytes / 2 : bytes;
      const textual = /char|binary|text/i.test(type);
      return {
        table: String(c.table_name),
        name: String(c.column_name),
        type,
        nullable: c.is_nullable === true || c.is_nullable === 1,
        maxLength: textual ? chars : null,
        precision: /^(decimal|numeric)$/i.test(type) ? num(c.precision) : null,
        scale: /^(decimal|numeric)$/i.test(type) ? num(c.scale) : null,
        autoIncrement: c.is_identity === true || c.is_identity === 1,
        defaultValue: str(c.default_value),
        comment: str(c.comment),
      };
    }),
    keys.map((k) => ({
      table: String(k.table_name),
      index: String(k.index_name),
      primary: k.is_primary_key === true || k.is_primary_key === 1,
      column: String(k.column_name),
    })),
    foreignKeys.map((f) => ({
      table: String(f.table_name),
      name: String(f.fk_name),
      column: String(f.column_name),
      refSchema: String(f.ref_schema),
      refTable: String(f.ref_table),
      refColumn: String(f.ref_column),
    })),
  );
}
