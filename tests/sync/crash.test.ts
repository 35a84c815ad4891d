/**
 * Crash safety: a run killed with SIGKILL at each point of the write path, then run again, ends in
 * the same state as a run that was never interrupted — nothing lost, nothing twice. The child is a
 * real process (node --import tsx tests/sync/fixtures/crash-run.ts) that kills itself at the point.
 *
 * Also two real processes racing for one job on a PostgreSQL hub: one runs, one is skipped.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { App } from '../../app/app.js';
import { runJob } from '../../sync/engine.js';
import { runTsxChild, type ChildResult } from '../support/child.js';
import { requireDialect } from '../support/databases.js';
import { createWorld, rows, seedErp, CODE_A, CODE_B, CODE_C, type World, type WorldOptions } from './support.js';
import { makeCreditCode } from '../../identity/credit-code.js';

const SCRIPT = 'tests/sync/fixtures/crash-run.ts';

function runChild(configFile: string, point: string, nth: number): Promise<ChildResult> {
  return runTsxChild(SCRIPT, [configFile, 'customers', point, String(nth)]);
}

/** The history every case starts from: an initial sync, then edits on both sides and a delete. */
async function prepare(opts: WorldOptions): Promise<{ world: World; app: App; configFile: string }> {
  const world = await createWorld({ batchSize: 3, ...opts });
  await seedErp(
    world.erp,
    Array.from({ length: 7 }, (_, i) => ({
      code: `C00${i + 1}`,
      name: `Customer ${i + 1}`,
      creditCode: makeCreditCode(`91110000MA0${i + 1}XYW0Q`.slice(0, 17)),
      phone: `010-${i + 1}`,
      limit: `${(i + 1) * 100}`,
    })),
  );
  const app = await world.open();
  expect((await runJob(app, 'customers')).status).toBe('ok');
  // Edits for the run under test: ERP edits and an insert, finance edits (one conflicting), a
  // new finance account, an ERP delete.
  await world.erp('erp_customer').where({ cust_code: 'C001' }).update({ phone: 'erp-1', city: 'BJ' });
  await world.erp('erp_customer').where({ cust_code: 'C002' }).update({ phone: 'erp-2' });
  await world.erp('erp_customer').where({ cust_code: 'C007' }).delete();
  await seedErp(world.erp, [{ code: 'C008', name: 'Customer 8', creditCode: CODE_A }]);
  await world.fin('fin_account').where({ acct_no: 'C002' }).update({ phone: 'fin-2' });
  await world.fin('fin_account').where({ acct_no: 'C003' }).update({ credit_limit: '333' });
  await world.fin('fin_account').insert([
    { acct_no: 'F-1', name: 'Finance only 1', credit_code: CODE_B },
    { acct_no: 'F-2', name: 'Finance only 2', credit_code: CODE_C },
  ]);
  const dir = mkdtempSync(join(tmpdir(), 'crmlink-crash-'));
  const configFile = join(dir, 'crmlink.yaml');
  writeFileSync(configFile, world.yaml);
  return { world, app, configFile };
}

/** Everything that must come out the same, with global ids replaced by codes. */
async function state(world: World, app: App): Promise<unknown> {
  const hub = (await app.hub.knex('crm_customer').orderBy('code')) as Record<string, unknown>[];
  const codeOf = new Map(hub.map((r) => [String(r.id), String(r.code)]));
  const live = hub.filter((r) => !r._deleted && !Number(r._deleted));
  const xref = ((await app.hub.knex('crm_xref').select('source', 'source_key', 'gid')) as { source: string; source_key: string; gid: string }[])
    .map((x) => `${x.source}:${x.source_key}->${codeOf.get(x.gid)}`)
    .sort();
  const conflicts = ((await app.hub.knex('crm_conflict').select('gid', 'field', 'values', 'status')) as Record<string, string>[])
    .map((c) => `${codeOf.get(c.gid)}.${c.field}:${c.status}:${c.values}`)
    .sort();
  const bases = ((await app.hub.knex('crm_base').select('source', 'source_key', 'values', 'deleted')) as Record<string, unknown>[])
    .map((b) => `${b.source}:${b.source_key}:${Number(b.deleted)}:${b.values}`)
    .sort();
  return {
    hub: hub.map((r) => {
      const v = app.hub.fromRow('Customer', r);
      return { ...v.values, deleted: v.deleted };
    }),
    liveCodes: live.map((r) => r.code),
    xref,
    bases,
    conflicts,
    parked: await app.hub.knex('crm_parked').where({ status: 'parked' }).count({ n: '*' }),
    intents: await app.hub.knex('crm_sync_intent').count({ n: '*' }),
    erp: await rows(world.erp, 'erp_customer', 'cust_code').then((r) => r.map(({ updated_at: _u, ...rest }) => rest)),
    finance: await rows(world.fin, 'fin_account', 'acct_no'),
  };
}

