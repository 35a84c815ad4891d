/**
 * Customer analysis results (analysis/ computes them, this module is the only one that writes
 * them): one row per customer with its figures and scores, the stage changes of the lifecycle, and
 * one row per refresh. Money is kept as whole cents (bigint) so sums, sorting and windows are exact
 * on SQLite and PostgreSQL alike.
 *
 * | table | what |
 * | --- | --- |
 * | crm_analysis | per customer: figures (cents), RFM scores, tier, quadrant, stage, credit (the profit rank is counted at read time) |
 * | crm_analysis_stage | lifecycle stage changes: customer, from, to, when |
 * | crm_analysis_run | refreshes: kind, as-of day, change-sequence watermark, thresholds used |
 * | crm_analysis_order | per order: the sums of its live lines (revenue, cost, lines without a cost) |
 * | crm_analysis_state | named change sequences: what crm_analysis_order is current to |
 */
import type { Knex } from 'knex';
import type { TableDefinitions } from './tables.js';

type Q = Knex | Knex.Transaction;

export const ANALYSIS_TABLES = {
  customer: 'crm_analysis',
  stage: 'crm_analysis_stage',
  run: 'crm_analysis_run',
  order: 'crm_analysis_order',
  state: 'crm_analysis_state',
} as const;

/** The crm_analysis_state entry holding the change sequence crm_analysis_order is current to. */
const ORDER_SUMS_MARK = 'order_sums';

/** Figures per customer as analysis/ computes them (money in cents). */
export interface CustomerFigures {
  customerId: string;
  asOf: string;
  ordersInWindow: number;
  revenueCents: bigint;
  costCents: bigint;
  profitCents: bigint;
  costMissingLines: number;
  firstOrder: string | null;
  lastOrder: string | null;
  lastPurchase: string | null;
  revenueCurrentCents: bigint;
  revenuePreviousCents: bigint;
  profitCurrentCents: bigint;
  pipelineCents: bigint;
  potentialCents: bigint;
  openOpportunities: number;
  stage: string;
  receivableCents: bigint;
  overdueCents: bigint;
  aging0To30Cents: bigint;
  aging31To60Cents: bigint;
  aging61To90Cents: bigint;
  agingOver90Cents: bigint;
  creditLimitCents: bigint | null;
}

/** Scores and classes that depend on every customer (ranks), written after the figures. */
export interface CustomerScores {
  customerId: string;
  rScore: number | null;
  fScore: number | null;
  mScore: number | null;
  segment: string | null;
  tier: string;
  quadrant: string;
}

/**
 * Indexes the ranks are read from (profit rank at read time; quintile and tier boundaries by an
 * index walk): created with the table, and by ensureIndexes on hubs whose table predates them.
 */
const ANALYSIS_RANK_INDEXES: readonly (readonly [string, readonly string[]])[] = [
  ['crm_analysis_profit_rank', ['profit_cents', 'customer_id']],
  ['crm_analysis_recency', ['last_purchase', 'orders']],
  ['crm_analysis_frequency', ['orders']],
  ['crm_analysis_monetary', ['revenue_cents', 'orders']],
];

