/**
 * The pull's three-way merge stage (sync/pull/merge-page.ts) on deletes and tombstones, given a
 * literal page and checked on the plan it returns: when a delete applies and when it names the hub's
 * edits, what a row that comes back after a delete does, how a new key is counted, and how a
 * one-sided change reaches a conflict that is already open. Pure: no hub.
 */
import { describe, expect, it } from 'vitest';
import { fieldsOf } from '../../model/entities.js';
import type { LinkDecision } from '../../sync/identity.js';
import { mergePage, movedFromBase } from '../../sync/pull/merge-page.js';
import type { HubRecord } from '../../hub/golden.js';
import type { LinkedPage, PageContext, PageItem } from '../../sync/pull/types.js';
import { hubRecord, linkedPage } from './pages.js';

const ctx: PageContext = {
  job: 'customers',
  entity: 'Customer',
  source: 'erp',
  fields: ['code', 'name', 'phone'],
  model: new Map(fieldsOf('Customer').map((f) => [f.name, f])),
  policies: { default: 'manual', fields: {}, clockSkewSeconds: 5 },
  now: '2024-06-01T00:00:00.000Z',
};
const T1 = '2024-05-01T00:00:00.000Z';

const upsert = (sourceKey: string, record: Record<string, unknown>, changedAt: string | null = null): [string, PageItem] => [sourceKey, { kind: 'upsert', sourceKey, record: record as never, changedAt }];
const del = (sourceKey: string, changedAt: string | null = null): [string, PageItem] => [sourceKey, { kind: 'delete', sourceKey, changedAt }];
const base = (sourceKey: string, values: Record<string, unknown>, deleted = false) => [sourceKey, { sourceKey, values: values as never, hash: '', deleted, changedAt: null }] as const;
const linkedTo = (...pairs: [string, string][]) => new Map(pairs.map(([key, gid]) => [key, { gid, rule: null }]));

const page = linkedPage;

/** A page of one item for key C1, linked to cus_1, with the key's base (deleted with `baseDeleted`) and the hub's record (`record` overrides any of it). */
const c1Page = (
  item: [string, PageItem],
  o: { base: Record<string, unknown>; baseDeleted?: boolean; hub: Record<string, unknown>; record?: Partial<HubRecord>; provenance?: LinkedPage['provenance'] },
) =>
  page({
    items: new Map([item]),
    xref: linkedTo(['C1', 'cus_1']),
    bases: new Map([base('C1', o.base, o.baseDeleted)]),
    records: new Map([['cus_1', hubRecord('cus_1', o.hub, o.record)]]),
    ...(o.provenance && { provenance: o.provenance }),
  });

