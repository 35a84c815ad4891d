/**
 * Key reconcile (sync/reconcile.ts): a row hard-deleted in a source read by timestamp is never read
 * again, so a normal run cannot see the delete. The reconcile compares the source's keys with the
 * hub's and feeds what is gone through the pipeline: tombstone in the hub, delete pushed to the
 * other source, nothing back on later runs. ERP on SQLite, PostgreSQL and MariaDB.
 */
import { describe, expect, it } from 'vitest';
import type { Dialect } from '../../config/schema.js';
import type { App } from '../../app/app.js';
import type { Driver } from '../../connectors/driver.js';
import { runJob } from '../../sync/engine.js';
import { reconcileJob, type ReconcileReport } from '../../sync/reconcile.js';
import { startScheduler } from '../../sync/scheduler.js';
import { requireDialect } from '../support/databases.js';
import { createWorld, hubCustomers, runHeldAfterRead, seedErp, CODE_A, CODE_B, CODE_C, type WorldOptions } from './support.js';
import { closeAfterTest } from '../support/lifecycle.js';
import { seededWorld } from './seeded.js';

const THREE = [
  { code: 'C001', name: 'Acme', creditCode: CODE_A },
  { code: 'C002', name: 'Beta', creditCode: CODE_B },
  { code: 'C003', name: 'Gamma', creditCode: CODE_C },
];

/** A world whose ERP holds THREE, loaded by one run of the job (closed after the test). */
async function loadedWithThree(opts: WorldOptions) {
  const { world, app } = await seededWorld(THREE, opts);
  await runJob(app, 'customers');
  return { world, app };
}

/** SQL statements the ERP driver sends while `fn` runs. */
async function erpStatements<T>(app: App, fn: () => Promise<T>): Promise<{ result: T; sql: string[] }> {
  const sql: string[] = [];
  const off = (app.sources.connector('erp') as Driver).onQuery((s) => sql.push(s));
  try {
    return { result: await fn(), sql };
  } finally {
    off();
  }
}

