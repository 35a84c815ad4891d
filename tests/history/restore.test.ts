/**
 * Restore and undelete, over a SQLite or PostgreSQL hub with PostgreSQL (ERP) and MariaDB (finance) sources:
 * each restore is a new version pushed to every source like an edit; an undeleted record is
 * re-created where it was hard-deleted and linked again, and revived where it was soft-deleted (no
 * duplicate on the next run); a run is
 * undone in the hub and in the sources its push overwrote; a restore that meets a concurrent source
 * edit raises a conflict as usual.
 */
import { describe, expect, it } from 'vitest';
import type { App } from '../../app/app.js';
import { listConflicts } from '../../sync/conflicts.js';
import { runJob } from '../../sync/engine.js';
import { restoreChanges, restoreRecord, restoreRun, undeleteRecord } from '../../sync/restore.js';
import { requireDialect } from '../support/databases.js';
import { createWorld, hubCustomers, seedErp, CODE_A, CODE_B, type World } from '../sync/support.js';
import { closeAfterTest } from '../support/lifecycle.js';

const available = (await requireDialect('postgres')) && (await requireDialect('mysql'));
const by = { actor: 'sam (steward)' };

async function setUp(hub: 'sqlite' | 'postgres', financeDelete: 'hard' | 'soft' = 'hard'): Promise<{ w: World; app: App; gid: (code: string) => Promise<string> }> {
  const w = closeAfterTest(await createWorld({ hub, erp: 'postgres', finance: 'mysql', financeDelete, label: 'restore' }));
  await seedErp(w.erp, [
    { code: 'C001', name: 'Acme', creditCode: CODE_A, phone: '010-1', city: 'Beijing' },
    { code: 'C002', name: 'Bolt', creditCode: CODE_B, phone: '020-1', city: 'Tianjin' },
  ]);
  const app = await w.open();
  expect((await runJob(app, 'customers')).status).toBe('ok');
  const gid = async (code: string) => {
    const row = (await app.hub.knex('crm_customer').where({ code }).first()) as { id: string };
    return row.id;
  };
  return { w, app, gid };
}

const erpRow = (w: World, code: string) => w.erp('erp_customer').where({ cust_code: code }).first();
const finRow = (w: World, code: string) => w.fin('fin_account').where({ acct_no: code }).first();

