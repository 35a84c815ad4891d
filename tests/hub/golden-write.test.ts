/**
 * The golden record write of the hub store, on SQLite and PostgreSQL hubs: model checks, versions
 * and sequence numbers, provenance and audit, the lost race, and one statement text per table
 * whatever the number of records.
 */
import { describe, expect, it } from 'vitest';
import { CrmlinkError } from '../../core/errors.js';
import { StaleRecordError, type HubChange } from '../../hub/golden.js';
import { useTestHub } from '../support/hub.js';

describe.each(['sqlite', 'postgres'] as const)('golden record write on a %s hub', (dialect) => {
  const env = useTestHub(dialect, 'golden_write');

  it('inserts and updates with new versions and sequence numbers, provenance, audit and one change event', async (t) => {
    const hub = env.hub;
    if (!hub) return t.skip();
    const events: HubChange[] = [];
    hub.store.onChange = (c) => events.push(c);
    const meta = { actor: 'alice', action: 'test' };
    const provenance = { name: { source: 'erp', changedAt: '2024-01-01T00:00:00.000Z' } };
    const [a] = await hub.store.transaction((trx) =>
      hub.store.golden.write(trx, 'Customer', [{ gid: 'cus_w1', current: null, patch: { name: 'Acme', creditLimit: '1000.50' }, provenance, audit: { after: 'created' } }], meta),
    );
    expect(a).toMatchObject({ version: 1, created: true, values: { name: 'Acme', creditLimit: '1000.5', phone: null } });
    const current = (await hub.get('Customer', 'cus_w1'))!;
    const [b] = await hub.store.transaction((trx) => hub.store.golden.write(trx, 'Customer', [{ gid: 'cus_w1', current, patch: { phone: '010-1' }, provenance: { name: null } }], meta));
    expect(b).toMatchObject({ version: 2, created: false, changed: ['phone'], values: { name: 'Acme', phone: '010-1' } });
    expect(b.seq).toBeGreaterThan(a.seq);
    expect(await hub.get('Customer', 'cus_w1')).toMatchObject({ version: 2, values: { name: 'Acme', phone: '010-1', creditLimit: '1000.5' } });
    expect(await hub.store.provenance.ofRecord(hub.knex, 'Customer', 'cus_w1')).toEqual({});
    expect(await hub.knex('crm_audit').where({ gid: 'cus_w1' }).select('actor', 'action')).toEqual([{ actor: 'alice', action: 'test' }]);
    expect(events.map((e) => e.records.map((r) => r.id))).toEqual([['cus_w1'], ['cus_w1']]);
    hub.store.onChange = null;
  });

  it('refuses a value the model refuses, naming the field, and writes nothing of the call', async (t) => {
    const hub = env.hub;
    if (!hub) return t.skip();
    const write = hub.store.transaction((trx) =>
      hub.store.golden.write(
        trx,
        'Customer',
        [
          { gid: 'cus_ok', current: null, patch: { name: 'Fine' } },
          { gid: 'cus_bad', current: null, patch: { name: 'Bad', status: 'GONE' } },
        ],
        { actor: 'a', action: 'test' },
      ),
    );
    await expect(write).rejects.toMatchObject({ code: 'VALIDATION_FAILED', context: { entity: 'Customer', key: 'cus_bad', field: 'status' } });
    await expect(write).rejects.toThrow('Customer.status of cus_bad: "GONE" is not one of ACTIVE, INACTIVE, BLOCKED, PROSPECT');
    expect(await hub.get('Customer', 'cus_ok')).toBeNull();
    await expect(hub.store.transaction((trx) => hub.store.golden.write(trx, 'Customer', [{ gid: 'x', current: null, patch: { nope: 1 } }], { actor: 'a', action: 'test' }))).rejects.toBeInstanceOf(CrmlinkError);
  });

  it('survivors: each merged id to the record that stands for it now, through merges of merges; ids not merged absent', async (t) => {
    const hub = env.hub;
    if (!hub) return t.skip();
    const meta = { actor: 'a', action: 'test' };
    const rec = (gid: string) => ({ gid, current: null, patch: { name: gid } });
    await hub.store.transaction((trx) => hub.store.golden.write(trx, 'Customer', ['cus_s', 'cus_m1', 'cus_m2', 'cus_alone'].map(rec), meta));
    // m2 merged into m1, then m1 into s.
    for (const [from, into] of [['cus_m2', 'cus_m1'], ['cus_m1', 'cus_s']]) {
      const current = (await hub.get('Customer', from))!;
      await hub.store.transaction((trx) => hub.store.golden.write(trx, 'Customer', [{ gid: from, current, patch: {}, mergedInto: into }], meta));
    }
    const got = await hub.store.golden.survivors(hub.knex, 'Customer', ['cus_m2', 'cus_m1', 'cus_s', 'cus_alone', 'cus_none']);
    expect(Object.fromEntries(got)).toEqual({ cus_m2: 'cus_s', cus_m1: 'cus_s' });
  });

  it('a record changed after it was read is a StaleRecordError', async (t) => {
    const hub = env.hub;
    if (!hub) return t.skip();
    const meta = { actor: 'a', action: 'test' };
    await hub.store.transaction((trx) => hub.store.golden.write(trx, 'Customer', [{ gid: 'cus_race', current: null, patch: { name: 'Race' } }], meta));
    const read = (await hub.get('Customer', 'cus_race'))!;
    await hub.store.transaction((trx) => hub.store.golden.write(trx, 'Customer', [{ gid: 'cus_race', current: read, patch: { city: 'A' } }], meta));
    const late = hub.store.transaction((trx) => hub.store.golden.write(trx, 'Customer', [{ gid: 'cus_race', current: read, patch: { city: 'B' } }], meta));
    await expect(late).rejects.toBeInstanceOf(StaleRecordError);
    expect((await hub.get('Customer', 'cus_race'))?.values.city).toBe('A');
  });

  it('uses one statement text per table and column set, whatever the number of records', async (t) => {
    const hub = env.hub;
    if (!hub) return t.skip();
    const texts: string[] = [];
    const listen = (q: { sql: string; prepared?: boolean }) => void (q.prepared ? texts.push(q.sql) : undefined);
    hub.knex.on('query', listen);
    const page = (n: number, from: number) => Array.from({ length: n }, (_, i) => ({ gid: `cus_p${from + i}`, current: null, patch: { name: `P${from + i}` } }));
    try {
      await hub.store.transaction((trx) => hub.store.golden.write(trx, 'Customer', page(3, 0), { actor: 'a', action: 'test' }));
      await hub.store.transaction((trx) => hub.store.golden.write(trx, 'Customer', page(40, 100), { actor: 'a', action: 'test' }));
    } finally {
      hub.knex.off('query', listen);
    }
    const inserts = texts.filter((s) => s.startsWith('INSERT INTO "crm_customer"'));
    expect(inserts).toHaveLength(2);
    expect(inserts[1]).toBe(inserts[0]);
    expect(await hub.knex('crm_customer').where('id', 'like', 'cus_p%').count({ n: '*' })).toEqual([{ n: dialect === 'postgres' ? '43' : 43 }]);
  });
});
