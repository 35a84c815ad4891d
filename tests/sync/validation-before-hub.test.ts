/**
 * Bad values never reach the hub (finance on MariaDB, hub on SQLite): every value is checked
 * against the model when it is canonicalized (enum, date, decimal, required), a bad row is parked
 * naming the field, value and source column, and `config check --sample` refuses the mapping of a
 * free-text column onto an enum field before the first sync.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Knex } from 'knex';
import { parseConfig } from '../../config/load.js';
import { openApp, closeApp, type App } from '../../app/app.js';
import { silentLogger } from '../../core/logger.js';
import { main } from '../../cli/main.js';
import { defaultContext } from '../../cli/context.js';
import { runJob } from '../../sync/engine.js';
import { listParked } from '../../sync/status.js';
import { createTestDatabase, fixtureKnex, requireDialect, type TestDatabase } from '../support/databases.js';
import { openAuth } from '../support/auth.js';
import { askGraphQL } from '../support/graphql.js';

let fin: TestDatabase | null = null;
let hubDb: TestDatabase | null = null;
let k: Knex | null = null;
let dir = '';
let yaml = '';

beforeAll(async () => {
  if (!(await requireDialect('mysql'))) return;
  fin = await createTestDatabase('mysql', 'valfin');
  hubDb = await createTestDatabase('sqlite', 'valhub');
  k = fixtureKnex(fin);
  await k.schema.createTable('invoice', (t) => {
    t.string('no', 20).primary();
    t.string('ref_no', 20).nullable();
    t.decimal('amount', 12, 2).nullable();
    t.string('remark', 100).nullable();
    t.string('issued', 20).nullable();
  });
  await k('invoice').insert([
    { no: '1', ref_no: 'INV-1', amount: '10.00', remark: 'OPEN', issued: '2024-01-05' },
    { no: '2', ref_no: 'INV-2', amount: '20.00', remark: 'Dublin', issued: '2024-01-06' },
    { no: '3', ref_no: 'INV-3', amount: '30.00', remark: 'PAID', issued: '2024-13-45' },
    { no: '4', ref_no: null, amount: '40.00', remark: 'PAID', issued: '2024-01-08' },
    { no: '5', ref_no: 'INV-5', amount: '50.00', remark: 'SP', issued: '2024-01-09' },
  ]);
  dir = mkdtempSync(join(tmpdir(), 'crmlink-val-'));
  yaml = `
hub: { dialect: sqlite, connection: { filename: ${JSON.stringify(hubDb.database)} } }
sources:
  finance: { kind: finance, dialect: mysql, connection: ${JSON.stringify(fin.connection)} }
entities:
  Invoice:
    sources:
      finance:
        table: invoice
        key: [no]
        fields:
          code: ref_no
          amount: { column: amount, type: decimal, scale: 2 }
          status: remark
          invoiceDate: issued
sync:
  jobs:
    invoices: { entity: Invoice, sources: [finance], direction: pull }
server:${openAuth()}log: { level: silent }
`;
  writeFileSync(join(dir, 'crmlink.yaml'), yaml);
});

afterAll(async () => {
  await k?.destroy();
  await fin?.drop();
  await hubDb?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('values are validated before the hub', () => {
  it('config check --sample refuses a free-text column on an enum field, naming column and values', async () => {
    if (!fin) return;
    const out: string[] = [];
    const ctx = { ...defaultContext(), out: (t: string) => out.push(t), err: (t: string) => out.push(t) };
    expect(await main(['node', 'crmlink', 'config', 'check', '--sample', '100', '-c', join(dir, 'crmlink.yaml')], ctx)).toBe(2);
    const text = out.join('\n');
    expect(text).toContain('sample: 5 rows of 1 mapped tables (Invoice/finance)');
    expect(text).toMatch(/refused: Invoice\.status from finance \(invoice\.remark\): 2 of the sampled rows is not one of OPEN, PARTIAL, PAID, VOID; e\.g\. "Dublin", "SP"/);
    expect(text).toMatch(/refused: Invoice\.invoiceDate from finance \(invoice\.issued\): 1 of the sampled rows cannot be read: .*not a date.*; e\.g\. "2024-13-45"/);
    expect(text).toMatch(/refused: Invoice\.code from finance \(invoice\.ref_no\): 1 of the sampled rows is required but empty/);
  });

  it('the sync parks every bad row with field, value and column; the hub and GraphQL hold only good values', async () => {
    if (!fin) return;
    let app: App | null = null;
    try {
      app = await openApp(parseConfig(yaml), { logger: silentLogger });
      const report = await runJob(app, 'invoices');
      expect(report.totals.parked).toBe(4);
      const parked = await listParked(app, { job: 'invoices' });
      const byKey = Object.fromEntries(parked.map((p) => [p.sourceKey, p.message]));
      expect(byKey['2']).toMatch(/Invoice\.status from finance\.invoice\.remark \(key 2\): "Dublin" is not one of OPEN, PARTIAL, PAID, VOID; map the source's codes/);
      expect(byKey['3']).toMatch(/Invoice\.invoiceDate from finance\.invoice\.issued \(key 3\): not a date \(YYYY-MM-DD\); value "2024-13-45"/);
      expect(byKey['4']).toMatch(/Invoice\.code from finance\.invoice\.ref_no \(key 4\): null is required but empty/);
      expect(byKey['5']).toMatch(/"SP" is not one of/);
      const codes = ((await app.hub.knex('crm_invoice').select('code')) as { code: string }[]).map((r) => r.code);
      expect(codes).toEqual(['INV-1']);
      const body = await askGraphQL(app, '{ invoices(first: 10) { nodes { code status invoiceDate } } }');
      expect(body.errors).toBeUndefined();
      expect(body.data).toEqual({ invoices: { nodes: [{ code: 'INV-1', status: 'OPEN', invoiceDate: '2024-01-05' }] } });
    } finally {
      if (app) await closeApp(app);
    }
  });
});
