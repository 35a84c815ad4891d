/**
 * Customer analysis refresh benchmark (SQLite hub).
 *
 *   node --import tsx bench/analysis.bench.ts [--customers 100000] [--lines 1000000] [--changed 1000]
 *
 * Fills a fresh SQLite hub directly (not through the store: this measures the analysis, not the
 * write path) with customers, 200 products with costs, orders of three lines each spread over two
 * years, an invoice per order, then times a full refresh, and an incremental refresh after
 * `--changed` orders had a line changed (each write moving the change sequence, as the store does).
 * Prints one JSON document.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
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
const orders = Math.ceil(lines / 3);

const dir = mkdtempSync(join(tmpdir(), 'crmlink-bench-analysis-'));
const now = () => new Date('2026-06-30T04:00:00.000Z');
const day = (back: number) => new Date(Date.UTC(2026, 5, 30) - back * 86_400_000).toISOString().slice(0, 10);
const ts = '2026-06-30T00:00:00.000Z';

async function main(): Promise<void> {
  const loaded = parseConfig(JSON.stringify({ hub: { dialect: 'sqlite', connection: { filename: join(dir, 'hub.db') } }, sources: {} }));
  const hub = await Hub.open(loaded);
  const cfg = loaded.config.analysis;
  const rnd = mulberry32(42);
  let seq = 0;
  const conn = (await hub.knex.client.acquireConnection()) as Database.Database;
  const fill = performance.now();
  conn.transaction(() => {
    const cus = conn.prepare('INSERT INTO crm_customer (id, name, "ownerId", "creditLimit", _version, _seq, _updated_at, _deleted) VALUES (?, ?, ?, ?, 1, ?, ?, 0)');
    for (let i = 0; i < customers; i++) cus.run(`cus_${i}`, `Customer ${i}`, `sales${i % 50}`, rnd() < 0.5 ? String(Math.floor(rnd() * 500) * 1000) : null, ++seq, ts);
    const prd = conn.prepare('INSERT INTO crm_product (id, code, name, price, cost, _version, _seq, _updated_at, _deleted) VALUES (?, ?, ?, ?, ?, 1, ?, ?, 0)');
    for (let p = 0; p < 200; p++) prd.run(`prd_${p}`, `P${p}`, `Product ${p}`, String(10 + p), String(((10 + p) * 0.7).toFixed(4)), ++seq, ts);
    const so = conn.prepare('INSERT INTO crm_sales_order (id, code, "customerId", "orderDate", status, _version, _seq, _updated_at, _deleted) VALUES (?, ?, ?, ?, ?, 1, ?, ?, 0)');
    const sol = conn.prepare('INSERT INTO crm_sales_order_line (id, "orderId", "lineNo", "productId", quantity, "unitPrice", amount, _version, _seq, _updated_at, _deleted) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?, 0)');
    const inv = conn.prepare('INSERT INTO crm_invoice (id, code, "customerId", "invoiceDate", "dueDate", amount, "paidAmount", balance, status, _version, _seq, _updated_at, _deleted) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, 0)');
    let line = 0;
    for (let o = 0; o < orders; o++) {
      // Skewed sizes: a few customers place most orders.
      const c = Math.floor(customers * rnd() ** 2);
      const back = Math.floor(rnd() * 730);
      so.run(`so_${o}`, `SO${o}`, `cus_${c}`, day(back), rnd() < 0.03 ? 'CANCELLED' : 'CLOSED', ++seq, ts);
      let total = 0;
      for (let k = 0; k < 3 && line < lines; k++, line++) {
        const p = Math.floor(rnd() * 200);
        const qty = 1 + Math.floor(rnd() * 20);
        const amount = qty * (10 + p);
        total += amount;
        sol.run(`sol_${line}`, `so_${o}`, k + 1, `prd_${p}`, String(qty), String(10 + p), String(amount), ++seq, ts);
      }
      const paid = rnd() < 0.7 ? total : 0;
      inv.run(`inv_${o}`, `INV${o}`, `cus_${c}`, day(back), day(back - 30), String(total), String(paid), String(total - paid), paid === total ? 'PAID' : 'OPEN', ++seq, ts);
    }
    conn.prepare("INSERT INTO crm_counter (name, value) VALUES ('seq', ?)").run(seq);
  })();
  const fillMs = performance.now() - fill;
  await hub.knex.client.releaseConnection(conn);

  let t = performance.now();
  const full = await refreshAnalysis(hub, cfg, { kind: 'full', now });
  const fullMs = performance.now() - t;

  // Change one line of `changed` orders of different customers, moving the change sequence.
  const conn2 = (await hub.knex.client.acquireConnection()) as Database.Database;
  conn2.transaction(() => {
    const up = conn2.prepare('UPDATE crm_sales_order_line SET amount = ?, _seq = ? WHERE id = ?');
    for (let i = 0; i < changed; i++) up.run('1', ++seq, `sol_${Math.floor((i * lines) / changed) - (Math.floor((i * lines) / changed) % 3)}`);
    conn2.prepare("UPDATE crm_counter SET value = ? WHERE name = 'seq'").run(seq);
  })();
  await hub.knex.client.releaseConnection(conn2);
  t = performance.now();
  const inc = await refreshAnalysis(hub, cfg, { kind: 'incremental', now });
  const incrementalMs = performance.now() - t;

  console.log(
    JSON.stringify(
      {
        bench: 'analysis',
        hub: 'sqlite',
        customers,
        orders,
        lines,
        fillMs: Math.round(fillMs),
        full: { ms: Math.round(fullMs), customers: full.customers },
        incremental: { changedOrders: changed, ms: Math.round(incrementalMs), customers: inc.customers },
      },
      null,
      2,
    ),
  );
  await hub.destroy();
}

main()
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => rmSync(dir, { recursive: true, force: true }));
