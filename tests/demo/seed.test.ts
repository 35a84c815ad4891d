/**
 * The embedded demo's data: the three seeded databases, their overlaps and conflicts as designed
 * (demo/generate.ts), valid credit codes, idempotent seeding, the generated config, the mappings
 * reading every seeded row, and the edits between two sync runs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Knex } from 'knex';
import { parse } from 'graphql';
import { parseConfig } from '../../config/load.js';
import { EntityMapping } from '../../connectors/mapping/entity-mapping.js';
import { createConnector } from '../../connectors/registry.js';
import type { Connector } from '../../connectors/connector.js';
import { validateCreditCode } from '../../identity/credit-code.js';
import { matchAll, type MatchInput } from '../../identity/matcher.js';
import { normalizeCompanyName } from '../../identity/normalize.js';
import {
  DEMO_GRAPHIQL_DOCUMENT,
  DEMO_JOB,
  DEMO_PULL_JOBS,
  DEMO_QUERIES,
  DEMO_TABLES,
  EDIT_TARGETS,
  applyDemoEdits,
  demoConfigYaml,
  describeEdits,
  generateDemoData,
  prepareDemo,
  runDemoScenario,
  seedDemo,
  type DemoFiles,
  type DemoPlan,
} from '../../demo/index.js';
import { openSqlite } from '../../demo/seed.js';

type DbRow = Record<string, unknown>;

const root = mkdtempSync(join(tmpdir(), 'crmlink-demo-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function withDb<T>(file: string, fn: (db: Knex) => Promise<T>): Promise<T> {
  const db = openSqlite(file);
  try {
    return await fn(db);
  } finally {
    await db.destroy();
  }
}

async function rows(file: string, table: string): Promise<DbRow[]> {
  return withDb(file, (db) => db(table).select('*') as Promise<DbRow[]>);
}

const cents = (v: unknown): number => Math.round(Number(v) * 100);

describe('seedDemo', () => {
  const dir = join(root, 'default');
  let files: DemoFiles;
  let plan: DemoPlan;
  let counts: Record<string, number>;

  beforeAll(async () => {
    const res = await seedDemo(dir);
    expect(res.created).toBe(true);
    files = res.files;
    plan = res.plan!;
    counts = res.counts!;
  });

  it('creates the three databases with the expected tables, view and counts', async () => {
    for (const [system, tables] of Object.entries(DEMO_TABLES)) {
      const file = files[system as keyof DemoFiles];
      expect(existsSync(file)).toBe(true);
      const present = await withDb(file, (db) => db('sqlite_master').whereIn('type', ['table', 'view']).pluck('name') as Promise<string[]>);
      for (const t of tables) expect(present, `${system}.${t}`).toContain(t);
      for (const t of tables) expect((await rows(file, t)).length, `${system}.${t}`).toBe(counts[t]);
    }
    expect(await rows(files.oa, 'v_approval')).toHaveLength(counts.workflow_requestbase);

    expect(counts.Customer).toBe(40);
    expect(counts.fin_customer).toBe(38); // 34 linked + 4 finance-only
    expect(counts.Inventory).toBeGreaterThanOrEqual(20);
    expect(counts.SO_SOMain).toBeGreaterThanOrEqual(150); // ~5 orders a customer
    expect(counts.SO_SOMain).toBeLessThanOrEqual(280);
    expect(counts.SO_SODetails / counts.SO_SOMain).toBeGreaterThanOrEqual(1.5); // 1–4 lines
    expect(counts.SO_SODetails / counts.SO_SOMain).toBeLessThanOrEqual(3.5);
    expect(counts.ar_invoice).toBeGreaterThan(100);
    expect(counts.ar_receipt).toBeGreaterThan(80);
    expect(counts.workflow_requestbase).toBeGreaterThan(30);
    expect(existsSync(join(dir, 'demo-seed.json'))).toBe(true);
  });

  it('keeps the books consistent to the cent', async () => {
    const orders = await rows(files.erp, 'SO_SOMain');
    const lines = await rows(files.erp, 'SO_SODetails');
    const byOrder = new Map<number, number>();
    for (const l of lines) {
      expect(cents(l.iSum)).toBe(Math.round((Math.round(Number(l.iQuantity) * 1000) * cents(l.iTaxUnitPrice)) / 1000));
      byOrder.set(Number(l.ID), (byOrder.get(Number(l.ID)) ?? 0) + cents(l.iSum));
    }
    for (const o of orders) {
      expect(byOrder.get(Number(o.ID)), `order ${String(o.cSOCode)}`).toBe(cents(o.iMoney));
      expect(o.dModifyDate).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    }
    expect(new Set(orders.map((o) => o.cSOCode)).size).toBe(orders.length);

    const invoices = await rows(files.finance, 'ar_invoice');
    const receipts = await rows(files.finance, 'ar_receipt');
    const paidBy = new Map<string, number>();
    for (const r of receipts) paidBy.set(String(r.inv_no), (paidBy.get(String(r.inv_no)) ?? 0) + cents(r.amount));
    for (const inv of invoices) {
      const paid = cents(inv.paid);
      expect(paidBy.get(String(inv.inv_no)) ?? 0, String(inv.inv_no)).toBe(paid);
      if (inv.status === 'void') expect(cents(inv.balance)).toBe(0);
      else expect(cents(inv.balance)).toBe(cents(inv.amount) - paid);
      if (inv.status === 'paid') expect(paid).toBe(cents(inv.amount));
      if (inv.status === 'open') expect(paid).toBe(0);
      if (inv.status === 'partial') expect(paid > 0 && paid < cents(inv.amount)).toBe(true);
      expect(inv.updated_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    }
    // Invoices of ERP orders carry the order total.
    const totals = new Map(orders.map((o) => [String(o.cSOCode), cents(o.iMoney)]));
    for (const inv of invoices.filter((i) => i.so_no !== null)) expect(cents(inv.amount)).toBe(totals.get(String(inv.so_no)));
  });

  it('seeds only valid, unique unified social credit codes', async () => {
    const erp = (await rows(files.erp, 'Customer')).map((r) => r.cCusRegCode).filter((c): c is string => typeof c === 'string');
    const fin = (await rows(files.finance, 'fin_customer')).map((r) => r.credit_code).filter((c): c is string => typeof c === 'string');
    expect(erp.length).toBeGreaterThanOrEqual(36);
    expect(fin.length).toBeGreaterThanOrEqual(30);
    for (const code of [...erp, ...fin]) expect(validateCreditCode(code), code).toEqual({ ok: true, code });
    expect(new Set(erp).size).toBe(erp.length);
    expect(new Set(fin).size).toBe(fin.length);
  });

  it('puts customers in both systems under different keys, some with name variants, some already in conflict', async () => {
    const erp = await rows(files.erp, 'Customer');
    const fin = await rows(files.finance, 'fin_customer');
    const erpBy = new Map(erp.map((r) => [String(r.cCusCode), r]));
    const finBy = new Map(fin.map((r) => [String(r.acct_no), r]));

    const byKind = (k: string) => plan.links.filter((l) => l.kind === k);
    expect(byKind('creditCode')).toHaveLength(28);
    expect(byKind('name')).toHaveLength(4);
    expect(byKind('phone')).toHaveLength(2);
    expect(plan.erpOnly).toHaveLength(6);
    expect(plan.financeOnly).toHaveLength(4);
    for (const code of plan.erpOnly) expect(erpBy.has(code)).toBe(true);
    for (const acct of plan.financeOnly) expect(finBy.has(acct)).toBe(true);

    // Different key spaces, and finance numbers its accounts in its own order.
    for (const l of plan.links) {
      expect(l.erpCode).toMatch(/^C\d{4}$/);
      expect(l.acctNo).toMatch(/^AR-\d{4}$/);
    }
    expect(plan.links.filter((l) => l.erpCode.slice(1) === l.acctNo.slice(3)).length).toBeLessThan(5);

    // Sure pairs share the credit code; some of them are spelled differently.
    for (const l of byKind('creditCode')) {
      expect(finBy.get(l.acctNo)!.credit_code).toBe(erpBy.get(l.erpCode)!.cCusRegCode);
    }
    const spelled = byKind('creditCode').filter((l) => l.erpName.trim() !== l.financeName);
    expect(spelled.length).toBeGreaterThanOrEqual(5);
    const huawei = plan.links.find((l) => l.erpName === '北京华为技术有限公司');
    expect(huawei).toMatchObject({ kind: 'creditCode', financeName: '华为技术（北京）有限公司' });
    expect(spelled.some((l) => l.financeName.includes('\u3000'))).toBe(true); // full-width space
    expect(byKind('creditCode').some((l) => l.erpName.endsWith('\u3000'))).toBe(true); // ERP-side padding

    // Name-variant-only pairs: no credit code in finance, a different string, the same normalised name.
    for (const l of byKind('name')) {
      expect(finBy.get(l.acctNo)!.credit_code).toBeNull();
      expect(l.financeName).not.toBe(l.erpName);
      expect(normalizeCompanyName(l.financeName).core).toBe(normalizeCompanyName(l.erpName).core);
    }

    // Already in conflict: same company, different credit limit or phone.
    const differs = plan.links.filter((l) => l.differs.length > 0);
    expect(differs.filter((l) => l.differs.includes('creditLimit'))).toHaveLength(4);
    expect(differs.filter((l) => l.differs.includes('phone'))).toHaveLength(2);
    for (const l of plan.links) {
      const e = erpBy.get(l.erpCode)!;
      const f = finBy.get(l.acctNo)!;
      expect(cents(e.iCusCreLine) !== cents(f.credit_limit), `${l.erpCode} creditLimit`).toBe(l.differs.includes('creditLimit'));
      expect(e.cCusPhone !== f.tel, `${l.erpCode} phone`).toBe(l.differs.includes('phone'));
    }
  });

  it('matches across systems exactly as designed (identity rules creditCode sure, name and phone probable)', async () => {
    const erp = await rows(files.erp, 'Customer');
    const fin = await rows(files.finance, 'fin_customer');
    const str = (v: unknown) => (typeof v === 'string' ? v : null);
    const left: MatchInput[] = erp.map((r) => ({ id: String(r.cCusCode), name: str(r.cCusName), creditCode: str(r.cCusRegCode), phone: str(r.cCusPhone) }));
    const right: MatchInput[] = fin.map((r) => ({ id: String(r.acct_no), name: str(r.cust_name), creditCode: str(r.credit_code), phone: str(r.tel) }));
    const { matches, invalid } = matchAll(left, right, [{ rule: 'creditCode', certainty: 'sure' }, { rule: 'name' }, { rule: 'phone' }]);
    expect(invalid).toEqual([]);
    // The strongest agreeing rule is the designed kind; a credit code links on its own.
    const got = matches.map((m) => `${m.a}|${m.b}|${m.evidence[0].rule}|${m.evidence[0].rule === 'creditCode' ? m.certainty : '-'}`).sort();
    const want = plan.links.map((l) => `${l.erpCode}|${l.acctNo}|${l.kind}|${l.kind === 'creditCode' ? 'sure' : '-'}`).sort();
    expect(got).toEqual(want);
    // The finance-only company sharing a word with an ERP customer matches nothing.
    expect(plan.falseFriend).not.toBeNull();
    expect(matches.some((m) => m.b === plan.falseFriend!.acctNo)).toBe(false);
  });

  it('has OA requests naming customers as people type them', async () => {
    const forms = await rows(files.oa, 'formtable_main_12');
    const erpNames = new Set((await rows(files.erp, 'Customer')).map((r) => String(r.cCusName).trim()));
    const withoutCode = forms.filter((f) => f.khbm === '');
    expect(withoutCode.length).toBeGreaterThan(5);
    expect(forms.filter((f) => /^C\d{4}$/.test(String(f.khbm))).length).toBeGreaterThan(10);
    expect(forms.some((f) => !erpNames.has(String(f.khmc)))).toBe(true); // variants, short names
    const financeOnlyNames = new Set((await rows(files.finance, 'fin_customer')).filter((r) => plan.financeOnly.includes(String(r.acct_no))).map((r) => r.cust_name));
    expect(forms.some((f) => financeOnlyNames.has(f.khmc))).toBe(true);
    const view = await rows(files.oa, 'v_approval');
    expect(new Set(view.map((v) => v.flow_state))).toEqual(new Set(['审批中', '归档', '退回', '撤回']));
    expect(view.every((v) => v.khbm === null || /^C\d{4}$/.test(String(v.khbm)))).toBe(true);
  });

  it('is idempotent: seeding again keeps the data, force re-creates it and resets the hub', async () => {
    await withDb(files.erp, (db) => db('Customer').where({ cCusCode: 'C0002' }).update({ cCusPhone: 'edited' }));
    const again = await seedDemo(dir);
    expect(again).toEqual({ created: false, files });
    expect((await rows(files.erp, 'Customer')).length).toBe(40);
    expect((await rows(files.finance, 'fin_customer')).length).toBe(38);
    expect((await rows(files.erp, 'Customer')).find((r) => r.cCusCode === 'C0002')!.cCusPhone).toBe('edited');

    writeFileSync(join(dir, 'hub.db'), 'stale hub');
    const forced = await seedDemo(dir, { force: true });
    expect(forced.created).toBe(true);
    expect(existsSync(join(dir, 'hub.db'))).toBe(false);
    const c2 = (await rows(files.erp, 'Customer')).find((r) => r.cCusCode === 'C0002')!;
    expect(c2.cCusPhone).not.toBe('edited');
    expect((await rows(files.erp, 'SO_SOMain')).length).toBe(counts.SO_SOMain);
  });

  it('is deterministic: the same options seed the same rows', async () => {
    const other = await seedDemo(join(root, 'again'));
    for (const [system, tables] of Object.entries(DEMO_TABLES)) {
      for (const t of tables) {
        const a = await rows(files[system as keyof DemoFiles], t);
        const b = await rows(other.files[system as keyof DemoFiles], t);
        expect(b, `${system}.${t}`).toEqual(a);
      }
    }
  });
});

describe('demo sizes', () => {
  it('scales the same design to more customers', async () => {
    const res = await seedDemo(join(root, 'big'), { customers: 2000 });
    expect(res.counts!.Customer).toBe(2000);
    expect(res.counts!.fin_customer).toBe(2000 - 300 + 200); // 85% linked + 10% finance-only
    const codes = (await rows(res.files.erp, 'Customer')).map((r) => r.cCusRegCode).filter((c): c is string => typeof c === 'string');
    expect(new Set(codes).size).toBe(codes.length);
    for (const code of codes) expect(validateCreditCode(code).ok).toBe(true);
  });

  it('refuses sizes the design cannot hold', () => {
    expect(() => generateDemoData({ customers: 3 })).toThrow(/from 10/);
    expect(() => generateDemoData({ customers: 10.5 })).toThrow(RangeError);
  });

  it('every designed link is found by the identity rules at larger sizes too', () => {
    const d = generateDemoData({ customers: 300 });
    const str = (v: unknown) => (typeof v === 'string' ? v : null);
    const left: MatchInput[] = d.erp.Customer.map((r) => ({ id: String(r.cCusCode), name: str(r.cCusName), creditCode: str(r.cCusRegCode), phone: str(r.cCusPhone) }));
    const right: MatchInput[] = d.finance.fin_customer.map((r) => ({ id: String(r.acct_no), name: str(r.cust_name), creditCode: str(r.credit_code), phone: str(r.tel) }));
    const { matches } = matchAll(left, right, [{ rule: 'creditCode', certainty: 'sure' }, { rule: 'name' }, { rule: 'phone' }]);
    const found = new Map(matches.map((m) => [`${m.a}|${m.b}`, m]));
    for (const l of d.plan.links) expect(found.get(`${l.erpCode}|${l.acctNo}`)?.evidence[0].rule, l.erpCode).toBe(l.kind);
    // Generated short names may look like other companies: only ever probable, never sure.
    const designed = new Set(d.plan.links.map((l) => `${l.erpCode}|${l.acctNo}`));
    for (const m of matches) if (!designed.has(`${m.a}|${m.b}`)) expect(m.certainty).toBe('probable');
  });
});

describe('demo config', () => {
  const dir = join(root, 'cfg');

  it('passes parseConfig (relative paths, loaded from its directory)', () => {
    const loaded = parseConfig(demoConfigYaml(dir), { file: join(dir, 'crmlink.yaml'), env: {} });
    const c = loaded.config;
    expect(Object.keys(c.sources).sort()).toEqual(['erp', 'finance', 'oa', 'surveys']);
    expect(c.sources.surveys).toMatchObject({ connector: 'xlsx', connection: { filename: './surveys.xlsx' } });
    expect(c.sources.erp.timezone).toBe('Asia/Shanghai');
    expect(c.sources.oa.timezone).toBe('Asia/Shanghai');
    expect(c.hub).toMatchObject({ dialect: 'sqlite', connection: { filename: './hub.db' } });
    expect(loaded.baseDir).toBe(dir);
    expect(c.entities.Customer!.mode).toBe('replicated');
    expect(Object.keys(c.entities.Customer!.sources)).toEqual(['erp', 'finance']);
    expect(c.entities.Customer!.sources.erp).toMatchObject({ table: 'Customer', key: ['cCusCode'], write: ['update'], changes: { strategy: 'timestamp', column: 'dModifyDate' } });
    expect(c.entities.Customer!.sources.erp.fields.status).toEqual({ column: 'cCusState', map: { '1': 'ACTIVE', '0': 'INACTIVE' } });
    expect(c.entities.Customer!.sources.finance).toMatchObject({ table: 'fin_customer', key: ['acct_no'], write: ['update'] });
    expect(c.entities.Customer!.match).toEqual([
      { rule: 'creditCode', certainty: 'sure' },
      { rule: 'name', certainty: 'probable' },
      { rule: 'phone', certainty: 'probable' },
    ]);
    for (const [entity, owner] of [['Payment', 'finance'], ['ApprovalRequest', 'oa'], ['SurveyResponse', 'surveys']] as const) {
      expect(c.entities[entity], entity).toMatchObject({ mode: 'federated', owner });
    }
    // What the customer analysis needs is copied into the hub by pull jobs, read-only.
    for (const [entity, job, source] of [['Product', 'products', 'erp'], ['SalesOrder', 'orders', 'erp'], ['SalesOrderLine', 'order-lines', 'erp'], ['Invoice', 'invoices', 'finance']] as const) {
      expect(c.entities[entity], entity).toMatchObject({ mode: 'replicated', writable: [] });
      expect(c.sync.jobs[job], job).toMatchObject({ entity, sources: [source], direction: 'pull' });
    }
    expect(c.analysis).toMatchObject({ timezone: 'Asia/Shanghai', asOf: '2026-09-30' });
    expect(c.sync.jobs.customers).toMatchObject({
      entity: 'Customer',
      sources: ['erp', 'finance'],
      schedule: '*/5 * * * *',
      direction: 'both',
      conflicts: { default: 'manual', fields: { creditLimit: 'source:finance' } },
    });
    expect(c.server.port).toBe(4000);
    expect(c.server.auth.mode).toBe('none');
    expect(c.server.auth.anonymousRole).toBe('admin');
    expect(c.server.auth.roles.sales).toMatchObject({ customers: 'own', hide: ['Customer.creditLimit'] });
    expect(c.server.auth.roles.manager).toMatchObject({ customers: 'team' });
  });

  it('can embed absolute paths and another port', () => {
    const c = parseConfig(demoConfigYaml(dir, { paths: 'absolute', port: 4100 }), { env: {} }).config;
    expect(c.sources.erp.connection.filename).toBe(join(dir, 'erp.db'));
    expect(c.hub.connection.filename).toBe(join(dir, 'hub.db'));
    expect(c.server.port).toBe(4100);
    expect(() => demoConfigYaml(dir, { port: 70000 })).toThrow(RangeError);
  });

  it('maps every seeded row of every entity without a transform error', async () => {
    const seeded = await seedDemo(dir);
    const { config } = parseConfig(demoConfigYaml(dir), { file: join(dir, 'crmlink.yaml'), env: {} });
    let entities = 0;
    for (const [entity, ec] of Object.entries(config.entities)) {
      if (!ec) continue;
      for (const [source, sc] of Object.entries(ec.sources)) {
        const mapping = new EntityMapping(entity, source, config.sources[source], sc, ec.fields);
        const all = config.sources[source].connector
          ? await readConnector(createConnector(source, config.sources[source], { baseDir: dir }), mapping.table.table, mapping.columns)
          : await withDb(seeded.files[source as keyof DemoFiles], (db) => db(mapping.table.table).select(mapping.columns) as Promise<DbRow[]>);
        expect(all.length, `${entity} in ${source}`).toBeGreaterThan(0);
        const records = all.map((r) => mapping.toRecord(r));
        if (entity === 'Customer') {
          for (const r of records) expect(r.name, 'names come out trimmed, half-width').toBe(String(r.name).trim());
        }
        entities++;
      }
    }
    expect(entities).toBe(9);
  });
});