describe('a delete from the source', () => {
  it('deletes the golden record without a conflict when the hub has not changed since the last sync, at the change time the source gave', () => {
    const plan = mergePage(
      c1Page(del('C1', T1), { base: { code: 'C1', phone: '1' }, hub: { code: 'C1', phone: '1' } }),
      ctx,
    );
    expect(plan.records.map((w) => [w.gid, w.deleted, [...w.changed]])).toEqual([['cus_1', true, ['_deleted']]]);
    expect(plan.conflicts).toEqual([]);
    expect(plan.stats).toMatchObject({ conflicts: 0, autoResolved: 0, unchanged: 0 });
    expect(plan.bases).toEqual([{ sourceKey: 'C1', values: { code: 'C1', phone: '1' }, deleted: true, changedAt: T1 }]);
    expect(plan.done).toEqual(['C1']);
  });

  it('names only the fields the hub changed since the last sync, and only the mapped ones the base holds', () => {
    const plan = mergePage(
      page({
        items: new Map([del('C1')]),
        xref: linkedTo(['C1', 'cus_1']),
        // name: not in the base (never synced with erp); status: not mapped by erp.
        bases: new Map([base('C1', { code: 'C1', phone: '1', status: 'ACTIVE' })]),
        records: new Map([['cus_1', hubRecord('cus_1', { code: 'C1', phone: '2', name: 'Acme', status: 'BLOCKED' })]]),
      }),
      ctx,
    );
    expect(plan.records.map((w) => [w.gid, w.deleted])).toEqual([['cus_1', true]]);
    expect(plan.conflicts).toEqual([
      {
        gid: 'cus_1',
        conflict: {
          field: '_deleted',
          base: null,
          values: { hub: '{"phone":"2"}', erp: null },
          rule: 'manual',
          winner: 'erp',
          status: 'auto',
          source: 'erp',
          reason: "deleted in erp while phone changed in the hub since the last sync; the delete wins, the hub's values are kept here",
        },
      },
    ]);
    expect(plan.stats).toMatchObject({ conflicts: 0, autoResolved: 1 });
    expect(plan.plannedConflicts).toEqual([
      { gid: 'cus_1', sourceKey: 'C1', field: '_deleted', values: { hub: '{"phone":"2"}', erp: null }, rule: 'manual', winner: 'erp', reason: plan.conflicts[0].conflict.reason },
    ]);
  });

  it('lists every field the hub changed in the reason', () => {
    const plan = mergePage(
      c1Page(del('C1'), { base: { code: 'C1', name: 'A', phone: '1' }, hub: { code: 'C1', name: 'B', phone: '2' } }),
      ctx,
    );
    expect(plan.conflicts[0].conflict.values).toEqual({ hub: '{"name":"B","phone":"2"}', erp: null });
    expect(plan.conflicts[0].conflict.reason).toMatch(/^deleted in erp while name, phone changed in the hub/);
  });

  it('writes nothing to a golden record that is already deleted, or that the hub no longer holds, but marks the base deleted', () => {
    const plan = mergePage(
      page({
        items: new Map([del('C1'), del('C2')]),
        xref: linkedTo(['C1', 'cus_1'], ['C2', 'cus_2']),
        bases: new Map([base('C1', { phone: '1' }), base('C2', { phone: '1' })]),
        records: new Map([['cus_1', hubRecord('cus_1', { phone: '2' }, { deleted: true })]]),
      }),
      ctx,
    );
    expect(plan.records).toEqual([]);
    expect(plan.conflicts).toEqual([]);
    expect(plan.bases.map((b) => [b.sourceKey, b.deleted])).toEqual([
      ['C1', true],
      ['C2', true],
    ]);
    expect(plan.done).toEqual(['C1', 'C2']);
  });

  it('only marks the base of a key that is not linked to a golden record', () => {
    const plan = mergePage(page({ items: new Map([del('C1')]), bases: new Map([base('C1', { phone: '1' })]) }), ctx);
    expect(plan.records).toEqual([]);
    expect(plan.bases).toEqual([{ sourceKey: 'C1', values: { phone: '1' }, deleted: true, changedAt: ctx.now }]);
    expect(plan.done).toEqual(['C1']);
  });

  it('does nothing again for a key whose delete was already taken', () => {
    const plan = mergePage(
      c1Page(del('C1'), { base: { phone: '1' }, baseDeleted: true, hub: { phone: '1' } }),
      ctx,
    );
    expect(plan.records).toEqual([]);
    expect(plan.bases).toEqual([]);
    expect(plan.done).toEqual(['C1']);
  });
});

