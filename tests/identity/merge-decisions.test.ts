/**
 * What a merge keeps, field by field, and why (on a SQLite hub: the decisions are the same on every
 * hub; tests/identity/merge.test.ts runs merge and unmerge on PostgreSQL too): agreement, a value only
 * one record has, the person's choice, survivorship (newest on the sources' own change times, hub,
 * complete, a source order), the job's policy, and otherwise an open conflict. Then the provenance
 * the survivor is left with, what the next sync would write, and what unmerge refuses or keeps.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/load.js';
import { CrmlinkError } from '../../core/errors.js';
import type { CrmRecord } from '../../model/entities.js';
import { Hub, nowIso } from '../../hub/hub.js';
import { SYSTEM_TABLES as T } from '../../hub/tables.js';
import {
  MANUAL_POLICIES,
  findCandidates,
  listMerges,
  rejectCandidate,
  mergeRecords,
  resolveMerged,
  unmergeRecords,
  type FieldOutcome,
  type MergeInput,
  type MergePolicies,
  type SurvivorshipRules,
} from '../../identity/index.js';
import { identityHubs, seedGoldenCustomer, type IdentityEnv } from './golden-seed.js';

const NEWEST: SurvivorshipRules = { default: 'newest', fields: {} };

type Env = IdentityEnv;
const open = identityHubs('mdec', ['erp', 'finance']);

interface Link {
  source: string;
  key: string;
  /** The source's own change time; null when the source gives none. */
  changedAt: string | null;
  values: CrmRecord;
}

/** A golden customer as sync leaves it: row, xref, base rows, then survivorship and provenance. */
const customer = (env: Env, links: Link[], opts: { hubValues?: CrmRecord; rules?: SurvivorshipRules } = {}): Promise<string> =>
  seedGoldenCustomer(env.hub, links, { rules: opts.rules ?? NEWEST, hubValues: opts.hubValues, syncedAt: '2024-01-01T00:00:00.000Z' });

async function provenance(env: Env, gid: string): Promise<Record<string, { source: string; changedAt: string }>> {
  const rows = (await env.hub.knex(T.provenance).where({ entity: 'Customer', gid })) as { field: string; source: string; changed_at: string }[];
  return Object.fromEntries(rows.map((p) => [p.field, { source: p.source, changedAt: p.changed_at }]));
}

async function expectError(p: Promise<unknown>, code: string, ...mentions: string[]): Promise<CrmlinkError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CrmlinkError);
  const e = err as CrmlinkError;
  expect(e.code).toBe(code);
  for (const m of mentions) expect(e.message).toContain(m);
  return e;
}

const T1 = '2024-03-01T00:00:00.000Z';
const T2 = '2024-04-01T00:00:00.000Z';

let pairs = 0;

/** An ERP survivor and a finance record to merge into it, each with the given values. */
async function pair(env: Env, s: CrmRecord, m: CrmRecord, times: { s?: string | null; m?: string | null } = {}) {
  const n = ++pairs;
  const S = await customer(env, [{ source: 'erp', key: `E${n}`, changedAt: times.s === undefined ? T1 : times.s, values: { name: '北京华为技术有限公司', ...s } }]);
  const M = await customer(env, [{ source: 'finance', key: `F${n}`, changedAt: times.m === undefined ? T2 : times.m, values: { name: '北京华为技术有限公司', ...m } }]);
  const merge = (extra: Partial<MergeInput> = {}) => mergeRecords(env.hub, { survivor: S, merged: M, actor: 'user:li', rules: NEWEST, ...extra });
  return { S, M, merge };
}

function outcome(r: { fields: FieldOutcome[] }, field: string): FieldOutcome | undefined {
  return r.fields.find((f) => f.field === field);
}

