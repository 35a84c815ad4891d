/**
 * Customer-360 benchmark: the GraphQL API against hand-written SQL returning the same data, over
 * three sources on three engines: the ERP on PostgreSQL (customers, orders, lines), finance on
 * MariaDB (accounts, invoices), the OA on SQLite (approvals through the v_approval view), and the
 * hub (golden customers + cross-references) on SQLite.
 *
 *   node --import tsx bench/customer360.bench.ts [--scales 2000,10000] [--seconds 3] [--clients 1,10,50]
 *        [--rounds 2] [--hub sqlite|postgres] [--erp postgres] [--finance mysql] [--oa sqlite]
 *        [--profile graphql|sql --profile-seconds 10 --profile-clients 10 --profile-out file.cpuprofile
 *         --profile-kind cpu|alloc]
 *
 * Data: bench/data/generate.ts, per customer 10 orders with 1–5 lines (3 on average), 10 invoices,
 * 2 approvals. For each scale:
 * - graphql: `customers(first: 50) { salesOrders(first: 10) { lines } invoices approvals
 *   receivableBalance }` through yoga.fetch (parse, validate, auth, cost/depth limits, plan, batch,
 *   map, serialise);
 * - sql: the statements a person would write for the same page (customers, cross-references,
 *   orders with ROW_NUMBER() per customer, lines, invoices, open balances, approvals), on the same
 *   knex instances (same drivers, same pools), mapped (status codes, decimals, dates) into the
 *   same nested shape and JSON-serialised.
 * Both sides are checked to return the same orders, lines, invoices, approvals and balances.
 * Then at each client count, `rounds` alternating rounds of `seconds` per side: requests/s,
 * p50/p99 latency, CPU ms per request (process.cpuUsage), and the ratios graphql/sql of both.
 * Statements per request are counted with knex's query events on every pool; they should not
 * change with the scale.
 *
 * --profile graphql|sql: after loading the first scale, run only that side for --profile-seconds
 * under the V8 CPU profiler (in-process inspector, data loading excluded), write the .cpuprofile
 * and print its summary: self time by area (crmlink folder / npm package) and by function.
 * --profile-kind alloc samples allocations instead (garbage included): MiB per request and by
 * allocating function, what the collector's share of the CPU profile comes from.
 *
 * Prints one JSON document. BENCH_TRACE=1 prints each statement of one request of each side with
 * its time.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Knex } from 'knex';
import type { App } from '../app/app.js';
import { closedLoop, flags, machine, mergeRounds, round, type LoadResult } from './lib/common.js';
import type { BenchDialect } from './data/generate.js';
import { allocationsDuring, profileDuring } from './lib/cpuprofile.js';

// Run as a production server runs: graphql-js reads NODE_ENV once, when it loads, to skip its
// development-only checks; so everything that loads graphql is imported after setting it.
process.env.NODE_ENV ??= 'production';
const { createYogaApp } = await import('../server/yoga-app.js');
const { deploy } = await import('./lib/setup.js');

const f = flags();
const SCALES = f.list('scales', '2000,10000').map(Number);
const SECONDS = f.num('seconds', 3);
const CLIENTS = f.list('clients', '1,10,50').map(Number);
const ROUNDS = f.num('rounds', 2);
const PROFILE = f.get('profile', '');
const PAGE = 50;

const QUERY = `{ customers(first: ${PAGE}) { nodes { id name creditLimit receivableBalance
  salesOrders(first: 10) { nodes { code orderDate status totalAmount lines { nodes { lineNo productCode quantity amount } } } }
  invoices { nodes { code dueDate amount balance status } }
  approvals { nodes { title status submittedAt } } } } }`;

interface Body {
  errors?: unknown;
  data?: {
    customers: {
      nodes: {
        id: string;
        receivableBalance: string;
        salesOrders: { nodes: { code: string; totalAmount: string; lines: { nodes: { amount: string }[] } }[] };
        invoices: { nodes: { code: string; amount: string }[] };
        approvals: { nodes: { title: string }[] };
      }[];
    };
  };
}

const ORDER_STATUS: Record<string, string> = { '0': 'DRAFT', '1': 'APPROVED', '2': 'SHIPPED', '3': 'CLOSED', '4': 'CANCELLED' };
const INVOICE_STATUS: Record<string, string> = { open: 'OPEN', partial: 'PARTIAL', paid: 'PAID', void: 'VOID' };
const APPROVAL_STATUS: Record<string, string> = { 审批中: 'PENDING', 归档: 'APPROVED', 退回: 'REJECTED', 撤回: 'WITHDRAWN' };

const dec = (v: unknown, scale: number) => (v === null || v === undefined ? null : Number(v).toFixed(scale));
const day = (v: unknown) => (v instanceof Date ? v.toISOString().slice(0, 10) : v === null ? null : String(v).slice(0, 10));
/** OA local time (Asia/Shanghai, no zone) → ISO UTC, as the mapping's datetime type gives it. */
const shanghai = (v: unknown) => (v === null || v === undefined ? null : new Date(`${String(v).replace(' ', 'T')}+08:00`).toISOString());