describe('a row that changes after its record was deleted (a tombstone)', () => {
  it('keeps the record deleted and names the edit when the source row was deleted and comes back changed', () => {
    const plan = mergePage(
      c1Page(upsert('C1', { code: 'C1', name: 'Acme', phone: '3' }, T1), { base: { code: 'C1', name: 'Acme', phone: '1' }, baseDeleted: true, hub: { code: 'C1', name: 'Acme', phone: '1' }, record: { deleted: true } }),
      ctx,
    );
    expect(plan.records).toEqual([]);
    expect(plan.conflicts).toEqual([
      {
        gid: 'cus_1',
        conflict: {
          field: '_deleted',
          base: null,
          values: { hub: null, erp: '{"code":"C1","name":"Acme","phone":"3"}' },
          rule: 'manual',
          winner: 'hub',
          status: 'auto',
          source: 'erp',
          reason: 'erp row C1 changed after the record was deleted; it stays deleted (its values are kept here)',
        },
      },
    ]);
    expect(plan.stats).toMatchObject({ autoResolved: 1, unchanged: 0 });
    expect(plan.bases).toEqual([{ sourceKey: 'C1', values: { code: 'C1', name: 'Acme', phone: '3' }, deleted: true, changedAt: T1 }]);
    expect(plan.done).toEqual(['C1']);
  });

  it('keeps the record deleted when another source deleted it and this one edits its row', () => {
    const plan = mergePage(
      c1Page(upsert('C1', { code: 'C1', name: 'Acme', phone: '3' }), { base: { code: 'C1', name: 'Acme', phone: '1' }, hub: { code: 'C1', name: 'Acme', phone: '1' }, record: { deleted: true } }),
      ctx,
    );
    expect(plan.records).toEqual([]);
    expect(plan.conflicts.map((c) => [c.gid, c.conflict.field, c.conflict.winner])).toEqual([['cus_1', '_deleted', 'hub']]);
    expect(plan.bases).toEqual([{ sourceKey: 'C1', values: { code: 'C1', name: 'Acme', phone: '3' }, deleted: false, changedAt: null }]);
  });

  it('counts a deleted row that comes back as it was as unchanged: no conflict, no write', () => {
    const plan = mergePage(
      c1Page(upsert('C1', { code: 'C1', name: 'Acme', phone: '1' }), { base: { code: 'C1', name: 'Acme', phone: '1' }, baseDeleted: true, hub: { code: 'C1', name: 'Acme', phone: '1' }, record: { deleted: true } }),
      ctx,
    );
    expect(plan.records).toEqual([]);
    expect(plan.conflicts).toEqual([]);
    expect(plan.bases).toEqual([]);
    expect(plan.stats).toMatchObject({ unchanged: 1, autoResolved: 0 });
    expect(plan.done).toEqual(['C1']);
  });

  it('a delete and a later upsert of one golden record in the same page: the record stays deleted', () => {
    const plan = mergePage(
      page({
        items: new Map([del('C1'), upsert('C2', { code: 'C2', name: 'Acme', phone: '5' })]),
        xref: linkedTo(['C1', 'cus_1'], ['C2', 'cus_1']),
        bases: new Map([base('C1', { code: 'C1', phone: '1' }), base('C2', { code: 'C2', name: 'Acme', phone: '1' })]),
        records: new Map([['cus_1', hubRecord('cus_1', { code: 'C1', name: 'Acme', phone: '1' })]]),
      }),
      ctx,
    );
    expect(plan.records.map((w) => [w.gid, w.deleted, [...w.changed]])).toEqual([['cus_1', true, ['_deleted']]]);
    expect(plan.conflicts.map((c) => [c.conflict.field, c.conflict.winner, c.conflict.values.erp])).toEqual([['_deleted', 'hub', '{"code":"C2","name":"Acme","phone":"5"}']]);
  });
});