describe('merge: what each field keeps', () => {
  it('agreement keeps the survivor and its provenance; a value only one side has is kept, a field neither has is not listed', async () => {
    const env = await open();
    const { S, merge } = await pair(env, { email: 'a@x.example', city: '北京', industry: '  ' }, { email: 'a@x.example', phone: '010-82882688', industry: '' });
    const r = await merge();
    expect(outcome(r, 'email')).toEqual({ field: 'email', survivor: 'a@x.example', merged: 'a@x.example', value: 'a@x.example', source: 'erp', decision: 'same', reason: 'both records agree' });
    expect(outcome(r, 'city')).toEqual({ field: 'city', survivor: '北京', merged: null, value: '北京', source: 'erp', decision: 'same', reason: 'only the survivor has a value' });
    expect(outcome(r, 'phone')).toEqual({
      field: 'phone',
      survivor: null,
      merged: '010-82882688',
      value: '010-82882688',
      source: 'finance',
      decision: 'filled',
      reason: 'only the merged record has a value (from finance)',
    });
    // blank text on both sides is no value
    expect(outcome(r, 'industry')).toBeUndefined();
    expect(outcome(r, 'address')).toBeUndefined();
    expect(r.changedFields).toEqual(['phone']);
    expect(r.conflicts).toEqual([]);
    // the filled value keeps the merged record's provenance: its source and that source's change time
    const prov = await provenance(env, S);
    expect(prov.phone).toEqual({ source: 'finance', changedAt: T2 });
    expect(prov.email).toEqual({ source: 'erp', changedAt: T1 });
    expect((await env.hub.get('Customer', S))!.values).toMatchObject({ phone: '010-82882688', email: 'a@x.example', city: '北京' });
  });

  it('a value only the merged record has, set in the hub, keeps its hub provenance; one without provenance gets the hub at the merge', async () => {
    const env = await open();
    const S = await customer(env, [{ source: 'erp', key: 'E1', changedAt: T1, values: { name: '北京华为技术有限公司' } }]);
    const M = await customer(env, [{ source: 'finance', key: 'F1', changedAt: T2, values: { name: '北京华为技术有限公司' } }], { hubValues: { ownerId: 'u-wang' } });
    // written straight into the row: no provenance at all
    await env.hub.knex('crm_customer').where({ id: M }).update({ ownerTeam: '华北大客户部' });
    const mProv = await provenance(env, M);
    expect(mProv.ownerId.source).toBe('hub');
    expect(mProv.ownerTeam).toBeUndefined();
    const started = nowIso();
    const r = await mergeRecords(env.hub, { survivor: S, merged: M, actor: 'u', rules: NEWEST });
    expect(outcome(r, 'ownerId')).toMatchObject({ value: 'u-wang', source: 'hub', decision: 'filled', reason: 'only the merged record has a value (from hub)' });
    expect(outcome(r, 'ownerTeam')).toMatchObject({ value: '华北大客户部', source: null, decision: 'filled', reason: 'only the merged record has a value (from hub)' });
    const prov = await provenance(env, S);
    expect(prov.ownerId).toEqual(mProv.ownerId);
    expect(prov.ownerTeam.source).toBe('hub');
    expect(prov.ownerTeam.changedAt >= started).toBe(true);
  });

  it('newest: the value a source changed later survives, on the sources’ own change times, either way round', async () => {
    const env = await open();
    const later = await pair(env, { email: 'old@x.example' }, { email: 'new@x.example' }, { s: T1, m: T2 });
    const r1 = await later.merge();
    expect(outcome(r1, 'email')).toMatchObject({ value: 'new@x.example', source: 'finance', decision: 'rule' });
    expect(outcome(r1, 'email')!.reason).toBe(`email: survivorship "newest" keeps finance's value (finance changed it later) when merging ${later.M} into ${later.S}`);
    expect((await provenance(env, later.S)).email).toEqual({ source: 'finance', changedAt: T2 });

    const earlier = await pair(env, { email: 'new@x.example' }, { email: 'old@x.example' }, { s: T2, m: T1 });
    const r2 = await earlier.merge();
    expect(outcome(r2, 'email')).toMatchObject({ value: 'new@x.example', source: 'erp', decision: 'rule' });
    expect(outcome(r2, 'email')!.reason).toContain('(erp changed it later)');
    expect(r2.changedFields).toEqual([]);
    // a decided disagreement is recorded as a decided conflict naming the winner
    const auto = (await env.hub.knex(T.conflict).where({ gid: earlier.S })) as { field: string; status: string; rule: string; values: string; resolution: string; resolved_by: string }[];
    expect(auto.map((c) => [c.field, c.status, c.rule, JSON.parse(c.values), JSON.parse(c.resolution).keep, c.resolved_by])).toEqual([
      ['email', 'resolved', 'survivorship:newest', { hub: 'new@x.example', finance: 'old@x.example' }, 'hub', 'policy:survivorship:newest'],
    ]);
  });

  it('newest decides only beyond the clock skew, and only with a source time on both sides', async () => {
    const env = await open();
    const within = await pair(env, { email: 'a@x.example' }, { email: 'b@x.example' }, { s: '2024-03-01T00:00:00.000Z', m: '2024-03-01T00:00:05.000Z' });
    expect(outcome(await within.merge(), 'email')).toMatchObject({ decision: 'conflict', value: 'a@x.example' });
    const beyond = await pair(env, { email: 'a@x.example' }, { email: 'b@x.example' }, { s: '2024-03-01T00:00:06.000Z', m: '2024-03-01T00:00:00.000Z' });
    expect(outcome(await beyond.merge(), 'email')).toMatchObject({ decision: 'rule', value: 'a@x.example' });
    const beyondOther = await pair(env, { email: 'a@x.example' }, { email: 'b@x.example' }, { s: '2024-03-01T00:00:00.000Z', m: '2024-03-01T00:00:06.000Z' });
    expect(outcome(await beyondOther.merge(), 'email')).toMatchObject({ decision: 'rule', value: 'b@x.example' });
    // a larger skew from the job's policies keeps 6 s apart undecided
    const skewed = await pair(env, { email: 'a@x.example' }, { email: 'b@x.example' }, { s: '2024-03-01T00:00:00.000Z', m: '2024-03-01T00:00:06.000Z' });
    expect(outcome(await skewed.merge({ policies: { ...MANUAL_POLICIES, clockSkewSeconds: 10 } }), 'email')).toMatchObject({ decision: 'conflict' });
    // no source time on one side (or the other): nothing to compare
    const noTimeM = await pair(env, { email: 'a@x.example' }, { email: 'b@x.example' }, { s: T1, m: null });
    expect(outcome(await noTimeM.merge(), 'email')).toMatchObject({ decision: 'conflict' });
    const noTimeS = await pair(env, { email: 'a@x.example' }, { email: 'b@x.example' }, { s: null, m: T2 });
    expect(outcome(await noTimeS.merge(), 'email')).toMatchObject({ decision: 'conflict' });
  });

  it('newest counts when the source set the value in question, not the latest change of another record of that source', async () => {
    const env = await open();
    // Two ERP records under the survivor: the longer phone (older) is the golden one by `complete`.
    const S = await customer(
      env,
      [
        { source: 'erp', key: 'E1', changedAt: '2024-01-01T00:00:00.000Z', values: { name: '北京华为技术有限公司', phone: '010-82882688' } },
        { source: 'erp', key: 'E2', changedAt: '2024-06-01T00:00:00.000Z', values: { name: '北京华为技术有限公司', phone: '82882688' } },
      ],
      { rules: { default: 'newest', fields: { phone: 'complete' } } },
    );
    const M = await customer(env, [{ source: 'finance', key: 'F1', changedAt: '2024-03-01T00:00:00.000Z', values: { name: '北京华为技术有限公司', phone: '010-60606666' } }]);
    expect((await env.hub.get('Customer', S))!.values.phone).toBe('010-82882688');
    const r = await mergeRecords(env.hub, { survivor: S, merged: M, actor: 'u', rules: NEWEST });
    expect(outcome(r, 'phone')).toMatchObject({ value: '010-60606666', decision: 'rule', reason: expect.stringContaining('finance changed it later') });
  });

  it('survivorship hub, complete and a source order; a per-field rule overrides the default', async () => {
    const env = await open();
    const hubRule = await pair(env, { email: 'a@x.example' }, { email: 'b@x.example' }, { s: T1, m: T2 });
    const r1 = await hubRule.merge({ rules: { default: 'newest', fields: { email: 'hub' } } });
    expect(outcome(r1, 'email')).toMatchObject({ value: 'a@x.example', decision: 'rule', reason: expect.stringContaining('survivorship "hub" keeps erp\'s value (the survivor keeps its value)') });

    const complete = await pair(env, { address: '北京市海淀区' }, { address: '北京市海淀区中关村' }, { s: T2, m: T1 });
    const r2 = await complete.merge({ rules: { default: 'complete', fields: {} } });
    expect(outcome(r2, 'address')).toMatchObject({ value: '北京市海淀区中关村', decision: 'rule', reason: expect.stringContaining('(the longer value)') });
    const completeS = await pair(env, { address: '北京市海淀区中关村 ' }, { address: ' 北京市海淀区' }, { s: T1, m: T2 });
    expect(outcome(await completeS.merge({ rules: { default: 'complete', fields: {} } }), 'address')).toMatchObject({ value: '北京市海淀区中关村 ', decision: 'rule' });
    // equal length after trimming (characters, not bytes): complete does not decide
    const tie = await pair(env, { address: ' 北京海淀 ' }, { address: 'Bjhd' }, { s: T1, m: T2 });
    expect(outcome(await tie.merge({ rules: { default: 'complete', fields: {} } }), 'address')).toMatchObject({ decision: 'conflict' });

    const order = await pair(env, { email: 'a@x.example', city: '北京' }, { email: 'b@x.example', city: '上海' }, { s: T2, m: T1 });
    const r3 = await order.merge({ rules: { default: 'oa,finance,erp', fields: { city: 'erp' } } });
    expect(outcome(r3, 'email')).toMatchObject({ value: 'b@x.example', decision: 'rule', reason: expect.stringContaining('survivorship "oa,finance,erp" keeps finance\'s value (finance comes first)') });
    expect(outcome(r3, 'city')).toMatchObject({ value: '北京', decision: 'rule', reason: expect.stringContaining('(erp comes first)') });
    // a source order naming neither side's source leaves the disagreement open
    const none = await pair(env, { email: 'a@x.example' }, { email: 'b@x.example' });
    expect(outcome(await none.merge({ rules: { default: 'oa', fields: {} } }), 'email')).toMatchObject({ decision: 'conflict' });
  });

  it('both values from the same source: a source order cannot tell them apart; the sides are named apart', async () => {
    const env = await open();
    const S = await customer(env, [{ source: 'erp', key: 'E1', changedAt: T1, values: { name: '北京华为技术有限公司', email: 'a@x.example' } }]);
    const M = await customer(env, [{ source: 'erp', key: 'E2', changedAt: T1, values: { name: '北京华为技术有限公司', email: 'b@x.example' } }]);
    const r = await mergeRecords(env.hub, { survivor: S, merged: M, actor: 'u', rules: { default: 'erp,finance', fields: {} }, policies: { ...MANUAL_POLICIES, default: 'source:erp' } });
    expect(outcome(r, 'email')).toMatchObject({ value: 'a@x.example', decision: 'conflict' });
    const open_ = (await env.hub.knex(T.conflict).where({ gid: S, status: 'open' })) as { field: string; values: string; rule: string }[];
    expect(open_.map((c) => [c.field, c.rule, JSON.parse(c.values)])).toEqual([['email', 'source:erp', { hub: 'a@x.example', 'erp:merged': 'b@x.example' }]]);
  });

  it('the job’s policy decides what survivorship leaves open: hub, newest, a source that owns the field; manual leaves a conflict', async () => {
    const env = await open();
    // equal times: survivorship newest leaves it open
    const policies = (p: Partial<MergePolicies>): MergePolicies => ({ ...MANUAL_POLICIES, ...p });
    const hubP = await pair(env, { email: 'a@x.example' }, { email: 'b@x.example' }, { s: T1, m: T1 });
    expect(outcome(await hubP.merge({ policies: policies({ default: 'hub' }) }), 'email')).toMatchObject({
      value: 'a@x.example',
      decision: 'rule',
      reason: `email: the job's policy hub keeps erp's value (the hub keeps its value) when merging ${hubP.M} into ${hubP.S}`,
    });
    // newest as the policy: the rules' survivorship is `hub`-free source order naming neither side
    const newestP = await pair(env, { email: 'a@x.example' }, { email: 'b@x.example' }, { s: T1, m: T2 });
    expect(outcome(await newestP.merge({ rules: { default: 'oa', fields: {} }, policies: policies({ default: 'newest' }) }), 'email')).toMatchObject({
      value: 'b@x.example',
      decision: 'rule',
      reason: expect.stringContaining("the job's policy newest keeps finance's value (finance changed it later)"),
    });
    const ownerM = await pair(env, { email: 'a@x.example', city: '北京' }, { email: 'b@x.example', city: '上海' }, { s: T1, m: T1 });
    const r = await ownerM.merge({ policies: policies({ default: 'manual', fields: { email: 'source:finance', city: 'source:erp' } }) });
    expect(outcome(r, 'email')).toMatchObject({ value: 'b@x.example', decision: 'rule', reason: expect.stringContaining('(finance owns email)') });
    expect(outcome(r, 'city')).toMatchObject({ value: '北京', decision: 'rule', reason: expect.stringContaining('(erp owns city)') });
    // an owner that is neither side's source, and manual: open conflicts, the survivor's value kept
    const open_ = await pair(env, { email: 'a@x.example', city: '北京' }, { email: 'b@x.example', city: '上海' }, { s: T1, m: T1 });
    const r2 = await open_.merge({ policies: policies({ default: 'manual', fields: { email: 'source:oa' } }) });
    expect(outcome(r2, 'email')).toMatchObject({ value: 'a@x.example', source: 'erp', decision: 'conflict' });
    expect(outcome(r2, 'city')!.reason).toBe(
      `city differs: erp has "北京", finance has "上海" (merging ${open_.M} into ${open_.S}); policy manual leaves it to a person, "北京" is kept meanwhile and neither is pushed`,
    );
    expect(r2.conflicts).toEqual(['email', 'city']);
    expect(r2.changedFields).toEqual([]);
  });

  it('the person’s choice decides a field whatever the rules say; a choice that names nothing is refused', async () => {
    const env = await open();
    const p = await pair(env, { email: 'a@x.example', city: '北京', phone: '010-1', industry: '通信' }, { email: 'b@x.example', city: '上海', phone: '010-2', industry: '通信' }, { s: T2, m: T1 });
    const r = await p.merge({ choose: { email: 'merged', city: 'finance', phone: 'erp', industry: 'survivor' }, dryRun: true });
    expect(outcome(r, 'email')).toMatchObject({ value: 'b@x.example', source: 'finance', decision: 'chosen' });
    expect(outcome(r, 'email')!.reason).toBe(`email: user:li chose finance's "b@x.example" over "a@x.example" when merging ${p.M} into ${p.S}`);
    expect(outcome(r, 'city')).toMatchObject({ value: '上海', decision: 'chosen' });
    expect(outcome(r, 'phone')).toMatchObject({ value: '010-1', decision: 'chosen', reason: expect.stringContaining(`chose erp's "010-1" over "010-2"`) });
    expect(outcome(r, 'industry')).toMatchObject({ decision: 'same' });
    expect(r).toMatchObject({ dryRun: true, mergeId: 0 });
    expect(r.changedFields.sort()).toEqual(['city', 'email']);

    await expectError(p.merge({ choose: { nope: 'survivor' } }), 'VALIDATION_FAILED', 'cannot choose nope', 'no such field');
    await expectError(p.merge({ choose: { email: 'oa' } }), 'VALIDATION_FAILED', 'cannot choose oa for email', 'erp (survivor) and finance (merged)');
    // where both agree there is nothing to choose but the survivor (or its source)
    await expectError(p.merge({ choose: { industry: 'merged' } }), 'VALIDATION_FAILED', 'cannot choose merged for industry', 'nothing to choose');
    await expectError(p.merge({ choose: { industry: 'finance' } }), 'VALIDATION_FAILED', 'nothing to choose');
    expect(outcome(await p.merge({ choose: { industry: 'erp' }, dryRun: true }), 'industry')).toMatchObject({ decision: 'same' });
    expect(await env.hub.knex(T.merge)).toEqual([]);
  });

  it('a chosen value is a decided conflict that names who chose; the merged side’s provenance comes along', async () => {
    const env = await open();
    const p = await pair(env, { email: 'a@x.example' }, { email: 'b@x.example' }, { s: T2, m: T1 });
    await p.merge({ choose: { email: 'merged' } });
    const rows = (await env.hub.knex(T.conflict).where({ gid: p.S })) as { status: string; rule: string; resolution: string; resolved_by: string | null }[];
    expect(rows).toMatchObject([{ status: 'resolved', rule: 'manual', resolved_by: 'user:li' }]);
    expect(JSON.parse(rows[0].resolution)).toMatchObject({ keep: 'finance', value: 'b@x.example' });
    expect((await provenance(env, p.S)).email).toEqual({ source: 'finance', changedAt: T1 });
  });

  it('what the next sync writes: per source record, in source and key order, without fields left open', async () => {
    const env = await open();
    const held = { name: '北京华为技术有限公司', email: 'a@x.example', city: '北京', phone: null, industry: null };
    const S = await customer(env, [
      { source: 'finance', key: 'F9', changedAt: T1, values: held },
      { source: 'erp', key: 'E2', changedAt: T1, values: held },
      { source: 'erp', key: 'E1', changedAt: T1, values: held },
    ]);
    const M = await customer(env, [
      { source: 'oa', key: 'O1', changedAt: T1, values: { name: '北京华为技术有限公司', phone: '010-82882688', city: '上海', email: 'b@x.example', industry: '通信' } },
    ]);
    // a conflict sync left open on the survivor's industry before the merge
    const conflict = { field: 'industry', base: undefined, values: { hub: null, erp: '制造' }, rule: 'manual', winner: null, reason: 'sync', status: 'open' as const };
    await env.hub.store.conflicts.save(env.hub.knex, 'customers', 'Customer', [{ gid: S, conflict }], new Map());
    const r = await mergeRecords(env.hub, { survivor: S, merged: M, actor: 'u', rules: NEWEST, dryRun: true });
    expect(r.conflicts).toEqual(['email', 'city']);
    expect(r.changedFields).toEqual(['phone', 'industry']);
    const phone = { phone: { from: null, to: '010-82882688' } };
    expect(r.writes).toEqual([
      { source: 'erp', sourceKey: 'E1', fields: phone },
      { source: 'erp', sourceKey: 'E2', fields: phone },
      { source: 'finance', sourceKey: 'F9', fields: phone },
    ]);
  });
});