for (const erp of ['sqlite', 'postgres', 'mysql'] as Dialect[]) {
  describe(`key reconcile, ERP on ${erp} (timestamp capture)`, () => {
    it('sees a hard delete a run cannot, deletes it everywhere, and it stays deleted', async (t) => {
      if (!(await requireDialect(erp))) return t.skip();
      const { world, app } = await seededWorld(THREE, { erp, erpCapture: 'timestamp', label: `rec${erp.slice(0, 2)}` });
      expect((await runJob(app, 'customers')).status).toBe('ok');
      expect(await world.fin('fin_account').orderBy('acct_no').pluck('acct_no')).toEqual(['C001', 'C002', 'C003']);

      await world.erp('erp_customer').where({ cust_code: 'C002' }).delete();
      // The gap: a timestamp capture never reads the row again.
      const blind = await runJob(app, 'customers');
      expect(blind.totals.written).toBe(0);
      expect(Object.keys(await hubCustomers(app))).toEqual(['C001', 'C002', 'C003']);

      const { result: r, sql } = await erpStatements(app, () => reconcileJob(app, 'customers'));
      expect(r.status).toBe('ok');
      expect(r.trigger).toBe('reconcile');
      expect(r.reconciled.erp).toMatchObject({ status: 'done', checked: 3, missing: 1, missingKeys: ['C002'], reads: 1 });
      expect(r.reconciled.finance).toMatchObject({ status: 'done', checked: 3, missing: 0 });
      expect(r.sources.erp.hubDeleted).toBe(1);
      expect(r.sources.finance.deleted).toBe(1);
      // Key columns only, one statement for the page; no full row read.
      const keyReads = sql.filter((s) => /from\s+[`"[]?erp_customer/i.test(s) && /^select/i.test(s.trim()));
      expect(keyReads).toHaveLength(1);
      expect(keyReads[0]).not.toMatch(/cust_name|updated_at|\*/);

      expect(Object.keys(await hubCustomers(app))).toEqual(['C001', 'C003']);
      const tomb = (await app.hub.knex('crm_customer').where({ code: 'C002' }).first()) as Record<string, unknown>;
      expect(Boolean(Number(tomb._deleted))).toBe(true);
      expect(await world.fin('fin_account').orderBy('acct_no').pluck('acct_no')).toEqual(['C001', 'C003']);

      // No resurrection, nothing echoed: later runs and reconciles write nothing.
      for (const again of [await runJob(app, 'customers'), await reconcileJob(app, 'customers'), await runJob(app, 'customers')]) {
        expect(again.status).toBe('ok');
        expect(again.totals.written).toBe(0);
      }
      expect(Object.keys(await hubCustomers(app))).toEqual(['C001', 'C003']);
      const runs = (await app.hub.knex('crm_run').where({ job: 'customers' }).orderBy('id').pluck('status')) as string[];
      expect(runs.every((s) => s === 'ok')).toBe(true);
    });
  });
}

describe('key reconcile on SQLite', () => {
  it('costs one key-only statement per page of keys, never one per row', async () => {
    const world = closeAfterTest(await createWorld({ erpCapture: 'timestamp', label: 'recpage' }));
    const many = Array.from({ length: 45 }, (_, i) => ({ code: `C${String(i).padStart(3, '0')}`, name: `Customer ${i}` }));
    await seedErp(world.erp, many);
    const app = await world.open();
    await runJob(app, 'customers');
    const gone = ['C000', 'C017', 'C044'];
    await world.erp('erp_customer').whereIn('cust_code', gone).delete();
    const { result: r, sql } = await erpStatements(app, () => reconcileJob(app, 'customers', { pageSize: 20, sources: ['erp'] }));
    expect(r.reconciled.erp).toMatchObject({ checked: 45, missing: 3, reads: 3 });
    expect(r.reconciled.erp.missingKeys.sort()).toEqual(gone);
    expect(r.reconciled.finance).toBeUndefined();
    expect(sql.filter((s) => /^select/i.test(s.trim()) && /erp_customer/.test(s))).toHaveLength(3);
    expect(Object.keys(await hubCustomers(app))).toHaveLength(42);
  });

  it('a source whose connector cannot list keys is reported, the others reconciled, the run partial', async () => {
    const { world, app } = await loadedWithThree({ erpCapture: 'timestamp', label: 'recnokeys' });
    await world.erp('erp_customer').where({ cust_code: 'C001' }).delete();
    // As a plugin connector without readKeys (the contract's example plugin) would be.
    Object.defineProperty(app.sources.connector('finance'), 'readKeys', { value: undefined });
    const r = await reconcileJob(app, 'customers');
    expect(r.status).toBe('partial');
    expect(r.reconciled.finance).toMatchObject({ status: 'not-supported', checked: 0 });
    expect(r.reconciled.finance.reason).toMatch(/source "finance" \(sqlite\) cannot list its keys \(its connector has no readKeys\)/);
    expect(r.reconciled.erp).toMatchObject({ status: 'done', missing: 1 });
    expect(Object.keys(await hubCustomers(app))).toEqual(['C002', 'C003']);
  });

  it('a dry run lists the keys and deletes nothing', async () => {
    const { world, app } = await loadedWithThree({ erpCapture: 'timestamp', label: 'recdry' });
    await world.erp('erp_customer').where({ cust_code: 'C003' }).delete();
    const before = await app.hub.knex('crm_run').count({ n: '*' });
    const r = await reconcileJob(app, 'customers', { dryRun: true });
    expect(r.dryRun).toBe(true);
    expect(r.reconciled.erp).toMatchObject({ missing: 1, missingKeys: ['C003'] });
    expect(r.totals.written).toBe(0);
    expect(Object.keys(await hubCustomers(app))).toEqual(['C001', 'C002', 'C003']);
    expect(await world.fin('fin_account').count({ n: '*' })).toEqual([{ n: 3 }]);
    expect(await app.hub.knex('crm_run').count({ n: '*' })).toEqual(before);
  });

  it('a source outside the mapping filter counts as gone (soft delete unseen by timestamp)', async () => {
    const { world, app } = await loadedWithThree({ label: 'recsoft', financeDelete: 'soft' });
    // The filter is `deleted = 0`: a row flagged deleted is no longer the source's.
    await world.fin('fin_account').where({ acct_no: 'C001' }).update({ deleted: 1 });
    const r = await reconcileJob(app, 'customers', { sources: ['finance'] });
    expect(r.reconciled.finance).toMatchObject({ checked: 3, missing: 1, missingKeys: ['C001'] });
    expect(Object.keys(await hubCustomers(app))).toEqual(['C002', 'C003']);
  });

  it('waits for nothing and skips while a run of the job holds its lock', async () => {
    const { world, app } = await loadedWithThree({ erpCapture: 'timestamp', label: 'reclock' });
    const { atRead, release, run } = runHeldAfterRead(app, 'customers');
    await atRead;
    const r = await reconcileJob(app, 'customers');
    release();
    await run;
    expect(r.status).toBe('skipped');
    expect(r.reason).toMatch(/^LOCKED/);
  });

  it('is scheduled on its own pattern and each tick runs once across schedulers sharing the hub', async () => {
    const world = closeAfterTest(await createWorld({ erpCapture: 'timestamp', reconcileSchedule: '0 3 * * *', label: 'recsched' }));
    await seedErp(world.erp, THREE);
    const a = await world.open();
    const b = await world.open();
    await runJob(a, 'customers');
    await world.erp('erp_customer').where({ cust_code: 'C001' }).delete();
    const reports: ReconcileReport[] = [];
    const sa = startScheduler(a, { onReconcile: (r) => reports.push(r) });
    const sb = startScheduler(b, { onReconcile: (r) => reports.push(r) });
    try {
      expect(sa.jobs()).toEqual([expect.objectContaining({ job: 'customers', task: 'reconcile', schedule: '0 3 * * *' })]);
      expect(sa.jobs()[0].nextRun?.getHours()).toBe(3);
      const tick = new Date('2026-01-02T03:00:00Z');
      await sa.reconcile('customers', tick);
      await sb.reconcile('customers', tick);
    } finally {
      await Promise.all([sa.stop(), sb.stop()]);
    }
    expect(reports.map((r) => r.status)).toEqual(['ok', 'skipped']);
    expect(reports[0].reconciled.erp.missing).toBe(1);
    expect(reports[1].reason).toMatch(/already reconciled/);
    expect(Object.keys(await hubCustomers(a))).toEqual(['C002', 'C003']);
  });
});