describe('new keys, new records and what counts as unchanged', () => {
  const decision = (d: Partial<LinkDecision>): LinkDecision => ({ gid: 'cus_1', isNew: false, rule: 'code', ...d });

  it('counts a key linked to an existing record as linked and reports an invalid credit code', () => {
    const plan = mergePage(
      page({
        items: new Map([upsert('C1', { code: 'C1', name: 'Acme', phone: '1' })]),
        decisions: new Map([['C1', decision({ invalidCode: '91X' })]]),
        records: new Map([['cus_1', hubRecord('cus_1', { code: 'C1', name: 'Acme', phone: '1' })]]),
      }),
      ctx,
    );
    expect(plan.links).toEqual([{ entity: 'Customer', source: 'erp', sourceKey: 'C1', gid: 'cus_1', rule: 'code' }]);
    expect(plan.stats).toMatchObject({ linked: 1, created: 0, mergeCandidates: 0, unchanged: 1 });
    expect(plan.candidates).toEqual([]);
    expect(plan.warnings).toEqual([{ sourceKey: 'C1', message: 'invalid credit code 91X' }]);
    // Same values on both sides: nothing to write to the golden record.
    expect(plan.records).toEqual([]);
    expect(plan.bases).toEqual([{ sourceKey: 'C1', values: { code: 'C1', name: 'Acme', phone: '1' }, deleted: false, changedAt: null }]);
  });

  it('records no warning for a key without an invalid credit code', () => {
    const plan = mergePage(
      page({ items: new Map([upsert('C1', { code: 'C1', name: 'Acme', phone: '1' })]), decisions: new Map([['C1', decision({ gid: 'cus_new', isNew: true, rule: null })]]) }),
      ctx,
    );
    expect(plan.warnings).toEqual([]);
    expect(plan.stats).toMatchObject({ linked: 0, created: 1 });
  });

  it('creates a new record with its null fields, and one even when the source maps no model field', () => {
    const newKey = { items: new Map([upsert('C1', { code: null, name: null, phone: null })]), decisions: new Map([['C1', decision({ gid: 'cus_new', isNew: true, rule: null })]]) };
    expect(mergePage(page(newKey), ctx).records.map((w) => [w.gid, w.current, [...w.changed].sort()])).toEqual([['cus_new', null, ['code', 'name', 'phone']]]);
    expect(mergePage(page(newKey), { ...ctx, fields: [] }).records.map((w) => [w.gid, w.current, [...w.changed]])).toEqual([['cus_new', null, ['_created']]]);
  });

  it('does not count an item that raised a conflict as unchanged, and stamps changes with the page clock when the source gave no time', () => {
    const plan = mergePage(
      c1Page(upsert('C1', { code: 'C1', name: 'Beta', phone: '3' }), { base: { code: 'C1', name: 'Acme', phone: '1' }, hub: { code: 'C1', name: 'Acme', phone: '2' }, provenance: new Map([['cus_1', { changedAt: { phone: T1 }, source: { phone: 'crm' } }]]) }),
      ctx,
    );
    expect(plan.stats).toMatchObject({ unchanged: 0, conflicts: 1 });
    expect(plan.conflicts.map((c) => [c.conflict.field, c.conflict.status])).toEqual([['phone', 'open']]);
    expect(plan.records).toHaveLength(1);
    expect(plan.records[0].changedAt).toEqual({ phone: T1, name: ctx.now });
    expect(plan.records[0].provenance).toEqual({ phone: 'crm', name: 'erp' });
    const only = mergePage(
      c1Page(upsert('C1', { code: 'C1', name: 'Acme', phone: '3' }), { base: { code: 'C1', name: 'Acme', phone: '1' }, hub: { code: 'C1', name: 'Acme', phone: '2' } }),
      ctx,
    );
    expect(only.stats).toMatchObject({ unchanged: 0, conflicts: 1 });
    expect(only.records).toEqual([]);
  });

  it("decides 'newest' against the record's last update when the hub has no change time for the field", () => {
    const newest: PageContext = { ...ctx, policies: { default: 'newest', fields: {}, clockSkewSeconds: 5 } };
    const run = (updatedAt: string) =>
      mergePage(
        c1Page(upsert('C1', { code: 'C1', name: 'Acme', phone: '3' }, T1), { base: { code: 'C1', name: 'Acme', phone: '1' }, hub: { code: 'C1', name: 'Acme', phone: '2' }, record: { updatedAt } }),
        newest,
      );
    expect(run('2024-05-02T00:00:00.000Z').conflicts[0].conflict).toMatchObject({ field: 'phone', winner: 'hub' });
    expect(run('2024-04-30T00:00:00.000Z').conflicts[0].conflict).toMatchObject({ field: 'phone', winner: 'erp' });
  });

  it('merges a second key linked to a record the same page created against the first key’s values', () => {
    const plan = mergePage(
      page({
        items: new Map([upsert('C1', { code: 'C1', name: 'Acme', phone: '1' }), upsert('C2', { code: 'C1', name: 'Acme', phone: '2' })]),
        decisions: new Map([
          ['C1', decision({ gid: 'cus_new', isNew: true, rule: null })],
          ['C2', decision({ gid: 'cus_new', isNew: false, rule: 'code' })],
        ]),
      }),
      ctx,
    );
    expect(plan.records.map((w) => [w.gid, w.values])).toEqual([['cus_new', { code: 'C1', name: 'Acme', phone: '1' }]]);
    expect(plan.conflicts.map((c) => [c.conflict.field, c.conflict.values])).toEqual([['phone', { hub: '1', erp: '2' }]]);
  });

  it('works on the surviving record when a key points at one merged into another', () => {
    const survivor = hubRecord('cus_1', { code: 'C1', name: 'Acme', phone: '1' });
    const plan = mergePage(
      page({
        items: new Map([upsert('C1', { code: 'C1', name: 'Acme', phone: '5' }), upsert('C2', { code: 'C1', name: 'Acme Ltd', phone: '1' })]),
        xref: linkedTo(['C1', 'cus_1'], ['C2', 'cus_2']),
        bases: new Map([base('C1', { code: 'C1', name: 'Acme', phone: '1' }), base('C2', { code: 'C1', name: 'Acme', phone: '1' })]),
        records: new Map([
          ['cus_1', survivor],
          ['cus_2', survivor],
        ]),
      }),
      ctx,
    );
    expect(plan.records.map((w) => [w.gid, w.values, [...w.changed].sort()])).toEqual([['cus_1', { code: 'C1', name: 'Acme Ltd', phone: '5' }, ['name', 'phone']]]);
  });
});

