/**
 * What an unmerge puts back, read from the hub afterwards (SQLite hub: the restore steps are the
 * same on every hub; tests/identity/merge.test.ts runs merge and unmerge on PostgreSQL too): the
 * source keys of both records with the rule and link time each had, the merged record's values and
 * its standing on its own, the survivor's values and provenance field by field, the children the
 * merge re-pointed, the children's bases in a source where the survivor has no key left, and the
 * merge candidates; what changed after the merge is kept and named instead.
 */
import { describe, expect, it } from 'vitest';
import { hashRecord } from '../../model/values.js';
import type { CrmRecord } from '../../model/entities.js';
import { Hub, nowIso } from '../../hub/hub.js';
import { SYSTEM_TABLES as T } from '../../hub/tables.js';
import { findCandidates, mergeRecords, recomputeGolden, unmergeRecords, type SurvivorshipRules } from '../../identity/index.js';
import { identityHubs, seedGoldenCustomer, type IdentityEnv, type SeedLink } from './golden-seed.js';

const NEWEST: SurvivorshipRules = { default: 'newest', fields: {} };
const NAME = '北京华为技术有限公司';
const T1 = '2024-03-01T00:00:00.000Z';
const T2 = '2024-04-01T00:00:00.000Z';
const LINKED = '2024-01-01T00:00:00.000Z';

type Env = IdentityEnv;
const open = identityHubs('umr', ['erp', 'finance', 'oa']);

type Link = Omit<SeedLink, 'changedAt'> & { changedAt?: string | null };

/** A golden customer as sync leaves it (each link changed at T1 unless given, synced at LINKED). */
const customer = (env: Env, links: Link[], hubValues: CrmRecord = {}): Promise<string> =>
  seedGoldenCustomer(env.hub, links.map((l) => ({ ...l, changedAt: l.changedAt === undefined ? T1 : l.changedAt })), { rules: NEWEST, hubValues, syncedAt: LINKED });

/** A contact of `customerId` in the hub, optionally with rows (xref and base) in sources. */
async function contact(env: Env, customerId: string, opts: { deleted?: boolean; rows?: { source: string; key: string; base: CrmRecord; deleted?: boolean; changedAt?: string | null }[] } = {}): Promise<string> {
  const { hub } = env;
  const id = hub.newId('Contact');
  await hub.knex('crm_contact').insert({ id, ...hub.toRow('Contact', { customerId, name: '王强' }), _version: 1, _seq: await hub.nextSeq(hub.knex), _updated_at: nowIso(), _deleted: opts.deleted ?? false });
  for (const r of opts.rows ?? []) {
    await hub.knex(T.xref).insert({ entity: 'Contact', source: r.source, source_key: r.key, gid: id, rule: 'new', linked_at: LINKED });
    await hub.knex(T.base).insert({
      entity: 'Contact',
      source: r.source,
      source_key: r.key,
      values: JSON.stringify(r.base),
      hash: hashRecord(r.base),
      deleted: r.deleted ?? false,
      changed_at: r.changedAt === undefined ? T1 : r.changedAt,
      synced_at: LINKED,
    });
  }
  return id;
}

async function xrefOf(env: Env, entity: string, gid: string): Promise<Record<string, unknown>[]> {
  return (await env.hub.knex(T.xref).where({ entity, gid }).orderBy(['source', 'source_key'])) as Record<string, unknown>[];
}

async function provenance(env: Env, gid: string): Promise<Record<string, { source: string; changedAt: string }>> {
  const rows = (await env.hub.knex(T.provenance).where({ entity: 'Customer', gid })) as { field: string; source: string; changed_at: string }[];
  return Object.fromEntries(rows.map((p) => [p.field, { source: p.source, changedAt: p.changed_at }]));
}

async function row(env: Env, table: string, id: string): Promise<Record<string, unknown>> {
  return (await env.hub.knex(table).where({ id }).first()) as Record<string, unknown>;
}

/** A child's base in one source: values, tombstone, the source's change time. */
async function baseOf(env: Env, entity: string, source: string, key: string): Promise<{ values: CrmRecord; deleted: boolean; changedAt: string | null }> {
  const b = (await env.hub.knex(T.base).where({ entity, source, source_key: key }).first()) as { values: string; deleted: unknown; changed_at: string | null };
  return { values: JSON.parse(b.values) as CrmRecord, deleted: Boolean(b.deleted), changedAt: b.changed_at };
}