const NAME = '北京华为技术有限公司';

/** Three records of one company (S, M, V: candidates pairwise), a contact under M, M merged into S. */
async function merged(env: Env) {
  const S = await customer(env, [{ source: 'erp', key: 'E1', changedAt: T1, values: { name: NAME, email: 'a@x.example' } }]);
  const M = await customer(env, [{ source: 'finance', key: 'F1', changedAt: T2, values: { name: NAME, phone: '010-82882688' } }]);
  const V = await customer(env, [{ source: 'oa', key: 'O1', changedAt: T1, values: { name: NAME } }]);
  const contact = env.hub.newId('Contact');
  await env.hub.knex('crm_contact').insert({ id: contact, ...env.hub.toRow('Contact', { customerId: M, name: '王强' }), _version: 1, _seq: await env.hub.nextSeq(env.hub.knex), _updated_at: nowIso(), _deleted: false });
  await findCandidates(env.hub);
  const r = await mergeRecords(env.hub, { survivor: S, merged: M, actor: 'u', rules: NEWEST });
  return { S, M, V, contact, mergeId: r.mergeId, r };
}

describe('merge: the order of the planned writes', () => {
  it('by source, then by key within a source, whatever order the keys were linked in', async () => {
    const env = await open();
    const held = { name: NAME, email: 'a@x.example', phone: null };
    // linked in an order that is neither, keys sorting the other way round from their sources,
    // and the merged record's keys (read after the survivor's) sorting before them
    const S = await customer(env, [
      { source: 'oa', key: 'A1', changedAt: T1, values: held },
      { source: 'erp', key: 'Z3', changedAt: T1, values: held },
      { source: 'finance', key: 'M1', changedAt: T1, values: held },
      { source: 'erp', key: 'Z1', changedAt: T1, values: held },
      { source: 'oa', key: 'A0', changedAt: T1, values: held },
      { source: 'erp', key: 'Z2', changedAt: T1, values: held },
    ]);
    const other = { name: NAME, email: null, phone: '010-82882688' };
    const M = await customer(env, [
      { source: 'finance', key: 'M0', changedAt: T1, values: other },
      { source: 'erp', key: 'Z0', changedAt: T1, values: other },
    ]);
    const r = await mergeRecords(env.hub, { survivor: S, merged: M, actor: 'u', rules: NEWEST, dryRun: true });
    expect(r.writes.map((w) => `${w.source}:${w.sourceKey} ${Object.keys(w.fields).join()}`)).toEqual([
      'erp:Z0 email',
      'erp:Z1 phone',
      'erp:Z2 phone',
      'erp:Z3 phone',
      'finance:M0 email',
      'finance:M1 phone',
      'oa:A0 phone',
      'oa:A1 phone',
    ]);
  });
});

