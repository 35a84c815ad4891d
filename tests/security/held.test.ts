/**
 * What the security reviews found holding, kept holding: JWT verification; row rules on by-id,
 * nested and aggregate reads; hidden fields that cannot be filtered, sorted or aggregated into an
 * oracle; filters that cannot inject SQL (SQLite, and PostgreSQL and MariaDB when reachable); the
 * console's headers, cookie, path and method handling; no batching and no mutation over GET;
 * API keys compared in constant time.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { SERVER_AUTH, customerGid } from '../graphql/fixture.js';
import { matchApiKey } from '../../server/plugins/use-auth.js';
import { testDialects } from '../support/databases.js';
import { bobsOrderAndInvoice, startSecurityServer, useSecurityServer, type SecurityServer } from './support.js';
import { rawRequest } from './http.js';
import { JWT_SECRET, jwtServer, signToken } from './tokens.js';

const ADMIN = { 'x-api-key': 'admin-key-0123456789' };
const ALICE = { 'x-api-key': 'alice-key-0123456789' };

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

describe('JWT verification', () => {
  const s = useSecurityServer({ customers: 4, server: jwtServer() });
  const Q = '{ customers { totalCount } }';
  const as = (token: string) => s.gql(Q, {}, { authorization: `Bearer ${token}` });
  const exp = () => Math.floor(Date.now() / 1000) + 300;
  const refused = (r: Awaited<ReturnType<typeof as>>) => {
    expect(r.status).toBe(401);
    expect(r.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(r.data ?? null).toBeNull();
  };

  test('a valid token is served', async () => {
    expect((await as(await signToken({ sub: 'root', role: 'admin' }))).data.customers.totalCount).toBe(4);
  });

  test('a payload changed after signing (bad signature) is refused', async () => {
    const [header, , signature] = (await signToken({ sub: 'alice', role: 'sales' })).split('.');
    refused(await as(`${header}.${b64({ sub: 'alice', role: 'admin', exp: exp() })}.${signature}`));
  });

  test('alg none is refused', async () => {
    refused(await as(`${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'root', role: 'admin', exp: exp() })}.`));
  });

  test('another HMAC algorithm than HS256 is refused, even with the right secret', async () => {
    refused(await as(await signToken({ sub: 'root', role: 'admin' }, { alg: 'HS512' })));
  });

  test('an expired token is refused', async () => {
    const now = Math.floor(Date.now() / 1000);
    const r = await as(await signToken({ sub: 'root', role: 'admin' }, { iat: now - 600, exp: now - 300 }));
    refused(r);
    expect(r.errors?.[0]?.message).toBe('the token has expired');
  });

  test('a token signed with another secret is refused', async () => {
    refused(await as(await signToken({ sub: 'root', role: 'admin' }, { secret: `${JWT_SECRET}-other` })));
  });

  test('a token not valid yet, without a subject, or without a role is refused', async () => {
    refused(await as(await signToken({ sub: 'root', role: 'admin', nbf: Math.floor(Date.now() / 1000) + 600 })));
    refused(await as(await signToken({ role: 'admin' })));
    refused(await as(await signToken({ sub: 'root', role: ['admin'] })));
    refused(await as('not.a.token'));
  });
});

describe('row rules on every read path (a salesperson: customers 1 and 3)', () => {
  const s = useSecurityServer({ customers: 4, server: SERVER_AUTH });
  let bobsOrder: string;
  let bobsInvoice: string;
  beforeAll(async () => {
    ({ order: bobsOrder, invoice: bobsInvoice } = await bobsOrderAndInvoice(s, ADMIN));
  });

  test("by id: another's customer, order and invoice are null everywhere", async () => {
    const r = await s.gql(
      `query($c: ID!, $o: ID!, $i: ID!) { node(id: $c) { id } customer(id: $c) { id } nodes(ids: [$c, $o, $i, "${customerGid(1)}"]) { id }
        salesOrder(id: $o) { code } invoice(id: $i) { code } }`,
      { c: customerGid(2), o: bobsOrder, i: bobsInvoice },
      ALICE,
    );
    expect(r.errors).toBeUndefined();
    expect(r.data).toEqual({ node: null, customer: null, nodes: [null, null, null, { id: customerGid(1) }], salesOrder: null, invoice: null });
  });

  test('nested lists and refs stay within the own customers', async () => {
    const r = await s.gql(
      `{ customers(first: 10) { nodes { id salesOrders(first: 5) { totalCount nodes { customer { ownerId } lines(first: 5) { totalCount } } } invoices(first: 5) { totalCount } approvals(first: 5) { totalCount } } }
         salesOrders(first: 20) { totalCount nodes { customer { ownerId } } } salesOrderLines(first: 20) { totalCount } }`,
      {},
      ALICE,
    );
    expect(r.errors).toBeUndefined();
    expect(r.data.customers.nodes.map((n: { id: string }) => n.id)).toEqual([customerGid(1), customerGid(3)]);
    for (const c of r.data.customers.nodes) {
      expect(c.salesOrders.totalCount).toBe(3);
      expect(c.invoices.totalCount).toBe(2);
      expect(c.approvals.totalCount).toBe(1);
    }
    expect(r.data.salesOrders.totalCount).toBe(6);
    expect(r.data.salesOrders.nodes.every((n: { customer: { ownerId: string } }) => n.customer.ownerId === 'alice')).toBe(true);
    expect(r.data.salesOrderLines.totalCount).toBe(12);
  });

  test('aggregates count and sum only the own records', async () => {
    const r = await s.gql(
      '{ customers { aggregate { count } } salesOrders { aggregate { count sum { totalAmount } max { totalAmount } } } invoices { aggregate { count sum { amount balance } } } }',
      {},
      ALICE,
    );
    expect(r.errors).toBeUndefined();
    expect(r.data.customers.aggregate.count).toBe(2);
    // Orders of customers 1 and 3: i*100 + j*10 + 0.25 for j = 1..3.
    expect(r.data.salesOrders.aggregate).toEqual({ count: 6, sum: { totalAmount: '1321.5' }, max: { totalAmount: '330.25' } });
    expect(r.data.invoices.aggregate).toEqual({ count: 4, sum: { amount: '501', balance: '201' } });
  });
});

describe('a hidden field is no oracle (Customer.creditLimit, hidden from sales)', () => {
  const s = useSecurityServer({ customers: 4, server: SERVER_AUTH });

  test.each([
    ['a filter', '{ customers(where: { creditLimit: { gt: "1500" } }) { totalCount } }'],
    ['a null test', '{ customers(where: { creditLimit: { isNull: true } }) { totalCount } }'],
    ['a filter inside or', '{ customers(where: { or: [{ name: { eq: "none" } }, { creditLimit: { lt: "2000" } }] }) { totalCount } }'],
    ['a filter inside and', '{ customers(where: { and: [{ creditLimit: { gte: "0" } }] }) { totalCount } }'],
    ['a filter inside not', '{ customers(where: { not: { creditLimit: { eq: "1000.5" } } }) { totalCount } }'],
    ['a sort', '{ customers(orderBy: [{ field: creditLimit, direction: DESC }]) { nodes { id } } }'],
  ])('%s on it is FORBIDDEN', async (_name, query) => {
    const r = await s.gql(query, {}, ALICE);
    expect(r.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(r.errors?.[0]?.message).toContain('Customer.creditLimit');
    expect(r.data?.customers ?? null).toBeNull();
  });

  test('its value and every aggregate of it are null', async () => {
    const r = await s.gql('{ customers { nodes { creditLimit } aggregate { sum { creditLimit } avg { creditLimit } min { creditLimit } max { creditLimit } } } }', {}, ALICE);
    expect(r.errors).toBeUndefined();
    expect(r.data.customers.nodes.every((n: { creditLimit: unknown }) => n.creditLimit === null)).toBe(true);
    expect(r.data.customers.aggregate).toEqual({ sum: { creditLimit: null }, avg: { creditLimit: null }, min: { creditLimit: null }, max: { creditLimit: null } });
  });
});

describe.each(testDialects().filter((d) => d !== 'mssql'))('filters never become SQL (sources on %s)', (dialect) => {
  const s = useSecurityServer({ customers: 4, server: SERVER_AUTH, dialects: { erp: dialect, finance: dialect } });

  const INJECTIONS = ["x' OR '1'='1", "x') OR ('1'='1", "' OR 1=1 --", '" OR ""="', "x'; DROP TABLE so_order; --", "\\' OR 1=1 #", '%', '_', "%' OR '%'='"];

  test.each(INJECTIONS)('%j matches nothing in the hub and in the sources, and drops nothing', async (v) => {
    const r = await s.gql(
      `query($v: String!) {
        a: customers(where: { name: { eq: $v } }) { totalCount }
        b: customers(where: { name: { contains: $v } }) { totalCount }
        c: customers(where: { code: { in: [$v] } }) { totalCount }
        d: salesOrders(where: { code: { eq: $v } }) { totalCount }
        e: salesOrders(where: { code: { startsWith: $v } }) { totalCount }
        f: invoices(where: { code: { contains: $v } }) { totalCount }
        g: invoices(where: { code: { nin: [$v] } }) { totalCount }
      }`,
      { v },
      ADMIN,
    );
    expect(r.errors).toBeUndefined();
    expect(r.data).toEqual({
      a: { totalCount: 0 },
      b: { totalCount: 0 },
      c: { totalCount: 0 },
      d: { totalCount: 0 },
      e: { totalCount: 0 },
      f: { totalCount: 0 },
      g: { totalCount: 8 },
    });
    const still = await s.gql('{ salesOrders { totalCount } customers { totalCount } }', {}, ADMIN);
    expect(still.data).toEqual({ salesOrders: { totalCount: 12 }, customers: { totalCount: 4 } });
  });

  test("a quote inside a real value is matched as text (O'Brien)", async () => {
    const r = await s.gql(`{ customers(where: { name: { contains: "O'Brien & Sons" } }) { nodes { id } } }`, {}, ADMIN);
    expect(r.data.customers.nodes).toEqual([{ id: customerGid(3) }]);
  });
});

describe('the console and the HTTP surface', () => {
  let s: SecurityServer;
  let jwt: SecurityServer;
  let version: string;
  beforeAll(async () => {
    [s, jwt] = await Promise.all([startSecurityServer({ customers: 2, server: SERVER_AUTH }), startSecurityServer({ customers: 1, server: jwtServer() })]);
    const page = await s.fetch('/console', { headers: ADMIN });
    version = /\/console\/assets\/([0-9a-f]+)\/app\.js/.exec(await page.text())?.[1] ?? '';
    expect(version).not.toBe('');
  });
  afterAll(async () => {
    await Promise.all([s?.close(), jwt?.close()]);
  });
  const host = () => ({ host: `127.0.0.1:${s.server.port}` });

  test('the page, the sign-in and the assets carry a strict CSP and the other security headers', async () => {
    for (const [path, headers] of [
      ['/console', ADMIN],
      ['/console', {}],
      [`/console/assets/${version}/app.js`, ADMIN],
      [`/console/assets/${version}/style.css`, {}],
    ] as const) {
      const r = await s.fetch(path, { headers });
      const csp = r.headers.get('content-security-policy') ?? '';
      expect(csp, path).toContain("default-src 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
      expect(csp).toContain("frame-ancestors 'none'");
      expect(r.headers.get('x-content-type-options')).toBe('nosniff');
      expect(r.headers.get('x-frame-options')).toBe('DENY');
      expect(r.headers.get('referrer-policy')).toBe('no-referrer');
    }
  });

  test('the session cookie is HttpOnly and SameSite=Strict, limited to /console; a cross-site sign-in is refused', async () => {
    const r = await rawRequest(s.server.port, 'POST', '/console/session', { ...host(), ...ADMIN, origin: `http://127.0.0.1:${s.server.port}` });
    expect(r.status).toBe(200);
    const cookie = String(r.headers['set-cookie']);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).toMatch(/Path=\/console(;|$)/);
    const cross = await rawRequest(s.server.port, 'POST', '/console/session', { ...host(), ...ADMIN, origin: 'https://evil.example' });
    expect(cross.status).toBe(403);
    expect(cross.headers['set-cookie']).toBeUndefined();
  });

  test.each([
    '/console/assets/V/../../server/server.ts',
    '/console/assets/V/..%2f..%2fserver%2fserver.ts',
    '/console/assets/V/%2e%2e/%2e%2e/server/server.ts',
    '/console/assets/V/..%5c..%5cserver%5cserver.ts',
    '/console/assets/V/%252e%252e/index.html',
    '/console/assets/V/app.js%00.css',
    '/console/assets/V/.hidden',
    '/console/assets/V/../index.html',
  ])('path traversal %s is refused', async (path) => {
    const r = await rawRequest(s.server.port, 'GET', path.replace('V', version), { ...host(), ...ADMIN });
    expect([400, 404]).toContain(r.status);
    expect(r.body).not.toMatch(/createServer|<!doctype html>|import /i);
  });

  test.each([
    ['PUT', '/console'],
    ['DELETE', '/console/'],
    ['POST', '/console'],
    ['PATCH', '/console/assets/V/app.js'],
    ['GET', '/console/session'],
    ['PUT', '/graphql'],
    ['DELETE', '/graphql'],
  ])('%s %s is refused', async (method, path) => {
    const r = await rawRequest(s.server.port, method, path.replace('V', version), { ...host(), ...ADMIN, 'content-type': 'application/json' }, method === 'GET' ? undefined : JSON.stringify({ query: '{ customers { totalCount } }' }));
    expect(r.status).toBe(405);
    expect(r.body).not.toContain('totalCount');
  });

  test('batched operations are refused', async () => {
    const body = JSON.stringify([{ query: '{ customers { totalCount } }' }, { query: 'mutation { deleteCustomer(id: "cus_0001") { id } }' }]);
    const r = await rawRequest(s.server.port, 'POST', '/graphql', { ...host(), ...ADMIN, 'content-type': 'application/json' }, body);
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.body).not.toContain('totalCount');
    expect((await s.gql('{ customer(id: "cus_0001") { id } }', {}, ADMIN)).data.customer).toEqual({ id: 'cus_0001' });
  });

  test('a mutation over GET is refused, even from a client that passes the CSRF check', async () => {
    const q = encodeURIComponent('mutation { updateCustomer(id: "cus_0001", input: { name: "via GET" }) { id } }');
    const r = await rawRequest(s.server.port, 'GET', `/graphql?query=${q}`, { ...host(), ...ADMIN, 'x-crmlink-csrf': '1' });
    expect(r.status).toBe(405);
    expect((await s.gql('{ customer(id: "cus_0001") { name } }', {}, ADMIN)).data.customer.name).toBe('Customer 0001 Ltd');
  });

  test('the refusal page shows a role name from a token as text', async () => {
    const token = await signToken({ sub: 'mallory', role: '<img data-xss src=x onerror=alert(1)>' });
    const r = await jwt.fetch('/console', { headers: { authorization: `Bearer ${token}` } });
    expect(r.status).toBe(403);
    const html = await r.text();
    expect(html).not.toContain('<img data-xss');
    expect(html).toContain('&#60;img data-xss');
  });
});

describe('API keys are compared in constant time', () => {
  const KEYS = [
    { key: 'first-key-0123456789', user: 'a' },
    { key: 'second-key-0123456789abcdef', user: 'b' },
  ];

  test('matchApiKey finds the key, whatever the lengths of what is sent', () => {
    expect(matchApiKey(KEYS, 'second-key-0123456789abcdef')?.user).toBe('b');
    expect(matchApiKey(KEYS, 'first-key-0123456789')?.user).toBe('a');
    for (const wrong of ['', 'f', 'first-key-012345678', 'first-key-0123456789x', 'x'.repeat(10_000)]) expect(matchApiKey(KEYS, wrong)).toBeUndefined();
  });

  test('it compares with timingSafeEqual over equal-length digests, every key, with no early exit or string equality', () => {
    const source = matchApiKey.toString();
    expect(source).toMatch(/timingSafeEqual\)?\(/);
    expect(source).toMatch(/digest\(/);
    expect(source).not.toMatch(/===\s*given|given\s*===|\.key\s*===|===\s*k\.key|\.find\(|\.some\(|return k\b|break/);
  });
});
