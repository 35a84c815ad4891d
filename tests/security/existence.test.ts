/**
 * Someone else's record and a record that does not exist look the same: node(id), the typed
 * by-id field and a mutation answer identically (the id aside), and both paths make the same
 * lookups. Filter text holding U+0000 is refused rather than matching every row on SQLite.
 */
import { describe, expect, test } from 'vitest';
import { SERVER_AUTH } from '../graphql/fixture.js';
import { federatedId } from '../../schema/ids.js';
import { useSecurityServer } from './support.js';

const ADMIN = { 'x-api-key': 'admin-key-0123456789' };
const ALICE = { 'x-api-key': 'alice-key-0123456789' };

const s = useSecurityServer({ customers: 4, server: SERVER_AUTH });

/** The response with the asked-for id replaced, so two answers about different ids compare. */
const answer = async (query: string, id: string) => JSON.stringify(await s.gql(query.replaceAll('$ID', id), {}, ALICE)).replaceAll(id, '<id>');

describe('no existence oracle', () => {
  // cus_0002 is bob's (alice sees odd customers only); cus_9999 does not exist.
  const queries = [
    '{ node(id: "$ID") { id } }',
    '{ customer(id: "$ID") { id name } }',
    '{ nodes(ids: ["$ID"]) { id } }',
    'mutation { updateCustomer(id: "$ID", input: { city: "X" }) { id } }',
    'mutation { deleteCustomer(id: "$ID") { id } }',
  ];
  test.each(queries)('customer: %s answers the same for an invisible and a missing record', async (q) => {
    const invisible = await answer(q, 'cus_0002');
    const missing = await answer(q, 'cus_9999');
    expect(invisible).toBe(missing);
    expect((await s.gql('{ customer(id: "cus_0002") { name } }', {}, ADMIN)).data.customer.name).toBe('Customer 0002 Ltd');
  });

  test('an invoice of a customer the role cannot see answers like a missing invoice, with the same lookups', async () => {
    const theirs = (await s.gql('{ customer(id: "cus_0002") { invoices(first: 1) { nodes { id } } } }', {}, ADMIN)).data.customer.invoices.nodes[0].id;
    const missing = federatedId('Invoice', 'finance', '999999');
    const q = '{ node(id: "$ID") { id } invoice(id: "$ID") { id balance } }';
    expect(await answer(q, theirs)).toBe(await answer(q, missing));
    // Same work: the same number of statements on each path (the row rule's parent lookup included).
    const count = async (id: string) => {
      const { gql } = s;
      return (await s.fixture.countStatements(() => gql(`{ invoice(id: "${id}") { id } }`, {}, ALICE))).total;
    };
    expect(await count(missing)).toBe(await count(theirs));
  });
});

describe('U+0000 in filter text', () => {
  test.each([
    ['customers', 'name'],
    ['salesOrders', 'currency'],
  ])('%s where %s contains NUL is refused, not a match of every row', async (list, field) => {
    const r = await s.gql(`query($v: String) { ${list}(where: { ${field}: { contains: $v } }) { totalCount } }`, { v: '\u0000' }, ADMIN);
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'VALIDATION_FAILED', field });
    expect(r.errors?.[0]?.message).toMatch(/NUL/);
    const all = await s.gql(`{ ${list} { totalCount } }`, {}, ADMIN);
    expect(all.data[list].totalCount).toBeGreaterThan(0);
  });

  test('a mutation value holding NUL is refused naming the field', async () => {
    const r = await s.gql('mutation($v: String) { updateCustomer(id: "cus_0001", input: { city: $v }) { id } }', { v: 'Hang\u0000zhou' }, ADMIN);
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'VALIDATION_FAILED', field: 'city' });
  });
});
