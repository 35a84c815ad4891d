/**
 * A small company for the GraphQL tests: an ERP (orders, lines), a finance system (invoices) and
 * an OA (approval requests) on real databases, a SQLite hub holding golden customers with their
 * cross-references inserted directly (no sync needed), and a config parsed from YAML.
 *
 * Customers 1..n: owner alice/bob alternately (teams east/west); each has 3 orders of 2 lines, 2
 * invoices (one open with balance 100.50, one paid) and 1 approval. Keys differ per system on
 * purpose (ERP C0001, finance AR-C0001, OA 1001), so every cross-source join goes through crm_xref.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Knex } from 'knex';
import { parseConfig } from '../../config/load.js';
import type { Dialect } from '../../config/schema.js';
import { openApp, closeApp, type App } from '../../app/app.js';
import { silentLogger } from '../../core/logger.js';
import { createTestDatabase, fixtureKnex, type TestDatabase } from '../support/databases.js';
import { createYogaApp, type CrmYoga } from '../../server/yoga-app.js';
import { makeCreditCode } from '../../identity/credit-code.js';
import { ADMIN_ROLE, apiKeyAuth, openAuth } from '../support/auth.js';

export const pad = (i: number) => String(i).padStart(4, '0');
export const customerGid = (i: number) => `cus_${pad(i)}`;
export const ownerOf = (i: number) => (i % 2 === 1 ? 'alice' : 'bob');
export const teamOf = (i: number) => (i % 2 === 1 ? 'east' : 'west');

export interface FixtureOptions {
  customers?: number;
  /** Dialects of the erp, finance and oa sources (default all sqlite). */
  dialects?: { erp?: Dialect; finance?: Dialect; oa?: Dialect };
  /**
   * Extra YAML appended under `server:` (indented by the caller). Without an `auth:` block the
   * server is a development one open to an anonymous admin (DEV_AUTH): nothing is granted by
   * default, so the fixture says so itself.
   */
  server?: string;
  /** Extra sources: YAML lines appended under `sources:` (indented by the caller); no entity maps them. */
  sources?: string;
  /** Extra environment for ${VAR} interpolation. */
  env?: Record<string, string>;
  /**
   * `erp`: the OA approval rows hold the ERP customer code (C0001) instead of the OA's own customer
   * key, mapped with `refSource: erp`, and the OA mapping allows insert and update.
   */
  approvalRefSource?: 'erp';
  /** Extra YAML appended under `hub:` (indented by the caller), e.g. a `backup:` block. */
  hub?: string;
}

export interface Fixture {
  app: App;
  yoga: CrmYoga;
  dir: string;
  dbs: Record<'erp' | 'finance' | 'oa', TestDatabase>;
  knex: Record<'erp' | 'finance' | 'oa', Knex>;
  /** Statements sent by the hub and every source while `fn` runs. */
  countStatements(fn: () => Promise<unknown>): Promise<{ total: number; sql: string[] }>;
  gql(query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<GqlResponse>;
  addCustomers(from: number, to: number): Promise<void>;
  close(): Promise<void>;
}

export interface GqlResponse {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- test responses are walked freely
  data: any;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
}

export const SERVER_AUTH = apiKeyAuth(
  [
    { key: 'admin-key-0123456789', user: 'root', role: 'admin' },
    { key: 'alice-key-0123456789', user: 'alice', role: 'sales' },
    { key: 'bob-key-000123456789', user: 'bob', role: 'sales' },
    { key: 'east-key-00123456789', user: 'carol', role: 'manager', team: 'east' },
  ],
  { admin: ADMIN_ROLE, manager: '{ customers: team, write: true }', sales: '{ customers: own, write: true, hide: [Customer.creditLimit] }' },
);

/** The development server block of fixtures that bring no `auth:` of their own. */
export const DEV_AUTH = openAuth();

function connYaml(db: TestDatabase): string {
  if (db.dialect === 'sqlite') return JSON.stringify({ filename: db.database });
  const c = { ...db.connection, database: db.database };
  return JSON.stringify(Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined)));
}

