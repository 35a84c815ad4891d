/**
 * The analysis through GraphQL (yoga with its auth plugin, API keys): Customer.analysis and the
 * top-level queries, within each role's row rule, with cost and credit masks. The hand-built
 * company of fixture.ts on a SQLite and a PostgreSQL hub.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Decimal } from 'decimal.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openApp, closeApp, type App } from '../../app/app.js';
import { parseConfig } from '../../config/load.js';
import { silentLogger } from '../../core/logger.js';
import { refreshAnalysis } from '../../analysis/index.js';
import { createYogaApp, type CrmYoga } from '../../server/yoga-app.js';
import { createTestDatabase, requireDialect, type TestDatabase } from '../support/databases.js';
import * as F from './fixture.js';

const KEYS = {
  admin: 'admin-key-0123456789',
  alice: 'alice-key-0123456789',
  bob: 'bob-key-000123456789',
  carol: 'east-key-00123456789',
  dave: 'blind-key-0123456789',
  erin: 'clerk-key-0123456789',
} as const;

function yaml(dialect: 'sqlite' | 'postgres', db: TestDatabase, dir: string): string {
  const conn = dialect === 'sqlite' ? { filename: db.database } : { ...db.connection, database: db.database };
  return `
hub:
  dialect: ${dialect}
  connection: ${JSON.stringify(Object.fromEntries(Object.entries(conn).filter(([, v]) => v !== undefined)))}
sources:
  erp: { kind: erp, dialect: sqlite, connection: { filename: ${JSON.stringify(join(dir, 'erp.db'))} } }
analysis:
  timezone: Asia/Shanghai
log: { level: silent }
server:
  auth:
    mode: apiKey
    apiKeys:
      - { key: "${KEYS.admin}", user: root, role: admin }
      - { key: "${KEYS.alice}", user: alice, role: sales }
      - { key: "${KEYS.bob}", user: bob, role: sales }
      - { key: "${KEYS.carol}", user: carol, role: manager, team: east }
      - { key: "${KEYS.dave}", user: alice, role: blind }
      - { key: "${KEYS.erin}", user: erin, role: clerk }
    roles:
      admin: { customers: all, write: true, admin: true }
      manager: { customers: team }
      sales: { customers: own }
      blind: { customers: own, hide: [Product.cost] }
      clerk: { customers: all, hide: [CustomerAnalysis.credit] }
`;
}

describe.each(['sqlite', 'postgres'] as const)('analysis in GraphQL on a %s hub', (dialect) => {
  let app: App | null = null;
  let yoga: CrmYoga;
  let db: TestDatabase | null = null;
  let dir: string;

  beforeAll(async () => {
    if (!(await requireDialect(dialect))) return;
    dir = mkdtempSync(join(tmpdir(), 'crmlink-angql-'));
    db = await createTestDatabase(dialect, 'angql');
    app = await openApp(parseConfig(yaml(dialect, db, dir)), { logger: silentLogger });
    await F.seed(app.hub);
    await refreshAnalysis(app.hub, app.config.analysis, { kind: 'full', now: () => F.NOW });
    yoga = createYogaApp(app, { logger: false });
  });
  afterAll(async () => {
    if (app) await closeApp(app);
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- responses are walked freely
  async function gql(who: keyof typeof KEYS, query: string, variables: Record<string, unknown> = {}): Promise<{ data: any; errors?: { message: string; extensions?: { code?: string } }[] }> {
    const res = await yoga.fetch('http://localhost/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': KEYS[who] },
      body: JSON.stringify({ query, variables }),
    });
    return res.json() as Promise<{ data: unknown; errors?: { message: string }[] }>;
  }

  const ANALYSIS = `analysis { asOf rfm { r f m segment } contribution { profit share rank } tier valueQuadrant valueMatrix { currentValue potentialValue }
    lifecycle { stage } credit { limit receivable overLimit isOverdue aging { days0To30 days61To90 } } }`;

  test('Customer.analysis: every measure of one customer', async (t) => {
    if (!app) return t.skip();
    const r = await gql('admin', `{ customer(id: "cus_c01") { name ${ANALYSIS} } }`);
    expect(r.errors).toBeUndefined();
    expect(r.data.customer.analysis).toEqual({
      asOf: F.TODAY,
      rfm: { r: 5, f: 5, m: 5, segment: 'champions' },
      // 1140 / 2726.66
      contribution: { profit: '1140', share: new Decimal(1140).div('2726.66').toDecimalPlaces(6).toFixed(), rank: 1 },
      tier: 'vip',
      valueQuadrant: 'KEEP',
      valueMatrix: { currentValue: '1100', potentialValue: '3150' },
      lifecycle: { stage: 'GROWING' },
      credit: { limit: '1200', receivable: '1300', overLimit: true, isOverdue: true, aging: { days0To30: '1000', days61To90: '300' } },
    });
  });

  test('a salesperson sees only their own customers, and shares of their own total', async (t) => {
    if (!app) return t.skip();
    const r = await gql('alice', `{ customerAnalyses(first: 10) { totalCount nodes { customerId name analysis { contribution { profit share } } } } }`);
    expect(r.errors).toBeUndefined();
    expect(r.data.customerAnalyses.totalCount).toBe(5);
    expect(r.data.customerAnalyses.nodes.map((n: { customerId: string }) => n.customerId)).toEqual(['cus_c01', 'cus_c09', 'cus_c05', 'cus_c03', 'cus_c07']);
    expect(r.data.customerAnalyses.nodes[0].analysis.contribution).toEqual({ profit: '1140', share: new Decimal(1140).div('2332.49').toDecimalPlaces(6).toFixed() });
    expect((await gql('alice', `{ customer(id: "cus_c02") { ${ANALYSIS} } }`)).data.customer).toBeNull();
    const p = await gql('bob', `{ paretoCurve { totalProfit customers points { customerId cumulativeShare } } }`);
    // Bob: c08 300, c02 54.17, c04 40
    expect(p.data.paretoCurve).toEqual({
      totalProfit: '394.17',
      customers: 3,
      points: [
        { customerId: 'cus_c08', cumulativeShare: new Decimal(300).div('394.17').toDecimalPlaces(6).toFixed() },
        { customerId: 'cus_c02', cumulativeShare: new Decimal(354.17).div('394.17').toDecimalPlaces(6).toFixed() },
        { customerId: 'cus_c04', cumulativeShare: '1' },
      ],
    });
    const stages = await gql('carol', `{ analysisDistribution(by: STAGE) { key customers profit } }`);
    expect(stages.data.analysisDistribution).toEqual([
      { key: 'DECLINING', customers: 1, profit: '480' },
      { key: 'GROWING', customers: 1, profit: '1140' },
      { key: 'MATURE', customers: 1, profit: '512.5' },
      { key: 'NEW', customers: 2, profit: '199.99' },
    ]);
    expect((await gql('bob', `{ lifecycleChanges(to: DECLINING) { customerId } }`)).data.lifecycleChanges).toEqual([]);
    expect((await gql('alice', `{ lifecycleChanges(to: DECLINING) { customerId from to at } }`)).data.lifecycleChanges).toEqual([
      { customerId: 'cus_c05', from: null, to: 'DECLINING', at: F.NOW.toISOString() },
    ]);
  });

  test('a role that may not see cost gets no contribution figures', async (t) => {
    if (!app) return t.skip();
    const r = await gql('dave', `{ customer(id: "cus_c01") { ${ANALYSIS} } analysisDistribution(by: TIER) { key customers profit } analysisStatus { thresholds { currentValue potentialValue } } }`);
    expect(r.errors).toBeUndefined();
    expect(r.data.customer.analysis.contribution).toBeNull();
    expect(r.data.customer.analysis.valueMatrix).toEqual({ currentValue: null, potentialValue: '3150' });
    expect(r.data.customer.analysis.tier).toBe('vip');
    expect(r.data.analysisDistribution.every((b: { profit: unknown }) => b.profit === null)).toBe(true);
    expect(r.data.analysisStatus.thresholds).toEqual({ currentValue: null, potentialValue: '1108.75' });
    const pareto = await gql('dave', `{ paretoCurve { totalProfit } }`);
    expect(pareto.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const sorted = await gql('dave', `{ customerAnalyses(orderBy: { field: PROFIT }) { totalCount } }`);
    expect(sorted.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const byRevenue = await gql('dave', `{ customerAnalyses(orderBy: { field: REVENUE }) { nodes { customerId analysis { contribution { profit } } } } }`);
    expect(byRevenue.data.customerAnalyses.nodes.map((n: { analysis: { contribution: unknown } }) => n.analysis.contribution)).toEqual([null, null, null, null, null]);
  });

  test('credit: masked for a role that hides it, creditCheck within the row rule', async (t) => {
    if (!app) return t.skip();
    expect((await gql('erin', `{ customer(id: "cus_c01") { analysis { credit { limit } } } }`)).data.customer.analysis.credit).toBeNull();
    expect((await gql('erin', `{ creditCheck(customerId: "cus_c02", amount: "1") { fits } }`)).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const ok = await gql('admin', `{ creditCheck(customerId: "cus_c02", amount: "380") { fits reason limit receivable available } }`);
    expect(ok.data.creditCheck).toEqual({ fits: true, reason: 'FITS', limit: '500', receivable: '120', available: '380' });
    expect((await gql('bob', `{ creditCheck(customerId: "cus_c02", amount: "380.01") { fits reason } }`)).data.creditCheck).toEqual({ fits: false, reason: 'OVER_LIMIT' });
    // Alice may not learn anything about Bob's customer.
    expect((await gql('alice', `{ creditCheck(customerId: "cus_c02", amount: "1") { fits } }`)).errors?.[0].extensions?.code).toBe('NOT_FOUND');
  });

  test('customerAnalyses: filters, sorting and Relay paging', async (t) => {
    if (!app) return t.skip();
    const q = `query($after: String) { customerAnalyses(where: { stage: [NEW, GROWING] }, orderBy: { field: REVENUE, direction: DESC }, first: 2, after: $after) {
      totalCount edges { cursor node { customerId customer { id name } } } pageInfo { hasNextPage hasPreviousPage endCursor } } }`;
    const p1 = await gql('admin', q);
    expect(p1.errors).toBeUndefined();
    // growing c01 (2600), c02 (135); new c08 (300), c03 (200), c07 (99.99)
    expect(p1.data.customerAnalyses.totalCount).toBe(5);
    expect(p1.data.customerAnalyses.edges.map((e: { node: { customerId: string } }) => e.node.customerId)).toEqual(['cus_c01', 'cus_c08']);
    expect(p1.data.customerAnalyses.edges[0].node.customer).toEqual({ id: 'cus_c01', name: 'Alpha 有限公司' });
    expect(p1.data.customerAnalyses.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    const p2 = await gql('admin', q, { after: p1.data.customerAnalyses.pageInfo.endCursor });
    expect(p2.data.customerAnalyses.edges.map((e: { node: { customerId: string } }) => e.node.customerId)).toEqual(['cus_c03', 'cus_c02']);
    expect(p2.data.customerAnalyses.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: true });
    const over = await gql('admin', `{ customerAnalyses(where: { overLimit: true, overdue: false }) { nodes { customerId } } }`);
    expect(over.data.customerAnalyses.nodes).toEqual([{ customerId: 'cus_c03' }]);
  });
});
