/**
 * The row rule of one record (isVisible: node(), by-id reads, to-one refs) and the lookups made for
 * a record that does not exist (visibilityWorkForMissing), on stores held in memory: a customer by
 * its owner or team, every other record through the chain of parents that leads to its customer,
 * and a missing record probed with the same lookups as someone else's. The same rules over a
 * running server: own-with-team, ownership, held and existence.
 */
import { describe, expect, it } from 'vitest';
import type { EntityName } from '../../model/entities.js';
import { FALSE } from '../../schema/filters.js';
import { Scope, type Runtime } from '../../schema/runtime.js';
import { isVisible, visibilityFilter, visibilityWorkForMissing, type Viewer } from '../../schema/security.js';
import type { EntityStore, Rec } from '../../schema/store.js';

type Values = Record<string, string | null>;

function rec(entity: EntityName, space: string, key: string, values: Values): Rec {
  return { entity, id: `${entity}:${key}`, space, key, values, get: (f: string) => values[f] ?? null, version: 1, updatedAt: null, raw: {} } as Rec;
}

/**
 * Customers live in the hub; orders and their lines in the ERP, whose orders name customers by ERP
 * key (translated to hub ids). ERP customer "null" is a real customer, alice's; E5 was merged into
 * hub record c5, which is gone; E9 is not known to the hub at all.
 */
const CUSTOMERS: Values[] = [
  { key: 'c1', ownerId: 'alice', ownerTeam: 'east' },
  { key: 'c2', ownerId: 'bob', ownerTeam: 'west' },
  { key: 'c3', ownerId: 'alice', ownerTeam: 'east' },
  { key: 'c4', ownerId: 'carol', ownerTeam: '' },
];
const ERP_CUSTOMER_TO_HUB: Record<string, string[]> = { E1: ['c1'], E2: ['c2'], null: ['c3'], E4: ['c4'], E5: ['c5'] };
const ORDERS: Values[] = [
  { key: 'o1', customerId: 'E1' },
  { key: 'o2', customerId: 'E2' },
  { key: 'o3', customerId: null },
  { key: 'o4', customerId: 'E9' },
  { key: 'o5', customerId: 'E5' },
];
const LINES: Values[] = [
  { key: 'l1', orderId: 'o1' },
  { key: 'l2', orderId: 'o2' },
  { key: 'l3', orderId: 'o404' },
];
const PRODUCTS: Values[] = [{ key: 'p1', name: 'Widget' }];

const SPACES: Partial<Record<EntityName, string>> = { Customer: 'hub', SalesOrder: 'erp', SalesOrderLine: 'erp', Product: 'hub' };
const ROWS: Partial<Record<EntityName, Values[]>> = { Customer: CUSTOMERS, SalesOrder: ORDERS, SalesOrderLine: LINES, Product: PRODUCTS };

function store(entity: EntityName): EntityStore {
  const space = SPACES[entity] ?? 'hub';
  const rows = new Map((ROWS[entity] ?? []).map((v) => [String(v.key), rec(entity, space, String(v.key), v)]));
  return {
    entity,
    space,
    refSpace: () => space,
    byKeys: async (keys: readonly string[]) => new Map(keys.flatMap((k) => (rows.has(k) ? [[k, rows.get(k) as Rec] as const] : []))),
  } as unknown as EntityStore;
}

/** The lookups a scope made, without their keys: what a probe costs, not what it asked for. */
class CountingScope extends Scope {
  readonly lookups: string[] = [];

  override async translate(entity: EntityName, from: string, to: string, keys: readonly string[]): Promise<Map<string, string[]>> {
    this.lookups.push(`translate ${entity} ${from}→${to} ×${keys.length}`);
    const table = entity === 'Customer' && from === 'erp' && to === 'hub' ? ERP_CUSTOMER_TO_HUB : undefined;
    return new Map(keys.map((k) => [k, table ? (table[k] ?? []) : from === to ? [k] : []]));
  }

  override byKey(entity: EntityName, key: string): Promise<Rec | null> {
    this.lookups.push(`read ${entity}`);
    return super.byKey(entity, key);
  }
}

function scopeFor(viewer: Partial<Viewer>): CountingScope {
  const stores = new Map<EntityName, EntityStore>();
  const rt = { store: (e: EntityName) => stores.get(e) ?? stores.set(e, store(e)).get(e) } as unknown as Runtime;
  return new CountingScope(rt, { user: 'alice', role: 'r', customers: 'own', hidden: new Set(), write: false, admin: false, ...viewer });
}

const row = (entity: EntityName, key: string): Rec => {
  const v = (ROWS[entity] ?? []).find((r) => r.key === key);
  if (!v) throw new Error(`no ${entity} ${key} in the test data`);
  return rec(entity, SPACES[entity] ?? 'hub', key, v);
};

const visible = (viewer: Partial<Viewer>, entity: EntityName, key: string) => isVisible(scopeFor(viewer), row(entity, key));