describe('a one-sided change to a field with an open conflict', () => {
  // Each open conflict names two values, as one raised by a merge does.
  const open = (fields: string[]) => new Map([['cus_1', new Map(fields.map((field, i) => [field, { id: i + 1, field, values: { hub: 'Acme', oa: 'Gamma' } }]))]]);
  const run = (openFields: string[], hubPhone = '1') =>
    mergePage(
      page({
        items: new Map([upsert('C1', { code: 'C1', name: 'Beta', phone: '3' })]),
        xref: linkedTo(['C1', 'cus_1']),
        bases: new Map([base('C1', { code: 'C1', name: 'Acme', phone: '1' })]),
        records: new Map([['cus_1', hubRecord('cus_1', { code: 'C1', name: 'Acme', phone: hubPhone })]]),
        open: open(openFields),
      }),
      { ...ctx, policies: { default: 'manual', fields: { name: 'hub' }, clockSkewSeconds: 5 } },
    );

  it('is taken and added to the open conflict as one of the values to choose from', () => {
    const plan = run(['name']);
    expect(plan.records[0].values).toMatchObject({ name: 'Beta', phone: '3' });
    expect(plan.conflicts).toEqual([
      {
        gid: 'cus_1',
        conflict: {
          field: 'name',
          base: undefined,
          values: { hub: 'Beta', erp: 'Beta' },
          rule: 'hub',
          winner: null,
          status: 'open',
          reason: 'name changed in erp to "Beta" while this conflict was open; the hub took it (it had not changed since erp last synced), so it is one of the values to choose from',
        },
      },
    ]);
    // Folded into the open conflict, not a new one: not counted again.
    expect(plan.stats).toMatchObject({ conflicts: 0, autoResolved: 0 });
  });

  it('adds nothing for a field without an open conflict, nor twice for a field this change conflicts on', () => {
    expect(run([]).conflicts).toEqual([]);
    const plan = run(['phone'], '2');
    expect(plan.conflicts.map((c) => [c.conflict.field, c.conflict.values])).toEqual([['phone', { hub: '2', erp: '3' }]]);
  });
});

