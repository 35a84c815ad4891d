/**
 * The short poll for sources that cannot notify (sync/source-poller.ts, `pollIntervalMs`): a
 * source change is picked up at the next poll (the 5-minute cron plays no part) and reaches the
 * other system; a quiet source costs one small statement per poll and nothing in the hub; two
 * processes on one PostgreSQL hub pull a change once; the poll stops on stop().
 *
 * Polls are driven either by a short real interval (the pickup cases, waiting on the run) or by
 * timers the test fires itself (counting statements per poll, and stop).
 */
import { describe, expect, it } from 'vitest';
import type { Dialect } from '../../config/schema.js';
import { installCapture } from '../../connectors/capture/index.js';
import { runJob } from '../../sync/engine.js';
import { SourcePoller, type PollOutcome, type PollTimers } from '../../sync/source-poller.js';
import type { RunReport } from '../../sync/types.js';
import type { App } from '../../app/app.js';
import { collector } from '../support/collector.js';
import { requireDialect } from '../support/databases.js';
import { cleanupsAfterEach } from '../support/lifecycle.js';
import { createWorld, runHeldAfterRead, seedErp, CODE_A, type World, type WorldOptions } from './support.js';

let world: World | null = null;
const cleanups = cleanupsAfterEach(async () => {
  await world?.close();
  world = null;
});

/** Timers the test fires: `fire()` runs the armed poll now. */
function manualTimers() {
  const armed = new Map<number, () => void>();
  let next = 1;
  const timers: PollTimers = {
    set: (fn) => {
      armed.set(next, fn);
      return next++;
    },
    clear: (handle) => void armed.delete(handle as number),
  };
  return {
    timers,
    armed: () => armed.size,
    fire() {
      const first = [...armed][0];
      if (!first) throw new Error('no poll is armed');
      armed.delete(first[0]);
      first[1]();
    },
  };
}

async function runCount(app: App): Promise<number> {
  const row = (await app.hub.knex('crm_run').count({ n: '*' }).first()) as { n: number | string };
  return Number(row.n);
}

type Case = { name: string; dialect: Dialect; world: WorldOptions; edit: (w: World) => Promise<unknown>; polled: 'erp' | 'finance'; target: 'erp' | 'finance' };

const NEW_PHONE = '010-9';
const editErp = (w: World) => w.erp('erp_customer').where({ cust_code: 'C001' }).update({ phone: NEW_PHONE, updated_at: new Date(Date.now() + 1000).toISOString() });
const editFinance = (w: World) => w.fin('fin_account').where({ acct_no: 'C001' }).update({ phone: NEW_PHONE });

const CASES: Case[] = [
  { name: 'MariaDB, timestamp capture', dialect: 'mysql', world: { erp: 'mysql', erpCapture: 'timestamp' }, edit: editErp, polled: 'erp', target: 'finance' },
  { name: 'MariaDB, trigger capture (change log)', dialect: 'mysql', world: { finance: 'mysql', financeCapture: 'trigger' }, edit: editFinance, polled: 'finance', target: 'erp' },
  { name: 'SQLite, trigger capture (change log)', dialect: 'sqlite', world: { finance: 'sqlite', financeCapture: 'trigger' }, edit: editFinance, polled: 'finance', target: 'erp' },
  { name: 'SQLite, timestamp capture', dialect: 'sqlite', world: { erp: 'sqlite', erpCapture: 'timestamp' }, edit: editErp, polled: 'erp', target: 'finance' },
  { name: 'PostgreSQL without triggers, timestamp capture', dialect: 'postgres', world: { erp: 'postgres', erpCapture: 'timestamp' }, edit: editErp, polled: 'erp', target: 'finance' },
];

