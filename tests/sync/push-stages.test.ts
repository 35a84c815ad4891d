/** The push's planning stage on literals: what a batch of golden records needs written to one source. */
import { describe, expect, it } from 'vitest';
import type { Row } from '../../connectors/driver.js';
import type { HubRecord } from '../../hub/golden.js';
import { fieldsOf } from '../../model/entities.js';
import { planPush, type PushState, type PushTarget } from '../../sync/push/plan.js';

const record = (id: string, values: Record<string, unknown>, deleted = false): HubRecord => ({ id, version: 1, seq: 1, updatedAt: '', deleted, mergedInto: null, values: values as never });
const base = (sourceKey: string, values: Record<string, unknown>, deleted = false) => ({ sourceKey, values: values as never, hash: '', deleted, changedAt: null });

const target = (over: Partial<PushTarget> = {}): PushTarget => ({
  name: 'finance',
  writable: ['code', 'name', 'phone', 'ownerId'],
  canInsert: true,
  canUpdate: true,
  canDelete: true,
  identity: false,
  mapping: {
    key: ['acct'],
    deleteMode: 'hard',
    toRow: (values) => {
      const row: Row = {};
      if ('code' in values) row.acct = values.code;
      if ('name' in values) row.nm = values.name;
      if ('phone' in values) row.tel = values.phone;
      if ('ownerId' in values) row.owner = values.ownerId;
      return row;
    },
    keyRow: (key) => ({ acct: key }),
  },
  ...over,
});
const ctx = { entity: 'Customer' as const, model: new Map(fieldsOf('Customer').map((f) => [f.name, f])) };
const state = (over: Partial<PushState> = {}): PushState => ({ keysByGid: new Map(), bases: new Map(), open: new Map(), refKeys: new Map(), ...over });
/** g2 is linked to finance row B1, g3 to C1. */
const linkedRows = (): Pick<PushState, 'keysByGid' | 'bases'> => ({
  keysByGid: new Map([
    ['g2', ['B1']],
    ['g3', ['C1']],
  ]),
  bases: new Map([
    ['B1', base('B1', { code: 'B1', name: 'Beta', phone: '1' })],
    ['C1', base('C1', { code: 'C1' })],
  ]),
});

describe('push: plan', () => {
  it('inserts new records without their nulls, updates only fields that differ from the base, deletes deleted ones', () => {
    const plan = planPush(
      [record('g1', { code: 'A1', name: 'Acme', phone: null }), record('g2', { code: 'B1', name: 'Beta', phone: '2', ownerId: 'u1' }), record('g3', { code: 'C1' }, true)],
      state(linkedRows()),
      target(),
      ctx,
    );
    expect(plan.inserts).toEqual([{ gid: 'g1', values: { code: 'A1', name: 'Acme' }, hubValues: { code: 'A1', name: 'Acme' }, row: { acct: 'A1', nm: 'Acme' } }]);
    // ownerId is not in the base: a value where the source never had one is written.
    expect(plan.updates.map((u) => [u.gid, u.sourceKey, u.values, u.row])).toEqual([['g2', 'B1', { phone: '2', ownerId: 'u1' }, { tel: '2', owner: 'u1', acct: 'B1' }]]);
    expect(plan.deletes.map((d) => [d.gid, d.sourceKey, d.soft])).toEqual([['g3', 'C1', false]]);
    expect(plan.parks).toEqual([]);
  });

  it('holds back a field with an open conflict, reports deletes it may not make, parks what it cannot write', () => {
    const plan = planPush(
      [record('g2', { code: 'B1', name: 'Beta 2', phone: '9' }), record('g3', { code: 'C1' }, true), record('g4', { name: 'No key' })],
      state({
        ...linkedRows(),
        open: new Map([['g2', new Map([['phone', { id: 1, field: 'phone', values: {} }]])]]),
      }),
      target({ canDelete: false }),
      ctx,
    );
    expect(plan.updates.map((u) => u.values)).toEqual([{ name: 'Beta 2' }]);
    expect(plan.deletes).toEqual([]);
    expect(plan.notAllowed.map((n) => n.sourceKey)).toEqual(['C1']);
    expect(plan.parks).toHaveLength(1);
    expect(plan.parks[0].error.message).toMatch(/cannot insert Customer g4 into finance: key column acct has no value/);
  });

  it('turns refs into the source keys of the referenced records, or parks the record until they are there', () => {
    const contact = { entity: 'Contact' as const, model: new Map(fieldsOf('Contact').map((f) => [f.name, f])) };
    const t = target({ writable: ['name', 'customerId'], identity: true, mapping: { ...target().mapping, toRow: (v) => ({ nm: v.name, cust: v.customerId }) } });
    const refKeys = new Map([['customerId', new Map([['cus_1', 'AR-1']])]]);
    const plan = planPush([record('c1', { name: 'Zhang', customerId: 'cus_1' }), record('c2', { name: 'Li', customerId: 'cus_2' })], state({ refKeys }), t, contact);
    expect(plan.inserts.map((i) => i.row)).toEqual([{ nm: 'Zhang', cust: 'AR-1' }]);
    expect(plan.parks[0].error.message).toMatch(/Contact\.customerId refers to Customer cus_2, which finance does not have yet/);
  });
});
