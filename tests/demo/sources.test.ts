/**
 * The demo config against the seeded databases, through the real connector layer: every mapped
 * entity reads through SourceSet (driver + mapping) without a transform error, introspection sees
 * the vendor schemas, and change capture reads the naive Asia/Shanghai timestamps of the ERP and
 * the ISO ones of finance, picking up the demo edits. The example queries validate against the
 * GraphQL schema generated from the demo config.
 */
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfigFile, parseConfig, type LoadedConfig } from '../../config/load.js';
import { SourceSet } from '../../connectors/registry.js';
import type { Checkpoint, Row } from '../../connectors/driver.js';
import type { CrmRecord } from '../../model/entities.js';
import { createRequire } from 'node:module';
import { closeApp, openApp } from '../../app/app.js';
import { silentLogger } from '../../core/logger.js';
import { buildSchema } from '../../schema/index.js';
import { OPERATION_MODULES } from '../../ops/index.js';
import { DEMO_QUERIES, EDIT_TARGETS, applyDemoEdits, prepareDemo, type PreparedDemo } from '../../demo/index.js';

const root = mkdtempSync(join(tmpdir(), 'crmlink-demo-src-'));
let demo: PreparedDemo;
let loaded: LoadedConfig;
let sources: SourceSet;

beforeAll(async () => {
  demo = await prepareDemo(join(root, 'demo'));
  loaded = loadConfigFile(demo.configPath, {});
  sources = SourceSet.open(loaded);
});
afterAll(async () => {
  await sources?.destroy();
  rmSync(root, { recursive: true, force: true });
});

async function readAll(entity: string, source: string): Promise<CrmRecord[]> {
  const mapping = sources.mapping(entity, source);
  const out: CrmRecord[] = [];
  for await (const page of sources.connector(source).readPages({ ...mapping.table, key: mapping.key, columns: mapping.columns, pageSize: 50 })) {
    for (const row of page) out.push(mapping.toRecord(row));
  }
  return out;
}

/** Entity, source and table of every demo mapping. */
const MAPPED: [string, string, string][] = [
  ['Customer', 'erp', 'Customer'],
  ['Customer', 'finance', 'fin_customer'],
  ['Product', 'erp', 'Inventory'],
  ['SalesOrder', 'erp', 'SO_SOMain'],
  ['SalesOrderLine', 'erp', 'SO_SODetails'],
  ['Invoice', 'finance', 'ar_invoice'],
  ['Payment', 'finance', 'ar_receipt'],
  ['ApprovalRequest', 'oa', 'v_approval'],
  ['SurveyResponse', 'surveys', 'responses'],
];