async function history(env: Env, entity: string, gid: string): Promise<{ version: number; action: string; actor: string }[]> {
  const rows = (await env.hub.knex(T.history).where({ entity, gid }).orderBy('version')) as { version: unknown; action: string; actor: string }[];
  return rows.map((r) => ({ version: Number(r.version), action: r.action, actor: r.actor }));
}

describe('unmerge: the source keys and the records', () => {
  it('every key the merged record had goes back to it with the rule and link time it had; the survivor keeps its own', async () => {
    const env = await open();
    const S = await customer(env, [{ source: 'erp', key: 'E1', values: { name: NAME } }]);
    const M = await customer(env, [
      { source: 'finance', key: 'F1', values: { name: NAME }, rule: 'name', linkedAt: '2024-02-01T00:00:00.000Z' },
      { source: 'oa', key: 'O1', values: { name: NAME }, rule: 'creditCode', linkedAt: '2024-02-02T00:00:00.000Z' },
    ]);
    const sKeys = await xrefOf(env, 'Customer', S);
    const mKeys = await xrefOf(env, 'Customer', M);
    const r = await mergeRecords(env.hub, { survivor: S, merged: M, actor: 'u', rules: NEWEST });
    // while merged, the survivor holds every key, the moved ones marked as moved by the merge
    expect((await xrefOf(env, 'Customer', S)).map((x) => [x.source_key, x.rule])).toEqual([
      ['E1', 'new'],
      ['F1', 'merge'],
      ['O1', 'merge'],
    ]);
    expect(await xrefOf(env, 'Customer', M)).toEqual([]);
    const u = await unmergeRecords(env.hub, { mergeId: r.mergeId, actor: 'u' });
    expect(u.kept).toEqual([]);
    expect(await xrefOf(env, 'Customer', S)).toEqual(sKeys);
    expect(await xrefOf(env, 'Customer', M)).toEqual(mKeys);
  });

  it('the merged record stands on its own again with the values it had, at a new version; the survivor loses what the merge filled', async () => {
    const env = await open();
    const S = await customer(env, [{ source: 'erp', key: 'E1', values: { name: NAME, email: 'a@x.example' } }]);
    const M = await customer(env, [{ source: 'finance', key: 'F1', changedAt: T2, values: { name: NAME, phone: '010-82882688', city: '北京' } }]);
    const sBefore = (await env.hub.get('Customer', S))!;
    const mBefore = (await env.hub.get('Customer', M))!;
    const r = await mergeRecords(env.hub, { survivor: S, merged: M, actor: 'user:li', rules: NEWEST });
    expect(r.changedFields).toEqual(['phone', 'city']);
    const mid = (await env.hub.get('Customer', S))!;
    const u = await unmergeRecords(env.hub, { mergeId: r.mergeId, actor: 'user:wang' });

    const m = (await env.hub.get('Customer', M))!;
    expect(m).toMatchObject({ mergedInto: null, deleted: false, version: mBefore.version + 2, values: mBefore.values });
    expect(u.restored).toEqual(m);
    const s = (await env.hub.get('Customer', S))!;
    expect(s.values).toEqual(sBefore.values);
    expect(s.version).toBe(mid.version + 1);
    expect(s.seq).toBeGreaterThan(mid.seq);
    expect(u.survivor).toEqual(s);
    // each step a version of its own, by whoever took it
    expect((await history(env, 'Customer', M)).filter((h) => h.version > mBefore.version)).toEqual([
      { version: mBefore.version + 1, action: 'merge', actor: 'user:li' },
      { version: mBefore.version + 2, action: 'unmerge', actor: 'user:wang' },
    ]);
    expect((await history(env, 'Customer', S)).filter((h) => h.version > sBefore.version).map((h) => [h.action, h.actor])).toEqual([
      ['merge', 'user:li'],
      ['unmerge', 'user:wang'],
    ]);
  });

  it('a survivor that gives keys back is written even when no value of it changes; one that gives none back and was not changed is not', async () => {
    const env = await open();
    const S = await customer(env, [{ source: 'erp', key: 'E1', values: { name: NAME } }]);
    const M = await customer(env, [{ source: 'finance', key: 'F1', values: { name: NAME } }]);
    const r = await mergeRecords(env.hub, { survivor: S, merged: M, actor: 'u', rules: NEWEST });
    expect(r.changedFields).toEqual([]);
    const mid = (await env.hub.get('Customer', S))!.version;
    await unmergeRecords(env.hub, { mergeId: r.mergeId, actor: 'u' });
    // it may have no row left in finance: the new version is what makes the next push look at it
    expect((await env.hub.get('Customer', S))!.version).toBe(mid + 1);

    // a record created in the hub, with no source keys, merged and unmerged: nothing to give back
    const H = await customer(env, [], { name: NAME });
    const r2 = await mergeRecords(env.hub, { survivor: S, merged: H, actor: 'u', rules: NEWEST });
    const mid2 = (await env.hub.get('Customer', S))!.version;
    expect((await unmergeRecords(env.hub, { mergeId: r2.mergeId, actor: 'u' })).kept).toEqual([]);
    expect((await env.hub.get('Customer', S))!.version).toBe(mid2);
    expect((await env.hub.get('Customer', H))!).toMatchObject({ mergedInto: null, values: { name: NAME } });

    // one with no keys that filled a field: the survivor is written for the value it gets back
    const P = await customer(env, [], { name: NAME, phone: '010-82882688' });
    const r3 = await mergeRecords(env.hub, { survivor: S, merged: P, actor: 'u', rules: NEWEST });
    expect(r3.changedFields).toEqual(['phone']);
    const u3 = await unmergeRecords(env.hub, { mergeId: r3.mergeId, actor: 'u' });
    expect(u3.survivor.values.phone).toBeNull();
    expect(u3.survivor.version).toBe(r3.survivor.version + 1);
  });

  it('a value changed after the merge is kept and named with what it holds; the other values the merge changed go back', async () => {
    const env = await open();
    const S = await customer(env, [{ source: 'erp', key: 'E1', values: { name: NAME, email: 'a@x.example' } }]);
    const M = await customer(env, [{ source: 'finance', key: 'F1', changedAt: T2, values: { name: NAME, email: 'b@x.example', phone: '010-82882688', city: '北京' } }]);
    const r = await mergeRecords(env.hub, { survivor: S, merged: M, actor: 'u', rules: NEWEST });
    expect(r.changedFields).toEqual(['phone', 'email', 'city']);
    // after the merge: a value the merge set, and one it did not touch, edited on the survivor;
    // one edited on the merged record (the merge never changes its values)
    await env.hub.knex('crm_customer').where({ id: S }).update({ phone: '010-60606666', industry: '通信' });
    await env.hub.knex('crm_customer').where({ id: M }).update({ industry: '制造' });
    const u = await unmergeRecords(env.hub, { mergeId: r.mergeId, actor: 'u' });
    expect(u.kept).toEqual([`${S}.phone changed after the merge; kept "010-60606666"`]);
    expect(u.survivor.values).toMatchObject({ email: 'a@x.example', phone: '010-60606666', city: null, industry: '通信' });
    expect(u.restored.values).toMatchObject({ email: 'b@x.example', phone: '010-82882688', city: '北京', industry: '制造' });
  });
});

