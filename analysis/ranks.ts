/**
 * What depends on every customer at once: RFM quintile scores, tier, the value-matrix thresholds
 * and quadrant, all evaluated by SQL on the hub over crm_analysis. The contribution rank is not
 * stored: query.ts counts it at read time from the index on (profit, customer).
 */
import type { Knex } from 'knex';
import { Decimal } from 'decimal.js';
import type { AnalysisConfig } from '../config/schema.js';
import type { CustomerScores } from '../hub/analysis.js';
import { ANALYSIS_TABLES, changesOf } from '../hub/analysis.js';
import { bigOr0, rowsOf } from './sql.js';

export const QUADRANTS = ['keep', 'develop', 'maintain', 'reduce'] as const;
export type Quadrant = (typeof QUADRANTS)[number];

export interface Thresholds {
  /** Value-matrix thresholds in cents. */
  currentCents: bigint;
  potentialCents: bigint;
  /** Where they came from: "config" or "mean". */
  currentFrom: 'config' | 'mean';
  potentialFrom: 'config' | 'mean';
  tierMethod: 'pyramid' | 'abc';
  /** pyramid: the last rank of each tier (among customers with a profit). */
  tierRanks: { name: string; lastRank: number }[];
  rankedCustomers: number;
}

const cents = (s: string) => BigInt(new Decimal(s).times(100).toFixed(0));

/** Mean in cents, rounded half up; 0 for no customers. */
function mean(sum: bigint, n: number): bigint {
  if (n === 0) return 0n;
  return BigInt(new Decimal(sum.toString()).div(n).toDecimalPlaces(0, Decimal.ROUND_HALF_UP).toFixed(0));
}

/** Ceil(n × percent / 100) with percent in hundredths, exact. */
function ceilShare(n: number, percent: number): number {
  const bp = BigInt(Math.round(percent * 100));
  return Number((BigInt(n) * bp + 9999n) / 10000n);
}

/**
 * Every customer's scores as SQL expressions over a crm_analysis row aliased `a` (each call writes
 * the expression and pushes its bindings to `bindings`), and the thresholds they apply.
 */
interface ScoresSql {
  exprs: Record<'rs' | 'fs' | 'ms' | 'segment' | 'tier' | 'quadrant', () => string>;
  bindings: unknown[];
  thresholds: Thresholds;
}

/** Where a rank-based class ends: the (profit, customer) of its last customer in rank order. */
type Boundary = { profit: unknown; customerId: string } | null;

/**
 * The scores as SQL expressions over a crm_analysis row, every rule evaluated by the database. What depends on all customers at once is
 * reduced first to a few boundary values, each read from an index:
 * - quintiles with ties sharing a score, ceil(5 × k / n) with k the customers at or below this one:
 *   the score is 1 + the number of s in 2…5 whose boundary value (the j-th smallest, j = ⌊(s−1)·n/5⌋ + 1)
 *   this customer's value reaches;
 * - pyramid tiers: the customer at each tier's last rank (profit descending, then customer id);
 *   ABC: the last customer whose predecessors carry less than a % (b %) of the total;
 * - value-matrix thresholds: the means (or the configured values).
 * The profit rank itself is not stored (query.ts counts it at read time), so a change of a few
 * customers' profit rewrites only the rows whose classes move.
 */
