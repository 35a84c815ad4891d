/**
 * Customer analysis refresh benchmark (SQLite or PostgreSQL hub).
 *
 *   node --import tsx bench/analysis.bench.ts [--customers 100000] [--lines 1000000] [--changed 1000] [--hub sqlite|postgres]
 *
 * PostgreSQL: a fresh database crmlink_bench_analysis on PG_URL (default
 * postgres://postgres@127.0.0.1:5432/test), dropped at the end.
 *
 * Fills a fresh hub directly (not through the store: this measures the analysis, not the
 * write path) with customers, 200 products with costs, orders of three lines each spread over two
 * years, an invoice per order, then times a full refresh, and an incremental refresh after
 * `--changed` orders had a line changed (each write moving the change sequence, as the store does),
 * then a full refresh after `--changed` more (fullAgain: the hub's order line sums are kept by the
 * refresh, so only the changed orders' lines are read again; the first full refresh builds them all).
 * Prints one JSON document, with the time of each refresh stage.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import knexFactory from 'knex';
import { parseConfig } from '../config/load.js';
import { Hub } from '../hub/hub.js';
import { refreshAnalysis } from '../analysis/refresh.js';
import { mulberry32 } from '../demo/random.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const customers = arg('customers', 10_000);
const lines = arg('lines', 100_000);
const changed = arg('changed', 1_000);
const hubDialect = process.argv.includes('--hub') ? process.argv[process.argv.indexOf('--hub') + 1] : 'sqlite';
if (hubDialect !== 'sqlite' && hubDialect !== 'postgres') throw new Error('--hub sqlite|postgres');
const PG_URL = process.env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const PG_DB = 'crmlink_bench_analysis';
const orders = Math.ceil(lines / 3);

const dir = mkdtempSync(join(tmpdir(), 'crmlink-bench-analysis-'));
const now = () => new Date('2026-06-30T04:00:00.000Z');
const day = (back: number) => new Date(Date.UTC(2026, 5, 30) - back * 86_400_000).toISOString().slice(0, 10);
const ts = '2026-06-30T00:00:00.000Z';

type Row = Record<string, unknown>;

/** The data set, as rows per table, in insertion order (deterministic). */
function* dataset(): Generator<[string, Row]> {
  const rnd = mulberry32(42);
  let seq = 0;
  for (let i = 0; i < customers; i++)
    yield ['crm_customer', { id: `cus_${i}`, name: `Customer ${i}`, ownerId: `sales${i % 50}`, creditLimit: rnd() < 0.5 ? String(Math.floor(rnd() * 500) * 1000) : null, _version: 1, _seq: ++seq, _updated_at: ts, _deleted: false }];
  for (let p = 0; p < 200; p++)
    yield ['crm_product', { id: `prd_${p}`, code: `P${p}`, name: `Product ${p}`, price: String(10 + p), cost: String(((10 + p) * 0.7).toFixed(4)), _version: 1, _seq: ++seq, _updated_at: ts, _deleted: false }];
  let line = 0;
  for (let o = 0; o < orders; o++) {
    // Skewed sizes: a few customers place most orders.
    const c = Math.floor(customers * rnd() ** 2);
    const back = Math.floor(rnd() * 730);
    yield ['crm_sales_order', { id: `so_${o}`, code: `SO${o}`, customerId: `cus_${c}`, orderDate: day(back), status: rnd() < 0.03 ? 'CANCELLED' : 'CLOSED', _version: 1, _seq: ++seq, _updated_at: ts, _deleted: false }];
    let total = 0;
    for (let k = 0; k < 3 && line < lines; k++, line++) {
      const p = Math.floor(rnd() * 200);
      const qty = 1 + Math.floor(rnd() * 20);
      const amount = qty * (10 + p);
      total += amount;
      yield ['crm_sales_order_line', { id: `sol_${line}`, orderId: `so_${o}`, lineNo: k + 1, productId: `prd_${p}`, quantity: String(qty), unitPrice: String(10 + p), amount: String(amount), _version: 1, _seq: ++seq, _updated_at: ts, _deleted: false }];
    }
    const paid = rnd() < 0.7 ? total : 0;
    yield ['crm_invoice', { id: `inv_${o}`, code: `INV${o}`, customerId: `cus_${c}`, invoiceDate: day(back), dueDate: day(back - 30), amount: String(total), paidAmount: String(paid), balance: String(total - paid), status: paid === total ? 'PAID' : 'OPEN', _version: 1, _seq: ++seq, _updated_at: ts, _deleted: false }];
  }
  yield ['crm_counter', { name: 'seq', value: seq }];
}

/** Ids of the lines changed after the full refresh: one line of `changed` orders. */
const changedLines = () => Array.from({ length: changed }, (_, i) => `sol_${Math.floor((i * lines) / changed) - (Math.floor((i * lines) / changed) % 3)}`);

