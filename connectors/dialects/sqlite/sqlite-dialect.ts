/**
 * SQLite through better-sqlite3: one connection, ON CONFLICT upserts, RETURNING for generated keys.
 * A source file must exist unless the caller asks to create it, so a typo in a path is reported
 * instead of silently creating an empty database.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { Knex } from 'knex';
import type { SourceConfig } from '../../../config/schema.js';
import type { DialectCapabilities, TableInfo } from '../../driver.js';
import { DialectAdapterBase, errorCodes, qualified, quietLog, type AdapterOptions, type ChangelogDdl, type ErrorClass, type UpdateStatement } from '../../dialect-adapter.js';
import { introspectSqlite } from './sqlite-introspector.js';
import { sqliteChangelog } from './sqlite-changelog.js';

export const SQLITE_CAPABILITIES: DialectCapabilities = Object.freeze({
  upsert: 'on-conflict',
  maxParameters: 32766,
  returning: true,
  originTag: false,
  rowversion: false,
  changeTracking: false,
  savepoints: true,
  naiveDateTimes: true,
});

export class SqliteAdapter extends DialectAdapterBase {
  readonly dialect = 'sqlite' as const;
  readonly capabilities = SQLITE_CAPABILITIES;
  // knex writes multi-row inserts as compound SELECTs, which SQLite caps at 500 terms.
  override readonly maxRowsPerStatement = 500;
  override readonly versionQuery = 'select sqlite_version() as version';

  knexConfig(source: SourceConfig, opts: AdapterOptions): Knex.Config {
    const configured = source.connection.filename ?? source.connection.database;
    if (!configured) throw new TypeError(`sources.${opts.name}.connection.filename is required for SQLite`);
    const filename = configured === ':memory:' || isAbsolute(configured) ? configured : resolve(opts.baseDir ?? process.cwd(), configured);
    return {
      client: 'better-sqlite3',
      useNullAsDefault: true,
      log: quietLog,
      // Checked on every new connection: better-sqlite3 would otherwise create a missing file.
      connection: async () => {
        if (filename !== ':memory:' && !existsSync(filename)) {
          if (!opts.create) {
            throw Object.assign(new Error(`SQLite file not found: ${filename}`), { code: 'SQLITE_CANTOPEN' });
          }
          mkdirSync(dirname(filename), { recursive: true });
        }
        return { filename, options: { readonly: source.readOnly && filename !== ':memory:' } };
      },
      pool: { min: 1, max: 1 },
    };
  }

  classifyError(err: unknown): ErrorClass {
    const { code = '', message } = errorCodes(err);
    if (/no such column/i.test(message)) return 'missing-column';
    if (code.startsWith('SQLITE_CANTOPEN')) return 'database-unknown';
    if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED' || code.startsWith('SQLITE_BUSY_')) return 'transient';
    if (code.startsWith('SQLITE_CONSTRAINT') || code === 'SQLITE_MISMATCH' || code === 'SQLITE_TOOBIG') return 'constraint';
    return 'other';
  }

  introspect(knex: Knex, opts: { table?: string }): Promise<TableInfo[]> {
    return introspectSqlite(knex, opts);
  }

  /** One `UPDATE ... FROM` per chunk (see updateFromValues), not one UPDATE per row. */
  override update(knex: Knex | Knex.Transaction, stmt: UpdateStatement): Knex.Raw[] {
    return [updateFromValues(knex, stmt)];
  }

  override changelog(knex: Knex): ChangelogDdl {
    return sqliteChangelog(knex);
  }
}

/**
 * `WITH s(k, c) AS (VALUES (?, ?), ...) UPDATE t SET c = s.c FROM s WHERE t.k = s.k` (SQLite 3.33+)
 * for one chunk. A VALUES list is not held to the 500-term cap of compound SELECTs, and its
 * columns have no affinity, so `t.k = s.k` compares with the column's affinity exactly as
 * `t.k = ?` does.
 */
export function updateFromValues(knex: Knex | Knex.Transaction, stmt: UpdateStatement): Knex.Raw {
  const { key, set, rows } = stmt;
  const columns = [...key, ...set];
  const tuple = `(${columns.map(() => '?').join(', ')})`;
  const bindings: Knex.RawBinding[] = [...columns];
  for (const row of rows) for (const c of columns) bindings.push(row[c] as Knex.RawBinding);
  bindings.push(qualified(stmt.table));
  for (const c of set) bindings.push(c, c);
  for (const k of key) bindings.push(k, k);
  const sql =
    `with "crmlink_s"(${columns.map(() => '??').join(', ')}) as (values ${rows.map(() => tuple).join(', ')})` +
    ` update ?? as "crmlink_t" set ${set.map(() => '?? = "crmlink_s".??').join(', ')} from "crmlink_s"` +
    ` where ${key.map(() => '"crmlink_t".?? = "crmlink_s".??').join(' and ')}`;
  return knex.raw(sql, bindings);
}
