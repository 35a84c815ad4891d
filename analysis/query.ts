/**
 * Reading the analysis within a viewer's scope: every statement joins the customer table and
 * applies the row rule (all / the team's / the salesperson's own customers), so lists, counts,
 * shares and the Pareto curve all cover exactly the customers the viewer may see. Shares are of the
 * viewer's total: a salesperson's Pareto curve is over their own customers.
 */
import type { Knex } from 'knex';
import { Decimal } from 'decimal.js';
import { ANALYSIS_TABLES } from '../hub/analysis.js';
import { bigOf, bigOr0, centsToDecimal, col, marks, rowsOf, table } from './sql.js';
import { SORT_KEYS, type SortKey } from './sort-keys.js';
export { PROFIT_SORT_KEYS, SORT_KEYS, type SortKey } from './sort-keys.js';

/** Which customers a viewer sees (the role's row rule). */
export type AnalysisScope = { customers: 'all' } | { customers: 'own'; user: string } | { customers: 'team'; team: string | undefined };

export interface CustomerAnalysis {
  customerId: string;
  customerName: string | null;
  asOf: string;
  computedAt: string;
  rfm: { recencyDays: number | null; lastPurchase: string | null; frequency: number; monetary: string; r: number | null; f: number | null; m: number | null; segment: string | null };
  contribution: { revenue: string; cost: string; profit: string; costMissingLines: number; rank: number | null };
  tier: string | null;
  valueMatrix: { quadrant: string | null; currentValue: string; potentialValue: string; revenueCurrent: string; revenuePrevious: string; pipeline: string; openOpportunities: number };
  lifecycle: { stage: string; since: string; firstOrder: string | null; lastOrder: string | null };
  credit: {
    limit: string | null;
    receivable: string;
    overdue: string;
    aging: { days0To30: string; days31To60: string; days61To90: string; over90: string };
    /** receivable / limit, 4 places; null without a limit. */
    usage: string | null;
    available: string | null;
    overLimit: boolean;
    isOverdue: boolean;
  };
}

export interface AnalysisFilter {
  tier?: string[];
  segment?: string[];
  stage?: string[];
  quadrant?: string[];
  overLimit?: boolean;
  overdue?: boolean;
}


/** The row rule as SQL on the customer alias `c`, with its bindings. */
function scopeSql(scope: AnalysisScope): { sql: string; bindings: unknown[] } {
  switch (scope.customers) {
    case 'all':
      return { sql: '1 = 1', bindings: [] };
    case 'own':
      return { sql: `${col('c', 'ownerId')} = ?`, bindings: [scope.user] };
    case 'team':
      return scope.team === undefined ? { sql: '1 = 0', bindings: [] } : { sql: `${col('c', 'ownerTeam')} = ?`, bindings: [scope.team] };
  }
}

function filterSql(f: AnalysisFilter): { sql: string; bindings: unknown[] } {
  const parts: string[] = [];
  const bindings: unknown[] = [];
  const inList = (column: string, values: string[] | undefined) => {
    if (values === undefined) return;
    if (values.length === 0) parts.push('1 = 0');
    else {
      parts.push(`${column} IN (${marks(values.length)})`);
      bindings.push(...values);
    }
  };
  inList('a.tier', f.tier);
  inList('a.segment', f.segment);
  inList('a.stage', f.stage);
  inList('a.quadrant', f.quadrant);
  if (f.overLimit !== undefined) parts.push(f.overLimit ? 'a.credit_limit_cents IS NOT NULL AND a.receivable_cents > a.credit_limit_cents' : '(a.credit_limit_cents IS NULL OR a.receivable_cents <= a.credit_limit_cents)');
  if (f.overdue !== undefined) parts.push(f.overdue ? 'a.overdue_cents > 0' : 'a.overdue_cents <= 0');
  return { sql: parts.length ? parts.join(' AND ') : '1 = 1', bindings };
}

const FROM = `${ANALYSIS_TABLES.customer} a JOIN ${table('Customer')} c ON c.id = a.customer_id`;

/**
 * The contribution rank over every customer with a profit (profit descending, then customer id),
 * counted at read time from the index on (profit, customer) rather than stored: a refresh that moves
 * one customer's profit would otherwise rewrite the rank of every customer it passes.
 */
const RANK = `CASE WHEN a.profit_cents > 0 THEN 1
  + (SELECT COUNT(*) FROM ${ANALYSIS_TABLES.customer} b WHERE b.profit_cents > a.profit_cents)
  + (SELECT COUNT(*) FROM ${ANALYSIS_TABLES.customer} b WHERE b.profit_cents = a.profit_cents AND b.customer_id < a.customer_id) END`;

