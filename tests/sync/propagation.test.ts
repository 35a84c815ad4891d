/**
 * Event-driven propagation (sync/propagation.ts) on a real SQLite hub with the ERP on PostgreSQL
 * and finance on MariaDB: a hub change reaches the other systems through the push stages, two
 * quick edits end with the last one everywhere, and an event push overlapping a scheduled run
 * writes each change once. Triggers in the sources log every row written, so "once" is counted
 * in the target database itself. The debounce runs on a manual clock; nothing sleeps.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { App } from '../../app/app.js';
import type { FieldProvenance } from '../../hub/provenance.js';
import { runJob } from '../../sync/engine.js';
import { listConflicts, resolveConflict } from '../../sync/conflicts.js';
import { Propagator, type PropagationOptions } from '../../sync/propagation.js';
import { SyncScheduler } from '../../sync/scheduler.js';
import type { RunReport } from '../../sync/types.js';
import { requireDialect } from '../support/databases.js';
import { ManualTimers } from './propagation-support.js';
import { ACME_AND_BETA, createWorld, seedErp, type World, type WorldOptions } from './support.js';

let world: World | null = null;
const started: Propagator[] = [];
afterEach(async () => {
  await Promise.allSettled(started.map((p) => p.stop()));
  started.length = 0;
  await world?.close();
  world = null;
});

/** Log every row inserted or updated in the ERP (PostgreSQL) and finance (MariaDB) tables. */
async function installWriteLogs(w: World): Promise<void> {
  await w.erp.raw('CREATE TABLE erp_log (id serial PRIMARY KEY, op text, code text, phone text)');
  await w.erp.raw(`CREATE FUNCTION erp_log_fn() RETURNS trigger AS $$ BEGIN INSERT INTO erp_log(op, code, phone) VALUES (TG_OP, NEW.cust_code, NEW.phone); RETURN NEW; END $$ LANGUAGE plpgsql`);
  await w.erp.raw('CREATE TRIGGER erp_log_t AFTER INSERT OR UPDATE ON erp_customer FOR EACH ROW EXECUTE FUNCTION erp_log_fn()');
  await w.fin.raw('CREATE TABLE fin_log (id int AUTO_INCREMENT PRIMARY KEY, op varchar(10), code varchar(20), phone varchar(30))');
  await w.fin.raw("CREATE TRIGGER fin_log_i AFTER INSERT ON fin_account FOR EACH ROW INSERT INTO fin_log(op, code, phone) VALUES ('INSERT', NEW.acct_no, NEW.phone)");
  await w.fin.raw("CREATE TRIGGER fin_log_u AFTER UPDATE ON fin_account FOR EACH ROW INSERT INTO fin_log(op, code, phone) VALUES ('UPDATE', NEW.acct_no, NEW.phone)");
}

/** Rows written to each source since the logs were last cleared, as "op code phone". */
async function written(w: World): Promise<{ erp: string[]; finance: string[] }> {
  const line = (r: { op: string; code: string; phone: string | null }) => `${r.op} ${r.code} ${r.phone ?? ''}`;
  return {
    erp: ((await w.erp('erp_log').orderBy('id')) as { op: string; code: string; phone: string | null }[]).map(line),
    finance: ((await w.fin('fin_log').orderBy('id')) as { op: string; code: string; phone: string | null }[]).map(line),
  };
}

async function clearLogs(w: World): Promise<void> {
  await w.erp('erp_log').delete();
  await w.fin('fin_log').delete();
}

/** A change made through the hub store, as a GraphQL mutation makes it. Returns the record's new version. */
async function editCustomer(app: App, code: string, patch: Record<string, string | null>): Promise<{ gid: string; version: number }> {
  const store = app.hub.store;
  const row = (await app.hub.knex('crm_customer').where({ code }).first()) as { id: string };
  const current = await app.hub.get('Customer', row.id);
  const at = new Date().toISOString();
  const provenance: Record<string, FieldProvenance> = Object.fromEntries(Object.keys(patch).map((f) => [f, { source: 'hub', changedAt: at }]));
  const [w] = await store.transaction((trx) => store.golden.write(trx, 'Customer', [{ gid: row.id, current, patch, provenance }], { actor: 'tester', action: 'update' }));
  return { gid: w.id, version: w.version };
}

async function createCustomer(app: App, values: Record<string, string>): Promise<string> {
  const store = app.hub.store;
  const gid = app.hub.newId('Customer');
  await store.transaction((trx) => store.golden.write(trx, 'Customer', [{ gid, current: null, patch: values }], { actor: 'tester', action: 'create' }));
  return gid;
}

/** The world after a first load, with the write logs installed, and timers the test fires itself for a propagator (null without PostgreSQL and MariaDB). */
async function loadedWorld(opts: WorldOptions = {}): Promise<{ w: World; app: App; timers: ManualTimers } | null> {
  if (!(await requireDialect('postgres')) || !(await requireDialect('mysql'))) return null;
  const w = await createWorld({ erp: 'postgres', finance: 'mysql', label: 'prop', ...opts });
  world = w;
  await seedErp(w.erp, ACME_AND_BETA);
  const app = await w.open();
  const first = await runJob(app, 'customers');
  expect(first.status).toBe('ok');
  await installWriteLogs(w);
  return { w, app, timers: new ManualTimers() };
}

