/**
 * Faster pickup from PostgreSQL (sync/source-listener.ts): trigger capture NOTIFYs on commit, and
 * crmlink, listening, pulls that source within a second (the cron schedule plays no part) and
 * pushes the change on. crmlink's own writes do not notify. Finance is PostgreSQL, the ERP MariaDB.
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { installCapture } from '../../connectors/capture/index.js';
import { runJob } from '../../sync/engine.js';
import { SourceListener } from '../../sync/source-listener.js';
import type { RunReport } from '../../sync/types.js';
import { collector } from '../support/collector.js';
import { requireDialect } from '../support/databases.js';
import { cleanupsAfterEach } from '../support/lifecycle.js';
import { createWorld, seedErp, CODE_A, type World } from './support.js';

let world: World | null = null;
const cleanups = cleanupsAfterEach(async () => {
  await world?.close();
  world = null;
});

describe('LISTEN/NOTIFY pickup from PostgreSQL trigger capture', () => {
  it('a finance edit starts a pull of finance (no scheduler runs here), and reaches the ERP; crmlink’s own writes do not notify', async (t) => {
    if (!(await requireDialect('postgres')) || !(await requireDialect('mysql'))) return t.skip();
    world = await createWorld({ erp: 'mysql', finance: 'postgres', financeCapture: 'trigger', label: 'listen', schedule: '*/5 * * * *' });
    const app = await world.open();
    await installCapture(app.sources.driver('finance'), app.sources.mapping('Customer', 'finance'));
    await seedErp(world.erp, [{ code: 'C001', name: 'Acme', creditCode: CODE_A, phone: '010-1' }]);
    expect((await runJob(app, 'customers')).sources.finance.inserted).toBe(1);

    // The test's own listener on the same channel, to see every notification in commit order.
    const notes = collector<string>();
    const client = new pg.Client({ ...(world.finDb.connection as pg.ClientConfig), database: world.finDb.database });
    await client.connect();
    cleanups.push(() => client.end());
    client.on('notification', (m) => notes.push(m.payload ?? ''));
    await client.query('LISTEN crmlink_changes');

    const runs = collector<RunReport>();
    const listener = new SourceListener(app, { onRun: (r) => runs.push(r) });
    cleanups.push(() => listener.stop());
    expect(listener.sources()).toEqual(['finance']);
    await listener.start();

    // How soon is a benchmark's question (bench/propagation.bench.ts), not a test's: the run below
    // can only have come from the notification, since nothing else starts one in this test.
    await world.fin('fin_account').where({ acct_no: 'C001' }).update({ phone: '010-9' });
    const [run] = await runs.untilCount(1);
    expect(run.status).toBe('ok');
    expect(run.sources.finance.read).toBe(1);
    expect(run.sources.erp.read).toBe(0); // only the source that notified is pulled
    expect(run.sources.erp.updated).toBe(1);
    expect(await world.erp('erp_customer').where({ cust_code: 'C001' }).first()).toMatchObject({ phone: '010-9' });

    // crmlink writes finance (an ERP edit pushed by a run): no notification from that write.
    await world.erp('erp_customer').where({ cust_code: 'C001' }).update({ city: 'SH', phone: '010-5' });
    expect((await runJob(app, 'customers')).sources.finance.updated).toBe(1);
    expect(await world.fin('fin_account').where({ acct_no: 'C001' }).first()).toMatchObject({ phone: '010-5' });
    await client.query(`NOTIFY crmlink_changes, 'marker'`);
    expect(await notes.untilCount(2)).toEqual(['fin_account', 'marker']);
    expect(runs.items).toHaveLength(1);
  });
});