export function configYaml(dir: string, dbs: Fixture['dbs'], server = '', approvalRefSource?: 'erp', extraSources = '', extraHub = ''): string {
  const serverBlock = /^\s*auth:/m.test(server) ? server : `${server}${DEV_AUTH}`;
  const approvalRef = approvalRefSource ? `{ column: customer_ref, type: ref, refSource: ${approvalRefSource} }` : 'customer_ref';
  const approvalWrite = approvalRefSource ? '\n        write: [insert, update]' : '';
  return `
hub:
  dialect: sqlite
  connection: { filename: ${JSON.stringify(join(dir, 'hub.db'))} }
${extraHub}
log: { level: silent }
sources:
  erp: { kind: erp, dialect: ${dbs.erp.dialect}, connection: ${connYaml(dbs.erp)} }
  finance: { kind: finance, dialect: ${dbs.finance.dialect}, connection: ${connYaml(dbs.finance)} }
  oa: { kind: oa, dialect: ${dbs.oa.dialect}, connection: ${connYaml(dbs.oa)} }
${extraSources}
entities:
  Customer:
    mode: replicated
    fields:
      vipLevel: { type: int, description: "Loyalty tier" }
    sources:
      erp:
        table: bas_customer
        key: [cust_code]
        fields: { code: cust_code, name: cust_name }
      finance:
        table: ar_customer
        key: [acct]
        fields: { name: acct_name }
      oa:
        table: oa_customer
        key: [id]
        fields: { name: name }
  SalesOrder:
    mode: federated
    owner: erp
    sources:
      erp:
        table: so_order
        key: [order_no]
        write: [insert, update, delete]
        fields:
          code: order_no
          customerId: cust_code
          orderDate: { column: order_date, type: date }
          status: { column: status, map: { "1": DRAFT, "2": APPROVED, "3": SHIPPED, "9": CANCELLED } }
          currency: currency
          totalAmount: { column: total_amount, type: decimal, scale: 2 }
          salesperson: salesperson
  SalesOrderLine:
    mode: federated
    sources:
      erp:
        table: so_line
        key: [order_no, line_no]
        fields:
          orderId: order_no
          lineNo: line_no
          productCode: product_code
          productName: product_name
          quantity: { column: qty, type: decimal, scale: 4 }
          unitPrice: { column: price, type: decimal, scale: 4 }
          amount: { column: amount, type: decimal, scale: 2 }
  Invoice:
    mode: federated
    sources:
      finance:
        table: ar_invoice
        key: [inv_id]
        identity: true
        write: []
        fields:
          code: inv_no
          customerId: cust_acct
          invoiceDate: { column: inv_date, type: date }
          dueDate: { column: due_date, type: date }
          amount: { column: amount, type: decimal, scale: 2 }
          paidAmount: { column: paid, type: decimal, scale: 2 }
          balance: { column: balance, type: decimal, scale: 2 }
          status: { column: status, map: { O: OPEN, P: PARTIAL, C: PAID, V: VOID } }
          currency: { constant: CNY }
  ApprovalRequest:
    mode: federated
    sources:
      oa:
        table: wf_request
        key: [req_id]${approvalWrite}
        fields:
          code: req_no
          customerId: ${approvalRef}
          title: title
          workflow: workflow
          status: { column: state, map: { "0": PENDING, "1": APPROVED, "2": REJECTED } }
          requester: requester
          submittedAt: { column: submitted_at, type: datetime }
          amount: { column: amount, type: decimal, scale: 2 }
server:
  limits: { depth: 8, cost: 50000 }
${serverBlock}
`;
}

