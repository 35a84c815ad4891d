/**
 * Customer analysis on a hand-built company (fixture.ts): every figure below was worked out by
 * hand (docs/analysis.md shows the sums), and profit contribution is also recomputed by a plain
 * TypeScript oracle over the same rows. Runs on a SQLite hub and a PostgreSQL hub.
 */
import { Decimal } from 'decimal.js';
import { describe, expect, test } from 'vitest';
import { analysisSchema } from '../../config/schema.js';
import { analysesOf, checkCredit, distribution, listAnalyses, pareto, refreshAnalysis, stageChanges, touchedCustomers } from '../../analysis/index.js';
import { hubOrSkip, useTestHub } from '../support/hub.js';
import * as F from './fixture.js';

const cfg = analysisSchema.parse({ timezone: 'Asia/Shanghai' });
const now = () => F.NOW;
const ALL = { customers: 'all' } as const;

/** Oracle: revenue and cost per customer straight from the fixture rows, in plain TypeScript. */
function oracleContribution(): Map<string, { revenue: Decimal; cost: Decimal }> {
  const live = new Set(F.customers.map((c) => c.id));
  const out = new Map<string, { revenue: Decimal; cost: Decimal }>();
  for (const o of F.orders) {
    if (!live.has(String(o.customerId)) || o.status === 'CANCELLED' || o.status === 'DRAFT') continue;
    if (String(o.orderDate) <= '2024-07-01' || String(o.orderDate) > F.TODAY) continue;
    const acc = out.get(String(o.customerId)) ?? { revenue: new Decimal(0), cost: new Decimal(0) };
    const ls = F.lines.filter((l) => l.orderId === o.id);
    if (ls.length === 0) acc.revenue = acc.revenue.plus(String(o.totalAmount ?? 0));
    for (const l of ls) {
      const qty = new Decimal(String(l.quantity));
      acc.revenue = acc.revenue.plus(l.amount === null ? qty.times(String(l.unitPrice)).toDecimalPlaces(2) : new Decimal(String(l.amount)));
      const unitCost = l.unitCost ?? F.products.find((p) => p.id === l.productId)?.cost ?? null;
      if (unitCost !== null) acc.cost = acc.cost.plus(qty.times(String(unitCost)).toDecimalPlaces(2, Decimal.ROUND_HALF_UP));
    }
    out.set(String(o.customerId), acc);
  }
  return out;
}