describe('prepareDemo and the edits between two sync runs', () => {
  it('seeds, writes crmlink.yaml and reports a fresh demo', async () => {
    const dir = join(root, 'prepared-fresh');
    const demo = await prepareDemo(dir);
    expect(demo.created).toBe(true);
    expect(demo.fresh).toBe(true);
    expect(demo.configPath).toBe(join(dir, 'crmlink.yaml'));
    const loaded = parseConfig(readFileSync(demo.configPath, 'utf8'), { file: demo.configPath, env: {} });
    expect(loaded.config.sync.jobs.customers.entity).toBe('Customer');
    const again = await prepareDemo(dir, { port: 4200 });
    expect(again.created).toBe(false);
    expect(readFileSync(again.configPath, 'utf8')).toContain('port: 4200');
  });

  it('edits both sides of linked customers, stamped for change capture, once', async () => {
    const files = (await prepareDemo(join(root, 'prepared-edits'))).files;
    const now = new Date('2026-11-20T08:30:00.000Z');
    const requestsBefore = (await rows(files.oa, 'workflow_requestbase')).length;
    const edits = await applyDemoEdits(files, { now });
    expect(edits.every((e) => e.changed)).toBe(true);
    expect(describeEdits(edits)).toHaveLength(edits.length);

    const erp = new Map((await rows(files.erp, 'Customer')).map((r) => [String(r.cCusCode), r]));
    const fin = new Map((await rows(files.finance, 'fin_customer')).map((r) => [String(r.acct_no), r]));
    const edited = (code: string, system: string, field: string) => edits.find((e) => e.erpCode === code && e.system === system && e.field === field)!;

    // Different fields on each side: clean merge.
    const x = edited(EDIT_TARGETS.cleanMerge, 'erp', 'phone');
    expect(erp.get(x.erpCode)!.cCusPhone).toBe(x.to);
    expect(erp.get(x.erpCode)!.dModifyDate).toBe('2026-11-20 16:30:00'); // Asia/Shanghai wall clock
    const xf = edited(EDIT_TARGETS.cleanMerge, 'finance', 'creditLimit');
    expect(Number(fin.get(xf.acctNo!)!.credit_limit)).toBe(1_888_000);
    expect(fin.get(xf.acctNo!)!.updated_at).toBe('2026-11-20T08:30:00.000Z');
    expect(x.expect).toBe('merged');

    // Same field on both sides.
    const ye = edited(EDIT_TARGETS.phoneConflict, 'erp', 'phone');
    const yf = edited(EDIT_TARGETS.phoneConflict, 'finance', 'phone');
    expect(ye.to).not.toBe(yf.to);
    expect(fin.get(yf.acctNo!)!.tel).toBe(yf.to);
    expect([ye.expect, yf.expect]).toEqual(['conflict', 'conflict']);
    const ze = edited(EDIT_TARGETS.creditLimitBoth, 'erp', 'creditLimit');
    expect(Number(erp.get(ze.erpCode)!.iCusCreLine)).toBe(2_200_000);
    expect(ze.expect).toBe('policy');

    // The OA gets one new request, read live.
    const view = await rows(files.oa, 'v_approval');
    expect(view).toHaveLength(requestsBefore + 1);
    expect(view.find((v) => v.requestid === edits.find((e) => e.system === 'oa')!.to)).toMatchObject({ khbm: EDIT_TARGETS.cleanMerge, flow_state: '审批中' });

    // Applying again changes nothing and bumps no timestamp.
    const again = await applyDemoEdits(files, { now: new Date('2026-11-21T00:00:00.000Z') });
    expect(again.every((e) => !e.changed)).toBe(true);
    expect((await rows(files.oa, 'workflow_requestbase')).length).toBe(requestsBefore + 1);
    expect((await rows(files.erp, 'Customer')).find((r) => r.cCusCode === x.erpCode)!.dModifyDate).toBe('2026-11-20 16:30:00');
  });
});

