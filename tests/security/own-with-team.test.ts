/**
 * A salesperson (`customers: own`) who also belongs to a team sees their own customers only: the
 * team is for `team` roles, never a second way in. Alice owns customers 1 and 3 (team east) and
 * here sits in team west, whose customers (2 and 4) are bob's: every read path — lists, node(id),
 * by-id, nested lists and refs, aggregates — must stay on 1 and 3.
 *
 * And a field hidden on a child entity (SalesOrder.totalAmount) stays hidden when aggregated
 * through a nested list under a visible parent (`customers { nodes { salesOrders { aggregate } } }`),
 * not only in the top-level list.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { customerGid } from '../graphql/fixture.js';
import { bobsOrderAndInvoice, useSecurityServer } from './support.js';
import { ADMIN_ROLE, apiKeyAuth, CLERK_HOLDER, ROOT_HOLDER, signIn } from '../support/auth.js';

const ROOT = signIn(ROOT_HOLDER);
const ALICE_WEST = { 'x-api-key': 'alice-key-0123456789' };
const CLERK = signIn(CLERK_HOLDER);

const s = useSecurityServer({
  customers: 4,
  server: apiKeyAuth(
    [ROOT_HOLDER, { key: 'alice-key-0123456789', user: 'alice', role: 'sales', team: 'west' }, CLERK_HOLDER],
    { admin: ADMIN_ROLE, sales: '{ customers: own, write: true }', clerk: '{ customers: all, write: false, hide: [SalesOrder.totalAmount] }' },
  ),
});
let bobsOrder: string;
let bobsInvoice: string;
beforeAll(async () => {
  ({ order: bobsOrder, invoice: bobsInvoice } = await bobsOrderAndInvoice(s, ROOT));
});

const OWN = [customerGid(1), customerGid(3)];
const ids = (nodes: { id: string }[]) => nodes.map((n) => n.id);

describe('an own viewer with a team', () => {
  test('lists hold the own customers and what hangs off them, not the team’s', async () => {
    const r = await s.gql(
      '{ customers { totalCount nodes { id ownerId ownerTeam } } salesOrders(first: 50) { totalCount nodes { customer { ownerId } } } salesOrderLines(first: 50) { totalCount } invoices { totalCount } }',
      {},
      ALICE_WEST,
    );
    expect(r.errors).toBeUndefined();
    expect(r.data.customers.totalCount).toBe(2);
    expect(r.data.customers.nodes).toEqual(OWN.map((id) => ({ id, ownerId: 'alice', ownerTeam: 'east' })));
    expect(r.data.salesOrders.totalCount).toBe(6);
    expect(new Set(r.data.salesOrders.nodes.map((n: { customer: { ownerId: string } }) => n.customer.ownerId))).toEqual(new Set(['alice']));
    expect(r.data.salesOrderLines.totalCount).toBe(12);
    expect(r.data.invoices.totalCount).toBe(4);
  });

  test('node(id), nodes(ids) and by-id reads of a team customer, order and invoice are null', async () => {
    const r = await s.gql(
      `query($c: ID!, $o: ID!, $i: ID!) { node(id: $c) { id } customer(id: $c) { id } nodes(ids: [$c, $o, $i, "${customerGid(1)}"]) { id }
        salesOrder(id: $o) { code } invoice(id: $i) { code } own: customer(id: "${customerGid(3)}") { id } }`,
      { c: customerGid(2), o: bobsOrder, i: bobsInvoice },
      ALICE_WEST,
    );
    expect(r.errors).toBeUndefined();
    expect(r.data).toEqual({ node: null, customer: null, nodes: [null, null, null, { id: customerGid(1) }], salesOrder: null, invoice: null, own: { id: customerGid(3) } });
  });

  test('nested lists and refs stay within the own customers', async () => {
    const r = await s.gql(
      '{ customers { nodes { id salesOrders { totalCount nodes { customer { id } lines { totalCount } } } invoices { totalCount } } } salesOrderLines(first: 50) { nodes { order { customer { id } } } } }',
      {},
      ALICE_WEST,
    );
    expect(r.errors).toBeUndefined();
    expect(ids(r.data.customers.nodes)).toEqual(OWN);
    for (const c of r.data.customers.nodes) {
      expect(c.salesOrders.totalCount).toBe(3);
      expect(c.salesOrders.nodes.every((o: { customer: { id: string }; lines: { totalCount: number } }) => o.customer.id === c.id && o.lines.totalCount === 2)).toBe(true);
      expect(c.invoices.totalCount).toBe(2);
    }
    const lineCustomers = r.data.salesOrderLines.nodes.map((n: { order: { customer: { id: string } } }) => n.order.customer.id);
    expect(lineCustomers).toHaveLength(12);
    expect(new Set(lineCustomers)).toEqual(new Set(OWN));
  });

  test('aggregates count and sum the own records only', async () => {
    const r = await s.gql('{ customers { aggregate { count } } salesOrders { aggregate { count sum { totalAmount } max { totalAmount } } } invoices { aggregate { count } } }', {}, ALICE_WEST);
    expect(r.errors).toBeUndefined();
    expect(r.data.customers.aggregate.count).toBe(2);
    // Orders of customers 1 and 3: i*100 + j*10 + 0.25 for j = 1..3.
    expect(r.data.salesOrders.aggregate).toEqual({ count: 6, sum: { totalAmount: '1321.5' }, max: { totalAmount: '330.25' } });
    expect(r.data.invoices.aggregate.count).toBe(4);
  });
});

describe('a field hidden on a child entity (SalesOrder.totalAmount)', () => {
  const AGG = 'aggregate { count sum { totalAmount } avg { totalAmount } min { totalAmount } max { totalAmount } }';
  const MASKED = { count: 3, sum: { totalAmount: null }, avg: { totalAmount: null }, min: { totalAmount: null }, max: { totalAmount: null } };

  test('is null in every aggregate through a nested list', async () => {
    const r = await s.gql(`{ customers { nodes { id salesOrders { ${AGG} } } } }`, {}, CLERK);
    expect(r.errors).toBeUndefined();
    expect(r.data.customers.nodes).toHaveLength(4);
    for (const c of r.data.customers.nodes) expect(c.salesOrders.aggregate).toEqual(MASKED);
  });

  test('is null through a nested list under a by-id read too', async () => {
    const r = await s.gql(`{ customer(id: "${customerGid(1)}") { salesOrders { ${AGG} nodes { totalAmount } } } }`, {}, CLERK);
    expect(r.errors).toBeUndefined();
    expect(r.data.customer.salesOrders.aggregate).toEqual(MASKED);
    expect(r.data.customer.salesOrders.nodes).toEqual([{ totalAmount: null }, { totalAmount: null }, { totalAmount: null }]);
  });

  test('while a role that may see it gets the sums', async () => {
    const r = await s.gql(`{ customer(id: "${customerGid(1)}") { salesOrders { aggregate { sum { totalAmount } } } } }`, {}, ROOT);
    expect(r.data.customer.salesOrders.aggregate.sum.totalAmount).toBe('360.75');
  });
});