function propagator(app: App, opts: PropagationOptions = {}): Propagator {
  const p = new Propagator(app, { runOptions: { retries: 0 }, ...opts }).start();
  started.push(p);
  return p;
}

describe('event-driven propagation through the push stages', () => {
  it('pushes a hub edit and a created customer to both sources after the debounce, and records the push', async (t) => {
    const world = await loadedWorld();
    if (!world) return t.skip();
    const { w, app, timers } = world;
    const reports: RunReport[] = [];
    const p = propagator(app, { timers, debounceMs: 200, onPush: (r) => reports.push(r) });

    await editCustomer(app, 'C001', { phone: '010-7' });
    const gid = await createCustomer(app, { code: 'C003', name: 'Gamma', phone: '010-3' });
    await p.settled(); // committed and queued, waiting for the debounce
    expect(await written(w)).toEqual({ erp: [], finance: [] });
    timers.advance(199);
    expect(reports).toHaveLength(0);
    timers.advance(1);
    await p.settled();

    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ trigger: 'event', status: 'ok', job: 'customers' });
    expect(reports[0].sources.erp).toMatchObject({ inserted: 1, updated: 1 });
    expect(reports[0].sources.finance).toMatchObject({ inserted: 1, updated: 1 });
    expect((await written(w)).erp.sort()).toEqual(['INSERT C003 010-3', 'UPDATE C001 010-7']);
    expect((await written(w)).finance.sort()).toEqual(['INSERT C003 010-3', 'UPDATE C001 010-7']);
    // The hub knows what it wrote: links and bases, so the next scheduled run has nothing to do.
    expect(await app.hub.knex('crm_xref').where({ gid }).orderBy('source').pluck('source_key')).toEqual(['C003', 'C003']);
    const run = await app.hub.knex('crm_run').where({ id: reports[0].runId }).first();
    expect(run.status).toBe('ok');
    expect(JSON.parse(run.stats as string)).toMatchObject({ trigger: 'event' });
    await clearLogs(w);
    const next = await runJob(app, 'customers');
    expect(next.totals.written).toBe(0);
    expect(await written(w)).toEqual({ erp: [], finance: [] });
  });

  it('pushes the value a conflict resolution decides', async (t) => {
    const world = await loadedWorld();
    if (!world) return t.skip();
    const { w, app } = world;
    await w.erp('erp_customer').where({ cust_code: 'C002' }).update({ phone: '021-E' });
    await w.fin('fin_account').where({ acct_no: 'C002' }).update({ phone: '021-F' });
    await runJob(app, 'customers');
    const [conflict] = await listConflicts(app, { status: 'open' });
    expect(conflict).toMatchObject({ field: 'phone' });
    await clearLogs(w);

    const timers = new ManualTimers();
    const p = propagator(app, { timers });
    // ERP's value reached the hub first (sources merge in name order); finance disagrees.
    await resolveConflict(app, conflict.id, { keep: 'hub', actor: 'tester' });
    await p.settled();
    timers.advance(1000);
    await p.settled();
    expect(await written(w)).toEqual({ erp: [], finance: ['UPDATE C002 021-E'] });
  });

  it('does not queue what a run pulled for the job that pulled it (its own push covers it)', async (t) => {
    const world = await loadedWorld();
    if (!world) return t.skip();
    const { w, app, timers } = world;
    const reports: RunReport[] = [];
    const p = propagator(app, { timers, onPush: (r) => reports.push(r) });
    await w.erp('erp_customer').where({ cust_code: 'C001' }).update({ phone: '010-8' });
    const run = await runJob(app, 'customers');
    expect(run.sources.finance).toMatchObject({ updated: 1 });
    await p.settled();
    expect(timers.scheduled).toBe(0);
    expect(reports).toHaveLength(0);
  });

  it('a pull by one job queues a push for the other jobs of the entity', async (t) => {
    const world = await loadedWorld();
    if (!world) return t.skip();
    const { w, app } = world;
    const jobs = app.config.sync.jobs;
    const base = jobs.customers;
    // The ERP feeds the hub; finance is fed from the hub: two jobs, as two teams may own them.
    jobs['erp-in'] = { ...base, sources: ['erp'], direction: 'pull' };
    jobs['finance-out'] = { ...base, sources: ['finance'], direction: 'push' };
    delete jobs.customers;
    const timers = new ManualTimers();
    const reports: RunReport[] = [];
    const p = propagator(app, { timers, onPush: (r) => reports.push(r) });
    await w.erp('erp_customer').where({ cust_code: 'C002' }).update({ phone: '010-6' });
    await clearLogs(w); // the edit itself
    const pulled = await runJob(app, 'erp-in');
    expect(pulled.sources.erp).toMatchObject({ hubUpdated: 1 });
    await p.settled();
    timers.advance(1000);
    await p.settled();
    expect(reports.map((r) => r.job)).toEqual(['finance-out']);
    expect(await written(w)).toEqual({ erp: [], finance: ['UPDATE C002 010-6'] });
  });

  it('leaves a job with propagate: schedule to its runs', async (t) => {
    const world = await loadedWorld();
    if (!world) return t.skip();
    const { w, app } = world;
    app.config.sync.jobs.customers.propagate = 'schedule';
    const timers = new ManualTimers();
    const p = propagator(app, { timers });
    await editCustomer(app, 'C001', { phone: '010-5' });
    await p.settled();
    expect(timers.scheduled).toBe(0);
    expect(await written(w)).toEqual({ erp: [], finance: [] });
  });
});

