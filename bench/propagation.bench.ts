/**
 * Propagation benchmark: change → visible in every other system, with a 5-minute cron schedule
 * (so the schedule plays no part: what is measured is event-driven propagation and change
 * notifications).
 *
 *   node --import tsx bench/propagation.bench.ts [--samples 50] [--customers 1000]
 *
 * Topology: hub on SQLite, the ERP on MariaDB, finance on PostgreSQL with trigger capture (its
 * triggers NOTIFY), the job `customers` on both, `crmlink serve`'s background work running
 * (propagation queue with the default 200 ms debounce, the LISTEN connection, the scheduler).
 *
 * 1. GraphQL create: `createCustomer` (without WAIT) through the HTTP server; the ERP and finance
 *    tables are polled every 5 ms until both hold the row: time from sending the mutation to
 *    visible in both.
 * 2. Source update: a finance row's phone is changed directly in PostgreSQL; the ERP table is
 *    polled every 5 ms until it shows the new phone: time from the source commit to visible.
 *
 * Prints one JSON object (p50, p99, max per case). Needs PostgreSQL and MariaDB on 127.0.0.1.
 */
import { openApp } from '../app/app.js';
import { parseConfig } from '../config/load.js';
import { silentLogger } from '../core/logger.js';
import { startServer } from '../server/server.js';
import { startPropagation } from '../sync/propagation.js';
import { startScheduler } from '../sync/scheduler.js';
import { startSourceListener } from '../sync/source-listener.js';
import { SERVER_AUTH } from '../tests/graphql/fixture.js';
import { createWorld } from '../tests/sync/support.js';
import { loadBenchCustomers } from './lib/sync-world.js';

const argv = process.argv.slice(2);
const arg = (name: string, dflt: number) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};
const SAMPLES = arg('samples', 50);
const CUSTOMERS = arg('customers', 1000);
const KEY = 'admin-key-0123456789';

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

function summary(ms: number[]) {
  const s = [...ms].sort((a, b) => a - b);
  return { samples: s.length, p50Ms: Math.round(quantile(s, 0.5)), p99Ms: Math.round(quantile(s, 0.99)), maxMs: Math.round(s[s.length - 1]) };
}

async function until(check: () => Promise<boolean>, limitMs = 30_000): Promise<void> {
  const start = performance.now();
  while (!(await check())) {
    if (performance.now() - start > limitMs) throw new Error('not visible within 30 s');
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function main(): Promise<void> {
  const world = await createWorld({ erp: 'mysql', finance: 'postgres', financeCapture: 'trigger', schedule: '*/5 * * * *', label: 'pbench' });
  const app = await openApp(parseConfig(`${world.yaml}server:${SERVER_AUTH}`), { logger: silentLogger });
  try {
    await loadBenchCustomers(world, app, CUSTOMERS);
    const propagation = (app.propagation = startPropagation(app));
    const listener = await startSourceListener(app);
    const scheduler = startScheduler(app, { runOptions: { lockWaitMs: 30_000 } });
    const server = await startServer(app, { port: 0, host: '127.0.0.1', background: [propagation, listener, scheduler] });
    const url = `http://127.0.0.1:${server.port}/graphql`;

    const create: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const code = `N${String(i).padStart(5, '0')}`;
      const t0 = performance.now();
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': KEY },
        body: JSON.stringify({ query: `mutation { createCustomer(input: { code: "${code}", name: "New ${i}" }) { id } }` }),
      });
      const body = (await res.json()) as { errors?: unknown[] };
      if (body.errors) throw new Error(JSON.stringify(body.errors));
      await until(async () => !!(await world.erp('erp_customer').where({ cust_code: code }).first()) && !!(await world.fin('fin_account').where({ acct_no: code }).first()));
      create.push(performance.now() - t0);
    }

    const update: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const code = `B${String(i).padStart(5, '0')}`;
      const phone = `020-${String(20000000 + i)}`;
      const t0 = performance.now();
      await world.fin('fin_account').where({ acct_no: code }).update({ phone });
      await until(async () => ((await world.erp('erp_customer').where({ cust_code: code }).first()) as { phone?: string } | undefined)?.phone === phone);
      update.push(performance.now() - t0);
    }

    process.stdout.write(
      `${JSON.stringify({ bench: 'propagation', customers: CUSTOMERS, schedule: '*/5 * * * *', graphqlCreateToEverySystem: summary(create), sourceUpdateToOtherSystem: summary(update) }, null, 2)}\n`,
    );
    await server.close();
  } finally {
    await world.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
