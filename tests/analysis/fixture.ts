/**
 * A small company whose analysis can be worked out by hand (docs/analysis.md walks through it):
 * nine live customers, a deleted and a merged one, three products (one without a cost), two years
 * of orders, open and paid invoices, a receivable, credit limits and opportunities. "Now" is
 * 2026-06-30T17:00Z, which is 2026-07-01 in Asia/Shanghai: the analysis day.
 */
import { refreshAnalysis, type CustomerAnalysis } from '../../analysis/index.js';
import type { AnalysisConfig } from '../../config/schema.js';
import type { Hub } from '../../hub/hub.js';
import type { AnalysisRun } from '../../hub/analysis.js';
import type { CrmRecord, EntityName } from '../../model/entities.js';

export const NOW = new Date('2026-06-30T17:00:00.000Z');
export const TODAY = '2026-07-01';

type Row = CrmRecord & { id: string };

export const customers: Row[] = [
  { id: 'cus_c01', name: 'Alpha 有限公司', ownerId: 'alice', ownerTeam: 'east', creditLimit: '1200' },
  { id: 'cus_c02', name: 'Beta', ownerId: 'bob', ownerTeam: 'west', creditLimit: '100' },
  { id: 'cus_c03', name: 'Gamma', ownerId: 'alice', ownerTeam: 'east', creditLimit: '40' },
  { id: 'cus_c04', name: 'Delta', ownerId: 'bob', ownerTeam: 'west' },
  { id: 'cus_c05', name: 'Epsilon', ownerId: 'alice', ownerTeam: 'east' },
  { id: 'cus_c06', name: 'Zeta', ownerId: 'bob', ownerTeam: 'west' },
  { id: 'cus_c07', name: 'Eta', ownerId: 'alice', ownerTeam: 'east' },
  { id: 'cus_c08', name: 'Theta', ownerId: 'bob', ownerTeam: 'west' },
  { id: 'cus_c09', name: 'Iota', ownerId: 'alice', ownerTeam: 'east' },
];
/** Deleted, and merged into c01: neither counts. */
export const goneCustomers: Row[] = [
  { id: 'cus_c10', name: 'Kappa (deleted)', ownerId: 'bob' },
  { id: 'cus_c11', name: 'Alpha duplicate', ownerId: 'alice' },
];

export const products: Row[] = [
  { id: 'prd_p1', code: 'P1', name: 'Pump', cost: '6' },
  { id: 'prd_p2', code: 'P2', name: 'Valve', cost: '2.5' },
  { id: 'prd_p3', code: 'P3', name: 'Service', cost: null },
];

/** [order id, customer, date, status, totalAmount] */
const orderSpec: [string, string, string, string, string | null][] = [
  ['so_01a', 'cus_c01', '2026-06-01', 'SHIPPED', null],
  ['so_01b', 'cus_c01', '2026-03-15', 'CLOSED', null],
  ['so_01c', 'cus_c01', '2025-09-10', 'CLOSED', null],
  ['so_01d', 'cus_c01', '2025-01-20', 'CLOSED', null],
  ['so_02a', 'cus_c02', '2026-05-20', 'APPROVED', null],
  ['so_02b', 'cus_c02', '2024-12-01', 'CLOSED', null],
  ['so_03a', 'cus_c03', '2026-04-10', 'SHIPPED', null],
  ['so_04a', 'cus_c04', '2025-03-01', 'CLOSED', null],
  ['so_04b', 'cus_c04', '2024-08-01', 'CLOSED', null],
  ['so_05a', 'cus_c05', '2024-09-01', 'CLOSED', null],
  ['so_05b', 'cus_c05', '2025-08-01', 'CLOSED', null],
  ['so_07a', 'cus_c07', '2026-02-01', 'SHIPPED', null],
  ['so_07x', 'cus_c07', '2026-02-02', 'CANCELLED', null],
  ['so_07y', 'cus_c07', '2026-02-03', 'DRAFT', null],
  ['so_08a', 'cus_c08', '2026-01-10', 'SHIPPED', '300'],
  ['so_09a', 'cus_c09', '2024-08-15', 'CLOSED', null],
  ['so_09b', 'cus_c09', '2025-03-01', 'CLOSED', null],
  ['so_09c', 'cus_c09', '2026-03-01', 'CLOSED', null],
  // Before the 24-month window: counts for the first order only.
  ['so_09z', 'cus_c09', '2023-05-01', 'CLOSED', null],
  ['so_10a', 'cus_c10', '2026-05-01', 'CLOSED', null],
  ['so_11a', 'cus_c11', '2026-05-01', 'CLOSED', null],
];
export const orders: Row[] = orderSpec.map(([id, customerId, orderDate, status, totalAmount]) => ({ id, code: id.toUpperCase(), customerId, orderDate, status, totalAmount }));

