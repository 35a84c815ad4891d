import { describe, expect, it } from 'vitest';
import {
  CUSTOMER_MATCH_KEYS,
  MATCH_KEYS_VERSION,
  matchInputOf,
  matchKeysOf,
  DEFAULT_RULES,
  MatchIndex,
  makeCreditCode,
  matchAll,
  type MatchInput,
  type MatchRule,
} from '../../identity/index.js';
import { MATCH_KEY_COLUMNS as K } from '../../hub/tables.js';
import { useTestHub } from '../support/hub.js';

const HUAWEI = '914403001922038216';
const BAIDU = '91110000802100433B';
const SHANGHAI_HUAWEI = makeCreditCode('91310115MA1H7A3K2'); // synthetic, valid
const BEIJING_HUAWEI = makeCreditCode('91110108MA01C2D3E');

const NAME_ONLY: MatchRule[] = [{ rule: 'name' }];

/** Pairs as "a~b" strings, sorted, for compact assertions. */
function pairs(matches: { a: string; b: string }[]): string[] {
  return matches.map((m) => `${m.a}~${m.b}`).sort();
}

/** The match of `a` and `b` on one rule alone: the rule's weight is its score and the rule its only evidence. */
function oneRuleMatch(a: string, b: string, certainty: 'sure' | 'probable', rule: string, weight: number, reason: string) {
  return { a, b, certainty, score: weight, rule, reason, evidence: [{ rule, weight, reason }] };
}

describe('matchAll: credit code', () => {
  it('links records with the same code as sure, whatever their names', () => {
    const erp: MatchInput[] = [{ id: 'C0001', name: 'Huawei Technologies Co., Ltd.', creditCode: HUAWEI }];
    const fin: MatchInput[] = [
      { id: 'AR-17', name: '华为技术有限公司', creditCode: ' ９１４４０３００１９２２０３８２１６' },
      { id: 'AR-18', name: '北京百度网讯科技有限公司', creditCode: BAIDU },
    ];
    const { matches, invalid } = matchAll(erp, fin, DEFAULT_RULES);
    expect(invalid).toEqual([]);
    expect(matches).toEqual([
      oneRuleMatch('C0001', 'AR-17', 'sure', 'creditCode', 1, `same unified social credit code ${HUAWEI}`),
    ]);
  });

  it('reports invalid codes from both sides with the reason and never matches on them', () => {
    const bad = '914403001922038217'; // check digit should be 6
    const left: MatchInput[] = [
      { id: 'L1', creditCode: bad },
      { id: 'L2', creditCode: '9144030019220382' },
      { id: 'L3', creditCode: '' }, // empty is "no code", not an invalid one
    ];
    const right: MatchInput[] = [
      { id: 'R1', creditCode: bad },
      { id: 'R2', creditCode: '9I4403001922038216' },
    ];
    const { matches, invalid } = matchAll(left, right, [{ rule: 'creditCode' }]);
    expect(matches).toEqual([]);
    expect(invalid).toEqual([
      { id: 'L1', value: bad, reason: "check digit should be '6' but is '7'" },
      {
        id: 'L2',
        value: '9144030019220382',
        reason: 'wrong length 16 (a unified social credit code has 18 characters)',
      },
      { id: 'R1', value: bad, reason: "check digit should be '6' but is '7'" },
      {
        id: 'R2',
        value: '9I4403001922038216',
        reason: "invalid character 'I' at position 2 (the letters I, O, Z, S and V are never used)",
      },
    ]);
  });

  it('treats different valid codes as different companies even when names agree', () => {
    const left: MatchInput[] = [{ id: 'L', name: '华为技术有限公司', creditCode: HUAWEI, phone: '0755-28780808' }];
    const right: MatchInput[] = [
      { id: 'R-other-code', name: '华为技术有限公司', creditCode: SHANGHAI_HUAWEI, phone: '0755-28780808' },
      { id: 'R-no-code', name: '华为技术有限公司' },
    ];
    const { matches } = matchAll(left, right, DEFAULT_RULES);
    expect(pairs(matches)).toEqual(['L~R-no-code']);
    // Without the credit code rule the codes are not looked at, and the name decides.
    expect(pairs(matchAll(left, right, NAME_ONLY).matches)).toEqual(['L~R-no-code', 'L~R-other-code']);
  });
});

