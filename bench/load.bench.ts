/**
 * Load (issue 7.5): the GraphQL API under 100 concurrent clients against a real HTTP server while
 * a sync job runs again and again: zero errors, no pool exhaustion, throughput and p50/p99.
 *
 *   node --import tsx bench/load.bench.ts [--seconds 15] [--clients 100] [--customers 10000]
 *        [--edits 200] [--hub sqlite|postgres] [--pool 10]   (the ERP must be PostgreSQL, finance MariaDB)
 *
 * Set-up: the three-source deployment of bench/lib/setup.ts (ERP on PostgreSQL, finance on
 * MariaDB, OA on SQLite, hub on SQLite), filled by a real initial sync run; the server is
 * server/server.ts startServer on 127.0.0.1, port 0.
 *
 * While --clients closed-loop clients (a child process, bench/lib/http-load.ts) send a mix of
 * queries for --seconds — a customer-360 page (10 customers × orders, lines, invoices, approvals,
 * balance), a filtered and ordered customer list, and an order list by state — this process loops:
 * edit --edits random ERP customers and --edits finance accounts, run the job `customers`, until
 * the load ends (bounded: it stops with the load, and each run is awaited).
 *
 * Every 100 ms the knex pools of the hub and each source are sampled (connections in use, waiting
 * acquires). Exits non-zero on any failed request or failed sync run. Prints one JSON document.
 */
import { performance } from 'node:perf_hooks';
import { flags, machine, poolStats, round, type PoolStats } from './lib/common.js';
import { runHttpLoad } from './lib/http-load.js';
import type { BenchDialect } from './data/generate.js';

process.env.NODE_ENV ??= 'production';
const { deploy } = await import('./lib/setup.js');
const { startServer } = await import('../server/server.js');
const { runJob } = await import('../sync/engine.js');
const { customerCode, accountNo } = await import('./data/generate.js');

const f = flags();
const SECONDS = f.num('seconds', 15);
const CLIENTS = f.num('clients', 100);
const CUSTOMERS = f.num('customers', 10_000);
const EDITS = f.num('edits', 200);
const POOL = f.num('pool', 10);

const QUERIES = [
  `{ customers(first: 10) { nodes { id name creditLimit receivableBalance
     salesOrders(first: 10) { nodes { code orderDate status totalAmount lines { nodes { lineNo productCode quantity amount } } } }
     invoices(first: 10) { nodes { code dueDate amount balance status } }
     approvals { nodes { title status submittedAt } } } } }`,
  `{ customers(first: 20, where: { city: { eq: "北京市" } }, orderBy: [{ field: creditLimit, direction: DESC }]) { nodes { id code name phone creditLimit ownerId } } }`,
  `{ salesOrders(first: 50, where: { status: { eq: APPROVED } }, orderBy: [{ field: orderDate, direction: DESC }]) { nodes { id code orderDate totalAmount customer { id name } } } }`,
].map((query) => JSON.stringify({ query }));

