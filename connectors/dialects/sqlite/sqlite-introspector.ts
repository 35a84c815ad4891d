/** SQLite introspection through sqlite_master and the pragma table-valued functions. */
import type { Knex } from 'knex';
import type { ColumnInfo, TableInfo } from '../../driver.js';
import { assembleTables, parseTypeName, str, type ForeignKeyColumn } from '../shared.js';

interface PragmaColumn {
  name: string;
  type: string;
  notnull: number;
  dflt_value: string | null;
  pk: number;
  hidden?: number;
}

export async function introspectSqlite(knex: Knex, opts: { table?: string }): Promise<TableInfo[]> {
  const q = knex('sqlite_master')
    .select('name', 'sql', 'type')
    .whereIn('type', ['table', 'view'])
    .whereNot('name', 'like', 'sqlite_%')
    .orderBy('name');
  if (opts.table) q.where('name', opts.table);
  const tables = (await q) as { name: string; sql: string | null }[];
  const columns: (ColumnInfo & { table: string })[] = [];
  const keys: { table: string; index: string; primary: boolean; column: string }[] = [];
  const foreignKeys: ForeignKeyColumn[] = [];
  for (const t of tables) {
    const cols = (await knex.raw('select * from pragma_table_xinfo(?)', [t.name])) as PragmaColumn[];
    const pk = cols.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk);
    const rowidAlias = pk.length === 1 && pk[0].type.toUpperCase() === 'INTEGER';
    for (const c of cols) {
      if (c.hidden === 1) continue;
      const parsed = parseTypeName(c.type || 'blob');
      columns.push({
        table: t.name,
        name: c.name,
        type: parsed.base || 'blob',
        // A primary key column is NOT NULL in effect even when undeclared (rowid alias).
        nullable: c.notnull === 0 && c.pk === 0,
        maxLength: parsed.maxLength,
        precision: parsed.precision,
        scale: parsed.scale,
        autoIncrement: rowidAlias && c.pk === 1,
        defaultValue: str(c.dflt_value),
        comment: null,
      });
    }
    for (const c of pk) keys.push({ table: t.name, index: '#pk', primary: true, column: c.name });
    const fks = (await knex.raw('select * from pragma_foreign_key_list(?) order by id, seq', [t.name])) as { id: number; table: string; from: string; to: string | null }[];
    for (const fk of fks) {
      // REFERENCES parent without columns means the parent's primary key.
      const to = fk.to ?? (await parentKey(knex, fk.table))[fks.filter((f) => f.id === fk.id).indexOf(fk)] ?? '';
      foreignKeys.push({ table: t.name, name: `#${fk.id}`, column: fk.from, refSchema: null, refTable: fk.table, refColumn: to });
    }
    const indexes = (await knex.raw('select * from pragma_index_list(?)', [t.name])) as { name: string; unique: number; origin: string; partial: number }[];
    for (const ix of indexes) {
      if (!ix.unique || ix.origin === 'pk' || ix.partial) continue;
      const parts = (await knex.raw('select * from pragma_index_info(?) order by seqno', [ix.name])) as { name: string | null }[];
      for (const p of parts) if (p.name) keys.push({ table: t.name, index: ix.name, primary: false, column: p.name });
    }
  }
  return assembleTables(
    tables.map((t) => ({ schema: null, name: t.name, comment: null })),
    columns,
    keys,
    foreignKeys,
  );
}

async function parentKey(knex: Knex, table: string): Promise<string[]> {
  const cols = (await knex.raw('select * from pragma_table_info(?)', [table])) as PragmaColumn[];
  return cols.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) => c.name);
}
