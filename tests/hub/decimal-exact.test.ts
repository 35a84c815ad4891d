/**
 * Decimals keep every place the model gives them, in the hub and in its aggregates, on both hub
 * engines: PostgreSQL stores numeric(30, scale); SQLite stores text and sums as REAL, rounded back
 * to the field's scale. Values with two non-zero places (1234.56, 0.01 + 0.02) and four
 * (SalesOrderLine.quantity) show a place dropped anywhere on the way.
 */
import { describe, expect, it } from 'vitest';
import { HubStore } from '../../schema/hub-store.js';
import { useTestHub } from '../support/hub.js';
import { everyAggregate } from '../support/aggregates.js';

describe.each(['sqlite', 'postgres'] as const)('exact decimals on a %s hub', (dialect) => {
  const env = useTestHub(dialect, 'decimal_exact');

  const orders = [
    { gid: 'so_a1', patch: { code: 'A1', customerId: 'cus_a', totalAmount: '0.01' } },
    { gid: 'so_a2', patch: { code: 'A2', customerId: 'cus_a', totalAmount: '0.02' } },
    { gid: 'so_b1', patch: { code: 'B1', customerId: 'cus_b', totalAmount: '1234.56' } },
    { gid: 'so_b2', patch: { code: 'B2', customerId: 'cus_b', totalAmount: '-0.07' } },
  ];
  const lines = [
    { gid: 'sol_1', patch: { orderId: 'so_a1', quantity: '1.2345', amount: '0.01' } },
    { gid: 'sol_2', patch: { orderId: 'so_a1', quantity: '0.0001', amount: '0.02' } },
  ];

  let seeding: Promise<{ orders: HubStore; lines: HubStore }> | undefined;
  /** Seeded once, by the first test that runs. */
  const seeded = () =>
    (seeding ??= (async () => {
      const hub = env.hub!;
      await hub.store.transaction(async (trx) => {
        await hub.store.golden.write(trx, 'SalesOrder', orders.map((r) => ({ ...r, current: null })), { actor: 'test', action: 'seed' });
        await hub.store.golden.write(trx, 'SalesOrderLine', lines.map((r) => ({ ...r, current: null })), { actor: 'test', action: 'seed' });
      });
      return { orders: new HubStore('SalesOrder', hub), lines: new HubStore('SalesOrderLine', hub) };
    })());

  it('reads back every value as written', async (t) => {
    if (!env.hub) return t.skip();
    const s = await seeded();
    const got = await s.orders.select({ where: { const: true }, sort: s.orders.keySort() });
    expect(Object.fromEntries(got.map((r) => [r.get('code'), r.get('totalAmount')]))).toEqual({ A1: '0.01', A2: '0.02', B1: '1234.56', B2: '-0.07' });
    const l = await s.lines.select({ where: { const: true }, sort: s.lines.keySort() });
    expect(l.map((r) => r.get('quantity'))).toEqual(['1.2345', '0.0001']);
  });

  it('filters on a value with two places exactly', async (t) => {
    if (!env.hub) return t.skip();
    const s = await seeded();
    const eq = await s.orders.select({ where: { field: 'totalAmount', op: 'eq', value: '1234.56' }, sort: s.orders.keySort() });
    expect(eq.map((r) => r.get('code'))).toEqual(['B1']);
  });

  it('sums, averages and bounds to the last place, over all rows and per parent', async (t) => {
    if (!env.hub) return t.skip();
    const s = await seeded();
    const specs = everyAggregate('totalAmount');
    const [all] = await s.orders.aggregate({ const: true }, specs);
    expect(all).toMatchObject({ count: 4, sum: '1234.52', avg: '308.63', min: '-0.07', max: '1234.56' });

    const groups = await s.orders.aggregate({ const: true }, specs, { field: 'customerId', values: ['cus_a', 'cus_b'] });
    const byParent = Object.fromEntries(groups.map((g) => [g._g, { sum: g.sum, avg: g.avg, min: g.min, max: g.max }]));
    expect(byParent).toEqual({
      cus_a: { sum: '0.03', avg: '0.015', min: '0.01', max: '0.02' },
      cus_b: { sum: '1234.49', avg: '617.245', min: '-0.07', max: '1234.56' },
    });

    const [l] = await s.lines.aggregate({ const: true }, [
      { fn: 'sum', field: 'quantity', as: 'q' },
      { fn: 'sum', field: 'amount', as: 'a' },
    ]);
    expect(l).toMatchObject({ q: '1.2346', a: '0.03' });
  });
});