interface PoolPeak extends PoolStats {
  samples: number;
  maxUsed: number;
  maxPendingAcquires: number;
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const d = await deploy({
    customers: CUSTOMERS,
    erp: f.get('erp', 'postgres') as BenchDialect,
    finance: f.get('finance', 'mysql') as BenchDialect,
    oa: f.get('oa', 'sqlite') as BenchDialect,
    hub: f.get('hub', 'sqlite') as 'sqlite' | 'postgres',
    seedHub: false,
    poolMax: POOL,
  });
  let server: Awaited<ReturnType<typeof startServer>> | null = null;
  try {
    const { app } = d;
    // The hub filled the way production fills it: a real initial run.
    const tInit = performance.now();
    const initial = await runJob(app, 'customers');
    if (initial.status !== 'ok') throw new Error(`initial sync: ${initial.status} ${JSON.stringify(initial.error)}`);
    const initialSeconds = round((performance.now() - tInit) / 1000);
    // The OA names customers by their ERP code: the same golden record under source "oa".
    await app.hub.knex.raw(`insert into crm_xref (entity, source, source_key, gid, rule, linked_at) select entity, 'oa', source_key, gid, 'name', linked_at from crm_xref where entity = 'Customer' and source = 'erp'`);
    const setupSeconds = round((performance.now() - t0) / 1000);

    server = await startServer(app, { port: 0, host: '127.0.0.1' });
    const url = `http://127.0.0.1:${server.port}/graphql`;

    const pools = { hub: app.hub.knex, erp: app.sources.driver('erp').knex, finance: app.sources.driver('finance').knex, oa: app.sources.driver('oa').knex };
    const peaks: Record<string, PoolPeak> = {};
    const sample = () => {
      for (const [name, k] of Object.entries(pools)) {
        const s = poolStats(k);
        const p = (peaks[name] ??= { ...s, samples: 0, maxUsed: 0, maxPendingAcquires: 0 });
        p.samples++;
        p.maxUsed = Math.max(p.maxUsed, s.used);
        p.maxPendingAcquires = Math.max(p.maxPendingAcquires, s.pendingAcquires);
        Object.assign(p, { used: s.used, free: s.free, pendingAcquires: s.pendingAcquires, pendingCreates: s.pendingCreates, max: s.max });
      }
    };
    const sampler = setInterval(sample, 100);

    // The sync loop: edits on both sides, then a run; until the load is over.
    const erp = pools.erp;
    const fin = pools.finance;
    let stop = false;
    const runs: { ms: number; status: string; read: number; written: number; conflicts: number }[] = [];
    let round_ = 0;
    const syncLoop = (async () => {
      while (!stop) {
        round_++;
        const pick = (salt: number) => Array.from({ length: EDITS }, (_, j) => 1 + ((round_ * 7919 + j * 104_729 + salt) % CUSTOMERS));
        await erp('Customer')
          .whereIn('cCusCode', pick(1).map(customerCode))
          .update({ cCusPhone: erp.raw(`left("cCusPhone", 13) || ?`, [String(round_ % 10)]), dModifyDate: erp.raw(`(now() at time zone 'Asia/Shanghai')::timestamp(0)`) });
        await fin('fin_customer')
          .whereIn('acct_no', pick(5).map(accountNo))
          .update({ credit_limit: fin.raw('credit_limit + 1000'), updated_at: fin.raw('UTC_TIMESTAMP()') });
        const t = performance.now();
        const r = await runJob(app, 'customers');
        runs.push({ ms: Math.round(performance.now() - t), status: r.status, read: r.totals.read, written: r.totals.written, conflicts: r.totals.conflicts });
      }
    })();

    let load;
    try {
      load = await runHttpLoad({ url, bodies: QUERIES, clients: CLIENTS, seconds: SECONDS });
    } finally {
      stop = true;
      await syncLoop;
      clearInterval(sampler);
      sample();
    }
    const failedRuns = runs.filter((r) => r.status !== 'ok' && r.status !== 'partial');
    const result = {
      bench: 'load',
      machine: machine(),
      customers: CUSTOMERS,
      setupSeconds,
      initialSyncSeconds: initialSeconds,
      clients: CLIENTS,
      seconds: SECONDS,
      graphql: { ...load, byBody: load.byBody.map((b, i) => ({ query: ['customer-360 (10 customers)', 'customer list (filter, order)', 'order list with customer'][i], ...b })) },
      sync: {
        runs: runs.length,
        failed: failedRuns.length,
        editsPerRun: { erp: EDITS, finance: EDITS },
        meanRunMs: Math.round(runs.reduce((a, r) => a + r.ms, 0) / Math.max(1, runs.length)),
        maxRunMs: Math.max(0, ...runs.map((r) => r.ms)),
        statuses: runs.reduce<Record<string, number>>((acc, r) => ((acc[r.status] = (acc[r.status] ?? 0) + 1), acc), {}),
      },
      pools: Object.fromEntries(Object.entries(peaks).map(([k, p]) => [k, { max: p.max, maxUsed: p.maxUsed, maxPendingAcquires: p.maxPendingAcquires, samples: p.samples }])),
      verdict: {
        zeroErrors: load.errors === 0 && failedRuns.length === 0,
        // Exhaustion = a request that could not get a connection (knex's acquire timeout): it
        // would be a failed request above. Waiting acquires are queueing, reported as they are.
        noPoolExhaustion: load.errors === 0,
      },
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    if (!result.verdict.zeroErrors) process.exitCode = 1;
  } finally {
    await server?.close();
    await d.close();
  }
}

await main();
