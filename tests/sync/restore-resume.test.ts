/**
 * Sync after a hub restore: the checkpoints, bases and cross-references come back with the data,
 * so the next run reconciles only what changed since the backup — the customer added and the name
 * edited after it — without duplicating a customer (in the hub or in finance, where the restored
 * hub's customer had already been pushed) and without losing one. On SQLite and PostgreSQL hubs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runJob } from '../../sync/engine.js';
import { restoreBackup, takeBackup } from '../../hub/backup/index.js';
import { requireDialect } from '../support/databases.js';
import { ACME_AND_BETA, createWorld, hubCustomers, rows, seedErp, CODE_C, type World } from './support.js';

let world: World | null = null;
let dir = '';
afterEach(async () => {
  await world?.close();
  world = null;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.each(['sqlite', 'postgres'] as const)('sync after restoring a %s hub', (hubDialect) => {
  it('picks up what changed since the backup, with no duplicate and nothing lost', async (t) => {
    if (hubDialect === 'postgres' && !(await requireDialect('postgres'))) return t.skip();
    world = await createWorld({ hub: hubDialect, label: 'restore' });
    dir = mkdtempSync(join(tmpdir(), 'crmlink-restore-sync-'));
    await seedErp(world.erp, ACME_AND_BETA);
    const app = await world.open();
    expect((await runJob(app, 'customers')).status).toBe('ok');
    const backup = await takeBackup(app.hub, { dir });

    // After the backup: a new ERP customer and an edit, both synced before the restore.
    await seedErp(world.erp, [{ code: 'C003', name: 'Gamma', creditCode: CODE_C, phone: '010-3' }]);
    await world.erp('erp_customer').where({ cust_code: 'C001' }).update({ cust_name: 'Acme Renamed' });
    expect((await runJob(app, 'customers')).status).toBe('ok');
    const finBefore = await rows(world.fin, 'fin_account', 'acct_no');
    expect(finBefore.map((r) => r.acct_no)).toEqual(['C001', 'C002', 'C003']);

    await restoreBackup(app.hub, backup.path, { dir, jobs: ['customers'] });
    expect(Object.keys(await hubCustomers(app))).toEqual(['C001', 'C002']);

    const run = await runJob(app, 'customers');
    expect(run.status).toBe('ok');
    // Only the changes since the backup are reconciled: nothing inserted or rewritten in finance.
    expect(run.sources.finance).toMatchObject({ inserted: 0, deleted: 0 });
    const hub = await hubCustomers(app);
    expect(Object.keys(hub)).toEqual(['C001', 'C002', 'C003']);
    expect(hub.C001.name).toBe('Acme Renamed');
    const all = (await app.hub.knex('crm_customer').select('code', '_deleted', '_merged_into')) as { code: string }[];
    expect(all.map((r) => r.code).sort()).toEqual(['C001', 'C002', 'C003']);
    expect(await rows(world.fin, 'fin_account', 'acct_no')).toEqual(finBefore);
    expect((await world.erp('erp_customer').pluck('cust_code')).sort()).toEqual(['C001', 'C002', 'C003']);
    expect((await runJob(app, 'customers')).sources.erp).toMatchObject({ hubInserted: 0, hubUpdated: 0 });
  });
});
