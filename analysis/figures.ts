/**
 * Per-customer figures, computed by one SQL statement on the hub (orders and their lines, invoices,
 * receivables, opportunities, credit limits, each grouped by customer in the database), then the
 * lifecycle stage from those figures. Nothing here loops over orders or lines in JavaScript.
 */
import type { Knex } from 'knex';
import type { AnalysisConfig } from '../config/schema.js';
import type { CustomerFigures } from '../hub/analysis.js';
import { ANALYSIS_TABLES } from '../hub/analysis.js';
import { addDays, addMonths, bigOf, bigOr0, col, daysBetween, marks, productCents, rowsOf, table, units, type HubDialect } from './sql.js';

/** Open opportunity stages, in the order of the funnel. */
export const OPEN_STAGES = ['LEAD', 'QUALIFIED', 'PROPOSAL', 'NEGOTIATION'] as const;

export const LIFECYCLE_STAGES = ['prospect', 'new', 'growing', 'mature', 'declining', 'lapsed'] as const;
export type LifecycleStage = (typeof LIFECYCLE_STAGES)[number];

/** The days every window of a refresh is measured from ("today" in the analysis time zone). */
export interface Windows {
  today: string;
  /** Orders after this day count for RFM, contribution and tiers. */
  windowStart: string;
  /** After this day: the current span (value matrix). */
  currentStart: string;
  /** After this day and up to currentStart: the span before. */
  previousStart: string;
  d30: string;
  d60: string;
  d90: string;
}

export function windowsOf(today: string, cfg: AnalysisConfig): Windows {
  return {
    today,
    windowStart: addMonths(today, -cfg.windowMonths),
    currentStart: addMonths(today, -cfg.currentMonths),
    previousStart: addMonths(today, -2 * cfg.currentMonths),
    d30: addDays(today, -30),
    d60: addDays(today, -60),
    d90: addDays(today, -90),
  };
}

/** Percent → basis points (whole numbers, so weighting stays integer arithmetic). */
const bp = (percent: number) => Math.round(percent * 100);

/**
 * The figures of `customerIds` (every live customer when null), as of `w.today`, computed now from
 * the records (order lines included, not their sums as of the last refresh).
 */
export async function computeFigures(knex: Knex | Knex.Transaction, dialect: HubDialect, cfg: AnalysisConfig, w: Windows, customerIds: readonly string[] | null): Promise<CustomerFigures[]> {
  const { sql, bindings } = figuresQuery(dialect, cfg, w, customerIds, 'live');
  return rowsOf(await knex.raw(sql, bindings as Knex.RawBinding[])).map((r) => figuresOf(r, cfg, w));
}

/** A day as an SQL literal (the windows are computed days, never input). */
function dayLiteral(day: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) throw new Error(`not a day: ${day}`);
  return `'${day}'`;
}

/**
 * The figures as crm_analysis stores them (its columns, money in cents), for the customers given
 * (every live customer when null): the statement figuresOf and lifecycleStage mirror, evaluated by
 * the database so a refresh moves no row through JavaScript. Order lines are read from their sums
 * per order (crm_analysis_order), which the refresh brings up to date first. Columns: customer_id, as_of, orders,
 * revenue_cents, cost_cents, profit_cents, cost_missing_lines, first_order, last_order,
 * last_purchase, revenue_current_cents, revenue_previous_cents, profit_current_cents,
 * pipeline_cents, potential_cents, open_opportunities, stage, receivable_cents, overdue_cents,
 * aging_0_30_cents, aging_31_60_cents, aging_61_90_cents, aging_over_90_cents, credit_limit_cents.
 */