async function scoresSql(knex: Knex | Knex.Transaction, cfg: AnalysisConfig, dialect: 'sqlite' | 'postgres'): Promise<ScoresSql> {
  const A = ANALYSIS_TABLES.customer;
  const totals = rowsOf(
    await knex.raw(`SELECT SUM(CASE WHEN profit_current_cents <> 0 OR potential_cents <> 0 THEN profit_current_cents ELSE 0 END) AS cur,
      SUM(CASE WHEN profit_current_cents <> 0 OR potential_cents <> 0 THEN potential_cents ELSE 0 END) AS pot,
      SUM(CASE WHEN profit_current_cents <> 0 OR potential_cents <> 0 THEN 1 ELSE 0 END) AS n,
      SUM(CASE WHEN orders > 0 THEN 1 ELSE 0 END) AS buyers,
      SUM(CASE WHEN profit_cents > 0 THEN 1 ELSE 0 END) AS profitable,
      SUM(CASE WHEN profit_cents > 0 THEN profit_cents ELSE 0 END) AS total
    FROM ${A}`),
  )[0];
  const n = Number(totals?.n ?? 0);
  const buyers = Number(totals?.buyers ?? 0);
  const rankedCustomers = Number(totals?.profitable ?? 0);
  const vm = cfg.valueMatrix;
  const tierRanks: { name: string; lastRank: number }[] = [];
  let cumulative = 0;
  for (const t of cfg.tiers.pyramid) {
    cumulative += t.percent;
    tierRanks.push({ name: t.name, lastRank: ceilShare(rankedCustomers, Math.min(cumulative, 100)) });
  }
  const thresholds: Thresholds = {
    currentCents: vm.currentThreshold !== undefined ? cents(vm.currentThreshold) : mean(bigOr0(totals?.cur), n),
    potentialCents: vm.potentialThreshold !== undefined ? cents(vm.potentialThreshold) : mean(bigOr0(totals?.pot), n),
    currentFrom: vm.currentThreshold !== undefined ? 'config' : 'mean',
    potentialFrom: vm.potentialThreshold !== undefined ? 'config' : 'mean',
    tierMethod: cfg.tiers.method,
    tierRanks,
    rankedCustomers,
  };
  // Values go back to the database as read (PostgreSQL bigint as text, SQLite as number or bigint).
  const big = (v: bigint) => (dialect === 'postgres' ? v.toString() : v);

  /**
   * The j-th smallest values of `column` among customers with orders in the window (1-based), for
   * each j of `js`. SQLite walks the index to each; PostgreSQL numbers the rows once with a window
   * (an index walk there fetches every heap row passed, visibility not yet set after the writes:
   * about 0.5 s per boundary at 100k customers).
   */
  const nths = async (column: string, js: number[]): Promise<unknown[]> => {
    if (dialect === 'postgres') {
      const found = rowsOf(
        await knex.raw(`SELECT t.rn, t.v FROM (SELECT ${column} AS v, row_number() OVER (ORDER BY ${column}) AS rn FROM ${A} WHERE orders > 0) t WHERE t.rn IN (${js.map(() => '?').join(', ')})`, js),
      );
      const byRank = new Map(found.map((r) => [Number(r.rn), r.v]));
      return js.map((j) => byRank.get(j) ?? null);
    }
    const values: unknown[] = [];
    for (const j of js) values.push(rowsOf(await knex.raw(`SELECT ${column} AS v FROM ${A} WHERE orders > 0 ORDER BY ${column} LIMIT 1 OFFSET ?`, [j - 1]))[0]?.v ?? null);
    return values;
  };
  /** The customer at `rank` (profit descending, then customer id), among those with a profit. */
  const atRank = async (rank: number): Promise<Boundary> => {
    if (rank < 1 || rank > rankedCustomers) return null;
    const r = rowsOf(await knex.raw(`SELECT profit_cents, customer_id FROM ${A} WHERE profit_cents > 0 ORDER BY profit_cents DESC, customer_id LIMIT 1 OFFSET ?`, [rank - 1]))[0];
    return r ? { profit: r.profit_cents, customerId: String(r.customer_id) } : null;
  };

  const bindings: unknown[] = [];
  const p = (v: unknown) => {
    bindings.push(v);
    return '?';
  };
  // Each rule is a function that writes its SQL and pushes its bindings when called, so an
  // expression can be used more than once and the bindings always follow the text.
  const quintile = async (column: string): Promise<() => string> => {
    const js: number[] = [];
    for (let s = 2; s <= 5; s++) {
      const j = Math.floor(((s - 1) * buyers) / 5) + 1;
      if (j <= buyers) js.push(j);
    }
    const bounds = js.length ? (await nths(column, js)).filter((v) => v !== null) : [];
    return () => `(CASE WHEN a.orders > 0 THEN 1${bounds.map((v) => ` + CASE WHEN a.${column} >= ${p(v)} THEN 1 ELSE 0 END`).join('')} END)`;
  };
  const rs = await quintile('last_purchase');
  const fs = await quintile('orders');
  const ms = await quintile('revenue_cents');

  /** At or above `b` in rank order. */
  const within = (b: Boundary) => (b === null ? '1 = 0' : `(a.profit_cents > ${p(b.profit)} OR (a.profit_cents = ${p(b.profit)} AND a.customer_id <= ${p(b.customerId)}))`);
  let tier: () => string;
  if (cfg.tiers.method === 'abc') {
    // Customers whose predecessors carry under a % (b %) of the total: a prefix of the rank order.
    const total = bigOr0(totals?.total);
    const counts = rowsOf(
      await knex.raw(
        `SELECT SUM(CASE WHEN t.before * 10000 < ? THEN 1 ELSE 0 END) AS a, SUM(CASE WHEN t.before * 10000 < ? THEN 1 ELSE 0 END) AS b FROM (
          SELECT SUM(profit_cents) OVER (ORDER BY profit_cents DESC, customer_id ROWS UNBOUNDED PRECEDING) - profit_cents AS before FROM ${A} WHERE profit_cents > 0) t`,
        [big(total * BigInt(Math.round(cfg.tiers.abc.a * 100))), big(total * BigInt(Math.round(cfg.tiers.abc.b * 100)))] as Knex.RawBinding[],
      ),
    )[0];
    const a = await atRank(Number(counts?.a ?? 0));
    const b = await atRank(Number(counts?.b ?? 0));
    tier = () => `(CASE WHEN a.profit_cents > 0 AND ${within(a)} THEN 'A' WHEN a.profit_cents > 0 AND ${within(b)} THEN 'B' ELSE 'C' END)`;
  } else {
    const bounds: { name: string; b: Boundary }[] = [];
    for (const t of tierRanks) {
      const b = await atRank(t.lastRank);
      if (b !== null) bounds.push({ name: t.name, b });
    }
    tier = () =>
      bounds.length
        ? `(CASE WHEN a.profit_cents > 0 THEN CASE ${bounds.map((x) => `WHEN ${within(x.b)} THEN ${p(x.name)}`).join(' ')} ELSE ${p(cfg.tiers.rest)} END ELSE ${p(cfg.tiers.rest)} END)`
        : p(cfg.tiers.rest);
  }
  // High means above zero and at or above the threshold (quadrantOf).
  const highCurrent = () => `(a.profit_current_cents > 0 AND a.profit_current_cents >= ${p(big(thresholds.currentCents))})`;
  const highPotential = () => `(a.potential_cents > 0 AND a.potential_cents >= ${p(big(thresholds.potentialCents))})`;
  const quadrant = () => `(CASE WHEN ${highCurrent()} THEN CASE WHEN ${highPotential()} THEN 'keep' ELSE 'maintain' END WHEN ${highPotential()} THEN 'develop' ELSE 'reduce' END)`;
  // Segments: the first rule whose ranges hold (segmentOf).
  const segment = () => {
    if (cfg.rfm.segments.length === 0) return 'NULL';
    const whens = cfg.rfm.segments.map((g) => `WHEN ${rs()} BETWEEN ${p(g.r[0])} AND ${p(g.r[1])} AND ${fs()} BETWEEN ${p(g.f[0])} AND ${p(g.f[1])} AND ${ms()} BETWEEN ${p(g.m[0])} AND ${p(g.m[1])} THEN ${p(g.name)}`);
    return `(CASE WHEN a.orders > 0 THEN CASE ${whens.join(' ')} END END)`;
  };
  const exprs = { rs, fs, ms, segment, tier, quadrant };
  return { exprs, bindings, thresholds };
}

