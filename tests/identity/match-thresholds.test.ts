/**
 * The matcher at its edges: a score exactly at the link or candidate threshold, the weights each
 * rule gives by default and as configured, the checks on configured rules and thresholds, and the
 * blocking keys — which values identify nothing (too short a phone, a one-character name, an
 * address that is not one, a contact shared by more records than allowed) and so never match.
 */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RULES,
  DEFAULT_THRESHOLDS,
  MatchIndex,
  combineWeights,
  describeMatching,
  makeCreditCode,
  matchAll,
  resolveRules,
  resolveThresholds,
  type MatchInput,
  type MatchRule,
} from '../../identity/index.js';

const CODE_A = makeCreditCode('91310115MA1H7A3K2');
const CODE_B = makeCreditCode('91110108MA01C2D3E');

const one = (l: MatchInput, r: MatchInput, rules: readonly MatchRule[], options = {}) => matchAll([l], [r], rules, options).matches;

describe('scores against the thresholds', () => {
  it('a score exactly at the link threshold links; just below it is a candidate', () => {
    const l = { id: 'a', phone: '13800138000' };
    const r = { id: 'b', phone: '13800138000' };
    expect(one(l, r, [{ rule: 'phone', weight: 0.8 }], { thresholds: { link: 0.8 } })[0]).toMatchObject({ certainty: 'sure', score: 0.8 });
    expect(one(l, r, [{ rule: 'phone', weight: 0.8 }], { thresholds: { link: 0.800001 } })[0]).toMatchObject({ certainty: 'probable', score: 0.8 });
  });

  it('a score exactly at the candidate threshold is reported; just below it nothing is', () => {
    const l = { id: 'a', email: 'x@y.cn' };
    const r = { id: 'b', email: 'X@Y.cn' };
    expect(one(l, r, [{ rule: 'email', weight: 0.3 }], { thresholds: { candidate: 0.3 } })).toHaveLength(1);
    expect(one(l, r, [{ rule: 'email', weight: 0.3 }], { thresholds: { candidate: 0.300001 } })).toEqual([]);
    // Default candidate threshold 0.5: a 0.5 piece of evidence is a candidate, 0.49 is not.
    expect(one(l, r, [{ rule: 'email', weight: 0.5 }])[0]).toMatchObject({ certainty: 'probable', score: 0.5 });
    expect(one(l, r, [{ rule: 'email', weight: 0.49 }])).toEqual([]);
  });

  it('the defaults: link at 0.95, candidate at 0.5; name+phone (0.96) links, name+email (0.97) links, phone+email (0.88) does not', () => {
    expect(DEFAULT_THRESHOLDS).toEqual({ link: 0.95, candidate: 0.5 });
    const base = { name: '杭州阿里巴巴网络有限公司', phone: '0571-85022088', email: 'ir@alibaba.example' };
    const l = { id: 'a', ...base };
    const score = (r: MatchInput) => one(l, r, DEFAULT_RULES)[0];
    expect(score({ id: 'b', name: base.name, phone: base.phone })).toMatchObject({ certainty: 'sure', score: 0.96, rule: 'name+phone' });
    expect(score({ id: 'b', name: base.name, email: base.email })).toMatchObject({ certainty: 'sure', score: 0.97, rule: 'name+email' });
    expect(score({ id: 'b', phone: base.phone, email: base.email })).toMatchObject({ certainty: 'probable', score: 0.88, rule: 'email+phone' });
    expect(score({ id: 'b', ...base })).toMatchObject({ certainty: 'sure', score: 0.988, rule: 'name+email+phone' });
  });

  it('combineWeights is 1 − Π(1 − w), rounded to 6 places', () => {
    expect(combineWeights([])).toBe(0);
    expect(combineWeights([0.9, 0.6])).toBe(0.96);
    expect(combineWeights([0.7, 0.6])).toBe(0.88);
    expect(combineWeights([1, 0.2])).toBe(1);
    expect(combineWeights([0.1, 0.2])).toBe(0.28);
    expect(combineWeights([1 / 3])).toBe(0.333333);
  });
});