export const ANALYSIS_TABLE_DEFINITIONS: TableDefinitions = {
  [ANALYSIS_TABLES.customer]: (t) => {
    t.string('customer_id', 40).primary();
    t.string('as_of', 10).notNullable();
    t.string('computed_at', 30).notNullable();
    t.integer('orders').notNullable();
    t.bigInteger('revenue_cents').notNullable();
    t.bigInteger('cost_cents').notNullable();
    t.bigInteger('profit_cents').notNullable();
    t.integer('cost_missing_lines').notNullable();
    t.string('first_order', 10).nullable();
    t.string('last_order', 10).nullable();
    t.string('last_purchase', 10).nullable();
    t.bigInteger('revenue_current_cents').notNullable();
    t.bigInteger('revenue_previous_cents').notNullable();
    t.bigInteger('profit_current_cents').notNullable();
    t.bigInteger('pipeline_cents').notNullable();
    t.bigInteger('potential_cents').notNullable();
    t.integer('open_opportunities').notNullable();
    t.integer('r_score').nullable();
    t.integer('f_score').nullable();
    t.integer('m_score').nullable();
    t.string('segment', 40).nullable();
    t.string('tier', 40).nullable();
    t.string('quadrant', 20).nullable();
    t.string('stage', 20).notNullable();
    t.string('stage_since', 30).notNullable();
    t.bigInteger('receivable_cents').notNullable();
    t.bigInteger('overdue_cents').notNullable();
    t.bigInteger('aging_0_30_cents').notNullable();
    t.bigInteger('aging_31_60_cents').notNullable();
    t.bigInteger('aging_61_90_cents').notNullable();
    t.bigInteger('aging_over_90_cents').notNullable();
    t.bigInteger('credit_limit_cents').nullable();
    t.index(['stage']);
    for (const [name, columns] of ANALYSIS_RANK_INDEXES) t.index([...columns], name);
  },
  [ANALYSIS_TABLES.stage]: (t) => {
    t.increments('id');
    t.string('customer_id', 40).notNullable();
    t.string('from_stage', 20).nullable();
    t.string('to_stage', 20).notNullable();
    t.string('changed_at', 30).notNullable();
    t.index(['changed_at']);
    t.index(['customer_id']);
  },
  /**
   * Per order, the sums of its live lines (cents): kept by each refresh for the orders whose lines
   * (or their products' costs) changed, so customer figures read one row per order, not per line.
   */
  [ANALYSIS_TABLES.order]: (t) => {
    t.string('order_id', 40).primary();
    t.bigInteger('revenue_cents').notNullable();
    t.bigInteger('cost_cents').notNullable();
    t.integer('cost_missing_lines').notNullable();
  },
  [ANALYSIS_TABLES.state]: (t) => {
    t.string('name', 40).primary();
    t.bigInteger('value').notNullable();
  },
  [ANALYSIS_TABLES.run]: (t) => {
    t.increments('id');
    t.string('kind', 12).notNullable();
    t.string('as_of', 10).notNullable();
    t.string('started_at', 30).notNullable();
    t.string('ended_at', 30).nullable();
    /** Change sequence (crm_counter 'seq') read when the refresh started: what the next incremental one starts after. */
    t.bigInteger('watermark').notNullable();
    t.integer('customers').notNullable().defaultTo(0);
    t.string('status', 16).notNullable();
    /** JSON: the thresholds the refresh used (value matrix, tiers). */
    t.text('thresholds').nullable();
    t.text('error').nullable();
  },
};

export interface AnalysisRun {
  id: number;
  kind: 'full' | 'incremental';
  asOf: string;
  startedAt: string;
  endedAt: string | null;
  watermark: number;
  customers: number;
  status: string;
  thresholds: unknown;
  error: string | null;
}

const BATCH = 200;

/** The figure columns of crm_analysis, as storedFiguresQuery returns them. */
const FIGURE_COLUMNS = [
  'customer_id', 'as_of', 'orders', 'revenue_cents', 'cost_cents', 'profit_cents', 'cost_missing_lines', 'first_order', 'last_order', 'last_purchase',
  'revenue_current_cents', 'revenue_previous_cents', 'profit_current_cents', 'pipeline_cents', 'potential_cents', 'open_opportunities', 'stage',
  'receivable_cents', 'overdue_cents', 'aging_0_30_cents', 'aging_31_60_cents', 'aging_61_90_cents', 'aging_over_90_cents', 'credit_limit_cents',
] as const;

function rowsOf(res: unknown): Record<string, unknown>[] {
  return Array.isArray(res) ? (res as Record<string, unknown>[]) : ((res as { rows?: Record<string, unknown>[] }).rows ?? []);
}

/** Rows an INSERT / UPDATE / DELETE touched, from a raw result (pg: rowCount, better-sqlite3: changes). */
export function changesOf(res: unknown): number {
  const r = res as { rowCount?: unknown; changes?: unknown } | null;
  return Number(r?.rowCount ?? r?.changes ?? 0);
}

export class AnalysisStore {
  constructor(private readonly dialect: 'sqlite' | 'postgres') {}

