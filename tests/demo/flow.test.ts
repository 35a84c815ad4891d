/**
 * The demo end to end, as `crmlink demo` runs it: seed → sync → edits → sync → GraphQL. Checks
 * what the demo promises: a customer known to ERP and finance under different keys and names is
 * one customer with ERP orders and finance invoices under it; edits on different fields merge and
 * cross over; finance wins credit limits; the same field changed on both sides is a conflict.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Knex } from 'knex';
import { loadConfigFile } from '../../config/load.js';
import { closeApp, openApp, type App } from '../../app/app.js';
import { silentLogger } from '../../core/logger.js';
import { runJob } from '../../sync/engine.js';
import type { RunReport } from '../../sync/types.js';
import { createYogaApp, type CrmYoga } from '../../server/yoga-app.js';
import { DEMO_QUERIES, EDIT_TARGETS, prepareDemo, runDemoScenario, type DemoScenarioResult, type PreparedDemo } from '../../demo/index.js';
import { openSqlite } from '../../demo/seed.js';

const root = mkdtempSync(join(tmpdir(), 'crmlink-demo-flow-'));
let demo: PreparedDemo;
let app: App;
let yoga: CrmYoga;
let scenario: DemoScenarioResult;

interface GqlResult<T> {
  data?: T;
  errors?: { message: string }[];
}

async function gql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await yoga.fetch('http://demo/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as GqlResult<T>;
  expect(body.errors ?? [], query.slice(0, 80)).toEqual([]);
  return body.data as T;
}

async function one(file: string, sql: string, bindings: readonly (string | number)[]): Promise<Record<string, unknown>> {
  const db: Knex = openSqlite(file);
  try {
    const rows = (await db.raw(sql, bindings)) as Record<string, unknown>[];
    return rows[0];
  } finally {
    await db.destroy();
  }
}

beforeAll(async () => {
  demo = await prepareDemo(join(root, 'demo'), { logLevel: 'silent' });
  app = await openApp(loadConfigFile(demo.configPath, {}), { logger: silentLogger });
  scenario = await runDemoScenario(demo, { sync: (job) => runJob(app, job) });
  yoga = createYogaApp(app);
});
afterAll(async () => {
  if (app) await closeApp(app);
  rmSync(root, { recursive: true, force: true });
});

describe('the demo flow', () => {
  it('runs both syncs to completion', () => {
    const first = scenario.first as RunReport;
    const second = scenario.second as RunReport;
    expect([first.status, first.error?.message]).toEqual(['ok', undefined]);
    expect([second.status, second.error?.message]).toEqual(['ok', undefined]);
    expect(first.totals.read).toBe(demo.seed.counts!.Customer + demo.seed.counts!.fin_customer);
    expect(second.totals.read).toBeGreaterThanOrEqual(7);
  });

  it('shows a customer known under different keys and names once, with ERP orders and finance invoices', async () => {
    const link = demo.seed.plan!.links.find((l) => l.erpName === '北京华为技术有限公司')!;
    const data = await gql<{
      customers: {
        totalCount: number;
        nodes: {
          code: string;
          name: string;
          sourceRecords: { source: string; key: string }[];
          salesOrders: { totalCount: number };
          invoices: { totalCount: number };
        }[];
      };
    }>(`{ customers(where: { creditCode: { eq: "${link.creditCode}" } }) {
          totalCount
          nodes { code name sourceRecords { source key } salesOrders { totalCount } invoices { totalCount } }
        } }`);
    expect(data.customers.totalCount).toBe(1);
    const c = data.customers.nodes[0];
    expect(c.name).toBe('北京华为技术有限公司');
    expect(c.sourceRecords.map((s) => `${s.source}:${s.key}`).sort()).toEqual([`erp:${link.erpCode}`, `finance:${link.acctNo}`]);
    expect(c.salesOrders.totalCount).toBeGreaterThan(0);
    expect(c.invoices.totalCount).toBeGreaterThan(0);
  });

  it('shows OA approval requests under the customer whose ERP code the form names (refSource: erp)', async () => {
    // The scenario submits a credit request for C0001 in the OA; the form holds the ERP code in khbm.
    const submitted = scenario.edits.find((e) => e.erpCode === EDIT_TARGETS.cleanMerge && e.system === 'oa')!;
    expect(submitted).toBeDefined();
    const inOa = await one(demo.files.oa, 'select count(*) as n from v_approval where khbm = ?', [EDIT_TARGETS.cleanMerge]);
    expect(Number(inOa.n)).toBeGreaterThan(0);

    const data = await gql<{
      customers: {
        nodes: {
          id: string;
          approvals: { totalCount: number; nodes: { code: string; customerId: string; customer: { code: string } | null }[] };
        }[];
      };
    }>(`{ customers(where: { code: { eq: "${EDIT_TARGETS.cleanMerge}" } }) {
          nodes { id approvals(first: 100) { totalCount nodes { code customerId customer { code } } } }
        } }`);
    const c = data.customers.nodes[0];
    // Nested list: the golden customer's ERP key is what the OA rows hold.
    expect(c.approvals.totalCount).toBe(Number(inOa.n));
    expect(c.approvals.nodes.map((a) => a.code)).toContain(String(submitted.to));
    // To-one and the ref as an id: the ERP code leads back to the same golden customer.
    for (const a of c.approvals.nodes) {
      expect(a.customerId).toBe(c.id);
      expect(a.customer?.code).toBe(EDIT_TARGETS.cleanMerge);
    }
    // A filter on the ref field translates the customer id into ERP codes as well.
    const filtered = await gql<{ approvals: { totalCount: number } }>(`query($id: ID!) { approvals(where: { customerId: { eq: $id } }) { totalCount } }`, { id: c.id });
    expect(filtered.approvals.totalCount).toBe(c.approvals.totalCount);
    // Another customer does not get them.
    const other = await gql<{ customers: { nodes: { approvals: { nodes: { code: string }[] } }[] } }>(
      `{ customers(where: { code: { eq: "${EDIT_TARGETS.erpOnly}" } }) { nodes { approvals(first: 100) { nodes { code } } } } }`,
    );
    expect(other.customers.nodes[0].approvals.nodes.map((a) => a.code)).not.toContain(String(submitted.to));
  });

  it('merges edits on different fields and pushes them across', async () => {
    const x = scenario.edits.find((e) => e.erpCode === EDIT_TARGETS.cleanMerge && e.system === 'erp')!;
    const fin = await one(demo.files.finance, 'select tel, credit_limit from fin_customer where acct_no = ?', [x.acctNo!]);
    const erp = await one(demo.files.erp, 'select cCusPhone, iCusCreLine from Customer where cCusCode = ?', [x.erpCode]);
    expect(fin.tel).toBe(x.to);
    expect(Number(erp.iCusCreLine)).toBe(1_888_000);
  });

  it('lets finance win credit limits changed on both sides', async () => {
    const z = scenario.edits.find((e) => e.erpCode === EDIT_TARGETS.creditLimitBoth && e.system === 'finance')!;
    const erp = await one(demo.files.erp, 'select iCusCreLine from Customer where cCusCode = ?', [z.erpCode]);
    expect(Number(erp.iCusCreLine)).toBe(2_500_000);
    const data = await gql<{ customers: { nodes: { creditLimit: string }[] } }>(`{ customers(where: { code: { eq: "${z.erpCode}" } }) { nodes { creditLimit } } }`);
    expect(Number(data.customers.nodes[0].creditLimit)).toBe(2_500_000);
  });

  it('reports the phone changed on both sides as an open conflict', async () => {
    const data = await gql<{ conflicts: { nodes: { field: string; values: { side: string; value: unknown }[] }[] } }>(
      `{ conflicts(status: OPEN, first: 100) { nodes { field values { side value } } } }`,
    );
    const y = scenario.edits.filter((e) => e.erpCode === EDIT_TARGETS.phoneConflict);
    const phones = data.conflicts.nodes.filter((c) => c.field === 'phone').map((c) => c.values.map((v) => v.value));
    expect(phones.some((vals) => y.every((e) => vals.includes(e.to)))).toBe(true);
  });

  it('shows the survey workbook in the customer 360: responses with their scores and average', async () => {
    const q = DEMO_QUERIES.find((x) => x.name === 'Customer360')!;
    type Survey = { code: string; surveyDate: string; channel: string; score: string; comment: string | null };
    const data = await gql<{ customers: { nodes: { code: string; surveyResponses: { totalCount: number; aggregate: { avg: { score: string } }; nodes: Survey[] } }[] } }>(q.query, q.variables);
    const c = data.customers.nodes[0];
    const surveys = await gql<{ surveyResponses: { nodes: { score: string; customer: { code: string } | null }[] } }>(`{ surveyResponses(first: 1000) { nodes { score customer { code } } } }`);
    const mine = surveys.surveyResponses.nodes.filter((s) => s.customer?.code === c.code);
    expect(mine.length).toBeGreaterThan(0);
    expect(c.surveyResponses.totalCount).toBe(mine.length);
    const avg = mine.reduce((sum, s) => sum + Number(s.score), 0) / mine.length;
    expect(Number(c.surveyResponses.aggregate.avg.score)).toBeCloseTo(avg, 6);
    for (const s of c.surveyResponses.nodes) {
      expect(s.code).toMatch(/^MY\d{4}$/);
      expect(['PHONE', 'VISIT', 'WECHAT', 'EMAIL', 'WEB']).toContain(s.channel);
      expect(s.surveyDate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    }
    // Every response of the workbook is linked to a customer the ERP knows.
    expect(surveys.surveyResponses.nodes.every((s) => s.customer !== null)).toBe(true);
  });

  it('answers every example query without errors', async () => {
    for (const q of DEMO_QUERIES) await gql(q.query, q.variables);
  });
});
