/**
 * SQL Server through knex's `mssql` client (tedious). Upserts are one `MERGE ... WITH (HOLDLOCK)`
 * per chunk, chunked under the 2100-parameter limit; generated keys via OUTPUT; the origin tag is
 * the session context read by the capture trigger.
 *
 * varchar vs nvarchar: knex binds every string as NVarChar, and comparing a varchar column with
 * an nvarchar parameter converts the column (data type precedence) and turns an index seek into a
 * scan. KnexDriver therefore introspects the tables it binds against (`typedParameters`), and
 * strings bound to char/varchar/text columns are wrapped in VarCharParam, which the connection's
 * `mapBinding` hook (a knex mssql option) turns into a tedious VarChar parameter.
 */
import { createRequire } from 'node:module';
import type * as tedious from 'tedious';
import type { Knex } from 'knex';
import type { SourceConfig } from '../../../config/schema.js';
import type { ColumnInfo, DialectCapabilities, Row, TableInfo, TableRef } from '../../driver.js';
import { DialectAdapterBase, NETWORK_TRANSIENT, NETWORK_UNREACHABLE, errorCodes, qualified, serverKnexConfig, serverLogin, tableBuilder } from '../../dialect-adapter.js';
import type { AdapterOptions, ChangelogDdl, ErrorClass, UpdateStatement, UpsertStatement } from '../../dialect-adapter.js';
import { introspectMssql } from './mssql-introspector.js';
import { mssqlChangelog } from './mssql-changelog.js';

export const MSSQL_CAPABILITIES: DialectCapabilities = Object.freeze({
  upsert: 'merge',
  maxParameters: 2100,
  returning: true,
  originTag: true,
  rowversion: true,
  changeTracking: true,
  savepoints: true,
  naiveDateTimes: true,
});

/** A string bound as VarChar (not NVarChar) because its column is char/varchar/text. */
export class VarCharParam {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

// tedious loads with the first SQL Server query (knex requires it then), not when crmlink starts;
// then once, not per bound parameter.
let tediousModule: typeof tedious | undefined;
const requireTedious = () => (tediousModule ??= createRequire(import.meta.url)('tedious') as typeof tedious);

/** knex mssql `options.mapBinding`: VarCharParam → tedious VarChar; anything else keeps knex's default. */
export function mapBinding(binding: unknown): { value: unknown; type: unknown } | undefined {
  if (binding instanceof VarCharParam) return { value: binding.value, type: requireTedious().TYPES.VarChar };
  return undefined;
}

const VARCHAR_TYPES = /^(var)?char$|^text$/i;
const NAIVE_DATETIME = /^(datetime|datetime2|smalldatetime)$/i;

const TRANSIENT_NUMBERS = new Set([1205, 1222, -2, 40613, 40501, 40197, 49918, 4221]);
const CONSTRAINT_NUMBERS = new Set([2627, 2601, 547, 515, 8152, 2628, 245, 8114, 220, 8115, 241]);

export class MssqlAdapter extends DialectAdapterBase {
  readonly dialect = 'mssql' as const;
  readonly capabilities = MSSQL_CAPABILITIES;
  // No row-value comparisons in T-SQL: keyset and key lookups use the expanded OR form.
  override readonly rowValues = false;
  override readonly typedParameters = true;
  override readonly versionQuery = 'select @@version as version';

  knexConfig(source: SourceConfig, _opts: AdapterOptions): Knex.Config {
    const { host, ...login } = serverLogin(source, { host: 'localhost', port: 1433 });
    const c = source.connection;
    return serverKnexConfig(source, 'mssql', {
      server: host,
      ...login,
      options: {
        encrypt: c.encrypt ?? true,
        trustServerCertificate: c.trustServerCertificate ?? false,
        useUTC: true,
        ...(c.instanceName ? { instanceName: c.instanceName } : {}),
        mapBinding,
        ...(c.options ?? {}),
      },
    });
  }

  override defaultSchema(source: SourceConfig): string | undefined {
    return source.connection.schema;
  }

  classifyError(err: unknown): ErrorClass {
    const { code, number, message } = errorCodes(err);
    if (code === 'ELOGIN' || number === 18456) return number === 4060 || /Cannot open database/i.test(message) ? 'database-unknown' : 'auth';
    if (number === 4060 || /Cannot open database/i.test(message)) return 'database-unknown';
    if (number === 207) return 'missing-column';
    if (code && NETWORK_UNREACHABLE.has(code)) return 'unreachable';
    if (code === 'ESOCKET' && /ECONNREFUSED|ENOTFOUND|getaddrinfo/i.test(message)) return 'unreachable';
    if (code === 'ETIMEOUT' || code === 'ESOCKET' || code === 'ECONNCLOSED' || (code && NETWORK_TRANSIENT.has(code))) return 'transient';
    if (number !== undefined && TRANSIENT_NUMBERS.has(number)) return 'transient';
    if (number !== undefined && CONSTRAINT_NUMBERS.has(number)) return 'constraint';
    return 'other';
  }

  introspect(knex: Knex, opts: { schema?: string; table?: string }): Promise<TableInfo[]> {
    return introspectMssql(knex, opts);
  }

  override upsert(knex: Knex | Knex.Transaction, stmt: UpsertStatement): Knex.Raw {
    return mergeStatement(knex, stmt);
  }

