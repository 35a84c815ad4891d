/**
 * A nested connection read from the hub (one query for every parent, ROW_NUMBER per parent) can
 * be ordered by a decimal field: SQLite keeps decimals as text and sorts them through a CAST, which
 * must stay valid SQL inside the window function, and order as numbers ("900" before "1000.5").
 */
import { describe, expect, it } from 'vitest';
import { HubStore } from '../../schema/hub-store.js';
import { useTestHub } from '../support/hub.js';

describe.each(['sqlite', 'postgres'] as const)('nested hub connection ordered by a decimal on a %s hub', (dialect) => {
  const env = useTestHub(dialect, 'nested_order');

  it('orders each parent’s rows numerically and cuts each at the limit', async (t) => {
    const hub = env.hub;
    if (!hub) return t.skip();
    const rows = [
      { gid: 'so_a1', patch: { code: 'A1', customerId: 'cus_a', totalAmount: '1000.5' } },
      { gid: 'so_a2', patch: { code: 'A2', customerId: 'cus_a', totalAmount: '900' } },
      { gid: 'so_a3', patch: { code: 'A3', customerId: 'cus_a', totalAmount: '20000' } },
      { gid: 'so_b1', patch: { code: 'B1', customerId: 'cus_b', totalAmount: '5' } },
      { gid: 'so_b2', patch: { code: 'B2', customerId: 'cus_b', totalAmount: '40' } },
    ];
    await hub.store.transaction((trx) =>
      hub.store.golden.write(trx, 'SalesOrder', rows.map((r) => ({ ...r, current: null })), { actor: 'test', action: 'seed' }),
    );
    const store = new HubStore('SalesOrder', hub);
    const recs = await store.select({
      where: { const: true },
      sort: [{ column: 'totalAmount', direction: 'desc' }, ...store.keySort()],
      limit: 2,
      partition: { field: 'customerId', values: ['cus_a', 'cus_b'] },
    });
    const byParent = (c: string) => recs.filter((r) => r.get('customerId') === c).map((r) => r.get('code'));
    expect(byParent('cus_a')).toEqual(['A3', 'A1']);
    expect(byParent('cus_b')).toEqual(['B2', 'B1']);
  });
});
