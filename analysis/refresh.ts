/**
 * Keeping the analysis fresh without recomputing everything:
 * - full: the figures of every customer, then the ranks; on a schedule (analysis.schedule) and on demand;
 * - incremental: only the customers whose records changed since the last refresh, found by the
 *   hub's change sequence (`_seq` past the last refresh's watermark on the customer, its orders,
 *   order lines, products sold to it, invoices, receivables, payments, opportunities and credit
 *   limits), then the ranks, which are one statement over the stored figures. Run after every sync
 *   run, so what a run touched is fresh when it ends.
 *
 * The clock is injected (`now`), so tests and the demo fix "today".
 *
 * @example
 * const report = await refreshAnalysis(app.hub, app.config.analysis, { kind: 'full' });
 * console.log(report.customers, report.stageChanges);
 */
import type { Knex } from 'knex';
import type { AnalysisConfig } from '../config/schema.js';
import { CrmlinkError } from '../core/errors.js';
import type { Hub } from '../hub/hub.js';
import { SYSTEM_TABLES } from '../hub/tables.js';
import { orderSumsQuery, storedFiguresQuery, windowsOf } from './figures.js';
import { applyScores, type Thresholds } from './ranks.js';
import { col, rowsOf, table, todayIn } from './sql.js';

export interface RefreshOptions {
  kind: 'full' | 'incremental';
  now?: () => Date;
  /**
   * Recompute every order's line sums (crm_analysis_order) from the lines, not only those of the
   * orders whose lines changed since the last refresh. They are built from scratch anyway the first time.
   */
  rebuildOrderSums?: boolean;
  /** Told how long each stage took (orders, touched, figures, scores; milliseconds), for benchmarks. */
  onStage?: (stage: string, ms: number) => void;
}

export interface RefreshReport {
  kind: 'full' | 'incremental';
  asOf: string;
  customers: number;
  stageChanges: number;
  thresholds: Thresholds;
  runId: number;
}

/** Customers at most this many per figures statement (bound parameters). */
const CHUNK = 500;

/** The hub lock a refresh holds (no sync job can be named so: job names are config keys without a colon in practice). */
export const ANALYSIS_LOCK = ':analysis';

/**
 * Refresh the analysis. One refresh at a time per hub, whatever the number of crmlink processes:
 * a refresh that finds another one running fails with LOCKED (the caller tries again later).
 */
export async function refreshAnalysis(hub: Hub, cfg: AnalysisConfig, opts: RefreshOptions): Promise<RefreshReport> {
  const lock = await hub.store.locks.tryLockJob(hub, ANALYSIS_LOCK);
  if (!lock) throw new CrmlinkError('LOCKED', 'an analysis refresh is already running on this hub; try again when it has finished', {});
  try {
    return await refreshLocked(hub, cfg, opts);
  } finally {
    await lock.release();
  }
}

async function refreshLocked(hub: Hub, cfg: AnalysisConfig, opts: RefreshOptions): Promise<RefreshReport> {
  const now = opts.now ?? (() => new Date());
  const store = hub.store.analysis;
  const startedAt = now().toISOString();
  const asOf = cfg.asOf ?? todayIn(now(), cfg.timezone);
  const windows = windowsOf(asOf, cfg);
  const last = opts.kind === 'incremental' ? await store.lastRun(hub.knex) : null;
  // No refresh yet: an incremental one is a full one.
  const kind = opts.kind === 'incremental' && last === null ? 'full' : opts.kind;
  const watermark = await store.sequence(hub.knex);
  const runId = await store.startRun(hub.knex, { kind, asOf, startedAt, watermark });
  let mark = performance.now();
  const stage = (name: string) => {
    const at = performance.now();
    opts.onStage?.(name, at - mark);
    mark = at;
  };
  try {
    const result = await hub.store.transaction(async (trx) => {
      await store.ensureIndexes(trx);
      await updateOrderSums(trx, hub, watermark, opts.rebuildOrderSums === true);
      stage('orders');
      let customers = 0;
      let stageChanges = 0;
      if (kind === 'full') {
        const written = await store.writeFiguresFrom(trx, storedFiguresQuery(hub.dialect, cfg, windows, null), startedAt, true);
        customers = written.customers;
        stageChanges = written.stageChanges;
        stage('figures');
      } else {
        const { touched, gone } = await touchedCustomers(trx, last?.watermark ?? 0);
        stage('touched');
        for (let i = 0; i < touched.length; i += CHUNK) {
          const written = await store.writeFiguresFrom(trx, storedFiguresQuery(hub.dialect, cfg, windows, touched.slice(i, i + CHUNK)), startedAt, false);
          customers += written.customers;
          stageChanges += written.stageChanges;
        }
        await store.removeCustomers(trx, gone);
        stage('figures');
      }
      const { thresholds } = await applyScores(trx, cfg);
      stage('scores');
      return { customers, stageChanges, thresholds };
    });
    await store.finishRun(hub.knex, runId, { status: 'ok', endedAt: now().toISOString(), customers: result.customers, thresholds: jsonThresholds(result.thresholds), error: null });
    return { kind, asOf, runId, ...result };
  } catch (err) {
    await store.finishRun(hub.knex, runId, { status: 'failed', endedAt: now().toISOString(), customers: 0, thresholds: null, error: err instanceof Error ? err.message : String(err) });
    throw err;
  }
}

