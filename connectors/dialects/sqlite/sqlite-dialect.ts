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
import { DialectAdapterBase, errorCodes, quietLog, type AdapterOptions, type ChangelogDdl, type ErrorClass } from '../../dialect-adapter.js';
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

  override changelog(knex: Knex): ChangelogDdl {
    return sqliteChangelog(knex);
  }
}