describe('runDemoScenario', () => {
  it('syncs, edits, syncs, pulls what the analysis needs, analyses — in that order', async () => {
    const demo = await prepareDemo(join(root, 'scenario'));
    const calls: string[] = [];
    const erpPhone = async () => (await rows(demo.files.erp, 'Customer')).find((r) => r.cCusCode === EDIT_TARGETS.cleanMerge)!.cCusPhone;
    const before = await erpPhone();
    const res = await runDemoScenario(demo, {
      sync: async (job) => {
        calls.push(job === DEMO_JOB ? `sync with phone ${String(await erpPhone())}` : `pull ${job}`);
        return { status: 'ok' };
      },
      analyze: async () => {
        calls.push('analyze');
      },
      log: (line) => calls.push(line),
    });
    expect(calls.filter((c) => c.startsWith('pull ') || c === 'analyze')).toEqual([...DEMO_PULL_JOBS.map((j) => `pull ${j}`), 'analyze']);
    const syncs = calls.filter((c) => c.startsWith('sync with'));
    expect(syncs).toHaveLength(2);
    expect(syncs[0]).toBe(`sync with phone ${String(before)}`);
    expect(syncs[1]).not.toBe(syncs[0]);
    expect(res.edits.length).toBeGreaterThanOrEqual(7);
    expect(res.second).toEqual({ status: 'ok' });
  });

  it('stops after a failed first sync, leaving the sources as seeded', async () => {
    const demo = await prepareDemo(join(root, 'scenario-failed'));
    let n = 0;
    const res = await runDemoScenario(demo, {
      sync: async () => {
        n++;
        return { status: 'failed' };
      },
    });
    expect(n).toBe(1);
    expect(res.edits).toEqual([]);
    expect(res.second).toBeNull();
    const again = await applyDemoEdits(demo.files);
    expect(again.every((e) => e.changed)).toBe(true);
  });
});