describe('rule weights', () => {
  it('defaults: credit code 1 (sure), name 0.9, e-mail 0.7, phone 0.6 (probable)', () => {
    expect(resolveRules(DEFAULT_RULES)).toEqual([
      { rule: 'creditCode', certainty: 'sure', weight: 1 },
      { rule: 'name', certainty: 'probable', weight: 0.9 },
      { rule: 'phone', certainty: 'probable', weight: 0.6 },
      { rule: 'email', certainty: 'probable', weight: 0.7 },
    ]);
  });

  it('sure makes a rule link alone (weight 1), except the name; probable credit code drops to the name weight', () => {
    expect(resolveRules([{ rule: 'phone', certainty: 'sure' }, { rule: 'name', certainty: 'sure' }, { rule: 'creditCode', certainty: 'probable' }])).toEqual([
      { rule: 'phone', certainty: 'sure', weight: 1 },
      { rule: 'name', certainty: 'sure', weight: 0.9 },
      { rule: 'creditCode', certainty: 'probable', weight: 0.9 },
    ]);
    expect(resolveRules([{ rule: 'email', weight: 1 }, { rule: 'phone', certainty: 'sure', weight: 0.4 }])).toEqual([
      { rule: 'email', certainty: 'probable', weight: 1 },
      { rule: 'phone', certainty: 'sure', weight: 0.4 },
    ]);
  });

  it('refuses a weight outside (0, 1] and an unknown rule, naming them', () => {
    expect(() => resolveRules([{ rule: 'phone', weight: 0 }])).toThrow("match rule 'phone': weight 0 is not in (0, 1]");
    expect(() => resolveRules([{ rule: 'phone', weight: 1.01 }])).toThrow("match rule 'phone': weight 1.01 is not in (0, 1]");
    expect(() => resolveRules([{ rule: 'phone', weight: Number.NaN }])).toThrow(/weight NaN is not in/);
    expect(resolveRules([{ rule: 'phone', weight: 1 }])[0].weight).toBe(1);
    expect(() => resolveRules([{ rule: 'fax' as MatchRule['rule'] }])).toThrow("unknown match rule 'fax'");
    expect(() => resolveRules([{ rule: 'toString' as MatchRule['rule'] }])).toThrow("unknown match rule 'toString'");
    expect(() => resolveRules([{ rule: 'email' }, { rule: 'email' }])).toThrow("match rule 'email' is listed more than once");
  });

  it('a sure name links only on the exact name with its region; a region on one side keeps the name weight', () => {
    const rules: MatchRule[] = [{ rule: 'name', certainty: 'sure' }];
    expect(one({ id: 'a', name: '北京华为技术有限公司' }, { id: 'b', name: '华为技术（北京）有限公司' }, rules)[0]).toMatchObject({ certainty: 'sure', score: 1 });
    expect(one({ id: 'a', name: '华为技术有限公司' }, { id: 'b', name: '华为技术有限公司' }, rules)[0]).toMatchObject({ certainty: 'sure', score: 1 });
    const m = one({ id: 'a', name: '北京华为技术有限公司' }, { id: 'b', name: '华为技术有限公司' }, rules)[0];
    expect(m).toMatchObject({ certainty: 'probable', score: 0.9 });
    expect(m.reason).toBe('same company name after normalisation: 华为技术 (北京 on one side, no region on the other)');
    const exact = one({ id: 'a', name: '北京华为技术有限公司' }, { id: 'b', name: '北京华为技术有限公司' }, [{ rule: 'name' }])[0];
    expect(exact.reason).toBe('same company name after normalisation: 华为技术 (北京)');
    expect(one({ id: 'a', name: '华为技术有限公司' }, { id: 'b', name: '华为技术有限公司' }, [{ rule: 'name' }])[0].reason).toBe('same company name after normalisation: 华为技术');
  });

  it('describeMatching states the effective rules and thresholds', () => {
    expect(describeMatching(DEFAULT_RULES)).toBe(
      'creditCode 1 (sure), name 0.9, phone 0.6, email 0.7; link at score ≥ 0.95, merge candidate at score ≥ 0.5; score = 1 − Π(1 − weight) over the agreeing rules',
    );
    expect(describeMatching([{ rule: 'phone', certainty: 'sure' }], { link: 0.9, candidate: 0.6 })).toBe(
      'phone 1 (sure); link at score ≥ 0.9, merge candidate at score ≥ 0.6; score = 1 − Π(1 − weight) over the agreeing rules',
    );
  });
});

