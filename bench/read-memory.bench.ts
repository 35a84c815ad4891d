/**
 * Memory stays bounded when reading a big table: bulk-load N rows (default 1,000,000) into SQLite
 * (and PostgreSQL when reachable), read them all through KnexDriver.readPages, and compare with a
 * raw baseline. Each measurement runs in its own child process so peak RSS (getrusage maxRSS) is
 * that reader's alone. Prints JSON.
 *
 *   node --import tsx bench/read-memory.bench.ts [rows]
 *
 * Baselines: SQLite — better-sqlite3 `iterate()` (a true row stream); PostgreSQL — knex select of
 * the whole table (knex streams on pg only with pg-query-stream, which is not installed), i.e.
 * what reading without paging costs.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import knexFactory, { type Knex } from 'knex';
import { createDriver } from '../connectors/registry.js';
import type { SourceConfig } from '../config/schema.js';

const PG_URL = process.env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const SELF = fileURLToPath(import.meta.url);
const COLUMNS = ['id', 'code', 'name', 'amount', 'modified_at'];

interface Measure {
  reader: string;
  rows: number;
  seconds: number;
  rowsPerSecond: number;
  rssBeforeMb: number;
  peakRssMb: number;
  peakGrowthMb: number;
}

const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

async function measure(reader: string, read: (count: (n: number) => void) => Promise<void>): Promise<Measure> {
  const before = process.resourceUsage().maxRSS * 1024;
  const rssBefore = process.memoryUsage().rss;
  let rows = 0;
  const started = performance.now();
  await read((n) => (rows += n));
  const seconds = (performance.now() - started) / 1000;
  const peak = process.resourceUsage().maxRSS * 1024;
  return {
    reader,
    rows,
    seconds: Math.round(seconds * 100) / 100,
    rowsPerSecond: Math.round(rows / seconds),
    rssBeforeMb: mb(rssBefore),
    peakRssMb: mb(peak),
    peakGrowthMb: mb(Math.max(0, peak - Math.max(before, rssBefore))),
  };
}

function sqliteSource(file: string): SourceConfig {
  return { kind: 'erp', dialect: 'sqlite', connection: { filename: file }, timezone: 'UTC', readOnly: true };
}

function pgSource(database: string): SourceConfig {
  const u = new URL(PG_URL);
  return {
    kind: 'erp',
    dialect: 'postgres',
    connection: { host: u.hostname, port: Number(u.port || 5432), user: decodeURIComponent(u.username), password: u.password || undefined, database },
    timezone: 'UTC',
    readOnly: true,
  };
}

/** One reader in this (child) process. */
async function phase(name: string, target: string): Promise<Measure> {
  switch (name) {
    case 'sqlite-readPages':
    case 'pg-readPages': {
      const driver = createDriver('bench', name.startsWith('sqlite') ? sqliteSource(target) : pgSource(target));
      try {
        return await measure('KnexDriver.readPages (pageSize 1000)', async (count) => {
          for await (const page of driver.readPages({ table: 'big', key: ['id'], columns: COLUMNS, pageSize: 1000 })) count(page.length);
        });
      } finally {
        await driver.destroy();
      }
    }
    case 'sqlite-raw': {
      const db = new Database(target, { readonly: true });
      try {
        return await measure('better-sqlite3 iterate() (raw stream)', async (count) => {
          for (const _row of db.prepare(`select ${COLUMNS.join(', ')} from big order by id`).iterate()) count(1);
        });
      } finally {
        db.close();
      }
    }
    case 'pg-raw': {
      const k = knexFactory({ client: 'pg', connection: pgSource(target).connection as Knex.PgConnectionConfig });
      try {
        return await measure('knex select of the whole table (no paging)', async (count) => {
          const rows = await k('big').select(COLUMNS).orderBy('id');
          count(rows.length);
        });
      } finally {
        await k.destroy();
      }
    }
    default:
      throw new Error(`unknown phase ${name}`);
  }
}

function runChild(name: string, target: string): Measure {
  const r = spawnSync(process.execPath, [...process.execArgv, SELF, '--phase', name, target], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`${name} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop() as string) as Measure;
}

async function loadSqlite(file: string, rows: number): Promise<number> {
  const started = performance.now();
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.exec('create table big (id integer primary key, code text not null, name text, amount text, modified_at text)');
  const insert = db.prepare('insert into big (id, code, name, amount, modified_at) values (?, ?, ?, ?, ?)');
  const load = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) insert.run(i, `C${String(i).padStart(8, '0')}`, `客户 ${i} 有限公司`, `${i}.${String(i % 10000).padStart(4, '0')}`, '2024-01-01 10:00:00');
  });
  for (let i = 1; i <= rows; i += 100_000) load(i, Math.min(rows + 1, i + 100_000));
  db.close();
  return Math.round((performance.now() - started) / 100) / 10;
}

async function loadPostgres(rows: number): Promise<{ database: string; seconds: number; drop: () => Promise<void> } | null> {
  const admin = knexFactory({ client: 'pg', connection: PG_URL, pool: { min: 0, max: 1 } });
  try {
    await admin.raw('select 1');
  } catch {
    await admin.destroy();
    return null;
  }
  const database = `crmlink_bench_${randomBytes(4).toString('hex')}`;
  await admin.raw('create database ??', [database]);
  const started = performance.now();
  const k = knexFactory({ client: 'pg', connection: pgSource(database).connection as Knex.PgConnectionConfig });
  await k.raw('create table big (id integer primary key, code text not null, name text, amount numeric(18,4), modified_at timestamp)');
  await k.raw(
    `insert into big select i, 'C' || lpad(i::text, 8, '0'), '客户 ' || i || ' 有限公司', i + (i % 10000) / 10000.0, timestamp '2024-01-01 10:00:00' from generate_series(1, ?) as i`,
    [rows],
  );
  await k.raw('analyze big');
  await k.destroy();
  const seconds = Math.round((performance.now() - started) / 100) / 10;
  return {
    database,
    seconds,
    drop: async () => {
      await admin.raw('drop database if exists ?? with (force)', [database]);
      await admin.destroy();
    },
  };
}

async function main(): Promise<void> {
  const at = process.argv.indexOf('--phase');
  if (at >= 0) {
    const result = await phase(process.argv[at + 1], process.argv[at + 2]);
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  const rows = Number(process.argv[2] ?? 1_000_000);
  const dir = mkdtempSync(join(tmpdir(), 'crmlink-bench-'));
  const file = join(dir, 'big.db');
  const report: Record<string, unknown> = { rows, node: process.version };
  try {
    const loadSeconds = await loadSqlite(file, rows);
    report.sqlite = { loadSeconds, readPages: runChild('sqlite-readPages', file), baseline: runChild('sqlite-raw', file) };
    const pgDb = await loadPostgres(rows);
    if (pgDb) {
      try {
        report.postgres = { loadSeconds: pgDb.seconds, readPages: runChild('pg-readPages', pgDb.database), baseline: runChild('pg-raw', pgDb.database) };
      } finally {
        await pgDb.drop();
      }
    } else report.postgres = 'unreachable: skipped';
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}

await main();