describe('matchAll: names', () => {
  const variants: MatchInput[] = [
    { id: 'v1', name: '北京华为技术有限公司' },
    { id: 'v2', name: '华为技术（北京）有限公司' },
    { id: 'v3', name: '北京\u3000华为技术有限公司' },
  ];

  it('matches the three spellings of 北京华为技术 pairwise as probable', () => {
    const { matches } = matchAll(variants, variants, NAME_ONLY);
    const crossPairs = matches.filter((m) => m.a !== m.b);
    expect(pairs(crossPairs)).toEqual(['v1~v2', 'v1~v3', 'v2~v1', 'v2~v3', 'v3~v1', 'v3~v2']);
    for (const m of crossPairs) {
      expect(m).toMatchObject({
        certainty: 'probable',
        score: 0.9,
        rule: 'name',
        reason: 'same company name after normalisation: 华为技术 (北京)',
      });
    }
  });

  it('matches traditional and simplified spellings', () => {
    const { matches } = matchAll([{ id: 'tw', name: '華為技術有限公司' }], [{ id: 'cn', name: '华为技术有限公司' }], NAME_ONLY);
    expect(matches).toEqual([
      oneRuleMatch('tw', 'cn', 'probable', 'name', 0.9, 'same company name after normalisation: 华为技术'),
    ]);
  });

  it('matches when only one side names the region, and says so', () => {
    const { matches } = matchAll([{ id: 'a', name: '北京华为技术有限公司' }], [{ id: 'b', name: '华为技术有限责任公司' }], NAME_ONLY);
    expect(matches).toHaveLength(1);
    expect(matches[0].reason).toBe('same company name after normalisation: 华为技术 (北京 on one side, no region on the other)');
    expect(matches[0].score).toBe(0.9);
    // either way round: the region on the indexed side only
    const other = matchAll([{ id: 'b', name: '华为技术有限责任公司' }], [{ id: 'a', name: '北京华为技术有限公司' }], NAME_ONLY).matches;
    expect(other.map((m) => [m.a, m.b, m.reason])).toEqual([['b', 'a', matches[0].reason]]);
  });

  it('does not match the same name in two different regions', () => {
    const left: MatchInput[] = [{ id: 'bj', name: '北京华为技术有限公司' }];
    const right: MatchInput[] = [
      { id: 'sh', name: '上海华为技术有限公司' },
      { id: 'sz', name: '华为技术（深圳）有限公司' },
    ];
    expect(matchAll(left, right, NAME_ONLY).matches).toEqual([]);
  });

  it('does not match different companies that merely share a word', () => {
    const left: MatchInput[] = [
      { id: 'hw-tech', name: '北京华为技术有限公司' },
      { id: 'bosc', name: '上海银行股份有限公司' },
      { id: 'boc', name: '中国银行股份有限公司' },
      { id: 'alibaba', name: '阿里巴巴（中国）网络技术有限公司' },
    ];
    const right: MatchInput[] = [
      { id: 'hw-comm', name: '北京华为通信有限公司' },
      { id: 'bosc-tower', name: '上海银行大厦物业管理有限公司' },
      { id: 'ccb', name: '中国建设银行股份有限公司' },
      { id: 'bj-bank', name: '北京银行股份有限公司' },
      { id: 'alipay', name: '支付宝（中国）网络技术有限公司' },
    ];
    expect(matchAll(left, right, DEFAULT_RULES).matches).toEqual([]);
  });

  it('makes an exact normalised name (region included) sure only when configured', () => {
    const left: MatchInput[] = [{ id: 'a', name: '北京华为技术有限公司' }];
    const right: MatchInput[] = [
      { id: 'exact', name: '华为技术（北京）有限公司' },
      { id: 'no-region', name: '华为技术有限公司' },
    ];
    const byId = (rules: MatchRule[]) =>
      Object.fromEntries(matchAll(left, right, rules).matches.map((m) => [m.b, m.certainty]));
    expect(byId([{ rule: 'name', certainty: 'sure' }])).toEqual({ exact: 'sure', 'no-region': 'probable' });
    expect(byId(NAME_ONLY)).toEqual({ exact: 'probable', 'no-region': 'probable' });
  });

  it('keeps matching ids that are equal on both sides (different systems)', () => {
    const { matches } = matchAll([{ id: 'C0001', name: '小米科技有限责任公司' }], [{ id: 'C0001', name: '小米科技有限公司' }], NAME_ONLY);
    expect(pairs(matches)).toEqual(['C0001~C0001']);
  });
});