/**
 * PostgreSQL frees a killed process's advisory lock only once its backend notices the dropped
 * connection, which can take a moment on a loaded machine: until then the re-run is (rightly)
 * skipped as LOCKED, so wait for the lock rather than fail.
 */
async function rerunAfterKill(app: Awaited<ReturnType<typeof prepare>>['app']): Promise<Awaited<ReturnType<typeof runJob>>> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const report = await runJob(app, 'customers');
    if (report.status !== 'skipped' || !report.reason?.startsWith('LOCKED') || Date.now() > deadline) return report;
    await new Promise((r) => setTimeout(r, 200));
  }
}

const POINTS: [string, number][] = [
  ['after-read:pull', 1],
  ['after-read:pull', 3],
  ['mid-batch:pull', 2],
  ['after-hub-write:pull', 1],
  ['before-checkpoint:pull', 2],
  ['mid-batch:push', 1],
  ['after-source-batch:push', 1],
  ['after-source-batch:push', 3],
];

describe.each([
  { hub: 'sqlite' as const, erp: 'postgres' as const, finance: 'mysql' as const },
  { hub: 'postgres' as const, erp: 'mysql' as const, finance: 'sqlite' as const },
])('SIGKILL during a run (hub $hub, ERP $erp, finance $finance)', (dialects) => {
  it('ends, after a re-run, where an uninterrupted run ends, at every point', async (t) => {
    for (const d of new Set(Object.values(dialects))) if (!(await requireDialect(d))) return t.skip();
    // The reference: the same history, never interrupted.
    const ref = await prepare({ ...dialects, label: 'ref' });
    try {
      expect((await runJob(ref.app, 'customers')).status).not.toBe('failed');
      await runJob(ref.app, 'customers');
      const expected = await state(ref.world, ref.app);
      expect((expected as { intents: unknown }).intents).toEqual([{ n: dialects.hub === 'postgres' ? '0' : 0 }]);

      for (const [point, nth] of POINTS) {
        const c = await prepare({ ...dialects, label: 'crash' });
        try {
          const child = await runChild(c.configFile, point, nth);
          expect(child.signal, `${point} #${nth} was not reached: ${child.stdout}${child.stderr}`).toBe('SIGKILL');
          const again = await rerunAfterKill(c.app);
          expect(again.status, `${point} #${nth}: ${JSON.stringify(again.error)}`).not.toBe('failed');
          await runJob(c.app, 'customers');
          expect(await state(c.world, c.app), `state after SIGKILL at ${point} #${nth}`).toEqual(expected);
          const quiet = await runJob(c.app, 'customers');
          expect(quiet.totals.written, `quiet after ${point} #${nth}`).toBe(0);
          expect(await c.app.hub.knex('crm_run').where({ status: 'abandoned' }).count({ n: '*' })).toEqual([{ n: dialects.hub === 'postgres' ? '1' : 1 }]);
        } finally {
          await c.world.close();
        }
      }
    } finally {
      await ref.world.close();
    }
  }, 300_000);
});

describe('two processes on one PostgreSQL hub', () => {
  it('run the same job once: the second is skipped while the first holds the lock', async (t) => {
    for (const d of ['postgres', 'mysql'] as const) if (!(await requireDialect(d))) return t.skip();
    const c = await prepare({ hub: 'postgres', erp: 'postgres', finance: 'mysql', label: 'two' });
    try {
      // The first child stops (SIGSTOP-free: it is simply slow) by dying mid-run would release
      // the lock; instead both run for real and overlap thanks to the page size of 3.
      const [a, b] = await Promise.all([runChild(c.configFile, 'none', 1), runChild(c.configFile, 'none', 1)]);
      const statuses = [a, b].map((r) => (JSON.parse(r.stdout.trim() || '{}') as { status?: string }).status).sort();
      expect(statuses).toContain('ok');
      const runs = (await c.app.hub.knex('crm_run').orderBy('id').pluck('status')) as string[];
      // Initial sync + two children: either they overlapped (one skipped) or ran one after the
      // other (the second found nothing left to write). Never both writing at once.
      expect(runs[0]).toBe('ok');
      expect(runs.slice(1).sort()).toEqual(statuses);
      const customers = await c.app.hub.knex('crm_customer').where({ _deleted: false }).count({ n: '*' });
      expect(customers).toEqual([{ n: '9' }]);
    } finally {
      await c.world.close();
    }
  }, 120_000);
});
