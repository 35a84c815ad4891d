/**
 * Merge candidates, merge and unmerge on a real hub (SQLite file and PostgreSQL), with
 * real-looking Chinese company data. "Unmerge restores" is checked against full table dumps taken
 * before the merge; the only columns left out are the change-tracking columns of entity tables
 * (_version, _seq, _updated_at), which move forward on unmerge by design.
 */
import { describe, expect, it, type TestContext } from 'vitest';
import { Command, CommanderError } from 'commander';
import { parseConfig, type LoadedConfig } from '../../config/load.js';
import { CrmlinkError } from '../../core/errors.js';
import { createLogger } from '../../core/logger.js';
import type { App } from '../../app/app.js';
import { Hub, nowIso } from '../../hub/hub.js';
import { SYSTEM_TABLES as T } from '../../hub/tables.js';
import {
  connectedGroups,
  findCandidates,
  identityConfig,
  listCandidates,
  listMerges,
  makeCreditCode,
  mergeRecords,
  referencingFields,
  rankSurvivors,
  rejectCandidate,
  resolveMerged,
  unmergeRecords,
  type SurvivorshipRules,
} from '../../identity/index.js';
import { register } from '../../cli/commands/customers.js';
import { exitCodeFor } from '../../cli/exit-codes.js';
import { MODEL, type CrmRecord, type EntityName } from '../../model/entities.js';
import { createTestDatabase, requireDialect, type TestDatabase } from '../support/databases.js';
import { namedSources } from '../support/config.js';
import { cleanupsAfterEach } from '../support/lifecycle.js';
import { seedGoldenCustomer } from './golden-seed.js';

const ALIBABA_CODE = makeCreditCode('91330100716105852');
const TENCENT_BAD_CODE = '91440300708461136X'; // wrong check digit

function configText(dialect: 'sqlite' | 'postgres', db: TestDatabase): string {
  return `
hub: { dialect: ${dialect}, connection: ${JSON.stringify(db.connection)} }
${namedSources('erp', 'finance', 'oa')}
entities:
  Customer:
    sources:
      erp: { table: 客户档案, key: [客户编码], fields: { name: 客户名称 } }
      finance: { table: ar_customer, key: [id], fields: { name: cust_name } }
    match: [{ rule: creditCode }, { rule: name }, { rule: phone }, { rule: email }]
    survivorship:
      default: "erp,finance"
      fields: { phone: newest, address: complete }
`;
}

interface Env {
  dialect: 'sqlite' | 'postgres';
  db: TestDatabase;
  loaded: LoadedConfig;
  hub: Hub;
  rules: SurvivorshipRules;
}

/** Each test's hubs, closed after it. */
const cleanups = cleanupsAfterEach();

async function open(dialect: 'sqlite' | 'postgres'): Promise<Env | undefined> {
  if (!(await requireDialect(dialect))) return undefined;
  const db = await createTestDatabase(dialect, 'merge');
  const loaded = parseConfig(configText(dialect, db));
  const hub = await Hub.open(loaded);
  const env = { dialect, db, loaded, hub, rules: identityConfig(loaded.config).survivorship };
  cleanups.push(async () => {
    await hub.destroy();
    await db.drop();
  });
  return env;
}

interface Link {
  source: string;
  key: string;
  changedAt: string;
  values: CrmRecord;
}

/** A golden customer as sync would leave it: row, xref, base rows, survivorship and provenance. */
const customer = (env: Env, links: Link[], hubValues: CrmRecord = {}): Promise<string> => seedGoldenCustomer(env.hub, links, { rules: env.rules, hubValues });

/** A replicated child row (contact, order, invoice, ...). */
async function child(env: Env, entity: EntityName, values: CrmRecord): Promise<string> {
  const { hub } = env;
  const id = hub.newId(entity);
  const seq = await hub.nextSeq(hub.knex);
  await hub.knex(hub.table(entity)).insert({ id, ...hub.toRow(entity, values), _version: 1, _seq: seq, _updated_at: nowIso(), _deleted: false });
  return id;
}

const CHANGE_TRACKING = new Set(['_version', '_seq', '_updated_at']);
const CHILD_TABLES = [...new Set(referencingFields('Customer').map((r) => MODEL[r.entity].table))];

