/**
 * The demo makes the analysis meaningful: two years of orders with costs, customers of very
 * different sizes (the Pareto curve bends), new and lapsed customers, overdue invoices and
 * customers over their credit limit. Seeded, synced and analysed as `crmlink demo` does it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeApp, openApp, type App } from '../../app/app.js';
import { loadConfigFile } from '../../config/load.js';
import { silentLogger } from '../../core/logger.js';
import { distribution, listAnalyses, pareto, refreshAnalysis, type RefreshReport } from '../../analysis/index.js';
import { DEMO_ANALYSIS_AS_OF, generateDemoData, prepareDemo, runDemoScenario, type DemoScenarioResult } from '../../demo/index.js';
import { runJob } from '../../sync/engine.js';
import type { RunReport } from '../../sync/types.js';

const root = mkdtempSync(join(tmpdir(), 'crmlink-demo-analysis-'));
let app: App;
let scenario: DemoScenarioResult;
let report: RefreshReport | null = null;
const ALL = { customers: 'all' } as const;

beforeAll(async () => {
  const demo = await prepareDemo(join(root, 'demo'), { logLevel: 'silent' });
  app = await openApp(loadConfigFile(demo.configPath, {}), { logger: silentLogger });
  scenario = await runDemoScenario(demo, {
    sync: (job) => runJob(app, job),
    analyze: async () => {
      report = await refreshAnalysis(app.hub, app.config.analysis, { kind: 'full' });
    },
  });
});
afterAll(async () => {
  if (app) await closeApp(app);
  rmSync(root, { recursive: true, force: true });
});

describe('the demo data for the customer analysis', () => {
  it('is deterministic and spans two years of orders, every product with a cost', () => {
    const a = generateDemoData();
    expect(generateDemoData()).toEqual(a);
    const days = a.erp.SO_SOMain.map((o) => String(o.dDate)).sort();
    expect(days[0] <= '2024-10-31').toBe(true);
    expect(days[days.length - 1] <= DEMO_ANALYSIS_AS_OF).toBe(true);
    for (const p of a.erp.Inventory) expect(Number(p.iInvSCost)).toBeLessThan(Number(p.iInvSPrice));
  });

  it('pulls products, orders, lines and invoices into the hub without parking a row', () => {
    for (const [job, r] of Object.entries(scenario.pulls)) {
      const run = r as RunReport;
      expect([job, run.status, run.totals.parked]).toEqual([job, 'ok', 0]);
      expect(run.totals.hubWritten, job).toBeGreaterThan(0);
    }
    expect(report).toMatchObject({ asOf: DEMO_ANALYSIS_AS_OF });
  });

  it('has a Pareto curve that bends: the top fifth of the customers carries over half the profit', async () => {
    const p = await pareto(app.hub.knex, ALL, 10_000);
    expect(p.customers).toBeGreaterThan(20);
    const fifth = p.points[Math.ceil(p.customers / 5) - 1];
    expect(Number(fifth.cumulativeShare)).toBeGreaterThan(0.5);
    // Every order line has a cost (the product's reference cost).
    const page = await listAnalyses(app.hub.knex, ALL, { first: 500 });
    expect(page.nodes.reduce((n, a) => n + a.contribution.costMissingLines, 0)).toBe(0);
  });

  it('has new, lapsed, growing and declining customers, overdue invoices and customers over their limit', async () => {
    const stages = new Map((await distribution(app.hub.knex, ALL, 'STAGE')).map((b) => [b.key, b.customers]));
    for (const stage of ['new', 'lapsed', 'growing', 'declining', 'mature']) expect(stages.get(stage) ?? 0, stage).toBeGreaterThan(0);
    const overdue = await listAnalyses(app.hub.knex, ALL, { filter: { overdue: true } });
    expect(overdue.totalCount).toBeGreaterThan(0);
    const over = await listAnalyses(app.hub.knex, ALL, { filter: { overLimit: true } });
    expect(over.totalCount).toBeGreaterThanOrEqual(2);
    const aging = overdue.nodes.flatMap((a) => [a.credit.aging.days31To60, a.credit.aging.days61To90, a.credit.aging.over90]).filter((x) => x !== '0');
    expect(aging.length).toBeGreaterThan(0);
    const tiers = new Map((await distribution(app.hub.knex, ALL, 'TIER')).map((b) => [b.key, b.customers]));
    expect(tiers.get('vip')).toBeGreaterThan(0);
  });
});
