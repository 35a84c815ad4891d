/**
 * `crmlink sync ...` and `crmlink conflicts ...` through commander, against a real SQLite world:
 * output, JSON, and exit codes (0 ok, 1 failed / had errors, 2 usage).
 */
import { describe, expect, it } from 'vitest';
import { register as registerSync } from '../../cli/commands/sync.js';
import { register as registerConflicts } from '../../cli/commands/conflicts.js';
import { ACME_AND_BETA_NO_PHONE, createWorld, seedErp, CODE_A, CODE_B, type World } from './support.js';
import { closeAfterTest } from '../support/lifecycle.js';
import { runCommands } from '../support/cli.js';

const cli = (w: World, ...args: string[]) => runCommands([registerSync, registerConflicts], () => w.open(), args, { printErrors: true });

describe('crmlink sync', () => {
  it('runs a job, prints its report, plans a dry run, shows status and history', async () => {
    const world = closeAfterTest(await createWorld());
    await seedErp(world.erp, [{ code: 'C001', name: 'Acme', creditCode: CODE_A }]);
    const run = await cli(world, 'sync', 'run', 'customers', '--json');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.out)).toMatchObject({ job: 'customers', status: 'ok', totals: { hubWritten: 1, sourceWritten: 1 } });

    await world.erp('erp_customer').update({ phone: '1' });
    const dry = await cli(world, 'sync', 'run', 'customers', '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.out).toMatch(/^dry run of customers \(Customer\): ok/);
    expect(dry.out).toMatch(/finance: 0 inserts, 1 updates/);
    expect(dry.out).toMatch(/~ C001 .*"phone":"1"/);

    const status = await cli(world, 'sync', 'status', '--json');
    expect(status.code).toBe(0);
    expect(JSON.parse(status.out)).toEqual([expect.objectContaining({ job: 'customers', entity: 'Customer', openConflicts: 0, parked: 0, lastRun: expect.objectContaining({ status: 'ok' }) })]);
    const text = await cli(world, 'sync', 'status');
    expect(text.out).toMatch(/^JOB\s+ENTITY/);
    const runs = await cli(world, 'sync', 'runs');
    expect(runs.out.split('\n')).toHaveLength(2);
  });

  it('status shows a schedule with its words', async () => {
    const world = closeAfterTest(await createWorld({ schedule: '30 2 * * 1-5' }));
    const text = await cli(world, 'sync', 'status');
    expect(text.code).toBe(0);
    expect(text.out).toContain('30 2 * * 1-5 (At 02:30, Monday through Friday)');
  });

  it('exits 2 for an unknown job and 1 for a run that parked records', async () => {
    const world = closeAfterTest(await createWorld());
    await seedErp(world.erp, [
      { code: 'C001', name: 'A company name far too long for the finance system', creditCode: CODE_A },
      { code: 'C002', name: 'Beta', creditCode: CODE_B },
    ]);
    const unknown = await cli(world, 'sync', 'run', 'nope');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/unknown sync job "nope" \(configured: customers\)/);
    const partial = await cli(world, 'sync', 'run', 'customers');
    expect(partial.code).toBe(1);
    expect(partial.out).toMatch(/: partial/);
    const parked = await cli(world, 'sync', 'parked');
    expect(parked.code).toBe(0);
    expect(parked.out).toMatch(/finance\s+push/);
    const retry = await cli(world, 'sync', 'parked', '--retry');
    expect(retry.code).toBe(1);
    expect(retry.out).toMatch(/customers: retried 1, resolved 0, still parked 1/);
  });
});