async function fillSqlite(hub: Hub): Promise<void> {
  const conn = (await hub.knex.client.acquireConnection()) as Database.Database;
  try {
    const statements = new Map<string, Database.Statement>();
    conn.transaction(() => {
      for (const [table, row] of dataset()) {
        const cols = Object.keys(row);
        let st = statements.get(table);
        if (!st) {
          st = conn.prepare(`INSERT INTO ${table} (${cols.map((c) => `"${c}"`).join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`);
          statements.set(table, st);
        }
        st.run(...cols.map((c) => (typeof row[c] === 'boolean' ? (row[c] ? 1 : 0) : row[c])));
      }
    })();
  } finally {
    await hub.knex.client.releaseConnection(conn);
  }
}

async function fillPostgres(hub: Hub): Promise<void> {
  await hub.knex.transaction(async (trx) => {
    const pending = new Map<string, Row[]>();
    const flush = async (table: string) => {
      const rows = pending.get(table);
      if (rows?.length) await trx(table).insert(rows);
      pending.set(table, []);
    };
    for (const [table, row] of dataset()) {
      const rows = pending.get(table) ?? [];
      rows.push(row);
      pending.set(table, rows);
      if (rows.length >= 1000) await flush(table);
    }
    for (const table of pending.keys()) await flush(table);
  });
  await hub.knex.raw('ANALYZE');
}

/** Change one line of `changed` orders, each write moving the change sequence. */
async function changeLines(hub: Hub, amount: string): Promise<void> {
  await hub.knex.transaction(async (trx) => {
    let seq = Number(((await trx('crm_counter').where({ name: 'seq' }).first('value')) as { value: unknown }).value);
    for (const id of changedLines()) await trx('crm_sales_order_line').where({ id }).update({ amount, _seq: ++seq });
    await trx('crm_counter').where({ name: 'seq' }).update({ value: seq });
  });
}

async function main(): Promise<void> {
  let connection: Record<string, unknown> = { filename: join(dir, 'hub.db') };
  if (hubDialect === 'postgres') {
    const admin = knexFactory({ client: 'pg', connection: PG_URL });
    await admin.raw(`DROP DATABASE IF EXISTS ${PG_DB}`);
    await admin.raw(`CREATE DATABASE ${PG_DB}`);
    await admin.destroy();
    const u = new URL(PG_URL);
    connection = { host: u.hostname, port: Number(u.port || 5432), user: decodeURIComponent(u.username), password: u.password || undefined, database: PG_DB };
  }
  const loaded = parseConfig(JSON.stringify({ hub: { dialect: hubDialect, connection }, sources: {} }));
  const hub = await Hub.open(loaded);
  const cfg = loaded.config.analysis;
  const fill = performance.now();
  if (hubDialect === 'postgres') await fillPostgres(hub);
  else await fillSqlite(hub);
  const fillMs = performance.now() - fill;
  const stages = (into: Record<string, number>) => (name: string, ms: number) => {
    into[name] = Math.round(ms);
  };
  const fullStages: Record<string, number> = {};
  const incStages: Record<string, number> = {};

  let t = performance.now();
  const full = await refreshAnalysis(hub, cfg, { kind: 'full', now, onStage: stages(fullStages) });
  const fullMs = performance.now() - t;

  await changeLines(hub, '1');
  t = performance.now();
  const inc = await refreshAnalysis(hub, cfg, { kind: 'incremental', now, onStage: stages(incStages) });
  const incrementalMs = performance.now() - t;

  // A full refresh on a hub refreshed before: the order line sums are kept, only what changed since is summed again.
  const againStages: Record<string, number> = {};
  await changeLines(hub, '2');
  t = performance.now();
  await refreshAnalysis(hub, cfg, { kind: 'full', now, onStage: stages(againStages) });
  const againMs = performance.now() - t;

  console.log(
    JSON.stringify(
      {
        bench: 'analysis',
        hub: hubDialect,
        customers,
        orders,
        lines,
        fillMs: Math.round(fillMs),
        full: { ms: Math.round(fullMs), customers: full.customers, stages: fullStages },
        incremental: { changedOrders: changed, ms: Math.round(incrementalMs), customers: inc.customers, stages: incStages },
        fullAgain: { changedOrders: changed, ms: Math.round(againMs), stages: againStages },
        loadAverage: loadavg().map((x) => Math.round(x * 10) / 10),
      },
      null,
      2,
    ),
  );
  await hub.destroy();
  if (hubDialect === 'postgres') {
    const admin = knexFactory({ client: 'pg', connection: PG_URL });
    await admin.raw(`DROP DATABASE IF EXISTS ${PG_DB}`);
    await admin.destroy();
  }
}

main()
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => rmSync(dir, { recursive: true, force: true }));
