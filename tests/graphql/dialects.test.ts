/**
 * The same API over real PostgreSQL (ERP) and MariaDB/MySQL (finance) sources, with the OA on
 * SQLite: cross-source nesting, filters, paging both ways over a nullable sort column (PostgreSQL
 * sorts NULLs last, the others first), aggregates, constant statement counts, injection and a
 * write-through to PostgreSQL.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { createFixture, customerGid, type Fixture, type GqlResponse } from './fixture.js';
import { requireDialect } from '../support/databases.js';
import { useOpened } from '../support/lifecycle.js';
import { walkPages } from '../support/graphql.js';

const available = (await requireDialect('postgres')) && (await requireDialect('mysql'));

/** A fresh three-engine fixture for the enclosing describe. */
function engineFixture(): { get: () => Fixture; ok: (query: string, variables?: Record<string, unknown>) => Promise<GqlResponse> } {
  const f = useOpened(() => createFixture({ customers: 8, dialects: { erp: 'postgres', finance: 'mysql', oa: 'sqlite' } }));
  beforeAll(async () => {
    // Some orders without a currency, to page over NULLs.
    await f.knex.erp('so_order').whereIn('order_no', ['SO0002-1', 'SO0005-2', 'SO0007-3']).update({ currency: null });
  });
  return {
    get: () => f,
    async ok(query, variables) {
      const r = await f.gql(query, variables);
      expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
      return r;
    },
  };
}

const Q360 = `{ customers(first: 50) { nodes { id receivableBalance salesOrders(first: 10) { nodes { code totalAmount lines { nodes { amount } } } } invoices { nodes { code balance } } approvals { nodes { title } } } } }`;

