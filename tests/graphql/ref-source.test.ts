/**
 * refSource: a ref column holding keys of another source's space. Here the OA approval rows hold
 * the ERP customer code (C0001), mapped `customerId: { column: customer_ref, refSource: erp }`,
 * while the hub also links each customer to an OA key of its own (1001) that the rows do not use.
 * Every place the GraphQL layer crosses key spaces for the field must use ERP's: nested lists,
 * the ref as an id, the to-one field, filters, row rules and mutations writing the ref.
 */
import { describe, expect, onTestFinished, test } from 'vitest';
import { createFixture, customerGid, pad, SERVER_AUTH, type Fixture } from './fixture.js';
import { useOpened } from '../support/lifecycle.js';

const ADMIN = { 'x-api-key': 'admin-key-0123456789' };
const ALICE = { 'x-api-key': 'alice-key-0123456789' };

const f = useOpened(() => createFixture({ customers: 6, server: SERVER_AUTH, approvalRefSource: 'erp' }));

interface Approval {
  id: string;
  code: string;
  customerId: string | null;
  customer: { id: string; code: string } | null;
}

describe('refSource: erp on ApprovalRequest.customerId', () => {
  test('nested: each customer lists the requests naming its ERP code, in one statement per level', async () => {
    const q = `{ customers(first: 10) { nodes { code approvals { totalCount nodes { code } } } } }`;
    let r: Awaited<ReturnType<Fixture['gql']>> | undefined;
    const { sql } = await f.countStatements(async () => {
      r = await f.gql(q, {}, ADMIN);
    });
    expect(r!.errors).toBeUndefined();
    for (const c of r!.data.customers.nodes as { code: string; approvals: { totalCount: number; nodes: { code: string }[] } }[]) {
      const i = Number(c.code.slice(1));
      expect(c.approvals.nodes.map((a) => a.code)).toEqual([`WF${pad(i)}`]);
      expect(c.approvals.totalCount).toBe(1);
    }
    expect(sql.filter((s) => s.startsWith('oa:')).length).toBeLessThanOrEqual(2); // page + count
  });

  test('the ref as an id and the to-one field lead back to the golden customer', async () => {
    const r = await f.gql(`{ approvals(first: 20, orderBy: [{ field: code }]) { nodes { id code customerId customer { id code } } } }`, {}, ADMIN);
    expect(r.errors).toBeUndefined();
    const nodes = r.data.approvals.nodes as Approval[];
    expect(nodes).toHaveLength(6);
    for (const a of nodes) {
      const i = Number(a.code.slice(2));
      expect(a.customerId).toBe(customerGid(i));
      expect(a.customer).toEqual({ id: customerGid(i), code: `C${pad(i)}` });
    }
  });

  test('a filter on the ref field takes customer ids and matches the ERP codes', async () => {
    const r = await f.gql(
      `query($ids: [ID!]) { approvals(where: { customerId: { in: $ids } }, orderBy: [{ field: code }]) { totalCount nodes { code } } }`,
      { ids: [customerGid(2), customerGid(3)] },
      ADMIN,
    );
    expect(r.errors).toBeUndefined();
    expect(r.data.approvals.nodes.map((a: { code: string }) => a.code)).toEqual(['WF0002', 'WF0003']);
  });

  test('row rules follow the ref across spaces: a salesperson sees the requests of its own customers only', async () => {
    const list = await f.gql(`{ approvals(first: 20) { totalCount nodes { id code customer { code } } } }`, {}, ALICE);
    expect(list.errors).toBeUndefined();
    const codes = (list.data.approvals.nodes as Approval[]).map((a) => a.code).sort();
    expect(codes).toEqual(['WF0001', 'WF0003', 'WF0005']);
    expect(list.data.approvals.totalCount).toBe(3);

    const all = (await f.gql(`{ approvals(first: 20) { nodes { id code } } }`, {}, ADMIN)).data.approvals.nodes as Approval[];
    const bobs = all.find((a) => a.code === 'WF0002')!;
    const mine = all.find((a) => a.code === 'WF0001')!;
    const byId = await f.gql(`query($a: ID!, $b: ID!) { a: node(id: $a) { id } b: approvalRequest(id: $b) { id customer { code } } }`, { a: bobs.id, b: mine.id }, ALICE);
    expect(byId.errors).toBeUndefined();
    expect(byId.data.a).toBeNull();
    expect(byId.data.b).toEqual({ id: mine.id, customer: { code: 'C0001' } });
  });

  test('an update writes the ref as the ERP code of the customer given by id', async () => {
    const all = (await f.gql(`{ approvals(first: 20) { nodes { id code } } }`, {}, ADMIN)).data.approvals.nodes as Approval[];
    const a = all.find((x) => x.code === 'WF0006')!;
    // The request is read live from the OA: put its row back afterwards, so the other tests see
    // the fixture as seeded whatever order they run in.
    onTestFinished(async () => {
      await f.knex.oa('wf_request').where({ req_no: 'WF0006' }).update({ customer_ref: 'C0006' });
    });
    const r = await f.gql(
      `mutation($id: ID!, $c: ID!) { updateApprovalRequest(id: $id, input: { customerId: $c }) { code customerId customer { code } } }`,
      { id: a.id, c: customerGid(4) },
      ADMIN,
    );
    expect(r.errors).toBeUndefined();
    expect(r.data.updateApprovalRequest).toEqual({ code: 'WF0006', customerId: customerGid(4), customer: { code: 'C0004' } });
    const row = await f.knex.oa('wf_request').where({ req_no: 'WF0006' }).first();
    expect(row.customer_ref).toBe('C0004');
    const c4 = await f.gql(`{ customer(id: "${customerGid(4)}") { approvals(orderBy: [{ field: code }]) { nodes { code } } } }`, {}, ADMIN);
    expect(c4.data.customer.approvals.nodes.map((x: { code: string }) => x.code)).toEqual(['WF0004', 'WF0006']);
  });
});
