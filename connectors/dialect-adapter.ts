/**
 * What one dialect supplies to the shared KnexDriver: knex config, capabilities, error
 * classification, introspection, the upsert statement and change-log DDL. `DialectAdapterBase`
 * holds defaults, so adding a hook here breaks no dialect (Kysely's dialect-adapter-base idea).
 */
import type { Knex } from 'knex';
import type { Dialect, SourceConfig } from '../config/schema.js';
import type { ColumnInfo, DialectCapabilities, Row, TableInfo, TableRef } from './driver.js';
import type { NullOrder } from './where.js';

/** How a failure should be reacted to, independent of the engine's own codes. */
/** missing-column: the statement names a column (or table) the source does not have (any more). */
export type ErrorClass = 'transient' | 'unreachable' | 'auth' | 'database-unknown' | 'constraint' | 'missing-column' | 'other';

export interface AdapterOptions {
  /** Source name, for messages and application_name. */
  name: string;
  /** Directory relative SQLite paths resolve against. */
  baseDir?: string;
  /** SQLite: create the file when missing (otherwise a missing file is an error). */
  create?: boolean;
}

/** Columns of a table by name, when the dialect needs them to bind or read values. */
export type ColumnTypes = ReadonlyMap<string, ColumnInfo>;

export interface UpsertStatement {
  table: TableRef;
  rows: Row[];
  /** Every row carries exactly these columns. */
  columns: string[];
  key: string[];
  /** Columns set when the key already exists (non-key columns; may be empty). */
  update: string[];
  /** The key is an identity column and rows carry explicit values (mssql IDENTITY_INSERT). */
  explicitIdentity: boolean;
}

/** Existing rows written in place: `UPDATE ... SET <set> WHERE <key> = ...`, never an INSERT. */
export interface UpdateStatement {
  table: TableRef;
  /** Every row carries exactly `key` + `set` (values already bound for the dialect). */
  rows: Row[];
  key: string[];
  /** Non-key columns written (never empty); columns a row does not carry are left alone. */
  set: string[];
}

export interface ChangelogDdl {
  /** Creates crmlink_changelog (in `schema`, when given) when it does not exist. */
  createLog(schema?: string): string[];
  /** Creates the triggers feeding it for one table. */
  createTriggers(table: TableRef, key: string[]): string[];
  dropTriggers(table: TableRef): string[];
}

export const CHANGELOG_TABLE = 'crmlink_changelog';

export interface DialectAdapter {
  readonly dialect: Dialect;
  readonly capabilities: DialectCapabilities;
  /** `(a, b) > (?, ?)` row-value comparisons and multi-column IN. */
  readonly rowValues: boolean;
  /** Where `ORDER BY c ASC` puts NULLs (keyset `after` follows it): PostgreSQL last, the others first. */
  readonly nullOrder: NullOrder;
  /** Rows one multi-row statement may carry beyond the parameter limit (SQLite: compound SELECT terms). */
  readonly maxRowsPerStatement: number;
  /**
   * The upsert statement matches on ANY unique key, not only the given key (MySQL ON DUPLICATE
   * KEY): rows known to be new are then written with a plain INSERT, so a clash on another unique
   * key is an error instead of an update of some other row.
   */
  readonly upsertMatchesAnyUniqueKey: boolean;
  /** Parameters must be typed from the column (mssql varchar vs nvarchar); KnexDriver then introspects tables it binds against. */
  readonly typedParameters: boolean;
  /** The query test() runs; its first column is the server version. */
  readonly versionQuery: string;

