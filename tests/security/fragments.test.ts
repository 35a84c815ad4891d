/**
 * Fragments that spread the next one twice, 23 levels deep: about 1 KB of text that expands to
 * 2^23 selections. Authentication refuses it before any work without a key (auth-first.test.ts);
 * with a valid key the depth and cost of each fragment are computed once, and the number of
 * fragment spreads is bounded, so the answer comes at once and /healthz keeps answering.
 */
import { performance } from 'node:perf_hooks';
import { describe, expect, test } from 'vitest';
import { SERVER_AUTH } from '../graphql/fixture.js';
import { useSecurityServer, whileProbingHealth } from './support.js';

const ADMIN = { 'x-api-key': 'admin-key-0123456789' };

/** `{ ...F0 }` where each fragment spreads the next twice; the last selects `leaf`. */
export function doublingFragments(levels: number, leaf: string, type = 'Query', root = '{ ...F0 }'): string {
  const out = [root];
  for (let i = 0; i < levels; i++) out.push(`fragment F${i} on ${type} { ...F${i + 1} ...F${i + 1} }`);
  out.push(`fragment F${levels} on ${type} { ${leaf} }`);
  return out.join('\n');
}

describe('doubling fragments', () => {
  const s = useSecurityServer({ customers: 2, server: SERVER_AUTH });

  /** The request's answer, and the slowest /healthz answer while it ran. */
  async function timed(query: string) {
    const { result: r, ms, slowest } = await whileProbingHealth(s, () => s.gql(query, undefined, ADMIN));
    return { r, ms, slowest };
  }

  test.each([
    ['on Query, with a connection at the bottom', doublingFragments(23, 'customers { nodes { salesOrders { nodes { lines { nodes { amount } } } } } }')],
    ['on Query, 40 levels', doublingFragments(40, '__typename')],
    ['inside a connection', doublingFragments(23, 'salesOrders { totalCount }', 'Customer', '{ customers { nodes { ...F0 } } }')],
  ])('%s: refused at once, /healthz keeps answering', async (_name, query) => {
    expect(query.length).toBeLessThan(2000);
    const { r, ms, slowest } = await timed(query);
    expect(r.errors?.[0]?.extensions?.code, JSON.stringify(r).slice(0, 300)).toBe('QUERY_TOO_COMPLEX');
    expect(r.errors?.[0]?.message).toMatch(/server\.limits\.(fragmentSpreads|cost|depth)/);
    // Generous bounds: the exponential version takes tens of seconds.
    expect(ms).toBeLessThan(2000);
    expect(slowest).toBeLessThan(2000);
  });

  test('without a key the same document is refused before parsing (authentication first)', async () => {
    const t = performance.now();
    const r = await s.gql(doublingFragments(23, 'customers { totalCount }'));
    expect(r.status).toBe(401);
    expect(r.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(performance.now() - t).toBeLessThan(2000);
  });

  test('the spread limit counts spreads in the document and names its setting', async () => {
    const spreads = Array.from({ length: 300 }, () => '...F').join(' ');
    const r = await s.gql(`{ ${spreads} } fragment F on Query { __typename }`, undefined, ADMIN);
    expect(r.errors?.[0]?.extensions?.code).toBe('QUERY_TOO_COMPLEX');
    expect(r.errors?.[0]?.message).toMatch(/server\.limits\.fragmentSpreads/);
  });

  test('fragments used the ordinary way still work', async () => {
    const r = await s.gql('{ customers(first: 2) { nodes { ...C } } } fragment C on Customer { id ...N } fragment N on Customer { name }', undefined, ADMIN);
    expect(r.errors).toBeUndefined();
    expect(r.data.customers.nodes).toHaveLength(2);
  });
});
