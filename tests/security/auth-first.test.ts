/**
 * Authentication comes before anything else a GraphQL request costs: without valid credentials
 * the answer is 401 before the body is parsed as JSON, before the document is parsed, and before
 * validation (where the depth and cost rules run). Each test sends a request that would fail one
 * of those later steps: the 401 shows the step never ran.
 */
import { describe, expect, test } from 'vitest';
import { SERVER_AUTH } from '../graphql/fixture.js';
import { useSecurityServer, type SecurityServer } from './support.js';
import { jwtServer, signToken } from './tokens.js';

const ADMIN = { 'x-api-key': 'admin-key-0123456789' };

/** `{ ...F0 }` where each fragment spreads the next twice: 2^levels selections once expanded. */
function doublingFragments(levels: number, leaf = '__typename'): string {
  const out = ['{ ...F0 }'];
  for (let i = 0; i < levels; i++) out.push(`fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`);
  out.push(`fragment F${levels} on Query { ${leaf} }`);
  return out.join('\n');
}

async function post(s: SecurityServer, body: string, headers: Record<string, string> = {}) {
  const res = await s.fetch('/graphql', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const json = (await res.json()) as { data?: unknown; errors?: { message: string; extensions?: { code?: string } }[] };
  return { status: res.status, ...json };
}

const unauthenticated = (r: Awaited<ReturnType<typeof post>>) => {
  expect(r.status).toBe(401);
  expect(r.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  expect(r.data ?? null).toBeNull();
};

describe('API keys', () => {
  const s = useSecurityServer({ customers: 2, server: SERVER_AUTH });

  const CASES: [string, string][] = [
    ['a body that is not JSON', '{"query": "{ customers { totalCount } }"'],
    ['a document that does not parse', JSON.stringify({ query: '{ customers { totalCount ' })],
    ['a document that fails validation', JSON.stringify({ query: '{ noSuchField }' })],
    ['a document deeper than the depth limit', JSON.stringify({ query: `{ customers { nodes { ${'salesOrders { nodes { customer { '.repeat(6)}id${' } } }'.repeat(6)} } } }` })],
    ['doubling fragments that also fail validation', JSON.stringify({ query: doublingFragments(18, 'noSuchField') })],
    // Just under server.limits.bodyBytes (1 MiB): a larger body is refused from its length alone (body-size.test.ts).
    ['90,000 fields (1 MB)', JSON.stringify({ query: `{ ${'__typename '.repeat(90_000)}}` })],
  ];

  test.each(CASES)('no key and %s: 401 before anything else', async (_name, body) => {
    unauthenticated(await post(s, body));
  });

  test.each(CASES)('a wrong key and %s: 401 before anything else', async (_name, body) => {
    unauthenticated(await post(s, body, { 'x-api-key': 'wrong-key-0123456789xx' }));
  });

  test('with a valid key the same documents reach parsing and validation', async () => {
    const parse = await post(s, CASES[1][1], { ...ADMIN, accept: 'application/graphql-response+json' });
    expect(parse.status).toBe(400);
    expect(parse.errors?.[0]?.message).toMatch(/Syntax Error/);
    const invalid = await post(s, CASES[2][1], ADMIN);
    expect(invalid.errors?.[0]?.message).toMatch(/Cannot query field "noSuchField"/);
  });
});

describe('JWT', () => {
  const s = useSecurityServer({ customers: 2, server: jwtServer() });

  test('a token signed with another secret is refused before its document is parsed', async () => {
    const forged = await signToken({ sub: 'root', role: 'admin' }, { secret: 'not-the-server-secret-0123456789' });
    unauthenticated(await post(s, JSON.stringify({ query: '{ customers { ' }), { authorization: `Bearer ${forged}` }));
  });

  test('an expired token is refused before its document is validated', async () => {
    const expired = await signToken({ sub: 'root', role: 'admin' }, { iat: Math.floor(Date.now() / 1000) - 7200, exp: Math.floor(Date.now() / 1000) - 3600 });
    const r = await post(s, JSON.stringify({ query: doublingFragments(18, 'noSuchField') }), { authorization: `Bearer ${expired}` });
    unauthenticated(r);
    expect(r.errors?.[0]?.message).toBe('the token has expired');
  });
});