/** Every row of the tables a merge touches, in key order; entity tables without change-tracking columns. */
async function dump(hub: Hub): Promise<Record<string, Record<string, unknown>[]>> {
  const out: Record<string, Record<string, unknown>[]> = {};
  const entityTables = ['crm_customer', ...CHILD_TABLES];
  for (const t of entityTables) {
    const rows = (await hub.knex(t).orderBy('id')) as Record<string, unknown>[];
    out[t] = rows.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => !CHANGE_TRACKING.has(k))));
  }
  out.crm_xref = await hub.knex(T.xref).orderBy(['entity', 'source', 'source_key']);
  out.crm_base = await hub.knex(T.base).orderBy(['entity', 'source', 'source_key']);
  out.crm_provenance = await hub.knex(T.provenance).orderBy(['entity', 'gid', 'field']);
  out.crm_merge_candidate = await hub.knex(T.mergeCandidate).orderBy('id');
  return out;
}

async function expectError(p: Promise<unknown>, code: string, ...mentions: string[]): Promise<CrmlinkError> {
  let err: unknown;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(CrmlinkError);
  const e = err as CrmlinkError;
  expect(e.code).toBe(code);
  for (const m of mentions) expect(e.message).toContain(m);
  return e;
}

/**
 * The demo world: one Beijing Huawei entity known three ways (ERP, finance + OA, a second ERP
 * record with a full-width space), companies that share words but are different, a credit-code
 * pair, a shared switchboard, and children everywhere.
 */
async function world(env: Env) {
  const S = await customer(env, [
    {
      source: 'erp',
      key: 'C0001',
      changedAt: '2024-01-10T08:00:00.000Z',
      values: { code: 'C0001', name: '北京华为技术有限公司', address: '北京市海淀区', city: '北京', email: 'sales@huawei-bj.example.cn', creditLimit: '500000.00' },
    },
  ]);
  const M = await customer(
    env,
    [
      {
        source: 'finance',
        key: 'AR-0017',
        changedAt: '2024-03-02T09:30:00.000Z',
        values: { name: '华为技术（北京）有限公司', phone: '010-8288 2688', address: '北京市海淀区中关村软件园', city: '北京', industry: '通信设备' },
      },
      { source: 'oa', key: '华为技术(北京)有限公司', changedAt: '2024-02-01T00:00:00.000Z', values: { name: '华为技术(北京)有限公司' } },
    ],
    { ownerId: 'u-wang', ownerTeam: '华北大客户部' },
  );
  const V = await customer(env, [
    { source: 'erp', key: 'C0093', changedAt: '2024-02-20T00:00:00.000Z', values: { code: 'C0093', name: '北京\u3000华为技术有限公司', city: '北京' } },
  ]);
  // different companies that share words with them or with each other
  const others = {
    shanghai: await customer(env, [{ source: 'erp', key: 'C0101', changedAt: '2024-01-01T00:00:00.000Z', values: { name: '上海华为技术有限公司' } }]),
    telecom: await customer(env, [{ source: 'erp', key: 'C0102', changedAt: '2024-01-01T00:00:00.000Z', values: { name: '北京华为通信有限公司' } }]),
    xiaomi1: await customer(env, [{ source: 'erp', key: 'C0103', changedAt: '2024-01-01T00:00:00.000Z', values: { name: '北京小米科技有限责任公司' } }]),
    xiaomi2: await customer(env, [{ source: 'finance', key: 'AR-0201', changedAt: '2024-01-01T00:00:00.000Z', values: { name: '小米通讯技术有限公司' } }]),
    tencent: await customer(env, [
      { source: 'finance', key: 'AR-0300', changedAt: '2024-01-01T00:00:00.000Z', values: { name: '深圳市腾讯计算机系统有限公司', creditCode: TENCENT_BAD_CODE } },
    ]),
  };
  const alibabaErp = await customer(env, [
    { source: 'erp', key: 'C0200', changedAt: '2024-01-01T00:00:00.000Z', values: { name: '阿里巴巴（中国）有限公司', creditCode: ALIBABA_CODE } },
  ]);
  const alibabaFin = await customer(env, [
    { source: 'finance', key: 'AR-0500', changedAt: '2024-01-05T00:00:00.000Z', values: { name: 'Alibaba (China) Co., Ltd.', creditCode: ALIBABA_CODE } },
  ]);
  // two JD companies behind one switchboard: a phone match a person should reject
  const jd1 = await customer(env, [{ source: 'erp', key: 'C0301', changedAt: '2024-01-01T00:00:00.000Z', values: { name: '北京京东世纪贸易有限公司', phone: '400-606-5500' } }]);
  const jd2 = await customer(env, [
    { source: 'finance', key: 'AR-0601', changedAt: '2024-01-01T00:00:00.000Z', values: { name: '北京京东叁佰陆拾度电子商务有限公司', phone: '4006065500' } },
  ]);

  const kids = {
    sContact: await child(env, 'Contact', { customerId: S, name: '李娜', title: '采购经理', mobile: '13910001000', isPrimary: true }),
    sOrder: await child(env, 'SalesOrder', { code: 'SO-2024-0001', customerId: S, orderDate: '2024-02-01', status: 'APPROVED', totalAmount: '128000.50', currency: 'CNY' }),
    sOpportunity: await child(env, 'Opportunity', { name: '2024 园区网络改造', customerId: S, stage: 'PROPOSAL', amount: '2000000' }),
    mContact: await child(env, 'Contact', { customerId: M, name: '王强', title: '财务总监', phone: '010-8288 2600', isPrimary: false }),
    mInvoice: await child(env, 'Invoice', { code: 'INV-2024-0042', customerId: M, invoiceDate: '2024-03-01', amount: '56500.00', paidAmount: '20000', balance: '36500', status: 'PARTIAL' }),
    mActivity: await child(env, 'Activity', { customerId: M, type: 'VISIT', subject: '对账拜访', dueAt: '2024-03-10T02:00:00.000Z' }),
    mApproval: await child(env, 'ApprovalRequest', { code: 'OA-CR-0088', customerId: M, title: '信用额度调整：华为技术（北京）', workflow: '信用额度调整', status: 'APPROVED', amount: '800000' }),
    vOrder: await child(env, 'SalesOrder', { code: 'SO-2024-0093', customerId: V, status: 'DRAFT', totalAmount: '9900' }),
    otherOrder: await child(env, 'SalesOrder', { code: 'SO-2024-0101', customerId: others.shanghai, status: 'SHIPPED' }),
  };
  kids satisfies Record<string, string>;
  const mPayment = await child(env, 'Payment', { code: 'PAY-2024-0007', customerId: M, invoiceId: kids.mInvoice, paymentDate: '2024-03-05', amount: '20000', method: '电汇' });
  return { S, M, V, others, alibabaErp, alibabaFin, jd1, jd2, kids: { ...kids, mPayment } };
}

