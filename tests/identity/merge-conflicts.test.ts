/**
 * A merge never overwrites silently, on two real systems (ERP on PostgreSQL, finance on MariaDB):
 * disagreeing fields follow the job's conflict policy (manual: open conflicts, nothing pushed), the
 * person merging can choose per field, a dry run shows what each system would be sent, and field
 * provenance afterwards names the source that supplied each surviving value.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Command, CommanderError } from 'commander';
import type { App } from '../../app/app.js';
import { register } from '../../cli/commands/customers.js';
import { listCandidates, mergeRecords, identityConfig } from '../../identity/index.js';
import { runJob } from '../../sync/engine.js';
import { listConflicts } from '../../sync/conflicts.js';
import { createTwoSystems, goldenWithKeys, haveBothServers, type Person, type TwoSystems } from './two-systems.js';

// Renamed and a different e-mail in finance; the phone agrees: a candidate on the phone only.
const ERP: Person[] = [{ code: 'C04', name: '小米科技有限责任公司', phone: '010-60606666', email: 'hi@xiaomi.example' }];
const FIN: Person[] = [{ code: 'F04', name: '北京小米移动软件有限公司', phone: '010-60606666', email: 'fin@xiaomi.example' }];

let sys: TwoSystems | null = null;
afterEach(async () => {
  await sys?.close();
  sys = null;
});

/** The pair the first run leaves: the ERP's customer and finance's, and the CLI over this app. */
async function setUp(opts: { conflicts?: string } = {}): Promise<{ app: App; erpGid: string; finGid: string; cli: (...args: string[]) => Promise<string> }> {
  sys = await createTwoSystems(ERP, FIN, { label: 'mrg', ...opts });
  const app = await sys.open();
  await runJob(app, 'customers');
  const [c] = await listCandidates(app.hub, {});
  const erpSide = c.a.sources[0].source === 'erp' ? c.a : c.b;
  const finSide = erpSide === c.a ? c.b : c.a;
  const cli = async (...args: string[]): Promise<string> => {
    const out: string[] = [];
    const program = new Command('crmlink').exitOverride();
    register(program, { openApp: async () => app, closeApp: async () => {}, out: (s) => out.push(s) });
    const all = (cmd: Command): Command[] => cmd.commands.flatMap((s) => [s, ...all(s)]);
    for (const cmd of all(program)) cmd.exitOverride();
    try {
      await program.parseAsync(['node', 'crmlink', ...args]);
    } catch (err) {
      if (!(err instanceof CommanderError)) throw err;
    }
    return out.join('\n');
  };
  return { app, erpGid: erpSide.id, finGid: finSide.id, cli };
}

async function provenance(app: App, gid: string): Promise<Record<string, string>> {
  const rows = (await app.hub.knex('crm_provenance').where({ entity: 'Customer', gid }).orderBy('field')) as { field: string; source: string }[];
  return Object.fromEntries(rows.map((r) => [r.field, r.source]));
}

