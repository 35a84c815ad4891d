/**
 * The rest of the engine's promises, on SQLite: a resumable initial load that loses no live
 * change, `newest` with its clock-skew tolerance, inserts into a table whose key the database
 * generates (with an interrupted run), progress reports, metrics, and a graceful scheduler stop.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/load.js';
import { closeApp, openApp, type App } from '../../app/app.js';
import { silentLogger } from '../../core/logger.js';
import { runJob } from '../../sync/engine.js';
import { listConflicts } from '../../sync/conflicts.js';
import { syncMetricsRegistry } from '../../sync/metrics.js';
import { syncStatus } from '../../sync/status.js';
import { SyncScheduler } from '../../sync/scheduler.js';
import type { FaultHook, ProgressEvent } from '../../sync/types.js';
import { createTestDatabase, fixtureKnex, type TestDatabase } from '../support/databases.js';
import { hubAndSources } from '../support/config.js';
import { createWorld, editHub, hubCustomers, seedErp, CODE_A, type World } from './support.js';

let world: World | null = null;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await world?.close();
  world = null;
  for (const c of cleanups.splice(0)) await c();
});

const customers = (n: number) => Array.from({ length: n }, (_, i) => ({ code: `C${String(i + 1).padStart(3, '0')}`, name: `Customer ${i + 1}` }));

describe('initial load', () => {
  it('is chunked, resumes after a failure from its last page, and loses no live change', async () => {
    world = await createWorld({ batchSize: 4 });
    await seedErp(world.erp, customers(10));
    const app = await world.open();
    const stop: FaultHook = {
      at(point, info) {
        if (point === 'after-read' && info.phase === 'pull' && info.source === 'erp' && info.page === 3) throw new Error('interrupted');
      },
    };
    const first = await runJob(app, 'customers', { faults: stop });
    expect(first.status).toBe('failed');
    // Two pages of four are in; the scan is half done.
    expect(Object.keys(await hubCustomers(app))).toHaveLength(8);
    const cp = await app.hub.knex('crm_checkpoint').where({ job: 'customers', source: 'erp' }).first();
    expect(JSON.parse(cp.value)).toMatchObject({ inScan: true, loadedAt: null });

    // Live changes meanwhile: one row already loaded is edited, one deleted, one added.
    await world.erp('erp_customer').where({ cust_code: 'C001' }).update({ phone: 'live' });
    await world.erp('erp_customer').where({ cust_code: 'C002' }).delete();
    await seedErp(world.erp, [{ code: 'C011', name: 'Customer 11' }]);

    const resumed = await runJob(app, 'customers');
    expect(resumed.status).toBe('ok');
    // Only the rest of the scan was read (C009..C011), not the whole table again.
    expect(resumed.sources.erp.read).toBe(3);
    const after = await runJob(app, 'customers');
    expect(after.status).toBe('ok');
    const hub = await hubCustomers(app);
    expect(Object.keys(hub)).toEqual(['C001', 'C003', 'C004', 'C005', 'C006', 'C007', 'C008', 'C009', 'C010', 'C011']);
    expect(hub.C001.phone).toBe('live');
    expect(await world.fin('fin_account').orderBy('acct_no').pluck('acct_no')).toEqual(Object.keys(hub));
    expect((await runJob(app, 'customers')).totals.written).toBe(0);
  });

  it('reports progress with the table size as the estimate on the first load', async () => {
    world = await createWorld({ batchSize: 3 });
    await seedErp(world.erp, customers(7));
    const app = await world.open();
    const events: ProgressEvent[] = [];
    await runJob(app, 'customers', { onProgress: (e) => events.push(e) });
    const erp = events.filter((e) => e.phase === 'pull' && e.source === 'erp');
    expect(erp.map((e) => e.done)).toEqual([3, 6, 7]);
    expect(erp.every((e) => e.estimated === 7)).toBe(true);
    expect(events.some((e) => e.phase === 'push' && e.source === 'finance' && e.done === 7)).toBe(true);
  });
});

describe('newest', () => {
  it('takes the later change, keeps the hub when it is later, and refuses to guess within the skew', async () => {
    world = await createWorld({ erpCapture: 'timestamp', conflicts: { default: 'newest', fields: {} }, clockSkewSeconds: 60 });
    await seedErp(world.erp, [
      { code: 'C001', name: 'Acme', creditCode: CODE_A, phone: '0' },
      { code: 'C002', name: 'Beta', phone: '0' },
      { code: 'C003', name: 'Gamma', phone: '0' },
    ]);
    const app = await world.open();
    await runJob(app, 'customers');
    // The hub edits all three now; the ERP edits them later, earlier and at about the same time.
    // (The hub's change time is its provenance; the ERP's is its updated_at column.)
    for (const code of ['C001', 'C002', 'C003']) await editHub(app, code, { phone: `hub-${code}` });
    const at = (s: number) => new Date(Date.now() + s * 1000).toISOString();
    const c2 = (await app.hub.knex('crm_customer').where({ code: 'C002' }).first()).id;
    await app.hub.knex('crm_provenance').where({ gid: c2, field: 'phone' }).update({ changed_at: at(7200) });
    await world.erp('erp_customer').where({ cust_code: 'C001' }).update({ phone: 'erp-later', updated_at: at(3600) });
    await world.erp('erp_customer').where({ cust_code: 'C002' }).update({ phone: 'erp-earlier', updated_at: at(100) });
    await world.erp('erp_customer').where({ cust_code: 'C003' }).update({ phone: 'erp-same', updated_at: at(10) });
    const r = await runJob(app, 'customers');
    expect(r.totals).toMatchObject({ conflicts: 1, autoResolved: 2 });
    const hub = await hubCustomers(app);
    expect(hub.C001.phone).toBe('erp-later');
    expect(hub.C002.phone).toBe('hub-C002');
    expect(hub.C003.phone).toBe('hub-C003');
    const [open] = await listConflicts(app);
    expect(open).toMatchObject({ field: 'phone', rule: 'newest', values: { hub: 'hub-C003', erp: 'erp-same' } });
    expect(open.reason).toMatch(/within the 60s clock-skew tolerance/);
    // The hub's winner reached the ERP; the open one waits for a person.
    expect(await world.erp('erp_customer').orderBy('cust_code').pluck('phone')).toEqual(['erp-later', 'hub-C002', 'erp-same']);
  });
});

describe('a target whose key the database generates', () => {
  let hubDb: TestDatabase;
  let erpDb: TestDatabase;
  let oaDb: TestDatabase;

  async function setup(): Promise<{ yaml: string; oa: ReturnType<typeof fixtureKnex>; erp: ReturnType<typeof fixtureKnex> }> {
    hubDb = await createTestDatabase('sqlite', 'idhub');
    erpDb = await createTestDatabase('sqlite', 'iderp');
    oaDb = await createTestDatabase('sqlite', 'idoa');
    const erp = fixtureKnex(erpDb);
    const oa = fixtureKnex(oaDb);
    await erp.schema.createTable('erp_customer', (t) => {
      t.string('cust_code', 20).primary();
      t.string('cust_name', 200).notNullable();
      t.string('phone', 30);
    });
    await oa.schema.createTable('oa_customer', (t) => {
      t.increments('id');
      t.string('title', 200).notNullable();
      t.string('tel', 30);
    });
    cleanups.push(async () => {
      await Promise.allSettled([erp.destroy(), oa.destroy()]);
      await Promise.allSettled([hubDb.drop(), erpDb.drop(), oaDb.drop()]);
    });
    const yaml = `
${hubAndSources(hubDb, { erp: erpDb, oa: oaDb })}
entities:
  Customer:
    sources:
      erp: { table: erp_customer, key: [cust_code], write: [update], fields: { code: cust_code, name: cust_name, phone: phone } }
      oa: { table: oa_customer, key: [id], identity: true, write: [insert, update], fields: { name: title, phone: tel } }
sync:
  jobs:
    customers: { entity: Customer, sources: [erp, oa], batchSize: 2 }
log: { level: silent }
`;
    return { yaml, oa, erp };
  }

  it('links the generated keys, and an interrupted insert is found by reading back, not repeated', async () => {
    const { yaml, oa, erp } = await setup();
    await erp('erp_customer').insert([
      { cust_code: 'C1', cust_name: '一号客户', phone: '1' },
      { cust_code: 'C2', cust_name: '二号客户', phone: '2' },
      { cust_code: 'C3', cust_name: '三号客户', phone: '3' },
    ]);
    const open = async (): Promise<App> => {
      const app = await openApp(parseConfig(yaml), { logger: silentLogger });
      cleanups.unshift(() => closeApp(app));
      return app;
    };
    const app = await open();
    // Dies (permanently) right after the first batch reached the OA, before the hub knew.
    const crash = await runJob(app, 'customers', {
      faults: {
        at(point, info) {
          if (point === 'after-source-batch' && info.source === 'oa' && info.page === 1) throw new Error('power cut');
        },
      },
    });
    expect(crash.status).toBe('failed');
    expect(await oa('oa_customer').count({ n: '*' })).toEqual([{ n: 2 }]);
    expect(await app.hub.knex('crm_sync_intent').count({ n: '*' })).toEqual([{ n: 2 }]);

    const again = await runJob(app, 'customers');
    expect(again.status).toBe('ok');
    expect(again.sources.oa.inserted).toBe(1);
    const rows = await oa('oa_customer').orderBy('id');
    expect(rows.map((r: { title: string }) => r.title)).toEqual(['一号客户', '二号客户', '三号客户']);
    const xref = await app.hub.knex('crm_xref').where({ source: 'oa' }).orderBy('source_key').pluck('source_key');
    expect(xref).toEqual(['1', '2', '3']);
    expect(await app.hub.knex('crm_sync_intent').count({ n: '*' })).toEqual([{ n: 0 }]);

    // An OA edit comes back to the ERP through the generated key.
    await oa('oa_customer').where({ id: 2 }).update({ tel: '22' });
    await runJob(app, 'customers');
    expect(await erp('erp_customer').where({ cust_code: 'C2' }).first()).toMatchObject({ phone: '22' });
    expect((await runJob(app, 'customers')).totals.written).toBe(0);
  });
});

describe('visibility', () => {
  it('exports Prometheus metrics and a status with lag', async () => {
    world = await createWorld({ erpCapture: 'timestamp' });
    await seedErp(world.erp, [{ code: 'C001', name: 'Acme' }]);
    const app = await world.open();
    await runJob(app, 'customers');
    const text = await syncMetricsRegistry.metrics();
    expect(text).toMatch(/crmlink_sync_rows_read_total\{job="customers",source="erp"\} \d+/);
    expect(text).toMatch(/crmlink_sync_rows_written_total\{job="customers",source="finance"\} \d+/);
    expect(text).toMatch(/crmlink_sync_rows_written_total\{job="customers",source="hub"\} \d+/);
    expect(text).toMatch(/crmlink_sync_run_duration_seconds_count\{job="customers",status="ok"\} \d+/);
    expect(text).toMatch(/crmlink_sync_lag_seconds\{job="customers"\} \d/);
    const [status] = await syncStatus(app);
    expect(status).toMatchObject({ job: 'customers', running: false, openConflicts: 0, parked: 0 });
    expect(status.lagSeconds).toBeGreaterThanOrEqual(0);
    expect(status.checkpoints.map((c) => c.source)).toEqual(['@hub', 'erp', 'finance']);
  });

  it('stops gracefully: the running job stops at the next page, what it committed stays, the next run finishes', async () => {
    world = await createWorld({ batchSize: 2 });
    await seedErp(world.erp, customers(9));
    const app = await world.open();
    let scheduler: SyncScheduler | null = null;
    let stopping: Promise<void> | null = null;
    scheduler = new SyncScheduler(app, {
      runOptions: {
        faults: {
          at(point, info) {
            // Ask for a stop while page 2 is being read; the run stops before page 3.
            if (point === 'after-read' && info.source === 'erp' && info.page === 2) stopping = scheduler!.stop();
          },
        },
      },
    });
    await scheduler.tick('customers');
    await stopping;
    const [run] = await app.hub.knex('crm_run').select('status', 'error');
    expect(run.status).toBe('aborted');
    // Page 1 was committed; page 2 had been read but the stop came before it was applied.
    expect(Object.keys(await hubCustomers(app))).toHaveLength(2);
    const next = await runJob(app, 'customers');
    expect(next.status).toBe('ok');
    expect(Object.keys(await hubCustomers(app))).toHaveLength(9);
    expect(await world.fin('fin_account').count({ n: '*' })).toEqual([{ n: 9 }]);
  });
});

describe('an edit in a source while a run is going', () => {
  it('is not overwritten by the push: the write waits, the next run merges it', async () => {
    world = await createWorld();
    await seedErp(world.erp, [{ code: 'C001', name: 'Acme', creditCode: CODE_A, phone: '0' }]);
    const app = await world.open();
    await runJob(app, 'customers');
    await world.erp('erp_customer').update({ phone: 'erp' });
    const fin = world.fin;
    const r = await runJob(app, 'customers', {
      faults: {
        // Finance has been read (unchanged); someone edits it before the push reaches it.
        async at(point, info) {
          if (point === 'after-read' && info.phase === 'pull' && info.source === 'finance') await fin('fin_account').update({ phone: 'typed in finance' });
        },
      },
    });
    expect(r.sources.finance.deferred).toBe(1);
    expect(r.sources.finance.updated).toBe(0);
    expect((await fin('fin_account').first()).phone).toBe('typed in finance');
    const next = await runJob(app, 'customers');
    expect(next.totals.conflicts).toBe(1);
    const [c] = await listConflicts(app);
    expect(c.values).toEqual({ hub: 'erp', finance: 'typed in finance' });
    expect((await fin('fin_account').first()).phone).toBe('typed in finance');
  });
});