describe('merge: what it refuses and which candidates it decides', () => {
  it('refuses a deleted record, and tells a survivor that was merged away where to merge instead', async () => {
    const env = await open();
    const { S, M, V } = await merged(env);
    const e = await expectError(mergeRecords(env.hub, { survivor: M, merged: V, actor: 'u' }), 'VALIDATION_FAILED', `cannot merge ${V} into ${M}: ${M} was already merged into ${S} (merge into ${S} instead)`);
    expect(e.context).toMatchObject({ key: M, mergedInto: S });
    const e2 = await expectError(mergeRecords(env.hub, { survivor: V, merged: M, actor: 'u' }), 'VALIDATION_FAILED', `cannot merge ${M} into ${V}: ${M} was already merged into ${S}`);
    expect(e2.message).not.toContain('instead');
    await env.hub.knex('crm_customer').where({ id: V }).update({ _deleted: true });
    await expectError(mergeRecords(env.hub, { survivor: S, merged: V, actor: 'u' }), 'VALIDATION_FAILED', `cannot merge ${V} into ${S}: ${V} is deleted`);
    await expectError(mergeRecords(env.hub, { survivor: V, merged: S, actor: 'u' }), 'VALIDATION_FAILED', `${V} is deleted`);
  });

  it('accepts the pair, supersedes the merged record’s other open pairs, leaves decided ones alone', async () => {
    const env = await open();
    const S = await customer(env, [{ source: 'erp', key: 'E1', changedAt: T1, values: { name: NAME } }]);
    const M = await customer(env, [{ source: 'finance', key: 'F1', changedAt: T2, values: { name: NAME } }]);
    const V = await customer(env, [{ source: 'oa', key: 'O1', changedAt: T1, values: { name: NAME } }]);
    const W = await customer(env, [{ source: 'oa', key: 'O2', changedAt: T1, values: { name: NAME } }]);
    await findCandidates(env.hub);
    const rows = (await env.hub.knex(T.mergeCandidate)) as { id: number; gid_a: string; gid_b: string }[];
    const idOf = (x: string, y: string) => Number(rows.find((c) => [c.gid_a, c.gid_b].sort().join() === [x, y].sort().join())!.id);
    await rejectCandidate(env.hub, idOf(M, W), 'user:zhang');
    await mergeRecords(env.hub, { survivor: S, merged: M, actor: 'user:li', rules: NEWEST });
    const status = async (x: string, y: string) => ((await env.hub.knex(T.mergeCandidate).where({ id: idOf(x, y) }).first()) as { status: string; decided_by: string | null });
    expect(await status(S, M)).toMatchObject({ status: 'accepted', decided_by: 'user:li' });
    expect(await status(M, V)).toMatchObject({ status: 'superseded', decided_by: 'user:li' });
    expect(await status(M, W)).toMatchObject({ status: 'rejected', decided_by: 'user:zhang' });
    // pairs not about the merged record are not touched
    expect(await status(S, V)).toMatchObject({ status: 'open', decided_by: null });
  });

  it('resolveMerged follows a chain of merges and refuses a cycle', async () => {
    const env = await open();
    const { S, M, V } = await merged(env);
    await mergeRecords(env.hub, { survivor: V, merged: S, actor: 'u', rules: NEWEST });
    expect(await resolveMerged(env.hub, 'Customer', M)).toBe(V);
    expect(await resolveMerged(env.hub, 'Customer', V)).toBe(V);
    await env.hub.knex('crm_customer').where({ id: V }).update({ _merged_into: M });
    await expectError(resolveMerged(env.hub, 'Customer', M), 'INTERNAL', 'merge cycle at Customer');
    expect(await listMerges(env.hub)).toHaveLength(2);
    expect(await listMerges(env.hub, { entity: 'Contact' })).toEqual([]);
  });
});

