/**
 * A hidden field cannot be worked out from what the role sees: the version of a federated record
 * is a keyed MAC (hashing candidate values gives nothing to compare with), and a derived field is
 * hidden with any field it is computed from (receivableBalance with Invoice.balance). Optimistic
 * concurrency still works with the keyed version.
 */
import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { stableStringify } from '../../model/values.js';
import { useSecurityServer } from './support.js';
import { ADMIN_ROLE, apiKeyAuth, CLERK_HOLDER, ROOT_HOLDER, signIn } from '../support/auth.js';

const ROOT = signIn(ROOT_HOLDER);
const CLERK = signIn(CLERK_HOLDER);

const s = useSecurityServer({
  customers: 2,
  server: apiKeyAuth([ROOT_HOLDER, CLERK_HOLDER], { admin: ADMIN_ROLE, clerk: '{ customers: all, write: true, hide: [SalesOrder.totalAmount, Invoice.balance] }' }),
});

/** The version as a plain hash of the record's values would be (what main computed). */
function plainVersion(values: Record<string, unknown>): number {
  return createHash('sha256').update(stableStringify(values)).digest().readUInt32BE(0) & 0x7fffffff;
}

describe('version', () => {
  test('hashing candidate values of a hidden field never gives the version the role sees', async () => {
    const r = await s.gql('{ salesOrders(first: 1, orderBy: [{ field: code }]) { nodes { id code version totalAmount } } }', {}, CLERK);
    const order = r.data.salesOrders.nodes[0];
    expect(order.totalAmount).toBeNull();
    // What the attacker would hash: every value of the record, the hidden one set to each candidate.
    const row = await s.fixture.knex.erp('so_order').where({ order_no: order.code }).first();
    const values = s.fixture.app.sources.mapping('SalesOrder', 'erp').toRecord(row);
    expect(values.totalAmount).toBe('110.25');
    const candidates = Array.from({ length: 2000 }, (_, i) => (i / 4).toString());
    candidates.push(String(values.totalAmount));
    for (const c of candidates) expect(plainVersion({ ...values, totalAmount: c })).not.toBe(order.version);
  });

  test('the version changes when the record does, and is the same for every role', async () => {
    const q = '{ salesOrders(first: 1, orderBy: [{ field: code }]) { nodes { id version } } }';
    const before = (await s.gql(q, {}, CLERK)).data.salesOrders.nodes[0];
    expect((await s.gql(q, {}, ROOT)).data.salesOrders.nodes[0].version).toBe(before.version);
    const u = await s.gql(`mutation { updateSalesOrder(id: "${before.id}", expectedVersion: ${before.version}, input: { salesperson: "carol" }) { version } }`, {}, CLERK);
    expect(u.errors).toBeUndefined();
    expect(u.data.updateSalesOrder.version).not.toBe(before.version);
    // The version the clerk held is now stale: optimistic concurrency holds.
    const stale = await s.gql(`mutation { updateSalesOrder(id: "${before.id}", expectedVersion: ${before.version}, input: { salesperson: "dave" }) { version } }`, {}, CLERK);
    expect(stale.errors?.[0]?.extensions?.code).toBe('VERSION_CONFLICT');
    expect((await s.fixture.knex.erp('so_order').where({ order_no: 'SO0001-1' }).first()).salesperson).toBe('carol');
  });

  test('the key is the hub’s own, kept across restarts (one row, 32 random bytes)', async () => {
    const rows = await s.fixture.app.hub.knex('crm_secret').select('name', 'value');
    expect(rows).toHaveLength(1);
    expect(Buffer.from(rows[0].value, 'base64')).toHaveLength(32);
    expect(s.fixture.app.hub.versionKey.equals(Buffer.from(rows[0].value, 'base64'))).toBe(true);
  });
});

describe('derived fields', () => {
  test('receivableBalance is hidden from a role that cannot see Invoice.balance', async () => {
    const q = '{ customer(id: "cus_0001") { receivableBalance invoices { nodes { balance } } } }';
    const clerk = await s.gql(q, {}, CLERK);
    expect(clerk.errors).toBeUndefined();
    expect(clerk.data.customer.invoices.nodes.map((n: { balance: unknown }) => n.balance)).toEqual([null, null]);
    expect(clerk.data.customer.receivableBalance).toBeNull();
    expect((await s.gql(q, {}, ROOT)).data.customer.receivableBalance).toBe('100.5');
  });

  test('and cannot be reached through an aggregate of the field it is computed from either', async () => {
    const r = await s.gql('{ invoices { aggregate { sum { balance } } } }', {}, CLERK);
    // Refused or masked: either way no figure comes back.
    expect(r.errors?.[0]?.extensions?.code ?? 'masked').toMatch(/FORBIDDEN|masked/);
    expect(r.data?.invoices?.aggregate?.sum?.balance ?? null).toBeNull();
  });
});