describe.each(['sqlite', 'postgres'] as const)('customer analysis on a %s hub', (dialect) => {
  const ctx = useTestHub(dialect, 'analysis');

  /** Seed and run a full refresh once per hub (the tests below only read, except the last block). */
  let ready: Promise<unknown> | null = null;
  const prepared = () => {
    ready ??= F.seedAnalysed(ctx.hub!, cfg);
    return ready;
  };
  const get = async (scope: Parameters<typeof analysesOf>[1] = ALL) => {
    await prepared();
    return analysesOf(ctx.hub!.knex, scope, [...F.customers, ...F.goneCustomers].map((c) => c.id));
  };

  test('the analysis day is today in the configured zone, and deleted or merged customers are left out', async (t) => {
    if (!ctx.hub) return t.skip();
    const all = await get();
    expect([...all.keys()].sort()).toEqual(F.customers.map((c) => c.id));
    expect(all.get('cus_c01')!.asOf).toBe(F.TODAY);
  });

  test('profit contribution: revenue − cost from lines × product cost or the line cost, exact', async (t) => {
    if (!ctx.hub) return t.skip();
    const all = await get();
    const c = (id: string) => all.get(id)!.contribution;
    // By hand.
    expect(c('cus_c01')).toMatchObject({ revenue: '2600', cost: '1460', profit: '1140', costMissingLines: 0, rank: 1 });
    // 10 × 7.3333 = 73.333 → 73.33 (line cost wins over the product's 6); 3 × 2.5 = 7.5; line amount null → 3 × 5.
    expect(c('cus_c02')).toMatchObject({ revenue: '135', cost: '80.83', profit: '54.17' });
    // A line of a product without cost, cancelled and draft orders ignored.
    expect(c('cus_c07')).toMatchObject({ revenue: '99.99', cost: '0', profit: '99.99', costMissingLines: 1 });
    // An order without lines: its total, cost unknown.
    expect(c('cus_c08')).toMatchObject({ revenue: '300', cost: '0', costMissingLines: 1 });
    // 2023 order outside the 24-month window.
    expect(c('cus_c09')).toMatchObject({ revenue: '1025', cost: '512.5', profit: '512.5' });
    expect(c('cus_c06')).toMatchObject({ revenue: '0', profit: '0', rank: null });
    // Oracle over the same rows.
    for (const [id, o] of oracleContribution()) {
      expect(c(id).revenue, id).toBe(o.revenue.toFixed());
      expect(c(id).profit, id).toBe(o.revenue.minus(o.cost).toFixed());
    }
  });

  test('RFM quintile scores and segments', async (t) => {
    if (!ctx.hub) return t.skip();
    const all = await get();
    const rfm = Object.fromEntries([...all].map(([id, a]) => [id, a.rfm.r === null ? null : `${a.rfm.r}${a.rfm.f}${a.rfm.m} ${a.rfm.segment}`]));
    expect(rfm).toEqual({
      cus_c01: '555 champions',
      cus_c02: '442 loyal',
      cus_c03: '423 promising',
      cus_c04: '142 at_risk',
      cus_c05: '245 at_risk',
      cus_c06: null,
      cus_c07: '221 hibernating',
      cus_c08: '524 promising',
      cus_c09: '354 loyal',
    });
    // Recency counts invoices too: c08's last order is 2026-01-10, its last invoice 2026-06-25.
    expect(all.get('cus_c08')!.rfm).toMatchObject({ lastPurchase: '2026-06-25', recencyDays: 6, frequency: 1 });
  });

  test('pyramid tiers (1 / 4 / 15 % of profitable customers) and ABC by cumulative share', async (t) => {
    if (!ctx.hub) return t.skip();
    const all = await get();
    const tiers = Object.fromEntries([...all].map(([id, a]) => [id, a.tier]));
    expect(tiers).toEqual({ cus_c01: 'vip', cus_c09: 'ordinary', cus_c02: 'small', cus_c03: 'small', cus_c04: 'small', cus_c05: 'small', cus_c06: 'small', cus_c07: 'small', cus_c08: 'small' });
    const abcCfg = analysisSchema.parse({ timezone: 'Asia/Shanghai', tiers: { method: 'abc' } });
    const { computeScores } = await import('../../analysis/index.js');
    const { scores } = await computeScores(ctx.hub.knex, abcCfg);
    expect(Object.fromEntries(scores.map((s) => [s.customerId, s.tier]))).toEqual({
      cus_c01: 'A', cus_c09: 'A', cus_c05: 'A', cus_c08: 'A', cus_c03: 'B', cus_c07: 'B', cus_c02: 'C', cus_c04: 'C', cus_c06: 'C',
    });
  });

  test('a refresh writes only the scores that moved: none after a refresh, one for one customer that differs', async (t) => {
    if (!ctx.hub) return t.skip();
    const { computeScores } = await import('../../analysis/index.js');
    const fresh = await computeScores(ctx.hub.knex, cfg);
    expect(fresh.scores.length).toBe(9);
    expect(fresh.changed).toEqual([]);
    const stored = (await ctx.hub.knex('crm_analysis').where({ customer_id: 'cus_c05' }).first('tier')) as { tier: string };
    await ctx.hub.knex('crm_analysis').where({ customer_id: 'cus_c05' }).update({ tier: 'stale' });
    try {
      const { changed } = await computeScores(ctx.hub.knex, cfg);
      expect(changed.map((s) => [s.customerId, s.tier])).toEqual([['cus_c05', stored.tier]]);
    } finally {
      await ctx.hub.knex('crm_analysis').where({ customer_id: 'cus_c05' }).update({ tier: stored.tier });
    }
  });

  test('value matrix: current value against potential, thresholds at the mean', async (t) => {
    if (!ctx.hub) return t.skip();
    const all = await get();
    expect(all.get('cus_c01')!.valueMatrix).toMatchObject({ currentValue: '1100', potentialValue: '3150', pipeline: '750', revenueCurrent: '2500', revenuePrevious: '100', quadrant: 'keep' });
    expect(all.get('cus_c06')!.valueMatrix).toMatchObject({ currentValue: '0', potentialValue: '5000', quadrant: 'develop' });
    const q = Object.fromEntries([...all].map(([id, a]) => [id, a.valueMatrix.quadrant]));
    expect(q).toEqual({ cus_c01: 'keep', cus_c02: 'reduce', cus_c03: 'reduce', cus_c04: 'reduce', cus_c05: 'reduce', cus_c06: 'develop', cus_c07: 'reduce', cus_c08: 'maintain', cus_c09: 'maintain' });
    const run = await ctx.hub.store.analysis.lastRun(ctx.hub.knex);
    // 1986.66 / 8 = 248.3325 → 248.33; 8869.99 / 8 = 1108.74875 → 1108.75
    expect(run!.thresholds).toMatchObject({ currentCents: '24833', potentialCents: '110875', currentFrom: 'mean' });
  });

  test('lifecycle stages', async (t) => {
    if (!ctx.hub) return t.skip();
    const all = await get();
    expect(Object.fromEntries([...all].map(([id, a]) => [id, a.lifecycle.stage]))).toEqual({
      cus_c01: 'growing', cus_c02: 'growing', cus_c03: 'new', cus_c04: 'lapsed', cus_c05: 'declining', cus_c06: 'prospect', cus_c07: 'new', cus_c08: 'new', cus_c09: 'mature',
    });
  });

  test('credit: aging buckets, limit usage, over-limit and overdue flags', async (t) => {
    if (!ctx.hub) return t.skip();
    const all = await get();
    expect(all.get('cus_c01')!.credit).toEqual({
      limit: '1200', receivable: '1300', overdue: '300', usage: '1.0833', available: '-100', overLimit: true, isOverdue: true,
      aging: { days0To30: '1000', days31To60: '0', days61To90: '300', over90: '0' },
    });
    // The credit-limit record in force wins over the customer's field.
    expect(all.get('cus_c02')!.credit).toMatchObject({ limit: '500', receivable: '120', usage: '0.24', overLimit: false, isOverdue: true, aging: { days31To60: '120' } });
    expect(all.get('cus_c03')!.credit).toMatchObject({ limit: '40', receivable: '50', overLimit: true, isOverdue: false, aging: { days0To30: '50' } });
    // An expired limit record counts for nothing.
    expect(all.get('cus_c05')!.credit).toMatchObject({ limit: null, usage: null, receivable: '200', overLimit: false, aging: { over90: '200' } });
  });

  test('credit check of an order amount, live', async (t) => {
    if (!ctx.hub) return t.skip();
    await prepared();
    expect(await checkCredit(ctx.hub, cfg, 'cus_c02', '380', now)).toMatchObject({ fits: true, reason: 'FITS', available: '380' });
    expect(await checkCredit(ctx.hub, cfg, 'cus_c02', '380.01', now)).toMatchObject({ fits: false, reason: 'OVER_LIMIT' });
    expect(await checkCredit(ctx.hub, cfg, 'cus_c05', '1', now)).toMatchObject({ fits: false, reason: 'NO_LIMIT' });
    expect(await checkCredit(ctx.hub, cfg, 'cus_c10', '1', now)).toBeNull();
    await expect(checkCredit(ctx.hub, cfg, 'cus_c02', '-1', now)).rejects.toThrow(/amount/);
  });

  test('row scope: a salesperson sees only their own customers in every figure', async (t) => {
    if (!ctx.hub) return t.skip();
    const alice = { customers: 'own', user: 'alice' } as const;
    const mine = await get(alice);
    expect([...mine.keys()].sort()).toEqual(['cus_c01', 'cus_c03', 'cus_c05', 'cus_c07', 'cus_c09']);
    const p = await pareto(ctx.hub.knex, alice);
    // 1140 + 512.5 + 480 + 100 + 99.99 = 2332.49
    expect(p.totalProfit).toBe('2332.49');
    expect(p.points.map((x) => x.customerId)).toEqual(['cus_c01', 'cus_c09', 'cus_c05', 'cus_c03', 'cus_c07']);
    expect(p.points[0].share).toBe(new Decimal(1140).div('2332.49').toDecimalPlaces(6).toFixed());
    expect(p.points[1].cumulativeShare).toBe(new Decimal(1652.5).div('2332.49').toDecimalPlaces(6).toFixed());
    expect(p.points[4].cumulativeShare).toBe('1');
    const tiers = (await distribution(ctx.hub.knex, alice, 'TIER')).map(({ key, customers, revenue, profit, receivable }) => ({ key, customers, revenue, profit, receivable }));
    expect(tiers).toEqual([
      { key: 'ordinary', customers: 1, revenue: '1025', profit: '512.5', receivable: '0' },
      { key: 'small', customers: 3, revenue: '1499.99', profit: '679.99', receivable: '250' },
      { key: 'vip', customers: 1, revenue: '2600', profit: '1140', receivable: '1300' },
    ]);
    // c01 1,000 / 0 / 300 / 0, c03 50 / 0 / 0 / 0, c05 0 / 0 / 0 / 200; overdue 300 + 200.
    expect(await distribution(ctx.hub.knex, alice, 'ALL')).toEqual([
      { key: null, customers: 5, revenue: '5124.99', profit: '2332.49', receivable: '1550', overdue: '500', aging: { days0To30: '1050', days31To60: '0', days61To90: '300', over90: '200' } },
    ]);
    const page = await listAnalyses(ctx.hub.knex, { customers: 'team', team: 'west' }, { filter: { overdue: true } });
    expect(page.nodes.map((n) => n.customerId)).toEqual(['cus_c02']);
    expect((await listAnalyses(ctx.hub.knex, { customers: 'team', team: undefined }, {})).totalCount).toBe(0);
  });

  test('list: filters, sorting and offset paging', async (t) => {
    if (!ctx.hub) return t.skip();
    await prepared();
    const p1 = await listAnalyses(ctx.hub.knex, ALL, { orderBy: { key: 'REVENUE', direction: 'DESC' }, first: 3 });
    expect(p1.nodes.map((n) => n.customerId)).toEqual(['cus_c01', 'cus_c05', 'cus_c09']);
    expect(p1).toMatchObject({ totalCount: 9, hasNextPage: true });
    const { offsetCursor } = await import('../../analysis/index.js');
    const p2 = await listAnalyses(ctx.hub.knex, ALL, { orderBy: { key: 'REVENUE', direction: 'DESC' }, first: 3, after: offsetCursor(2) });
    expect(p2.nodes.map((n) => n.customerId)).toEqual(['cus_c08', 'cus_c03', 'cus_c02']);
    const over = await listAnalyses(ctx.hub.knex, ALL, { filter: { overLimit: true }, orderBy: { key: 'CUSTOMER', direction: 'ASC' } });
    expect(over.nodes.map((n) => n.customerId)).toEqual(['cus_c01', 'cus_c03']);
  });
});