export function storedFiguresQuery(dialect: HubDialect, cfg: AnalysisConfig, w: Windows, customerIds: readonly string[] | null): { sql: string; bindings: unknown[] } {
  const { sql, bindings } = figuresQuery(dialect, cfg, w, customerIds, 'stored');
  const z = (e: string) => `COALESCE(${e}, 0)`;
  // Weighted pipeline: cents × basis points / 10 000, rounded half up to the cent (figuresOf).
  const pipeline = dialect === 'postgres' ? `div(${z('f.pipeline_bp')} + 5000, 10000)` : `((${z('f.pipeline_bp')} + 5000) / 10000)`;
  const trend = `(${z('f.rev_cur')} - ${z('f.rev_prev')})`;
  const rules = cfg.lifecycle;
  const cur = z('f.rev_cur');
  const prev = z('f.rev_prev');
  // lifecycleStage, with "more than n days ago" as a comparison of days.
  const stage = `CASE
    WHEN f.first_order IS NULL OR f.last_order IS NULL THEN 'prospect'
    WHEN f.last_order < ${dayLiteral(addDays(w.today, -rules.lapsedDays))} THEN 'lapsed'
    WHEN f.first_order >= ${dayLiteral(addDays(w.today, -rules.newDays))} THEN 'new'
    WHEN ${prev} <= 0 THEN CASE WHEN ${cur} > 0 THEN 'growing' ELSE 'declining' END
    WHEN ${cur} * 10000 >= ${prev} * ${10000 + bp(rules.growthPercent)} THEN 'growing'
    WHEN ${cur} * 10000 <= ${prev} * ${10000 - bp(rules.declinePercent)} THEN 'declining'
    ELSE 'mature' END`;
  const ordered = `${z('f.orders_w')} > 0`;
  const out = `SELECT f.customer_id, ${dayLiteral(w.today)} AS as_of, ${z('f.orders_w')} AS orders,
  ${z('f.rev_w')} AS revenue_cents, ${z('f.cost_w')} AS cost_cents, ${z('f.rev_w')} - ${z('f.cost_w')} AS profit_cents, ${z('f.nocost_w')} AS cost_missing_lines,
  f.first_order, f.last_order,
  CASE WHEN ${ordered} THEN CASE WHEN f.last_invoice IS NOT NULL AND (f.last_w IS NULL OR f.last_invoice > f.last_w) THEN f.last_invoice ELSE f.last_w END END AS last_purchase,
  ${cur} AS revenue_current_cents, ${prev} AS revenue_previous_cents, ${z('f.profit_cur')} AS profit_current_cents,
  ${pipeline} AS pipeline_cents, CASE WHEN ${trend} > 0 THEN ${trend} ELSE 0 END + ${pipeline} AS potential_cents,
  ${z('f.open_opps')} AS open_opportunities, ${stage} AS stage,
  ${z('f.receivable')} AS receivable_cents, ${z('f.overdue')} AS overdue_cents,
  ${z('f.a30')} AS aging_0_30_cents, ${z('f.a60')} AS aging_31_60_cents, ${z('f.a90')} AS aging_61_90_cents, ${z('f.a90p')} AS aging_over_90_cents,
  COALESCE(f.record_limit, f.customer_limit) AS credit_limit_cents
FROM (${sql}) f`;
  return { sql: out, bindings };
}

/**
 * The sums of the live lines of `orderIds` (every order when null), one row per order with lines:
 * order_id, revenue_cents (the line amount, else quantity × unit price), cost_cents (quantity × the
 * line's unit cost, else the product's), cost_missing_lines (lines with neither). What
 * crm_analysis_order keeps.
 */
export function orderSumsQuery(dialect: HubDialect, orderIds: readonly string[] | null): { sql: string; bindings: unknown[] } {
  return orderIds === null ? lineSums(dialect, '', []) : lineSums(dialect, ` AND ${col('l', 'orderId')} IN (${marks(orderIds.length)})`, [...orderIds]);
}

/** orderSumsQuery over the lines `filter` (an SQL condition on the line `l`, with its bindings) keeps. */
function lineSums(dialect: HubDialect, filter: string, bindings: unknown[]): { sql: string; bindings: unknown[] } {
  const lineCost = `COALESCE(${col('l', 'unitCost')}, ${col('pr', 'cost')})`;
  // SQLite: each line's cents are computed once, in a subquery it may not flatten into the
  // grouping (LIMIT -1); flattened, every use of an expression is evaluated again (2× slower).
  const sqlite = dialect === 'sqlite';
  const sql = `SELECT x.oid AS order_id, SUM(x.rev) AS revenue_cents, SUM(x.cost) AS cost_cents, SUM(x.nocost) AS cost_missing_lines FROM (
  SELECT ${col('l', 'orderId')} AS oid,
    COALESCE(${units(dialect, col('l', 'amount'), 2)}, ${productCents(dialect, col('l', 'quantity'), col('l', 'unitPrice'))}, 0) AS rev,
    COALESCE(${productCents(dialect, col('l', 'quantity'), lineCost)}, 0) AS cost,
    CASE WHEN ${lineCost} IS NULL THEN 1 ELSE 0 END AS nocost
  FROM ${table('SalesOrderLine')} l
  LEFT JOIN ${table('Product')} pr ON pr.id = ${col('l', 'productId')} AND NOT pr._deleted
  WHERE NOT l._deleted AND ${col('l', 'orderId')} IS NOT NULL${filter}${sqlite ? ' LIMIT -1' : ''}
) x GROUP BY x.oid`;
  return { sql, bindings };
}