/** The demo world on a fresh hub; the test is skipped when the database is missing. */
async function worldOrSkip(dialect: 'sqlite' | 'postgres', t: Pick<TestContext, 'skip'>) {
  const env = await open(dialect);
  if (!env) return t.skip();
  return { env, w: await world(env) };
}

/** The demo world on a fresh hub, its candidates found, and the hub as it then stands (undefined when the database is missing). */
async function matchedWorld(dialect: 'sqlite' | 'postgres') {
  const env = await open(dialect);
  if (!env) return undefined;
  const w = await world(env);
  await findCandidates(env.hub);
  return { env, w, before: await dump(env.hub) };
}

/** A deterministic shuffler (so a failure can be replayed). */
function seededShuffle(seed: number): <T>(xs: readonly T[]) => T[] {
  let s = seed;
  const next = () => ((s = (s * 1103515245 + 12345) % 2 ** 31), s / 2 ** 31);
  return (xs) => {
    const out = [...xs];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
  };
}

function pairOf(a: string, b: string): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}

describe.each(['sqlite', 'postgres'] as const)('identity on a %s hub', (dialect) => {
  it('finds candidates by name variants and credit code, none between different companies sharing a word', async (t) => {
    const { env, w } = await worldOrSkip(dialect, t);
    const r = await findCandidates(env.hub, 'Customer', identityConfig(env.loaded.config).match);
    expect(r.records).toBe(12);
    expect(r.invalid).toEqual([{ id: w.others.tencent, value: TENCENT_BAD_CODE, reason: expect.stringContaining('check digit') }]);
    expect(r.merged).toEqual([]);

    const list = await listCandidates(env.hub);
    const byPair = new Map(list.map((c) => [pairOf(c.a.id, c.b.id), c]));
    expect([...byPair.keys()].sort()).toEqual(
      [pairOf(w.S, w.M), pairOf(w.S, w.V), pairOf(w.M, w.V), pairOf(w.alibabaErp, w.alibabaFin), pairOf(w.jd1, w.jd2)].sort(),
    );
    for (const [a, b] of [[w.S, w.M], [w.S, w.V], [w.M, w.V]]) {
      const c = byPair.get(pairOf(a, b));
      expect(c).toMatchObject({ rule: 'name', score: 0.9, status: 'open', reason: 'same company name after normalisation: 华为技术 (北京)' });
      expect(c!.a.id < c!.b.id).toBe(true);
    }
    const ali = byPair.get(pairOf(w.alibabaErp, w.alibabaFin))!;
    expect(ali).toMatchObject({ rule: 'creditCode', score: 1, reason: `same unified social credit code ${ALIBABA_CODE}` });
    expect(byPair.get(pairOf(w.jd1, w.jd2))).toMatchObject({ rule: 'phone', reason: 'same phone number 4006065500' });

    // side by side: key fields and source keys of both records
    const sm = byPair.get(pairOf(w.S, w.M))!;
    const [sSide, mSide] = sm.a.id === w.S ? [sm.a, sm.b] : [sm.b, sm.a];
    expect(sSide.values).toMatchObject({ name: '北京华为技术有限公司', code: 'C0001', phone: null, email: 'sales@huawei-bj.example.cn' });
    expect(sSide.sources).toEqual([{ source: 'erp', sourceKey: 'C0001' }]);
    expect(mSide.values).toMatchObject({ name: '华为技术（北京）有限公司', phone: '010-8288 2688' });
    expect(mSide.sources).toEqual([
      { source: 'finance', sourceKey: 'AR-0017' },
      { source: 'oa', sourceKey: '华为技术(北京)有限公司' },
    ]);
    // best score first
    expect(list[0].score).toBe(1);

    // running again changes nothing
    const again = await findCandidates(env.hub, 'Customer', identityConfig(env.loaded.config).match);
    expect(again).toMatchObject({ inserted: 0, updated: 0, matches: 5 });
    expect((await listCandidates(env.hub)).length).toBe(5);
  });

  it('a rejected pair is never re-opened', async (t) => {
    const { env, w } = await worldOrSkip(dialect, t);
    await findCandidates(env.hub);
    const jd = (await listCandidates(env.hub)).find((c) => pairOf(c.a.id, c.b.id) === pairOf(w.jd1, w.jd2))!;
    const rejected = await rejectCandidate(env.hub, jd.id, 'user:zhangsan');
    expect(rejected).toMatchObject({ id: jd.id, status: 'rejected', decidedBy: 'user:zhangsan' });
    // rejecting again is harmless
    expect((await rejectCandidate(env.hub, jd.id, 'user:zhangsan')).status).toBe('rejected');

    const again = await findCandidates(env.hub);
    expect(again.inserted).toBe(0);
    expect(again.skipped).toBe(1);
    expect((await listCandidates(env.hub, { status: 'rejected' })).map((c) => c.id)).toEqual([jd.id]);
    expect((await listCandidates(env.hub)).some((c) => c.id === jd.id)).toBe(false);

    const audit = await env.hub.knex(T.audit).where({ action: 'reject_candidate' });
    expect(audit).toHaveLength(1);
    expect(audit[0].actor).toBe('user:zhangsan');

    await expectError(rejectCandidate(env.hub, 99999, 'u'), 'NOT_FOUND', '99999');
  });

  it('merge keeps every source key under the survivor, re-points children, fills fields, audits', async (t) => {
    const { env, w } = await worldOrSkip(dialect, t);
    await findCandidates(env.hub);
    const candidates = await listCandidates(env.hub);
    const smId = candidates.find((c) => pairOf(c.a.id, c.b.id) === pairOf(w.S, w.M))!.id;
    const mvId = candidates.find((c) => pairOf(c.a.id, c.b.id) === pairOf(w.M, w.V))!.id;

    const r = await mergeRecords(env.hub, { survivor: w.S, merged: w.M, actor: 'user:lisi', rules: env.rules });
    expect(r.sourceKeys).toEqual([
      { source: 'erp', sourceKey: 'C0001' },
      { source: 'finance', sourceKey: 'AR-0017' },
      { source: 'oa', sourceKey: '华为技术(北京)有限公司' },
    ]);
    expect(r.movedKeys).toHaveLength(2);
    expect(r.children).toEqual({ Contact: 1, Invoice: 1, Payment: 1, Activity: 1, ApprovalRequest: 1 });

    // golden values: erp wins the name, the survivor's missing phone/industry/owner come from the merged one,
    // address by completeness
    const s = (await env.hub.get('Customer', w.S))!;
    expect(s.values).toMatchObject({
      name: '北京华为技术有限公司',
      code: 'C0001',
      phone: '010-8288 2688',
      address: '北京市海淀区中关村软件园',
      industry: '通信设备',
      email: 'sales@huawei-bj.example.cn',
      creditLimit: '500000',
      ownerId: 'u-wang',
      ownerTeam: '华北大客户部',
    });
    const prov = Object.fromEntries(
      ((await env.hub.knex(T.provenance).where({ entity: 'Customer', gid: w.S })) as { field: string; source: string }[]).map((p) => [p.field, p.source]),
    );
    expect(prov).toMatchObject({ name: 'erp', phone: 'finance', address: 'finance', industry: 'finance', ownerId: 'hub' });

    // the merged record redirects, it is not deleted
    const m = (await env.hub.get('Customer', w.M))!;
    expect(m.mergedInto).toBe(w.S);
    expect(m.deleted).toBe(false);
    expect(await resolveMerged(env.hub, 'Customer', w.M)).toBe(w.S);

    // every source key resolves to the survivor
    const xref = (await env.hub.knex(T.xref).where({ entity: 'Customer' }).whereIn('source_key', ['C0001', 'AR-0017', '华为技术(北京)有限公司'])) as { gid: string }[];
    expect(xref.map((x) => x.gid)).toEqual([w.S, w.S, w.S]);

    // children
    for (const [table, id] of [
      ['crm_contact', w.kids.mContact],
      ['crm_invoice', w.kids.mInvoice],
      ['crm_payment', w.kids.mPayment],
      ['crm_activity', w.kids.mActivity],
      ['crm_approval_request', w.kids.mApproval],
      ['crm_sales_order', w.kids.sOrder],
    ] as const) {
      expect((await env.hub.knex(table).where({ id }).first()).customerId).toBe(w.S);
    }
    expect((await env.hub.knex('crm_sales_order').where({ id: w.kids.vOrder }).first()).customerId).toBe(w.V);
    expect((await env.hub.knex('crm_payment').where({ id: w.kids.mPayment }).first()).invoiceId).toBe(w.kids.mInvoice);

    // candidates: the pair accepted, the merged record's other open pair superseded
    const cands = new Map(((await env.hub.knex(T.mergeCandidate)) as { id: number; status: string; decided_by: string | null }[]).map((c) => [Number(c.id), c]));
    expect(cands.get(smId)).toMatchObject({ status: 'accepted', decided_by: 'user:lisi' });
    expect(cands.get(mvId)).toMatchObject({ status: 'superseded' });

    // crm_merge and audit
    const merges = await listMerges(env.hub, { gid: w.M });
    expect(merges).toMatchObject([{ id: r.mergeId, survivor: w.S, merged: w.M, by: 'user:lisi', undoneAt: null }]);
    const audit = (await env.hub.knex(T.audit).where({ action: 'merge' })) as { actor: string; gid: string; before: string; after: string }[];
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor: 'user:lisi', gid: w.S });
    expect(JSON.parse(audit[0].before).merged.name).toBe('华为技术（北京）有限公司');
    expect(JSON.parse(audit[0].after)).toMatchObject({ mergeId: r.mergeId, merged: { id: w.M, mergedInto: w.S } });

    // the merged record no longer takes part in matching
    const found = await findCandidates(env.hub);
    expect(found.records).toBe(11);
    expect((await listCandidates(env.hub)).some((c) => [c.a.id, c.b.id].includes(w.M))).toBe(false);
  });

  it('merge then unmerge returns every record and relationship to its prior state', async (t) => {
    const matched = await matchedWorld(dialect);
    if (!matched) return t.skip();
    const { env, w, before } = matched;

    const r = await mergeRecords(env.hub, { survivor: w.S, merged: w.M, actor: 'user:lisi', rules: env.rules });
    const during = await dump(env.hub);
    expect(during).not.toEqual(before);

    const u = await unmergeRecords(env.hub, { merged: w.M, actor: 'user:lisi' });
    expect(u).toMatchObject({ mergeId: r.mergeId, kept: [] });
    expect(u.restored.mergedInto).toBeNull();
    expect(await dump(env.hub)).toEqual(before);

    // change tracking moved forward on the records the unmerge touched
    const m = (await env.hub.get('Customer', w.M))!;
    expect(m.version).toBe(4); // 1 created, 2 first golden recompute, 3 merge, 4 unmerge
    expect((await listMerges(env.hub, { gid: w.M, includeUndone: true }))[0].undoneAt).not.toBeNull();
    const audit = (await env.hub.knex(T.audit).where({ action: 'unmerge' })) as { gid: string; after: string }[];
    expect(audit).toHaveLength(1);
    expect(audit[0].gid).toBe(w.M);
    expect(JSON.parse(audit[0].after).sourceKeys).toEqual([
      { source: 'finance', sourceKey: 'AR-0017' },
      { source: 'oa', sourceKey: '华为技术(北京)有限公司' },
    ]);

    // undoing twice is refused
    await expectError(unmergeRecords(env.hub, { mergeId: r.mergeId, actor: 'u' }), 'VALIDATION_FAILED', 'already undone');
    await expectError(unmergeRecords(env.hub, { merged: w.M, actor: 'u' }), 'NOT_FOUND', w.M);

    // and the pair can be merged again afterwards
    const again = await mergeRecords(env.hub, { survivor: w.M, merged: w.S, actor: 'user:lisi', rules: env.rules });
    expect(again.survivor.id).toBe(w.M);
    await unmergeRecords(env.hub, { mergeId: again.mergeId, actor: 'user:lisi' });
    expect(await dump(env.hub)).toEqual(before);
  });

  it('refuses to merge a record into itself or into a merged record, naming the ids', async (t) => {
    const { env, w } = await worldOrSkip(dialect, t);
    await expectError(mergeRecords(env.hub, { survivor: w.S, merged: w.S, actor: 'u' }), 'VALIDATION_FAILED', w.S, 'itself');
    await expectError(mergeRecords(env.hub, { survivor: w.S, merged: 'cus_nope', actor: 'u' }), 'NOT_FOUND', 'cus_nope');
    await mergeRecords(env.hub, { survivor: w.S, merged: w.M, actor: 'u', rules: env.rules });
    const e = await expectError(mergeRecords(env.hub, { survivor: w.M, merged: w.V, actor: 'u' }), 'VALIDATION_FAILED', w.M, w.S, 'already merged');
    expect(e.context).toMatchObject({ survivor: w.M, merged: w.V, mergedInto: w.S });
    await expectError(mergeRecords(env.hub, { survivor: w.V, merged: w.M, actor: 'u' }), 'VALIDATION_FAILED', w.M, w.S);
    expect(await env.hub.knex(T.merge)).toHaveLength(1);
  });

  it('refuses to unmerge while a later merge depends on it; undone in order everything is back', async (t) => {
    const matched = await matchedWorld(dialect);
    if (!matched) return t.skip();
    const { env, w, before } = matched;

    const first = await mergeRecords(env.hub, { survivor: w.S, merged: w.M, actor: 'u', rules: env.rules });
    const second = await mergeRecords(env.hub, { survivor: w.V, merged: w.S, actor: 'u', rules: env.rules });
    expect(second.sourceKeys.map((k) => k.sourceKey).sort()).toEqual(['AR-0017', 'C0001', 'C0093', '华为技术(北京)有限公司'].sort());
    expect(await resolveMerged(env.hub, 'Customer', w.M)).toBe(w.V);
    // all of M's and S's children are under V now
    expect(((await env.hub.knex('crm_invoice').where({ id: w.kids.mInvoice }).first()) as { customerId: string }).customerId).toBe(w.V);

    const e = await expectError(unmergeRecords(env.hub, { mergeId: first.mergeId, actor: 'u' }), 'VALIDATION_FAILED', `merge ${second.mergeId}`, 'unmerge that first');
    expect(e.context.dependentMergeId).toBe(second.mergeId);

    await unmergeRecords(env.hub, { merged: w.S, actor: 'u' });
    await unmergeRecords(env.hub, { merged: w.M, actor: 'u' });
    expect(await dump(env.hub)).toEqual(before);
  });

  it('unmerging an earlier merge into the same survivor leaves the later one in place', async (t) => {
    const { env, w } = await worldOrSkip(dialect, t);
    const N = await customer(env, [
      {
        source: 'finance',
        key: 'AR-0777',
        changedAt: '2024-04-01T00:00:00.000Z',
        values: { name: '华为技术（北京）有限公司', phone: '010-8288 2688', industry: '通信设备' },
      },
    ]);
    const nInvoice = await child(env, 'Invoice', { code: 'INV-2024-0777', customerId: N, amount: '1000' });
    await mergeRecords(env.hub, { survivor: w.S, merged: w.M, actor: 'u', rules: env.rules });
    await mergeRecords(env.hub, { survivor: w.S, merged: N, actor: 'u', rules: env.rules });

    // not dependent: allowed
    const u = await unmergeRecords(env.hub, { merged: w.M, actor: 'u', rules: env.rules });
    expect(u.restored.mergedInto).toBeNull();
    const keys = (gid: string) => env.hub.knex(T.xref).where({ entity: 'Customer', gid }).orderBy('source_key').pluck('source_key');
    expect(await keys(w.S)).toEqual(['AR-0777', 'C0001']);
    expect(await keys(w.M)).toEqual(['AR-0017', '华为技术(北京)有限公司']);
    expect(((await env.hub.knex('crm_invoice').where({ id: w.kids.mInvoice }).first()) as { customerId: string }).customerId).toBe(w.M);
    expect(((await env.hub.knex('crm_invoice').where({ id: nInvoice }).first()) as { customerId: string }).customerId).toBe(w.S);
    // the phone and industry the first merge brought are still there: the later merged record has them too
    const s = (await env.hub.get('Customer', w.S))!;
    expect(s.values).toMatchObject({ phone: '010-8288 2688', industry: '通信设备', ownerId: null });
    expect((await env.hub.get('Customer', N))!.mergedInto).toBe(w.S);
  });

  it('unmerge keeps changes made after the merge and reports them', async (t) => {
    const { env, w } = await worldOrSkip(dialect, t);
    await mergeRecords(env.hub, { survivor: w.S, merged: w.M, actor: 'u', rules: env.rules });
    // after the merge: a user corrects the phone, sync links a new finance record to the survivor
    await env.hub.knex('crm_customer').where({ id: w.S }).update({ phone: '010-8288 9999' });
    await env.hub.knex(T.xref).insert({ entity: 'Customer', source: 'finance', source_key: 'AR-0900', gid: w.S, rule: 'name', linked_at: nowIso() });
    const u = await unmergeRecords(env.hub, { merged: w.M, actor: 'u' });
    expect(u.kept).toContain(`${w.S}.phone changed after the merge; kept "010-8288 9999"`);
    const s = (await env.hub.get('Customer', w.S))!;
    expect(s.values.phone).toBe('010-8288 9999');
    // what the merge filled and nobody touched since is taken back
    expect(s.values.industry).toBeNull();
    expect(s.values.address).toBe('北京市海淀区');
    expect(((await env.hub.knex(T.xref).where({ source_key: 'AR-0900' }).first()) as { gid: string }).gid).toBe(w.S);
    expect(((await env.hub.knex(T.xref).where({ source_key: 'AR-0017' }).first()) as { gid: string }).gid).toBe(w.M);
  });

  it('autoMergeSure merges credit-code matches only', async (t) => {
    const { env, w } = await worldOrSkip(dialect, t);
    const ids = identityConfig(env.loaded.config);
    const r = await findCandidates(env.hub, 'Customer', ids.match, { autoMergeSure: true, actor: 'auto', survivorship: ids.survivorship });
    expect(r.merged.map((m) => [m.survivor.id, m.merged.id])).toEqual([[w.alibabaErp, w.alibabaFin]]);
    expect(r.merged[0].sourceKeys).toEqual([
      { source: 'erp', sourceKey: 'C0200' },
      { source: 'finance', sourceKey: 'AR-0500' },
    ]);
    const statuses = ((await listCandidates(env.hub, { status: 'all' })) as { status: string; rule: string }[]).map((c) => `${c.rule}:${c.status}`).sort();
    expect(statuses).toEqual(['creditCode:accepted', 'name:open', 'name:open', 'name:open', 'phone:open']);
  });

  it('the survivor rule: most source links, then known longest, then smallest id, whatever the input order', async (t) => {
    const { env, w } = await worldOrSkip(dialect, t);
    // M has two links (finance, oa); S and V one each, S linked earlier (2024-01-10) than V (2024-02-20)
    const expected = [w.M, w.S, w.V];
    const rand = seededShuffle(7);
    for (let i = 0; i < 10; i++) expect(await rankSurvivors(env.hub, 'Customer', rand(expected))).toEqual(expected);
    // equal links, equal first link: the smaller id
    const [x, y] = [w.others.shanghai, w.others.telecom].sort();
    expect(await rankSurvivors(env.hub, 'Customer', [y, x])).toEqual([x, y]);
    // groups of sure matches do not depend on the order the pairs were found in
    const pairs: [string, string][] = [['d', 'c'], ['a', 'b'], ['c', 'e'], ['x', 'y'], ['b', 'e']];
    for (let i = 0; i < 10; i++) {
      expect(connectedGroups(rand(pairs).map(([p, q]) => (i % 2 ? [q, p] : [p, q])))).toEqual([['a', 'b', 'c', 'd', 'e'], ['x', 'y']]);
    }
  });

  it('CLI: customers candidates / merge / unmerge / reject with exit codes', async (t) => {
    const { env, w } = await worldOrSkip(dialect, t);
    const out: string[] = [];
    const ctx = {
      openApp: async (): Promise<App> => {
        const hub = await Hub.open(env.loaded);
        const app = { loaded: env.loaded, config: env.loaded.config, hub, sources: undefined, logger: createLogger('silent') };
        return app as unknown as App;
      },
      closeApp: async (app: App) => app.hub.destroy(),
      out: (s: string) => out.push(s),
    };
    const run = async (...args: string[]): Promise<number> => {
      const program = new Command('crmlink').exitOverride().configureOutput({ writeErr: (s) => out.push(s), writeOut: (s) => out.push(s) });
      register(program, ctx);
      const all = (c: Command): Command[] => c.commands.flatMap((s) => [s, ...all(s)]);
      for (const c of all(program)) c.exitOverride();
      try {
        await program.parseAsync(['node', 'crmlink', ...args]);
        return 0;
      } catch (err) {
        if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
        out.push(String(err));
        return exitCodeFor(err);
      }
    };

    expect(await run('customers', 'candidates', '--find', '--json')).toBe(0);
    const json = JSON.parse(out.pop()!) as { find: { inserted: number; invalid: unknown[] }; candidates: { id: number; a: { id: string }; b: { id: string } }[] };
    expect(json.find.inserted).toBe(5);
    expect(json.find.invalid).toHaveLength(1);
    expect(json.candidates).toHaveLength(5);

    expect(await run('customers', 'candidates')).toBe(0);
    const text = out.pop()!;
    expect(text).toContain('same company name after normalisation: 华为技术 (北京)');
    expect(text).toContain('finance:AR-0017, oa:华为技术(北京)有限公司');

    expect(await run('customers', 'merge', w.S, w.M, '--actor', 'cli:test')).toBe(0);
    expect(out.pop()).toMatch(new RegExp(`merged ${w.M} into ${w.S} \\(merge 1; undo with: crmlink customers unmerge --merge-id 1\\)`));
    expect(await run('customers', 'merge', w.S, w.S)).toBe(1);
    expect(out.pop()).toContain('into itself');
    expect(await run('customers', 'merge', w.S)).toBe(2);

    expect(await run('customers', 'unmerge')).toBe(2);
    expect(await run('customers', 'unmerge', w.M, '--merge-id', '1')).toBe(2);
    expect(await run('customers', 'unmerge', '--merge-id', 'x')).toBe(2);
    expect(await run('customers', 'unmerge', '--merge-id', '1')).toBe(0);
    expect(out.pop()).toContain(`unmerged ${w.M} from ${w.S} (merge 1)`);
    expect(await run('customers', 'unmerge', w.M)).toBe(1);

    const jd = json.candidates.find((c) => pairOf(c.a.id, c.b.id) === pairOf(w.jd1, w.jd2))!;
    expect(await run('customers', 'reject', String(jd.id))).toBe(0);
    expect(out.pop()).toBe(`rejected candidate #${jd.id}: ${jd.a.id} / ${jd.b.id}`);
    expect(await run('customers', 'reject', 'abc')).toBe(2);
    expect(await run('customers', 'reject', '424242')).toBe(1);
    expect(await run('customers', 'candidates', '--status', 'nope')).toBe(2);

    const audit = ((await env.hub.knex(T.audit).orderBy('id')) as { action: string; actor: string }[]).map((a) => `${a.action}:${a.actor}`);
    expect(audit).toEqual(['merge:cli:test', expect.stringMatching(/^unmerge:cli/), expect.stringMatching(/^reject_candidate:cli/)]);
  });
});