async function createSchemas(k: Fixture['knex']): Promise<void> {
  await k.erp.schema.createTable('so_order', (t) => {
    t.string('order_no', 20).primary();
    t.string('cust_code', 20);
    t.date('order_date');
    t.string('status', 2);
    t.string('currency', 3);
    t.decimal('total_amount', 14, 2);
    t.string('salesperson', 40);
  });
  await k.erp.schema.createTable('so_line', (t) => {
    t.string('order_no', 20);
    t.integer('line_no');
    t.string('product_code', 20);
    t.string('product_name', 100);
    t.decimal('qty', 14, 4);
    t.decimal('price', 14, 4);
    t.decimal('amount', 14, 2);
    t.primary(['order_no', 'line_no']);
  });
  await k.finance.schema.createTable('ar_invoice', (t) => {
    t.increments('inv_id').primary();
    t.string('inv_no', 20);
    t.string('cust_acct', 20);
    t.date('inv_date');
    t.date('due_date');
    t.decimal('amount', 14, 2);
    t.decimal('paid', 14, 2);
    t.decimal('balance', 14, 2);
    t.string('status', 1);
  });
  await k.oa.schema.createTable('wf_request', (t) => {
    t.integer('req_id').primary();
    t.string('req_no', 20);
    t.string('customer_ref', 20);
    t.string('title', 200);
    t.string('workflow', 40);
    t.string('state', 1);
    t.string('requester', 40);
    t.dateTime('submitted_at');
    t.decimal('amount', 14, 2);
  });
}

async function seedSources(k: Fixture['knex'], from: number, to: number, approvalRefSource?: 'erp'): Promise<void> {
  const orders: Record<string, unknown>[] = [];
  const lines: Record<string, unknown>[] = [];
  const invoices: Record<string, unknown>[] = [];
  const approvals: Record<string, unknown>[] = [];
  for (let i = from; i <= to; i++) {
    for (let j = 1; j <= 3; j++) {
      const no = `SO${pad(i)}-${j}`;
      orders.push({
        order_no: no,
        cust_code: `C${pad(i)}`,
        order_date: `2024-0${j}-${String(10 + (i % 18)).padStart(2, '0')}`,
        status: String(j),
        currency: 'CNY',
        total_amount: (i * 100 + j * 10 + 0.25).toFixed(2),
        salesperson: ownerOf(i),
      });
      for (let l = 1; l <= 2; l++) {
        lines.push({ order_no: no, line_no: l, product_code: `P${l}`, product_name: `Product ${l}`, qty: '2.0000', price: (l * 5).toFixed(4), amount: (l * 10).toFixed(2) });
      }
    }
    invoices.push(
      { inv_no: `INV${pad(i)}-1`, cust_acct: `AR-C${pad(i)}`, inv_date: '2024-02-01', due_date: '2024-03-01', amount: '200.50', paid: '100.00', balance: '100.50', status: 'P' },
      { inv_no: `INV${pad(i)}-2`, cust_acct: `AR-C${pad(i)}`, inv_date: '2024-01-01', due_date: '2024-02-01', amount: '50.00', paid: '50.00', balance: '0.00', status: 'C' },
    );
    approvals.push({
      req_id: 1000 + i,
      req_no: `WF${pad(i)}`,
      customer_ref: approvalRefSource === 'erp' ? `C${pad(i)}` : String(1000 + i),
      title: `Credit increase for customer ${i}`,
      workflow: 'credit',
      state: String(i % 3),
      requester: ownerOf(i),
      submitted_at: new Date(Date.UTC(2024, 0, i % 28 + 1, 8)),
      amount: '5000.00',
    });
  }
  const chunked = async (knex: Knex, table: string, rows: Record<string, unknown>[]) => {
    for (let i = 0; i < rows.length; i += 100) await knex(table).insert(rows.slice(i, i + 100));
  };
  await chunked(k.erp, 'so_order', orders);
  await chunked(k.erp, 'so_line', lines);
  await chunked(k.finance, 'ar_invoice', invoices);
  await chunked(k.oa, 'wf_request', approvals);
}

const CITIES = ['Shanghai', 'Beijing', 'Shenzhen', null] as const;