/** The columns of an analysis row as view() reads them. */
const COLUMNS = `a.*, c.name AS customer_name, ${RANK} AS contribution_rank`;

function view(r: Record<string, unknown>): CustomerAnalysis {
  const s = (v: unknown) => (v === null || v === undefined ? null : String(v));
  const n = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  const limit = bigOf(r.credit_limit_cents);
  const receivable = bigOr0(r.receivable_cents);
  const overdue = bigOr0(r.overdue_cents);
  const asOf = String(r.as_of);
  const lastPurchase = s(r.last_purchase);
  return {
    customerId: String(r.customer_id),
    customerName: s(r.customer_name),
    asOf,
    computedAt: String(r.computed_at),
    rfm: {
      recencyDays: lastPurchase === null ? null : Math.round((Date.parse(asOf) - Date.parse(lastPurchase)) / 86_400_000),
      lastPurchase,
      frequency: Number(r.orders),
      monetary: centsToDecimal(bigOr0(r.revenue_cents)),
      r: n(r.r_score),
      f: n(r.f_score),
      m: n(r.m_score),
      segment: s(r.segment),
    },
    contribution: {
      revenue: centsToDecimal(bigOr0(r.revenue_cents)),
      cost: centsToDecimal(bigOr0(r.cost_cents)),
      profit: centsToDecimal(bigOr0(r.profit_cents)),
      costMissingLines: Number(r.cost_missing_lines),
      rank: n(r.contribution_rank),
    },
    tier: s(r.tier),
    valueMatrix: {
      quadrant: s(r.quadrant),
      currentValue: centsToDecimal(bigOr0(r.profit_current_cents)),
      potentialValue: centsToDecimal(bigOr0(r.potential_cents)),
      revenueCurrent: centsToDecimal(bigOr0(r.revenue_current_cents)),
      revenuePrevious: centsToDecimal(bigOr0(r.revenue_previous_cents)),
      pipeline: centsToDecimal(bigOr0(r.pipeline_cents)),
      openOpportunities: Number(r.open_opportunities),
    },
    lifecycle: { stage: String(r.stage), since: String(r.stage_since), firstOrder: s(r.first_order), lastOrder: s(r.last_order) },
    credit: {
      limit: limit === null ? null : centsToDecimal(limit),
      receivable: centsToDecimal(receivable),
      overdue: centsToDecimal(overdue),
      aging: {
        days0To30: centsToDecimal(bigOr0(r.aging_0_30_cents)),
        days31To60: centsToDecimal(bigOr0(r.aging_31_60_cents)),
        days61To90: centsToDecimal(bigOr0(r.aging_61_90_cents)),
        over90: centsToDecimal(bigOr0(r.aging_over_90_cents)),
      },
      usage: limit === null || limit === 0n ? null : new Decimal(receivable.toString()).div(limit.toString()).toDecimalPlaces(4, Decimal.ROUND_HALF_UP).toFixed(),
      available: limit === null ? null : centsToDecimal(limit - receivable),
      overLimit: limit !== null && receivable > limit,
      isOverdue: overdue > 0n,
    },
  };
}

/** The analysis of these customers (within the scope), by customer id. */
export async function analysesOf(knex: Knex, scope: AnalysisScope, ids: readonly string[]): Promise<Map<string, CustomerAnalysis>> {
  const out = new Map<string, CustomerAnalysis>();
  const sc = scopeSql(scope);
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    const rows = rowsOf(await knex.raw(`SELECT ${COLUMNS} FROM ${FROM} WHERE ${sc.sql} AND a.customer_id IN (${marks(chunk.length)})`, [...sc.bindings, ...chunk] as Knex.RawBinding[]));
    for (const r of rows) out.set(String(r.customer_id), view(r));
  }
  return out;
}

export interface ListArgs {
  filter?: AnalysisFilter;
  orderBy?: { key: SortKey; direction: 'ASC' | 'DESC' };
  first?: number;
  /** Offset cursor from a previous page. */
  after?: string;
}

export interface AnalysisPage {
  nodes: CustomerAnalysis[];
  totalCount: number;
  startOffset: number;
  hasNextPage: boolean;
}

export const MAX_PAGE = 500;

export function offsetCursor(offset: number): string {
  return Buffer.from(`analysis:${offset}`).toString('base64url');
}