  /**
   * Replace the figures of the customers a statement returns (its columns are crm_analysis's
   * figure columns, see analysis/figures.ts storedFiguresQuery), set-based on the hub: the rows
   * go to a temporary table, stage changes are recorded at `at` from it, then one upsert keeps the
   * scores and (for an unchanged stage) stage_since. `onlyThese`: also drop every stored customer
   * the statement did not return (a full refresh). Returns the customers written and the stage
   * changes.
   */
  async writeFiguresFrom(trx: Knex.Transaction, query: { sql: string; bindings: readonly unknown[] }, at: string, onlyThese: boolean): Promise<{ customers: number; stageChanges: number }> {
    const A = ANALYSIS_TABLES.customer;
    const N = 'crm_analysis_new';
    await trx.raw(`DROP TABLE IF EXISTS ${N}`);
    await trx.raw(`CREATE TEMPORARY TABLE ${N}${this.dialect === 'postgres' ? ' ON COMMIT DROP' : ''} AS ${query.sql}`, query.bindings as Knex.RawBinding[]);
    try {
      await trx.raw(`CREATE INDEX ${N}_customer ON ${N} (customer_id)`);
      const count = (await trx.raw(`SELECT COUNT(*) AS n FROM ${N}`)) as unknown;
      const customers = Number(rowsOf(count)[0]?.n ?? 0);
      const moved = await trx.raw(
        `INSERT INTO ${ANALYSIS_TABLES.stage} (customer_id, from_stage, to_stage, changed_at)
         SELECT n.customer_id, a.stage, n.stage, ? FROM ${N} n LEFT JOIN ${A} a ON a.customer_id = n.customer_id
         WHERE a.stage IS NULL OR a.stage <> n.stage ORDER BY n.customer_id`,
        [at],
      );
      const cols = FIGURE_COLUMNS.join(', ');
      await trx.raw(
        `INSERT INTO ${A} (${cols}, computed_at, stage_since)
         SELECT ${FIGURE_COLUMNS.map((c) => `n.${c}`).join(', ')}, ?, CASE WHEN a.stage = n.stage THEN a.stage_since ELSE ? END
         FROM ${N} n LEFT JOIN ${A} a ON a.customer_id = n.customer_id WHERE 1 = 1
         ON CONFLICT (customer_id) DO UPDATE SET ${[...FIGURE_COLUMNS.filter((c) => c !== 'customer_id'), 'computed_at', 'stage_since'].map((c) => `${c} = excluded.${c}`).join(', ')}`,
        [at, at],
      );
      // NOT EXISTS, an anti-join: PostgreSQL runs `NOT IN (subquery)` as a scan of the subquery per
      // row once its ids outgrow work_mem (at 100k customers it ran for minutes).
      if (onlyThese) await trx.raw(`DELETE FROM ${A} WHERE NOT EXISTS (SELECT 1 FROM ${N} n WHERE n.customer_id = ${A}.customer_id)`);
      return { customers, stageChanges: changesOf(moved) };
    } finally {
      // PostgreSQL drops it at commit (and a failed statement leaves the transaction refusing any
      // other, which would hide the error); SQLite keeps it on the connection until dropped.
      if (this.dialect === 'sqlite') await trx.raw(`DROP TABLE IF EXISTS ${N}`);
    }
  }

  /** The change sequence the order sums are current to; null when they were never built. */
  async orderSumsMark(q: Q): Promise<number | null> {
    const row = (await q(ANALYSIS_TABLES.state).where({ name: ORDER_SUMS_MARK }).first('value')) as { value: unknown } | undefined;
    return row ? Number(row.value) : null;
  }

  /**
   * Replace the sums of `orderIds` (every order when null) by what `query` returns (columns
   * order_id, revenue_cents, cost_cents, cost_missing_lines; no row for an order without live lines).
   */
  async replaceOrderSums(trx: Knex.Transaction, orderIds: readonly string[] | null, query: { sql: string; bindings: readonly unknown[] }): Promise<void> {
    const O = ANALYSIS_TABLES.order;
    if (orderIds === null) await trx(O).delete();
    else for (let i = 0; i < orderIds.length; i += BATCH) await trx(O).whereIn('order_id', orderIds.slice(i, i + BATCH)).delete();
    await trx.raw(`INSERT INTO ${O} (order_id, revenue_cents, cost_cents, cost_missing_lines) ${query.sql}`, query.bindings as Knex.RawBinding[]);
    // PostgreSQL plans the figures join from statistics, which a table just filled lacks.
    if (this.dialect === 'postgres' && orderIds === null) await trx.raw(`ANALYZE ${O}`);
  }

