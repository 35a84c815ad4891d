/**
 * MySQL / MariaDB through mysql2. Decimals and big integers come back as strings, DATETIME and
 * DATE as the wall-clock text the server holds (dateStrings), so nothing passes through a JS float
 * or the process's time zone.
 *
 * Origin tag: a user variable (@crmlink_origin) read by the capture triggers. It is session
 * scoped, so it is cleared before the transaction ends and the connection goes back to the pool.
 */
import type { Knex } from 'knex';
import type { SourceConfig } from '../../../config/schema.js';
import type { DialectCapabilities, Row, TableInfo, TableRef } from '../../driver.js';
import { DialectAdapterBase, NETWORK_TRANSIENT, NETWORK_UNREACHABLE, errorCodes, qualified, serverKnexConfig, serverLogin, tableBuilder, typedRowsSelect } from '../../dialect-adapter.js';
import type { AdapterOptions, ChangelogDdl, ErrorClass, UpdateStatement } from '../../dialect-adapter.js';
import { introspectMysql } from './mysql-introspector.js';
import { mysqlChangelog } from './mysql-changelog.js';

export const MYSQL_CAPABILITIES: DialectCapabilities = Object.freeze({
  upsert: 'on-duplicate-key',
  maxParameters: 65535,
  // No RETURNING in MySQL: generated keys come from insertId, one row per statement.
  returning: false,
  originTag: true,
  rowversion: false,
  changeTracking: false,
  savepoints: true,
  naiveDateTimes: true,
});

const AUTH = new Set([1045, 1044, 1698]);
// 1969: MariaDB max_statement_time exceeded; 3024: MySQL max_execution_time exceeded.
const TRANSIENT_ERRNO = new Set([1213, 1205, 1927, 1969, 2013, 2006, 1040, 1053, 3024, 1317]);
const TRANSIENT_CODE = new Set(['ER_LOCK_DEADLOCK', 'ER_STATEMENT_TIMEOUT', 'ER_LOCK_WAIT_TIMEOUT', 'PROTOCOL_CONNECTION_LOST', 'ER_CONNECTION_KILLED', 'ER_QUERY_INTERRUPTED', 'PROTOCOL_SEQUENCE_TIMEOUT']);
const CONSTRAINT_ERRNO = new Set([1062, 1048, 1452, 1451, 3819, 4025, 1406, 1264, 1366, 1292, 1265, 1364, 1216, 1217, 1586]);

export class MysqlAdapter extends DialectAdapterBase {
  readonly dialect = 'mysql' as const;
  readonly capabilities = MYSQL_CAPABILITIES;
  override readonly versionQuery = 'select version() as version';
  override readonly upsertMatchesAnyUniqueKey = true;

  knexConfig(source: SourceConfig, _opts: AdapterOptions): Knex.Config {
    const connection: Knex.MySql2ConnectionConfig = {
      ...serverLogin(source, { host: '127.0.0.1', port: 3306 }),
      charset: 'utf8mb4',
      dateStrings: true,
      supportBigNumbers: true,
      bigNumberStrings: true,
      decimalNumbers: false,
      ...(source.connection.options ?? {}),
    };
    return serverKnexConfig(source, 'mysql2', connection);
  }

  classifyError(err: unknown): ErrorClass {
    const { code, errno, message } = errorCodes(err);
    if ((errno !== undefined && AUTH.has(errno)) || code === 'ER_ACCESS_DENIED_ERROR') return 'auth';
    if (errno === 1049 || code === 'ER_BAD_DB_ERROR') return 'database-unknown';
    if (errno === 1054 || code === 'ER_BAD_FIELD_ERROR') return 'missing-column';
    if (code && NETWORK_UNREACHABLE.has(code)) return 'unreachable';
    if ((errno !== undefined && TRANSIENT_ERRNO.has(errno)) || (code && (TRANSIENT_CODE.has(code) || NETWORK_TRANSIENT.has(code)))) return 'transient';
    if (errno !== undefined && CONSTRAINT_ERRNO.has(errno)) return 'constraint';
    if (/Connection lost|Can't add new command when connection is in closed state|Timeout acquiring a connection/i.test(message)) return 'transient';
    return 'other';
  }

  introspect(knex: Knex, opts: { schema?: string; table?: string }): Promise<TableInfo[]> {
    return introspectMysql(knex, opts);
  }

  override async insertReturning(trx: Knex.Transaction, table: TableRef, rows: Row[], key: string[]): Promise<Row[]> {
    const out: Row[] = [];
    for (const row of rows) {
      const [id] = (await tableBuilder(trx, table).insert(row)) as unknown as [number | string];
      out.push({ [key[0]]: id });
    }
    return out;
  }

  /** One joined UPDATE per chunk (see updateJoinStatement), not one UPDATE per row. */
  override update(knex: Knex | Knex.Transaction, stmt: UpdateStatement): Knex.Raw[] {
    return [updateJoinStatement(knex, stmt)];
  }

  override originStatements(knex: Knex | Knex.Transaction, origin: string): Knex.Raw[] {
    return [knex.raw('set @crmlink_origin = ?', [origin])];
  }

  override clearOriginStatements(knex: Knex | Knex.Transaction): Knex.Raw[] {
    return [knex.raw('set @crmlink_origin = null')];
  }

  override changelog(knex: Knex): ChangelogDdl {
    return mysqlChangelog(knex);
  }
}

/**
 * `UPDATE t JOIN (<rows>) s ON t.k = s.k SET t.c = s.c` for one chunk. The rows travel as
 * parameters in `SELECT ?, ? UNION ALL ...` behind an empty `SELECT <columns> FROM t`: that first
 * branch names the columns and gives them the table's types and collations, so comparing a key
 * never mixes collations. (The UNION is materialised, so reading the target table is allowed.)
 * `INSERT ... ON DUPLICATE KEY UPDATE` is not used: it would build the whole row first and fail on
 * NOT NULL columns the row does not carry, and it would insert a row deleted meanwhile.
 */
export function updateJoinStatement(knex: Knex | Knex.Transaction, stmt: UpdateStatement): Knex.Raw {
  const { key, set, rows } = stmt;
  const source = typedRowsSelect({ table: stmt.table, rows }, [...key, ...set]);
  const bindings: Knex.RawBinding[] = [qualified(stmt.table), ...source.bindings];
  for (const k of key) bindings.push(k, k);
  for (const c of set) bindings.push(c, c);
  const sql =
    `update ?? as crmlink_t join ${source.sql} as crmlink_s` +
    ` on ${key.map(() => 'crmlink_t.?? = crmlink_s.??').join(' and ')}` +
    ` set ${set.map(() => 'crmlink_t.?? = crmlink_s.??').join(', ')}`;
  return knex.raw(sql, bindings);
}