/** Where the figures read an order's line sums: crm_analysis_order, or the lines themselves. */
type LineSource = 'stored' | 'live';

/** The figures statement: one row per customer, raw sums (figuresOf turns them into figures). */
function figuresQuery(dialect: HubDialect, cfg: AnalysisConfig, w: Windows, customerIds: readonly string[] | null, lines: LineSource): { sql: string; bindings: unknown[] } {
  const bindings: unknown[] = [];
  /** A binding, pushed in the order the SQL text is built (template literals evaluate left to right). */
  const p = (v: unknown) => {
    bindings.push(v);
    return '?';
  };
  const list = (vs: readonly unknown[]) => vs.map(p).join(', ');
  const u = (e: string) => units(dialect, e, 2);
  const onlyCustomers = (expr: string) => (customerIds === null ? '' : ` AND ${expr} IN (${list(customerIds)})`);
  const excluded = () => (cfg.excludeOrderStatuses.length ? ` AND (o.status IS NULL OR o.status NOT IN (${list(cfg.excludeOrderStatuses)}))` : '');
  const prob = cfg.valueMatrix.opportunityProbability;
  // Weights inlined as integer literals: a bound JS number is a REAL on SQLite, and the weighted sum must stay integer.
  // SQLite would walk the customerId/orderId index to group without sorting, one random row
  // lookup per order; the unary plus hides the index, so it scans the table and sorts (2× faster
  // at 1M lines). PostgreSQL's planner chooses well by itself (and has no unary plus for text).
  const scanned = (e: string) => (dialect === 'sqlite' && customerIds === null ? `+${e}` : e);
  // An order's lines: their per-order sums as the refresh keeps them, or summed now from the lines.
  const sums = () => {
    if (lines === 'stored') return ANALYSIS_TABLES.order;
    const q = lineSums(dialect, customerIds === null ? '' : ` AND ${col('l', 'orderId')} IN (SELECT o.id FROM ${table('SalesOrder')} o WHERE ${col('o', 'customerId')} IN (${marks(customerIds.length)}))`, [...(customerIds ?? [])]);
    bindings.push(...q.bindings);
    return `(${q.sql})`;
  };
  const sql = `
WITH so AS (
  SELECT ${col('o', 'customerId')} AS cid, ${col('o', 'orderDate')} AS d,
    COALESCE(ol.revenue_cents, ${u(col('o', 'totalAmount'))}, 0) AS rev,
    COALESCE(ol.cost_cents, 0) AS cost,
    CASE WHEN ol.order_id IS NULL THEN 1 ELSE ol.cost_missing_lines END AS nocost
  FROM ${table('SalesOrder')} o LEFT JOIN ${sums()} ol ON ol.order_id = o.id
  WHERE NOT o._deleted AND ${col('o', 'orderDate')} IS NOT NULL AND ${col('o', 'orderDate')} <= ${p(w.today)}${excluded()}${onlyCustomers(col('o', 'customerId'))}
),
ord AS (
  SELECT cid, MIN(d) AS first_order, MAX(d) AS last_order,
    SUM(CASE WHEN d > ${p(w.windowStart)} THEN 1 ELSE 0 END) AS orders_w,
    MAX(CASE WHEN d > ${p(w.windowStart)} THEN d END) AS last_w,
    SUM(CASE WHEN d > ${p(w.windowStart)} THEN rev ELSE 0 END) AS rev_w,
    SUM(CASE WHEN d > ${p(w.windowStart)} THEN cost ELSE 0 END) AS cost_w,
    SUM(CASE WHEN d > ${p(w.windowStart)} THEN nocost ELSE 0 END) AS nocost_w,
    SUM(CASE WHEN d > ${p(w.currentStart)} THEN rev ELSE 0 END) AS rev_cur,
    SUM(CASE WHEN d > ${p(w.currentStart)} THEN rev - cost ELSE 0 END) AS profit_cur,
    SUM(CASE WHEN d > ${p(w.previousStart)} AND d <= ${p(w.currentStart)} THEN rev ELSE 0 END) AS rev_prev
  FROM so GROUP BY ${scanned('cid')}
),
inv AS (
  SELECT ${col('i', 'customerId')} AS cid, MAX(${col('i', 'invoiceDate')}) AS last_invoice
  FROM ${table('Invoice')} i
  WHERE NOT i._deleted AND (i.status IS NULL OR i.status <> 'VOID') AND ${col('i', 'invoiceDate')} > ${p(w.windowStart)} AND ${col('i', 'invoiceDate')} <= ${p(w.today)}${onlyCustomers(col('i', 'customerId'))}
  GROUP BY ${scanned(col('i', 'customerId'))}
),
open_items AS (
  SELECT ${col('i', 'customerId')} AS cid, COALESCE(${col('i', 'invoiceDate')}, ${p(w.today)}) AS d, COALESCE(${col('i', 'dueDate')}, ${col('i', 'invoiceDate')}) AS due,
    COALESCE(${u(col('i', 'balance'))}, COALESCE(${u(col('i', 'amount'))}, 0) - COALESCE(${u(col('i', 'paidAmount'))}, 0)) AS bal
  FROM ${table('Invoice')} i
  WHERE NOT i._deleted AND (i.status IS NULL OR i.status IN ('OPEN', 'PARTIAL'))${onlyCustomers(col('i', 'customerId'))}
  UNION ALL
  SELECT ${col('r', 'customerId')}, COALESCE(${col('r', 'documentDate')}, ${p(w.today)}), COALESCE(${col('r', 'dueDate')}, ${col('r', 'documentDate')}),
    COALESCE(${u(col('r', 'balance'))}, ${u(col('r', 'amount'))}, 0)
  FROM ${table('Receivable')} r
  WHERE NOT r._deleted AND (r.status IS NULL OR r.status IN ('OPEN', 'PARTIAL'))${onlyCustomers(col('r', 'customerId'))}
),
ar AS (
  SELECT cid, SUM(bal) AS receivable,
    SUM(CASE WHEN due < ${p(w.today)} THEN bal ELSE 0 END) AS overdue,
    SUM(CASE WHEN d >= ${p(w.d30)} THEN bal ELSE 0 END) AS a30,
    SUM(CASE WHEN d < ${p(w.d30)} AND d >= ${p(w.d60)} THEN bal ELSE 0 END) AS a60,
    SUM(CASE WHEN d < ${p(w.d60)} AND d >= ${p(w.d90)} THEN bal ELSE 0 END) AS a90,
    SUM(CASE WHEN d < ${p(w.d90)} THEN bal ELSE 0 END) AS a90p
  FROM open_items GROUP BY cid
),
opp AS (
  SELECT ${col('op', 'customerId')} AS cid, COUNT(*) AS open_opps,
    SUM(COALESCE(${u(col('op', 'amount'))}, 0) * CASE op.stage WHEN 'LEAD' THEN ${bp(prob.LEAD)} WHEN 'QUALIFIED' THEN ${bp(prob.QUALIFIED)} WHEN 'PROPOSAL' THEN ${bp(prob.PROPOSAL)} WHEN 'NEGOTIATION' THEN ${bp(prob.NEGOTIATION)} ELSE 0 END) AS pipeline_bp
  FROM ${table('Opportunity')} op
  WHERE NOT op._deleted AND op.stage IN (${list(OPEN_STAGES)})${onlyCustomers(col('op', 'customerId'))}
  GROUP BY ${scanned(col('op', 'customerId'))}
),
crl AS (
  SELECT ${col('cl', 'customerId')} AS cid, MAX(${u(col('cl', 'amount'))}) AS lim
  FROM ${table('CreditLimit')} cl
  WHERE NOT cl._deleted AND (cl.status IS NULL OR cl.status = 'ACTIVE')
    AND (${col('cl', 'validFrom')} IS NULL OR ${col('cl', 'validFrom')} <= ${p(w.today)}) AND (${col('cl', 'validTo')} IS NULL OR ${col('cl', 'validTo')} >= ${p(w.today)})${onlyCustomers(col('cl', 'customerId'))}
  GROUP BY ${scanned(col('cl', 'customerId'))}
)
SELECT c.id AS customer_id, ${u(col('c', 'creditLimit'))} AS customer_limit, crl.lim AS record_limit,
  ord.first_order, ord.last_order, ord.orders_w, ord.last_w, ord.rev_w, ord.cost_w, ord.nocost_w, ord.rev_cur, ord.profit_cur, ord.rev_prev,
  inv.last_invoice, ar.receivable, ar.overdue, ar.a30, ar.a60, ar.a90, ar.a90p, opp.open_opps, opp.pipeline_bp
FROM ${table('Customer')} c
LEFT JOIN ord ON ord.cid = c.id
LEFT JOIN inv ON inv.cid = c.id
LEFT JOIN ar ON ar.cid = c.id
LEFT JOIN opp ON opp.cid = c.id
LEFT JOIN crl ON crl.cid = c.id
WHERE NOT c._deleted AND c._merged_into IS NULL${onlyCustomers('c.id')}`;
  return { sql, bindings };
}

