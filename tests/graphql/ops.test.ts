/** Operator fields: sources, conflicts listed and resolved through sync/, admin-only access. */
import { beforeAll, describe, expect, test } from 'vitest';
import { createFixture, customerGid, SERVER_AUTH } from './fixture.js';
import { useOpened } from '../support/lifecycle.js';

const ADMIN = { 'x-api-key': 'admin-key-0123456789' };
const ALICE = { 'x-api-key': 'alice-key-0123456789' };

const f = useOpened(() => createFixture({ customers: 3, server: SERVER_AUTH }));
beforeAll(async () => {
  const now = new Date().toISOString();
  await f.app.hub.knex('crm_conflict').insert([1, 2, 3].map((i) => ({
    job: 'customers',
    entity: 'Customer',
    gid: customerGid(i),
    field: 'phone',
    base: JSON.stringify('021-1'),
    values: JSON.stringify({ hub: `021-${i}0`, erp: `021-${i}1` }),
    rule: 'manual',
    reason: 'both sides changed phone',
    status: 'open',
    created_at: now,
  })));
});

describe('ops', () => {
  test('sources with health', async () => {
    const r = await f.gql(`{ sources { name dialect kind health { ok } } }`, {}, ADMIN);
    expect(r.errors).toBeUndefined();
    expect(r.data.sources).toEqual([
      { name: 'erp', dialect: 'sqlite', kind: 'ERP', health: { ok: true } },
      { name: 'finance', dialect: 'sqlite', kind: 'FINANCE', health: { ok: true } },
      { name: 'oa', dialect: 'sqlite', kind: 'OA', health: { ok: true } },
    ]);
  });

  test('conflicts page by cursor; a record with an open conflict says CONFLICT', async () => {
    const p1 = await f.gql(`{ conflicts(first: 2) { totalCount nodes { id recordId field values { side value } } pageInfo { hasNextPage endCursor } } }`, {}, ADMIN);
    expect(p1.data.conflicts.totalCount).toBe(3);
    expect(p1.data.conflicts.nodes[0]).toMatchObject({ recordId: customerGid(1), field: 'phone', values: [{ side: 'hub', value: '021-10' }, { side: 'erp', value: '021-11' }] });
    const p2 = await f.gql(`query($a: String) { conflicts(first: 2, after: $a) { nodes { recordId } pageInfo { hasNextPage } } }`, { a: p1.data.conflicts.pageInfo.endCursor }, ADMIN);
    expect(p2.data.conflicts.nodes).toEqual([{ recordId: customerGid(3) }]);
    const c = await f.gql(`{ customer(id: "${customerGid(1)}") { syncStatus } }`, {}, ADMIN);
    expect(c.data.customer.syncStatus).toBe('CONFLICT');
  });

  test('resolveConflict delegates to sync and closes the conflict', async () => {
    // A conflict of its own, so the other tests' conflicts stay as they are.
    await f.app.hub.knex('crm_conflict').insert({
      job: 'customers',
      entity: 'Customer',
      gid: customerGid(2),
      field: 'email',
      base: JSON.stringify('old@x.cn'),
      values: JSON.stringify({ hub: 'hub@x.cn', erp: 'erp@x.cn' }),
      rule: 'manual',
      reason: 'both sides changed email',
      status: 'open',
      created_at: new Date().toISOString(),
    });
    const list = await f.gql(`{ conflicts(first: 100) { totalCount nodes { id field } } }`, {}, ADMIN);
    const open = list.data.conflicts.totalCount as number;
    const id = list.data.conflicts.nodes.find((n: { field: string }) => n.field === 'email').id;
    const r = await f.gql(`mutation($id: ID!) { resolveConflict(id: $id, keep: "erp") { status resolvedBy } }`, { id }, ADMIN);
    expect(r.errors).toBeUndefined();
    expect(r.data.resolveConflict.status).toBe('RESOLVED');
    const c = await f.gql(`{ customer(id: "${customerGid(2)}") { email } conflicts { totalCount } }`, {}, ADMIN);
    expect(c.data.customer.email).toBe('erp@x.cn');
    expect(c.data.conflicts.totalCount).toBe(open - 1);
  });

  test('operator fields need an admin role', async () => {
    const r = await f.gql(`{ conflicts { totalCount } }`, {}, ALICE);
    expect(r.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const run = await f.gql(`mutation { runSyncJob(job: "nope") { status } }`, {}, ADMIN);
    expect(run.errors?.[0]?.message).toMatch(/unknown sync job "nope"/);
  });
});
