/**
 * Per-order line sums (crm_analysis_order): worked out by hand after a full refresh, and kept right
 * by an incremental one after lines are edited, deleted, added and moved to another order and a
 * product's cost changes, all written through the hub store as a sync run writes them. Runs on a
 * SQLite hub and a PostgreSQL hub.
 */
import type { Knex } from 'knex';
import { describe, expect, test } from 'vitest';
import { analysisSchema } from '../../config/schema.js';
import { analysesOf, computeFigures, refreshAnalysis, windowsOf } from '../../analysis/index.js';
import { orderSumsQuery } from '../../analysis/figures.js';
import { ANALYSIS_TABLES } from '../../hub/analysis.js';
import type { Hub } from '../../hub/hub.js';
import { hubOrSkip, useTestHub } from '../support/hub.js';
import * as F from './fixture.js';

const cfg = analysisSchema.parse({ timezone: 'Asia/Shanghai' });
const now = () => F.NOW;
const ALL = { customers: 'all' } as const;
const ids = F.customers.map((c) => c.id);

type Sums = Record<string, [number, number, number]>;

/** The stored sums per order: [revenue cents, cost cents, lines without a cost]. */
async function stored(hub: Hub): Promise<Sums> {
  const rows = (await hub.knex(ANALYSIS_TABLES.order).select('*')) as Record<string, unknown>[];
  return Object.fromEntries(rows.map((r) => [String(r.order_id), [Number(r.revenue_cents), Number(r.cost_cents), Number(r.cost_missing_lines)]]));
}

/** The same sums computed now from every line. */
async function fromLines(hub: Hub): Promise<Sums> {
  const q = orderSumsQuery(hub.dialect, null);
  const res = (await hub.knex.raw(q.sql, q.bindings as Knex.RawBinding[])) as { rows?: Record<string, unknown>[] } | Record<string, unknown>[];
  const rows = Array.isArray(res) ? res : (res.rows ?? []);
  return Object.fromEntries(rows.map((r) => [String(r.order_id), [Number(r.revenue_cents), Number(r.cost_cents), Number(r.cost_missing_lines)]]));
}

describe.each(['sqlite', 'postgres'] as const)('per-order line sums, on a %s hub', (dialect) => {
  const ctx = useTestHub(dialect, 'analysis_order_sums');

  test('a full refresh builds them; an incremental one follows edited, deleted, added and moved lines and a product cost', async (t) => {
    const hub = hubOrSkip(ctx, t);
    await F.seedAnalysed(hub, cfg);
    let sums = await stored(hub);
    // so_01a: 1000, cost 100 × 6; so_02a: 120, cost 10 × 7.3333 = 73.333 → 73.33 (the line's own cost);
    // so_02b: no amount, 3 × 5 = 15, cost 3 × 2.5; so_07a: a product without a cost.
    expect(sums.so_01a).toEqual([100000, 60000, 0]);
    expect(sums.so_02a).toEqual([12000, 7333, 0]);
    expect(sums.so_02b).toEqual([1500, 750, 0]);
    expect(sums.so_07a).toEqual([9999, 0, 1]);
    // An order without lines has no sums (its figures fall back to the order's total).
    expect(sums.so_08a).toBeUndefined();
    expect(sums).toEqual(await fromLines(hub));

    const lineOf = (order: string) => F.lines.find((l) => l.orderId === order)!.id;
    // so_01a's line is edited to 900; so_05b's line (20 × 10 = 200) moves to so_01a;
    await F.put(hub, 'SalesOrderLine', [{ id: lineOf('so_01a'), amount: '900' }]);
    await F.put(hub, 'SalesOrderLine', [{ id: lineOf('so_05b'), orderId: 'so_01a' }]);
    // so_09c's line is deleted; so_08a gets a line; the valve (P2) now costs 3.
    await F.put(hub, 'SalesOrderLine', [{ id: lineOf('so_09c') }], { deleted: true });
    await F.put(hub, 'SalesOrderLine', [{ id: 'sol_new', orderId: 'so_08a', lineNo: 1, productId: 'prd_p1', quantity: '2', unitPrice: '150', amount: '300', unitCost: null }]);
    await F.put(hub, 'Product', [{ id: 'prd_p2', cost: '3' }]);
    await refreshAnalysis(hub, cfg, { kind: 'incremental', now });
    sums = await stored(hub);
    expect(sums.so_01a).toEqual([110000, 72000, 0]);
    expect(sums.so_05b).toBeUndefined();
    expect(sums.so_09c).toBeUndefined();
    expect(sums.so_08a).toEqual([30000, 1200, 0]);
    // 200 valves at 3; so_02b's line carries no cost of its own either.
    expect(sums.so_01c).toEqual([100000, 60000, 0]);
    expect(sums.so_02b).toEqual([1500, 900, 0]);
    expect(sums).toEqual(await fromLines(hub));

    // The customers' figures match a full refresh that rebuilds every order's sums from the lines,
    // and the live figures (credit check) that read the lines themselves.
    const incremental = F.figuresOf(await analysesOf(hub.knex, ALL, ids));
    await refreshAnalysis(hub, cfg, { kind: 'full', now, rebuildOrderSums: true });
    expect(F.figuresOf(await analysesOf(hub.knex, ALL, ids))).toEqual(incremental);
    const live = await computeFigures(hub.knex, hub.dialect, cfg, windowsOf(F.TODAY, cfg), ['cus_c01', 'cus_c08', 'cus_c09']);
    expect(live.map((f) => [f.customerId, f.revenueCents, f.costCents])).toEqual(
      ['cus_c01', 'cus_c08', 'cus_c09'].map((id) => [id, BigInt(incremental[id].contribution.revenue) * 100n, BigInt(incremental[id].contribution.cost) * 100n]),
    );
  });
});