/**
 * Bring the per-order line sums up to `watermark`: every order's when they were never built (or
 * `rebuild`), else only those of the orders whose lines changed since the sums' own mark. Recomputing
 * an order is idempotent, so an order counted twice (a write racing the watermark) is harmless.
 */
async function updateOrderSums(trx: Knex.Transaction, hub: Hub, watermark: number, rebuild: boolean): Promise<void> {
  const store = hub.store.analysis;
  const mark = rebuild ? null : await store.orderSumsMark(trx);
  if (mark === null) await store.replaceOrderSums(trx, null, orderSumsQuery(hub.dialect, null));
  else {
    const orders = await changedOrders(trx, mark);
    for (let i = 0; i < orders.length; i += CHUNK) {
      const chunk = orders.slice(i, i + CHUNK);
      await store.replaceOrderSums(trx, chunk, orderSumsQuery(hub.dialect, chunk));
    }
  }
  await store.setOrderSumsMark(trx, watermark);
}

/**
 * Orders whose line sums may have moved since `mark`: those of lines changed since (edited,
 * deleted, added), those lines belonged to before (crm_history keeps each version's changed fields
 * with their values before), and those with a line of a product changed since (its cost).
 */
export async function changedOrders(knex: Knex | Knex.Transaction, mark: number): Promise<string[]> {
  const orderOfLine = col('l', 'orderId');
  const current = rowsOf(
    await knex.raw(
      `SELECT ${orderOfLine} AS oid FROM ${table('SalesOrderLine')} l WHERE l._seq > ?
      UNION ALL
      SELECT ${orderOfLine} FROM ${table('SalesOrderLine')} l WHERE ${col('l', 'productId')} IN (SELECT pr.id FROM ${table('Product')} pr WHERE pr._seq > ?)`,
      [mark, mark],
    ),
  );
  const before = rowsOf(
    await knex.raw(
      `SELECT h.before AS before FROM ${table('SalesOrderLine')} x JOIN ${SYSTEM_TABLES.history} h ON h.entity = 'SalesOrderLine' AND h.gid = x.id WHERE x._seq > ? AND h.before LIKE '%"orderId"%'`,
      [mark],
    ),
  );
  const orders = new Set<string>();
  for (const r of current) if (r.oid !== null && r.oid !== undefined) orders.add(String(r.oid));
  for (const r of before) {
    const id = (JSON.parse(String(r.before)) as Record<string, unknown>).orderId;
    if (typeof id === 'string' && id !== '') orders.add(id);
  }
  return [...orders];
}

export function jsonThresholds(t: Thresholds): Record<string, unknown> {
  return { ...t, currentCents: t.currentCents.toString(), potentialCents: t.potentialCents.toString() };
}

/**
 * Customers whose figures may have moved since `watermark`: their own record or any record that
 * feeds their figures has a change sequence past it. `gone`: deleted or merged away since.
 */