  knexConfig(source: SourceConfig, opts: AdapterOptions): Knex.Config;
  defaultSchema(source: SourceConfig): string | undefined;
  classifyError(err: unknown): ErrorClass;
  introspect(knex: Knex, opts: { schema?: string; table?: string }): Promise<TableInfo[]>;
  /** A plain multi-row INSERT. */
  insert(knex: Knex | Knex.Transaction, table: TableRef, rows: Row[], types?: ColumnTypes): Knex.QueryBuilder | Knex.Raw;
  /**
   * The batched insert-or-update statement, for rows the driver found no key for (a row inserted
   * concurrently since is then updated, not duplicated). Existing rows go through `update`.
   */
  upsert(knex: Knex | Knex.Transaction, stmt: UpsertStatement, types?: ColumnTypes): Knex.QueryBuilder | Knex.Raw;
  /**
   * The statements that write `set` onto existing rows matched by key, run in order inside the
   * caller's transaction. Unlike an upsert they never build a row to insert, so NOT NULL columns
   * the rows do not carry are not needed. Default: one UPDATE per row.
   */
  update(knex: Knex | Knex.Transaction, stmt: UpdateStatement, types?: ColumnTypes): (Knex.QueryBuilder | Knex.Raw)[];
  /** Insert rows without their identity key and return the generated keys, in row order. */
  insertReturning(trx: Knex.Transaction, table: TableRef, rows: Row[], key: string[], types?: ColumnTypes): Promise<Row[]>;
  /** Statements that tag the current transaction as crmlink's own write (empty when unsupported). */
  originStatements(knex: Knex | Knex.Transaction, origin: string): Knex.Raw[];
  /** Statements that clear the tag before the connection returns to the pool (session-scoped tags). */
  clearOriginStatements(knex: Knex | Knex.Transaction): Knex.Raw[];
  /** A value as bound against a column (mssql: varchar strings as VarChar). */
  bindValue(value: unknown, column: ColumnInfo | undefined): unknown;
  /** A value as read from a column (mssql: naive datetimes back to wall-clock strings). */
  readValue(value: unknown, column: ColumnInfo | undefined): unknown;
  changelog(knex: Knex): ChangelogDdl | null;
}

export abstract class DialectAdapterBase implements DialectAdapter {
  abstract readonly dialect: Dialect;
  abstract readonly capabilities: DialectCapabilities;
  readonly rowValues: boolean = true;
  readonly nullOrder: NullOrder = 'first';
  readonly maxRowsPerStatement: number = 1000;
  readonly typedParameters: boolean = false;
  readonly upsertMatchesAnyUniqueKey: boolean = false;
  readonly versionQuery: string = 'select 1';

  abstract knexConfig(source: SourceConfig, opts: AdapterOptions): Knex.Config;
  abstract classifyError(err: unknown): ErrorClass;
  abstract introspect(knex: Knex, opts: { schema?: string; table?: string }): Promise<TableInfo[]>;

  defaultSchema(source: SourceConfig): string | undefined {
    return source.connection.schema;
  }

  insert(knex: Knex | Knex.Transaction, table: TableRef, rows: Row[]): Knex.QueryBuilder | Knex.Raw {
    return tableBuilder(knex, table).insert(rows);
  }

  upsert(knex: Knex | Knex.Transaction, stmt: UpsertStatement): Knex.QueryBuilder | Knex.Raw {
    // ON CONFLICT / ON DUPLICATE KEY through knex; a key-only row still needs a SET clause.
    const update = stmt.update.length > 0 ? stmt.update : [stmt.key[0]];
    return tableBuilder(knex, stmt.table).insert(stmt.rows).onConflict(stmt.key).merge(update);
  }

  update(knex: Knex | Knex.Transaction, stmt: UpdateStatement): (Knex.QueryBuilder | Knex.Raw)[] {
    return stmt.rows.map((row) => {
      const qb = tableBuilder(knex, stmt.table);
      for (const k of stmt.key) qb.where(k, '=', row[k] as Knex.Value);
      const values: Row = {};
      for (const c of stmt.set) values[c] = row[c];
      return qb.update(values);
    });
  }

  async insertReturning(trx: Knex.Transaction, table: TableRef, rows: Row[], key: string[]): Promise<Row[]> {
    const out = (await tableBuilder(trx, table).insert(rows).returning(key)) as Row[];
    return out;
  }

  originStatements(_knex: Knex | Knex.Transaction, _origin: string): Knex.Raw[] {
    return [];
  }

  clearOriginStatements(_knex: Knex | Knex.Transaction): Knex.Raw[] {
    return [];
  }

  bindValue(value: unknown, _column: ColumnInfo | undefined): unknown {
    return value;
  }

  readValue(value: unknown, _column: ColumnInfo | undefined): unknown {
    return value;
  }

  changelog(_knex: Knex): ChangelogDdl | null {
    return null;
  }
}

/** `knex(table)` with the schema applied, identifiers quoted by knex. */
export function tableBuilder(knex: Knex | Knex.Transaction, ref: TableRef): Knex.QueryBuilder {
  return ref.schema ? knex.withSchema(ref.schema).from(ref.table) : knex.from(ref.table);
}

/** `schema.table` for `??` placeholders (knex splits on the dot and quotes each part). */
export function qualified(ref: TableRef): string {
  return ref.schema ? `${ref.schema}.${ref.table}` : ref.table;
}

