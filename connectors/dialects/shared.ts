/**
 * Small pieces several dialects share: type-name parsing for introspection and trigger naming.
 */
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { CHANGELOG_TABLE, qualified } from '../dialect-adapter.js';
import type { ColumnInfo, TableInfo, TableRef } from '../driver.js';
import type { ForeignKeyInfo } from '../types.js';

/** "decimal(18,4)" → precision 18, scale 4; "varchar(50)" → maxLength 50. */
export function parseTypeName(type: string): { base: string; maxLength: number | null; precision: number | null; scale: number | null } {
  const m = /^([^(]+)(?:\((\d+)(?:\s*,\s*(\d+))?\))?/.exec(type.trim());
  const base = (m?.[1] ?? type).trim().toLowerCase();
  const a = m?.[2] !== undefined ? Number(m[2]) : null;
  const b = m?.[3] !== undefined ? Number(m[3]) : null;
  if (/char|text|clob|binary/.test(base)) return { base, maxLength: a, precision: null, scale: null };
  if (/dec|num/.test(base)) return { base, maxLength: null, precision: a, scale: b ?? (a !== null ? 0 : null) };
  return { base, maxLength: null, precision: null, scale: null };
}

/**
 * A trigger/function name derived from the table: readable prefix plus a short hash, so Chinese
 * or long table names still give a valid name under every dialect's length limit (MySQL: 64).
 */
export function captureObjectName(ref: TableRef, suffix: string): string {
  const id = ref.schema ? `${ref.schema}.${ref.table}` : ref.table;
  const slug = ref.table.replace(/[^A-Za-z0-9]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 24).toLowerCase();
  const hash = createHash('sha1').update(id).digest('hex').slice(0, 8);
  return `crmlink_${slug ? `${slug}_` : ''}${hash}_${suffix}`;
}

/** Group flat introspection rows into TableInfo objects in table order. */
/** One column of a foreign key, as the catalogs list them (in key order). */
export interface ForeignKeyColumn {
  table: string;
  /** Constraint name (grouping key); `#<id>` where the engine names none (SQLite). */
  name: string;
  column: string;
  refSchema: string | null;
  refTable: string;
  refColumn: string;
}

export function assembleTables(
  tables: { schema: string | null; name: string; comment: string | null }[],
  columns: (ColumnInfo & { table: string })[],
  keys: { table: string; index: string; primary: boolean; column: string }[],
  foreignKeys: ForeignKeyColumn[] = [],
): TableInfo[] {
  const byName = new Map<string, TableInfo>();
  for (const t of tables) byName.set(t.name, { schema: t.schema, name: t.name, columns: [], primaryKey: [], uniqueKeys: [], foreignKeys: [], comment: t.comment });
  for (const c of columns) {
    const t = byName.get(c.table);
    if (!t) continue;
    const { table: _table, ...col } = c;
    t.columns.push(col);
  }
  const indexes = new Map<string, { table: string; primary: boolean; columns: string[] }>();
  for (const k of keys) {
    const id = `${k.table}\u0000${k.index}`;
    let ix = indexes.get(id);
    if (!ix) indexes.set(id, (ix = { table: k.table, primary: k.primary, columns: [] }));
    ix.columns.push(k.column);
  }
  for (const ix of indexes.values()) {
    const t = byName.get(ix.table);
    if (!t) continue;
    if (ix.primary) t.primaryKey = ix.columns;
    else t.uniqueKeys.push(ix.columns);
  }
  const fks = new Map<string, { table: string; fk: ForeignKeyInfo }>();
  for (const k of foreignKeys) {
    const id = `${k.table}\u0000${k.name}`;
    let entry = fks.get(id);
    if (!entry) {
      entry = { table: k.table, fk: { name: k.name.startsWith('#') ? null : k.name, columns: [], referencedSchema: k.refSchema, referencedTable: k.refTable, referencedColumns: [] } };
      fks.set(id, entry);
    }
    entry.fk.columns.push(k.column);
    entry.fk.referencedColumns.push(k.refColumn);
  }
  for (const { table, fk } of fks.values()) byName.get(table)?.foreignKeys?.push(fk);
  return [...byName.values()];
}

export function str(v: unknown): string | null {
  return v === null || v === undefined ? null : String(v);
}

export function num(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

/** Writes a statement with its bindings inlined: capture DDL is text, to run or to print for a DBA. */
export function inlineSql(knex: Knex): (text: string, bindings?: readonly Knex.RawBinding[]) => string {
  return (text, bindings = []) => knex.raw(text, bindings).toQuery();
}

/** crmlink's change log table in `schema` (the connection's default schema when none), quoted for the dialect by `??`. */
export function changelogIn(schema?: string): string {
  return qualified({ table: CHANGELOG_TABLE, schema });
}
