/**
 * Freshness: a sync run that wrote to the hub refreshes the analysis of the customers it touched
 * (through the scheduler's onRun, as `crmlink serve` wires it), a full refresh can be scheduled,
 * and requests that arrive while a refresh runs are folded into one more run.
 */
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { AnalysisRefresher, ANALYSIS_LOCK, analysesOf, refreshAnalysis, touchedCustomers } from '../../analysis/index.js';
import { analysisSchema } from '../../config/schema.js';
import { startScheduler } from '../../sync/scheduler.js';
import type { App } from '../../app/app.js';
import type { Hub } from '../../hub/hub.js';
import { createWorld, seedErp, CODE_A, CODE_B, type World } from '../sync/support.js';

const now = () => new Date('2026-06-30T04:00:00.000Z');

describe('analysis after sync runs', () => {
  let world: World;
  let app: App;
  beforeAll(async () => {
    world = await createWorld({ label: 'anfresh', direction: 'pull' });
    app = await world.open();
  });
  afterAll(async () => world?.close());

  test('each run refreshes the customers it touched, and only those', async () => {
    const refresher = new AnalysisRefresher(app.hub, app.config.analysis, { now });
    const scheduler = startScheduler(app, { onRun: (report) => void refresher.afterSyncRun(report) });
    // Each tick its own second: a tick already claimed is skipped.
    let second = 0;
    const tick = () => scheduler.tick('customers', new Date(Date.UTC(2026, 5, 30, 4, 0, ++second)));
    try {
      await seedErp(world.erp, [
        { code: 'C1', name: 'One Ltd', creditCode: CODE_A, limit: '1000' },
        { code: 'C2', name: 'Two Ltd', creditCode: CODE_B, limit: '2000' },
      ]);
      await tick();
      await refresher.idle();
      // Full when it is the hub's first refresh, else incremental: both cover the two new customers.
      expect(refresher.last.report).toMatchObject({ customers: 2 });
      const ids = ((await app.hub.knex('crm_customer').select('id', 'code').orderBy('code')) as { id: string; code: string }[]).map((r) => r.id);
      let figures = await analysesOf(app.hub.knex, { customers: 'all' }, ids);
      expect(ids.map((id) => [figures.get(id)?.credit.limit, figures.get(id)?.lifecycle.stage])).toEqual([
        ['1000', 'prospect'],
        ['2000', 'prospect'],
      ]);

      // The ERP raises C2's limit: the next run touches C2 alone.
      await world.erp('erp_customer').where({ cust_code: 'C2' }).update({ credit_limit: 2500 });
      await tick();
      await refresher.idle();
      expect(refresher.last.report).toMatchObject({ kind: 'incremental', customers: 1 });
      figures = await analysesOf(app.hub.knex, { customers: 'all' }, ids);
      expect(figures.get(ids[1])?.credit.limit).toBe('2500');

      // A run that changed nothing refreshes nothing.
      const runsBefore = (await app.hub.store.analysis.runs(app.hub.knex, 100)).length;
      await tick();
      await refresher.idle();
      expect((await app.hub.store.analysis.runs(app.hub.knex, 100)).length).toBe(runsBefore);
      const last = await app.hub.store.analysis.lastRun(app.hub.knex);
      expect((await touchedCustomers(app.hub.knex, last!.watermark)).touched).toEqual([]);
    } finally {
      await scheduler.stop();
      await refresher.stop();
    }
  });

  test('requests during a refresh fold into one more run; full wins', async () => {
    const refresher = new AnalysisRefresher(app.hub, app.config.analysis, { now });
    const before = (await app.hub.store.analysis.runs(app.hub.knex, 1000)).length;
    const first = refresher.request('incremental');
    const waits = [refresher.request('incremental'), refresher.request('full'), refresher.request('incremental')];
    await Promise.all([first, ...waits]);
    await refresher.idle();
    const runs = await app.hub.store.analysis.runs(app.hub.knex, 1000);
    expect(runs.length - before).toBe(2);
    expect(runs[0].kind).toBe('full');
    await refresher.stop();
  });

  test('one refresh at a time per hub: a refresh that finds the lock held is LOCKED, the refresher tries again', async () => {
    const lock = await app.hub.store.locks.tryLockJob(app.hub, ANALYSIS_LOCK);
    expect(lock).not.toBeNull();
    let released = false;
    try {
      await expect(refreshAnalysis(app.hub, app.config.analysis, { kind: 'full', now })).rejects.toMatchObject({ code: 'LOCKED' });
      const refresher = new AnalysisRefresher(app.hub, app.config.analysis, { now, retryMs: 20 });
      const before = (await app.hub.store.analysis.runs(app.hub.knex, 1000)).length;
      await refresher.request('full');
      expect(refresher.last.error).toMatch(/already running/);
      await lock!.release();
      released = true;
      await vi.waitFor(async () => expect((await app.hub.store.analysis.runs(app.hub.knex, 1000)).length).toBe(before + 1), { timeout: 10_000 });
      await refresher.stop();
      expect(refresher.last.report).toMatchObject({ kind: 'full' });
    } finally {
      if (!released) await lock!.release();
    }
  });

  test('refreshAfterSync: false leaves sync runs alone', async () => {
    const cfg = analysisSchema.parse({ refreshAfterSync: false });
    const refresher = new AnalysisRefresher(app.hub, cfg, { now });
    const before = (await app.hub.store.analysis.runs(app.hub.knex, 1000)).length;
    await refresher.afterSyncRun({ job: 'customers', status: 'ok', dryRun: false, totals: { hubWritten: 3 } });
    expect((await app.hub.store.analysis.runs(app.hub.knex, 1000)).length).toBe(before);
  });
});

test('the full refresh is scheduled in the analysis time zone', async () => {
  const cfg = analysisSchema.parse({ schedule: '30 2 * * *', timezone: 'Asia/Shanghai' });
  // The refresher only schedules here; it never reaches the hub.
  const refresher = new AnalysisRefresher(null as unknown as Hub, cfg).start();
  try {
    const next = refresher.nextFullRefresh();
    expect(next).not.toBeNull();
    // 02:30 in Shanghai is 18:30 UTC.
    expect(next!.toISOString().slice(11, 16)).toBe('18:30');
  } finally {
    await refresher.stop();
  }
  expect(new AnalysisRefresher(null as unknown as Hub, analysisSchema.parse({})).start().nextFullRefresh()).toBeNull();
});