/** Its own hub: this block changes the data. */
describe.each(['sqlite', 'postgres'] as const)('analysis freshness on a %s hub', (dialect) => {
  const ctx = useTestHub(dialect, 'analysis_inc');

  test('incremental refresh: only touched customers, stage changes recorded', async (t) => {
    const hub = hubOrSkip(ctx, t);
    const before = await F.seedAnalysed(hub, cfg);
    expect((await touchedCustomers(hub.knex, before.watermark)).touched).toEqual([]);
    // A big new order for c05 (declining): 200 × 10 in the current span.
    await F.put(hub, 'SalesOrder', [{ id: 'so_05c', code: 'SO_05C', customerId: 'cus_c05', orderDate: '2026-06-20', status: 'SHIPPED' }]);
    await F.put(hub, 'SalesOrderLine', [{ id: 'sol_99', orderId: 'so_05c', lineNo: 1, productId: 'prd_p1', quantity: '200', unitPrice: '10', amount: '2000' }]);
    expect((await touchedCustomers(hub.knex, before.watermark)).touched).toEqual(['cus_c05']);
    const report = await refreshAnalysis(hub, cfg, { kind: 'incremental', now });
    expect(report).toMatchObject({ kind: 'incremental', customers: 1, stageChanges: 1 });
    const c05 = (await analysesOf(hub.knex, ALL, ['cus_c05'])).get('cus_c05')!;
    expect(c05.lifecycle.stage).toBe('growing');
    expect(c05.contribution.profit).toBe('1280');
    // Ranks moved for everyone: c05 is now first.
    expect(c05.contribution.rank).toBe(1);
    const moves = await stageChanges(hub.knex, ALL, { from: 'declining', to: 'growing' });
    expect(moves.map((m) => [m.customerId, m.from, m.to, m.at])).toEqual([['cus_c05', 'declining', 'growing', F.NOW.toISOString()]]);
    // Bob does not see Alice's customer's move.
    expect(await stageChanges(hub.knex, { customers: 'own', user: 'bob' }, { from: 'declining' })).toEqual([]);
  });
});