describe('unmerge: what it refuses, and what changed since the merge it keeps', () => {
  it('refuses a merge that does not exist, of another entity, with an unreadable snapshot, or no longer in place', async () => {
    const env = await open();
    const { S, M, V, mergeId } = await merged(env);
    await expectError(unmergeRecords(env.hub, { mergeId: 999, actor: 'u' }), 'NOT_FOUND', 'merge 999 does not exist');
    await expectError(unmergeRecords(env.hub, { merged: V, actor: 'u' }), 'NOT_FOUND', `Customer ${V} is not merged into another record`);
    await expectError(unmergeRecords(env.hub, { entity: 'Contact', mergeId, actor: 'u' }), 'VALIDATION_FAILED', `merge ${mergeId} is a merge of Customer, not Contact`);

    const snapshot = ((await env.hub.knex(T.merge).where({ id: mergeId }).first()) as { snapshot: string }).snapshot;
    await env.hub.knex(T.merge).where({ id: mergeId }).update({ snapshot: '{not json' });
    await expectError(unmergeRecords(env.hub, { mergeId, actor: 'u' }), 'INTERNAL', `merge ${mergeId} has an unreadable snapshot`);
    await env.hub.knex(T.merge).where({ id: mergeId }).update({ snapshot: JSON.stringify({ ...JSON.parse(snapshot), format: 2 }) });
    await expectError(unmergeRecords(env.hub, { mergeId, actor: 'u' }), 'INTERNAL', `merge ${mergeId}: unknown snapshot format 2`);
    await env.hub.knex(T.merge).where({ id: mergeId }).update({ snapshot });

    await env.hub.knex('crm_customer').where({ id: M }).update({ _merged_into: null });
    await expectError(unmergeRecords(env.hub, { mergeId, actor: 'u' }), 'VALIDATION_FAILED', `cannot unmerge merge ${mergeId}: ${M} is no longer merged into ${S} (now not merged)`);
    await env.hub.knex('crm_customer').where({ id: M }).update({ _merged_into: V });
    await expectError(unmergeRecords(env.hub, { mergeId, actor: 'u' }), 'VALIDATION_FAILED', `(now ${V})`);
    await env.hub.knex('crm_customer').where({ id: M }).update({ _merged_into: S });

    const row = await env.hub.knex('crm_customer').where({ id: S }).first();
    await env.hub.knex('crm_customer').where({ id: S }).delete();
    await expectError(unmergeRecords(env.hub, { mergeId, actor: 'u' }), 'NOT_FOUND', `cannot unmerge merge ${mergeId}: Customer ${S} no longer exists`);
    await env.hub.knex('crm_customer').insert(row);
    const mRow = await env.hub.knex('crm_customer').where({ id: M }).first();
    await env.hub.knex('crm_customer').where({ id: M }).delete();
    await expectError(unmergeRecords(env.hub, { mergeId, actor: 'u' }), 'NOT_FOUND', `Customer ${M} no longer exists`);
    await env.hub.knex('crm_customer').insert(mRow);
    // once everything is back in place it undoes
    expect((await unmergeRecords(env.hub, { mergeId, actor: 'u' })).kept).toEqual([]);
  });

  it('keeps source keys, children, provenance and candidates that changed after the merge, naming each', async () => {
    const env = await open();
    const { S, M, V, contact, mergeId } = await merged(env);
    const decided = (await env.hub.knex(T.mergeCandidate).whereNot({ status: 'open' }).orderBy('id')) as { id: number; status: string }[];
    expect(decided.map((c) => c.status)).toEqual(['accepted', 'superseded']);
    // after the merge: F1 relinked to V, the contact moved to V, the phone's provenance rewritten,
    // one candidate removed and the other decided again
    await env.hub.knex(T.xref).where({ source: 'finance', source_key: 'F1' }).update({ gid: V });
    await env.hub.knex('crm_contact').where({ id: contact }).update({ customerId: V });
    await env.hub.knex(T.provenance).where({ gid: S, field: 'phone' }).update({ source: 'oa' });
    await env.hub.knex(T.mergeCandidate).where({ id: decided[0].id }).delete();
    await env.hub.knex(T.mergeCandidate).where({ id: decided[1].id }).update({ status: 'rejected' });
    const u = await unmergeRecords(env.hub, { merged: M, actor: 'u' });
    expect(u.kept).toEqual([
      `xref finance:F1 now belongs to ${V}`,
      `1 Contact row(s) no longer pointing at ${S} were left as they are`,
      'provenance of phone changed after the merge',
      `merge candidate ${decided[0].id} was removed after the merge`,
      `merge candidate ${decided[1].id} changed after the merge`,
    ]);
    expect(((await env.hub.knex('crm_contact').where({ id: contact }).first()) as { customerId: string }).customerId).toBe(V);
    expect(((await env.hub.knex(T.mergeCandidate).where({ id: decided[1].id }).first()) as { status: string }).status).toBe('rejected');
    expect((await provenance(env, S)).phone.source).toBe('oa');
  });

  it('a source key removed after the merge is reported; untouched provenance and candidates go back', async () => {
    const env = await open();
    const { S, M, mergeId } = await merged(env);
    await env.hub.knex(T.xref).where({ source: 'finance', source_key: 'F1' }).delete();
    const u = await unmergeRecords(env.hub, { mergeId, actor: 'u' });
    expect(u.kept).toEqual(['xref finance:F1 was removed after the merge']);
    expect(await provenance(env, S)).not.toHaveProperty('phone');
    expect(((await env.hub.knex(T.mergeCandidate).whereNot({ status: 'open' })) as unknown[]).length).toBe(0);
    expect((await env.hub.get('Customer', M))!.mergedInto).toBeNull();
  });

  it('closes the conflicts the merge raised, not one that was open before; recomputes over a later merge and says so', async () => {
    const env = await open();
    const S = await customer(env, [{ source: 'erp', key: 'E1', changedAt: T1, values: { name: NAME, email: 'a@x.example' } }]);
    const M = await customer(env, [{ source: 'finance', key: 'F1', changedAt: T1, values: { name: NAME, email: 'b@x.example', phone: '010-82882688' } }]);
    const N = await customer(env, [{ source: 'oa', key: 'O1', changedAt: T1, values: { name: NAME, phone: '010-60606666' } }]);
    const earlier = { field: 'city', base: undefined, values: { hub: null, erp: '北京' }, rule: 'manual', winner: null, reason: 'sync', status: 'open' as const };
    await env.hub.store.conflicts.save(env.hub.knex, 'customers', 'Customer', [{ gid: S, conflict: earlier }], new Map());
    const first = await mergeRecords(env.hub, { survivor: S, merged: M, actor: 'u', rules: NEWEST });
    expect(first.conflicts).toEqual(['email']);
    await mergeRecords(env.hub, { survivor: S, merged: N, actor: 'u', rules: NEWEST });
    const u = await unmergeRecords(env.hub, { mergeId: first.mergeId, actor: 'user:li', rules: NEWEST });
    const open_ = (await env.hub.knex(T.conflict).where({ gid: S, status: 'open' })) as { field: string }[];
    // city was open before; phone was raised by the later merge, which still stands
    expect(open_.map((c) => c.field).sort()).toEqual(['city', 'phone']);
    const closing = (await env.hub.knex(T.audit).where({ action: 'resolve-conflict' })) as { actor: string; gid: string; after: string }[];
    expect(closing).toHaveLength(1);
    expect(closing[0]).toMatchObject({ actor: 'user:li', gid: S });
    expect(JSON.parse(closing[0].after).reason).toBe(`merge ${first.mergeId} was undone: the records are no longer one`);
    // the phone the first merge filled goes back, and the later merged record's phone takes its place
    expect(u.kept).toEqual([`${S} recomputed over later merges (${N}): phone`]);
    expect(u.survivor.values.phone).toBe('010-60606666');
  });
});

