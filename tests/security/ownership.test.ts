/**
 * A customer stays inside the row rule of whoever writes it: a salesperson (`own`) can neither
 * give a customer to someone else (ownerId) nor move it to another team (ownerTeam), which would
 * hand it, hidden fields and all, to that team's manager; a manager (`team`) cannot move one out
 * of the team either.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startSecurityServer, type SecurityServer } from './support.js';
import { bearer, jwtServer } from './tokens.js';

let s: SecurityServer;
let alice: Record<string, string>;
let carol: Record<string, string>;
let dave: Record<string, string>;
let root: Record<string, string>;

beforeAll(async () => {
  // Customers 1 and 3 are alice's, in team east (tests/graphql/fixture.ts).
  s = await startSecurityServer({ customers: 4, server: jwtServer() });
  alice = await bearer('alice', 'sales', { team: 'east' });
  carol = await bearer('carol', 'manager', { team: 'east' });
  dave = await bearer('dave', 'manager', { team: 'west' });
  root = await bearer('root', 'admin');
});
afterAll(async () => {
  await s?.close();
});

const owner = async (id: string) => (await s.gql(`{ customer(id: "${id}") { ownerId ownerTeam name } }`, {}, root)).data.customer;
const update = (id: string, input: string, who: Record<string, string>) => s.gql(`mutation { updateCustomer(id: "${id}", input: ${input}) { ownerId ownerTeam } }`, {}, who);
/** An update that must be refused as FORBIDDEN. */
const forbidden = async (id: string, input: string, who: Record<string, string>) => {
  const r = await update(id, input, who);
  expect(r.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
};
/** An update that must be accepted: the customer's owner and team after it. */
const updated = async (id: string, input: string, who: Record<string, string>) => {
  const r = await update(id, input, who);
  expect(r.errors).toBeUndefined();
  return r.data.updateCustomer;
};

describe('a salesperson (customers: own)', () => {
  test.each([['{ ownerTeam: "west" }'], ['{ ownerTeam: null }'], ['{ name: "Renamed", ownerTeam: "west" }']])('cannot move an own customer out of the team: %s', async (input) => {
    const r = await update('cus_0001', input, alice);
    expect(r.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(r.errors?.[0]?.message).toContain('may not move a customer to another team');
    expect(await owner('cus_0001')).toEqual({ ownerId: 'alice', ownerTeam: 'east', name: 'Customer 0001 Ltd' });
    const west = await s.gql('{ customers { nodes { id } } }', {}, dave);
    expect(west.data.customers.nodes.map((n: { id: string }) => n.id)).not.toContain('cus_0001');
  });

  test('cannot give an own customer to someone else', async () => {
    await forbidden('cus_0001', '{ ownerId: "bob" }', alice);
    expect((await owner('cus_0001')).ownerId).toBe('alice');
  });

  test('may still edit the customer, and name its own team', async () => {
    expect(await updated('cus_0003', '{ city: "Hangzhou", ownerTeam: "east" }', alice)).toEqual({ ownerId: 'alice', ownerTeam: 'east' });
  });

  test('creates customers in its own name and team only', async () => {
    const other = await s.gql('mutation { createCustomer(input: { name: "Elsewhere Ltd", ownerTeam: "west" }) { id } }', {}, alice);
    expect(other.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const own = await s.gql('mutation { createCustomer(input: { name: "Own Ltd" }) { ownerId ownerTeam } }', {}, alice);
    expect(own.errors).toBeUndefined();
    expect(own.data.createCustomer).toEqual({ ownerId: 'alice', ownerTeam: 'east' });
  });
});

describe('a manager (customers: team)', () => {
  test('cannot move a team customer to another team', async () => {
    await forbidden('cus_0001', '{ ownerTeam: "west" }', carol);
    expect((await owner('cus_0001')).ownerTeam).toBe('east');
  });

  test('may hand a customer to another person of the team', async () => {
    expect(await updated('cus_0001', '{ ownerId: "erin" }', carol)).toEqual({ ownerId: 'erin', ownerTeam: 'east' });
    const back = await update('cus_0001', '{ ownerId: "alice" }', carol);
    expect(back.errors).toBeUndefined();
  });

  test("cannot reach another team's customer at all", async () => {
    const r = await update('cus_0002', '{ ownerTeam: "east" }', carol);
    expect(r.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect((await owner('cus_0002')).ownerTeam).toBe('west');
  });
});