/** [order, product, quantity, unitPrice, amount, unitCost on the line] */
const lineSpec: [string, string, string, string, string | null, string | null][] = [
  ['so_01a', 'prd_p1', '100', '10', '1000', null],
  ['so_01b', 'prd_p1', '50', '10', '500', null],
  ['so_01c', 'prd_p2', '200', '5', '1000', null],
  ['so_01d', 'prd_p1', '10', '10', '100', null],
  ['so_02a', 'prd_p1', '10', '12', '120', '7.3333'],
  ['so_02b', 'prd_p2', '3', '5', null, null],
  ['so_03a', 'prd_p2', '40', '5', '200', null],
  ['so_04a', 'prd_p1', '5', '10', '50', null],
  ['so_04b', 'prd_p1', '5', '10', '50', null],
  ['so_05a', 'prd_p1', '100', '10', '1000', null],
  ['so_05b', 'prd_p1', '20', '10', '200', null],
  ['so_07a', 'prd_p3', '1', '99.99', '99.99', null],
  ['so_07x', 'prd_p1', '1000', '10', '10000', null],
  ['so_07y', 'prd_p1', '1000', '10', '10000', null],
  ['so_09a', 'prd_p2', '1', '5', '5', null],
  ['so_09b', 'prd_p2', '100', '5', '500', null],
  ['so_09c', 'prd_p2', '104', '5', '520', null],
  ['so_09z', 'prd_p2', '100', '5', '500', null],
  ['so_10a', 'prd_p1', '100', '10', '1000', null],
  ['so_11a', 'prd_p1', '100', '10', '1000', null],
];
export const lines: Row[] = lineSpec.map(([orderId, productId, quantity, unitPrice, amount, unitCost], i) => ({
  id: `sol_${String(i).padStart(2, '0')}`,
  orderId,
  lineNo: 1,
  productId,
  quantity,
  unitPrice,
  amount,
  unitCost,
}));

export const invoices: Row[] = [
  { id: 'inv_1', code: 'INV1', customerId: 'cus_c01', invoiceDate: '2026-06-05', dueDate: '2026-07-05', amount: '1000', paidAmount: '0', balance: '1000', status: 'OPEN' },
  { id: 'inv_2', code: 'INV2', customerId: 'cus_c01', invoiceDate: '2026-04-20', dueDate: '2026-05-20', amount: '500', paidAmount: '200', balance: '300', status: 'PARTIAL' },
  { id: 'inv_v', code: 'INVV', customerId: 'cus_c01', invoiceDate: '2026-06-06', dueDate: '2026-06-10', amount: '999', paidAmount: '0', balance: '999', status: 'VOID' },
  { id: 'inv_3', code: 'INV3', customerId: 'cus_c02', invoiceDate: '2026-05-20', dueDate: '2026-06-19', amount: '120', paidAmount: '0', balance: '120', status: 'OPEN' },
  { id: 'inv_4', code: 'INV4', customerId: 'cus_c05', invoiceDate: '2025-08-01', dueDate: '2025-08-31', amount: '200', paidAmount: '0', balance: '200', status: 'OPEN' },
  { id: 'inv_5', code: 'INV5', customerId: 'cus_c05', invoiceDate: '2024-09-01', dueDate: '2024-10-01', amount: '1000', paidAmount: '1000', balance: '0', status: 'PAID' },
  { id: 'inv_6', code: 'INV6', customerId: 'cus_c08', invoiceDate: '2026-06-25', dueDate: '2026-07-25', amount: '300', paidAmount: '300', balance: '0', status: 'PAID' },
];

