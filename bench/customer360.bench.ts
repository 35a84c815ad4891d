/**
 * Customer-360 benchmark: the GraphQL API against hand-written SQL returning the same data.
 *
 *   node --import tsx bench/customer360.bench.ts [customers] [seconds]     (default 2000, 5)
 *
 * Seeds SQLite ERP / finance / OA sources with `customers` customers × 10 orders (3 lines each),
 * 10 invoices and 2 approvals, and a SQLite hub with the golden customers and their
 * cross-references. Then, at 1 and 10 concurrent clients, runs for `seconds` each:
 *
 * - graphql: `customers(first: 50) { salesOrders(first: 10) { lines } invoices approvals
 *   receivableBalance }` through yoga.fetch (parse, validate, auth, plan, batch, serialise);
 * - sql: the statements a person would write for the same page (customers, cross-references,
 *   orders with ROW_NUMBER() per customer, lines, invoices, balances, approvals) on the same
 *   drivers' connection pools, assembled into the same nested shape and JSON-serialised.
 *
 * Prints one JSON document: requests/s, p50/p99 latency, statements per request and the
 * throughput ratio graphql/sql per concurrency. BENCH_TRACE=1 instead prints each statement of one
 * request of each side with its time (where the time goes).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import knexFactory, { type Knex } from 'knex';
import type { App } from '../core/app.js';

// Run as a production server runs: graphql-js reads NODE_ENV once, when it loads, to skip its
// development-only checks; so everything that loads graphql is imported after setting it.
process.env.NODE_ENV ??= 'production';
const { parseConfig } = await import('../config/load.js');
const { openApp, closeApp } = await import('../core/app.js');
const { silentLogger } = await import('../core/logger.js');
const { createYogaApp } = await import('../schema/index.js');

const N = Number(process.argv[2] ?? 2000);
const SECONDS = Number(process.argv[3] ?? 5);
const PAGE = 50;
const pad = (i: number) => String(i).padStart(6, '0');

const QUERY = `{ customers(first: ${PAGE}) { nodes { id name creditLimit receivableBalance
  salesOrders(first: 10) { nodes { code orderDate status totalAmount lines { nodes { lineNo productCode quantity amount } } } }
  invoices { nodes { code dueDate amount balance status } }
  approvals { nodes { title status submittedAt } } } } }`;

function sqlite(file: string): Knex {
  return knexFactory({ client: 'better-sqlite3', connection: { filename: file }, useNullAsDefault: true });
}

async function insertChunked(k: Knex, table: string, rows: Record<string, unknown>[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 500) await k(table).insert(rows.slice(i, i + 500));
}

async function seed(dir: string): Promise<void> {
  const erp = sqlite(join(dir, 'erp.db'));
  const fin = sqlite(join(dir, 'fin.db'));
  const oa = sqlite(join(dir, 'oa.db'));
  await erp.schema.createTable('so_order', (t) => {
    t.string('order_no', 20).primary();
    t.string('cust_code', 20).index();
    t.date('order_date');
    t.string('status', 2);
    t.decimal('total_amount', 14, 2);
  });
  await erp.schema.createTable('so_line', (t) => {
    t.string('order_no', 20);
    t.integer('line_no');
    t.string('product_code', 20);
    t.decimal('qty', 14, 4);
    t.decimal('amount', 14, 2);
    t.primary(['order_no', 'line_no']);
  });
  await fin.schema.createTable('ar_invoice', (t) => {
    t.increments('inv_id').primary();
    t.string('inv_no', 20);
    t.string('cust_acct', 20).index();
    t.date('due_date');
    t.decimal('amount', 14, 2);
    t.decimal('balance', 14, 2);
    t.string('status', 1);
  });
  await oa.schema.createTable('wf_request', (t) => {
    t.integer('req_id').primary();
    t.string('customer_ref', 20).index();
    t.string('title', 200);
    t.string('state', 1);
    t.dateTime('submitted_at');
  });
  const orders: Record<string, unknown>[] = [];
  const lines: Record<string, unknown>[] = [];
  const invoices: Record<string, unknown>[] = [];
  const approvals: Record<string, unknown>[] = [];
  for (let i = 1; i <= N; i++) {
    for (let j = 1; j <= 10; j++) {
      const no = `SO${pad(i)}-${String(j).padStart(2, '0')}`;
      orders.push({ order_no: no, cust_code: `C${pad(i)}`, order_date: `2024-${String(j).padStart(2, '0')}-15`, status: String((j % 3) + 1), total_amount: (j * 100 + 0.5).toFixed(2) });
      for (let l = 1; l <= 3; l++) lines.push({ order_no: no, line_no: l, product_code: `P${l}`, qty: '1.5000', amount: (l * 10.25).toFixed(2) });
      invoices.push({ inv_no: `INV${pad(i)}-${j}`, cust_acct: `AR${pad(i)}`, due_date: '2024-06-30', amount: '200.00', balance: j % 2 ? '50.25' : '0.00', status: j % 2 ? 'O' : 'C' });
    }
    for (let a = 1; a <= 2; a++) approvals.push({ req_id: i * 10 + a, customer_ref: String(i), title: `Request ${a} for ${i}`, state: String(a % 3), submitted_at: '2024-03-01 08:00:00' });
  }
  await insertChunked(erp, 'so_order', orders);
  await insertChunked(erp, 'so_line', lines);
  await insertChunked(fin, 'ar_invoice', invoices);
  await insertChunked(oa, 'wf_request', approvals);
  await Promise.all([erp.destroy(), fin.destroy(), oa.destroy()]);
}

function config(dir: string): string {
  return `
hub: { dialect: sqlite, connection: { filename: ${JSON.stringify(join(dir, 'hub.db'))} } }
log: { level: silent }
sources:
  erp: { kind: erp, dialect: sqlite, connection: { filename: ${JSON.stringify(join(dir, 'erp.db'))} } }
  finance: { kind: finance, dialect: sqlite, connection: { filename: ${JSON.stringify(join(dir, 'fin.db'))} } }
  oa: { kind: oa, dialect: sqlite, connection: { filename: ${JSON.stringify(join(dir, 'oa.db'))} } }
entities:
  Customer:
    sources:
      erp: { table: bas_customer, key: [cust_code], fields: { code: cust_code } }
  SalesOrder:
    mode: federated
    sources:
      erp:
        table: so_order
        key: [order_no]
        fields:
          code: order_no
          customerId: cust_code
          orderDate: { column: order_date, type: date }
          status: { column: status, map: { "1": DRAFT, "2": APPROVED, "3": SHIPPED } }
          totalAmount: { column: total_amount, type: decimal, scale: 2 }
  SalesOrderLine:
    mode: federated
    sources:
      erp:
        table: so_line
        key: [order_no, line_no]
        fields: { orderId: order_no, lineNo: line_no, productCode: product_code, quantity: { column: qty, type: decimal, scale: 4 }, amount: { column: amount, type: decimal, scale: 2 } }
  Invoice:
    mode: federated
    sources:
      finance:
        table: ar_invoice
        key: [inv_id]
        fields:
          code: inv_no
          customerId: cust_acct
          dueDate: { column: due_date, type: date }
          amount: { column: amount, type: decimal, scale: 2 }
          balance: { column: balance, type: decimal, scale: 2 }
          status: { column: status, map: { O: OPEN, P: PARTIAL, C: PAID } }
  ApprovalRequest:
    mode: federated
    sources:
      oa:
        table: wf_request
        key: [req_id]
        fields:
          customerId: customer_ref
          title: title
          status: { column: state, map: { "0": PENDING, "1": APPROVED, "2": REJECTED } }
          submittedAt: { column: submitted_at, type: datetime }
server:
  limits: { depth: 10, cost: 100000 }
`;
}

async function seedHub(app: App): Promise<void> {
  const now = new Date().toISOString();
  const customers: Record<string, unknown>[] = [];
  const xref: Record<string, unknown>[] = [];
  for (let i = 1; i <= N; i++) {
    const gid = `cus_${pad(i)}`;
    customers.push({ id: gid, code: `C${pad(i)}`, name: `Customer ${i}`, creditLimit: `${i}000.00`, status: 'ACTIVE', ownerId: 'u1', _version: 1, _seq: i, _updated_at: now, _deleted: 0 });
    xref.push(
      { entity: 'Customer', source: 'erp', source_key: `C${pad(i)}`, gid, linked_at: now },
      { entity: 'Customer', source: 'finance', source_key: `AR${pad(i)}`, gid, linked_at: now },
      { entity: 'Customer', source: 'oa', source_key: String(i), gid, linked_at: now },
    );
  }
  await insertChunked(app.hub.knex, 'crm_customer', customers);
  await insertChunked(app.hub.knex, 'crm_xref', xref);
}

/** The same page, written by hand: one statement per table, ROW_NUMBER() for 10 orders per customer. */
async function handWritten(app: App): Promise<string> {
  const hub = app.hub.knex;
  const erp = app.sources.driver('erp').knex;
  const fin = app.sources.driver('finance').knex;
  const oa = app.sources.driver('oa').knex;
  const customers = (await hub('crm_customer')
    .select('id', 'name', 'creditLimit')
    .whereRaw('NOT "_deleted" AND "_merged_into" IS NULL')
    .orderBy('id')
    .limit(PAGE)) as { id: string; name: string; creditLimit: string }[];
  const gids = customers.map((c) => c.id);
  const xref = (await hub('crm_xref').select('gid', 'source', 'source_key').where('entity', 'Customer').whereIn('gid', gids)) as { gid: string; source: string; source_key: string }[];
  const keyOf = (source: string) => new Map(xref.filter((x) => x.source === source).map((x) => [x.gid, x.source_key]));
  const erpKey = keyOf('erp');
  const finKey = keyOf('finance');
  const oaKey = keyOf('oa');
  const [orders, invoices, balances, approvals] = await Promise.all([
    erp
      .select('*')
      .from(erp('so_order').select('*', erp.raw('ROW_NUMBER() OVER (PARTITION BY cust_code ORDER BY order_no) AS rn')).whereIn('cust_code', [...erpKey.values()]).as('o'))
      .where('rn', '<=', 10)
      .orderBy('order_no') as Promise<Record<string, unknown>[]>,
    fin('ar_invoice').whereIn('cust_acct', [...finKey.values()]).orderBy('inv_id') as Promise<Record<string, unknown>[]>,
    fin('ar_invoice').select('cust_acct').sum({ b: 'balance' }).whereIn('status', ['O', 'P']).whereIn('cust_acct', [...finKey.values()]).groupBy('cust_acct') as Promise<Record<string, unknown>[]>,
    oa('wf_request').whereIn('customer_ref', [...oaKey.values()]).orderBy('req_id') as Promise<Record<string, unknown>[]>,
  ]);
  const lines = (await erp('so_line').whereIn('order_no', orders.map((o) => String(o.order_no))).orderBy(['order_no', 'line_no'])) as Record<string, unknown>[];
  const group = <T extends Record<string, unknown>>(rows: T[], key: string) => {
    const m = new Map<string, T[]>();
    for (const r of rows) m.set(String(r[key]), [...(m.get(String(r[key])) ?? []), r]);
    return m;
  };
  const ordersBy = group(orders, 'cust_code');
  const linesBy = group(lines, 'order_no');
  const invBy = group(invoices, 'cust_acct');
  const aprBy = group(approvals, 'customer_ref');
  const balBy = new Map(balances.map((b) => [String(b.cust_acct), Number(b.b).toFixed(2)]));
  const STATUS: Record<string, string> = { '1': 'DRAFT', '2': 'APPROVED', '3': 'SHIPPED', O: 'OPEN', P: 'PARTIAL', C: 'PAID', '0': 'PENDING' };
  const nodes = customers.map((c) => ({
    id: c.id,
    name: c.name,
    creditLimit: c.creditLimit,
    receivableBalance: balBy.get(finKey.get(c.id) ?? '') ?? '0',
    salesOrders: {
      nodes: (ordersBy.get(erpKey.get(c.id) ?? '') ?? []).map((o) => ({
        code: o.order_no,
        orderDate: o.order_date,
        status: STATUS[String(o.status)],
        totalAmount: String(o.total_amount),
        lines: { nodes: (linesBy.get(String(o.order_no)) ?? []).map((l) => ({ lineNo: l.line_no, productCode: l.product_code, quantity: String(l.qty), amount: String(l.amount) })) },
      })),
    },
    invoices: { nodes: (invBy.get(finKey.get(c.id) ?? '') ?? []).map((v) => ({ code: v.inv_no, dueDate: v.due_date, amount: String(v.amount), balance: String(v.balance), status: STATUS[String(v.status)] })) },
    approvals: { nodes: (aprBy.get(oaKey.get(c.id) ?? '') ?? []).map((a) => ({ title: a.title, status: STATUS[String(a.state)] ?? 'REJECTED', submittedAt: a.submitted_at })) },
  }));
  return JSON.stringify({ data: { customers: { nodes } } });
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function load(clients: number, seconds: number, once: () => Promise<void>) {
  const latencies: number[] = [];
  const end = performance.now() + seconds * 1000;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        await once();
        latencies.push(performance.now() - t);
      }
    }),
  );
  const wall = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return { requests: latencies.length, perSecond: +(latencies.length / wall).toFixed(1), p50ms: +percentile(latencies, 50).toFixed(2), p99ms: +percentile(latencies, 99).toFixed(2) };
}