  /** One `UPDATE ... FROM ... JOIN (VALUES ...)` per chunk (see updateJoinStatement). */
  override update(knex: Knex | Knex.Transaction, stmt: UpdateStatement): Knex.Raw[] {
    return [updateJoinStatement(knex, stmt)];
  }

  override async insertReturning(trx: Knex.Transaction, table: TableRef, rows: Row[], key: string[]): Promise<Row[]> {
    return (await identityInsertQuery(trx, table, rows, key)) as Row[];
  }

  override originStatements(knex: Knex | Knex.Transaction, origin: string): Knex.Raw[] {
    return [sessionContextStatement(knex, origin)];
  }

  override clearOriginStatements(knex: Knex | Knex.Transaction): Knex.Raw[] {
    // SESSION_CONTEXT outlives the transaction: clear it before the connection is pooled again.
    return [sessionContextStatement(knex, null)];
  }

  override bindValue(value: unknown, column: ColumnInfo | undefined): unknown {
    if (typeof value === 'string' && column && VARCHAR_TYPES.test(column.type)) return new VarCharParam(value);
    return value;
  }

  override readValue(value: unknown, column: ColumnInfo | undefined): unknown {
    // With useUTC, tedious reads a zone-less datetime as if it were UTC: give back the wall clock.
    if (value instanceof Date && column) {
      if (NAIVE_DATETIME.test(column.type)) return value.toISOString().replace('T', ' ').replace('Z', '');
      if (column.type.toLowerCase() === 'date') return value.toISOString().slice(0, 10);
    }
    return value;
  }

  override changelog(knex: Knex): ChangelogDdl {
    return mssqlChangelog(knex);
  }
}

/**
 * MERGE for one chunk. The source rows travel as a VALUES table of parameters; existing keys are
 * updated, new ones inserted, under HOLDLOCK so two writers cannot both insert the same key.
 */
export function mergeStatement(knex: Knex | Knex.Transaction, stmt: UpsertStatement): Knex.Raw {
  const { columns, key, update, rows } = stmt;
  const bindings: Knex.RawBinding[] = [qualified(stmt.table)];
  const rowSql = rows.map((row) => {
    for (const c of columns) bindings.push(row[c] as Knex.RawBinding);
    return `(${columns.map(() => '?').join(', ')})`;
  });
  bindings.push(...columns);
  const on = key.map(() => '[t].?? = [s].??').join(' AND ');
  for (const k of key) bindings.push(k, k);
  let sql = `MERGE INTO ?? WITH (HOLDLOCK) AS [t] USING (VALUES ${rowSql.join(', ')}) AS [s] (${columns.map(() => '??').join(', ')}) ON ${on}`;
  if (update.length > 0) {
    sql += ` WHEN MATCHED THEN UPDATE SET ${update.map(() => '[t].?? = [s].??').join(', ')}`;
    for (const c of update) bindings.push(c, c);
  }
  sql += ` WHEN NOT MATCHED THEN INSERT (${columns.map(() => '??').join(', ')}) VALUES (${columns.map(() => '[s].??').join(', ')});`;
  bindings.push(...columns, ...columns);
  if (stmt.explicitIdentity) {
    // Explicit values for an identity key need IDENTITY_INSERT, on for this batch only.
    sql = `SET IDENTITY_INSERT ?? ON; ${sql} SET IDENTITY_INSERT ?? OFF;`;
    bindings.unshift(qualified(stmt.table));
    bindings.push(qualified(stmt.table));
  }
  return knex.raw(sql, bindings);
}

/**
 * UPDATE for one chunk of existing rows: the rows travel as a VALUES table of parameters (as in
 * the MERGE), joined on the key; only `set` is written, so NOT NULL columns the rows do not carry
 * are never needed (a MERGE's INSERT branch would need them).
 */
export function updateJoinStatement(knex: Knex | Knex.Transaction, stmt: UpdateStatement): Knex.Raw {
  const { key, set, rows } = stmt;
  const columns = [...key, ...set];
  const bindings: Knex.RawBinding[] = [];
  for (const c of set) bindings.push(c, c);
  bindings.push(qualified(stmt.table));
  const rowSql = rows.map((row) => {
    for (const c of columns) bindings.push(row[c] as Knex.RawBinding);
    return `(${columns.map(() => '?').join(', ')})`;
  });
  bindings.push(...columns);
  for (const k of key) bindings.push(k, k);
  const sql =
    `UPDATE [t] SET ${set.map(() => '[t].?? = [s].??').join(', ')} FROM ?? AS [t]` +
    ` INNER JOIN (VALUES ${rowSql.join(', ')}) AS [s] (${columns.map(() => '??').join(', ')})` +
    ` ON ${key.map(() => '[t].?? = [s].??').join(' AND ')};`;
  return knex.raw(sql, bindings);
}

/** INSERT ... OUTPUT inserted.key, through a table variable so it also works on tables with triggers. */
export function identityInsertQuery(knex: Knex | Knex.Transaction, table: TableRef, rows: Row[], key: string[]): Knex.QueryBuilder {
  return tableBuilder(knex, table)
    .insert(rows)
    .returning(key, { includeTriggerModifications: true });
}

export function sessionContextStatement(knex: Knex | Knex.Transaction, origin: string | null): Knex.Raw {
  return knex.raw(`EXEC sp_set_session_context @key = N'crmlink.origin', @value = ?`, [origin]);
}