const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

function figuresOf(r: Record<string, unknown>, cfg: AnalysisConfig, w: Windows): CustomerFigures {
  const revenue = bigOr0(r.rev_w);
  const cost = bigOr0(r.cost_w);
  const revCur = bigOr0(r.rev_cur);
  const revPrev = bigOr0(r.rev_prev);
  // Weighted pipeline: cents × basis points / 10 000, rounded half up to the cent.
  const pipelineBp = bigOr0(r.pipeline_bp);
  const pipeline = (pipelineBp + 5000n) / 10000n;
  const trend = revCur - revPrev;
  const lastW = str(r.last_w);
  const lastInvoice = str(r.last_invoice);
  const ordersW = Number(r.orders_w ?? 0);
  // Recency: the latest order or invoice in the window, for customers that ordered in it.
  const lastPurchase = ordersW > 0 ? ([lastW, lastInvoice].filter((d): d is string => d !== null).sort().pop() ?? null) : null;
  const firstOrder = str(r.first_order);
  const lastOrder = str(r.last_order);
  return {
    customerId: String(r.customer_id),
    asOf: w.today,
    ordersInWindow: ordersW,
    revenueCents: revenue,
    costCents: cost,
    profitCents: revenue - cost,
    costMissingLines: Number(r.nocost_w ?? 0),
    firstOrder,
    lastOrder,
    lastPurchase,
    revenueCurrentCents: revCur,
    revenuePreviousCents: revPrev,
    profitCurrentCents: bigOr0(r.profit_cur),
    pipelineCents: pipeline,
    potentialCents: (trend > 0n ? trend : 0n) + pipeline,
    openOpportunities: Number(r.open_opps ?? 0),
    stage: lifecycleStage(cfg.lifecycle, w.today, firstOrder, lastOrder, revCur, revPrev),
    receivableCents: bigOr0(r.receivable),
    overdueCents: bigOr0(r.overdue),
    aging0To30Cents: bigOr0(r.a30),
    aging31To60Cents: bigOr0(r.a60),
    aging61To90Cents: bigOr0(r.a90),
    agingOver90Cents: bigOr0(r.a90p),
    creditLimitCents: bigOf(r.record_limit) ?? bigOf(r.customer_limit),
  };
}

/**
 * The lifecycle rule table (docs/analysis.md), first match wins:
 * prospect (never ordered) → lapsed (last order more than lapsedDays ago) → new (first order at
 * most newDays ago) → growing / declining (current revenue against the span before, by
 * growthPercent / declinePercent; nothing before but something now is growing) → mature.
 */
export function lifecycleStage(
  rules: AnalysisConfig['lifecycle'],
  today: string,
  firstOrder: string | null,
  lastOrder: string | null,
  revenueCurrent: bigint,
  revenuePrevious: bigint,
): LifecycleStage {
  if (firstOrder === null || lastOrder === null) return 'prospect';
  if (daysBetween(lastOrder, today) > rules.lapsedDays) return 'lapsed';
  if (daysBetween(firstOrder, today) <= rules.newDays) return 'new';
  if (revenuePrevious <= 0n) return revenueCurrent > 0n ? 'growing' : 'declining';
  const cur = revenueCurrent * 10000n;
  if (cur >= revenuePrevious * BigInt(10000 + bp(rules.growthPercent))) return 'growing';
  if (cur <= revenuePrevious * BigInt(10000 - bp(rules.declinePercent))) return 'declining';
  return 'mature';
}
