/**
 * Subscriptions over server-sent events on a real server (the GraphQL fixture behind startServer):
 * an event for every committed write, only of records inside the subscriber's row rules, hidden
 * fields never in it, and no subscription without credentials.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SERVER_AUTH } from './fixture.js';
import { startSecurityServer, type SecurityServer } from '../security/support.js';
import { subscribeSse, type SseStream } from '../support/sse.js';

const ADMIN = 'admin-key-0123456789';
const ALICE = 'alice-key-0123456789';

let served: SecurityServer | null = null;
const streams: SseStream[] = [];
afterEach(async () => {
  for (const c of streams.splice(0)) c.close();
  await served?.close();
  served = null;
});

/** Open a subscription; resolves once the server has started it (its first ping arrived). */
async function subscribe(s: SecurityServer, query: string, key?: string): Promise<SseStream> {
  const stream = await subscribeSse(`${s.url}/graphql`, query, key ? { 'x-api-key': key } : {});
  streams.push(stream);
  return stream;
}

const WATCH = `subscription { customerChanged { id action changedFields node { id name creditLimit ownerId } } }`;

describe('customerChanged over SSE', () => {
  it('a salesperson receives only changes of her own customers, without hidden fields', async () => {
    served = await startSecurityServer({ server: SERVER_AUTH, customers: 4 });
    const alice = await subscribe(served, WATCH, ALICE);
    expect(alice.status).toBe(200);
    // Bob's customer first: had it been delivered, it would be the first event.
    const bob = await served.gql(`mutation { updateCustomer(id: "cus_0002", input: { phone: "010-22223333" }) { id } }`, {}, { 'x-api-key': ADMIN });
    expect(bob.errors).toBeUndefined();
    const mine = await served.gql(`mutation { updateCustomer(id: "cus_0001", input: { name: "Alice Co", creditLimit: "999" }) { id } }`, {}, { 'x-api-key': ADMIN });
    expect(mine.errors).toBeUndefined();
    const event = await alice.next();
    expect(event.errors).toBeUndefined();
    expect(event.data).toEqual({
      customerChanged: { id: 'cus_0001', action: 'update', changedFields: ['name'], node: { id: 'cus_0001', name: 'Alice Co', creditLimit: null, ownerId: 'alice' } },
    });
  });

  it('an admin sees every change; with an id, only that record', async () => {
    served = await startSecurityServer({ server: SERVER_AUTH, customers: 4 });
    const all = await subscribe(served, WATCH, ADMIN);
    const one = await subscribe(served, `subscription { customerChanged(id: "cus_0004") { id changedFields node { creditLimit } } }`, ADMIN);
    await served.gql(`mutation { updateCustomer(id: "cus_0003", input: { creditLimit: "5" }) { id } }`, {}, { 'x-api-key': ADMIN });
    await served.gql(`mutation { updateCustomer(id: "cus_0004", input: { creditLimit: "7" }) { id } }`, {}, { 'x-api-key': ADMIN });
    expect((await all.next()).data).toMatchObject({ customerChanged: { id: 'cus_0003', changedFields: ['creditLimit'], node: { creditLimit: '5' } } });
    expect((await all.next()).data).toMatchObject({ customerChanged: { id: 'cus_0004', node: { creditLimit: '7' } } });
    expect((await one.next()).data).toEqual({ customerChanged: { id: 'cus_0004', changedFields: ['creditLimit'], node: { creditLimit: '7' } } });
  });

  it('needs credentials', async () => {
    served = await startSecurityServer({ server: SERVER_AUTH, customers: 2 });
    const anonymous = await subscribe(served, WATCH);
    expect(anonymous.status).toBe(401);
  });
});