describe('merge: disagreements are conflicts, never silent overwrites', () => {
  it('dry run shows every field and what each system would get, and changes nothing', async () => {
    if (!(await haveBothServers())) return;
    const { app, erpGid, finGid, cli } = await setUp();
    const text = await cli('customers', 'merge', erpGid, finGid, '--dry-run');
    expect(text).toContain(`dry run: merging ${finGid} into ${erpGid} would do this (nothing was changed)`);
    expect(text).toMatch(/email: CONFLICT "hi@xiaomi.example" from erp \(survivor "hi@xiaomi.example", merged "fin@xiaomi.example"\)/);
    expect(text).toMatch(/name: CONFLICT/);
    expect(text).toContain('open conflicts: name, email');
    expect(text).toContain('the next sync writes nothing to the sources because of this merge');
    expect((await goldenWithKeys(app)).length).toBe(2);
    expect(await listConflicts(app)).toEqual([]);
    expect((await listCandidates(app.hub, {}))[0].status).toBe('open');
  });

  it('with the job policy manual: open conflicts, the survivor keeps its values, nothing is pushed; provenance per field', async () => {
    if (!(await haveBothServers())) return;
    const { app, erpGid, finGid, cli } = await setUp();
    const text = await cli('customers', 'merge', erpGid, finGid);
    expect(text).toContain('fields changed: none');
    expect(text).toContain('open conflicts: name, email');

    const open = await listConflicts(app);
    expect(open.map((c) => [c.gid, c.field, c.values]).sort()).toEqual([
      [erpGid, 'email', { hub: 'hi@xiaomi.example', finance: 'fin@xiaomi.example' }],
      [erpGid, 'name', { hub: '小米科技有限责任公司', finance: '北京小米移动软件有限公司' }],
    ]);
    // Finding 4: code and phone still come from the ERP (the phone agreed, finance has no code).
    expect(await provenance(app, erpGid)).toEqual({ code: 'erp', email: 'erp', name: 'erp', phone: 'erp' });

    const report = await runJob(app, 'customers');
    expect(report.totals.sourceWritten).toBe(0);
    expect(await sys!.erp('customer').select('code', 'name', 'email')).toEqual([{ code: 'C04', name: '小米科技有限责任公司', email: 'hi@xiaomi.example' }]);
    expect(await sys!.fin('fin_customer').select('acct', 'name', 'email')).toEqual([{ acct: 'F04', name: '北京小米移动软件有限公司', email: 'fin@xiaomi.example' }]);
  });

  it('unmerge closes the conflicts the merge raised', async () => {
    if (!(await haveBothServers())) return;
    const { app, erpGid, finGid, cli } = await setUp();
    await cli('customers', 'merge', erpGid, finGid);
    expect((await listConflicts(app)).length).toBe(2);
    const text = await cli('customers', 'unmerge', finGid);
    expect(text).toContain(`unmerged ${finGid} from ${erpGid}`);
    expect(await listConflicts(app)).toEqual([]);
    expect((await goldenWithKeys(app)).length).toBe(2);
    const report = await runJob(app, 'customers');
    expect(report.totals.sourceWritten).toBe(0);
  });

  it("the person merging chooses per field; the choice is recorded and pushed; provenance names the chosen source", async () => {
    if (!(await haveBothServers())) return;
    const { app, erpGid, finGid, cli } = await setUp();
    const text = await cli('customers', 'merge', erpGid, finGid, '--choose', 'email=finance', '--choose', 'name=survivor', '--actor', 'alice');
    expect(text).toContain('fields changed: email');
    expect(text).toMatch(/email: chosen "fin@xiaomi.example" from finance/);
    expect(text).toContain('erp:C04 email "hi@xiaomi.example" → "fin@xiaomi.example"');
    expect(text).toContain('finance:F04 name "北京小米移动软件有限公司" → "小米科技有限责任公司"');
    expect(await listConflicts(app)).toEqual([]);
    const decided = await listConflicts(app, { status: 'resolved' });
    expect(decided.map((c) => [c.field, c.resolvedBy, c.resolution?.keep]).sort()).toEqual([
      ['email', 'alice', 'finance'],
      ['name', 'alice', 'hub'],
    ]);
    expect(await provenance(app, erpGid)).toEqual({ code: 'erp', email: 'finance', name: 'erp', phone: 'erp' });
    await runJob(app, 'customers');
    expect((await sys!.erp('customer').first()).email).toBe('fin@xiaomi.example');
    expect((await sys!.fin('fin_customer').first()).name).toBe('小米科技有限责任公司');
  });

  it('a field the job gives to a source is decided by that policy, never by which record the hub created later', async () => {
    if (!(await haveBothServers())) return;
    const { app, erpGid, finGid } = await setUp({ conflicts: '{ default: manual, fields: { email: "source:erp" } }' });
    // Merge the ERP's record into finance's (created later in the hub): `newest` survivorship must not pick finance.
    const ids = identityConfig(app.config, 'Customer');
    const r = await mergeRecords(app.hub, { survivor: finGid, merged: erpGid, actor: 't', rules: ids.survivorship, policies: ids.conflicts, job: ids.job });
    expect(r.fields.find((f) => f.field === 'email')).toMatchObject({ value: 'hi@xiaomi.example', source: 'erp', decision: 'rule' });
    expect(r.conflicts).toEqual(['name']);
    const fin = r.writes.find((w) => w.source === 'finance');
    expect(fin?.fields.email).toEqual({ from: 'fin@xiaomi.example', to: 'hi@xiaomi.example' });
    expect(r.writes.find((w) => w.source === 'erp')).toBeUndefined();
    expect(await provenance(app, finGid)).toMatchObject({ email: 'erp', phone: 'finance', name: 'finance', code: 'erp' });
  });
});