describe('demo/index.ts', () => {
  it('exports what `crmlink demo` and the tests use', async () => {
    const api = await import('../../demo/index.js');
    for (const name of ['seedDemo', 'demoConfigYaml', 'prepareDemo', 'runDemoScenario', 'applyDemoEdits', 'describeEdits', 'formatDemoQueries', 'generateDemoData']) {
      expect(typeof (api as Record<string, unknown>)[name], name).toBe('function');
    }
    expect(api.DEMO_QUERIES.length).toBeGreaterThanOrEqual(4);
    expect([api.DEFAULT_DEMO_DIR, api.DEMO_JOB, api.DEMO_PORT, api.DEMO_CONFIG_FILE]).toEqual(['examples/demo', 'customers', 4000, 'crmlink.yaml']);
    expect(api.formatDemoQueries('http://localhost:4000/graphql')).toContain('query Customer360');
  });
});

describe('demo queries', () => {
  it('are well-formed GraphQL with named operations', () => {
    expect(DEMO_QUERIES.map((q) => q.name)).toEqual(['Customer360', 'BigCustomers', 'Totals', 'Conflicts']);
    for (const q of DEMO_QUERIES) {
      const doc = parse(q.query);
      const ops = doc.definitions.filter((d) => d.kind === 'OperationDefinition');
      expect(ops.map((o) => ('name' in o ? o.name?.value : undefined))).toEqual([q.name]);
    }
    expect(parse(DEMO_GRAPHIQL_DOCUMENT).definitions).toHaveLength(DEMO_QUERIES.length);
  });
});

/** Every row of a file source's table (the demo's survey workbook). */
async function readConnector(c: Connector, table: string, columns: string[]): Promise<DbRow[]> {
  try {
    return (await c.select({ table, columns })) as DbRow[];
  } finally {
    await c.destroy();
  }
}
