/**
 * The pipeline on SQLite everywhere (hub, ERP, finance): the fastest loop for the core behaviour.
 * The same scenarios run on PostgreSQL and MariaDB sources in engines.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { runJob } from '../../sync/engine.js';
import { createWorld, hubCustomers, rows, seedErp, CODE_A, CODE_B, type World } from './support.js';

let world: World | null = null;
afterEach(async () => {
  await world?.close();
  world = null;
});

describe('sync on SQLite', () => {
  it('loads the ERP into the hub and finance, then stays quiet', async () => {
    world = await createWorld();
    await seedErp(world.erp, [
      { code: 'C001', name: 'Acme', creditCode: CODE_A, phone: '010-1', limit: '1000.00' },
      { code: 'C002', name: 'Beta', creditCode: CODE_B, phone: '010-2', limit: '2000.50' },
    ]);
    const app = await world.open();
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
    const erpBefore = await rows(world.erp, 'erp_customer', 'cust_code');
    const finBefore = await rows(world.fin, 'fin_account', 'acct_no');
    const second = await runJob(app, 'customers');
    expect(second.status).toBe('ok');
    expect(second.totals.written).toBe(0);
    expect(second.totals.conflicts).toBe(0);
    expect(await rows(world.erp, 'erp_customer', 'cust_code')).toEqual(erpBefore);
    expect(await rows(world.fin, 'fin_account', 'acct_no')).toEqual(finBefore);
    const third = await runJob(app, 'customers');
    expect(third.totals.written).toBe(0);
  });

  it('carries an ERP edit to the hub and finance', async () => {
    world = await createWorld();
    await seedErp(world.erp, [{ code: 'C001', name: 'Acme', creditCode: CODE_A, phone: '010-1' }]);
    const app = await world.open();
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