export function parseOffsetCursor(cursor: string): number | null {
  const m = /^analysis:(\d{1,9})$/.exec(Buffer.from(cursor, 'base64url').toString());
  return m ? Number(m[1]) : null;
}

/** A page of customer analyses in the scope, filtered and sorted (ties by customer id). */
export async function listAnalyses(knex: Knex, scope: AnalysisScope, args: ListArgs): Promise<AnalysisPage> {
  const sc = scopeSql(scope);
  const f = filterSql(args.filter ?? {});
  const first = Math.min(Math.max(args.first ?? 50, 0), MAX_PAGE);
  const offset = args.after === undefined ? 0 : (parseOffsetCursor(args.after) ?? 0) + 1;
  const order = args.orderBy ?? { key: 'PROFIT', direction: 'DESC' };
  const dir = order.direction === 'ASC' ? 'ASC' : 'DESC';
  const where = `${sc.sql} AND ${f.sql}`;
  const bindings = [...sc.bindings, ...f.bindings];
  const nulls = order.key === 'LAST_PURCHASE' ? `CASE WHEN a.last_purchase IS NULL THEN 1 ELSE 0 END, ` : '';
  const rows = rowsOf(
    await knex.raw(`SELECT ${COLUMNS} FROM ${FROM} WHERE ${where} ORDER BY ${nulls}${SORT_KEYS[order.key]} ${dir}, a.customer_id ASC LIMIT ? OFFSET ?`, [
      ...bindings,
      first + 1,
      offset,
    ] as Knex.RawBinding[]),
  );
  const count = rowsOf(await knex.raw(`SELECT COUNT(*) AS n FROM ${FROM} WHERE ${where}`, bindings as Knex.RawBinding[]))[0];
  return { nodes: rows.slice(0, first).map(view), totalCount: Number(count?.n ?? 0), startOffset: offset, hasNextPage: rows.length > first };
}

export const DIMENSIONS = { TIER: 'a.tier', SEGMENT: 'a.segment', STAGE: 'a.stage', QUADRANT: 'a.quadrant', ALL: null } as const;
export type Dimension = keyof typeof DIMENSIONS;

export interface Bucket {
  /** The tier, segment, stage or quadrant; null for ALL (and for customers without one). */
  key: string | null;
  customers: number;
  revenue: string;
  profit: string;
  receivable: string;
  overdue: string;
  aging: { days0To30: string; days31To60: string; days61To90: string; over90: string };
}

/** Customers, revenue, profit and receivables per tier / segment / stage / quadrant (or in all), in the scope. */
export async function distribution(knex: Knex, scope: AnalysisScope, dimension: Dimension, filter: AnalysisFilter = {}): Promise<Bucket[]> {
  const sc = scopeSql(scope);
  const f = filterSql(filter);
  const key = DIMENSIONS[dimension];
  const sums =
    'COUNT(*) AS n, SUM(a.revenue_cents) AS rev, SUM(a.profit_cents) AS profit, SUM(a.receivable_cents) AS ar, SUM(a.overdue_cents) AS overdue, ' +
    'SUM(a.aging_0_30_cents) AS a30, SUM(a.aging_31_60_cents) AS a60, SUM(a.aging_61_90_cents) AS a90, SUM(a.aging_over_90_cents) AS a90p';
  const sql =
    key === null
      ? `SELECT NULL AS k, ${sums} FROM ${FROM} WHERE ${sc.sql} AND ${f.sql}`
      : `SELECT ${key} AS k, ${sums} FROM ${FROM} WHERE ${sc.sql} AND ${f.sql} GROUP BY ${key} ORDER BY ${key}`;
  const rows = rowsOf(await knex.raw(sql, [...sc.bindings, ...f.bindings] as Knex.RawBinding[]));
  const money = (v: unknown) => centsToDecimal(bigOr0(v));
  return rows.map((r) => ({
    key: r.k === null || r.k === undefined ? null : String(r.k),
    customers: Number(r.n),
    revenue: money(r.rev),
    profit: money(r.profit),
    receivable: money(r.ar),
    overdue: money(r.overdue),
    aging: { days0To30: money(r.a30), days31To60: money(r.a60), days61To90: money(r.a90), over90: money(r.a90p) },
  }));
}

export interface ParetoPoint {
  rank: number;
  customerId: string;
  customerName: string | null;
  profit: string;
  /** profit / the scope's total profit of profitable customers (a fraction, 6 places). */
  share: string;
  cumulativeShare: string;
  /** rank / profitable customers in the scope (6 places): the curve's x. */
  customerShare: string;
}

export interface Pareto {
  totalProfit: string;
  customers: number;
  points: ParetoPoint[];
}