describe('a customer', () => {
  it('is visible to its owner under `own`, to its team under `team`, to everyone under `all`', async () => {
    expect(await visible({ customers: 'own', user: 'alice' }, 'Customer', 'c1')).toBe(true);
    expect(await visible({ customers: 'own', user: 'alice', team: 'west' }, 'Customer', 'c2')).toBe(false);
    expect(await visible({ customers: 'team', user: 'zoe', team: 'west' }, 'Customer', 'c2')).toBe(true);
    expect(await visible({ customers: 'team', user: 'alice', team: 'west' }, 'Customer', 'c1')).toBe(false);
    expect(await visible({ customers: 'all', user: 'zoe' }, 'Customer', 'c2')).toBe(true);
  });

  it('a team rule without a team name sees no customer, not even one whose team is blank', async () => {
    expect(await visible({ customers: 'team', user: 'zoe', team: '' }, 'Customer', 'c4')).toBe(false);
    expect(await visible({ customers: 'team', user: 'zoe' }, 'Customer', 'c4')).toBe(false);
  });

  it('a rule the code does not know sees nothing, by id or in lists (a viewer not built from a checked config)', async () => {
    const unknown = { customers: 'some' as Viewer['customers'], user: 'alice', team: 'east' };
    expect(await visible(unknown, 'Customer', 'c1')).toBe(false);
    expect(await visible(unknown, 'SalesOrder', 'o1')).toBe(false);
    expect(await visibilityFilter(scopeFor(unknown), 'Customer')).toEqual(FALSE);
  });
});

describe('a record through its parents', () => {
  it('an order is visible exactly when its customer is, and an order line exactly when its order is', async () => {
    expect(await visible({ user: 'alice' }, 'SalesOrder', 'o1')).toBe(true);
    expect(await visible({ user: 'alice' }, 'SalesOrderLine', 'l1')).toBe(true);
    // bob's customer: neither the order nor its line, even for a viewer of another team.
    expect(await visible({ user: 'alice', team: 'west' }, 'SalesOrder', 'o2')).toBe(false);
    expect(await visible({ user: 'alice', team: 'west' }, 'SalesOrderLine', 'l2')).toBe(false);
    expect(await visible({ customers: 'team', user: 'zoe', team: 'west' }, 'SalesOrderLine', 'l2')).toBe(true);
    expect(await visible({ customers: 'team', user: 'zoe', team: 'west' }, 'SalesOrderLine', 'l1')).toBe(false);
  });

  it('an order without a customer is seen only under `all`, even where a customer is keyed "null"', async () => {
    expect(await visible({ user: 'alice' }, 'SalesOrder', 'o3')).toBe(false);
    expect(await visible({ customers: 'team', user: 'zoe', team: 'east' }, 'SalesOrder', 'o3')).toBe(false);
    expect(await visible({ customers: 'all' }, 'SalesOrder', 'o3')).toBe(true);
  });

  it('an order whose customer cannot be found is not shown: a key the hub does not know, or a record that is gone', async () => {
    for (const order of ['o4', 'o5']) {
      expect(await visible({ user: 'alice' }, 'SalesOrder', order)).toBe(false);
      expect(await visible({ customers: 'all' }, 'SalesOrder', order)).toBe(true);
    }
    expect(await visible({ user: 'alice' }, 'SalesOrderLine', 'l3')).toBe(false);
  });

  it('records that are not customer data are visible to every role', async () => {
    expect(await visible({ user: 'alice' }, 'Product', 'p1')).toBe(true);
    expect(await visible({ customers: 'team', team: 'east' }, 'Product', 'p1')).toBe(true);
  });
});

describe('the lookups for a record that does not exist', () => {
  it.each([
    ['SalesOrder', 'o2'],
    ['SalesOrderLine', 'l2'],
  ] as const)("are those made for someone else's %s (%s): no difference in work tells that it exists", async (entity, key) => {
    const theirs = scopeFor({ user: 'alice' });
    expect(await isVisible(theirs, row(entity, key))).toBe(false);
    const missing = scopeFor({ user: 'alice' });
    await visibilityWorkForMissing(missing, entity);
    expect(theirs.lookups.length).toBeGreaterThan(0);
    expect(missing.lookups).toEqual(theirs.lookups);
  });

  it('cost nothing for a role that sees every customer, as a present record costs nothing', async () => {
    const present = scopeFor({ customers: 'all' });
    expect(await isVisible(present, row('SalesOrderLine', 'l2'))).toBe(true);
    const missing = scopeFor({ customers: 'all' });
    await visibilityWorkForMissing(missing, 'SalesOrderLine');
    expect(present.lookups).toEqual([]);
    expect(missing.lookups).toEqual([]);
  });

  it('are none for a record that hangs off no customer', async () => {
    const missing = scopeFor({ user: 'alice' });
    await visibilityWorkForMissing(missing, 'Product');
    await visibilityWorkForMissing(missing, 'Customer');
    expect(missing.lookups).toEqual([]);
  });
});