describe('ordering and idempotence', () => {
  it('two quick edits of one record: one push, the last value everywhere', async (t) => {
    const world = await loadedWorld();
    if (!world) return t.skip();
    const { w, app, timers } = world;
    const p = propagator(app, { timers });
    await editCustomer(app, 'C001', { phone: '010-A' });
    await p.settled();
    timers.advance(100);
    await editCustomer(app, 'C001', { phone: '010-B' });
    await p.settled();
    timers.advance(1000);
    await p.settled();
    expect(await written(w)).toEqual({ erp: ['UPDATE C001 010-B'], finance: ['UPDATE C001 010-B'] });
  });

  it('an edit made while its previous edit is being pushed is pushed next, and the last one wins', async (t) => {
    const world = await loadedWorld();
    if (!world) return t.skip();
    const { w, app, timers } = world;
    let second: Promise<unknown> | null = null;
    const p = propagator(app, {
      timers,
      runOptions: {
        retries: 0,
        faults: {
          // Between the ERP and the finance write of the first push.
          at: async (point, info) => {
            if (point === 'after-source-batch' && info.source === 'erp' && !second) second = editCustomer(app, 'C001', { phone: '010-D' });
            await second;
          },
        },
      },
    });
    await editCustomer(app, 'C001', { phone: '010-C' });
    await p.settled();
    timers.advance(1000);
    await p.settled();
    // The second edit was queued behind the push under way and goes right after it.
    timers.advance(0);
    await p.settled();
    expect(await written(w)).toEqual({ erp: ['UPDATE C001 010-C', 'UPDATE C001 010-D'], finance: ['UPDATE C001 010-C', 'UPDATE C001 010-D'] });
    expect(await w.erp('erp_customer').where({ cust_code: 'C001' }).first()).toMatchObject({ phone: '010-D' });
    expect(await w.fin('fin_account').where({ acct_no: 'C001' }).first()).toMatchObject({ phone: '010-D' });
  });

  it('a change arriving during a scheduled run: the run pushes it, the event push that waited writes nothing again', async (t) => {
    const world = await loadedWorld();
    if (!world) return t.skip();
    const { w, app } = world;
    const eventReports: RunReport[] = [];
    const p = propagator(app, { debounceMs: 0, lockRetryMs: 5, onPush: (r) => eventReports.push(r) });
    let edited = false;
    const runs: RunReport[] = [];
    const scheduler = new SyncScheduler(app, {
      onRun: (r) => runs.push(r),
      runOptions: {
        lockWaitMs: 30000,
        faults: {
          at: async (point, info) => {
            if (point !== 'after-read' || info.source !== 'erp' || edited) return;
            edited = true;
            await editCustomer(app, 'C002', { phone: '010-X' });
            // The event push tries now, finds the lock held by this run, and waits its turn.
            await p.flush('customers');
          },
        },
      },
    });
    await scheduler.tick('customers');
    await p.idle();
    expect(runs[0]).toMatchObject({ status: 'ok' });
    expect(runs[0].sources.finance).toMatchObject({ updated: 1 });
    expect(eventReports).toHaveLength(1);
    expect(eventReports[0].totals.sourceWritten).toBe(0);
    expect(await written(w)).toEqual({ erp: ['UPDATE C002 010-X'], finance: ['UPDATE C002 010-X'] });
  });

  it('a scheduled tick during an event push waits for it (not skipped) and writes nothing again', async (t) => {
    const world = await loadedWorld();
    if (!world) return t.skip();
    const { w, app } = world;
    const runs: RunReport[] = [];
    const scheduler = new SyncScheduler(app, { onRun: (r) => runs.push(r), runOptions: { lockWaitMs: 30000 } });
    let tick: Promise<void> | null = null;
    const timers = new ManualTimers();
    const p = propagator(app, {
      timers,
      runOptions: {
        retries: 0,
        faults: {
          at: (point, info) => {
            if (point === 'after-source-batch' && info.source === 'erp') tick ??= scheduler.tick('customers');
          },
        },
      },
    });
    await editCustomer(app, 'C001', { phone: '010-Y' });
    await p.settled();
    timers.advance(1000);
    await p.settled();
    expect(tick).not.toBeNull();
    await tick;
    expect(runs).toHaveLength(1);
    expect(runs[0].status).toBe('ok');
    expect(runs[0].totals.sourceWritten).toBe(0);
    expect(await written(w)).toEqual({ erp: ['UPDATE C001 010-Y'], finance: ['UPDATE C001 010-Y'] });
  });
});