describe('matchAll: phone, e-mail, rule order', () => {
  it('matches phones and e-mails after normalisation as probable', () => {
    const left: MatchInput[] = [
      { id: 'p', phone: '(010) 8888-6666 转 123' },
      { id: 'e', email: 'ZhangSan+erp@Huawei.com' },
    ];
    const right: MatchInput[] = [
      { id: 'p2', phone: '+86 10 8888 6666' },
      { id: 'e2', email: ' zhangsan@huawei.com' },
      { id: 'other', phone: '010-8888-6667', email: 'lisi@huawei.com' },
    ];
    const { matches } = matchAll(left, right, [{ rule: 'phone' }, { rule: 'email' }]);
    expect(matches).toEqual([
      oneRuleMatch('p', 'p2', 'probable', 'phone', 0.6, 'same phone number 01088886666'),
      oneRuleMatch('e', 'e2', 'probable', 'email', 0.7, 'same e-mail address zhangsan@huawei.com'),
    ]);
  });

  it('reports one match per pair with every agreeing rule as evidence, strongest first', () => {
    const left: MatchInput[] = [{ id: 'a', name: '小米科技有限责任公司', phone: '010-60606666' }];
    const right: MatchInput[] = [{ id: 'b', name: '小米科技有限公司', phone: '01060606666' }];
    const first = (rules: MatchRule[]) => matchAll(left, right, rules).matches.map((m) => m.rule);
    expect(first([{ rule: 'phone' }, { rule: 'name' }])).toEqual(['name+phone']);
    expect(first([{ rule: 'name' }, { rule: 'phone' }])).toEqual(['name+phone']);
    expect(first([{ rule: 'phone' }])).toEqual(['phone']);
    expect(first([{ rule: 'creditCode' }])).toEqual([]);
    // the reasons in the same order, each one whole
    expect(matchAll(left, right, [{ rule: 'phone' }, { rule: 'name' }]).matches[0].reason).toBe(
      'same company name after normalisation: 小米科技; same phone number 01060606666',
    );
  });

  it('honours a configured certainty for phone', () => {
    const { matches } = matchAll([{ id: 'a', phone: '13800138000' }], [{ id: 'b', phone: '+86 138 0013 8000' }], [
      { rule: 'phone', certainty: 'sure' },
    ]);
    expect(matches.map((m) => m.certainty)).toEqual(['sure']);
  });

  it('ignores a phone shared by too many records (switchboard or placeholder)', () => {
    const right: MatchInput[] = Array.from({ length: 60 }, (_, i) => ({ id: `r${i}`, phone: '13800000000' }));
    right.push({ id: 'own', phone: '13912345678' });
    const left: MatchInput[] = [
      { id: 'x', phone: '138-0000-0000' },
      { id: 'y', phone: '139 1234 5678' },
    ];
    expect(pairs(matchAll(left, right, [{ rule: 'phone' }]).matches)).toEqual(['y~own']);
    const relaxed = matchAll(left, right, [{ rule: 'phone' }], { maxSharedContact: 100 });
    expect(relaxed.matches).toHaveLength(61);
  });

  it('rejects a rule listed twice', () => {
    expect(() => matchAll([], [], [{ rule: 'name' }, { rule: 'name', certainty: 'sure' }])).toThrow(/listed more than once/);
  });
});

