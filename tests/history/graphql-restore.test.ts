/**
 * Restore through GraphQL, over a SQLite hub with PostgreSQL and MariaDB sources: only a steward
 * (or an admin) may restore, within its row rules and never a hidden field; a whole run needs a
 * role that sees every customer; each restore is a new, audited version.
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
    { key: 'stewb-key-0123456789', user: 'bob', role: 'steward' },
  ],
  { admin: ADMIN_ROLE, sales: '{ customers: own, write: true }', steward: '{ customers: own, steward: true, hide: [Customer.creditLimit] }' },
);
const ADMIN = { 'x-api-key': 'admin-key-0123456789' };
const ALICE = { 'x-api-key': 'alice-key-0123456789' };
const STEWARD = { 'x-api-key': 'stewb-key-0123456789' };

const UPDATE = `mutation($id: ID!, $input: CustomerUpdateInput!) { updateCustomer(id: $id, input: $input) { id } }`;
const RESTORE = `mutation($id: ID!, $version: Int!, $fields: [String!]) {
  restoreRecord(entity: "Customer", id: $id, version: $version, fields: $fields) { recordId version fields undeleted }
}`;
const UNDELETE = `mutation($id: ID!) { undeleteRecord(entity: "Customer", id: $id) { version undeleted recreateIn } }`;
const RUN = `mutation($run: ID!) { restoreRun(run: $run, dryRun: true) { dryRun records { recordId } } }`;
const code = (r: { errors?: { extensions?: Record<string, unknown> }[] }) => r.errors?.[0]?.extensions?.code;

const available = (await requireDialect('postgres')) && (await requireDialect('mysql'));

describe.runIf(available)('restore in GraphQL', () => {
  const f = useOpened(() => createFixture({ customers: 4, server: AUTH, dialects: { erp: 'postgres', finance: 'mysql', oa: 'sqlite' } }));

  it('lets a steward restore its own customers, never a hidden field; others are refused', async () => {
    const id = customerGid(2); // bob's
    expect((await f.gql(UPDATE, { id, input: { name: 'Wrong Name', creditLimit: '5' } }, ADMIN)).errors).toBeUndefined();

    // Deny by default: a role that may write but is no steward.
    expect(code(await f.gql(RESTORE, { id: customerGid(1), version: 1 }, ALICE))).toBe('FORBIDDEN');
    // The steward's row rule does not reach alice's customer.
    expect(code(await f.gql(RESTORE, { id: customerGid(1), version: 1 }, STEWARD))).toBe('NOT_FOUND');
    // A field hidden from the steward cannot be restored by it...
    expect(code(await f.gql(RESTORE, { id, version: 1, fields: ['creditLimit'] }, STEWARD))).toBe('FORBIDDEN');
    // ...and a whole-record restore leaves it as it is.
    const res = await f.gql(RESTORE, { id, version: 1 }, STEWARD);
    expect(res.errors).toBeUndefined();
    expect(res.data.restoreRecord).toEqual({ recordId: id, version: 3, fields: ['name'], undeleted: false });
    const rec = (await f.app.hub.get('Customer', id))!;
    expect(rec.values).toMatchObject({ name: 'Customer 0002 Ltd', creditLimit: '5' });
    const [latest] = await f.app.hub.store.history.list(f.app.hub.knex, 'Customer', id, { first: 1 });
    expect(latest).toMatchObject({ actor: 'bob (steward)', action: 'restore', changes: [{ field: 'name', before: 'Wrong Name', after: 'Customer 0002 Ltd' }] });
    expect(await f.app.hub.knex('crm_audit').where({ gid: id, action: 'restore', actor: 'bob (steward)' })).toHaveLength(1);

    // A whole run changes every owner's records: not for a steward limited to its own.
    expect(code(await f.gql(RUN, { run: '1' }, STEWARD))).toBe('FORBIDDEN');
    expect(code(await f.gql(RUN, { run: '999' }, ADMIN))).toBe('NOT_FOUND');
  });

  it('undeletes a deleted record the steward sees', async () => {
    const id = customerGid(4); // bob's
    expect((await f.gql(`mutation($id: ID!) { deleteCustomer(id: $id) { deleted } }`, { id }, ADMIN)).errors).toBeUndefined();
    expect(code(await f.gql(UNDELETE, { id }, ALICE))).toBe('FORBIDDEN');
    const res = await f.gql(UNDELETE, { id }, STEWARD);
    expect(res.errors).toBeUndefined();
    expect(res.data.undeleteRecord).toMatchObject({ undeleted: true });
    const read = await f.gql(`query($id: ID!) { customer(id: $id) { id name } }`, { id }, STEWARD);
    expect(read.data.customer).toMatchObject({ id });
  });
});