/** The error's own code/errno/number, whichever the driver sets. */
export function errorCodes(err: unknown): { code?: string; errno?: number; number?: number; message: string } {
  if (typeof err !== 'object' || err === null) return { message: String(err) };
  const e = err as { code?: unknown; errno?: unknown; number?: unknown; message?: unknown };
  return {
    code: typeof e.code === 'string' ? e.code : undefined,
    errno: typeof e.errno === 'number' ? e.errno : undefined,
    number: typeof e.number === 'number' ? e.number : undefined,
    message: typeof e.message === 'string' ? e.message : String(err),
  };
}

/** Network failures every driver reports through Node's errno codes. */
export const NETWORK_UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
export const NETWORK_TRANSIENT = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);

/** Knex logs acquire errors to the console by default; crmlink reports them as CrmlinkErrors instead. */
export const quietLog: Knex.Config['log'] = {
  warn: () => undefined,
  error: () => undefined,
  deprecate: () => undefined,
  debug: () => undefined,
};

export function poolConfig(source: SourceConfig): Knex.PoolConfig {
  return { min: source.pool?.min ?? 0, max: source.pool?.max ?? 10 };
}

/** host/port/database/user/password from the config or parsed from `url`. */
export function connectionParts(source: SourceConfig): {
  host?: string;
  port?: number;
  database?: string;
  user?: string;
  password?: string;
} {
  const c = source.connection;
  const parts: { host?: string; port?: number; database?: string; user?: string; password?: string } = {};
  if (c.url) {
    const u = new URL(c.url);
    if (u.hostname) parts.host = u.hostname;
    if (u.port) parts.port = Number(u.port);
    if (u.pathname.length > 1) parts.database = decodeURIComponent(u.pathname.slice(1));
    if (u.username) parts.user = decodeURIComponent(u.username);
    if (u.password) parts.password = decodeURIComponent(u.password);
  }
  if (c.host !== undefined) parts.host = c.host;
  if (c.port !== undefined) parts.port = c.port;
  if (c.database !== undefined) parts.database = c.database;
  if (c.user !== undefined) parts.user = c.user;
  if (c.password !== undefined) parts.password = c.password;
  return parts;
}

/**
 * The knex config every server dialect shares (quiet log, 15 s to acquire a connection, the
 * source's pool) around the dialect's own client and connection options.
 */
export function serverKnexConfig(source: SourceConfig, client: string, connection: object, extra: Partial<Knex.Config> = {}): Knex.Config {
  return { client, log: quietLog, acquireConnectionTimeout: 15_000, connection: connection as Knex.StaticConnectionConfig, ...extra, pool: poolConfig(source) };
}

/** The login of a server source (connectionParts), with the dialect's default host and port. */
export function serverLogin(source: SourceConfig, defaults: { host: string; port: number }): { host: string; port: number; database?: string; user?: string; password?: string } {
  const p = connectionParts(source);
  return { host: p.host ?? defaults.host, port: p.port ?? defaults.port, database: p.database, user: p.user, password: p.password };
}

/**
 * Rows as a derived table whose columns carry the target table's types: `(select <columns> from
 * <table> where 1 = 0 union all select ?, ? union all ...)`. The empty first branch names the
 * columns and types every parameter by its column (and, in MySQL, its collation), so no type names
 * are needed. The bindings are the column names, the table, then each row's values.
 */
export function typedRowsSelect(stmt: { table: TableRef; rows: Row[] }, columns: string[]): { sql: string; bindings: Knex.RawBinding[] } {
  const one = `select ${columns.map(() => '?').join(', ')}`;
  const bindings: Knex.RawBinding[] = [...columns, qualified(stmt.table)];
  for (const row of stmt.rows) for (const c of columns) bindings.push(row[c] as Knex.RawBinding);
  return { sql: `(select ${columns.map(() => '??').join(', ')} from ?? where 1 = 0${stmt.rows.map(() => ` union all ${one}`).join('')})`, bindings };
}

/** Rows of a knex.raw result, whatever the driver's shape (pg {rows}, mysql [rows, fields], sqlite/mssql rows). */
export function rawRows(result: unknown): Row[] {
  if (Array.isArray(result)) {
    if (result.length === 2 && Array.isArray(result[0]) && (Array.isArray(result[1]) || result[1] === undefined)) return result[0] as Row[];
    return result as Row[];
  }
  if (result && typeof result === 'object' && Array.isArray((result as { rows?: unknown }).rows)) return (result as { rows: Row[] }).rows;
  return [];
}

