/**
 * The cost limit charges what a request makes the server do: every root or aliased field, each
 * totalCount and aggregate (a COUNT or SUM over the whole set, even with `first: 0`), and lists by
 * their requested length, `nodes(ids:)` included. Aliases and tokens have limits of their own.
 * Each limit answers QUERY_TOO_COMPLEX naming its setting, before any SQL runs.
 */
import { performance } from 'node:perf_hooks';
import { describe, expect, test } from 'vitest';
import { SERVER_AUTH, customerGid } from '../graphql/fixture.js';
import { useSecurityServer, whileProbingHealth, type SecurityServer } from './support.js';

const ADMIN = { 'x-api-key': 'admin-key-0123456789' };
const ALICE = { 'x-api-key': 'alice-key-0123456789' };

const aliased = (n: number, field: string) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: ${field}`).join(' ')} }`;
const TOTALS = 'salesOrderLines(first: 0) { totalCount aggregate { sum { amount } } }';

function refusedBy(r: Awaited<ReturnType<SecurityServer['gql']>>, setting: string): void {
  expect(r.data ?? null, JSON.stringify(r).slice(0, 300)).toBeNull();
  expect(r.errors?.[0]?.extensions?.code).toBe('QUERY_TOO_COMPLEX');
  expect(r.errors?.[0]?.extensions?.setting).toBe(setting);
}

describe('the cost model, with the alias and token limits raised out of the way', () => {
  const s = useSecurityServer({
    customers: 4,
    server: SERVER_AUTH,
    beforeStart: (f) => {
      Object.assign(f.app.config.server.limits, { aliases: 1_000_000, tokens: 1_000_000 });
    },
  });

  test('10,000 aliases of totalCount and aggregate under first: 0 are refused by cost, before any SQL', async () => {
    const counted = await s.fixture.countStatements(async () => refusedBy(await s.gql(aliased(10_000, TOTALS), undefined, ADMIN), 'server.limits.cost'));
    expect(counted.total).toBe(0);
  });

  test('a salesperson with 3,000 aliases is refused the same way', async () => {
    refusedBy(await s.gql(aliased(3_000, TOTALS), undefined, ALICE), 'server.limits.cost');
  });

  test('totalCount is charged even on an empty page', async () => {
    // 2,000 × (1 + aggregateCost) > 50,000 once totalCount costs 10; on a page of 0 it used to cost nothing.
    refusedBy(await s.gql(aliased(4_600, 'customers(first: 0) { totalCount }'), undefined, ADMIN), 'server.limits.cost');
  });

  test('root and aliased fields cost at least 1 each', async () => {
    refusedBy(await s.gql(aliased(50_001, '__typename'), undefined, ADMIN), 'server.limits.cost');
  });

  test('nodes(ids:) is charged per id', async () => {
    const ids = Array.from({ length: 20_000 }, (_, i) => customerGid((i % 4) + 1));
    const r = await s.gql('query($ids: [ID!]!) { nodes(ids: $ids) { ... on Customer { invoices(first: 1) { totalCount } } } }', { ids }, ADMIN);
    refusedBy(r, 'server.limits.cost');
  });

  test('an ordinary customer-360 page is well inside the limit', async () => {
    const r = await s.gql(
      '{ customers(first: 50) { totalCount nodes { id name salesOrders(first: 5) { totalCount aggregate { sum { totalAmount } } nodes { code lines { nodes { amount } } } } invoices { nodes { balance } } } } }',
      undefined,
      ADMIN,
    );
    expect(r.errors).toBeUndefined();
    expect(r.data.customers.totalCount).toBe(4);
  });
});

describe('alias and token limits (defaults)', () => {
  const s = useSecurityServer({ customers: 1, server: SERVER_AUTH });

  test('31 aliases are refused by the alias limit; 30 pass', async () => {
    refusedBy(await s.gql(aliased(31, 'customers(first: 1) { totalCount }'), undefined, ALICE), 'server.limits.aliases');
    const ok = await s.gql(aliased(30, 'customers(first: 1) { totalCount }'), undefined, ALICE);
    expect(ok.errors).toBeUndefined();
  });

  test('aliases hidden in a fragment spread many times are counted', async () => {
    const r = await s.gql(`{ ...F ...F ...F ...F } fragment F on Query { ${Array.from({ length: 8 }, (_, i) => `x${i}: __typename`).join(' ')} }`, undefined, ALICE);
    refusedBy(r, 'server.limits.aliases');
  });

  test('10,000 aliases of totals: refused at once by the token limit, /healthz answering meanwhile', async () => {
    const { result, ms, slowest } = await whileProbingHealth(s, () => s.gql(aliased(10_000, TOTALS), undefined, ADMIN));
    refusedBy(result, 'server.limits.tokens');
    expect(ms).toBeLessThan(2000);
    expect(slowest).toBeLessThan(2000);
  });

  test('a document of 90,000 fields (under the body limit) is refused by the token limit at once', async () => {
    const t = performance.now();
    const r = await s.gql(`{ ${'__typename '.repeat(90_000)}}`, undefined, ADMIN);
    refusedBy(r, 'server.limits.tokens');
    expect(performance.now() - t).toBeLessThan(2000);
  });
});