describe('unmerge: children', () => {
  it('children the merge re-pointed point at the merged record again, each at a new version; the survivor’s own and those moved since are left', async () => {
    const env = await open();
    const S = await customer(env, [{ source: 'erp', key: 'E1', values: { name: NAME } }]);
    const M = await customer(env, [{ source: 'finance', key: 'F1', values: { name: NAME } }]);
    const V = await customer(env, [{ source: 'oa', key: 'O1', values: { name: NAME } }]);
    const own = await contact(env, S);
    // more than one batch of re-pointing (500 rows a batch)
    const many: string[] = [];
    await env.hub.knex.transaction(async (trx) => {
      const seq = await env.hub.nextSeq(trx);
      const rows = Array.from({ length: 502 }, (_, i) => {
        const id = env.hub.newId('Contact');
        many.push(id);
        return { id, ...env.hub.toRow('Contact', { customerId: M, name: `c${i}` }), _version: 1, _seq: seq, _updated_at: nowIso(), _deleted: false };
      });
      for (let i = 0; i < rows.length; i += 100) await trx('crm_contact').insert(rows.slice(i, i + 100));
    });
    const r = await mergeRecords(env.hub, { survivor: S, merged: M, actor: 'u', rules: NEWEST });
    expect(r.children).toEqual({ Contact: 502 });
    const moved = many[501];
    await env.hub.knex('crm_contact').where({ id: moved }).update({ customerId: V });
    const u = await unmergeRecords(env.hub, { mergeId: r.mergeId, actor: 'u' });
    expect(u.kept).toEqual([`1 Contact row(s) no longer pointing at ${S} were left as they are`]);
    const back = (await env.hub.knex('crm_contact').whereIn('id', many.slice(0, 501)).select('customerId', '_version')) as { customerId: string; _version: unknown }[];
    expect(back).toHaveLength(501);
    expect(new Set(back.map((c) => `${c.customerId} ${Number(c._version)}`))).toEqual(new Set([`${M} 3`]));
    expect(await row(env, 'crm_contact', moved)).toMatchObject({ customerId: V });
    expect(await row(env, 'crm_contact', own)).toMatchObject({ customerId: S, _version: 1 });
    expect((await history(env, 'Contact', many[0])).map((h) => h.action)).toEqual(['repoint', 'repoint']);
  });

  it('where the survivor has no key left in a source, its children’s bases there name the merged record, and the children get a new version', async () => {
    const env = await open();
    // The survivor has a finance key of its own, none in erp or oa: the merged record's keys were its only rows there.
    const S = await customer(env, [{ source: 'finance', key: 'F5', values: { name: NAME } }]);
    const M = await customer(env, [
      { source: 'erp', key: 'K1', values: { name: NAME } },
      { source: 'oa', key: 'K1', values: { name: NAME } },
    ]);
    const V = await customer(env, [{ source: 'oa', key: 'O9', values: { name: NAME } }]);
    const r = await mergeRecords(env.hub, { survivor: S, merged: M, actor: 'u', rules: NEWEST });
    // Children created while merged: their rows were written with the survivor's keys (K1 in erp and oa).
    const ann = { name: '王强', customerId: S };
    const c = await contact(env, S, {
      rows: [
        { source: 'erp', key: '1', base: ann, changedAt: T2 },
        { source: 'oa', key: '1', base: ann, changedAt: null },
        { source: 'finance', key: '1', base: ann },
      ],
    });
    const gone = await contact(env, S, { rows: [{ source: 'erp', key: '2', base: ann, deleted: true }] });
    const other = await contact(env, S, { rows: [{ source: 'erp', key: '3', base: { name: '王强', customerId: V } }] });
    const deleted = await contact(env, S, { deleted: true, rows: [{ source: 'erp', key: '4', base: ann }] });
    const elsewhere = await contact(env, V, { rows: [{ source: 'oa', key: '5', base: { name: '王强', customerId: S } }] });

    expect((await unmergeRecords(env.hub, { mergeId: r.mergeId, actor: 'user:wang' })).kept).toEqual([]);
    expect(await baseOf(env, 'Contact', 'erp', '1')).toEqual({ values: { name: '王强', customerId: M }, deleted: false, changedAt: T2 });
    expect(await baseOf(env, 'Contact', 'oa', '1')).toEqual({ values: { name: '王强', customerId: M }, deleted: false, changedAt: null });
    // finance: the survivor still has its own row there, so the child's row there names it
    expect(await baseOf(env, 'Contact', 'finance', '1')).toEqual({ values: ann, deleted: false, changedAt: T1 });
    // the child stays the survivor's in the hub, changed so the next push gives its rows the survivor's key
    expect(await row(env, 'crm_contact', c)).toMatchObject({ customerId: S, _version: 2 });
    expect(await history(env, 'Contact', c)).toEqual([{ version: 2, action: 'unmerge', actor: 'user:wang' }]);
    // a tombstone, a row naming another customer, a child deleted in the hub, a child of another customer: left alone
    expect(await baseOf(env, 'Contact', 'erp', '2')).toEqual({ values: ann, deleted: true, changedAt: T1 });
    expect(await baseOf(env, 'Contact', 'erp', '3')).toMatchObject({ values: { customerId: V } });
    expect(await baseOf(env, 'Contact', 'erp', '4')).toMatchObject({ values: ann });
    expect(await baseOf(env, 'Contact', 'oa', '5')).toMatchObject({ values: { customerId: S } });
    for (const id of [gone, other, deleted, elsewhere]) expect(await row(env, 'crm_contact', id)).toMatchObject({ _version: 1 });
  });

  it('where the survivor keeps a key in every source the merged record had, no base changes and no child is written', async () => {
    const env = await open();
    const S = await customer(env, [
      { source: 'erp', key: 'E5', values: { name: NAME } },
      { source: 'oa', key: 'O5', values: { name: NAME } },
    ]);
    const M = await customer(env, [
      { source: 'erp', key: 'K1', values: { name: NAME } },
      { source: 'oa', key: 'K1', values: { name: NAME } },
    ]);
    const r = await mergeRecords(env.hub, { survivor: S, merged: M, actor: 'u', rules: NEWEST });
    const ann = { name: '王强', customerId: S };
    const c = await contact(env, S, { rows: [{ source: 'erp', key: '1', base: ann }, { source: 'oa', key: '1', base: ann }] });
    await unmergeRecords(env.hub, { mergeId: r.mergeId, actor: 'u' });
    expect((await baseOf(env, 'Contact', 'erp', '1')).values).toEqual(ann);
    expect((await baseOf(env, 'Contact', 'oa', '1')).values).toEqual(ann);
    expect(await row(env, 'crm_contact', c)).toMatchObject({ _version: 1 });
  });
});

