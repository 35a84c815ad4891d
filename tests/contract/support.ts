/**
 * Helpers for the connector contract suite: a source config for a test database, per-dialect
 * column types, and the backend-killing used by the dropped-connection test.
 */
import type { Knex } from 'knex';
import type { Dialect, SourceConfig } from '../../config/schema.js';
import type { CaptureSpec, ChangeBatch, Checkpoint, Driver, Row } from '../../connectors/driver.js';
import type { TestDatabase } from '../support/databases.js';
import { rawRows } from '../../connectors/dialect-adapter.js';

export function sourceFor(db: TestDatabase, extra: Partial<SourceConfig> = {}): SourceConfig {
  return {
    kind: 'erp',
    dialect: db.dialect,
    connection: db.dialect === 'sqlite' ? { filename: db.database } : { ...db.connection, database: db.database },
    timezone: 'UTC',
    readOnly: false,
    ...extra,
  };
}

/**
 * Known gaps per dialect, declared rather than silently skipped (Drizzle's skipTests idea).
 * Each entry says why.
 */
export const KNOWN_GAPS: Partial<Record<Dialect, Record<string, string>>> = {
  sqlite: {
    'trigger origin skip': 'SQLite triggers cannot read a session variable: crmlink writes are logged like any other',
    'dropped connection': 'SQLite is in-process: there is no connection to drop',
    'unreachable host': 'SQLite has no host',
    'bad password': 'SQLite has no login',
  },
  postgres: {
    'bad password': 'the test server trusts every local login (no password check to fail)',
  },
};

export function gap(dialect: Dialect, name: string): string | undefined {
  return KNOWN_GAPS[dialect]?.[name];
}

/** Exact-decimal column: SQLite's decimal affinity would store a REAL and lose digits. */
export function decimalColumn(t: Knex.CreateTableBuilder, dialect: Dialect, name: string): void {
  if (dialect === 'sqlite') t.text(name);
  else t.decimal(name, 18, 4);
}

/** A zone-less date-time column. */
export function naiveDateTimeColumn(t: Knex.CreateTableBuilder, dialect: Dialect, name: string): void {
  if (dialect === 'sqlite') t.text(name);
  else if (dialect === 'mssql') t.specificType(name, 'datetime2(3)');
  else t.dateTime(name, { useTz: false, precision: 0 });
}

/** Terminate the server sessions the driver holds on this database while a query runs. */
/** Wait until a session of the driver is running a statement that names `table` (bounded). */
export async function waitForDriverQuery(admin: Knex, db: TestDatabase, table: string, timeoutMs = 20_000): Promise<void> {
  const sql =
    db.dialect === 'postgres'
      ? `select pid from pg_stat_activity where datname = ? and pid <> pg_backend_pid() and state = 'active' and query like ?`
      : `select id from information_schema.processlist where db = ? and id <> connection_id() and info like ?`;
  const deadline = Date.now() + timeoutMs;
  while (rawRows(await admin.raw(sql, [db.database, `%${table}%`])).length === 0) {
    if (Date.now() > deadline) throw new Error(`no statement on ${table} started within ${timeoutMs} ms`);
    await sleep(20);
  }
}

export async function killDriverSessions(admin: Knex, db: TestDatabase): Promise<number> {
  if (db.dialect === 'postgres') {
    const rows = rawRows(
      await admin.raw(
        `select pg_terminate_backend(pid) as killed from pg_stat_activity where datname = ? and pid <> pg_backend_pid() and application_name like 'crmlink:%'`,
        [db.database],
      ),
    );
    return rows.length;
  }
  if (db.dialect === 'mysql') {
    const rows = rawRows(await admin.raw(`select id from information_schema.processlist where db = ? and id <> connection_id() and info like '%slow_v%'`, [db.database]));
    for (const r of rows) await admin.raw(`kill ${Number(r.id)}`);
    return rows.length;
  }
  return 0;
}

/** Collect every row of a keyset read. */
export async function readAll(driver: Driver, opts: Parameters<Driver['readPages']>[0]): Promise<{ rows: Row[]; pages: number }> {
  const rows: Row[] = [];
  let pages = 0;
  for await (const page of driver.readPages(opts)) {
    rows.push(...page);
    pages++;
  }
  return { rows, pages };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Every batch of `driver`'s changes up to hasMore: false, the checkpoint JSON round-tripped between calls as the hub stores it. */
export async function drainChanges(driver: Driver, spec: CaptureSpec, cp: Checkpoint | null, pageSize: number) {
  const batches: ChangeBatch[] = [];
  let checkpoint = cp;
  for (let i = 0; i < 100; i++) {
    const b = await driver.changesSince(spec, checkpoint, { pageSize });
    batches.push(b);
    checkpoint = JSON.parse(JSON.stringify(b.checkpoint)) as Checkpoint;
    if (!b.hasMore) break;
  }
  return { changes: batches.flatMap((b) => b.changes), checkpoint: checkpoint as Checkpoint, batches };
}