describe('an open conflict whose sides come to hold one value', () => {
  const conflictOn = (values: Record<string, string>) => new Map([['cus_1', new Map([['name', { id: 1, field: 'name', values }]])]]);
  const run = (openValues: Record<string, string>, erpBase: string, erpNow: string, hubName: string) =>
    mergePage(
      page({
        items: new Map([upsert('C1', { code: 'C1', name: erpNow, phone: '1' })]),
        xref: linkedTo(['C1', 'cus_1']),
        bases: new Map([base('C1', { code: 'C1', name: erpBase, phone: '1' })]),
        records: new Map([['cus_1', hubRecord('cus_1', { code: 'C1', name: hubName, phone: '1' })]]),
        open: conflictOn(openValues),
      }),
      ctx,
    );

  it('is closed as agreed when the hub takes a one-sided change equal to every other side, its values kept as they competed', () => {
    // The hub's Acme against OA's Beta; ERP (base Acme) moves to Beta too.
    const plan = run({ hub: 'Acme', oa: 'Beta' }, 'Acme', 'Beta', 'Acme');
    expect(plan.records[0].values.name).toBe('Beta');
    expect(plan.conflicts).toEqual([
      {
        gid: 'cus_1',
        conflict: {
          field: 'name',
          base: undefined,
          values: { erp: 'Beta', hub: 'Acme', oa: 'Beta' },
          rule: 'manual',
          winner: 'erp',
          status: 'agreed',
          value: 'Beta',
          reason: 'name changed in erp to "Beta" while this conflict was open; the hub took it (it had not changed since erp last synced); every side now holds "Beta", so nothing is left to choose: closed as agreed',
        },
      },
    ]);
    expect(plan.stats).toMatchObject({ conflicts: 0, autoResolved: 0 });
  });

  it("is closed as agreed when the side named in it comes round to the hub's value", () => {
    // The hub's Acme against ERP's Zed; ERP (base Zed) moves to Acme: the hub changes nothing.
    const plan = run({ hub: 'Acme', erp: 'Zed' }, 'Zed', 'Acme', 'Acme');
    expect(plan.records).toEqual([]);
    expect(plan.conflicts.map((c) => c.conflict)).toMatchObject([{ field: 'name', values: { hub: 'Acme', erp: 'Zed' }, winner: 'erp', status: 'agreed', value: 'Acme' }]);
  });

  it("stays open, showing the side's new value, while another side still differs", () => {
    const plan = run({ hub: 'Acme', erp: 'Zed', oa: 'Gamma' }, 'Zed', 'Acme', 'Acme');
    expect(plan.conflicts.map((c) => [c.conflict.status, c.conflict.values, c.conflict.reason])).toEqual([
      ['open', { erp: 'Acme' }, 'name changed in erp to "Acme", the hub\'s value, while this conflict was open; the value erp held before is no longer one to choose from'],
    ]);
  });

  // Two rows of this source for one record (a record merged from two of its customers), in one page.
  const runTwoRows = (openValues: Record<string, string>) =>
    mergePage(
      page({
        items: new Map([upsert('C1', { code: 'C1', name: 'Acme', phone: '1' }), upsert('C2', { code: 'C1', name: 'Acme', phone: '1' })]),
        xref: linkedTo(['C1', 'cus_1'], ['C2', 'cus_1']),
        bases: new Map([base('C1', { code: 'C1', name: 'Zed', phone: '1' }), base('C2', { code: 'C1', name: 'Zed', phone: '1' })]),
        records: new Map([['cus_1', hubRecord('cus_1', { code: 'C1', name: 'Acme', phone: '1' })]]),
        open: conflictOn(openValues),
      }),
      ctx,
    );

  it('is closed once in a page: a second row of the same record that comes round finds it closed', () => {
    const plan = runTwoRows({ hub: 'Acme', erp: 'Zed' });
    expect(plan.conflicts.map((c) => [c.conflict.status, c.conflict.value])).toEqual([['agreed', 'Acme']]);
  });

  it('shows a side once in a page: a second row that comes round finds the side already moved', () => {
    const plan = runTwoRows({ hub: 'Acme', erp: 'Zed', oa: 'Gamma' });
    expect(plan.conflicts.map((c) => [c.conflict.status, c.conflict.values])).toEqual([['open', { erp: 'Acme' }]]);
  });

  it('is left alone by a source whose value did not move, or that is not named in it', () => {
    // ERP still holds its base Zed (the conflict's value for it): nothing to fold.
    expect(run({ hub: 'Acme', erp: 'Zed' }, 'Zed', 'Zed', 'Acme').conflicts).toEqual([]);
    // ERP moved to the hub's value but is not a side of the conflict: it shows nothing new.
    expect(run({ hub: 'Acme', oa: 'Gamma' }, 'Zed', 'Acme', 'Acme').conflicts).toEqual([]);
  });
});

describe('movedFromBase', () => {
  it.each([
    [{ phone: '1' }, { phone: '1' }, false],
    [{ phone: '2' }, { phone: '1' }, true],
    [{ phone: null }, {}, false],
    [{}, {}, false],
    [{ phone: '1' }, {}, true],
    [{}, { phone: '1' }, true],
    [{ status: 'X' }, { status: 'Y' }, false],
  ])('%j against the base %j: %s', (record, b, moved) => expect(movedFromBase(record as never, b as never, ['code', 'phone'])).toBe(moved));
});