describe('MatchIndex', () => {
  it('adds, finds, replaces and removes records', () => {
    const index = new MatchIndex(DEFAULT_RULES);
    index.add({ id: 'erp:C0001', name: '北京华为技术有限公司', creditCode: BEIJING_HUAWEI });
    index.add({ id: 'fin:880', name: '北京百度网讯科技有限公司', creditCode: BAIDU });
    index.add({ id: 'oa:12', name: '华为技术（北京）有限公司' });
    expect(index.size).toBe(3);

    const probe: MatchInput = { id: 'crm:1', name: '華為技術（北京）有限公司', creditCode: BEIJING_HUAWEI };
    const first = index.find(probe);
    expect(first.invalid).toBeUndefined();
    expect(first.matches.map((m) => [m.b, m.rule, m.certainty])).toEqual([
      ['erp:C0001', 'creditCode+name', 'sure'],
      ['oa:12', 'name', 'probable'],
    ]);

    // Re-adding an id replaces it: the old name must no longer be found.
    index.add({ id: 'oa:12', name: '上海华为技术有限公司' });
    expect(index.size).toBe(3);
    expect(index.find(probe).matches.map((m) => m.b)).toEqual(['erp:C0001']);

    index.remove('erp:C0001');
    expect(index.size).toBe(2);
    expect(index.find(probe).matches).toEqual([]);
    index.remove('does-not-exist');
    expect(index.size).toBe(2);
  });

  it('skips the record itself and returns the invalid code of the probe', () => {
    const index = new MatchIndex(DEFAULT_RULES);
    const rec: MatchInput = { id: 'x', name: '小米科技有限责任公司', creditCode: '91110108551385082R' };
    index.add(rec);
    index.add({ id: 'y', name: '小米科技有限公司' });
    const found = index.find(rec);
    expect(found.matches.map((m) => m.b)).toEqual(['y']);
    expect(found.invalid).toEqual({
      id: 'x',
      value: '91110108551385082R',
      reason: "check digit should be 'Q' but is 'R'",
    });
  });
});

describe('match keys: what the hub stores beside a customer to find its matches', () => {
  it('each rule’s key is the value as the matcher compares it: the checked credit code, the name’s core, the phone’s digits, the address in lower case', () => {
    expect(matchKeysOf({ id: 'a', name: '北京华为技术有限公司', creditCode: ' ９１４４０３００１９２２０３８２１６', phone: '(010) 8288-2688', email: ' Sales@ACME.cn ' })).toEqual({
      creditCode: HUAWEI,
      name: '华为技术',
      phone: '01082882688',
      email: 'sales@acme.cn',
    });
  });

  it('no key for a value that identifies nothing: absent, a bad credit code, a one-character name, a short phone, not an address', () => {
    const none = { creditCode: null, name: null, phone: null, email: null };
    expect(matchKeysOf({ id: 'a', name: null, creditCode: null, phone: null, email: null })).toEqual(none);
    expect(matchKeysOf({ id: 'a', name: '无', creditCode: '914403001922038217', phone: '12345', email: 'sales@' })).toEqual(none);
  });

  it('reads a record’s values as text: numbers become strings, absent values none', () => {
    expect(matchInputOf('cus_1', { name: 'Huawei', creditCode: undefined, phone: 1082882688, email: null, city: '北京' })).toEqual({
      id: 'cus_1',
      name: 'Huawei',
      creditCode: null,
      phone: '1082882688',
      email: null,
    });
    expect(CUSTOMER_MATCH_KEYS.version).toBe(MATCH_KEYS_VERSION);
    expect(CUSTOMER_MATCH_KEYS.keys({ name: 'Huawei Technologies Co., Ltd.', phone: 1082882688, creditCode: HUAWEI })).toEqual({
      creditCode: HUAWEI,
      name: 'huaweitechnologies',
      phone: '1082882688',
      email: null,
    });
  });

  const env = useTestHub('sqlite', 'mkeys');
  it('a customer the hub writes carries those keys and the derivation’s version in its match columns', async () => {
    const hub = env.hub!;
    hub.store.matchKeyDeriver = CUSTOMER_MATCH_KEYS;
    await hub.store.transaction((trx) =>
      hub.store.golden.write(trx, 'Customer', [{ gid: 'cus_k1', current: null, patch: { name: '北京华为技术有限公司', creditCode: HUAWEI, phone: '010-8288 2688', email: 'Sales@Acme.cn' } }], { actor: 't', action: 'create' }),
    );
    const row = (await hub.knex('crm_customer').where({ id: 'cus_k1' }).first()) as Record<string, unknown>;
    expect({ code: row[K.creditCode], name: row[K.name], phone: row[K.phone], email: row[K.email], version: Number(row[K.version]) }).toEqual({
      code: HUAWEI,
      name: '华为技术',
      phone: '01082882688',
      email: 'sales@acme.cn',
      version: MATCH_KEYS_VERSION,
    });
  });
});
