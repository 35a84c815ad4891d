/**
 * Compiled execution (server/plugins/use-jit.ts) answers exactly as graphql-js does: the same
 * queries through a server with graphql-jit and one without give the same JSON, errors included;
 * operations graphql-jit cannot run correctly (recursive input variables, introspection,
 * mutations) stay on the standard executor.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { parse } from '../../schema/graphql-runtime.js';
import { createYogaApp, type CrmYoga } from '../../server/yoga-app.js';
import { jitEligible } from '../../server/plugins/use-jit.js';
import { createFixture, customerGid, SERVER_AUTH } from './fixture.js';
import { useOpened } from '../support/lifecycle.js';

const ADMIN = { 'x-api-key': 'admin-key-0123456789' };
const ALICE = { 'x-api-key': 'alice-key-0123456789' };

const f = useOpened(() => createFixture({ customers: 8, server: SERVER_AUTH }));
let plain: CrmYoga;
let jit: CrmYoga;
beforeAll(async () => {
  plain = createYogaApp(f.app, { logger: false, jit: false });
  jit = createYogaApp(f.app, { logger: false, jit: true });
});

async function run(yoga: CrmYoga, query: string, variables: Record<string, unknown>, headers: Record<string, string>) {
  const res = await yoga.fetch('http://x/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, body: await res.text() };
}

const CASES: { name: string; query: string; variables?: Record<string, unknown>; headers?: Record<string, string> }[] = [
  {
    name: 'customer 360',
    query: `{ customers(first: 5) { totalCount nodes { id name creditLimit receivableBalance
      salesOrders(first: 2) { nodes { code orderDate status totalAmount lines { nodes { lineNo productCode quantity amount } } } }
      invoices { nodes { code dueDate amount balance status } } approvals { nodes { title status submittedAt } } } } }`,
  },
  {
    name: 'edges, cursors, pageInfo both ways',
    query: `{ a: customers(first: 3, orderBy: [{ field: name, direction: DESC }]) { edges { cursor node { code } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } }
      b: customers(last: 2) { edges { cursor node { code } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`,
  },
  {
    name: 'fragments, aliases, typename, @skip/@include, interface',
    query: `query($yes: Boolean!, $no: Boolean!) {
      customers(first: 2) { nodes { ...C x: code y: name @include(if: $yes) z: city @skip(if: $yes) ... on Customer { status } } }
      node(id: "${customerGid(2)}") { __typename id ... on Customer { ...C salesOrders(first: 1) @include(if: $no) { totalCount } } } }
      fragment C on Customer { id code version }`,
    variables: { yes: true, no: false },
  },
  {
    name: 'aggregates, refs and to-one across sources',
    query: `{ salesOrders(first: 4, orderBy: [{ field: totalAmount, direction: DESC }]) { aggregate { count sum { totalAmount } min { orderDate } max { totalAmount } }
      nodes { id code customerId customer { code name } lines(first: 1) { totalCount nodes { id orderId order { code } } } } } }`,
  },
  {
    name: 'provenance and sync status',
    query: `{ customer(id: "${customerGid(1)}") { id syncStatus sourceRecords { source key } fieldSources { field source } } }`,
  },
  {
    name: 'inline filters (recursive input written in the document)',
    query: `{ customers(where: { or: [{ code: { eq: "C0001" } }, { and: [{ city: { isNull: true } }, { not: { code: { eq: "C0007" } } }] }] }) { nodes { code } } }`,
  },
  {
    name: 'filter variables of a recursive input type (standard executor)',
    query: `query($w: CustomerWhere) { customers(where: $w) { totalCount nodes { code } } }`,
    variables: { w: { or: [{ code: { eq: 'C0002' } }, { name: { contains: 'O\'Brien' } }] } },
  },
  {
    name: 'row rules and masking for a salesperson',
    query: `{ customers(first: 10) { totalCount nodes { code creditLimit salesOrders(first: 1) { nodes { customer { code creditLimit } } } } } }`,
    headers: ALICE,
  },
  {
    name: 'errors: bad argument, unknown id, hidden field filter',
    query: `{ a: customers(first: -1) { nodes { code } } b: node(id: "nope") { id } }`,
  },
  {
    // A nested connection without where is planned at once (planNestedNow): its refused arguments stay its own field's error.
    name: 'errors: bad argument of a nested connection',
    query: `{ customers(first: 2) { nodes { code salesOrders(first: -1) { nodes { code } } invoices(first: 2) { nodes { code } } } } }`,
  },
  {
    name: 'errors: variables of the wrong type, or missing',
    query: `query($n: Int, $id: ID!) { customers(first: $n) { nodes { code } } customer(id: $id) { id } }`,
    variables: { n: 'abc' },
  },
  {
    name: 'errors: filtering on a hidden field',
    query: `{ customers(where: { creditLimit: { gt: "1" } }) { nodes { code } } }`,
    headers: ALICE,
  },
];

describe('graphql-jit answers as graphql-js does', () => {
  for (const c of CASES) {
    test(c.name, async () => {
      const headers = c.headers ?? ADMIN;
      const a = await run(plain, c.query, c.variables ?? {}, headers);
      const b = await run(jit, c.query, c.variables ?? {}, headers);
      expect(b.status).toBe(a.status);
      expect(JSON.parse(b.body)).toEqual(JSON.parse(a.body));
    });
  }

  test('a field named like a record member reads the field: Customer.updatedAt is the canonical value, not the hub row time', async () => {
    await f.app.hub.knex('crm_customer').where({ id: customerGid(1) }).update({ updatedAt: '2023-03-04T05:06:07.000Z' });
    for (const yoga of [plain, jit]) {
      const r = JSON.parse((await run(yoga, `{ customers(first: 2) { nodes { code updatedAt } } }`, {}, ADMIN)).body);
      expect(r.data.customers.nodes).toEqual([
        { code: 'C0001', updatedAt: '2023-03-04T05:06:07.000Z' },
        { code: 'C0002', updatedAt: null },
      ]);
    }
  });

  test('which operations are compiled', () => {
    const schema = f.yoga.getEnveloped().schema;
    const eligible = (q: string, name?: string) => jitEligible(schema, parse(q), name);
    expect(eligible(`{ customers { nodes { code } } }`)).toBe(true);
    expect(eligible(`query($n: Int) { customers(first: $n) { nodes { code } } }`)).toBe(true);
    expect(eligible(`query($w: CustomerWhere) { customers(where: $w) { nodes { code } } }`)).toBe(false);
    expect(eligible(`query($s: StringFilter) { customers(where: { name: $s }) { nodes { code } } }`)).toBe(true);
    expect(eligible(`{ __schema { types { name } } }`)).toBe(false);
    expect(eligible(`mutation { deleteCustomer(id: "x") { id } }`)).toBe(false);
    expect(eligible(`query A { customers { totalCount } } query B($w: CustomerWhere) { customers(where: $w) { totalCount } }`, 'A')).toBe(true);
    expect(eligible(`query A { customers { totalCount } } query B($w: CustomerWhere) { customers(where: $w) { totalCount } }`, 'B')).toBe(false);
  });
});
