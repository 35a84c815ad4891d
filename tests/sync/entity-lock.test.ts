/**
 * Two jobs on one entity must not race to create the same new record: each links a new source
 * row against the hub's records as it saw them when its run built its identity index, so a run
 * of another job creating that customer in between went unseen and the customer was created
 * twice. Runs of jobs on the same entity are serialised by an entity lock in the hub
 * (hub/locks.ts): the second waits (up to its lockWaitMs) or records a skipped run, and links to
 * the record the first created when it runs.
 */
import { describe, expect, it } from 'vitest';
import { runJob } from '../../sync/engine.js';
import type { RunReport } from '../../sync/types.js';
import { createWorld, seedErp, CODE_A, CODE_B } from './support.js';
import { tryLockEntity } from '../../hub/locks.js';
import { closeAfterTest } from '../support/lifecycle.js';

describe('two jobs on one entity, SQLite hub', () => {
  it('a customer pulled by two jobs at once becomes exactly one golden record', async () => {
    // erp_only reads the ERP, fin_only the finance system; the same customer is typed into both.
    const world = closeAfterTest(await createWorld({ extraJobs: { erp_only: ['erp'], fin_only: ['finance'] }, batchSize: 1, direction: 'pull' }));
    await seedErp(world.erp, [{ code: 'C009', name: 'Acme', creditCode: CODE_A }]);
    await world.fin('fin_account').insert([
      { acct_no: 'A001', name: 'Beta', credit_code: CODE_B, deleted: 0 },
      { acct_no: 'Z009', name: 'Acme', credit_code: CODE_A, deleted: 0 },
    ]);
    const app = await world.open();
    let erpRun: Promise<RunReport> | null = null;
    // fin_only has linked A001 (its identity index is built); before it links Z009, erp_only runs.
    const fin = await runJob(app, 'fin_only', {
      faults: {
        at: async (point, info) => {
          if (point === 'after-read' && info.page === 2 && !erpRun) {
            erpRun = runJob(app, 'erp_only');
            await erpRun;
          }
        },
      },
    });
    expect(fin.status).toBe('ok');
    const erp = await erpRun!;
    if (erp.status === 'skipped') {
      expect(erp.reason).toMatch(/^LOCKED: a run of another job on Customer holds the entity's lock/);
      expect((await runJob(app, 'erp_only')).status).toBe('ok');
    }
    const live = (await app.hub.knex('crm_customer').where({ _deleted: false, creditCode: CODE_A }).select('id')) as { id: string }[];
    expect(live).toHaveLength(1);
    const links = (await app.hub.knex('crm_xref').whereIn('source_key', ['C009', 'Z009']).pluck('gid')) as string[];
    expect(new Set(links)).toEqual(new Set([live[0].id]));
  });

  it('the second job waits for the entity lock when asked to, then runs', async () => {
    const world = closeAfterTest(await createWorld({ extraJobs: { erp_only: ['erp'], fin_only: ['finance'] }, direction: 'pull' }));
    await seedErp(world.erp, [{ code: 'C009', name: 'Acme', creditCode: CODE_A }]);
    await world.fin('fin_account').insert([{ acct_no: 'Z009', name: 'Acme', credit_code: CODE_A, deleted: 0 }]);
    const app = await world.open();
    let erpRun: Promise<RunReport> | null = null;
    const fin = runJob(app, 'fin_only', {
      faults: {
        at: (point) => {
          if (point === 'after-read' && !erpRun) erpRun = runJob(app, 'erp_only', { lockWaitMs: 60_000 });
        },
      },
    });
    const finReport = await fin;
    const erpReport = await erpRun!;
    expect(finReport.status).toBe('ok');
    expect(erpReport.status).toBe('ok');
    // Taken in turn: the ERP run started while the finance run held the entity, and waited for it.
    expect(erpReport.sources.erp.linked).toBe(1);
    expect(await app.hub.knex('crm_customer').where({ _deleted: false }).count({ n: '*' })).toEqual([{ n: 1 }]);
  });

  it('the entity lock is one per entity and released after each run', async () => {
    const world = closeAfterTest(await createWorld({ extraJobs: { erp_only: ['erp'] } }));
    const app = await world.open();
    expect((await runJob(app, 'erp_only')).status).toBe('ok');
    const held = await tryLockEntity(app.hub, 'Customer');
    expect(held).not.toBeNull();
    const r = await runJob(app, 'customers');
    expect(r.status).toBe('skipped');
    expect(r.reason).toMatch(/entity's lock/);
    await held!.release();
    expect((await runJob(app, 'customers')).status).toBe('ok');
  });
});
