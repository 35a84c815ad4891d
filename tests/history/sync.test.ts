/**
 * What a sync run writes to the hub is history too, over PostgreSQL (ERP) and MariaDB (finance)
 * sources: each version names the run and the source it came from.
 */
import { describe, expect, it } from 'vitest';
import { runJob } from '../../sync/engine.js';
import { requireDialect } from '../support/databases.js';
import { createWorld, hubCustomers, seedErp, CODE_A } from '../sync/support.js';
import { closeAfterTest } from '../support/lifecycle.js';

const available = (await requireDialect('postgres')) && (await requireDialect('mysql'));

describe.runIf(available)('history of sync runs', () => {
  it('names the run and the source of every version a run writes', async () => {
    const world = closeAfterTest(await createWorld({ erp: 'postgres', finance: 'mysql', label: 'histsync' }));
    const app = await world.open();
    await seedErp(world.erp, [{ code: 'C001', name: 'Acme', creditCode: CODE_A, phone: '010-1' }]);
    const r1 = await runJob(app, 'customers');
    expect(r1.status).toBe('ok');
    await world.erp('erp_customer').where({ cust_code: 'C001' }).update({ phone: '010-2' });
    const r2 = await runJob(app, 'customers');
    expect(r2.status).toBe('ok');
    const gid = String((await hubCustomers(app)).C001.id);
    const versions = await app.hub.store.history.list(app.hub.knex, 'Customer', gid, { first: 10 });
    expect(versions.map((v) => [v.version, v.actor, v.action, v.run, v.source])).toEqual([
      [2, 'sync:customers', 'sync', r2.runId, 'erp'],
      [1, 'sync:customers', 'sync', r1.runId, 'erp'],
    ]);
    expect(versions[0].changes).toEqual([{ field: 'phone', before: '010-1', after: '010-2' }]);
    expect((await app.hub.store.history.ofRun(app.hub.knex, r2.runId!)).map((v) => v.gid)).toEqual([gid]);
  });
});