describe.runIf(available).each(['sqlite', 'postgres'] as const)('restore on a %s hub', (hub) => {
  it('restores a field, then a whole record, as new versions pushed to every source', async () => {
    const { w, app, gid } = await setUp(hub);
    await w.erp('erp_customer').where({ cust_code: 'C001' }).update({ phone: '010-2', city: 'Shanghai', updated_at: new Date().toISOString() });
    expect((await runJob(app, 'customers')).status).toBe('ok');
    expect(await finRow(w, 'C001')).toMatchObject({ phone: '010-2' });
    const id = await gid('C001');

    const field = await restoreRecord(app, 'Customer', id, { ...by, version: 1, fields: ['phone'] });
    expect(field).toMatchObject({ version: 3, fields: ['phone'], undeleted: false });
    expect((await hubCustomers(app)).C001).toMatchObject({ phone: '010-1', city: 'Shanghai' });
    expect((await runJob(app, 'customers')).status).toBe('ok');
    expect(await erpRow(w, 'C001')).toMatchObject({ phone: '010-1', city: 'Shanghai' });
    expect(await finRow(w, 'C001')).toMatchObject({ phone: '010-1' });

    const whole = await restoreRecord(app, 'Customer', id, { ...by, version: 1 });
    expect(whole.fields).toEqual(['city']);
    expect((await runJob(app, 'customers')).status).toBe('ok');
    expect(await erpRow(w, 'C001')).toMatchObject({ phone: '010-1', city: 'Beijing' });

    const [latest] = await app.hub.store.history.list(app.hub.knex, 'Customer', id, { first: 1 });
    expect(latest).toMatchObject({ version: 4, actor: 'sam (steward)', action: 'restore', changes: [{ field: 'city', before: 'Shanghai', after: 'Beijing' }] });
    const audit = await app.hub.knex('crm_audit').where({ gid: id, action: 'restore' }).orderBy('id');
    expect(audit).toHaveLength(2);
  });

  it('undeletes a record hard-deleted everywhere: re-created and linked in every source, no duplicate after', async () => {
    const { w, app, gid } = await setUp(hub);
    const id = await gid('C002');
    await w.erp('erp_customer').where({ cust_code: 'C002' }).delete();
    expect((await runJob(app, 'customers')).status).toBe('ok');
    expect(await finRow(w, 'C002')).toBeUndefined();
    expect((await app.hub.get('Customer', id))?.deleted).toBe(true);

    const plan = await undeleteRecord(app, 'Customer', id, by);
    expect(plan).toMatchObject({ undeleted: true, recreateIn: ['erp', 'finance'], notRecreated: [] });
    expect((await app.hub.get('Customer', id))?.deleted).toBe(false);
    const run = await runJob(app, 'customers');
    expect(run.status).toBe('ok');
    expect(await erpRow(w, 'C002')).toMatchObject({ cust_name: 'Bolt', phone: '020-1', city: 'Tianjin' });
    expect(await finRow(w, 'C002')).toMatchObject({ name: 'Bolt', phone: '020-1' });
    const links = await app.hub.knex('crm_xref').where({ gid: id }).orderBy('source');
    expect(links.map((l: { source: string; source_key: string }) => [l.source, l.source_key])).toEqual([
      ['erp', 'C002'],
      ['finance', 'C002'],
    ]);
    // The next runs find nothing to do: no second record, no second row.
    const again = await runJob(app, 'customers');
    expect(again.totals).toMatchObject({ hubWritten: 0, sourceWritten: 0, parked: 0 });
    expect(Object.keys(await hubCustomers(app))).toEqual(['C001', 'C002']);
    expect(Number((await w.erp('erp_customer').count({ n: '*' }))[0].n)).toBe(2);
    expect(Number((await w.fin('fin_account').count({ n: '*' }))[0].n)).toBe(2);
    await expect(undeleteRecord(app, 'Customer', id, by)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  it('undeletes a record soft-deleted in a source by clearing its flag there', async () => {
    const { w, app, gid } = await setUp(hub, 'soft');
    const id = await gid('C002');
    await w.erp('erp_customer').where({ cust_code: 'C002' }).delete();
    expect((await runJob(app, 'customers')).status).toBe('ok');
    expect(await finRow(w, 'C002')).toMatchObject({ deleted: 1 });

    expect(await undeleteRecord(app, 'Customer', id, by)).toMatchObject({ undeleted: true, recreateIn: ['erp', 'finance'], notRecreated: [] });
    expect(await finRow(w, 'C002')).toMatchObject({ deleted: 0, name: 'Bolt' });
    expect((await runJob(app, 'customers')).status).toBe('ok');
    expect(await erpRow(w, 'C002')).toMatchObject({ cust_name: 'Bolt', phone: '020-1' });
    const again = await runJob(app, 'customers');
    expect(again.totals).toMatchObject({ hubWritten: 0, sourceWritten: 0, parked: 0 });
    expect(Number((await w.fin('fin_account').count({ n: '*' }))[0].n)).toBe(2);
    expect((await hubCustomers(app)).C002).toMatchObject({ id, phone: '020-1' });
  });

  it('undoes a whole run in the hub and in the source its push overwrote; a dry run changes nothing', async () => {
    const { w, app, gid } = await setUp(hub);
    await w.erp('erp_customer').where({ cust_code: 'C001' }).update({ phone: 'WRONG', cust_name: 'Acme Wrong', updated_at: new Date().toISOString() });
    const bad = await runJob(app, 'customers');
    expect(bad.status).toBe('ok');
    expect(await finRow(w, 'C001')).toMatchObject({ phone: 'WRONG', name: 'Acme Wrong' });
    const id = await gid('C001');

    const dry = await restoreRun(app, bad.runId!, { ...by, dryRun: true });
    expect(dry.records).toEqual([expect.objectContaining({ id, fields: expect.arrayContaining(['phone', 'name']), version: null })]);
    expect(dry.sources).toEqual([expect.objectContaining({ source: 'finance', key: 'C001', status: 'planned' })]);
    expect((await hubCustomers(app)).C001.phone).toBe('WRONG');
    expect(await finRow(w, 'C001')).toMatchObject({ phone: 'WRONG' });

    const done = await restoreRun(app, bad.runId!, by);
    expect(done.records[0].version).toBe(3);
    expect(done.sources).toEqual([expect.objectContaining({ source: 'finance', key: 'C001', status: 'restored' })]);
    expect((await hubCustomers(app)).C001).toMatchObject({ phone: '010-1', name: 'Acme' });
    // Written back in finance at once, from the values the audit kept.
    expect(await finRow(w, 'C001')).toMatchObject({ phone: '010-1', name: 'Acme' });
    expect((await runJob(app, 'customers')).status).toBe('ok');
    expect(await erpRow(w, 'C001')).toMatchObject({ phone: '010-1', cust_name: 'Acme' });
    expect(await finRow(w, 'C001')).toMatchObject({ phone: '010-1', name: 'Acme' });
    expect(await listConflicts(app, { status: 'open' })).toEqual([]);
    // Nothing left to undo: a second restore of the run changes nothing.
    const twice = await restoreRun(app, bad.runId!, by);
    expect(twice.records[0]).toMatchObject({ version: null, fields: [], changedSince: [] });
    expect(twice.sources).toEqual([expect.objectContaining({ status: 'changed-since' })]);
  });

  it('undoes selected changes only where the record still holds what they wrote', async () => {
    const { w, app, gid } = await setUp(hub);
    const id = await gid('C001');
    await w.erp('erp_customer').where({ cust_code: 'C001' }).update({ phone: '010-2', city: 'Shanghai', updated_at: new Date().toISOString() });
    expect((await runJob(app, 'customers')).status).toBe('ok');
    const [change] = await app.hub.store.history.list(app.hub.knex, 'Customer', id, { first: 1 });
    // city changed again since: left alone and reported.
    await w.erp('erp_customer').where({ cust_code: 'C001' }).update({ city: 'Shenzhen', updated_at: new Date().toISOString() });
    expect((await runJob(app, 'customers')).status).toBe('ok');
    const plan = await restoreChanges(app, [change.id], by);
    expect(plan.records[0]).toMatchObject({ fields: ['phone'], changedSince: ['city'] });
    expect((await hubCustomers(app)).C001).toMatchObject({ phone: '010-1', city: 'Shenzhen' });
    await expect(restoreChanges(app, [999999], by)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('a restore that meets a concurrent source edit raises a conflict as usual', async () => {
    const { w, app, gid } = await setUp(hub);
    const id = await gid('C001');
    await w.erp('erp_customer').where({ cust_code: 'C001' }).update({ phone: '010-2', updated_at: new Date().toISOString() });
    expect((await runJob(app, 'customers')).status).toBe('ok');
    await restoreRecord(app, 'Customer', id, { ...by, version: 1, fields: ['phone'] });
    // Meanwhile someone edits the phone in finance.
    await w.fin('fin_account').where({ acct_no: 'C001' }).update({ phone: '030-9' });
    expect((await runJob(app, 'customers')).status).toBe('ok');
    const open = await listConflicts(app, { status: 'open' });
    expect(open).toEqual([expect.objectContaining({ gid: id, field: 'phone', values: expect.objectContaining({ hub: '010-1', finance: '030-9' }) })]);
    expect(await finRow(w, 'C001')).toMatchObject({ phone: '030-9' });
  });
});
