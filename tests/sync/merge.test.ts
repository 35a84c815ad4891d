import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decide, mergeRecord, mergeSource, type HubSide, type MergePolicies, type SourceSide } from '../../sync/three-way-merge.js';
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

describe('mergeSource: what the result carries', () => {
  it('counts a source never synced before as changed, even when it agrees with the hub (its base is new)', () => {
    const r = mergeSource(hub({ phone: '1' }), side('erp', null, { phone: '1' }), manual);
    expect(r.sourceChanged).toBe(true);
    expect(r.changes).toEqual([]);
    expect(r.base).toEqual({ phone: '1' });
  });

  it('merges a field the base does not hold yet (newly mapped) two-way, and counts the source as changed', () => {
    const empty = mergeSource(hub({ phone: '1', city: 'A' }), side('erp', { phone: '1' }, { phone: '1', city: null }), manual);
    // The source has nothing there: the hub keeps its value and the push fills the source.
    expect(empty.values).toEqual({ phone: '1', city: 'A' });
    expect(empty.conflicts).toEqual([]);
    expect(empty.sourceChanged).toBe(true);
    expect(empty.base).toEqual({ phone: '1', city: null });

    const differs = mergeSource(hub({ phone: '1', city: 'A' }), side('erp', { phone: '1' }, { phone: '1', city: 'B' }), manual);
    expect(differs.sourceChanged).toBe(true);
    expect(differs.conflicts).toHaveLength(1);
    expect(differs.conflicts[0]).toMatchObject({ field: 'city', base: undefined, values: { hub: 'A', erp: 'B' } });
    expect(differs.conflicts[0].reason).toContain('(never synced before: no base)');
  });

  it('creates a record new to the hub with every mapped field, NULLs included', () => {
    const r = mergeSource({ exists: false, values: {}, changedAt: {}, provenance: {} }, side('erp', null, { name: 'A', phone: null }, { changedAt: '2024-01-01T00:00:00.000Z' }), manual);
    expect(r.values).toEqual({ name: 'A', phone: null });
    expect(Object.keys(r.values)).toEqual(['name', 'phone']);
    expect(r.changes.map((c) => [c.field, c.to])).toEqual([
      ['name', 'A'],
      ['phone', null],
    ]);
    expect(r.hub.changedAt).toEqual({ name: '2024-01-01T00:00:00.000Z', phone: '2024-01-01T00:00:00.000Z' });
  });

  it('lists changes and conflicts in field-name order, whatever order the source maps them in', () => {
    const r = mergeSource(
      hub({ phone: '1', city: 'A', email: 'a@x.cn', name: 'N' }),
      side('erp', { phone: '1', city: 'A', email: 'a@x.cn', name: 'N' }, { phone: '2', city: 'B', email: 'b@x.cn', name: 'M' }, { fields: ['phone', 'name', 'email', 'city'] }),
      manual,
    );
    expect(r.changes.map((c) => c.field)).toEqual(['city', 'email', 'name', 'phone']);
  });

  it('keeps the hub’s change times and provenance of the fields it does not touch, for the next source in the fold', () => {
    const h = hub({ phone: '1', city: 'A' }, { changedAt: { phone: '2024-01-01T00:00:00.000Z', city: '2024-01-01T00:00:00.000Z' }, provenance: { phone: 'finance', city: 'finance' } });
    const r = mergeSource(h, side('erp', { phone: '1', city: 'A' }, { phone: '1', city: 'B' }, { changedAt: '2024-02-01T00:00:00.000Z' }), manual);
    expect(r.hub.changedAt).toEqual({ phone: '2024-01-01T00:00:00.000Z', city: '2024-02-01T00:00:00.000Z' });
    expect(r.hub.provenance).toEqual({ phone: 'finance', city: 'erp' });
  });

  it('a later source decides against the hub’s own change time and provenance, not a blank', () => {
    const h = hub({ phone: '1', city: 'A' }, { changedAt: { phone: '2024-01-01T00:00:00.000Z' }, provenance: { phone: 'finance' } });
    const policies: MergePolicies = { default: 'newest', fields: { phone: 'source:finance' }, clockSkewSeconds: 5 };
    // erp touches another field only; oa then changes phone, which came from the authority.
    const r = mergeRecord(
      h,
      [side('erp', { phone: '1', city: 'A' }, { phone: '1', city: 'B' }), side('oa', { phone: '0' }, { phone: '2' })],
      policies,
    );
    expect(r.conflicts).toHaveLength(1);
    expect(r.conflicts[0]).toMatchObject({ field: 'phone', winner: 'hub', status: 'auto', hubSource: 'finance' });
    expect(r.values.phone).toBe('1');
  });
});

