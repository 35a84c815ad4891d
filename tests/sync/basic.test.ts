/**
 * The pipeline on SQLite everywhere (hub, ERP, finance): the fastest loop for the core behaviour.
 * The same scenarios run on PostgreSQL and MariaDB sources in engines.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { DatabaseError } from '../../core/errors.js';
import { retryParked, runJob } from '../../sync/engine.js';
import { listConflicts, resolveConflict } from '../../sync/conflicts.js';
import { listParked } from '../../sync/status.js';
import type { FaultHook } from '../../sync/types.js';
import { ACME_AND_BETA, ACME_AND_BETA_NO_PHONE, createWorld, dumpHub, editHub, hubCustomers, rows, sourceRows, seedErp, CODE_A, CODE_B, CODE_C } from './support.js';
import { closeAfterTest } from '../support/lifecycle.js';
import { seededWorld } from './seeded.js';

describe('sync on SQLite', () => {
  it('loads the ERP into the hub and finance, then stays quiet', async () => {
    const { world, app } = await seededWorld([
      { code: 'C001', name: 'Acme', creditCode: CODE_A, phone: '010-1', limit: '1000.00' },
      { code: 'C002', name: 'Beta', creditCode: CODE_B, phone: '010-2', limit: '2000.50' },
    ]);
    const first = await runJob(app, 'customers');
    expect(first.error).toBeUndefined();
    expect(first.status).toBe('ok');
    expect(first.sources.erp).toMatchObject({ read: 2, hubInserted: 2, created: 2 });
    expect(first.sources.finance).toMatchObject({ inserted: 2 });

    const hub = await hubCustomers(app);
    expect(Object.keys(hub)).toEqual(['C001', 'C002']);
    expect(hub.C002).toMatchObject({ name: 'Beta', creditLimit: '2000.5', phone: '010-2' });
    expect(await rows(world.fin, 'fin_account', 'acct_no')).toEqual([
      { acct_no: 'C001', name: 'Acme', credit_code: CODE_A, phone: '010-1', credit_limit: '1000', deleted: 0 },
      { acct_no: 'C002', name: 'Beta', credit_code: CODE_B, phone: '010-2', credit_limit: '2000.5', deleted: 0 },
    ]);

    // No echo: reading our own writes back changes nothing anywhere.
    const before = await sourceRows(world);
    const second = await runJob(app, 'customers');
    expect(second.status).toBe('ok');
    expect(second.totals.written).toBe(0);
    expect(second.totals.conflicts).toBe(0);
    expect(await sourceRows(world)).toEqual(before);
    const third = await runJob(app, 'customers');
    expect(third.totals.written).toBe(0);
  });

  it('carries an ERP edit to the hub and finance', async () => {
    const { world, app } = await seededWorld([{ code: 'C001', name: 'Acme', creditCode: CODE_A, phone: '010-1' }]);
    await runJob(app, 'customers');
    await world.erp('erp_customer').where({ cust_code: 'C001' }).update({ phone: '010-9' });
    const r = await runJob(app, 'customers');
    expect(r.sources.erp).toMatchObject({ hubUpdated: 1 });
    expect(r.sources.finance).toMatchObject({ updated: 1 });
    expect((await hubCustomers(app)).C001.phone).toBe('010-9');
    expect(await world.fin('fin_account').where({ acct_no: 'C001' }).first()).toMatchObject({ phone: '010-9' });
    expect((await runJob(app, 'customers')).totals.written).toBe(0);
  });
});

describe('merge and conflicts on SQLite', () => {
  it('merges edits of different fields made on two sides', async () => {
    const { world, app } = await seededWorld([{ code: 'C001', name: 'Acme', creditCode: CODE_A, phone: '010-1', city: 'BJ' }]);
    await runJob(app, 'customers');
    await world.erp('erp_customer').where({ cust_code: 'C001' }).update({ city: 'SH' });
    await world.fin('fin_account').where({ acct_no: 'C001' }).update({ phone: '020-2' });
    const r = await runJob(app, 'customers');
    expect(r.totals.conflicts).toBe(0);
    expect((await hubCustomers(app)).C001).toMatchObject({ phone: '020-2', city: 'SH' });
    expect(await world.erp('erp_customer').where({ cust_code: 'C001' }).first()).toMatchObject({ phone: '020-2', city: 'SH' });
    expect(await world.fin('fin_account').where({ acct_no: 'C001' }).first()).toMatchObject({ phone: '020-2' });
    expect((await runJob(app, 'customers')).totals.written).toBe(0);
  });

  it('raises a manual conflict for the same field, holds it back, and pushes the resolution', async () => {
    const { world, app } = await seededWorld([{ code: 'C001', name: 'Acme', creditCode: CODE_A, phone: '010-1' }]);
    await runJob(app, 'customers');
    await world.erp('erp_customer').where({ cust_code: 'C001' }).update({ phone: '111', city: 'GZ' });
    await world.fin('fin_account').where({ acct_no: 'C001' }).update({ phone: '222' });
    const r = await runJob(app, 'customers');
    expect(r.totals.conflicts).toBe(1);
    const open = await listConflicts(app, { entity: 'Customer' });
    expect(open).toHaveLength(1);
    expect(open[0]).toMatchObject({ field: 'phone', base: '010-1', values: { hub: '111', finance: '222' }, rule: 'manual', status: 'open' });
    expect(open[0].reason).toMatch(/value from erp/);
    // The other field of the same record went through; the conflicting one is held back.
    expect((await hubCustomers(app)).C001).toMatchObject({ phone: '111', city: 'GZ' });
    expect(await world.fin('fin_account').where({ acct_no: 'C001' }).first()).toMatchObject({ phone: '222' });
    // Running again raises nothing new and writes nothing.
    const again = await runJob(app, 'customers');
    expect(again.totals.written).toBe(0);
    expect(await listConflicts(app)).toHaveLength(1);

    const done = await resolveConflict(app, open[0].id, { keep: 'finance', actor: 'alice' });
    expect(done).toMatchObject({ status: 'resolved', resolvedBy: 'alice', resolution: { keep: 'finance', value: '222' } });
    expect(await listConflicts(app)).toHaveLength(0);
    const after = await runJob(app, 'customers');
    expect(after.sources.erp.updated).toBe(1);
    expect(after.sources.finance.updated).toBe(0);
    expect(await world.erp('erp_customer').where({ cust_code: 'C001' }).first()).toMatchObject({ phone: '222' });
    expect((await hubCustomers(app)).C001.phone).toBe('222');
    expect((await runJob(app, 'customers')).totals.written).toBe(0);
    const audit = await app.hub.knex('crm_audit').where({ action: 'resolve-conflict' });
    expect(audit).toHaveLength(1);
    expect(audit[0].actor).toBe('alice');
  });

  it('follows the authority under source:finance', async () => {
    const { world, app } = await seededWorld([{ code: 'C001', name: 'Acme', creditCode: CODE_A, limit: '1000' }]);
    await runJob(app, 'customers');
    await world.erp('erp_customer').where({ cust_code: 'C001' }).update({ credit_limit: '100' });
    await world.fin('fin_account').where({ acct_no: 'C001' }).update({ credit_limit: '200' });
    const r = await runJob(app, 'customers');
    expect(r.totals.conflicts).toBe(0);
    expect(r.totals.autoResolved).toBe(1);
    expect((await hubCustomers(app)).C001.creditLimit).toBe('200');
    expect(Number((await world.erp('erp_customer').first()).credit_limit)).toBe(200);
    const decided = await listConflicts(app, { status: 'resolved' });
    expect(decided[0]).toMatchObject({ field: 'creditLimit', rule: 'source:finance', resolution: { auto: true, keep: 'finance', value: '200' } });
    expect((await runJob(app, 'customers')).totals.written).toBe(0);
  });

  it('pushes an edit made in the hub (GraphQL) to both systems', async () => {
    const { world, app } = await seededWorld([{ code: 'C001', name: 'Acme', creditCode: CODE_A, phone: '010-1', city: 'BJ' }]);
    await runJob(app, 'customers');
    await editHub(app, 'C001', { phone: '999', city: 'XA' });
    const r = await runJob(app, 'customers');
    expect(r.sources.erp.updated).toBe(1);
    expect(r.sources.finance.updated).toBe(1);
    expect(await world.erp('erp_customer').first()).toMatchObject({ phone: '999', city: 'XA' });
    expect(await world.fin('fin_account').first()).toMatchObject({ phone: '999' });
    expect((await runJob(app, 'customers')).totals.written).toBe(0);
  });
});

describe('deletes on SQLite', () => {
  it('propagates an ERP delete to the hub and finance, and it stays deleted', async () => {
    const { world, app } = await seededWorld(ACME_AND_BETA_NO_PHONE);
    await runJob(app, 'customers');
    await world.erp('erp_customer').where({ cust_code: 'C001' }).delete();
    const r = await runJob(app, 'customers');
    expect(r.sources.erp.hubDeleted).toBe(1);
    expect(r.sources.finance.deleted).toBe(1);
    expect(Object.keys(await hubCustomers(app))).toEqual(['C002']);
    expect(await world.fin('fin_account').pluck('acct_no')).toEqual(['C002']);
    for (let i = 0; i < 2; i++) {
      const again = await runJob(app, 'customers');
      expect(again.totals.written).toBe(0);
    }
    expect(Object.keys(await hubCustomers(app))).toEqual(['C002']);
    expect(await world.erp('erp_customer').pluck('cust_code')).toEqual(['C002']);
  });

  it.each([
    ['erp', 'finance'],
    ['finance', 'erp'],
  ] as const)('a delete in %s while %s edits the same record: the delete wins, the edit is named, the record stays deleted', async (deleter, editor) => {
    const { world, app } = await seededWorld(ACME_AND_BETA);
    await runJob(app, 'customers');
    const erpRow = () => world.erp('erp_customer').where({ cust_code: 'C001' });
    const finRow = () => world.fin('fin_account').where({ acct_no: 'C001' });
    await (deleter === 'erp' ? erpRow() : finRow()).delete();
    await (editor === 'erp' ? erpRow() : finRow()).update({ phone: '010-9' });

    const r = await runJob(app, 'customers');
    expect(r.status).toBe('ok');
    expect(Object.keys(await hubCustomers(app))).toEqual(['C002']);
    // The edit is not lost: it is named against the delete.
    const named = (await listConflicts(app, { status: 'all' })).filter((c) => c.field === '_deleted');
    expect(named).toHaveLength(1);
    expect(JSON.stringify(named[0].values)).toContain('010-9');
    expect(named[0].reason).toMatch(/deleted/);

    // The next pulls read the edited row again (or its absence) and must not bring the record back.
    for (let i = 0; i < 2; i++) {
      const again = await runJob(app, 'customers');
      expect(again.status).toBe('ok');
      expect(again.sources.erp.hubInserted ?? 0).toBe(0);
      expect(again.sources.finance.hubInserted ?? 0).toBe(0);
    }
    expect(Object.keys(await hubCustomers(app))).toEqual(['C002']);
    const hubRow = await app.hub.knex('crm_customer').where({ code: 'C001' });
    expect(hubRow).toHaveLength(1);
    expect(Boolean(Number(hubRow[0]._deleted))).toBe(true);
    expect(await world.erp('erp_customer').pluck('cust_code')).toEqual(['C002']);
    expect(await world.fin('fin_account').pluck('acct_no')).toEqual(['C002']);
  });

  it('soft-deletes in finance and reads the flagged row as gone', async () => {
    const { world, app } = await seededWorld([{ code: 'C001', name: 'Acme', creditCode: CODE_A }], { financeDelete: 'soft' });
    await runJob(app, 'customers');
    await editHub(app, 'C001', {}, { delete: true });
    const r = await runJob(app, 'customers');
    expect(r.sources.finance.deleted).toBe(1);
    expect(r.sources.erp.deleted).toBe(1);
    expect(await world.fin('fin_account').select('acct_no', 'deleted')).toEqual([{ acct_no: 'C001', deleted: 1 }]);
    expect(await world.erp('erp_customer')).toEqual([]);
    expect((await runJob(app, 'customers')).totals.written).toBe(0);
    expect(await hubCustomers(app)).toEqual({});
  });

  it('reports a delete the mapping may not write, and does not resurrect the record', async () => {
    const { world, app } = await seededWorld([{ code: 'C001', name: 'Acme', creditCode: CODE_A }], { financeWrite: ['insert', 'update'] });
    await runJob(app, 'customers');
    await world.erp('erp_customer').delete();
    const r = await runJob(app, 'customers');
    expect(r.sources.finance.deletesNotAllowed).toBe(1);
    expect(await world.fin('fin_account').pluck('acct_no')).toEqual(['C001']);
    const reported = await listConflicts(app);
    expect(reported).toHaveLength(1);
    expect(reported[0]).toMatchObject({ field: '_deleted' });
    expect(reported[0].reason).toMatch(/may not be deleted/);
    for (let i = 0; i < 2; i++) expect((await runJob(app, 'customers')).totals.written).toBe(0);
    expect(await hubCustomers(app)).toEqual({});
    expect(await world.erp('erp_customer')).toEqual([]);
  });
});

describe('failures on SQLite', () => {
  it('parks a row the target rejects and syncs the rest', async () => {
    const world = closeAfterTest(await createWorld());
    const longName = 'A very long company name that finance cannot hold, sixty chars';
    await seedErp(world.erp, [
      { code: 'C001', name: longName, creditCode: CODE_A },
      { code: 'C002', name: 'Beta', creditCode: CODE_B },
    ]);
    const app = await world.open();
    const r = await runJob(app, 'customers');
    expect(r.status).toBe('partial');
    expect(r.sources.finance).toMatchObject({ inserted: 1, parked: 1 });
    expect(await world.fin('fin_account').pluck('acct_no')).toEqual(['C002']);
    const parked = await listParked(app);
    expect(parked).toHaveLength(1);
    expect(parked[0]).toMatchObject({ source: 'finance', direction: 'push', code: 'ROW_REJECTED' });
    expect(parked[0].message).toMatch(/fin_account/);

    // Still rejected on retry: one more attempt counted, nothing else changes.
    const retry = await retryParked(app, 'customers');
    expect(retry).toMatchObject({ retried: 1, resolved: 0, remaining: 1 });
    expect((await listParked(app))[0].attempts).toBe(2);

    // Fixed at the source: the next run carries it and the parked entry is done.
    await world.erp('erp_customer').where({ cust_code: 'C001' }).update({ cust_name: 'Acme' });
    const fixed = await runJob(app, 'customers');
    expect(fixed.status).toBe('ok');
    expect(await world.fin('fin_account').pluck('acct_no')).toEqual(['C001', 'C002']);
    expect(await listParked(app)).toEqual([]);
  });

  it('parks a row the mapping cannot read, and retries it by key', async () => {
    const { world, app } = await seededWorld([
      { code: 'C001', name: 'Acme', creditCode: CODE_A, limit: '12x' },
      { code: 'C002', name: 'Beta', creditCode: CODE_B, limit: '5' },
    ]);
    const r = await runJob(app, 'customers');
    expect(r.sources.erp).toMatchObject({ parked: 1, hubInserted: 1 });
    const [p] = await listParked(app);
    expect(p).toMatchObject({ direction: 'pull', code: 'TRANSFORM_FAILED', sourceKey: 'C001' });
    await world.erp('erp_customer').where({ cust_code: 'C001' }).update({ credit_limit: '12' });
    const retry = await retryParked(app, 'customers');
    expect(retry).toMatchObject({ retried: 1, resolved: 1, remaining: 0 });
    expect((await hubCustomers(app)).C001.creditLimit).toBe('12');
  });

  it('retries a transient fault and ends where an undisturbed run ends', async () => {
    const { world, app } = await seededWorld(ACME_AND_BETA_NO_PHONE);
    const thrown: string[] = [];
    const faults: FaultHook = {
      at(point, info) {
        if (thrown.includes(`${point}:${info.phase}`)) return;
        if (point === 'after-hub-write' || point === 'after-source-batch') {
          thrown.push(`${point}:${info.phase}`);
          throw new DatabaseError('DB_TRANSIENT', `injected fault at ${point}`);
        }
      },
    };
    const r = await runJob(app, 'customers', { faults, retryMinTimeoutMs: 1 });
    expect(r.error).toBeUndefined();
    expect(thrown).toEqual(['after-hub-write:pull', 'after-source-batch:push']);
    expect(r.status).toBe('ok');
    expect(Object.keys(await hubCustomers(app))).toEqual(['C001', 'C002']);
    expect(await world.fin('fin_account').pluck('acct_no')).toEqual(['C001', 'C002']);
    expect(await app.hub.knex('crm_xref').count({ n: '*' })).toEqual([{ n: 4 }]);
    expect((await runJob(app, 'customers')).totals.written).toBe(0);
  });

  it('fails on a permanent fault without retrying, and the next run completes', async () => {
    const { world, app } = await seededWorld([{ code: 'C001', name: 'Acme', creditCode: CODE_A }]);
    let calls = 0;
    const r = await runJob(app, 'customers', {
      faults: {
        at(point) {
          if (point === 'before-checkpoint') {
            calls++;
            throw new Error('boom');
          }
        },
      },
    });
    expect(calls).toBe(1);
    expect(r.status).toBe('failed');
    expect(r.error?.message).toBe('boom');
    expect(await hubCustomers(app)).toEqual({});
    const ok = await runJob(app, 'customers');
    expect(ok.status).toBe('ok');
    expect(Object.keys(await hubCustomers(app))).toEqual(['C001']);
    const runs = await app.hub.knex('crm_run').orderBy('id').pluck('status');
    expect(runs).toEqual(['failed', 'ok']);
  });
});

describe('dry run on SQLite', () => {
  it('returns the plan and changes nothing anywhere', async () => {
    const { world, app } = await seededWorld([
      { code: 'C001', name: 'Acme', creditCode: CODE_A, phone: '1' },
      { code: 'C002', name: 'Beta', creditCode: CODE_B, phone: '2' },
    ]);
    await runJob(app, 'customers');
    await world.erp('erp_customer').where({ cust_code: 'C001' }).update({ phone: '1b' });
    await world.erp('erp_customer').where({ cust_code: 'C002' }).delete();
    await seedErp(world.erp, [{ code: 'C003', name: 'Gamma', creditCode: CODE_C }]);
    await world.fin('fin_account').where({ acct_no: 'C001' }).update({ phone: '1f' });

    const hubBefore = await dumpHub(app);
    const before = await sourceRows(world);
    const plan = await runJob(app, 'customers', { dryRun: true });
    expect(plan.dryRun).toBe(true);
    expect(plan.runId).toBeNull();
    expect(plan.plan?.hub.counts).toEqual({ inserts: 1, updates: 1, deletes: 1, conflicts: 0 });
    expect(plan.plan?.finance.counts).toMatchObject({ inserts: 1, deletes: 1, conflicts: 1 });
    expect(plan.plan?.finance.conflicts[0]).toMatchObject({ field: 'phone', values: { hub: '1b', finance: '1f' } });
    expect(plan.plan?.hub.inserts[0]).toMatchObject({ op: 'insert', sourceKey: 'C003', values: { name: 'Gamma' } });
    expect(await dumpHub(app)).toEqual(hubBefore);
    expect(await sourceRows(world)).toEqual(before);

    // The real run does what the plan said.
    const real = await runJob(app, 'customers');
    expect(real.sources.finance).toMatchObject({ inserted: 1, deleted: 1, conflicts: 1 });
    expect(real.sources.erp).toMatchObject({ hubInserted: 1, hubUpdated: 1, hubDeleted: 1 });
  });
});

describe('identity on SQLite', () => {
  it('links a finance row with the same credit code instead of creating a second customer', async () => {
    const world = closeAfterTest(await createWorld());
    await seedErp(world.erp, [{ code: 'C001', name: '北京华为科技有限公司', creditCode: CODE_A, phone: '010-1' }]);
    await world.fin('fin_account').insert({ acct_no: 'F-9', name: '华为科技（北京）有限公司', credit_code: CODE_A, phone: '010-1' });
    const app = await world.open();
    const r = await runJob(app, 'customers');
    expect(r.sources.finance).toMatchObject({ linked: 1, created: 0, inserted: 0 });
    const hub = await app.hub.knex('crm_customer').select('id');
    expect(hub).toHaveLength(1);
    const xref = await app.hub.knex('crm_xref').orderBy('source').select('source', 'source_key', 'gid', 'rule');
    expect(xref).toEqual([
      { source: 'erp', source_key: 'C001', gid: hub[0].id, rule: null },
      { source: 'finance', source_key: 'F-9', gid: hub[0].id, rule: 'creditCode+name' },
    ]);
    // The two systems use different codes and names: named as conflicts, not guessed.
    expect((await listConflicts(app)).map((c) => c.field).sort()).toEqual(['code', 'name']);
  });

  it('creates a new customer and a merge candidate for a probable match', async () => {
    const world = closeAfterTest(await createWorld());
    await seedErp(world.erp, [{ code: 'C001', name: '北京华为科技有限公司' }]);
    await world.fin('fin_account').insert({ acct_no: 'F-9', name: '华为科技（北京）有限公司' });
    const app = await world.open();
    const r = await runJob(app, 'customers');
    expect(r.sources.finance).toMatchObject({ created: 1, mergeCandidates: 1 });
    const candidates = await app.hub.knex('crm_merge_candidate').select('rule', 'status', 'reason');
    expect(candidates).toEqual([{ rule: 'name', status: 'open', reason: expect.stringMatching(/same company name/) }]);
    expect(await app.hub.knex('crm_customer').count({ n: '*' })).toEqual([{ n: 2 }]);
  });
});
