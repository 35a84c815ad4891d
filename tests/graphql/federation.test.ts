/**
 * crmlink as an Apollo Federation v2 subgraph (server.federation), composed for real: crmlink runs
 * as an HTTP server, a support-tickets subgraph refers to its Customer and SalesOrder, and an
 * Apollo Gateway on 127.0.0.1 composes both with IntrospectAndCompose. Checked: joined data
 * across the two subgraphs, a salesperson's row scope through the gateway, and `_entities`
 * resolving N references with one statement per source, whatever N.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createFixture, customerGid, ownerOf, pad, SERVER_AUTH } from './fixture.js';
import { federatedId } from '../../schema/ids.js';
import { startSecurityServer, type SecurityServer } from '../security/support.js';
import { startTicketsSubgraph, type RunningSubgraph, type Ticket } from '../support/tickets-subgraph.js';
import { startGateway, type RunningGateway } from '../support/gateway.js';

const ADMIN = { 'x-api-key': 'admin-key-0123456789' };
const ALICE = { 'x-api-key': 'alice-key-0123456789' };
const N = 12;

const orderId = (i: number) => federatedId('SalesOrder', 'erp', `SO${pad(i)}-1`);
const TICKETS: Ticket[] = Array.from({ length: N }, (_, k) => ({
  id: `T${k + 1}`,
  subject: `Ticket ${k + 1}`,
  customerId: customerGid(k + 1),
  orderId: orderId(k + 1),
}));

let crm: SecurityServer;
let tickets: RunningSubgraph;
let gateway: RunningGateway;

beforeAll(async () => {
  crm = await startSecurityServer({ customers: N, server: `  federation: true${SERVER_AUTH}` });
  tickets = await startTicketsSubgraph(TICKETS);
  gateway = await startGateway(
    [
      { name: 'crmlink', url: `${crm.url}/graphql` },
      { name: 'support', url: tickets.url },
    ],
    ADMIN,
  );
});

afterAll(async () => {
  await gateway?.close();
  await tickets?.close();
  await crm?.close();
});

interface TicketRow {
  id: string;
  customer: { id: string; code: string; ownerId: string; creditLimit: string | null } | null;
  order: { code: string; totalAmount: string } | null;
}

const JOINED = (first: number) => `{ tickets(first: ${first}) { id subject customer { id code ownerId creditLimit } order { code totalAmount } } }`;

describe('the subgraph on its own', () => {
  test('_service { sdl } declares every entity with @key on its id', async () => {
    const r = await crm.gql(`{ _service { sdl } }`, {}, ADMIN);
    expect(r.errors).toBeUndefined();
    const sdl: string = r.data._service.sdl;
    expect(sdl).toContain('@link(url: "https://specs.apollo.dev/federation/v2.3"');
    expect(sdl).toMatch(/type Customer implements Node\s+@key\(fields: "id"\)/);
    expect(sdl).toMatch(/type SalesOrder implements Node\s+@key\(fields: "id"\)/);
  });

  test('enum defaults of arguments hold in the subgraph schema (parkedRecords: PARKED, mergeCandidates: OPEN)', async () => {
    const r = await crm.gql(`{ parkedRecords { id status } mergeCandidates { id status } }`, {}, ADMIN);
    expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
    expect(r.data).toEqual({ parkedRecords: [], mergeCandidates: [] });
  });

  test('_entities answers null for a reference the viewer may not see, as node(id) does', async () => {
    const q = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Customer { id ownerId } ... on SalesOrder { code } } }`;
    const reps = [
      { __typename: 'Customer', id: customerGid(1) },
      { __typename: 'Customer', id: customerGid(2) },
      { __typename: 'SalesOrder', id: orderId(2) },
      { __typename: 'Customer', id: 'cus_nope' },
    ];
    const r = await crm.gql(q, { r: reps }, ALICE);
    expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
    expect(r.data._entities).toEqual([{ id: customerGid(1), ownerId: 'alice' }, null, null, null]);
    const admin = await crm.gql(q, { r: reps }, ADMIN);
    expect(admin.data._entities).toEqual([{ id: customerGid(1), ownerId: 'alice' }, { id: customerGid(2), ownerId: 'bob' }, { code: 'SO0002-1' }, null]);
  });
});

describe('composed by a gateway', () => {
  test('the supergraph joins Ticket to crmlink entities', () => {
    const sdl = gateway.supergraphSdl();
    expect(sdl).toContain('join__graph(name: "crmlink"');
    expect(sdl).toContain('join__graph(name: "support"');
    expect(sdl).toMatch(/type Ticket\b/);
  });

  test('a query across both subgraphs returns joined data', async () => {
    const r = await gateway.gql(JOINED(N), ADMIN);
    expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
    const rows = (r.data as { tickets: TicketRow[] }).tickets;
    expect(rows).toHaveLength(N);
    rows.forEach((t, k) => {
      const i = k + 1;
      expect(t.customer).toEqual({ id: customerGid(i), code: `C${pad(i)}`, ownerId: ownerOf(i), creditLimit: `${i * 1000}.5` });
      expect(t.order?.code).toBe(`SO${pad(i)}-1`);
    });
  });

  test("a salesperson's key sees only their own customers (and their orders) through the gateway, hidden fields masked", async () => {
    const r = await gateway.gql(JOINED(N), ALICE);
    expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
    const rows = (r.data as { tickets: TicketRow[] }).tickets;
    expect(rows).toHaveLength(N);
    for (const [k, t] of rows.entries()) {
      const i = k + 1;
      if (ownerOf(i) === 'alice') {
        expect(t.customer).toEqual({ id: customerGid(i), code: `C${pad(i)}`, ownerId: 'alice', creditLimit: null });
        expect(t.order?.code).toBe(`SO${pad(i)}-1`);
      } else {
        // The gateway keeps the reference the tickets service holds (the id); crmlink gives nothing else.
        expect(t.customer, t.id).toEqual({ id: customerGid(i), code: null, ownerId: null, creditLimit: null });
        expect(t.order, t.id).toEqual({ code: null, totalAmount: null });
      }
    }
  });

  test('through the gateway, statements do not grow with the number of references', async () => {
    const f = crm.fixture;
    const perTable = (sql: string[]) => ({
      customers: sql.filter((s) => s.startsWith('hub:') && s.includes('crm_customer')).length,
      orders: sql.filter((s) => s.startsWith('erp:') && s.includes('so_order')).length,
      total: sql.length,
    });
    for (const headers of [ADMIN, ALICE]) {
      await gateway.gql(JOINED(N), headers); // warm the drivers' column-type caches
      const few = await f.countStatements(() => gateway.gql(JOINED(2), headers));
      const many = await f.countStatements(() => gateway.gql(JOINED(N), headers));
      expect(perTable(many.sql), many.sql.join('\n')).toEqual(perTable(few.sql));
      expect(perTable(many.sql).orders, many.sql.join('\n')).toBe(1);
    }
  });
});

describe('_entities batching', () => {
  const Q = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Customer { id code } ... on SalesOrder { code totalAmount } } }`;
  const reps = (n: number) => [
    ...Array.from({ length: n }, (_, k) => ({ __typename: 'Customer', id: customerGid(k + 1) })),
    ...Array.from({ length: n }, (_, k) => ({ __typename: 'SalesOrder', id: orderId(k + 1) })),
  ];

  test('N references of two entities: one statement per source and table, for 2 or 12 keys, under row rules too', async () => {
    const f = crm.fixture;
    for (const headers of [ADMIN, ALICE]) {
      await crm.gql(Q, { r: reps(N) }, headers); // warm the drivers' column-type caches
      for (const n of [2, N]) {
        const { sql } = await f.countStatements(async () => {
          const r = await crm.gql(Q, { r: reps(n) }, headers);
          expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
          expect(r.data._entities).toHaveLength(2 * n);
        });
        const on = (prefix: string, table: string) => sql.filter((s) => s.startsWith(prefix) && s.includes(table)).length;
        // The customers, read once for the Customer references and the orders' row rule alike.
        expect(on('hub:', 'crm_customer'), sql.join('\n')).toBe(1);
        expect(on('erp:', 'so_order'), sql.join('\n')).toBe(1);
        // Admin sees every row: no key translation. Alice's row rule maps the orders' ERP customer codes to hub ids: one lookup.
        expect(on('hub:', 'crm_xref'), sql.join('\n')).toBe(headers === ALICE ? 1 : 0);
        expect(sql.length, sql.join('\n')).toBe(headers === ALICE ? 3 : 2);
      }
    }
  });
});

describe('_entities limits', () => {
  const Q = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Customer { code } } }`;
  const reps = (n: number) => Array.from({ length: n }, (_, k) => ({ __typename: 'Customer', id: customerGid((k % N) + 1) }));

  test('more references than a page holds are refused before any statement, naming the argument', async () => {
    const { sql } = await crm.fixture.countStatements(async () => {
      const r = await crm.gql(Q, { r: reps(1001) }, ADMIN);
      expect(r.errors?.[0]?.extensions?.code).toBe('VALIDATION_FAILED');
      expect(r.errors?.[0]?.message).toContain('representations: 1001 references; at most 1000');
    });
    expect(sql).toEqual([]);
    const ok = await crm.gql(Q, { r: reps(1000) }, ADMIN);
    expect(ok.errors, JSON.stringify(ok.errors)).toBeUndefined();
    expect(ok.data._entities).toHaveLength(1000);
  });

  test('the cost limit counts each reference, as it counts the ids of nodes(ids:)', async () => {
    // Each reference with a page of 50 orders costs about 52: 1,000 of them pass server.limits.cost (50,000).
    const nested = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Customer { code salesOrders(first: 50) { nodes { code } } } } }`;
    const over = await crm.gql(nested, { r: reps(1000) }, ADMIN);
    expect(over.errors?.[0]?.extensions?.code).toBe('QUERY_TOO_COMPLEX');
    const under = await crm.gql(nested, { r: reps(2) }, ADMIN);
    expect(under.errors, JSON.stringify(under.errors)).toBeUndefined();
    expect(under.data._entities.map((c: { code: string }) => c.code)).toEqual(['C0001', 'C0002']);
  });
});

describe('with introspection off', () => {
  test('_service { sdl } is refused with it; _entities still answers', async () => {
    const f = await createFixture({ customers: 2, server: '  federation: true\n  introspection: false' });
    try {
      const r = await f.gql(`{ _service { sdl } }`);
      expect(r.errors?.[0]?.message).toContain('_service');
      expect(r.data).toBeUndefined();
      const e = await f.gql(`{ _entities(representations: [{ __typename: "Customer", id: "${customerGid(1)}" }]) { ... on Customer { code } } }`);
      expect(e.errors, JSON.stringify(e.errors)).toBeUndefined();
      expect(e.data._entities).toEqual([{ code: 'C0001' }]);
    } finally {
      await f.close();
    }
  });
});

describe('with federation off (the default)', () => {
  test('the schema has no subgraph fields', async () => {
    const r = await crm.fixture.gql(`{ __type(name: "Query") { fields { name } } }`, {}, ADMIN);
    expect(r.data.__type.fields.map((x: { name: string }) => x.name)).toContain('_entities');
    const f = await createFixture({ customers: 1 });
    try {
      const plain = await f.gql(`{ __type(name: "Query") { fields { name } } }`);
      const names = plain.data.__type.fields.map((x: { name: string }) => x.name);
      expect(names).not.toContain('_entities');
      expect(names).not.toContain('_service');
    } finally {
      await f.close();
    }
  });
});
