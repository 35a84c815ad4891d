import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mergeRecord, mergeSource, type HubSide, type MergePolicies, type SourceSide } from '../../sync/three-way-merge.js';
import type { CrmRecord } from '../../model/entities.js';

const manual: MergePolicies = { default: 'manual', fields: {}, clockSkewSeconds: 5 };

function hub(values: CrmRecord, extra: Partial<HubSide> = {}): HubSide {
  return { exists: true, values, changedAt: {}, provenance: {}, ...extra };
}

function side(source: string, base: CrmRecord | null, values: CrmRecord, extra: Partial<SourceSide> = {}): SourceSide {
  return { source, base, values, fields: Object.keys(values), ...extra };
}

describe('mergeSource', () => {
  it('takes a field changed in the source only', () => {
    const r = mergeSource(hub({ phone: '1', city: 'A' }), side('erp', { phone: '1', city: 'A' }, { phone: '2', city: 'A' }), manual);
    expect(r.values).toEqual({ phone: '2', city: 'A' });
    expect(r.changes.map((c) => c.field)).toEqual(['phone']);
    expect(r.conflicts).toEqual([]);
    expect(r.base).toEqual({ phone: '2', city: 'A' });
    expect(r.sourceChanged).toBe(true);
  });

  it('takes a field cleared in the source: a change to NULL is a change', () => {
    const r = mergeSource(hub({ phone: 'x', city: 'A' }), side('erp', { phone: 'x', city: 'A' }, { phone: null, city: 'A' }), manual);
    expect(r.values).toEqual({ phone: null, city: 'A' });
    expect(r.changes).toEqual([{ field: 'phone', from: 'x', to: null, source: 'erp', changedAt: null }]);
    expect(r.conflicts).toEqual([]);
    expect(r.base).toEqual({ phone: null, city: 'A' });
    expect(r.sourceChanged).toBe(true);
  });

  it('keeps a field changed in the hub only (the push carries it out)', () => {
    const r = mergeSource(hub({ phone: '9', city: 'A' }), side('erp', { phone: '1', city: 'A' }, { phone: '1', city: 'A' }), manual);
    expect(r.values).toEqual({ phone: '9', city: 'A' });
    expect(r.changes).toEqual([]);
    expect(r.sourceChanged).toBe(false);
  });

  it('merges edits of different fields on the two sides', () => {
    const r = mergeSource(hub({ phone: '9', city: 'A' }), side('erp', { phone: '1', city: 'A' }, { phone: '1', city: 'B' }), manual);
    expect(r.values).toEqual({ phone: '9', city: 'B' });
    expect(r.conflicts).toEqual([]);
  });

  it('agrees when both sides changed a field to the same value', () => {
    const r = mergeSource(hub({ creditLimit: '100' }), side('erp', { creditLimit: '50' }, { creditLimit: '100' }), manual);
    expect(r.conflicts).toEqual([]);
    expect(r.changes).toEqual([]);
  });

  it('raises an open conflict under manual and keeps the hub value', () => {
    const r = mergeSource(hub({ phone: '9' }, { provenance: { phone: 'finance' } }), side('erp', { phone: '1' }, { phone: '2' }), manual);
    expect(r.values.phone).toBe('9');
    expect(r.conflicts).toHaveLength(1);
    expect(r.conflicts[0]).toMatchObject({
      field: 'phone',
      base: '1',
      values: { hub: '9', erp: '2' },
      rule: 'manual',
      winner: null,
      status: 'open',
      hubSource: 'finance',
    });
    expect(r.conflicts[0].reason).toMatch(/phone changed in erp to "2" and in the hub \(value from finance\) to "9"/);
    // The base follows the source so the same conflict is not raised again next run.
    expect(r.base).toEqual({ phone: '2' });
  });

  it('follows the authority under source:<name>', () => {
    const policies: MergePolicies = { default: 'manual', fields: { creditLimit: 'source:finance' }, clockSkewSeconds: 5 };
    const fromFinance = mergeSource(hub({ creditLimit: '100' }), side('finance', { creditLimit: '50' }, { creditLimit: '200' }), policies);
    expect(fromFinance.values.creditLimit).toBe('200');
    expect(fromFinance.conflicts[0]).toMatchObject({ winner: 'finance', status: 'auto', rule: 'source:finance' });

    const fromErp = mergeSource(
      hub({ creditLimit: '200' }, { provenance: { creditLimit: 'finance' } }),
      side('erp', { creditLimit: '50' }, { creditLimit: '300' }),
      policies,
    );
    expect(fromErp.values.creditLimit).toBe('200');
    expect(fromErp.conflicts[0]).toMatchObject({ winner: 'hub', status: 'auto' });

    // Neither side is the authority: no guess.
    const neither = mergeSource(hub({ creditLimit: '200' }, { provenance: { creditLimit: 'oa' } }), side('erp', { creditLimit: '50' }, { creditLimit: '300' }), policies);
    expect(neither.conflicts[0]).toMatchObject({ winner: null, status: 'open' });
  });

  it('picks the newest change but refuses to guess within the clock-skew tolerance', () => {
    const policies: MergePolicies = { default: 'newest', fields: {}, clockSkewSeconds: 5 };
    const h = hub({ phone: '9' }, { changedAt: { phone: '2024-01-01T00:00:00.000Z' } });
    const later = mergeSource(h, side('erp', { phone: '1' }, { phone: '2' }, { changedAt: '2024-01-01T00:01:00.000Z' }), policies);
    expect(later.values.phone).toBe('2');
    expect(later.conflicts[0]).toMatchObject({ winner: 'erp', status: 'auto', rule: 'newest' });

    const earlier = mergeSource(h, side('erp', { phone: '1' }, { phone: '2' }, { changedAt: new Date('2023-12-31T23:00:00Z') }), policies);
    expect(earlier.values.phone).toBe('9');
    expect(earlier.conflicts[0]).toMatchObject({ winner: 'hub' });

    const close = mergeSource(h, side('erp', { phone: '1' }, { phone: '2' }, { changedAt: '2024-01-01T00:00:03.000Z' }), policies);
    expect(close.values.phone).toBe('9');
    expect(close.conflicts[0]).toMatchObject({ winner: null, status: 'open' });
    expect(close.conflicts[0].reason).toMatch(/clock-skew tolerance/);

    const unknown = mergeSource(h, side('erp', { phone: '1' }, { phone: '2' }), policies);
    expect(unknown.conflicts[0]).toMatchObject({ winner: null, status: 'open' });
  });

  it('uses the hub policy', () => {
    const r = mergeSource(hub({ phone: '9' }), side('erp', { phone: '1' }, { phone: '2' }), { default: 'hub', fields: {}, clockSkewSeconds: 0 });
    expect(r.values.phone).toBe('9');
    expect(r.conflicts[0]).toMatchObject({ winner: 'hub', status: 'auto', rule: 'hub' });
  });

  it('merges two-way without a base: fills gaps, conflicts on differences', () => {
    const r = mergeSource(
      hub({ name: 'ACME', phone: null, city: 'A', email: 'x@y.cn' }),
      side('finance', null, { name: 'ACME', phone: '123', city: 'B', email: null }),
      manual,
    );
    expect(r.values).toEqual({ name: 'ACME', phone: '123', city: 'A', email: 'x@y.cn' });
    expect(r.conflicts.map((c) => c.field)).toEqual(['city']);
    expect(r.conflicts[0].base).toBeUndefined();
  });

  it('takes everything for a record new to the hub', () => {
    const r = mergeSource({ exists: false, values: {}, changedAt: {}, provenance: {} }, side('erp', null, { name: 'A', phone: '1' }), manual);
    expect(r.values).toEqual({ name: 'A', phone: '1' });
    expect(r.hub.provenance).toEqual({ name: 'erp', phone: 'erp' });
  });

  it('compares values with sameValue (canonical forms: the engine normalises decimals before merging)', () => {
    const r = mergeSource(hub({ creditLimit: '1500', active: true }), side('erp', { creditLimit: '1500', active: true }, { creditLimit: '1500', active: true }), manual);
    expect(r.sourceChanged).toBe(false);
    expect(r.changes).toEqual([]);
  });

  it('ignores fields the source does not map', () => {
    const r = mergeSource(hub({ phone: '1', city: 'A' }), side('erp', { phone: '1' }, { phone: '2', city: 'Z' }, { fields: ['phone'] }), manual);
    expect(r.values).toEqual({ phone: '2', city: 'A' });
    expect(r.base).toEqual({ phone: '2' });
  });
});