function group<T extends Record<string, unknown>>(rows: T[], key: string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const r of rows) {
    const k = String(r[key]);
    const list = m.get(k);
    if (list) list.push(r);
    else m.set(k, [r]);
  }
  return m;
}

/** The same page, written by hand: one statement per table, ROW_NUMBER() for 10 orders per customer. */
async function handWritten(app: App): Promise<string> {
  const hub = app.hub.knex;
  const erp = app.sources.driver('erp').knex;
  const fin = app.sources.driver('finance').knex;
  const oa = app.sources.driver('oa').knex;
  const customers = (await hub('crm_customer')
    .select('id', 'name', 'creditLimit')
    .where('_deleted', false)
    .whereNull('_merged_into')
    .orderBy('id')
    .limit(PAGE)) as { id: string; name: string; creditLimit: string }[];
  const xref = (await hub('crm_xref')
    .select('gid', 'source', 'source_key')
    .where('entity', 'Customer')
    .whereIn(
      'gid',
      customers.map((c) => c.id),
    )) as { gid: string; source: string; source_key: string }[];
  const keyOf = (source: string) => new Map(xref.filter((x) => x.source === source).map((x) => [x.gid, x.source_key]));
  const erpKey = keyOf('erp');
  const finKey = keyOf('finance');
  const oaKey = keyOf('oa');
  const [orders, invoices, balances, approvals] = await Promise.all([
    erp
      .select('*')
      .from(
        erp('SO_SOMain')
          .select('ID', 'cSOCode', 'cCusCode', 'dDate', 'cState', 'iMoney', erp.raw('ROW_NUMBER() OVER (PARTITION BY ?? ORDER BY ??) AS rn', ['cCusCode', 'ID']))
          .whereIn('cCusCode', [...erpKey.values()])
          .as('o'),
      )
      .where('rn', '<=', 10)
      .orderBy('ID') as Promise<Record<string, unknown>[]>,
    fin('ar_invoice').select('inv_no', 'acct_no', 'due_date', 'amount', 'balance', 'status').whereIn('acct_no', [...finKey.values()]).orderBy('inv_no') as Promise<Record<string, unknown>[]>,
    fin('ar_invoice').select('acct_no').sum({ b: 'balance' }).whereIn('status', ['open', 'partial']).whereIn('acct_no', [...finKey.values()]).groupBy('acct_no') as Promise<Record<string, unknown>[]>,
    oa('v_approval').select('requestid', 'khbm', 'requestname', 'flow_state', 'created_at').whereIn('khbm', [...oaKey.values()]).orderBy('requestid') as Promise<Record<string, unknown>[]>,
  ]);
  const lines = (await erp('SO_SODetails')
    .select('AutoID', 'ID', 'iRowNo', 'cInvCode', 'iQuantity', 'iSum')
    .whereIn(
      'ID',
      orders.map((o) => o.ID as number),
    )
    .orderBy('AutoID')) as Record<string, unknown>[];
  const ordersBy = group(orders, 'cCusCode');
  const linesBy = group(lines, 'ID');
  const invBy = group(invoices, 'acct_no');
  const aprBy = group(approvals, 'khbm');
  const balBy = new Map(balances.map((b) => [String(b.acct_no), dec(b.b, 2)]));
  const nodes = customers.map((c) => ({
    id: c.id,
    name: c.name,
    creditLimit: dec(c.creditLimit, 2),
    receivableBalance: balBy.get(finKey.get(c.id) ?? '') ?? '0',
    salesOrders: {
      nodes: (ordersBy.get(erpKey.get(c.id) ?? '') ?? []).map((o) => ({
        code: o.cSOCode,
        orderDate: day(o.dDate),
        status: ORDER_STATUS[String(o.cState)],
        totalAmount: dec(o.iMoney, 2),
        lines: { nodes: (linesBy.get(String(o.ID)) ?? []).map((l) => ({ lineNo: l.iRowNo, productCode: l.cInvCode, quantity: dec(l.iQuantity, 4), amount: dec(l.iSum, 2) })) },
      })),
    },
    invoices: { nodes: (invBy.get(finKey.get(c.id) ?? '') ?? []).map((v) => ({ code: v.inv_no, dueDate: day(v.due_date), amount: dec(v.amount, 2), balance: dec(v.balance, 2), status: INVOICE_STATUS[String(v.status)] })) },
    approvals: { nodes: (aprBy.get(oaKey.get(c.id) ?? '') ?? []).map((a) => ({ title: a.requestname, status: APPROVAL_STATUS[String(a.flow_state)], submittedAt: shanghai(a.created_at) })) },
  }));
  return JSON.stringify({ data: { customers: { nodes } } });
}

