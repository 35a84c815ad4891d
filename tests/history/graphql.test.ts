/**
 * `history(entity, id)` in GraphQL, over a SQLite hub with PostgreSQL and MariaDB sources: every
 * version of a golden record, paged newest first, under the viewer's row rules (deleted records
 * too) and field masks (a hidden field's values and changes never show).
 */
import { describe, expect, it } from 'vitest';
import { requireDialect } from '../support/databases.js';
import { createFixture, customerGid } from '../graphql/fixture.js';
import { useOpened } from '../support/lifecycle.js';
import { ADMIN_ROLE, apiKeyAuth } from '../support/auth.js';

const AUTH = apiKeyAuth(
  [
    { key: 'admin-key-0123456789', user: 'root', role: 'admin' },
    { key: 'alice-key-0123456789', user: 'alice', role: 'sales' },
    { key: 'bob-key-000123456789', user: 'bob', role: 'sales' },
  ],
  { admin: ADMIN_ROLE, sales: '{ customers: own, write: true, hide: [Customer.creditLimit] }' },
);
const ADMIN = { 'x-api-key': 'admin-key-0123456789' };
const ALICE = { 'x-api-key': 'alice-key-0123456789' };
const BOB = { 'x-api-key': 'bob-key-000123456789' };

const HISTORY = `query($id: ID!, $first: Int, $after: String) {
  history(entity: "Customer", id: $id, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { id version actor action run source deleted changes { field before after } }
  }
}`;

const available = (await requireDialect('postgres')) && (await requireDialect('mysql'));

describe.runIf(available)('history in GraphQL', () => {
  const f = useOpened(() => createFixture({ customers: 4, server: AUTH, dialects: { erp: 'postgres', finance: 'mysql', oa: 'sqlite' } }));

  it('lists every version with who changed what, pages, and keeps hidden fields hidden', async () => {
    const id = customerGid(1); // alice's
    const upd = `mutation($id: ID!, $input: CustomerUpdateInput!) { updateCustomer(id: $id, input: $input) { id } }`;
    expect((await f.gql(upd, { id, input: { name: 'Acme One', creditLimit: '900' } }, ADMIN)).errors).toBeUndefined();
    expect((await f.gql(upd, { id, input: { phone: '021-555' } }, ALICE)).errors).toBeUndefined();

    const admin = await f.gql(HISTORY, { id }, ADMIN);
    expect(admin.errors).toBeUndefined();
    expect(admin.data.history.totalCount).toBe(2);
    expect(JSON.stringify(admin.data)).toContain('900');
    const [latest, first] = admin.data.history.nodes;
    expect(latest).toMatchObject({ version: 3, actor: 'alice (sales)', action: 'update', run: null, deleted: false, changes: [{ field: 'phone', after: '021-555' }] });
    expect(first.changes).toEqual(
      expect.arrayContaining([
        { field: 'name', before: 'Customer 0001 Ltd', after: 'Acme One' },
        { field: 'creditLimit', before: '1000.5', after: '900' },
      ]),
    );

    // alice may see the customer but not its credit limit: not in any version.
    const alice = await f.gql(HISTORY, { id, first: 1 }, ALICE);
    expect(alice.errors).toBeUndefined();
    expect(alice.data.history.nodes.map((n: { version: number }) => n.version)).toEqual([3]);
    expect(alice.data.history.pageInfo.hasNextPage).toBe(true);
    const page2 = await f.gql(HISTORY, { id, first: 1, after: alice.data.history.pageInfo.endCursor }, ALICE);
    expect(page2.data.history.nodes.map((n: { version: number }) => n.version)).toEqual([2]);
    expect(page2.data.history.pageInfo.hasNextPage).toBe(false);
    expect(page2.data.history.nodes[0].changes.map((c: { field: string }) => c.field)).toEqual(['name']);
    expect(JSON.stringify(page2.data)).not.toContain('900');

    // The same as a field of the record.
    const field = await f.gql(`query($id: ID!) { customer(id: $id) { history(first: 5) { totalCount nodes { version changes { field } } } } }`, { id }, ALICE);
    expect(field.errors).toBeUndefined();
    expect(field.data.customer.history).toEqual({ totalCount: 2, nodes: [{ version: 3, changes: [{ field: 'phone' }] }, { version: 2, changes: [{ field: 'name' }] }] });

    // bob's row rule does not reach alice's customer: as if it did not exist.
    const bob = await f.gql(HISTORY, { id }, BOB);
    expect(bob.errors?.[0].extensions?.code).toBe('NOT_FOUND');
  });

  it('shows the history of a deleted record to those who saw it', async () => {
    const id = customerGid(3); // alice's
    expect((await f.gql(`mutation($id: ID!) { deleteCustomer(id: $id) { deleted } }`, { id }, ADMIN)).errors).toBeUndefined();
    const alice = await f.gql(HISTORY, { id }, ALICE);
    expect(alice.errors).toBeUndefined();
    expect(alice.data.history.nodes[0]).toMatchObject({ action: 'delete', deleted: true, actor: 'root (admin)' });
    expect((await f.gql(HISTORY, { id }, BOB)).errors?.[0].extensions?.code).toBe('NOT_FOUND');
  });
});
