/**
 * PostgreSQL through node-postgres. Values that must stay exact come back as text: numeric and
 * int8 (money and big ids), and `timestamp without time zone` / `date` as the wall-clock strings
 * the database holds. The parsers are set per client (pg's `types` option), so other pg users in
 * the same process keep the global defaults.
 */
import { createRequire } from 'node:module';
import type pg from 'pg';
import type { Knex } from 'knex';
import type { SourceConfig } from '../../../config/schema.js';
import type { DialectCapabilities, TableInfo } from '../../driver.js';
import { DialectAdapterBase, NETWORK_TRANSIENT, NETWORK_UNREACHABLE, errorCodes, qualified, serverKnexConfig, serverLogin, typedRowsSelect } from '../../dialect-adapter.js';
import type { AdapterOptions, ChangelogDdl, ErrorClass, UpdateStatement } from '../../dialect-adapter.js';
import { introspectPostgres } from './postgres-introspector.js';
import { postgresChangelog } from './postgres-changelog.js';

export const POSTGRES_CAPABILITIES: DialectCapabilities = Object.freeze({
  upsert: 'on-conflict',
  maxParameters: 65535,
  returning: true,
  originTag: true,
  rowversion: false,
  changeTracking: false,
  savepoints: true,
  naiveDateTimes: true,
});

/** numeric, int8, timestamp (without time zone), date, time: kept as the server's text. */
export const PG_RAW_TYPES: ReadonlySet<number> = new Set([1700, 20, 1114, 1082, 1083]);

/**
 * pg loads with the first PostgreSQL query (knex requires it then), not when crmlink starts; then
 * once: pg asks for a parser per column of every result, and resolving the module each time (a
 * file lookup under a loader hook) was a visible share of a read's CPU.
 */
let pgModule: typeof pg | undefined;
const requirePg = () => (pgModule ??= createRequire(import.meta.url)('pg') as typeof pg);
const asText = (value: string) => value;

export const pgTypes: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    PG_RAW_TYPES.has(oid) ? asText : requirePg().types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

const TRANSIENT_CODES = new Set(['40001', '40P01', '57014', '08006', '08000', '08003', '08001', '57P01', '57P02', '57P03', '53300', '55P03']);

export class PostgresAdapter extends DialectAdapterBase {
  readonly dialect = 'postgres' as const;
  readonly capabilities = POSTGRES_CAPABILITIES;
  override readonly versionQuery = 'select version() as version';
  // NULLs are larger than every value: last in ascending order, first in descending.
  override readonly nullOrder = 'last' as const;

  knexConfig(source: SourceConfig, opts: AdapterOptions): Knex.Config {
    const schema = source.connection.schema;
    const connection = {
      ...serverLogin(source, { host: '127.0.0.1', port: 5432 }),
      application_name: `crmlink:${opts.name}`.slice(0, 63),
      types: pgTypes,
      ...(source.connection.options ?? {}),
    } as Knex.PgConnectionConfig;
    return serverKnexConfig(source, 'pg', connection, schema ? { searchPath: [schema, 'public'] } : {});
  }

  override defaultSchema(source: SourceConfig): string | undefined {
    return source.connection.schema;
  }

  classifyError(err: unknown): ErrorClass {
    const { code, message } = errorCodes(err);
    if (code === '28P01' || code === '28000') return 'auth';
    if (code === '3D000') return 'database-unknown';
    if (code === '42703') return 'missing-column';
    if (code && NETWORK_UNREACHABLE.has(code)) return 'unreachable';
    if (code && (TRANSIENT_CODES.has(code) || NETWORK_TRANSIENT.has(code))) return 'transient';
    if (code?.startsWith('23') || code?.startsWith('22')) return 'constraint';
    if (/Connection terminated|connection error and is not queryable|Timeout acquiring a connection/i.test(message)) return 'transient';
    return 'other';
  }

  introspect(knex: Knex, opts: { schema?: string; table?: string }): Promise<TableInfo[]> {
    return introspectPostgres(knex, { schema: opts.schema ?? 'public', table: opts.table });
  }

  /** One `UPDATE ... FROM` per chunk (see updateFromStatement). */
  override update(knex: Knex | Knex.Transaction, stmt: UpdateStatement): Knex.Raw[] {
    return [updateFromStatement(knex, stmt)];
  }

  override originStatements(knex: Knex | Knex.Transaction, origin: string): Knex.Raw[] {
    // is_local = true: the tag ends with the transaction.
    return [knex.raw(`select set_config('crmlink.origin', ?, true)`, [origin])];
  }

  override changelog(knex: Knex): ChangelogDdl {
    return postgresChangelog(knex);
  }
}

/**
 * `UPDATE t SET c = s.c FROM (<rows>) s WHERE t.k = s.k` for one chunk. The rows travel as
 * parameters in `SELECT ?, ? UNION ALL SELECT ?, ? ...` behind an empty `SELECT <columns> FROM t`:
 * that first branch gives every parameter its column's type (a bare VALUES list would type them
 * text, and `integer = text` has no operator), so no type names are needed.
 */
export function updateFromStatement(knex: Knex | Knex.Transaction, stmt: UpdateStatement): Knex.Raw {
  const { key, set, rows } = stmt;
  const source = typedRowsSelect({ table: stmt.table, rows }, [...key, ...set]);
  const bindings: Knex.RawBinding[] = [qualified(stmt.table)];
  for (const c of set) bindings.push(c, c);
  bindings.push(...source.bindings);
  for (const k of key) bindings.push(k, k);
  const sql =
    `update ?? as "crmlink_t" set ${set.map(() => '?? = "crmlink_s".??').join(', ')}` +
    ` from ${source.sql} as "crmlink_s"` +
    ` where ${key.map(() => '"crmlink_t".?? = "crmlink_s".??').join(' and ')}`;
  return knex.raw(sql, bindings);
}