export const receivables: Row[] = [{ id: 'rcv_1', code: 'RCV1', customerId: 'cus_c03', documentDate: '2026-06-28', dueDate: '2026-07-28', amount: '50', balance: '50', status: 'OPEN' }];

export const creditLimits: Row[] = [
  { id: 'crl_2', customerId: 'cus_c02', amount: '500', status: 'ACTIVE', validFrom: '2026-01-01', validTo: '2026-12-31' },
  { id: 'crl_5', customerId: 'cus_c05', amount: '9000', status: 'ACTIVE', validFrom: '2025-01-01', validTo: '2025-12-31' },
];

export const opportunities: Row[] = [
  { id: 'opp_6', name: 'Zeta plant', customerId: 'cus_c06', stage: 'PROPOSAL', amount: '10000' },
  { id: 'opp_1', name: 'Alpha extension', customerId: 'cus_c01', stage: 'NEGOTIATION', amount: '1000' },
  { id: 'opp_3', name: 'Gamma won', customerId: 'cus_c03', stage: 'WON', amount: '5000' },
  { id: 'opp_9', name: 'Iota lost', customerId: 'cus_c09', stage: 'LOST', amount: '5000' },
];

/** Write rows through the hub store, as a sync or a mutation would. */
export async function put(hub: Hub, entity: EntityName, rows: readonly Row[], extra: { deleted?: boolean; mergedInto?: string } = {}): Promise<void> {
  await hub.store.transaction(async (trx) => {
    const current = await hub.getMany(entity, rows.map((r) => r.id), trx);
    await hub.store.golden.write(
      trx,
      entity,
      rows.map(({ id, ...patch }) => ({ gid: id, current: current.get(id) ?? null, patch, ...(extra.deleted ? { deleted: true } : {}), ...(extra.mergedInto ? { mergedInto: extra.mergedInto } : {}) })),
      { actor: 'test', action: 'seed' },
    );
  });
}

export async function seed(hub: Hub): Promise<void> {
  await put(hub, 'Customer', customers);
  await put(hub, 'Customer', [goneCustomers[0]], { deleted: true });
  await put(hub, 'Customer', [goneCustomers[1]], { mergedInto: 'cus_c01' });
  await put(hub, 'Product', products);
  await put(hub, 'SalesOrder', orders);
  await put(hub, 'SalesOrderLine', lines);
  await put(hub, 'Invoice', invoices);
  await put(hub, 'Receivable', receivables);
  await put(hub, 'CreditLimit', creditLimits);
  await put(hub, 'Opportunity', opportunities);
}

/** The company seeded into `hub` and analysed by a full refresh as of NOW; that refresh's run (its watermark is where changes are read after). */
export async function seedAnalysed(hub: Hub, cfg: AnalysisConfig): Promise<AnalysisRun> {
  await seed(hub);
  await refreshAnalysis(hub, cfg, { kind: 'full', now: () => NOW });
  const run = await hub.store.analysis.lastRun(hub.knex);
  if (!run) throw new Error('the full refresh recorded no run');
  return run;
}

/** Each customer's analysis but when it was computed: what two refreshes of the same data agree on. */
export const figuresOf = (m: Map<string, CustomerAnalysis>) =>
  Object.fromEntries([...m].map(([id, a]) => [id, { ...a, computedAt: undefined, lifecycle: { ...a.lifecycle, since: undefined } }]));
