/**
 * Matching that adds up, on two real systems (ERP on PostgreSQL, finance on MariaDB) with the same
 * customers and no credit codes: without a match block the default rules apply, agreeing rules
 * combine into one score, and the candidate list names every piece of evidence.
 */
import { describe, expect, it } from 'vitest';
import { Command } from 'commander';
import { register as registerConfig } from '../../cli/commands/config.js';
import { parseConfig } from '../../config/load.js';
import { combineWeights, listCandidates, matchAll, type MatchInput } from '../../identity/index.js';
import { runJob } from '../../sync/engine.js';
import { listConflicts } from '../../sync/conflicts.js';
import { createTwoSystems, goldenWithKeys, haveBothServers, PLANTED_ERP as ERP, PLANTED_FIN as FIN } from './two-systems.js';
import { closeAfterTest } from '../support/lifecycle.js';


describe('evidence adds up (pure)', () => {
  it('combines agreeing probable rules into one score: name and phone link, each alone does not', () => {
    const left: MatchInput[] = [{ id: 'a', name: '杭州阿里巴巴网络有限公司', phone: '0571-85022088', email: 'ir@alibaba.example' }];
    const right: MatchInput[] = [{ id: 'b', name: '杭州阿里巴巴网络有限公司', phone: '057185022088', email: 'finance@alibaba.example' }];
    const { matches } = matchAll(left, right, [{ rule: 'name' }, { rule: 'phone' }, { rule: 'email' }]);
    expect(matches).toHaveLength(1);
    expect(matches[0]).toMatchObject({ certainty: 'sure', score: combineWeights([0.9, 0.6]), rule: 'name+phone' });
    expect(matches[0].score).toBeCloseTo(0.96, 6);
    expect(matches[0].evidence.map((e) => [e.rule, e.weight])).toEqual([
      ['name', 0.9],
      ['phone', 0.6],
    ]);
    expect(matches[0].reason).toContain('same company name');
    expect(matches[0].reason).toContain('same phone number 057185022088');
    // One rule alone stays a candidate.
    expect(matchAll(left, right, [{ rule: 'name' }]).matches[0].certainty).toBe('probable');
  });

  it('takes weights and thresholds from the config: a higher link threshold keeps name+phone a candidate', () => {
    const left: MatchInput[] = [{ id: 'a', name: '小米科技有限责任公司', phone: '010-60606666' }];
    const right: MatchInput[] = [{ id: 'b', name: '小米科技有限公司', phone: '01060606666' }];
    const strict = matchAll(left, right, [{ rule: 'name' }, { rule: 'phone' }], { thresholds: { link: 0.99 } });
    expect(strict.matches[0]).toMatchObject({ certainty: 'probable', rule: 'name+phone' });
    const weak = matchAll(left, right, [{ rule: 'phone', weight: 0.3 }], { thresholds: { candidate: 0.4 } });
    expect(weak.matches).toEqual([]);
  });
});

describe('two real systems, no match block', () => {
  it('links each customer once on combined evidence and lists the rest as candidates with every reason', async () => {
    if (!(await haveBothServers())) return;
    const sys = closeAfterTest(await createTwoSystems(ERP, FIN, { label: 'evid' }));
    const app = await sys.open();
    const report = await runJob(app, 'customers');
    expect(report.error).toBeUndefined();

    const golden = await goldenWithKeys(app);
    const byKeys = golden.map((g) => g.keys.join(',')).sort();
    // C01 (all agree), C02 (name+phone), C03 (name+email): one golden record each. C04 was renamed:
    // phone+e-mail (0.88) is below the link threshold, so it is a candidate, not a link.
    expect(byKeys).toEqual(['erp:C01,finance:F01', 'erp:C02,finance:F02', 'erp:C03,finance:F03', 'erp:C04', 'finance:F04']);

    const candidates = await listCandidates(app.hub, {});
    expect(candidates).toHaveLength(1);
    expect(candidates[0].rule).toBe('email+phone');
    expect(candidates[0].score).toBeCloseTo(0.88, 6);
    expect(candidates[0].reason).toContain('same e-mail address hi@xiaomi.example');
    expect(candidates[0].reason).toContain('same phone number 01060606666');

    // The disagreements on linked customers are conflicts (policy manual), nothing is pushed.
    const conflicts = await listConflicts(app, { status: 'open' });
    expect(conflicts.map((c) => c.field).sort()).toEqual(['email', 'phone']);
    expect((await sys.erp('customer').where({ code: 'C02' }).first()).email).toBe('ir@alibaba.example');
    expect((await sys.fin('fin_customer').where({ acct: 'F02' }).first()).email).toBe('finance@alibaba.example');
    expect((await sys.erp('customer').where({ code: 'C03' }).first()).phone).toBe('0755-86013388');
    expect((await sys.fin('fin_customer').where({ acct: 'F03' }).first()).phone).toBe('0755-86019999');
  });

  it('config check prints the effective rules, defaults included', async () => {
    if (!(await haveBothServers())) return;
    const sys = closeAfterTest(await createTwoSystems([], [], { label: 'evcfg' }));
    const out: string[] = [];
    const program = new Command().exitOverride();
    const yaml = sys.yaml;
    registerConfig(program, {
      loadConfig: async () => parseConfig(yaml),
      openApp: () => Promise.reject(new Error('config check opens no app')),
      closeApp: async () => {},
      out: (s) => out.push(s),
      err: (s) => out.push(s),
    });
    await program.parseAsync(['node', 'crmlink', 'config', 'check']);
    const text = out.join('\n');
    expect(text).toContain('match (Customer, default rules: no match block): creditCode 1 (sure), name 0.9, phone 0.6, email 0.7');
    expect(text).toContain('link at score ≥ 0.95, merge candidate at score ≥ 0.5');
  });
});