describe('mergeSource properties', () => {
  it('never loses a source edit silently: taken, agreed, or named in a conflict', () => {
    const value = fc.constantFrom<string | null>('a', 'b', 'c', null);
    const rec: fc.Arbitrary<CrmRecord> = fc.record({ f1: value, f2: value, f3: value });
    const policy = fc.constantFrom('manual', 'hub', 'newest', 'source:erp', 'source:oa') as fc.Arbitrary<MergePolicies['default']>;
    fc.assert(
      fc.property(rec, fc.option(rec, { nil: null }), rec, policy, (h, base, values, pol) => {
        const r = mergeSource(hub(h), side('erp', base, values), { default: pol, fields: {}, clockSkewSeconds: 5 });
        for (const f of Object.keys(values)) {
          const v = values[f];
          const moved = base === null || base[f] !== v;
          if (!moved || r.values[f] === v) continue;
          const named = r.conflicts.some((c) => c.field === f && c.values.erp === v);
          // Without a base, a NULL in the source is "nothing there" and the hub's value fills it.
          expect(named || (base === null && v === null)).toBe(true);
        }
        // A field the hub changed and the source did not keeps the hub's value.
        if (base)
          for (const f of Object.keys(values)) if (base[f] === values[f]) expect(r.values[f]).toBe(h[f]);
      }),
      { numRuns: 500 },
    );
  });
});