describe('thresholds are checked: 0 < candidate ≤ link ≤ 1', () => {
  it('fills defaults and accepts the edges', () => {
    expect(resolveThresholds(undefined)).toEqual({ link: 0.95, candidate: 0.5 });
    expect(resolveThresholds({ link: 0.8 })).toEqual({ link: 0.8, candidate: 0.5 });
    expect(resolveThresholds({ candidate: 0.7 })).toEqual({ link: 0.95, candidate: 0.7 });
    expect(resolveThresholds({ link: 1, candidate: 1 })).toEqual({ link: 1, candidate: 1 });
    expect(resolveThresholds({ link: 0.6, candidate: 0.6 })).toEqual({ link: 0.6, candidate: 0.6 });
  });
  it('refuses the rest, with both values', () => {
    expect(() => resolveThresholds({ candidate: 0 })).toThrow('match thresholds must satisfy 0 < candidate (0) ≤ link (0.95) ≤ 1');
    expect(() => resolveThresholds({ link: 0.4 })).toThrow('0 < candidate (0.5) ≤ link (0.4) ≤ 1');
    expect(() => resolveThresholds({ link: 1.5 })).toThrow('≤ link (1.5) ≤ 1');
    expect(() => resolveThresholds({ candidate: Number.NaN })).toThrow(/candidate \(NaN\)/);
    expect(() => matchAll([], [], DEFAULT_RULES, { thresholds: { link: 2 } })).toThrow(/match thresholds/);
    expect(() => new MatchIndex(DEFAULT_RULES, { thresholds: { candidate: -1 } })).toThrow(/match thresholds/);
  });
});

describe('blocking keys: values that identify nothing never match', () => {
  it('a phone of 7 digits or more matches; 6 digits do not', () => {
    expect(one({ id: 'a', phone: '8502208' }, { id: 'b', phone: '850-2208' }, [{ rule: 'phone' }])[0]).toMatchObject({ rule: 'phone', reason: 'same phone number 8502208' });
    expect(one({ id: 'a', phone: '850220' }, { id: 'b', phone: '850220' }, [{ rule: 'phone' }])).toEqual([]);
  });

  it('a name whose core has two characters matches; one character does not', () => {
    expect(one({ id: 'a', name: '美的' }, { id: 'b', name: '美的' }, [{ rule: 'name' }])).toHaveLength(1);
    expect(one({ id: 'a', name: '美有限公司' }, { id: 'b', name: '美有限公司' }, [{ rule: 'name' }])).toEqual([]);
    expect(one({ id: 'a', name: '-' }, { id: 'b', name: '-' }, [{ rule: 'name' }])).toEqual([]);
  });

  it('only a full address is an e-mail key', () => {
    expect(one({ id: 'a', email: ' Sales@Acme.cn ' }, { id: 'b', email: 'sales@acme.cn' }, [{ rule: 'email' }])[0]).toMatchObject({ reason: 'same e-mail address sales@acme.cn' });
    for (const bad of ['sales@acme', 'acme.cn', '@acme.cn', 'sales@.cn', 'sa les@acme.cn', 'a@b@c.cn', 'x sales@acme.cn', 'sales@acme.cn x', 'sales@acme.cn@x']) {
      expect(one({ id: 'a', email: bad }, { id: 'b', email: bad }, [{ rule: 'email' }]), bad).toEqual([]);
    }
  });

  it('empty and blank values are no values', () => {
    for (const v of ['', '   ', null, undefined]) {
      const l = { id: 'a', name: v, phone: v, email: v, creditCode: v };
      const { matches, invalid } = matchAll([l], [{ ...l, id: 'b' }], DEFAULT_RULES);
      expect(matches).toEqual([]);
      expect(invalid).toEqual([]);
    }
  });

  it('a rule not configured uses no key, even when the values agree', () => {
    const l = { id: 'a', name: '小米科技有限公司', phone: '01060606666', email: 'ir@mi.example', creditCode: CODE_A };
    const r = { ...l, id: 'b' };
    expect(one(l, r, [{ rule: 'phone' }]).map((m) => m.rule)).toEqual(['phone']);
    expect(one(l, r, [{ rule: 'email' }]).map((m) => m.rule)).toEqual(['email']);
    expect(one(l, r, [{ rule: 'name' }]).map((m) => m.rule)).toEqual(['name']);
    expect(one(l, r, [{ rule: 'creditCode' }]).map((m) => m.rule)).toEqual(['creditCode']);
    // Without the credit-code rule, a bad code is not checked (nor reported).
    expect(matchAll([{ id: 'a', creditCode: 'bad', phone: '01060606666' }], [], [{ rule: 'phone' }]).invalid).toEqual([]);
  });

  it('a phone or e-mail shared by exactly the allowed number of records is used; one more, and it is not', () => {
    const right = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `r${i}`, phone: '01088886666', email: 'finance@group.example' }));
    const left = [{ id: 'x', phone: '010-8888-6666', email: 'finance@group.example' }];
    expect(matchAll(left, right(3), [{ rule: 'phone' }], { maxSharedContact: 3 }).matches).toHaveLength(3);
    expect(matchAll(left, right(4), [{ rule: 'phone' }], { maxSharedContact: 3 }).matches).toEqual([]);
    expect(matchAll(left, right(3), [{ rule: 'email' }], { maxSharedContact: 3 }).matches).toHaveLength(3);
    expect(matchAll(left, right(4), [{ rule: 'email' }], { maxSharedContact: 3 }).matches).toEqual([]);
    // Default 50.
    expect(matchAll(left, right(50), [{ rule: 'phone' }]).matches).toHaveLength(50);
    expect(matchAll(left, right(51), [{ rule: 'phone' }]).matches).toEqual([]);
    // Names and codes are never treated as shared contacts.
    const names = Array.from({ length: 4 }, (_, i) => ({ id: `n${i}`, name: '小米科技有限公司' }));
    expect(matchAll([{ id: 'x', name: '小米科技有限公司' }], names, [{ rule: 'name' }], { maxSharedContact: 3 }).matches).toHaveLength(4);
  });

  it('different valid credit codes veto every other agreement; a missing code on either side does not', () => {
    const base = { name: '小米科技有限公司', phone: '01060606666' };
    const rules: MatchRule[] = [{ rule: 'creditCode' }, { rule: 'name' }, { rule: 'phone' }];
    expect(one({ id: 'a', ...base, creditCode: CODE_A }, { id: 'b', ...base, creditCode: CODE_B }, rules)).toEqual([]);
    expect(one({ id: 'a', ...base, creditCode: CODE_A }, { id: 'b', ...base }, rules).map((m) => m.rule)).toEqual(['name+phone']);
    expect(one({ id: 'a', ...base }, { id: 'b', ...base, creditCode: CODE_B }, rules).map((m) => m.rule)).toEqual(['name+phone']);
    // Without the credit-code rule, codes are not looked at.
    expect(one({ id: 'a', ...base, creditCode: CODE_A }, { id: 'b', ...base, creditCode: CODE_B }, [{ rule: 'name' }]).map((m) => m.rule)).toEqual(['name']);
    // The veto is per pair: a third record with the same code still matches.
    const { matches } = matchAll([{ id: 'a', ...base, creditCode: CODE_A }], [
      { id: 'b', ...base, creditCode: CODE_B },
      { id: 'c', ...base, creditCode: CODE_A },
    ], rules);
    expect(matches.map((m) => [m.b, m.rule, m.score])).toEqual([['c', 'creditCode+name+phone', 1]]);
  });
});

