import { it } from 'vitest';
import { runJob } from '../../sync/engine.js';
import { createWorld, seedErp, CODE_A } from '../../tests/sync/support.js';
it('dbg', async () => {
  const world = await createWorld();
  await seedErp(world.erp, [{ code: 'C001', name: 'Acme', creditCode: CODE_A, phone: '010-1' }]);
  const app = await world.open();
  console.log(JSON.stringify((await runJob(app, 'customers')).sources));
  await world.erp('erp_customer').where({ cust_code: 'C001' }).update({ phone: '010-9' });
  console.log(JSON.stringify(await runJob(app, 'customers')));
  console.log(await world.fin('fin_account'));
  console.log(await app.hub.knex('crm_parked'));
  await world.close();
});
