/**
 * The pipeline over real PostgreSQL and MariaDB sources, with the hub on SQLite and on PostgreSQL.
 * Each combination runs the scenarios the issue names: an ERP edit reaching finance and the hub,
 * edits of different fields merging, the same field under manual and under source:finance, no
 * echo, deletes, a constraint violation parked, a dry run that changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dialect } from '../../config/schema.js';
import type { App } from '../../app/app.js';
import { installCapture } from '../../connectors/capture/index.js';
import { runJob } from '../../sync/engine.js';
import { listConflicts } from '../../sync/conflicts.js';
import { listParked } from '../../sync/status.js';
import { requireDialect } from '../support/databases.js';
import { createWorld, dumpHub, hubCustomers, rows, sourceRows, seedErp, CODE_A, CODE_B, CODE_C, type World } from './support.js';

interface Combo {
  hub: 'sqlite' | 'postgres';
  erp: Dialect;
  finance: Dialect;
  erpCapture: 'hash' | 'timestamp';
}

const COMBOS: Combo[] = [
  { hub: 'sqlite', erp: 'postgres', finance: 'mysql', erpCapture: 'hash' },
  { hub: 'postgres', erp: 'mysql', finance: 'postgres', erpCapture: 'timestamp' },
  { hub: 'postgres', erp: 'postgres', finance: 'mysql', erpCapture: 'timestamp' },
];

const stamp = () => new Date(Date.now() + 1000).toISOString();

// One deployment's life in steps (initial load, an edit, edits on both sides, conflicts, a dry run,
// a delete): each step starts from the state the last one left, so the order is fixed.
for (const combo of COMBOS) describe(`hub '${combo.hub}', ERP '${combo.erp}' ('${combo.erpCapture}'), finance '${combo.finance}'`, { shuffle: false }, () => {
  let world: World;
  let app: App;
  let ready = false;

  beforeAll(async () => {
    for (const d of new Set<Dialect>([combo.hub, combo.erp, combo.finance])) if (!(await requireDialect(d))) return;
    world = await createWorld({ ...combo, label: 'eng' });
    await seedErp(world.erp, [
      { code: 'C001', name: 'Acme', creditCode: CODE_A, phone: '010-1', city: 'BJ', limit: '1000.00' },
      { code: 'C002', name: 'Beta', creditCode: CODE_B, phone: '010-2', city: 'SH', limit: '2000.50' },
      { code: 'C003', name: 'A company name far too long for the finance system', creditCode: CODE_C },
    ]);
    app = await world.open();
    ready = true;
  });
  afterAll(async () => {
    if (ready) await world.close();
  });

  const erpUpdate = (code: string, values: Record<string, unknown>) =>
    world.erp('erp_customer').where({ cust_code: code }).update({ ...values, updated_at: stamp() });

  it('loads, parks the row finance rejects, and stays quiet', async (t) => {
    if (!ready) return t.skip();
    const r = await runJob(app, 'customers');
    expect(r.error).toBeUndefined();
    expect(r.status).toBe('partial');
    expect(r.sources.erp).toMatchObject({ read: 3, hubInserted: 3 });
    expect(r.sources.finance).toMatchObject({ inserted: 2, parked: 1 });
    const parked = await listParked(app);
    expect(parked).toHaveLength(1);
    expect(parked[0].message).toMatch(/fin_account/);
    expect(await rows(world.fin, 'fin_account', 'acct_no')).toEqual([
      { acct_no: 'C001', name: 'Acme', credit_code: CODE_A, phone: '010-1', credit_limit: '1000', deleted: 0 },
      { acct_no: 'C002', name: 'Beta', credit_code: CODE_B, phone: '010-2', credit_limit: '2000.5', deleted: 0 },
    ]);
    const before = await sourceRows(world);
    const again = await runJob(app, 'customers');
    expect(again.totals.written).toBe(0);
    expect(await sourceRows(world)).toEqual(before);
  });

  it('carries an ERP edit to the hub and finance', async (t) => {
    if (!ready) return t.skip();
    await erpUpdate('C001', { phone: '010-9' });
    const r = await runJob(app, 'customers');
    expect(r.sources.erp.hubUpdated).toBe(1);
    expect(r.sources.finance.updated).toBe(1);
    expect((await hubCustomers(app)).C001.phone).toBe('010-9');
    expect(await world.fin('fin_account').where({ acct_no: 'C001' }).first()).toMatchObject({ phone: '010-9' });
    expect((await runJob(app, 'customers')).totals.written).toBe(0);
  });

  it('merges edits of different fields on two sides', async (t) => {
    if (!ready) return t.skip();
    await erpUpdate('C002', { city: 'GZ' });
    await world.fin('fin_account').where({ acct_no: 'C002' }).update({ phone: '020-2' });
    const r = await runJob(app, 'customers');
    expect(r.totals.conflicts).toBe(0);
    expect((await hubCustomers(app)).C002).toMatchObject({ city: 'GZ', phone: '020-2' });
    expect(await world.erp('erp_customer').where({ cust_code: 'C002' }).first()).toMatchObject({ city: 'GZ', phone: '020-2' });
    expect((await runJob(app, 'customers')).totals.written).toBe(0);
  });

  it('raises a conflict under manual and follows finance under source:finance', async (t) => {
    if (!ready) return t.skip();
    await erpUpdate('C001', { phone: '111', credit_limit: '1' });
    await world.fin('fin_account').where({ acct_no: 'C001' }).update({ phone: '222', credit_limit: '2' });
    const r = await runJob(app, 'customers');
    expect(r.totals).toMatchObject({ conflicts: 1, autoResolved: 1 });
    const [open] = await listConflicts(app);
    expect(open).toMatchObject({ field: 'phone', values: { hub: '111', finance: '222' }, rule: 'manual' });
    const hub = (await hubCustomers(app)).C001;
    expect(hub).toMatchObject({ phone: '111', creditLimit: '2' });
    expect(Number((await world.erp('erp_customer').where({ cust_code: 'C001' }).first()).credit_limit)).toBe(2);
    expect((await world.fin('fin_account').where({ acct_no: 'C001' }).first()).phone).toBe('222');
    expect((await runJob(app, 'customers')).totals.written).toBe(0);
  });

  it('plans in a dry run without changing anything', async (t) => {
    if (!ready) return t.skip();
    await erpUpdate('C002', { phone: '333' });
    const hubBefore = await dumpHub(app);
    const before = await sourceRows(world);
    const plan = await runJob(app, 'customers', { dryRun: true });
    expect(plan.error).toBeUndefined();
    expect(plan.plan?.hub.counts.updates).toBe(1);
    expect(plan.plan?.finance.updates).toEqual([expect.objectContaining({ op: 'update', sourceKey: 'C002', values: expect.objectContaining({ phone: '333' }) })]);
    expect(await dumpHub(app)).toEqual(hubBefore);
    expect(await sourceRows(world)).toEqual(before);
    await runJob(app, 'customers');
  });

  it('propagates a delete and keeps it deleted', async (t) => {
    if (!ready) return t.skip();
    if (combo.erpCapture === 'timestamp') {
      // Timestamp capture cannot see a hard delete; the finance side (hash) can.
      await world.fin('fin_account').where({ acct_no: 'C002' }).delete();
    } else {
      await world.erp('erp_customer').where({ cust_code: 'C002' }).delete();
    }
    const r = await runJob(app, 'customers');
    expect(r.totals.hubWritten).toBe(1);
    expect(r.sources.erp.hubDeleted + r.sources.finance.hubDeleted).toBe(1);
    expect(await world.erp('erp_customer').where({ cust_code: 'C002' })).toEqual([]);
    expect(await world.fin('fin_account').where({ acct_no: 'C002' })).toEqual([]);
    expect(Object.keys(await hubCustomers(app))).toEqual(['C001', 'C003']);
    for (let i = 0; i < 2; i++) expect((await runJob(app, 'customers')).totals.written).toBe(0);
    expect(Object.keys(await hubCustomers(app))).toEqual(['C001', 'C003']);
  });
});

describe.each(['postgres', 'mysql'] as const)('finance on %s with trigger capture and origin tags', (finance) => {
  it('never reads its own writes back, and carries finance edits and deletes', async (t) => {
    for (const d of new Set<Dialect>(['postgres', finance])) if (!(await requireDialect(d))) return t.skip();
    const world = await createWorld({ erp: 'postgres', finance, financeCapture: 'trigger', label: 'trg' });
    try {
      const app = await world.open();
      await installCapture(app.sources.driver('finance'), app.sources.mapping('Customer', 'finance'));
      await seedErp(world.erp, [
        { code: 'C001', name: 'Acme', creditCode: CODE_A, phone: '1' },
        { code: 'C002', name: 'Beta', creditCode: CODE_B, phone: '2' },
      ]);
      const first = await runJob(app, 'customers');
      expect(first.sources.finance.inserted).toBe(2);
      // crmlink's inserts were logged with origin crmlink and are skipped: nothing to read.
      const quiet = await runJob(app, 'customers');
      expect(quiet.sources.finance.read).toBe(0);
      expect(quiet.totals.written).toBe(0);

      await world.fin('fin_account').where({ acct_no: 'C001' }).update({ phone: 'fin' });
      const edit = await runJob(app, 'customers');
      expect(edit.sources.finance.read).toBe(1);
      expect(await world.erp('erp_customer').where({ cust_code: 'C001' }).first()).toMatchObject({ phone: 'fin' });

      await world.fin('fin_account').where({ acct_no: 'C002' }).delete();
      const del = await runJob(app, 'customers');
      expect(del.sources.finance.hubDeleted).toBe(1);
      expect(await world.erp('erp_customer').pluck('cust_code')).toEqual(['C001']);
      const last = await runJob(app, 'customers');
      expect(last.sources.finance.read).toBe(0);
      expect(last.totals.written).toBe(0);
    } finally {
      await world.close();
    }
  });
});