describe('demo sources through SourceSet', () => {

  it('every source is reachable', async () => {
    for (const name of sources.names()) expect((await sources.connector(name).test()).ok, name).toBe(true);
  });

  it.each(MAPPED)('reads every %s row from %s (%s) without a transform error', async (entity, source, table) => {
    expect(sources.mapping(entity, source).table.table).toBe(table);
    const records = await readAll(entity, source);
    expect(records.length).toBeGreaterThan(0);
    if (table === 'v_approval') expect(records.length).toBe(demo.seed.counts!.workflow_requestbase);
    else if (table === 'responses') expect(records.length).toBe(demo.seed.counts!['surveys.xlsx']);
    else expect(records.length).toBe(demo.seed.counts![table]);
  });

  it('maps values to the canonical model: codes, money, dates, zones', async () => {
    const customers = await readAll('Customer', 'erp');
    expect(new Set(customers.map((c) => c.status))).toEqual(new Set(['ACTIVE', 'INACTIVE']));
    for (const c of customers) {
      expect(c.name).toBe(String(c.name).trim());
      expect(String(c.name)).not.toMatch(/[\u3000\uff01-\uff5e]/);
      expect(c.creditLimit).toMatch(/^\d+(\.\d{1,2})?$/);
      expect(c.createdAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000Z$/);
    }
    const orders = await readAll('SalesOrder', 'erp');
    expect(new Set(orders.map((o) => o.currency))).toEqual(new Set(['CNY']));
    expect(orders.every((o) => /^\d{4}-\d{2}-\d{2}$/.test(String(o.orderDate)))).toBe(true);
    const approvals = await readAll('ApprovalRequest', 'oa');
    expect(new Set(approvals.map((a) => a.status))).toEqual(new Set(['PENDING', 'APPROVED', 'REJECTED', 'WITHDRAWN']));
    // OA wall clock 'YYYY-MM-DD HH:MM:SS' in Asia/Shanghai → UTC instant.
    const raw = (await sources.driver('oa').select({ table: 'v_approval', columns: ['requestid', 'created_at'], limit: 1, orderBy: [{ column: 'requestid', direction: 'asc' }] }))[0];
    const first = approvals.find((a) => a.code === String(raw.requestid))!;
    expect(Date.parse(String(first.submittedAt))).toBe(Date.parse(`${String(raw.created_at).replace(' ', 'T')}+08:00`));
    expect(approvals.some((a) => a.customerId === null && a.customerName)).toBe(true);
  });

  it('introspection sees the vendor schemas', async () => {
    const [customer] = await sources.driver('erp').introspect({ table: 'Customer' });
    expect(customer.primaryKey).toEqual(['cCusCode']);
    const types = Object.fromEntries(customer.columns.map((c) => [c.name, c.type.toLowerCase()]));
    expect(types.iCusCreLine).toContain('decimal');
    expect(types.cCusName).toContain('nvarchar');
  });

  it('change capture reads both timestamp styles and picks up the demo edits', async () => {
    // The edits change the databases: a demo of its own, so the other tests read the seed as it is.
    const edited = await prepareDemo(join(root, 'edited'));
    const own = SourceSet.open(loadConfigFile(edited.configPath, {}));
    onTestFinished(() => own.destroy());
    const drain = async (entity: string, source: string, start: Checkpoint | null) => {
      const mapping = own.mapping(entity, source);
      let cp = start;
      const rows: Row[] = [];
      for (;;) {
        const batch = await own.driver(source).changesSince(mapping.capture, cp, { pageSize: 100 });
        rows.push(...batch.changes.flatMap((c) => (c.row ? [c.row] : [])));
        cp = batch.checkpoint;
        if (!batch.hasMore) break;
      }
      return { rows, cp };
    };
    const erp1 = await drain('Customer', 'erp', null);
    const fin1 = await drain('Customer', 'finance', null);
    expect(erp1.rows).toHaveLength(edited.seed.counts!.Customer);
    expect(fin1.rows).toHaveLength(edited.seed.counts!.fin_customer);

    const edits = await applyDemoEdits(edited.files);
    const erp2 = await drain('Customer', 'erp', erp1.cp);
    const fin2 = await drain('Customer', 'finance', fin1.cp);
    const erpKeys = new Set(erp2.rows.map((r) => r.cCusCode));
    const finKeys = new Set(fin2.rows.map((r) => r.acct_no));
    for (const e of edits.filter((x) => x.system === 'erp')) expect(erpKeys.has(e.erpCode), e.erpCode).toBe(true);
    for (const e of edits.filter((x) => x.system === 'finance')) expect(finKeys.has(e.acctNo), String(e.acctNo)).toBe(true);
    expect(erpKeys).toEqual(new Set([EDIT_TARGETS.cleanMerge, EDIT_TARGETS.phoneConflict, EDIT_TARGETS.creditLimitBoth, EDIT_TARGETS.erpOnly]));
    expect(finKeys.size).toBe(3);
  });
});

describe('demo queries against the schema the demo config generates', () => {
  it('validate without errors', async () => {
    // @graphql-tools builds the schema with graphql's CommonJS build: validate with the same one.
    const { parse, validate } = createRequire(import.meta.url)('graphql') as typeof import('graphql');
    const app = await openApp(loaded, { logger: silentLogger });
    try {
      const schema = buildSchema(app, OPERATION_MODULES);
      for (const q of DEMO_QUERIES) expect(validate(schema, parse(q.query)).map((e) => e.message), q.name).toEqual([]);
    } finally {
      await closeApp(app);
    }
  });
});

describe('demo databases under the vendor presets', () => {
  it('read through yonyou-u8 (ERP) and weaver-ecology (OA) as well as through the demo mappings', async () => {
    const files = demo.files;
    const presetConfig = parseConfig(
      [
        'sources:',
        `  erp: { kind: erp, dialect: sqlite, connection: { filename: ${JSON.stringify(files.erp)} }, timezone: Asia/Shanghai, preset: yonyou-u8 }`,
        `  oa: { kind: oa, dialect: sqlite, connection: { filename: ${JSON.stringify(files.oa)} }, timezone: Asia/Shanghai, preset: weaver-ecology }`,
      ].join('\n'),
      { env: {} },
    );
    const viaPreset = SourceSet.open(presetConfig);
    try {
      // U8 reads the same ERP tables as the demo mappings; weaver-ecology reads approvals from its
      // workflow table. U8 keeps receivables in Ap_Vouch; the demo keeps them in its finance system instead.
      const cases: [string, string, string][] = [...MAPPED.filter(([, source]) => source === 'erp'), ['ApprovalRequest', 'oa', 'workflow_requestbase']];
      for (const [entity, source, table] of cases) {
        const mapping = viaPreset.mapping(entity, source);
        let n = 0;
        for await (const page of viaPreset.driver(source).readPages({ ...mapping.table, key: mapping.key, columns: mapping.columns })) {
          for (const row of page) {
            mapping.toRecord(row);
            n++;
          }
        }
        const [count] = await viaPreset.driver(source).aggregate({ table, aggregates: [{ fn: 'count', as: 'n' }] });
        expect(n, `${entity} via preset`).toBe(Number(count.n));
        expect(n).toBeGreaterThanOrEqual(demo.seed.counts![table]);
      }
    } finally {
      await viaPreset.destroy();
    }
  });
});
