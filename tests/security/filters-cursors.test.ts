/**
 * Connection arguments a client can forge: a cursor that decodes but was never issued, and a
 * `where` nested beyond any real need. Both are the client's mistake, answered as such
 * (VALIDATION_FAILED, naming the argument or the setting), never as INTERNAL.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { SERVER_AUTH } from '../graphql/fixture.js';
import { useSecurityServer, type SecurityServer } from './support.js';

const ADMIN = { 'x-api-key': 'admin-key-0123456789' };

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v), 'utf8').toString('base64url');

/** `{ or: [{ or: [ … { name: { eq: "x" } } … ] }] }`, `levels` deep. */
export function deepOr(levels: number): string {
  return `${'{ or: ['.repeat(levels)}{ name: { eq: "x" } }${'] }'.repeat(levels)}`;
}
export function deepOrValue(levels: number, field = 'name'): Record<string, unknown> {
  let w: Record<string, unknown> = { [field]: { eq: 'x' } };
  for (let i = 0; i < levels; i++) w = { or: [w] };
  return w;
}

describe('forged cursors and deep filters', () => {
  const s = useSecurityServer({ customers: 3, server: SERVER_AUTH });
  let signature: string;
  beforeAll(async () => {
    const r = await s.gql('{ customers(first: 1) { pageInfo { endCursor } } }', undefined, ADMIN);
    const end = r.data.customers.pageInfo.endCursor as string;
    signature = (JSON.parse(Buffer.from(end, 'base64url').toString('utf8')) as { s: string }).s;
  });

  const refused = (r: Awaited<ReturnType<SecurityServer['gql']>>, code = 'VALIDATION_FAILED') => {
    expect(r.errors?.length, JSON.stringify(r)).toBeGreaterThan(0);
    for (const e of r.errors ?? []) expect(e.extensions?.code, e.message).toBe(code);
  };

  test.each([
    ['"abc"', () => 'abc'],
    ['a bigint that is not a number', () => b64({ s: signature, v: [{ n: 'abc' }] })],
    ['a date that is not a date', () => b64({ s: signature, v: [{ d: 'yesterday' }] })],
    ['an object value', () => b64({ s: signature, v: [{ x: 1, y: 2 }] })],
    ['too many values', () => b64({ s: signature, v: ['a', 'b', 'c', 'd', 'e', 'f'] })],
    ['no values', () => b64({ s: signature, v: [] })],
    ['JSON that is not an object', () => b64(null)],
  ])('a forged cursor (%s) is a validation error', async (_name, cursor) => {
    for (const arg of ['after', 'before']) {
      const r = await s.gql(`query($c: String) { customers(${arg}: $c) { nodes { id } } }`, { c: cursor() }, ADMIN);
      refused(r);
      expect(r.errors?.[0]?.message).toMatch(new RegExp(`^${arg}: `));
    }
  });

  test('a forged cursor on the conflicts list is a validation error', async () => {
    const r = await s.gql('query($c: String) { conflicts(after: $c) { totalCount } }', { c: b64({ s: 'conflicts:id', v: ['abc'] }) }, ADMIN);
    refused(r);
  });

  test('an or tree 2,000 deep (inline) is refused, naming the limit', async () => {
    const r = await s.gql(`{ customers(where: ${deepOr(2000)}) { totalCount } }`, undefined, ADMIN);
    refused(r);
    expect(r.errors?.[0]?.message).toMatch(/server\.limits\.filterDepth/);
  });

  test('an or tree 2,000 deep (as a variable) is refused, naming the limit', async () => {
    const r = await s.gql('query($w: CustomerWhere) { customers(where: $w) { totalCount } }', { w: deepOrValue(2000) }, ADMIN);
    refused(r);
    expect(r.errors?.[0]?.message).toMatch(/server\.limits\.filterDepth/);
  });

  test('a nested connection with a deep filter is refused too', async () => {
    const r = await s.gql('query($w: SalesOrderWhere) { customers(first: 1) { nodes { salesOrders(where: $w) { totalCount } } } }', { w: deepOrValue(200, 'code') }, ADMIN);
    refused(r);
  });

  test('a 100,000-character contains (a LIKE pattern the engine refuses) is a validation error', async () => {
    const r = await s.gql('query($x: String) { customers(where: { name: { contains: $x } }) { totalCount } }', { x: 'x'.repeat(100_000) }, ADMIN);
    refused(r);
    expect(r.errors?.[0]?.message).toMatch(/^where\.name\.contains: a value of 100000 characters; at most 4000/);
    expect(r.errors?.[0]?.message.length).toBeLessThan(200);
  });

  test.each([
    ['a value list', 'query($x: [String]) { customers(where: { name: { in: $x } }) { totalCount } }', () => Array.from({ length: 1001 }, (_, i) => `n${i}`), /^where\.name\.in: 1001 values; at most 1000/],
    ['an id list', 'query($x: [ID!]) { customers(where: { id: { in: $x } }) { totalCount } }', () => Array.from({ length: 20_000 }, () => 'cus_0001'), /^where\.id\.in: 20000 values/],
    ['a reference list', 'query($x: [ID!]) { salesOrders(where: { customerId: { nin: $x } }) { totalCount } }', () => Array.from({ length: 1001 }, () => 'cus_0001'), /^where\.customerId\.nin: 1001 values/],
    ['nodes(ids:)', 'query($x: [ID!]!) { nodes(ids: $x) { id } }', () => Array.from({ length: 1001 }, () => 'cus_0001'), /^ids: 1001 ids; at most 1000/],
  ])('%s longer than 1,000 is a validation error', async (_name, query, list, message) => {
    const r = await s.gql(query, { x: list() }, ADMIN);
    refused(r);
    expect(r.errors?.[0]?.message).toMatch(message);
  });

  test('a filter within the bound still works', async () => {
    const r = await s.gql(`{ customers(where: ${deepOr(5)}) { totalCount } }`, undefined, ADMIN);
    expect(r.errors).toBeUndefined();
    expect(r.data.customers.totalCount).toBe(0);
  });
});
