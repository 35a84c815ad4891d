/** MySQL / MariaDB introspection through information_schema (the connection's database unless a schema is given). */
import type { Knex } from 'knex';
import type { ColumnInfo, TableInfo } from '../../driver.js';
import { rawRows } from '../../dialect-adapter.js';
import { assembleTables, num, str } from '../shared.js';

export async function introspectMysql(knex: Knex, opts: { schema?: string; table?: string }): Promise<TableInfo[]> {
  const schemaExpr = opts.schema ? '?' : 'database()';
  const base = opts.schema ? [opts.schema] : [];
  const args = opts.table ? [...base, opts.table] : base;
  const onlyTable = opts.table ? ' and table_name = ?' : '';
  const tables = rawRows(
    await knex.raw(
      `select table_schema as table_schema, table_name as table_name, table_comment as table_comment
         from information_schema.tables where table_schema = ${schemaExpr}${onlyTable} order by table_name`,
      args,
    ),
  );
  const columns = rawRows(
    await knex.raw(
      `select table_name as table_name, column_name as column_name, data_type as data_type, is_nullable as is_nullable,
              character_maximum_length as max_length, numeric_precision as numeric_precision, numeric_scale as numeric_scale,
              column_default as column_default, extra as extra, column_comment as column_comment
         from information_schema.columns where table_schema = ${schemaExpr}${onlyTable}
        order by table_name, ordinal_position`,
      args,
    ),
  );
  const keys = rawRows(
    await knex.raw(
      `select table_name as table_name, index_name as index_name, column_name as column_name
         from information_schema.statistics where table_schema = ${schemaExpr}${onlyTable} and non_unique = 0
        order by table_name, index_name = 'PRIMARY' desc, index_name, seq_in_index`,
      args,
    ),
  );
  const foreignKeys = rawRows(
    await knex.raw(
      `select table_name as table_name, constraint_name as constraint_name, column_name as column_name,
              referenced_table_schema as ref_schema, referenced_table_name as ref_table, referenced_column_name as ref_column
         from information_schema.key_column_usage
        where table_schema = ${schemaExpr}${onlyTable} and referenced_table_name is not null
        order by table_name, constraint_name, ordinal_position`,
      args,
    ),
  );
  return assembleTables(
    tables.map((t) => ({ schema: String(t.table_schema), name: String(t.table_name), comment: str(t.table_comment) || null })),
    columns.map(
      (c): ColumnInfo & { table: string } => ({
        table: String(c.table_name),
        name: String(c.column_name),
        type: String(c.data_type),
        nullable: c.is_nullable === 'YES',
        maxLength: num(c.max_length),
        precision: num(c.numeric_precision),
        scale: num(c.numeric_scale),
        autoIncrement: /auto_increment/i.test(String(c.extra ?? '')),
        // MariaDB reports a missing default as the text NULL.
        defaultValue: c.column_default === 'NULL' ? null : str(c.column_default),
        comment: str(c.column_comment) || null,
      }),
    ),
    keys.map((k) => ({ table: String(k.table_name), index: String(k.index_name), primary: k.index_name === 'PRIMARY', column: String(k.column_name) })),
    foreignKeys.map((f) => ({
      table: String(f.table_name),
      name: String(f.constraint_name),
      column: String(f.column_name),
      refSchema: str(f.ref_schema),
      refTable: String(f.ref_table),
      refColumn: String(f.ref_column),
    })),
  );
}
