/**
 * The real databases tests run against. Each test file asks for a fresh, uniquely named database
 * so files can run in parallel; it is dropped afterwards.
 *
 * - sqlite: always (a temporary file).
 * - postgres: PG_URL, default postgres://postgres@127.0.0.1:5432/test
 * - mysql (MariaDB/MySQL): MYSQL_URL, default mysql://root@127.0.0.1:3306/test
 * - mssql: only when MSSQL_URL is set, e.g. mssql://sa:Secret1!@127.0.0.1:1433/master
 *
 * An unreachable server skips its tests with a loud notice, except under CI (CI=true), where it is
 * a failure: CI must never pass by testing nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import knexFactory, { type Knex } from 'knex';
import type { ConnectionConfig, Dialect } from '../../config/schema.js';

export const PG_URL = process.env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const MYSQL_URL = process.env.MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';
export const MSSQL_URL = process.env.MSSQL_URL;
export const IN_CI = process.env.CI === 'true' || process.env.CI === '1';

export interface TestDatabase {
  dialect: Dialect;
  /** Connection settings as a crmlink config would hold them. */
  connection: ConnectionConfig;
  /** Database name (sqlite: file path). */
  database: string;
  /** Drop the database. */
  drop(): Promise<void>;
}

/** The dialects to run parameterised suites over; CRMLINK_DIALECTS=sqlite,postgres filters. */
export function testDialects(): Dialect[] {
  const all: Dialect[] = ['sqlite', 'postgres', 'mysql', ...(MSSQL_URL ? (['mssql'] as const) : [])];
  const only = process.env.CRMLINK_DIALECTS?.split(',').map((s) => s.trim());
  return only ? all.filter((d) => only.includes(d)) : all;
}

const reachable = new Map<Dialect, Promise<string | null>>();

/** null when reachable, else the reason. Cached per process. */
export function unreachableReason(dialect: Dialect): Promise<string | null> {
  if (dialect === 'sqlite') return Promise.resolve(null);
  let p = reachable.get(dialect);
  if (!p) {
    p = (async () => {
      const admin = adminKnex(dialect);
      try {
        await admin.raw('select 1');
        return null;
      } catch (err) {
        return err instanceof Error ? err.message : String(err);
      } finally {
        await admin.destroy();
      }
    })();
    reachable.set(dialect, p);
  }
  return p;
}

/**
 * Whether to run a dialect's tests. Outside CI an unreachable server is skipped with a notice on
 * stderr; under CI this throws, failing the run.
 */
export async function requireDialect(dialect: Dialect): Promise<boolean> {
  const reason = await unreachableReason(dialect);
  if (reason === null) return true;
  const msg = `${dialect} is unreachable (${reason})`;
  if (IN_CI) throw new Error(`${msg}: under CI every database must be reachable`);
  process.stderr.write(`\n!!! SKIPPING ${dialect} TESTS: ${msg}\n\n`);
  return false;
}

function adminKnex(dialect: Dialect): Knex {
  switch (dialect) {
    case 'postgres':
      return knexFactory({ client: 'pg', connection: PG_URL, pool: { min: 0, max: 1 } });
    case 'mysql':
      return knexFactory({ client: 'mysql2', connection: MYSQL_URL, pool: { min: 0, max: 1 } });
    case 'mssql': {
      const u = new URL(MSSQL_URL ?? 'mssql://localhost');
      return knexFactory({
        client: 'mssql',
        connection: {
          server: u.hostname,
          port: Number(u.port || 1433),
          user: decodeURIComponent(u.username),
          password: decodeURIComponent(u.password),
          database: u.pathname.slice(1) || 'master',
          options: { encrypt: false, trustServerCertificate: true },
        },
        pool: { min: 0, max: 1 },
      });
    }
    case 'sqlite':
      return knexFactory({ client: 'better-sqlite3', connection: { filename: ':memory:' }, useNullAsDefault: true });
  }
}

/** Create a fresh database for one test file. */
export async function createTestDatabase(dialect: Dialect, label = 't'): Promise<TestDatabase> {
  const name = `crmlink_${label}_${randomBytes(4).toString('hex')}`.toLowerCase();
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'crmlink-'));
    const filename = join(dir, `${name}.db`);
    return { dialect, database: filename, connection: { filename }, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const admin = adminKnex(dialect);
  try {
    if (dialect === 'mysql') await admin.raw('CREATE DATABASE ?? CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci', [name]);
    else await admin.raw('CREATE DATABASE ??', [name]);
  } finally {
    await admin.destroy();
  }
  const base = new URL(dialect === 'postgres' ? PG_URL : dialect === 'mysql' ? MYSQL_URL : (MSSQL_URL as string));
  const connection: ConnectionConfig = {
    host: base.hostname,
    port: Number(base.port) || undefined,
    user: decodeURIComponent(base.username),
    password: base.password ? decodeURIComponent(base.password) : undefined,
    database: name,
    ...(dialect === 'mssql' ? { encrypt: false, trustServerCertificate: true } : {}),
  };
  return {
    dialect,
    database: name,
    connection,
    drop: async () => {
      const a = adminKnex(dialect);
      try {
        if (dialect === 'postgres') await a.raw('DROP DATABASE IF EXISTS ?? WITH (FORCE)', [name]);
        else if (dialect === 'mssql') await a.raw(`ALTER DATABASE ?? SET SINGLE_USER WITH ROLLBACK IMMEDIATE; DROP DATABASE ??`, [name, name]);
        else await a.raw('DROP DATABASE IF EXISTS ??', [name]);
      } finally {
        await a.destroy();
      }
    },
  };
}

/** A plain knex on a test database, for fixtures (DDL, seed rows) outside the code under test. */
export function fixtureKnex(db: TestDatabase): Knex {
  switch (db.dialect) {
    case 'sqlite':
      return knexFactory({ client: 'better-sqlite3', connection: { filename: db.database }, useNullAsDefault: true });
    case 'postgres':
      return knexFactory({ client: 'pg', connection: { ...db.connection, database: db.database } as Knex.PgConnectionConfig, pool: { min: 0, max: 2 } });
    case 'mysql':
      return knexFactory({
        client: 'mysql2',
        connection: { ...(db.connection as Knex.MySql2ConnectionConfig), database: db.database, charset: 'utf8mb4', multipleStatements: true },
        pool: { min: 0, max: 2 },
      });
    case 'mssql':
      return knexFactory({
        client: 'mssql',
        connection: {
          server: db.connection.host as string,
          port: db.connection.port,
          user: db.connection.user,
          password: db.connection.password,
          database: db.database,
          options: { encrypt: false, trustServerCertificate: true },
        },
        pool: { min: 0, max: 2 },
      });
  }
}
