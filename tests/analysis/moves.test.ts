/**
 * Records that move to another customer: an incremental refresh recomputes the customer they left
 * as well as the one they joined, so its figures match a full refresh without waiting for one.
 * Runs on a SQLite hub and a PostgreSQL hub.
 */
import { describe, expect, test } from 'vitest';
import { analysisSchema } from '../../config/schema.js';
import { analysesOf, refreshAnalysis, touchedCustomers } from '../../analysis/index.js';
import { hubOrSkip, useTestHub } from '../support/hub.js';
import * as F from './fixture.js';

const cfg = analysisSchema.parse({ timezone: 'Asia/Shanghai' });
const now = () => F.NOW;
const ALL = { customers: 'all' } as const;
const ids = F.customers.map((c) => c.id);

describe.each(['sqlite', 'postgres'] as const)('records moved to another customer, on a %s hub', (dialect) => {
  const ctx = useTestHub(dialect, 'analysis_move');

  test('an order, an order line and an invoice that change customer refresh the customer they left', async (t) => {
    const hub = hubOrSkip(ctx, t);
    const first = await F.seedAnalysed(hub, cfg);

    // so_09c (2026-03-01, 104 × 5 = 520) moves from Iota (c09) to Gamma (c03).
    await F.put(hub, 'SalesOrder', [{ id: 'so_09c', customerId: 'cus_c03' }]);
    expect((await touchedCustomers(hub.knex, first.watermark)).touched.sort()).toEqual(['cus_c03', 'cus_c09']);
    await refreshAnalysis(hub, cfg, { kind: 'incremental', now });
    let all = await analysesOf(hub.knex, ALL, ids);
    // c09 keeps so_09a (5) and so_09b (500): 505 in the window, two orders.
    expect(all.get('cus_c09')!.contribution.revenue).toBe('505');
    expect(all.get('cus_c09')!.rfm.frequency).toBe(2);
    expect(all.get('cus_c03')!.contribution.revenue).toBe('720');

    // A line of so_05b (20 × 10 = 200) moves to c01's so_01a; c05's open invoice (200, overdue) moves to c02.
    const second = await hub.store.analysis.lastRun(hub.knex);
    const line = F.lines.find((l) => l.orderId === 'so_05b')!;
    await F.put(hub, 'SalesOrderLine', [{ id: line.id, orderId: 'so_01a' }]);
    const inv = F.invoices.find((i) => i.customerId === 'cus_c05')!;
    await F.put(hub, 'Invoice', [{ id: inv.id, customerId: 'cus_c02' }]);
    expect((await touchedCustomers(hub.knex, second!.watermark)).touched.sort()).toEqual(['cus_c01', 'cus_c02', 'cus_c05']);
    await refreshAnalysis(hub, cfg, { kind: 'incremental', now });
    all = await analysesOf(hub.knex, ALL, ids);

    // Whatever moved, the incremental result is the full refresh's.
    await refreshAnalysis(hub, cfg, { kind: 'full', now });
    const full = await analysesOf(hub.knex, ALL, ids);
    expect(F.figuresOf(all)).toEqual(F.figuresOf(full));
  });
});