/**
 * The Pareto curve of profit contribution in the scope: customers with a profit, largest first,
 * each with its share and the cumulative share (window sums on the hub). `first` limits the points.
 */
export async function pareto(knex: Knex, scope: AnalysisScope, first = 100): Promise<Pareto> {
  const sc = scopeSql(scope);
  const rows = rowsOf(
    await knex.raw(
      `SELECT a.customer_id, c.name AS customer_name, a.profit_cents,
        ROW_NUMBER() OVER (ORDER BY a.profit_cents DESC, a.customer_id) AS rk,
        SUM(a.profit_cents) OVER (ORDER BY a.profit_cents DESC, a.customer_id ROWS UNBOUNDED PRECEDING) AS cum,
        SUM(a.profit_cents) OVER () AS total, COUNT(*) OVER () AS n
       FROM ${FROM} WHERE ${sc.sql} AND a.profit_cents > 0 ORDER BY rk LIMIT ?`,
      [...sc.bindings, Math.min(Math.max(first, 0), 10_000)] as Knex.RawBinding[],
    ),
  );
  const total = bigOr0(rows[0]?.total);
  const n = Number(rows[0]?.n ?? 0);
  const ratio = (a: bigint, b: bigint | number) => new Decimal(a.toString()).div(b.toString()).toDecimalPlaces(6, Decimal.ROUND_HALF_UP).toFixed();
  return {
    totalProfit: centsToDecimal(total),
    customers: n,
    points: rows.map((r) => ({
      rank: Number(r.rk),
      customerId: String(r.customer_id),
      customerName: r.customer_name === null || r.customer_name === undefined ? null : String(r.customer_name),
      profit: centsToDecimal(bigOr0(r.profit_cents)),
      share: ratio(bigOr0(r.profit_cents), total),
      cumulativeShare: ratio(bigOr0(r.cum), total),
      customerShare: ratio(BigInt(Number(r.rk)), n),
    })),
  };
}

export interface StageChange {
  customerId: string;
  customerName: string | null;
  from: string | null;
  to: string;
  at: string;
}

/** Lifecycle moves in the scope, newest first: "who moved from mature to declining since …". */
export async function stageChanges(knex: Knex, scope: AnalysisScope, q: { from?: string; to?: string; since?: string; first?: number }): Promise<StageChange[]> {
  const sc = scopeSql(scope);
  const parts = [sc.sql];
  const bindings: unknown[] = [...sc.bindings];
  if (q.from !== undefined) {
    parts.push('s.from_stage = ?');
    bindings.push(q.from);
  }
  if (q.to !== undefined) {
    parts.push('s.to_stage = ?');
    bindings.push(q.to);
  }
  if (q.since !== undefined) {
    parts.push('s.changed_at >= ?');
    bindings.push(q.since);
  }
  bindings.push(Math.min(Math.max(q.first ?? 100, 0), 1000));
  const rows = rowsOf(
    await knex.raw(
      `SELECT s.customer_id, c.name AS customer_name, s.from_stage, s.to_stage, s.changed_at FROM ${ANALYSIS_TABLES.stage} s JOIN ${table('Customer')} c ON c.id = s.customer_id WHERE ${parts.join(' AND ')} ORDER BY s.changed_at DESC, s.id DESC LIMIT ?`,
      bindings as Knex.RawBinding[],
    ),
  );
  return rows.map((r) => ({
    customerId: String(r.customer_id),
    customerName: r.customer_name === null || r.customer_name === undefined ? null : String(r.customer_name),
    from: r.from_stage === null || r.from_stage === undefined ? null : String(r.from_stage),
    to: String(r.to_stage),
    at: String(r.changed_at),
  }));
}

/** The scope's total profit of profitable customers, in cents: what contribution shares are of. */
export async function profitTotalCents(knex: Knex, scope: AnalysisScope): Promise<bigint> {
  const sc = scopeSql(scope);
  const r = rowsOf(await knex.raw(`SELECT SUM(a.profit_cents) AS total FROM ${FROM} WHERE ${sc.sql} AND a.profit_cents > 0`, sc.bindings as Knex.RawBinding[]))[0];
  return bigOr0(r?.total);
}

/** A contribution share: profit / total, 6 places; null when the total is not positive. */
export function shareOf(profit: string, totalCents: bigint): string | null {
  if (totalCents <= 0n) return null;
  return new Decimal(profit).times(100).div(totalCents.toString()).toDecimalPlaces(6, Decimal.ROUND_HALF_UP).toFixed();
}