describe('MatchIndex keeps its blocks in step with its records', () => {
  it('a removed record stops matching through every key; the others sharing a key still match', () => {
    const index = new MatchIndex(DEFAULT_RULES);
    index.add({ id: 'p', phone: '01060606666', email: 'a@b.cn' });
    index.add({ id: 'q', phone: '01060606666' });
    index.remove('p');
    expect(index.find({ id: 'z', phone: '010-6060-6666', email: 'a@b.cn' }).matches.map((m) => m.b)).toEqual(['q']);
    index.remove('q');
    expect(index.find({ id: 'z', phone: '010-6060-6666' }).matches).toEqual([]);
    index.add({ id: 'q', phone: '01060606666' });
    expect(index.find({ id: 'z', phone: '010-6060-6666' }).matches.map((m) => m.b)).toEqual(['q']);
  });

  it('a replaced record is found by its new keys only', () => {
    const index = new MatchIndex([{ rule: 'phone' }, { rule: 'email' }]);
    index.add({ id: 'p', phone: '01060606666', email: 'old@b.cn' });
    index.add({ id: 'p', email: 'new@b.cn' });
    expect(index.size).toBe(1);
    expect(index.find({ id: 'z', phone: '01060606666' }).matches).toEqual([]);
    expect(index.find({ id: 'z', email: 'old@b.cn' }).matches).toEqual([]);
    expect(index.find({ id: 'z', email: 'new@b.cn' }).matches.map((m) => m.b)).toEqual(['p']);
  });

  it('the shared-contact limit counts the records indexed now', () => {
    const index = new MatchIndex([{ rule: 'phone' }], { maxSharedContact: 2 });
    for (const id of ['a', 'b', 'c']) index.add({ id, phone: '01060606666' });
    expect(index.find({ id: 'z', phone: '01060606666' }).matches).toEqual([]);
    index.remove('c');
    expect(index.find({ id: 'z', phone: '01060606666' }).matches.map((m) => m.b)).toEqual(['a', 'b']);
  });

  it('a find of a record without an invalid code has no `invalid` entry', () => {
    const index = new MatchIndex(DEFAULT_RULES);
    expect(Object.keys(index.find({ id: 'z', creditCode: CODE_A }))).toEqual(['matches']);
  });
});
