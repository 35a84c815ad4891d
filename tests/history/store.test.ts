/**
 * Record history in the hub store, on SQLite and PostgreSQL hubs: every golden write keeps one
 * version per record (fields before and after, actor, action, run and source, deleted state), and
 * any kept version's full state can be rebuilt.
 */
import { describe, expect, it } from 'vitest';
import { useTestHub } from '../support/hub.js';

describe.each(['sqlite', 'postgres'] as const)('record history on a %s hub', (dialect) => {
  const env = useTestHub(dialect, 'history_store');

  it('keeps every version with the fields it changed, who wrote it and the deleted state', async (t) => {
    const hub = env.hub;
    if (!hub) return t.skip();
    const gid = 'cus_h1';
    const write = async (patch: Record<string, string | null>, meta: { actor: string; action: string; run?: number; source?: string }, deleted?: boolean) => {
      await hub.store.transaction(async (trx) => {
        const current = await hub.get('Customer', gid, trx);
        await hub.store.golden.write(trx, 'Customer', [{ gid, current, patch, ...(deleted !== undefined ? { deleted } : {}) }], meta);
      });
    };
    await write({ name: 'Acme', phone: '010-1', creditLimit: '100.50' }, { actor: 'sync:customers', action: 'sync', run: 7, source: 'erp' });
    // `name` is sent again unchanged: only the fields whose value moved are history.
    await write({ name: 'Acme', phone: '010-2' }, { actor: 'alice (sales)', action: 'update' });
    await write({ creditLimit: '200' }, { actor: 'bob (admin)', action: 'update' });
    await write({}, { actor: 'bob (admin)', action: 'delete' }, true);

    const versions = await hub.store.history.list(hub.knex, 'Customer', gid, { first: 10 });
    expect(versions.map((v) => [v.version, v.actor, v.action, v.run, v.source, v.deleted])).toEqual([
      [4, 'bob (admin)', 'delete', null, null, true],
      [3, 'bob (admin)', 'update', null, null, false],
      [2, 'alice (sales)', 'update', null, null, false],
      [1, 'sync:customers', 'sync', 7, 'erp', false],
    ]);
    expect(versions[2].changes).toEqual([{ field: 'phone', before: '010-1', after: '010-2' }]);
    expect(versions[1].changes).toEqual([{ field: 'creditLimit', before: '100.5', after: '200' }]);
    expect(versions[3].changes).toEqual([
      { field: 'creditLimit', before: null, after: '100.5' },
      { field: 'name', before: null, after: 'Acme' },
      { field: 'phone', before: null, after: '010-1' },
    ]);
    expect(versions.every((v) => v.at.length > 0)).toBe(true);
    expect(await hub.store.history.count(hub.knex, 'Customer', gid)).toBe(4);
    expect((await hub.store.history.ofRun(hub.knex, 7)).map((v) => v.version)).toEqual([1]);

    const current = (await hub.get('Customer', gid))!;
    const v1 = await hub.store.history.stateAt(hub.knex, 'Customer', current, 1);
    expect(v1).toMatchObject({ version: 1, deleted: false, values: { name: 'Acme', phone: '010-1', creditLimit: '100.5' } });
    const v3 = await hub.store.history.stateAt(hub.knex, 'Customer', current, 3);
    expect(v3).toMatchObject({ deleted: false, values: { phone: '010-2', creditLimit: '200' } });
    await expect(hub.store.history.stateAt(hub.knex, 'Customer', current, 9)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    // Paging: newest first, then on from a version.
    expect((await hub.store.history.list(hub.knex, 'Customer', gid, { first: 2, beforeVersion: 3 })).map((v) => v.version)).toEqual([2, 1]);
  });

  it('keeps nothing of a write whose transaction rolls back', async (t) => {
    const hub = env.hub;
    if (!hub) return t.skip();
    await expect(
      hub.store.transaction(async (trx) => {
        await hub.store.golden.write(trx, 'Customer', [{ gid: 'cus_h2', current: null, patch: { name: 'Gone' } }], { actor: 'a', action: 'create' });
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await hub.store.history.count(hub.knex, 'Customer', 'cus_h2')).toBe(0);
  });
});