describe('unmerge: provenance, candidates and later merges', () => {
  it('the survivor’s provenance goes back field by field: a field the merge filled loses it, a field decided for the merged record gets its own back', async () => {
    const env = await open();
    const S = await customer(env, [{ source: 'erp', key: 'E1', changedAt: T1, values: { name: NAME, email: 'a@x.example' } }]);
    const M = await customer(env, [{ source: 'finance', key: 'F1', changedAt: T2, values: { name: NAME, email: 'b@x.example', phone: '010-82882688' } }]);
    const sProv = await provenance(env, S);
    const mProv = await provenance(env, M);
    expect(sProv.email).toEqual({ source: 'erp', changedAt: T1 });
    const r = await mergeRecords(env.hub, { survivor: S, merged: M, actor: 'u', rules: NEWEST });
    expect((await provenance(env, S)).email).toEqual({ source: 'finance', changedAt: T2 });
    expect((await provenance(env, S)).phone).toEqual({ source: 'finance', changedAt: T2 });
    const u = await unmergeRecords(env.hub, { mergeId: r.mergeId, actor: 'u' });
    expect(u.kept).toEqual([]);
    expect(await provenance(env, S)).toEqual(sProv);
    expect(await provenance(env, M)).toEqual(mProv);
  });

  it('a provenance row changed or removed after the merge is kept and named; the others go back', async () => {
    const env = await open();
    const S = await customer(env, [{ source: 'erp', key: 'E1', changedAt: T1, values: { name: NAME, email: 'a@x.example', city: '北京' } }]);
    const M = await customer(env, [{ source: 'finance', key: 'F1', changedAt: T2, values: { name: NAME, email: 'b@x.example', city: '上海', phone: '010-82882688' } }]);
    const sProv = await provenance(env, S);
    const r = await mergeRecords(env.hub, { survivor: S, merged: M, actor: 'u', rules: NEWEST });
    expect(r.changedFields).toEqual(['phone', 'email', 'city']);
    // after the merge: email's change time rewritten (same source), phone's provenance removed
    const later = '2024-05-01T00:00:00.000Z';
    await env.hub.knex(T.provenance).where({ gid: S, field: 'email' }).update({ changed_at: later });
    await env.hub.knex(T.provenance).where({ gid: S, field: 'phone' }).delete();
    const u = await unmergeRecords(env.hub, { mergeId: r.mergeId, actor: 'u' });
    expect(u.kept).toEqual(['provenance of email changed after the merge', 'provenance of phone changed after the merge']);
    const after = await provenance(env, S);
    expect(after.email).toEqual({ source: 'finance', changedAt: later });
    expect(after).not.toHaveProperty('phone');
    expect(after.city).toEqual(sProv.city);
    expect(after.name).toEqual(sProv.name);
  });

  it('the candidates the merge decided are as they were before it; one decided before the merge is left', async () => {
    const env = await open();
    const S = await customer(env, [{ source: 'erp', key: 'E1', values: { name: NAME } }]);
    const M = await customer(env, [{ source: 'finance', key: 'F1', values: { name: NAME } }]);
    await customer(env, [{ source: 'oa', key: 'O1', values: { name: NAME } }]);
    const W = await customer(env, [{ source: 'oa', key: 'O2', values: { name: NAME } }]);
    await findCandidates(env.hub);
    const pairOf = (c: { gid_a: string; gid_b: string }) => [c.gid_a, c.gid_b].sort().join(' ');
    const all = () => env.hub.knex(T.mergeCandidate).orderBy('id') as Promise<{ id: number; gid_a: string; gid_b: string; status: string }[]>;
    const wm = (await all()).find((c) => pairOf(c) === [M, W].sort().join(' '))!;
    await env.hub.knex(T.mergeCandidate).where({ id: wm.id }).update({ status: 'rejected', decided_at: T1, decided_by: 'user:zhao' });
    const before = await all();
    expect(before.length).toBe(6);
    const r = await mergeRecords(env.hub, { survivor: S, merged: M, actor: 'u', rules: NEWEST });
    const mid = await all();
    expect(mid.filter((c) => c.status === 'accepted').map(pairOf)).toEqual([[S, M].sort().join(' ')]);
    expect(mid.filter((c) => c.status === 'superseded')).toHaveLength(1);
    expect(mid.find((c) => c.id === wm.id)).toEqual(before.find((c) => c.id === wm.id));
    expect((await unmergeRecords(env.hub, { mergeId: r.mergeId, actor: 'u' })).kept).toEqual([]);
    expect(await all()).toEqual(before);
  });

  it('without survivorship given, the survivor is not recomputed over a later merge; with it, a recompute that changes nothing is not reported', async () => {
    const env = await open();
    const S = await customer(env, [{ source: 'erp', key: 'E1', values: { name: NAME } }]);
    const M = await customer(env, [{ source: 'finance', key: 'F1', values: { name: NAME, phone: '010-82882688' } }]);
    const N = await customer(env, [{ source: 'oa', key: 'O1', values: { name: NAME, phone: '010-60606666' } }]);
    const first = await mergeRecords(env.hub, { survivor: S, merged: M, actor: 'u', rules: NEWEST });
    // the later merge leaves the phone the first filled (they disagree: an open conflict)
    expect((await mergeRecords(env.hub, { survivor: S, merged: N, actor: 'u', rules: NEWEST })).conflicts).toEqual(['phone']);
    const u = await unmergeRecords(env.hub, { mergeId: first.mergeId, actor: 'u' });
    expect(u.kept).toEqual([]);
    expect(u.survivor.values.phone).toBeNull();
    expect((await env.hub.get('Customer', N))!.mergedInto).toBe(S);

    const S2 = await customer(env, [{ source: 'erp', key: 'E2', values: { name: NAME } }]);
    const M2 = await customer(env, [{ source: 'finance', key: 'F2', values: { name: NAME, phone: '010-82882688' } }]);
    const N2 = await customer(env, [{ source: 'oa', key: 'O2', values: { name: NAME } }]);
    const first2 = await mergeRecords(env.hub, { survivor: S2, merged: M2, actor: 'u', rules: NEWEST });
    await mergeRecords(env.hub, { survivor: S2, merged: N2, actor: 'u', rules: NEWEST });
    const v = await unmergeRecords(env.hub, { mergeId: first2.mergeId, actor: 'u', rules: NEWEST });
    expect(v.kept).toEqual([]);
    expect(v.survivor.values.phone).toBeNull();
  });
});