describe('decide: the reason given and the tolerance edge', () => {
  const input = (extra: Partial<Parameters<typeof decide>[2]> = {}) => ({
    source: 'erp',
    sourceValue: '2',
    hubValue: '9',
    base: '1' as string | undefined,
    sourceAt: '2024-01-01T00:01:00.000Z',
    hubAt: '2024-01-01T00:00:00.000Z',
    hubSource: undefined as string | undefined,
    ...extra,
  });
  const policy = (p: MergePolicies['default'], skew = 5): MergePolicies => ({ default: p, fields: {}, clockSkewSeconds: skew });

  it('says what changed where, and since which base', () => {
    expect(decide('phone', policy('manual'), input()).reason).toBe(
      'phone changed in erp to "2" and in the hub to "9" since the last sync (base "1"); policy manual: the hub value is kept until someone resolves it',
    );
    expect(decide('phone', policy('manual'), input({ base: undefined, hubSource: 'oa' })).reason).toBe(
      'phone changed in erp to "2" and in the hub (value from oa) to "9" (never synced before: no base); policy manual: the hub value is kept until someone resolves it',
    );
  });

  it('names the policy that decided', () => {
    expect(decide('phone', policy('hub'), input()).reason).toMatch(/; policy hub: the hub value wins$/);
    expect(decide('phone', policy('source:erp'), input()).reason).toMatch(/; erp is the authority for phone$/);
    expect(decide('phone', policy('source:oa'), input({ hubSource: 'oa' })).reason).toMatch(/; oa is the authority for phone and the hub value came from it$/);
    expect(decide('phone', policy('source:oa'), input()).reason).toMatch(/; oa is the authority for phone but neither value came from it; kept the hub value, needs a person$/);
    expect(decide('phone', policy('newest'), input()).reason).toMatch(/; policy newest: erp changed it later \(2024-01-01T00:01:00.000Z > 2024-01-01T00:00:00.000Z\)$/);
    expect(decide('phone', policy('newest'), input({ sourceAt: '2023-12-31T00:00:00.000Z' })).reason).toMatch(
      /; policy newest: the hub changed it later \(2024-01-01T00:00:00.000Z > 2023-12-31T00:00:00.000Z\)$/,
    );
  });

  it('under newest, says which side does not know when it changed', () => {
    const noSource = decide('phone', policy('newest'), input({ sourceAt: null }));
    expect(noSource).toMatchObject({ winner: null, status: 'open' });
    expect(noSource.reason).toMatch(/; policy newest: erp does not say when it changed; kept the hub value, needs a person$/);
    const noHub = decide('phone', policy('newest'), input({ hubAt: null }));
    expect(noHub).toMatchObject({ winner: null, status: 'open' });
    expect(noHub.reason).toMatch(/; policy newest: the hub does not say when it changed; kept the hub value, needs a person$/);
    expect(decide('phone', policy('newest'), input({ sourceAt: 'not a time' })).winner).toBeNull();
  });

  it('refuses to guess when the two changes are exactly the tolerance apart, and says how far apart they are', () => {
    const edge = decide('phone', policy('newest', 60), input());
    expect(edge).toMatchObject({ winner: null, status: 'open' });
    expect(edge.reason).toMatch(/; policy newest: the two changes are 60s apart, within the 60s clock-skew tolerance; kept the hub value, needs a person$/);
    expect(decide('phone', policy('newest', 59), input()).winner).toBe('erp');
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