async function seedHub(app: App, from: number, to: number): Promise<void> {
  const hub = app.hub;
  const now = '2024-05-01T00:00:00.000Z';
  await hub.knex.transaction(async (trx) => {
    for (let i = from; i <= to; i++) {
      const gid = customerGid(i);
      const values = {
        code: `C${pad(i)}`,
        name: i === 3 ? "O'Brien & Sons 贸易有限公司" : `Customer ${pad(i)} Ltd`,
        creditCode: makeCreditCode(`91310000MA1K${pad(i)}X`.slice(0, 17)),
        city: CITIES[i % 4],
        status: i % 5 === 0 ? 'INACTIVE' : 'ACTIVE',
        creditLimit: (i * 1000 + 0.5).toFixed(2),
        ownerId: ownerOf(i),
        ownerTeam: teamOf(i),
        vipLevel: i % 3,
        email: `c${i}@example.com`,
      };
      await trx(hub.table('Customer')).insert({ id: gid, ...hub.toRow('Customer', values), _version: 1, _seq: i, _updated_at: now, _deleted: 0 });
      await trx('crm_xref').insert([
        { entity: 'Customer', source: 'erp', source_key: `C${pad(i)}`, gid, linked_at: now },
        { entity: 'Customer', source: 'finance', source_key: `AR-C${pad(i)}`, gid, linked_at: now },
        { entity: 'Customer', source: 'oa', source_key: String(1000 + i), gid, linked_at: now },
      ]);
      await trx('crm_base').insert({ entity: 'Customer', source: 'erp', source_key: `C${pad(i)}`, values: '{}', hash: 'x', deleted: false, synced_at: now });
      await trx('crm_provenance').insert([
        { entity: 'Customer', gid, field: 'name', source: 'erp', changed_at: now },
        { entity: 'Customer', gid, field: 'creditLimit', source: 'finance', changed_at: now },
      ]);
    }
    await trx('crm_counter').insert({ name: 'seq', value: to }).onConflict('name').merge();
  });
}

export async function createFixture(opts: FixtureOptions = {}): Promise<Fixture> {
  const n = opts.customers ?? 10;
  const dir = mkdtempSync(join(tmpdir(), 'crmlink-gql-'));
  const d = opts.dialects ?? {};
  const dbs = {
    erp: await createTestDatabase(d.erp ?? 'sqlite', 'erp'),
    finance: await createTestDatabase(d.finance ?? 'sqlite', 'fin'),
    oa: await createTestDatabase(d.oa ?? 'sqlite', 'oa'),
  };
  const knex = { erp: fixtureKnex(dbs.erp), finance: fixtureKnex(dbs.finance), oa: fixtureKnex(dbs.oa) };
  await createSchemas(knex);
  await seedSources(knex, 1, n, opts.approvalRefSource);
  const loaded = parseConfig(configYaml(dir, dbs, opts.server ?? '', opts.approvalRefSource, opts.sources, opts.hub ?? ''), { env: { ...process.env, ...(opts.env ?? {}) }, baseDir: dir });
  const app = await openApp(loaded, { logger: silentLogger });
  await seedHub(app, 1, n);
  const yoga = createYogaApp(app, { logger: false });

  const gql: Fixture['gql'] = async (query, variables, headers) => {
    const res = await yoga.fetch('http://x/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(headers ?? {}) },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as { data?: unknown; errors?: GqlResponse['errors'] };
    return { status: res.status, data: body.data, ...(body.errors ? { errors: body.errors } : {}) };
  };

  return {
    app,
    yoga,
    dir,
    dbs,
    knex,
    gql,
    async countStatements(fn) {
      const sql: string[] = [];
      const offs = (['erp', 'finance', 'oa'] as const).map((s) => app.sources.driver(s).onQuery((q) => sql.push(`${s}: ${q}`)));
      const onHub = (q: { sql?: string }) => sql.push(`hub: ${q.sql ?? ''}`);
      app.hub.knex.on('query', onHub);
      try {
        await fn();
      } finally {
        offs.forEach((off) => off());
        app.hub.knex.removeListener('query', onHub);
      }
      return { total: sql.length, sql };
    },
    async addCustomers(from, to) {
      await seedSources(knex, from, to, opts.approvalRefSource);
      await seedHub(app, from, to);
    },
    async close() {
      await closeApp(app);
      await Promise.all(Object.values(knex).map((k) => k.destroy()));
      await Promise.all(Object.values(dbs).map((db) => db.drop()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