  /** Record that the order sums are current to the change sequence `mark`. */
  async setOrderSumsMark(trx: Knex.Transaction, mark: number): Promise<void> {
    await trx(ANALYSIS_TABLES.state).insert({ name: ORDER_SUMS_MARK, value: mark }).onConflict('name').merge();
  }

  /** Drop the rows of customers that no longer exist (deleted or merged away). */
  async removeCustomers(trx: Knex.Transaction, customerIds: readonly string[]): Promise<void> {
    for (let i = 0; i < customerIds.length; i += BATCH) await trx(ANALYSIS_TABLES.customer).whereIn('customer_id', customerIds.slice(i, i + BATCH)).delete();
  }

  /** Create the rank indexes a hub made before they existed lacks (a refresh calls this under its lock). */
  async ensureIndexes(q: Q): Promise<void> {
    for (const [name, columns] of ANALYSIS_RANK_INDEXES)
      await q.raw(`CREATE INDEX IF NOT EXISTS ${name} ON ${ANALYSIS_TABLES.customer} (${columns.join(', ')})`);
  }

  async startRun(q: Q, run: { kind: 'full' | 'incremental'; asOf: string; startedAt: string; watermark: number }): Promise<number> {
    const inserted = (await q(ANALYSIS_TABLES.run).insert(
      { kind: run.kind, as_of: run.asOf, started_at: run.startedAt, watermark: run.watermark, status: 'running', customers: 0 },
      ['id'],
    )) as unknown[];
    const first = inserted[0];
    return typeof first === 'object' && first !== null ? Number((first as { id: unknown }).id) : Number(first);
  }

  async finishRun(q: Q, id: number, outcome: { status: 'ok' | 'failed'; endedAt: string; customers: number; thresholds: unknown; error: string | null }): Promise<void> {
    await q(ANALYSIS_TABLES.run)
      .where({ id })
      .update({ status: outcome.status, ended_at: outcome.endedAt, customers: outcome.customers, thresholds: JSON.stringify(outcome.thresholds), error: outcome.error });
  }

  /** The last refresh that ended well (any kind), or null. */
  async lastRun(q: Q, kind?: 'full' | 'incremental'): Promise<AnalysisRun | null> {
    const query = q(ANALYSIS_TABLES.run).where({ status: 'ok' });
    if (kind) query.where({ kind });
    const row = (await query.orderBy('id', 'desc').first()) as Record<string, unknown> | undefined;
    return row ? toRun(row) : null;
  }

  async runs(q: Q, limit: number): Promise<AnalysisRun[]> {
    const rows = (await q(ANALYSIS_TABLES.run).orderBy('id', 'desc').limit(limit)) as Record<string, unknown>[];
    return rows.map(toRun);
  }

  /** The hub's change sequence now (the last number reserved). */
  async sequence(q: Q): Promise<number> {
    const row = (await q('crm_counter').where({ name: 'seq' }).first()) as { value: unknown } | undefined;
    return row ? Number(row.value) : 0;
  }

  /** PostgreSQL bigint columns take text (no precision lost), better-sqlite3 takes a bigint. */
  private big(v: bigint): string | bigint {
    return this.dialect === 'postgres' ? v.toString() : v;
  }
}

function toRun(r: Record<string, unknown>): AnalysisRun {
  return {
    id: Number(r.id),
    kind: r.kind === 'full' ? 'full' : 'incremental',
    asOf: String(r.as_of),
    startedAt: String(r.started_at),
    endedAt: r.ended_at === null || r.ended_at === undefined ? null : String(r.ended_at),
    watermark: Number(r.watermark),
    customers: Number(r.customers),
    status: String(r.status),
    thresholds: typeof r.thresholds === 'string' ? (JSON.parse(r.thresholds) as unknown) : null,
    error: r.error === null || r.error === undefined ? null : String(r.error),
  };
}