/** `x` and `y` are equal or both null. */
function same(dialect: 'sqlite' | 'postgres', x: string, y: string): string {
  return dialect === 'postgres' ? `${x} IS NOT DISTINCT FROM ${y}` : `${x} IS ${y}`;
}

const SCORE_COLUMNS = [
  ['r_score', 'rs'],
  ['f_score', 'fs'],
  ['m_score', 'ms'],
  ['segment', 'segment'],
  ['tier', 'tier'],
  ['quadrant', 'quadrant'],
] as const;

/** The stored scores of row `a` differ from the computed ones (pushes the expressions' bindings). */
function differs(dialect: 'sqlite' | 'postgres', q: ScoresSql): string {
  return `NOT (${SCORE_COLUMNS.map(([c, e]) => same(dialect, `a.${c}`, q.exprs[e]())).join(' AND ')})`;
}

function dialectOf(knex: Knex | Knex.Transaction): 'sqlite' | 'postgres' {
  return knex.client.config.client === 'pg' ? 'postgres' : 'sqlite';
}

/**
 * Every customer's scores, and `changed`: those that differ from what crm_analysis holds, the only
 * rows a refresh needs to write (after 1,000 changed orders, a few hundred of 100k customers).
 * For inspection and tests; a refresh applies them in the database (applyScores).
 */
