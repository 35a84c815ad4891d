/**
 * The hub store's statements over pages of every size, on SQLite and PostgreSQL hubs: an insert
 * larger than one multi-row statement (and not a multiple of it) writes every row once, an upsert
 * that meets its key twice in one page keeps the last row, and inserted ids come back in the
 * rows' order.
 */
import { describe, expect, it } from 'vitest';
import { useTestHub } from '../support/hub.js';

describe.each(['sqlite', 'postgres'] as const)('hub statements on a %s hub', (dialect) => {
  const env = useTestHub(dialect, 'hub_statements');

  it('writes 234 bases in one call, the last row of a repeated key winning', async (t) => {
    const hub = env.hub;
    if (!hub) return t.skip();
    const writes = Array.from({ length: 234 }, (_, i) => ({ sourceKey: `k${i}`, values: { name: `n${i}` }, deleted: false, changedAt: null }));
    await hub.store.transaction((trx) => hub.store.bases.save(trx, 'Customer', 'erp', writes));
    const rows = await hub.store.transaction((trx) => hub.store.bases.load(trx, 'Customer', 'erp', writes.map((w) => w.sourceKey)));
    expect(rows.size).toBe(234);
    expect(rows.get('k233')?.values).toEqual({ name: 'n233' });
    await hub.store.transaction((trx) =>
      hub.store.provenance.apply(trx, 'Customer', [
        ...Array.from({ length: 123 }, (_, i) => ({ gid: `g${i}`, fields: { name: { source: 'erp', changedAt: '2024-01-01T00:00:00.000Z' } } })),
        { gid: 'g5', fields: { name: { source: 'finance', changedAt: '2024-02-01T00:00:00.000Z' } } },
      ]),
    );
    const prov = await hub.store.provenance.load(hub.knex, 'Customer', Array.from({ length: 123 }, (_, i) => `g${i}`));
    expect(prov.size).toBe(123);
    expect(prov.get('g5')?.source).toEqual({ name: 'finance' });
  });

  it('returns the ids of recorded insert intents in the order given, and drops them by id', async (t) => {
    const hub = env.hub;
    if (!hub) return t.skip();
    const intents = Array.from({ length: 137 }, (_, i) => ({ gid: `gid${i}`, values: { i }, row: { i } }));
    const ids = await hub.store.transaction((trx) => hub.store.journal.recordIntents(trx, 'job', 'Customer', 'fin', intents));
    expect(ids).toHaveLength(137);
    const stored = await hub.store.journal.intents(hub.knex, 'job', 'fin');
    const gidOf = new Map(stored.map((s) => [s.id, s.gid]));
    expect(ids.map((id) => gidOf.get(id))).toEqual(intents.map((x) => x.gid));
    await hub.store.transaction((trx) => hub.store.journal.dropIntents(trx, ids.slice(0, 100)));
    expect((await hub.store.journal.intents(hub.knex, 'job', 'fin')).map((s) => s.gid)).toEqual(intents.slice(100).map((x) => x.gid));
  });
});
