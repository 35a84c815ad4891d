/**
 * Short-poll benchmark (`sync.jobs.<name>.pollIntervalMs`, sync/source-poller.ts): change → visible
 * in the other system for sources that cannot notify, with a 5-minute cron (so the schedule plays
 * no part), and what polling costs while the sources are quiet.
 *
 *   node --import tsx bench/poll.bench.ts [--samples 50] [--customers 1000] [--poll-ms 250,1000] [--quiet-seconds 60] [--only latency|quiet]
 *
 * Topology: hub on SQLite; the ERP on MariaDB with timestamp capture (`updated_at`, indexed), finance
 * on MariaDB with trigger capture (crmlink_changelog); the job `customers` on both, polled;
 * `crmlink serve`'s background work running (propagation queue, poller, scheduler).
 *
 * 1. Latency, per poll interval: an ERP row's phone changed in MariaDB (with its updated_at) until
 *    finance shows it, and a finance row's phone changed until the ERP shows it; the target tables
 *    polled every 5 ms. Each change waits a random part of the interval first, so changes fall at
 *    every point of the poll's cycle.
 * 2. Quiet cost, per setting (polling off, then each interval): nothing changes for
 *    --quiet-seconds after the first poll (which compares with the hub's checkpoints once), the
 *    scheduler left out (a 5-minute tick inside one setting's window would blur the comparison);
 *    statements sent to the two sources and to the hub, runs started, and CPU time of the process
 *    (user + system, process.cpuUsage), each per minute.
 *
 * Prints one JSON object. Needs MariaDB on 127.0.0.1.
 */
import { openApp, closeApp, type App } from '../app/app.js';
import { parseConfig } from '../config/load.js';
import { silentLogger } from '../core/logger.js';
import { startPropagation } from '../sync/propagation.js';
import { startScheduler } from '../sync/scheduler.js';
import { SourcePoller } from '../sync/source-poller.js';
import { createWorld } from '../tests/sync/support.js';
import { loadBenchCustomers } from './lib/sync-world.js';

const argv = process.argv.slice(2);
const arg = (name: string, dflt: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : dflt;
};
const SAMPLES = Number(arg('samples', '50'));
const CUSTOMERS = Number(arg('customers', '1000'));
const INTERVALS = arg('poll-ms', '250,1000').split(',').map(Number);
const QUIET_SECONDS = Number(arg('quiet-seconds', '60'));
/** latency | quiet: one part only (default both). */
const ONLY = arg('only', 'both');

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