/** What must agree between the two sides, per customer. */
function digest(b: Body): string {
  if (!b.data) throw new Error(`no data: ${JSON.stringify(b.errors)}`);
  return b.data.customers.nodes
    .map((c) =>
      [
        c.id,
        Number(c.receivableBalance).toFixed(2),
        c.salesOrders.nodes.map((o) => `${o.code}:${Number(o.totalAmount).toFixed(2)}:${o.lines.nodes.map((l) => Number(l.amount).toFixed(2)).join('+')}`).join(','),
        c.invoices.nodes.map((v) => `${v.code}:${Number(v.amount).toFixed(2)}`).join(','),
        c.approvals.nodes.map((a) => a.title).join(','),
      ].join('|'),
    )
    .join('\n');
}

function allKnex(app: App): Knex[] {
  return [app.hub.knex, ...['erp', 'finance', 'oa'].map((s) => app.sources.driver(s).knex)];
}

async function countStatements(app: App, fn: () => Promise<unknown>): Promise<{ total: number; bySource: Record<string, number> }> {
  const bySource: Record<string, number> = {};
  const names = ['hub', 'erp', 'finance', 'oa'];
  const listeners = allKnex(app).map((k, i) => {
    const on = () => (bySource[names[i]] = (bySource[names[i]] ?? 0) + 1);
    k.on('query', on);
    return () => k.removeListener('query', on);
  });
  try {
    await fn();
  } finally {
    listeners.forEach((off) => off());
  }
  return { total: Object.values(bySource).reduce((a, b) => a + b, 0), bySource };
}