describe.skipIf(!available)('PostgreSQL ERP + MariaDB finance + SQLite OA', () => {
  const fx = engineFixture();
  const ok = fx.ok;

  test('nested cross-source customer view', async () => {
    const r = await ok(`{ customer(id: "${customerGid(2)}") { receivableBalance salesOrders(orderBy: [{ field: totalAmount, direction: DESC }]) { nodes { code totalAmount orderDate lines { aggregate { sum { amount } } } } }
      invoices(orderBy: [{ field: dueDate }]) { nodes { code dueDate balance status } } approvals { nodes { submittedAt } } } }`);
    const c = r.data.customer;
    expect(c.receivableBalance).toBe('100.5');
    expect(c.salesOrders.nodes.map((o: { code: string }) => o.code)).toEqual(['SO0002-3', 'SO0002-2', 'SO0002-1']);
    expect(c.salesOrders.nodes[0]).toMatchObject({ totalAmount: '230.25', orderDate: '2024-03-12', lines: { aggregate: { sum: { amount: '30' } } } });
    expect(c.invoices.nodes).toEqual([
      { code: 'INV0002-2', dueDate: '2024-02-01', balance: '0', status: 'PAID' },
      { code: 'INV0002-1', dueDate: '2024-03-01', balance: '100.5', status: 'PARTIAL' },
    ]);
    expect(c.approvals.nodes[0].submittedAt).toBe('2024-01-03T08:00:00.000Z');
  });

  test('filters pushed down to PostgreSQL and MariaDB', async () => {
    const r = await ok(`{ salesOrders(where: { or: [{ code: { startsWith: "SO0003" } }, { totalAmount: { gte: "830" } }], currency: { ne: "USD" } }, orderBy: [{ field: code }]) { nodes { code } }
      invoices(where: { balance: { gt: "0" }, code: { in: ["INV0001-1", "INV0001-2", "INV0004-1"] } }) { nodes { code } } }`);
    expect(r.data.salesOrders.nodes.map((o: { code: string }) => o.code)).toEqual(['SO0003-1', 'SO0003-2', 'SO0003-3', 'SO0008-3']);
    expect(r.data.invoices.nodes.map((o: { code: string }) => o.code)).toEqual(['INV0001-1', 'INV0004-1']);
  });

  test('paging both ways over a nullable column on PostgreSQL', async () => {
    for (const direction of ['ASC', 'DESC']) {
      const order = `orderBy: [{ field: currency, direction: ${direction} }]`;
      const all = (await ok(`{ salesOrders(first: 100, ${order}) { nodes { code } } }`)).data.salesOrders.nodes.map((n: { code: string }) => n.code);
      expect(all).toHaveLength(24);
      const codes = (c: { nodes: { code: string }[] }) => c.nodes.map((n) => n.code);
      const fwd = await walkPages('forward', async (after) => {
        const c = (await ok(`query($a: String) { salesOrders(first: 5, after: $a, ${order}) { nodes { code } pageInfo { hasNextPage endCursor } } }`, { a: after })).data.salesOrders;
        return { codes: codes(c), pageInfo: c.pageInfo };
      });
      expect(fwd).toEqual(all);
      const back = await walkPages('backward', async (before) => {
        const c = (await ok(`query($b: String) { salesOrders(last: 4, before: $b, ${order}) { nodes { code } pageInfo { hasPreviousPage startCursor } } }`, { b: before })).data.salesOrders;
        return { codes: codes(c), pageInfo: c.pageInfo };
      });
      expect(back).toEqual(all);
    }
  });

  test('aggregates computed by each engine', async () => {
    const r = await ok(`{ salesOrders(first: 1) { aggregate { count sum { totalAmount } avg { totalAmount } max { orderDate } } } invoices(first: 1) { aggregate { sum { balance amount } min { dueDate } } } }`);
    // orders: sum over i=1..8, j=1..3 of (100i + 10j + 0.25) = 300*36 + 8*60 + 24*0.25
    expect(r.data.salesOrders.aggregate).toEqual({ count: 24, sum: { totalAmount: '11286' }, avg: { totalAmount: '470.25' }, max: { orderDate: '2024-03-18' } });
    expect(r.data.invoices.aggregate).toEqual({ sum: { balance: '804', amount: '2004' }, min: { dueDate: '2024-02-01' } });
  });

  test('injection attempts stay values on every engine', async () => {
    const evil = "x'; DROP TABLE so_order; --";
    const r = await ok(`query($v: String) { salesOrders(where: { code: { eq: $v } }) { nodes { id } } invoices(where: { code: { contains: $v } }) { nodes { id } } }`, { v: evil });
    expect(r.data).toEqual({ salesOrders: { nodes: [] }, invoices: { nodes: [] } });
    expect(await fx.get().knex.erp.schema.hasTable('so_order')).toBe(true);
  });
});

// These change rows (more customers, a new order): a fixture of their own keeps the counts above exact.
describe.skipIf(!available)('PostgreSQL ERP + MariaDB finance + SQLite OA, changing data', () => {
  const fx = engineFixture();
  const ok = fx.ok;

  test('statements do not grow with rows', async () => {
    await ok(Q360);
    const small = await fx.get().countStatements(() => ok(Q360));
    await fx.get().addCustomers(9, 40);
    await ok(Q360);
    const large = await fx.get().countStatements(() => ok(Q360));
    expect(large.total, large.sql.join('\n')).toBe(small.total);
  });

  test('write-through to PostgreSQL', async () => {
    const c = await ok(`mutation { createSalesOrder(input: { code: "SO-PG-1", customerId: "${customerGid(1)}", totalAmount: "12345678901.23", status: DRAFT }) { id totalAmount customer { code } } }`);
    expect(c.data.createSalesOrder).toMatchObject({ totalAmount: '12345678901.23', customer: { code: 'C0001' } });
    const row = await fx.get().knex.erp('so_order').where({ order_no: 'SO-PG-1' }).first();
    expect(row.cust_code).toBe('C0001');
    expect(String(row.total_amount)).toBe('12345678901.23');
  });
});