describe('merge and unmerge: the record they leave', () => {
  it('the audit entries name what changed, the decisions, the moved keys, children and candidates', async () => {
    const env = await open();
    const { S, M, V, mergeId, r } = await merged(env);
    expect(r.movedKeys).toEqual([{ source: 'finance', sourceKey: 'F1' }]);
    expect(r.sourceKeys).toEqual([
      { source: 'erp', sourceKey: 'E1' },
      { source: 'finance', sourceKey: 'F1' },
    ]);
    const audit = (await env.hub.knex(T.audit).where({ action: 'merge' })) as { gid: string; before: string; after: string }[];
    expect(audit).toHaveLength(1);
    expect(audit[0].gid).toBe(S);
    const before = JSON.parse(audit[0].before) as { survivor: CrmRecord; merged: CrmRecord };
    expect(before.survivor).toMatchObject({ name: NAME, email: 'a@x.example', phone: null });
    expect(before.merged).toMatchObject({ id: M, name: NAME, phone: '010-82882688' });
    const after = JSON.parse(audit[0].after) as Record<string, unknown>;
    expect(after).toMatchObject({
      mergeId,
      survivor: { phone: '010-82882688', email: 'a@x.example' },
      merged: { id: M, mergedInto: S },
      changedFields: ['phone'],
      movedKeys: [{ source: 'finance', sourceKey: 'F1' }],
      children: { Contact: 1 },
    });
    expect((after.fields as { field: string; decision: string }[]).map((f) => [f.field, f.decision])).toEqual([['phone', 'filled']]);
    const cands = await env.hub.knex(T.mergeCandidate).orderBy('id');
    const expected = (cands as { id: number; gid_a: string; gid_b: string }[])
      .filter((c) => c.gid_a === M || c.gid_b === M)
      .map((c) => ({ id: Number(c.id), status: [c.gid_a, c.gid_b].includes(V) ? 'superseded' : 'accepted' }));
    expect((after.candidates as { id: number }[]).map((c) => ({ ...c, id: Number(c.id) }))).toEqual(expected);
    // listMerges leaves the snapshot out
    const [row] = await listMerges(env.hub, { gid: S });
    expect(row).toEqual({ id: mergeId, entity: 'Customer', survivor: S, merged: M, at: expect.any(String), by: 'u', undoneAt: null });

    await unmergeRecords(env.hub, { mergeId, actor: 'user:li' });
    const undo = (await env.hub.knex(T.audit).where({ action: 'unmerge' })) as { actor: string; gid: string; before: string; after: string }[];
    expect(undo).toHaveLength(1);
    expect(undo[0]).toMatchObject({ actor: 'user:li', gid: M });
    expect(JSON.parse(undo[0].before)).toMatchObject({ mergeId, survivor: { phone: '010-82882688' }, merged: { id: M, mergedInto: S } });
    expect(JSON.parse(undo[0].after)).toMatchObject({ mergeId, survivor: { phone: null }, merged: { id: M, phone: '010-82882688' }, sourceKeys: [{ source: 'finance', sourceKey: 'F1' }], kept: [] });
    // nothing was open to close
    expect(await env.hub.knex(T.audit).where({ action: 'resolve-conflict' })).toEqual([]);
  });

  it('conflicts are filed under the job given, `merge` otherwise', async () => {
    const env = await open();
    const a = await pair(env, { email: 'a@x.example' }, { email: 'b@x.example' }, { s: T1, m: T1 });
    await a.merge();
    const b = await pair(env, { email: 'a@x.example' }, { email: 'b@x.example' }, { s: T1, m: T1 });
    await b.merge({ job: 'customers' });
    const jobOf = async (gid: string) => ((await env.hub.knex(T.conflict).where({ gid }).first()) as { job: string }).job;
    expect(await jobOf(a.S)).toBe('merge');
    expect(await jobOf(b.S)).toBe('customers');
  });

  it('merging other entities: references are never decided nor chosen; non-text values are equally complete', async () => {
    const env = await open();
    const S = await customer(env, [{ source: 'erp', key: 'E1', changedAt: T1, values: { name: NAME } }]);
    const V = await customer(env, [{ source: 'oa', key: 'O1', changedAt: T1, values: { name: '上海华为技术有限公司' } }]);
    const contact = async (values: CrmRecord) => {
      const id = env.hub.newId('Contact');
      await env.hub.knex('crm_contact').insert({ id, ...env.hub.toRow('Contact', values), _version: 1, _seq: await env.hub.nextSeq(env.hub.knex), _updated_at: nowIso(), _deleted: false });
      return id;
    };
    const a = await contact({ customerId: S, name: '王强', isPrimary: true });
    const b = await contact({ customerId: V, name: '王强', isPrimary: false });
    await expectError(mergeRecords(env.hub, { entity: 'Contact', survivor: a, merged: b, actor: 'u', choose: { customerId: 'merged' } }), 'VALIDATION_FAILED', 'cannot choose customerId', 'reference');
    const r = await mergeRecords(env.hub, { entity: 'Contact', survivor: a, merged: b, actor: 'u', rules: { default: 'complete', fields: {} }, dryRun: true });
    expect(r.fields.map((f) => f.field)).toEqual(['name', 'isPrimary']);
    expect(outcome(r, 'isPrimary')).toMatchObject({ survivor: true, merged: false, value: true, decision: 'conflict' });
    expect(r.entity).toBe('Contact');
  });

  it('an empty merged-into is not a merge: such a record resolves to itself and can be merged', async () => {
    const env = await open();
    const { S, V } = await merged(env);
    await env.hub.knex('crm_customer').where({ id: V }).update({ _merged_into: '' });
    expect(await resolveMerged(env.hub, 'Customer', V)).toBe(V);
    const r = await mergeRecords(env.hub, { survivor: S, merged: V, actor: 'u', rules: NEWEST });
    expect(r.merged.mergedInto).toBe(S);
  });

  it('unmerge puts back every system column its snapshot says the merge changed, _deleted included', async () => {
    const env = await open();
    const { M, mergeId } = await merged(env);
    // a snapshot in which the merge also marked the merged record deleted
    const row = (await env.hub.knex(T.merge).where({ id: mergeId }).first()) as { snapshot: string };
    const snap = JSON.parse(row.snapshot) as { merged: { after: Record<string, unknown> } };
    snap.merged.after._deleted = true;
    await env.hub.knex(T.merge).where({ id: mergeId }).update({ snapshot: JSON.stringify(snap) });
    await env.hub.knex('crm_customer').where({ id: M }).update({ _deleted: true });
    const u = await unmergeRecords(env.hub, { mergeId, actor: 'u' });
    expect(u.kept).toEqual([]);
    expect(u.restored).toMatchObject({ deleted: false, mergedInto: null });
  });
});