describe('mergeRecord', () => {
  it('folds sources in name order whatever order they come in', () => {
    const h = hub({ phone: '0', city: 'X' });
    const erp = side('erp', { phone: '0', city: 'X' }, { phone: '1', city: 'X' });
    const fin = side('finance', { phone: '0', city: 'X' }, { phone: '2', city: 'Y' });
    const a = mergeRecord(h, [erp, fin], manual);
    const b = mergeRecord(h, [fin, erp], manual);
    expect(a).toEqual(b);
    expect(a.values).toEqual({ phone: '1', city: 'Y' });
    expect(a.conflicts).toHaveLength(1);
    expect(a.conflicts[0]).toMatchObject({ field: 'phone', source: 'finance', values: { hub: '1', finance: '2' }, hubSource: 'erp' });
  });

  it('is deterministic for any order of any sides (property)', () => {
    const value = fc.constantFrom<string | null>('a', 'b', 'c', null);
    const rec = fc.record({ f1: value, f2: value, f3: value });
    const policy = fc.constantFrom('manual', 'hub', 'newest', 'source:s1', 'source:s2') as fc.Arbitrary<MergePolicies['default']>;
    const time = fc.option(fc.integer({ min: 0, max: 100 }).map((s) => new Date(Date.UTC(2024, 0, 1, 0, 0, s)).toISOString()), { nil: null });
    const sideArb = (name: string) =>
      fc.record({ base: fc.option(rec, { nil: null }), values: rec, at: time }).map((s) => side(name, s.base, s.values, { changedAt: s.at }));
    fc.assert(
      fc.property(rec, fc.array(fc.constantFrom('s1', 's2', 's3'), { minLength: 1, maxLength: 3 }), policy, fc.nat(5), (h, names, pol, skew) => {
        const unique = [...new Set(names)];
        return fc.assert(
          fc.property(fc.tuple(...unique.map(sideArb)), (sides) => {
            const policies: MergePolicies = { default: pol, fields: {}, clockSkewSeconds: skew };
            const forward = mergeRecord(hub(h), sides, policies);
            const backward = mergeRecord(hub(h), [...sides].reverse(), policies);
            expect(backward).toEqual(forward);
          }),
          { numRuns: 20 },
        );
      }),
      { numRuns: 50 },
    );
  });
});
