/**
 * Who sees what: API keys and JWTs, row rules per role (own / team / all) on top-level lists,
 * node(), nested and cross-source fields, field masking, depth and cost limits, introspection,
 * and masking of unexpected errors in production.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { SignJWT } from 'jose';
import { createFixture, customerGid, ownerOf, SERVER_AUTH, type Fixture } from './fixture.js';
import { graphiqlEnabled } from '../../server/yoga-app.js';
import { useOpened } from '../support/lifecycle.js';

const ADMIN = { 'x-api-key': 'admin-key-0123456789' };
const ALICE = { 'x-api-key': 'alice-key-0123456789' };
const BOB = { authorization: 'Bearer bob-key-000123456789' };
const EAST = { 'x-api-key': 'east-key-00123456789' };

const f = useOpened(() => createFixture({ customers: 8, server: SERVER_AUTH }));

describe('authentication', () => {
  test('no key or a wrong key is 401 UNAUTHENTICATED', async () => {
    const none = await f.gql(`{ customers { totalCount } }`);
    expect(none.status).toBe(401);
    expect(none.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const wrong = await f.gql(`{ customers { totalCount } }`, {}, { 'x-api-key': 'not-a-key-at-all-xxxx' });
    expect(wrong.status).toBe(401);
    expect(wrong.errors?.[0]?.message).toBe('unknown API key');
  });

  test('an admin key sees everything', async () => {
    const r = await f.gql(`{ customers { totalCount } }`, {}, ADMIN);
    expect(r.data.customers.totalCount).toBe(8);
  });
});

describe('row rules', () => {
  const Q = `{ customers(first: 100) { totalCount nodes { id ownerId } } salesOrders(first: 1000) { totalCount nodes { code customer { ownerId } } }
    invoices(first: 1000) { totalCount } approvals { totalCount } salesOrderLines(first: 1000) { totalCount } }`;

  test('a salesperson sees only own customers, and only their orders, invoices, approvals and lines', async () => {
    const r = await f.gql(Q, {}, ALICE);
    expect(r.errors).toBeUndefined();
    expect(r.data.customers.totalCount).toBe(4);
    expect(r.data.customers.nodes.every((n: { ownerId: string }) => n.ownerId === 'alice')).toBe(true);
    expect(r.data.salesOrders.totalCount).toBe(12);
    expect(r.data.salesOrders.nodes.every((n: { customer: { ownerId: string } }) => n.customer.ownerId === 'alice')).toBe(true);
    expect(r.data.invoices.totalCount).toBe(8);
    expect(r.data.approvals.totalCount).toBe(4);
    expect(r.data.salesOrderLines.totalCount).toBe(24);
  });

  test("another's customer is invisible by node(), by customer(id), by filter and through an order", async () => {
    const bobs = customerGid(2);
    expect(ownerOf(2)).toBe('bob');
    const r = await f.gql(
      `query($id: ID!) { node(id: $id) { id } customer(id: $id) { id } customers(where: { id: { eq: $id } }) { nodes { id } }
        invoices(where: { customerId: { eq: $id } }) { nodes { code } } }`,
      { id: bobs },
      ALICE,
    );
    expect(r.errors).toBeUndefined();
    expect(r.data).toEqual({ node: null, customer: null, customers: { nodes: [] }, invoices: { nodes: [] } });

    const order = (await f.gql(`{ salesOrders(where: { code: { eq: "SO0002-1" } }) { nodes { id } } }`, {}, ADMIN)).data.salesOrders.nodes[0];
    const viaNode = await f.gql(`query($id: ID!) { node(id: $id) { id } salesOrder(id: $id) { code } }`, { id: order.id }, ALICE);
    expect(viaNode.data).toEqual({ node: null, salesOrder: null });
    const lines = await f.gql(`{ salesOrderLines(where: { orderId: { eq: "${order.id}" } }) { nodes { lineNo } } }`, {}, ALICE);
    expect(lines.data.salesOrderLines.nodes).toEqual([]);
    const asBob = await f.gql(`query($id: ID!) { salesOrder(id: $id) { code customer { id } } }`, { id: order.id }, BOB);
    expect(asBob.data.salesOrder).toEqual({ code: 'SO0002-1', customer: { id: bobs } });
  });

  test('a manager sees the customers of the team', async () => {
    const r = await f.gql(`{ customers { nodes { ownerTeam } } salesOrders(first: 100) { totalCount } }`, {}, EAST);
    expect(r.data.customers.nodes).toHaveLength(4);
    expect(r.data.customers.nodes.every((n: { ownerTeam: string }) => n.ownerTeam === 'east')).toBe(true);
    expect(r.data.salesOrders.totalCount).toBe(12);
  });
});

describe('field masking', () => {
  test('a hidden field is null for the role, and cannot be filtered, sorted or aggregated', async () => {
    const r = await f.gql(`{ customers(first: 1) { nodes { name creditLimit fieldSources { field } } aggregate { sum { creditLimit } } } }`, {}, ALICE);
    expect(r.errors).toBeUndefined();
    expect(r.data.customers.nodes[0].name).toBeTruthy();
    expect(r.data.customers.nodes[0].creditLimit).toBeNull();
    expect(r.data.customers.nodes[0].fieldSources.map((x: { field: string }) => x.field)).not.toContain('creditLimit');
    expect(r.data.customers.aggregate.sum.creditLimit).toBeNull();
    const admin = await f.gql(`{ customers(first: 1) { nodes { creditLimit } } }`, {}, ADMIN);
    expect(admin.data.customers.nodes[0].creditLimit).toBe('1000.5');

    const filter = await f.gql(`{ customers(where: { creditLimit: { gt: "5000" } }) { totalCount } }`, {}, ALICE);
    expect(filter.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(filter.errors?.[0]?.message).toMatch(/Customer\.creditLimit/);
    const sort = await f.gql(`{ customers(orderBy: [{ field: creditLimit }]) { totalCount } }`, {}, ALICE);
    expect(sort.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});

describe('limits', () => {
  test('too deep is QUERY_TOO_COMPLEX before anything runs', async () => {
    const deep = `{ customers { nodes { salesOrders { nodes { customer { salesOrders { nodes { lines { nodes { lineNo } } } } } } } } } }`;
    const r = await f.countStatements(async () => {
      // GraphQL over HTTP: a validation failure is 400 with application/graphql-response+json (200 with plain JSON).
      const res = await f.gql(deep, {}, { ...ADMIN, accept: 'application/graphql-response+json' });
      expect(res.status).toBe(400);
      expect(res.errors?.[0]?.extensions?.code).toBe('QUERY_TOO_COMPLEX');
      expect(res.errors?.[0]?.message).toMatch(/levels deep; at most 8/);
    });
    expect(r.total).toBe(0);
  });

  test('the depth limit counts fields with a selection set, through fragments: 8 passes, 9 is refused and named', async () => {
    const eight = `{ customers(first: 1) { nodes { salesOrders(first: 1) { nodes { customer { salesOrders(first: 1) { nodes { lines(first: 1) { totalCount } } } } } } } } }`;
    const ok = await f.gql(eight, {}, ADMIN);
    expect(ok.errors).toBeUndefined();
    // The same eight levels through a fragment and an inline fragment (neither is a level of its own).
    const viaFragments = `{ customers(first: 1) { nodes { ...O } } } fragment O on Customer { salesOrders(first: 1) { nodes { ... on SalesOrder { customer { salesOrders(first: 1) { nodes { lines(first: 1) { totalCount } } } } } } } }`;
    expect((await f.gql(viaFragments, {}, ADMIN)).errors).toBeUndefined();
    const nine = viaFragments.replace('lines(first: 1) { totalCount }', 'lines(first: 1) { nodes { lineNo } }');
    const refused = await f.gql(nine, {}, ADMIN);
    expect(refused.errors?.[0]?.extensions?.code).toBe('QUERY_TOO_COMPLEX');
    expect(refused.errors?.[0]?.message).toBe('the query is 9 levels deep; at most 8 are allowed (server.limits.depth)');
  });

  test('too many records is QUERY_TOO_COMPLEX', async () => {
    const r = await f.gql(`{ customers(first: 1000) { nodes { salesOrders(first: 1000) { nodes { code } } } } }`, {}, ADMIN);
    expect(r.errors?.[0]?.extensions?.code).toBe('QUERY_TOO_COMPLEX');
    expect(r.errors?.[0]?.message).toMatch(/server\.limits\.cost/);
  });
});

describe('JWT, introspection, production masking', () => {
  const secret = 'jwt-secret-0123456789abcdef';
  let g: Fixture;
  beforeAll(async () => {
    g = await createFixture({
      customers: 4,
      server: `
  production: true
  introspection: false
  auth:
    mode: jwt
    jwt: { secret: "${secret}", issuer: crmlink-test, audience: crm }
    roles:
      sales: { customers: own }
      admin: { customers: all, admin: true, write: true }
`,
    });
  });
  afterAll(async () => {
    await g?.close();
  });
  const sign = (claims: Record<string, unknown>, opts: { iss?: string; aud?: string; exp?: string } = {}) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(opts.iss ?? 'crmlink-test')
      .setAudience(opts.aud ?? 'crm')
      .setExpirationTime(opts.exp ?? '5m')
      .sign(new TextEncoder().encode(secret));

  test('a valid token carries user and role; issuer and audience are checked', async () => {
    const token = await sign({ sub: 'bob', role: 'sales' });
    const r = await g.gql(`{ customers { nodes { ownerId } } }`, {}, { authorization: `Bearer ${token}` });
    expect(r.data.customers.nodes.map((n: { ownerId: string }) => n.ownerId)).toEqual(['bob', 'bob']);
    const wrongAud = await g.gql(`{ customers { totalCount } }`, {}, { authorization: `Bearer ${await sign({ sub: 'bob', role: 'sales' }, { aud: 'other' })}` });
    expect(wrongAud.status).toBe(401);
    expect(wrongAud.errors?.[0]?.message).toMatch(/aud/);
    const forged = await new SignJWT({ sub: 'x', role: 'admin' }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode('another-secret-0123456789'));
    expect((await g.gql(`{ customers { totalCount } }`, {}, { authorization: `Bearer ${forged}` })).status).toBe(401);
  });

  test('GraphiQL: offered by a development server, never in production or without introspection', async () => {
    const page = (fx: Fixture) => fx.yoga.fetch('http://x/graphql', { headers: { accept: 'text/html' } });
    const dev = await page(f);
    expect(dev.status).toBe(200);
    expect(await dev.text()).toMatch(/<title>crmlink<\/title>/);
    expect((await page(g)).status).not.toBe(200);
    expect(graphiqlEnabled({ graphiql: true, production: false, introspection: true })).toBe(true);
    expect(graphiqlEnabled({ graphiql: false, production: false, introspection: true })).toBe(false);
    expect(graphiqlEnabled({ graphiql: true, production: true, introspection: true })).toBe(false);
    expect(graphiqlEnabled({ graphiql: true, production: false, introspection: false })).toBe(false);
  });

  test('introspection is refused when disabled', async () => {
    const token = await sign({ sub: 'root', role: 'admin' });
    const r = await g.gql(`{ __schema { types { name } } }`, {}, { authorization: `Bearer ${token}` });
    expect(r.errors?.[0]?.message).toMatch(/introspection/i);
  });

  test('unexpected errors are masked in production, user errors are not', async () => {
    // A source that fails with a raw driver error: the message (with SQL) must not leak.
    const token = await sign({ sub: 'root', role: 'admin' });
    await g.knex.erp.schema.renameTable('so_order', 'so_order_gone');
    try {
      const r = await g.gql(`{ salesOrders { nodes { code } } }`, {}, { authorization: `Bearer ${token}` });
      expect(r.errors?.[0]?.message).toBe('Unexpected error.');
      expect(r.errors?.[0]?.extensions?.code).toBe('INTERNAL');
      expect(JSON.stringify(r.errors)).not.toMatch(/so_order/);
    } finally {
      await g.knex.erp.schema.renameTable('so_order_gone', 'so_order');
    }
    const user = await g.gql(`{ customers(first: -1) { totalCount } }`, {}, { authorization: `Bearer ${token}` });
    expect(user.errors?.[0]?.extensions?.code).toBe('VALIDATION_FAILED');
    expect(user.errors?.[0]?.message).toMatch(/first/);
  });

  test('a development server shows the message of an unexpected error', async () => {
    await f.knex.oa.schema.renameTable('wf_request', 'wf_request_gone');
    try {
      const r = await f.gql(`{ approvals { nodes { title } } }`, {}, ADMIN);
      expect(r.errors?.[0]?.extensions?.code).toBe('INTERNAL');
      expect(r.errors?.[0]?.message).not.toBe('Unexpected error.');
      expect(r.errors?.[0]?.message).toMatch(/wf_request/);
    } finally {
      await f.knex.oa.schema.renameTable('wf_request_gone', 'wf_request');
    }
  });
});