async function openWorld(c: Pick<Case, 'world' | 'polled'>, label: string, extra: WorldOptions = {}): Promise<App> {
  world = await createWorld({ ...c.world, ...extra, label, schedule: '*/5 * * * *' });
  const app = await world.open();
  if (c.world.financeCapture === 'trigger') await installCapture(app.sources.driver('finance'), app.sources.mapping('Customer', 'finance'));
  await seedErp(world.erp, [{ code: 'C001', name: 'Acme', creditCode: CODE_A, phone: '010-1' }]);
  const load = await runJob(app, 'customers');
  expect(load.status).toBe('ok');
  return app;
}

describe('short poll of sources that cannot notify', () => {
  it.for(CASES)('$name: a source edit is pulled at the next poll and reaches the other system', async (c, t) => {
    if (!(await requireDialect(c.dialect))) return t.skip();
    const app = await openWorld(c, 'poll', { pollIntervalMs: 100 });
    const runs = collector<RunReport>();
    const poller = new SourcePoller(app, { onRun: (r) => runs.push(r) });
    cleanups.push(() => poller.stop());
    expect(poller.polled()).toEqual({ customers: [c.polled] });
    poller.start();

    await c.edit(world!);
    const run = await runs.untilItem((r) => r.sources[c.target].updated > 0);
    expect(run.status).toBe('ok');
    expect(run.sources[c.polled].read).toBe(1);
    const other = c.polled === 'erp' ? 'finance' : 'erp';
    expect(run.sources[other].read).toBe(0); // only the source that moved is pulled
    const target = c.target === 'erp' ? await world!.erp('erp_customer').where({ cust_code: 'C001' }).first() : await world!.fin('fin_account').where({ acct_no: 'C001' }).first();
    expect(target).toMatchObject({ phone: NEW_PHONE });
  });

  it('a quiet source costs one small statement per poll, nothing in the hub, and starts no run; stop() ends the polling', async (t) => {
    if (!(await requireDialect('mysql'))) return t.skip();
    // Both MariaDB: the ERP by timestamp, finance by its change log; both polled.
    const app = await openWorld({ world: { erp: 'mysql', erpCapture: 'timestamp', finance: 'mysql', financeCapture: 'trigger' }, polled: 'erp' }, 'pollquiet', { pollIntervalMs: 2000 });
    const manual = manualTimers();
    const polls = collector<PollOutcome>();
    const poller = new SourcePoller(app, { timers: manual.timers, onPoll: (o) => polls.push(o) });
    cleanups.push(() => poller.stop());
    expect(poller.polled()).toEqual({ customers: ['erp', 'finance'] });
    poller.start();
    expect(manual.armed()).toBe(1);

    // The first poll has nothing to compare with: it looks at the hub's checkpoints, under the
    // job's lock. The load pushed the ERP's customer into finance: the change log moved, but only
    // by crmlink's own writes, so nothing runs.
    const runsBefore = await runCount(app);
    manual.fire();
    const first = await polls.untilItem(() => true);
    expect(first).toMatchObject({ changed: ['erp', 'finance'], run: 'not-needed', failed: [] });

    const sql: Record<string, string[]> = { erp: [], finance: [], hub: [] };
    const offs = (['erp', 'finance'] as const).map((s) => app.sources.driver(s).onQuery((q) => sql[s].push(q)));
    cleanups.push(async () => offs.forEach((off) => off()));
    const onHub = (q: { sql?: string }) => sql.hub.push(q.sql ?? '');
    app.hub.knex.on('query', onHub);
    cleanups.push(async () => void app.hub.knex.removeListener('query', onHub));

    const QUIET = 5;
    for (let i = 2; i <= QUIET + 1; i++) {
      manual.fire();
      const outcome = await polls.untilItem(() => polls.items.length >= i);
      expect(outcome).toMatchObject({ changed: [], run: null, failed: [] });
    }
    expect(sql.erp).toHaveLength(QUIET);
    expect(sql.finance).toHaveLength(QUIET);
    for (const q of sql.erp) expect(q).toMatch(/^select `updated_at` from `erp_customer` where \(`updated_at` is not null\) order by `updated_at` desc limit \?$/);
    for (const q of sql.finance) expect(q).toMatch(/^select max\(`id`\) as `m` from `crmlink_changelog` where `table_name` = \?$/);
    expect(sql.hub).toEqual([]);
    expect(await runCount(app)).toBe(runsBefore);

    // stop(): the armed poll is cancelled and none is armed again; a poll asked for does nothing.
    await poller.stop();
    expect(manual.armed()).toBe(0);
    await poller.pollNow('customers');
    expect(sql.erp).toHaveLength(QUIET);
    expect(polls.items).toHaveLength(QUIET + 1);
  });

  it('a poll never overlaps a run of its job: a busy job is asked again at the next poll', async (t) => {
    if (!(await requireDialect('mysql'))) return t.skip();
    const app = await openWorld({ world: { erp: 'mysql', erpCapture: 'timestamp' }, polled: 'erp' }, 'pollbusy', { pollIntervalMs: 2000 });
    const manual = manualTimers();
    const polls = collector<PollOutcome>();
    const poller = new SourcePoller(app, { timers: manual.timers, onPoll: (o) => polls.push(o) });
    cleanups.push(() => poller.stop());
    poller.start();
    manual.fire();
    await polls.untilItem(() => true);

    await editErp(world!);
    // A run of the job is between its read and its write when the poll comes.
    const { atRead, release, run: running } = runHeldAfterRead(app, 'customers');
    await atRead;
    manual.fire();
    expect(await polls.untilItem(() => polls.items.length >= 2)).toMatchObject({ changed: ['erp'], run: 'busy' });
    release();
    const report = await running;
    expect(report.sources.finance.updated).toBe(1);
    // The mark is still unseen: the next poll asks again, finds the run took it in, runs nothing.
    const runsBefore = await runCount(app);
    manual.fire();
    expect(await polls.untilItem(() => polls.items.length >= 3)).toMatchObject({ changed: ['erp'], run: 'not-needed' });
    expect(await runCount(app)).toBe(runsBefore);
  });

  it('two crmlink processes on one PostgreSQL hub pull a polled change once', async (t) => {
    if (!(await requireDialect('postgres')) || !(await requireDialect('mysql'))) return t.skip();
    const appA = await openWorld({ world: { hub: 'postgres', erp: 'mysql', erpCapture: 'timestamp' }, polled: 'erp' }, 'polltwo', { pollIntervalMs: 2000 });
    const appB = await world!.open();
    const pollers = [appA, appB].map((app) => {
      const manual = manualTimers();
      const polls = collector<PollOutcome>();
      const poller = new SourcePoller(app, { timers: manual.timers, onPoll: (o) => polls.push(o) });
      cleanups.push(() => poller.stop());
      poller.start();
      return { manual, polls, poller };
    });
    // First polls: both look and find the hub current.
    for (const p of pollers) {
      p.manual.fire();
      expect(await p.polls.untilItem(() => true)).toMatchObject({ run: 'not-needed' });
    }
    const runsBefore = await runCount(appA);

    await editErp(world!);
    // Both processes poll at once: one pulls, the other finds the job busy or the hub current.
    for (const p of pollers) p.manual.fire();
    const outcomes = await Promise.all(pollers.map((p) => p.polls.untilItem(() => p.polls.items.length >= 2)));
    const ran = outcomes.filter((o) => typeof o.run === 'object' && o.run !== null);
    expect(ran).toHaveLength(1);
    expect((ran[0].run as RunReport).sources.finance.updated).toBe(1);
    // And again: whichever was busy now finds the hub current.
    for (const p of pollers) p.manual.fire();
    const again = await Promise.all(pollers.map((p) => p.polls.untilItem(() => p.polls.items.length >= 3)));
    for (const o of again) expect(o.run === null || o.run === 'not-needed').toBe(true);
    expect(await runCount(appA)).toBe(runsBefore + 1);
    expect(await world!.fin('fin_account').where({ acct_no: 'C001' }).first()).toMatchObject({ phone: NEW_PHONE });
  });
});
