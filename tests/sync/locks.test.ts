/**
 * A job never overlaps itself: in one process (SQLite hub: one process by design), and across App
 * instances with their own hub connections and schedulers sharing one PostgreSQL hub, where each
 * tick runs once. (Two real processes are in crash.test.ts.)
 */
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { runJob } from '../../sync/engine.js';
import { startScheduler } from '../../sync/scheduler.js';
import type { FaultHook } from '../../sync/types.js';
import { requireDialect } from '../support/databases.js';
import { ACME_AND_BETA_NO_PHONE, createWorld, seedErp, CODE_A } from './support.js';
import { closeAfterTest } from '../support/lifecycle.js';
import { seededWorld } from './seeded.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const slowRead: FaultHook = {
  at: async (point) => {
    if (point === 'after-read') await sleep(400);
  },
};

describe('job lock on a SQLite hub', () => {
  it('runs one of two overlapping runs and records the other as skipped', async () => {
    const { world, app } = await seededWorld([{ code: 'C001', name: 'Acme', creditCode: CODE_A }]);
    const [a, b] = await Promise.all([runJob(app, 'customers', { faults: slowRead }), runJob(app, 'customers')]);
    expect([a.status, b.status].sort()).toEqual(['ok', 'skipped']);
    expect([a, b].find((r) => r.status === 'skipped')?.reason).toMatch(/^LOCKED/);
    expect(await app.hub.knex('crm_run').orderBy('status').pluck('status')).toEqual(['ok', 'skipped']);
    expect(await app.hub.knex('crm_lock').count({ n: '*' })).toEqual([{ n: 0 }]);
  });

  it('takes over a lock left by a process that no longer exists', async () => {
    const { world, app } = await seededWorld([{ code: 'C001', name: 'Acme', creditCode: CODE_A }]);
    await runJob(app, 'customers'); // creates the tables
    const far = new Date(Date.now() + 3600_000).toISOString();
    await app.hub.knex('crm_lock').insert({ name: 'crmlink:job:customers', holder: `${hostname()}:2147483646:dead`, acquired_at: far, expires_at: far });
    await app.hub.knex('crm_run').insert({ job: 'customers', status: 'running', dry_run: false, started_at: far });
    const r = await runJob(app, 'customers');
    expect(r.status).toBe('ok');
    expect(await app.hub.knex('crm_run').where({ status: 'abandoned' }).count({ n: '*' })).toEqual([{ n: 1 }]);
  });
});

describe('job lock on a PostgreSQL hub', () => {
  it('lets one of two App instances run; the other records a skipped run', async (t) => {
    if (!(await requireDialect('postgres'))) return t.skip();
    const world = closeAfterTest(await createWorld({ hub: 'postgres', label: 'lock' }));
    await seedErp(world.erp, [{ code: 'C001', name: 'Acme', creditCode: CODE_A }]);
    const a = await world.open();
    const b = await world.open();
    // b starts once a is known to hold the lock (a has read), whatever the machine's load.
    let holding!: () => void;
    const aHolds = new Promise<void>((r) => (holding = r));
    const signalThenSlow: FaultHook = {
      at: async (point) => {
        if (point !== 'after-read') return;
        holding();
        await sleep(400);
      },
    };
    const reports = await Promise.all([runJob(a, 'customers', { faults: signalThenSlow }), aHolds.then(() => runJob(b, 'customers'))]);
    expect(reports.map((r) => r.status).sort()).toEqual(['ok', 'skipped']);
    expect(reports.find((r) => r.status === 'skipped')?.reason).toMatch(/^LOCKED/);
    // The lock is free again.
    expect((await runJob(b, 'customers')).status).toBe('ok');
  });

  it('runs a tick once even when the second process tries after the first has finished', async (t) => {
    if (!(await requireDialect('postgres'))) return t.skip();
    const world = closeAfterTest(await createWorld({ hub: 'postgres', label: 'tick' }));
    const a = await world.open();
    const b = await world.open();
    const tick = '2030-01-01T00:00:00.000Z';
    expect((await runJob(a, 'customers', { tick })).status).toBe('ok');
    const second = await runJob(b, 'customers', { tick });
    expect(second.status).toBe('skipped');
    expect(second.reason).toMatch(/already run/);
  });

  it('two schedulers on one hub: every tick runs exactly once', async (t) => {
    if (!(await requireDialect('postgres'))) return t.skip();
    // A pattern that never fires during the test: the ticks are driven by hand, the same instants
    // in both schedulers, so the outcome depends on the hub's lock and tick claim, not on timing.
    const world = closeAfterTest(await createWorld({ hub: 'postgres', label: 'sched', schedule: '0 0 1 1 *' }));
    await seedErp(world.erp, ACME_AND_BETA_NO_PHONE);
    const a = await world.open();
    const b = await world.open();
    // Each pair of ticks is awaited before the next, so a report belongs to the current tick.
    let current = '';
    const reports: { tick: string; status: string }[] = [];
    const onRun = (r: { status: string }) => reports.push({ tick: current, status: r.status });
    const s1 = startScheduler(a, { onRun });
    const s2 = startScheduler(b, { onRun });
    expect(s1.jobs()).toEqual([expect.objectContaining({ job: 'customers', schedule: '0 0 1 1 *' })]);
    const ticks = [0, 1, 2, 3, 4].map((i) => new Date(Date.UTC(2030, 0, 1, 0, 0, i)));
    for (const [i, at] of ticks.entries()) {
      current = at.toISOString();
      // alternate which scheduler is asked first, so both orders are covered
      await Promise.all(i % 2 ? [s2.tick('customers', at), s1.tick('customers', at)] : [s1.tick('customers', at), s2.tick('customers', at)]);
    }
    await Promise.all([s1.stop(), s2.stop()]);
    expect(reports).toHaveLength(10);
    for (const at of ticks) {
      const outcomes = reports.filter((r) => r.tick === at.toISOString()).map((r) => r.status).sort();
      expect(outcomes, at.toISOString()).toEqual(['ok', 'skipped']);
    }
    const claimed = (await a.hub.knex('crm_sync_tick').select('tick')) as { tick: string }[];
    expect(claimed.map((c) => new Date(c.tick).toISOString()).sort()).toEqual(ticks.map((d) => d.toISOString()));
    expect(await a.hub.knex('crm_run').whereNot({ status: 'skipped' }).count({ n: '*' })).toEqual([{ n: '5' }]);
    expect(await a.hub.knex('crm_customer').count({ n: '*' })).toEqual([{ n: '2' }]);
  });
});