export async function computeScores(knex: Knex | Knex.Transaction, cfg: AnalysisConfig): Promise<{ scores: CustomerScores[]; changed: CustomerScores[]; thresholds: Thresholds }> {
  const dialect = dialectOf(knex);
  const q = await scoresSql(knex, cfg, dialect);
  const cols = SCORE_COLUMNS.map(([, e]) => `${q.exprs[e]()} AS ${e}`).join(', ');
  const moved = differs(dialect, q);
  const all = rowsOf(await knex.raw(`SELECT a.customer_id, ${cols}, CASE WHEN ${moved} THEN 1 ELSE 0 END AS moved FROM ${ANALYSIS_TABLES.customer} a`, q.bindings as Knex.RawBinding[]));
  const scores: CustomerScores[] = [];
  const changed: CustomerScores[] = [];
  for (const r of all) {
    const score: CustomerScores = {
      customerId: String(r.customer_id),
      rScore: intOrNull(r.rs),
      fScore: intOrNull(r.fs),
      mScore: intOrNull(r.ms),
      segment: textOrNull(r.segment),
      tier: String(r.tier),
      quadrant: String(r.quadrant),
    };
    scores.push(score);
    if (Number(r.moved) === 1) changed.push(score);
  }
  return { scores, changed, thresholds: q.thresholds };
}

/**
 * Compute every customer's scores and write those that moved: one UPDATE of crm_analysis on the
 * hub, each row's scores evaluated from its own columns and the boundaries (no join). Returns how
 * many rows were written and the thresholds used.
 */
export async function applyScores(trx: Knex.Transaction, cfg: AnalysisConfig): Promise<{ written: number; thresholds: Thresholds }> {
  const dialect = dialectOf(trx);
  const q = await scoresSql(trx, cfg, dialect);
  const set = SCORE_COLUMNS.map(([c, e]) => `${c} = ${q.exprs[e]()}`).join(', ');
  const where = differs(dialect, q);
  const res = await trx.raw(`UPDATE ${ANALYSIS_TABLES.customer} AS a SET ${set} WHERE ${where}`, q.bindings as Knex.RawBinding[]);
  return { written: changesOf(res), thresholds: q.thresholds };
}

const intOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const textOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

export function segmentOf(segments: AnalysisConfig['rfm']['segments'], r: number, f: number, m: number): string | null {
  const inRange = (v: number, range: readonly [number, number]) => v >= range[0] && v <= range[1];
  return segments.find((s) => inRange(r, s.r) && inRange(f, s.f) && inRange(m, s.m))?.name ?? null;
}

/** High means above zero and at or above the threshold. */
export function quadrantOf(current: bigint, potential: bigint, t: Pick<Thresholds, 'currentCents' | 'potentialCents'>): Quadrant {
  const highCurrent = current > 0n && current >= t.currentCents;
  const highPotential = potential > 0n && potential >= t.potentialCents;
  if (highCurrent) return highPotential ? 'keep' : 'maintain';
  return highPotential ? 'develop' : 'reduce';
}