function summary(ms: number[]) {
  const s = [...ms].sort((a, b) => a - b);
  return { samples: s.length, p50Ms: Math.round(quantile(s, 0.5)), p99Ms: Math.round(quantile(s, 0.99)), maxMs: Math.round(s[s.length - 1]) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(check: () => Promise<boolean>, limitMs = 30_000): Promise<void> {
  const start = performance.now();
  while (!(await check())) {
    if (performance.now() - start > limitMs) throw new Error('not visible within 30 s');
    await sleep(5);
  }
}

interface Background {
  stop(): Promise<void>;
}

/** serve's background work, with the poller at `pollMs` (null: polling off); `scheduler: false` leaves the cron out. */
function startBackground(app: App, pollMs: number | null, scheduler = true): { background: Background[]; runs: () => number; firstPoll: Promise<void> } {
  let runs = 0;
  let polled!: () => void;
  const firstPoll = new Promise<void>((r) => (polled = r));
  const propagation = (app.propagation = startPropagation(app));
  const background: Background[] = [propagation];
  if (scheduler) background.push(startScheduler(app, { runOptions: { lockWaitMs: 30_000 }, onRun: () => runs++ }));
  if (pollMs !== null) {
    app.config.sync.jobs.customers.pollIntervalMs = pollMs;
    background.push(new SourcePoller(app, { onRun: () => runs++, onPoll: () => polled() }).start());
  } else polled();
  return { background, runs: () => runs, firstPoll };
}

async function stopAll(background: Background[]): Promise<void> {
  for (const b of background.reverse()) await b.stop();
}

async function main(): Promise<void> {
  const world = await createWorld({ erp: 'mysql', erpCapture: 'timestamp', finance: 'mysql', financeCapture: 'trigger', schedule: '*/5 * * * *', pollIntervalMs: 1000, label: 'pollbench' });
  const open = () => openApp(parseConfig(world.yaml), { logger: silentLogger });
  try {
    await world.erp.schema.alterTable('erp_customer', (t) => t.index(['updated_at'], 'erp_customer_updated_at'));
    const setup = await open();
    await loadBenchCustomers(world, setup, CUSTOMERS);
    await closeApp(setup);

    // 1. Latency per interval.
    const latency: Record<string, unknown> = {};
    let n = 0;
    for (const pollMs of ONLY === 'quiet' ? [] : INTERVALS) {
      const app = await open();
      const { background } = startBackground(app, pollMs);
      const erpToFinance: number[] = [];
      const financeToErp: number[] = [];
      for (let i = 0; i < SAMPLES; i++, n++) {
        const code = `B${String(n % CUSTOMERS).padStart(5, '0')}`;
        await sleep(Math.random() * pollMs);
        const phone = `020-${String(20000000 + n)}`;
        let t0 = performance.now();
        await world.erp('erp_customer').where({ cust_code: code }).update({ phone, updated_at: new Date().toISOString() });
        await until(async () => ((await world.fin('fin_account').where({ acct_no: code }).first()) as { phone?: string } | undefined)?.phone === phone);
        erpToFinance.push(performance.now() - t0);

        await sleep(Math.random() * pollMs);
        const phone2 = `030-${String(30000000 + n)}`;
        t0 = performance.now();
        await world.fin('fin_account').where({ acct_no: code }).update({ phone: phone2 });
        await until(async () => ((await world.erp('erp_customer').where({ cust_code: code }).first()) as { phone?: string } | undefined)?.phone === phone2);
        financeToErp.push(performance.now() - t0);
      }
      await stopAll(background);
      await closeApp(app);
      latency[`poll ${pollMs} ms`] = { erpTimestampToFinance: summary(erpToFinance), financeChangeLogToErp: summary(financeToErp) };
    }

    // 2. Quiet cost: polling off, then each interval. Let the last change settle first.
    await sleep(2000);
    const quiet: Record<string, unknown> = {};
    for (const pollMs of ONLY === 'latency' ? [] : [null, ...INTERVALS]) {
      const app = await open();
      const counts = { erp: 0, finance: 0, hub: 0 };
      const offs = (['erp', 'finance'] as const).map((s) => app.sources.driver(s).onQuery(() => counts[s]++));
      const onHub = () => counts.hub++;
      app.hub.knex.on('query', onHub);
      // Without the scheduler: a 5-minute tick falling inside one setting's minute would blur the comparison.
      const { background, runs, firstPoll } = startBackground(app, pollMs, false);
      // The first poll compares with the hub's checkpoints (under the job's lock); what is measured
      // is the steady state after it.
      await firstPoll;
      counts.erp = counts.finance = counts.hub = 0;
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      await sleep(QUIET_SECONDS * 1000);
      const cpu = process.cpuUsage(cpu0);
      const minutes = (performance.now() - t0) / 60_000;
      await stopAll(background);
      offs.forEach((off) => off());
      app.hub.knex.removeListener('query', onHub);
      await closeApp(app);
      const per = (x: number) => Math.round((x / minutes) * 10) / 10;
      quiet[pollMs === null ? 'polling off' : `poll ${pollMs} ms`] = {
        seconds: QUIET_SECONDS,
        erpStatementsPerMinute: per(counts.erp),
        financeStatementsPerMinute: per(counts.finance),
        hubStatementsPerMinute: per(counts.hub),
        runsStarted: runs(),
        cpuMsPerMinute: per((cpu.user + cpu.system) / 1000),
      };
    }

    process.stdout.write(`${JSON.stringify({ bench: 'poll', customers: CUSTOMERS, schedule: '*/5 * * * *', latency, quiet }, null, 2)}\n`);
  } finally {
    await world.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