async function countStatements(app: App, fn: () => Promise<unknown>): Promise<number> {
  // knex 'query' events of the hub and of each driver's pool: what both sides send, counted once.
  let n = 0;
  const all = [app.hub.knex, ...['erp', 'finance', 'oa'].map((s) => app.sources.driver(s).knex)];
  const on = () => n++;
  all.forEach((k) => k.on('query', on));
  try {
    await fn();
  } finally {
    all.forEach((k) => k.removeListener('query', on));
  }
  return n;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'crmlink-bench-'));
  try {
    await seed(dir);
    const app = await openApp(parseConfig(config(dir), { baseDir: dir }), { logger: silentLogger });
    try {
      await seedHub(app);
      const yoga = createYogaApp(app, { logger: false });
      const graphql = async () => {
        const res = await yoga.fetch('http://bench/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: QUERY }) });
        const body = (await res.json()) as { errors?: unknown; data?: { customers: { nodes: unknown[] } } };
        if (body.errors || body.data?.customers.nodes.length !== PAGE) throw new Error(`GraphQL failed: ${JSON.stringify(body.errors)}`);
      };
      const sql = async () => {
        const text = await handWritten(app);
        if (text.length < 100) throw new Error('hand-written SQL returned nothing');
      };
      // Same data check (one page): order counts, line counts, balances.
      const g = (await (await yoga.fetch('http://bench/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: QUERY }) })).json()) as {
        data: { customers: { nodes: { receivableBalance: string; salesOrders: { nodes: { lines: { nodes: unknown[] } }[] }; invoices: { nodes: unknown[] } }[] } };
      };
      const h = JSON.parse(await handWritten(app)) as typeof g;
      const shape = (x: typeof g) =>
        x.data.customers.nodes.map((c) => [Number(c.receivableBalance), c.salesOrders.nodes.length, c.salesOrders.nodes.reduce((n, o) => n + o.lines.nodes.length, 0), c.invoices.nodes.length].join('/')).join(',');
      if (shape(g) !== shape(h)) throw new Error('GraphQL and hand-written SQL disagree');

      if (process.env.BENCH_TRACE) {
        const started = new Map<string, number>();
        for (const k of [app.hub.knex, ...['erp', 'finance', 'oa'].map((x) => app.sources.driver(x).knex)]) {
          k.on('query', (q: { __knexQueryUid: string }) => started.set(q.__knexQueryUid, performance.now()));
          k.on('query-response', (_r: unknown, q: { __knexQueryUid: string; sql: string }) =>
            process.stderr.write(`${(performance.now() - (started.get(q.__knexQueryUid) ?? 0)).toFixed(1)}ms ${q.sql.slice(0, 160)}\n`),
          );
        }
        const t0 = performance.now();
        await graphql();
        process.stderr.write(`graphql total ${(performance.now() - t0).toFixed(1)}ms\n`);
        const t1 = performance.now();
        await sql();
        process.stderr.write(`sql total ${(performance.now() - t1).toFixed(1)}ms\n`);
        return;
      }
      for (let i = 0; i < 20; i++) {
        await graphql();
        await sql();
      }
      const statements = { graphql: await countStatements(app, graphql), sql: await countStatements(app, sql) };
      const runs: Record<string, unknown> = {};
      for (const clients of [1, 10]) {
        const gq = await load(clients, SECONDS, graphql);
        const sq = await load(clients, SECONDS, sql);
        runs[`clients_${clients}`] = { graphql: gq, sql: sq, throughputRatio: +(gq.perSecond / sq.perSecond).toFixed(3) };
      }
      process.stdout.write(
        `${JSON.stringify(
          {
            bench: 'customer360',
            customers: N,
            rowsPerRequest: { customers: PAGE, orders: PAGE * 10, lines: PAGE * 30, invoices: PAGE * 10, approvals: PAGE * 2 },
            statementsPerRequest: statements,
            seconds: SECONDS,
            node: process.version,
            ...runs,
          },
          null,
          2,
        )}\n`,
      );
    } finally {
      await closeApp(app);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