export async function touchedCustomers(knex: Knex | Knex.Transaction, watermark: number): Promise<{ touched: string[]; gone: string[] }> {
  const byCustomer = (entity: 'SalesOrder' | 'Invoice' | 'Receivable' | 'Payment' | 'Opportunity' | 'CreditLimit') =>
    `SELECT ${col('x', 'customerId')} AS cid FROM ${table(entity)} x WHERE x._seq > ?`;
  // UNION ALL, deduplicated below: a UNION makes SQLite walk each table's customerId index in
  // order (for its merge) and test _seq on every row, instead of a range on the _seq index
  // (8 s against 0.1 s at 1M order lines). A changed product is found through the lines' productId
  // index, not by scanning every line.
  const sql = [
    `SELECT c.id AS cid FROM ${table('Customer')} c WHERE c._seq > ?`,
    byCustomer('SalesOrder'),
    byCustomer('Invoice'),
    byCustomer('Receivable'),
    byCustomer('Payment'),
    byCustomer('Opportunity'),
    byCustomer('CreditLimit'),
    `SELECT ${col('o', 'customerId')} FROM ${table('SalesOrderLine')} l JOIN ${table('SalesOrder')} o ON o.id = ${col('l', 'orderId')} WHERE l._seq > ?`,
    `SELECT ${col('o', 'customerId')} FROM ${table('SalesOrderLine')} l JOIN ${table('SalesOrder')} o ON o.id = ${col('l', 'orderId')} WHERE ${col('l', 'productId')} IN (SELECT pr.id FROM ${table('Product')} pr WHERE pr._seq > ?)`,
  ].join('\nUNION ALL\n');
  const rows = rowsOf(
    await knex.raw(
      `SELECT t.cid, c.id AS live FROM (${sql}) t LEFT JOIN ${table('Customer')} c ON c.id = t.cid AND NOT c._deleted AND c._merged_into IS NULL WHERE t.cid IS NOT NULL`,
      Array.from({ length: 9 }, () => watermark),
    ),
  );
  const touched = new Set<string>();
  const gone = new Set<string>();
  for (const r of rows) (r.live === null || r.live === undefined ? gone : touched).add(String(r.cid));
  // The customers these records belonged to before: a record moved to another customer leaves the
  // old one's figures stale too.
  const left = (await formerCustomers(knex, watermark)).filter((id) => !touched.has(id) && !gone.has(id));
  for (let i = 0; i < left.length; i += 500) {
    const chunk = left.slice(i, i + 500);
    const live = new Set(
      ((await knex(table('Customer')).whereIn('id', chunk).whereRaw('NOT _deleted').whereNull('_merged_into').select('id')) as { id: unknown }[]).map((r) => String(r.id)),
    );
    for (const id of chunk) (live.has(id) ? touched : gone).add(id);
  }
  return { touched: [...touched], gone: [...gone] };
}

/** Entities whose records name their customer (customerId), as touchedCustomers reads them. */
const CUSTOMER_RECORDS = ['SalesOrder', 'Invoice', 'Receivable', 'Payment', 'Opportunity', 'CreditLimit'] as const;

/**
 * Customers that records changed since `watermark` named before a change of their customer (an
 * order line: of its order), from the record history (crm_history keeps each version's changed
 * fields with their values before). Every earlier owner of such a record is returned, not only the
 * one at the watermark: recomputing a customer more than needed is harmless, one fewer is not.
 */
async function formerCustomers(knex: Knex | Knex.Transaction, watermark: number): Promise<string[]> {
  const byCustomer = (entity: (typeof CUSTOMER_RECORDS)[number]) =>
    `SELECT h.before AS before, 0 AS line FROM ${table(entity)} x JOIN ${SYSTEM_TABLES.history} h ON h.entity = '${entity}' AND h.gid = x.id WHERE x._seq > ? AND h.before LIKE '%"customerId"%'`;
  const sql = [
    ...CUSTOMER_RECORDS.map(byCustomer),
    `SELECT h.before AS before, 1 AS line FROM ${table('SalesOrderLine')} x JOIN ${SYSTEM_TABLES.history} h ON h.entity = 'SalesOrderLine' AND h.gid = x.id WHERE x._seq > ? AND h.before LIKE '%"orderId"%'`,
  ].join('\nUNION ALL\n');
  const rows = rowsOf(await knex.raw(sql, Array.from({ length: CUSTOMER_RECORDS.length + 1 }, () => watermark)));
  const customers = new Set<string>();
  const orders = new Set<string>();
  for (const r of rows) {
    const before = JSON.parse(String(r.before)) as Record<string, unknown>;
    const isLine = Number(r.line) === 1;
    const id = isLine ? before.orderId : before.customerId;
    if (typeof id === 'string' && id !== '') (isLine ? orders : customers).add(id);
  }
  const orderIds = [...orders];
  for (let i = 0; i < orderIds.length; i += 500) {
    const owners = (await knex(table('SalesOrder')).whereIn('id', orderIds.slice(i, i + 500)).whereNotNull('customerId').select('customerId')) as { customerId: unknown }[];
    for (const o of owners) customers.add(String(o.customerId));
  }
  return [...customers];
}