describe('crmlink sync reconcile', () => {
  it('applies the hard deletes a timestamp capture missed; --dry-run, --json, --help and exit codes', async () => {
    const world = closeAfterTest(await createWorld({ erpCapture: 'timestamp' }));
    await seedErp(world.erp, ACME_AND_BETA_NO_PHONE);
    expect((await cli(world, 'sync', 'run', 'customers')).code).toBe(0);
    await world.erp('erp_customer').where({ cust_code: 'C002' }).delete();

    const help = await cli(world, 'sync', 'reconcile', '--help');
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/--dry-run/);
    expect(help.out).toMatch(/Exit codes: 0 ok, 1 failed/);
    expect((await cli(world, 'sync', 'reconcile')).code).toBe(2);
    const unknown = await cli(world, 'sync', 'reconcile', 'nope');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/unknown sync job "nope"/);

    const dry = await cli(world, 'sync', 'reconcile', 'customers', '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.out).toMatch(/^dry-run reconcile of customers \(Customer\): ok/);
    expect(dry.out).toMatch(/erp: 2 keys checked, 1 gone from the source \(dry run: nothing deleted\)\n\s+- C002/);
    expect(await world.fin('fin_account').orderBy('acct_no').pluck('acct_no')).toEqual(['C001', 'C002']);

    const real = await cli(world, 'sync', 'reconcile', 'customers', '--json');
    expect(real.code).toBe(0);
    expect(JSON.parse(real.out)).toMatchObject({ job: 'customers', status: 'ok', trigger: 'reconcile', reconciled: { erp: { checked: 2, missing: 1 } }, totals: { hubWritten: 1, sourceWritten: 1 } });
    expect(await world.fin('fin_account').pluck('acct_no')).toEqual(['C001']);
    const again = await cli(world, 'sync', 'reconcile', 'customers', '--source', 'erp');
    expect(again.code).toBe(0);
    expect(again.out).toMatch(/erp: 1 keys checked, 0 gone/);
    expect(again.out).not.toMatch(/finance: \d+ keys/);
  });
});

describe('crmlink conflicts', () => {
  it('lists a conflict and resolves it; bad usage and refusals have their exit codes', async () => {
    const world = closeAfterTest(await createWorld());
    await seedErp(world.erp, [{ code: 'C001', name: 'Acme', creditCode: CODE_A, phone: '0' }]);
    expect((await cli(world, 'sync', 'run', 'customers')).code).toBe(0);
    await world.erp('erp_customer').update({ phone: 'erp' });
    await world.fin('fin_account').update({ phone: 'fin' });
    await cli(world, 'sync', 'run', 'customers');

    const list = await cli(world, 'conflicts', 'list', '--entity', 'Customer', '--json');
    expect(list.code).toBe(0);
    const [c] = JSON.parse(list.out) as { id: number; field: string }[];
    expect(c.field).toBe('phone');
    const text = await cli(world, 'conflicts', 'list');
    expect(text.out).toMatch(/field phone  \[open\]  rule manual/);
    expect(text.out).toMatch(/finance\s+"fin"/);

    expect((await cli(world, 'conflicts', 'resolve', String(c.id))).code).toBe(2);
    expect((await cli(world, 'conflicts', 'resolve', String(c.id), '--keep', 'hub', '--value', 'x')).code).toBe(2);
    expect((await cli(world, 'conflicts', 'resolve', 'abc', '--keep', 'hub')).code).toBe(2);
    const wrongSide = await cli(world, 'conflicts', 'resolve', String(c.id), '--keep', 'oa');
    expect(wrongSide.code).toBe(1);
    expect(wrongSide.err).toMatch(/no value from "oa"/);

    // A given value goes through the checks a GraphQL mutation's value does: not a phone number here.
    const notPhone = await cli(world, 'conflicts', 'resolve', String(c.id), '--value', 'agreed', '--actor', 'bob');
    expect(notPhone.code).toBe(1);
    expect(notPhone.err).toMatch(/VALIDATION_FAILED.*phone.*"agreed" is not a valid phone number/);
    const tooLong = await cli(world, 'conflicts', 'resolve', String(c.id), '--value', '1'.repeat(500), '--actor', 'bob');
    expect(tooLong.code).toBe(1);
    expect(tooLong.err).toMatch(/phone.*longer than/);

    const ok = await cli(world, 'conflicts', 'resolve', String(c.id), '--value', '+86 21 5555 0100', '--actor', 'bob');
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/resolved: Customer .*\.phone = "\+86 21 5555 0100"/);
    expect((await cli(world, 'conflicts', 'resolve', String(c.id), '--keep', 'hub')).code).toBe(1);
    expect((await cli(world, 'sync', 'run', 'customers')).code).toBe(0);
    expect(await world.erp('erp_customer').pluck('phone')).toEqual(['+86 21 5555 0100']);
    expect(await world.fin('fin_account').pluck('phone')).toEqual(['+86 21 5555 0100']);
  });
});