async function benchScale(customers: number, runLoad: boolean) {
  const t0 = performance.now();
  const d = await deploy({
    customers,
    erp: f.get('erp', 'postgres') as BenchDialect,
    finance: f.get('finance', 'mysql') as BenchDialect,
    oa: f.get('oa', 'sqlite') as BenchDialect,
    hub: f.get('hub', 'sqlite') as 'sqlite' | 'postgres',
  });
  const setupSeconds = round((performance.now() - t0) / 1000);
  try {
    const { app } = d;
    const yoga = createYogaApp(app, { logger: false });
    const post = async (): Promise<Body> => {
      const res = await yoga.fetch('http://bench/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: QUERY }) });
      return (await res.json()) as Body;
    };
    // The response is read as text, as the other side's string is: neither side parses JSON.
    const graphql = async () => {
      const res = await yoga.fetch('http://bench/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: QUERY }) });
      const text = await res.text();
      if (res.status !== 200 || !text.startsWith('{"data"') || text.includes('"errors"')) throw new Error(`GraphQL failed: ${text.slice(0, 500)}`);
    };
    const sql = async () => {
      const text = await handWritten(app);
      if (text.length < 1000) throw new Error('hand-written SQL returned nothing');
    };

    // Same data on both sides.
    const g = await post();
    const h = JSON.parse(await handWritten(app)) as Body;
    const dg = digest(g);
    if (dg !== digest(h)) throw new Error(`GraphQL and hand-written SQL disagree:\n${dg.slice(0, 400)}\n---\n${digest(h).slice(0, 400)}`);
    const rows = g.data!.customers.nodes.reduce(
      (acc, c) => ({
        customers: acc.customers,
        orders: acc.orders + c.salesOrders.nodes.length,
        lines: acc.lines + c.salesOrders.nodes.reduce((n, o) => n + o.lines.nodes.length, 0),
        invoices: acc.invoices + c.invoices.nodes.length,
        approvals: acc.approvals + c.approvals.nodes.length,
      }),
      { customers: PAGE, orders: 0, lines: 0, invoices: 0, approvals: 0 },
    );
    const bytes = { graphql: JSON.stringify(g).length, sql: JSON.stringify(h).length };

    if (process.env.BENCH_TRACE) {
      const started = new Map<string, number>();
      allKnex(app).forEach((k) => {
        k.on('query', (q: { __knexQueryUid: string }) => started.set(q.__knexQueryUid, performance.now()));
        k.on('query-response', (_r: unknown, q: { __knexQueryUid: string; sql: string }) =>
          process.stderr.write(`${(performance.now() - (started.get(q.__knexQueryUid) ?? 0)).toFixed(1)}ms ${q.sql.slice(0, 160)}\n`),
        );
      });
      let t = performance.now();
      await graphql();
      process.stderr.write(`graphql total ${(performance.now() - t).toFixed(1)}ms\n`);
      t = performance.now();
      await sql();
      process.stderr.write(`sql total ${(performance.now() - t).toFixed(1)}ms\n`);
      return null;
    }

    for (let i = 0; i < 30; i++) {
      await graphql();
      await sql();
    }
    const statements = { graphql: await countStatements(app, graphql), sql: await countStatements(app, sql) };

    if (PROFILE) {
      const seconds = f.num('profile-seconds', 10);
      const clients = f.num('profile-clients', 10);
      const file = f.get('profile-out', join(tmpdir(), `crmlink-customer360-${PROFILE}.cpuprofile`));
      const run = () => closedLoop(clients, seconds, PROFILE === 'sql' ? sql : graphql);
      if (f.get('profile-kind', 'cpu') === 'alloc') {
        const { result, summary } = await allocationsDuring(file.replace(/\.cpuprofile$/, '.heapprofile'), run, 40);
        return { customers, profile: PROFILE, kind: 'alloc', load: result, summary, mibPerRequest: round(summary.totalMiB / Math.max(1, result.requests), 2) };
      }
      const { result, summary } = await profileDuring(file, run);
      return { customers, profile: PROFILE, file, load: result, summary };
    }

    const runs: Record<string, unknown> = {};
    if (runLoad) {
      for (const clients of CLIENTS) {
        const gl: number[] = [];
        const sl: number[] = [];
        const gr: LoadResult[] = [];
        const sr: LoadResult[] = [];
        for (let r = 0; r < ROUNDS; r++) {
          gr.push(await closedLoop(clients, SECONDS, graphql, { latencies: gl }));
          sr.push(await closedLoop(clients, SECONDS, sql, { latencies: sl }));
        }
        const gq = mergeRounds(gr, gl);
        const sq = mergeRounds(sr, sl);
        runs[`clients_${clients}`] = {
          graphql: gq,
          sql: sq,
          throughputRatio: round(gq.perSecond / sq.perSecond, 3),
          // The same ratio from CPU time per request: steadier when other processes share the cores.
          cpuRatio: round((sq.cpuMsPerRequest ?? 0) / Math.max(0.001, gq.cpuMsPerRequest ?? 0), 3),
        };
      }
    }
    return { customers, setupSeconds, loadSeconds: Object.fromEntries(d.loads.map((l) => [`${l.system}:${l.dialect}`, l.seconds])), hubSeedSeconds: d.hubSeedSeconds, rowsPerRequest: rows, responseBytes: bytes, statementsPerRequest: statements, ...runs };
  } finally {
    await d.close();
  }
}

const results: unknown[] = [];
for (const [i, n] of SCALES.entries()) {
  // The load runs at every scale; with --profile only the first scale is loaded.
  const r = await benchScale(n, true);
  if (r === null) break;
  results.push(r);
  if (PROFILE) break;
  if (i === SCALES.length - 1) break;
}
process.stdout.write(
  `${JSON.stringify(
    {
      bench: 'customer360',
      machine: machine(),
      sources: { erp: f.get('erp', 'postgres'), finance: f.get('finance', 'mysql'), oa: f.get('oa', 'sqlite'), hub: f.get('hub', 'sqlite') },
      seconds: SECONDS,
      rounds: ROUNDS,
      results,
    },
    null,
    2,
  )}\n`,
);
