/**
 * Before the push overwrites a row in a source, the audit keeps what the source held, over
 * PostgreSQL (ERP) and MariaDB (finance) sources: for updates the old values of the fields
 * written, for deletes the whole row, each with the run that wrote.
 */
import { describe, expect, it } from 'vitest';
import { runJob } from '../../sync/engine.js';
import { SOURCE_WRITE } from '../../sync/push.js';
import { requireDialect } from '../support/databases.js';
import { createWorld, hubCustomers, seedErp, CODE_A, CODE_B } from '../sync/support.js';
import { closeAfterTest } from '../support/lifecycle.js';

const available = (await requireDialect('postgres')) && (await requireDialect('mysql'));

describe.runIf(available)('source values before a push overwrites them', () => {
  it('keeps the old values of an update and the old row of a delete, with the run', async () => {
    const world = closeAfterTest(await createWorld({ erp: 'postgres', finance: 'mysql', label: 'histold' }));
    const app = await world.open();
    await seedErp(world.erp, [
      { code: 'C001', name: 'Acme', creditCode: CODE_A, phone: '010-1' },
      { code: 'C002', name: 'Bolt', creditCode: CODE_B, phone: '020-1' },
    ]);
    expect((await runJob(app, 'customers')).status).toBe('ok');
    const hub = await hubCustomers(app);
    await world.erp('erp_customer').where({ cust_code: 'C001' }).update({ phone: '010-2' });
    await world.erp('erp_customer').where({ cust_code: 'C002' }).delete();
    const run = await runJob(app, 'customers');
    expect(run.status).toBe('ok');
    expect(await world.fin('fin_account').where({ acct_no: 'C001' }).first()).toMatchObject({ phone: '010-2' });

    const entries = await app.hub.store.audit.byAction(app.hub.knex, SOURCE_WRITE, '2000-01-01');
    const byGid = new Map(entries.map((e) => [e.gid, e]));
    expect(byGid.get(String(hub.C001.id))).toMatchObject({
      actor: 'sync:customers',
      entity: 'Customer',
      before: { source: 'finance', key: 'C001', values: { phone: '010-1' } },
      after: { source: 'finance', key: 'C001', run: run.runId, op: 'update', values: { phone: '010-2' } },
    });
    expect(byGid.get(String(hub.C002.id))).toMatchObject({
      before: { source: 'finance', key: 'C002', values: { code: 'C002', name: 'Bolt', phone: '020-1', creditCode: CODE_B } },
      after: { source: 'finance', key: 'C002', run: run.runId, op: 'delete', values: null },
    });
    expect(entries).toHaveLength(2);
  });
});
