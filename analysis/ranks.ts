/**
 * What depends on every customer at once: RFM quintile scores, contribution rank and tier, the
 * value-matrix thresholds and quadrant. The ranks are window functions over crm_analysis on the hub;
 * what is left here is one rule per customer (segment, tier, quadrant).
 */
import type { Knex } from 'knex';
import { Decimal } from 'decimal.js';
import type { AnalysisConfig } from '../config/schema.js';
import type { CustomerScores } from '../hub/analysis.js';
import { ANALYSIS_TABLES } from '../hub/analysis.js';
import { bigOf, bigOr0 } from './sql.js';

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

function rows(res: unknown): Record<string, unknown>[] {
  return Array.isArray(res) ? (res as Record<string, unknown>[]) : ((res as { rows?: Record<string, unknown>[] }).rows ?? []);
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
 * Every customer's scores, and `changed`: those that differ from what crm_analysis holds, the only
 * rows a refresh needs to write (after 1,000 changed orders, a few hundred of 100k customers).
 */
export async function computeScores(knex: Knex | Knex.Transaction, cfg: AnalysisConfig): Promise<{ scores: CustomerScores[]; changed: CustomerScores[]; thresholds: Thresholds }> {
  const A = ANALYSIS_TABLES.customer;
  const totals = rows(
    await knex.raw(`SELECT SUM(profit_current_cents) AS cur, SUM(potential_cents) AS pot, COUNT(*) AS n FROM ${A} WHERE profit_current_cents <> 0 OR potential_cents <> 0`),
  )[0];
  const n = Number(totals?.n ?? 0);
  const vm = cfg.valueMatrix;
  const thresholdsBase = {
    currentCents: vm.currentThreshold !== undefined ? cents(vm.currentThreshold) : mean(bigOr0(totals?.cur), n),
    potentialCents: vm.potentialThreshold !== undefined ? cents(vm.potentialThreshold) : mean(bigOr0(totals?.pot), n),
    currentFrom: vm.currentThreshold !== undefined ? ('config' as const) : ('mean' as const),
    potentialFrom: vm.potentialThreshold !== undefined ? ('config' as const) : ('mean' as const),
  };

  // Quintiles with ties sharing a score: ceil(5 × k / n), k = customers at or below this one
  // (COUNT over an ORDER BY counts the peers too). Recency: an older last purchase ranks lower.
  const ranked = rows(
    await knex.raw(`
WITH r AS (
  SELECT customer_id,
    (5 * COUNT(*) OVER (ORDER BY last_purchase) + COUNT(*) OVER () - 1) / COUNT(*) OVER () AS rs,
    (5 * COUNT(*) OVER (ORDER BY orders) + COUNT(*) OVER () - 1) / COUNT(*) OVER () AS fs,
    (5 * COUNT(*) OVER (ORDER BY revenue_cents) + COUNT(*) OVER () - 1) / COUNT(*) OVER () AS ms
  FROM ${A} WHERE orders > 0
), t AS (
  SELECT customer_id,
    ROW_NUMBER() OVER (ORDER BY profit_cents DESC, customer_id) AS rk,
    SUM(profit_cents) OVER (ORDER BY profit_cents DESC, customer_id ROWS UNBOUNDED PRECEDING) - profit_cents AS before,
    SUM(profit_cents) OVER () AS total
  FROM ${A} WHERE profit_cents > 0
)
SELECT a.customer_id, a.profit_current_cents, a.potential_cents, r.rs, r.fs, r.ms, t.rk, t.before, t.total,
  a.r_score, a.f_score, a.m_score, a.segment, a.profit_rank, a.tier, a.quadrant
FROM ${A} a LEFT JOIN r ON r.customer_id = a.customer_id LEFT JOIN t ON t.customer_id = a.customer_id`),
  );

  const rankedCustomers = ranked.filter((r) => r.rk !== null && r.rk !== undefined).length;
  const tierRanks: { name: string; lastRank: number }[] = [];
  let cumulative = 0;
  for (const t of cfg.tiers.pyramid) {
    cumulative += t.percent;
    tierRanks.push({ name: t.name, lastRank: ceilShare(rankedCustomers, Math.min(cumulative, 100)) });
  }
  const thresholds: Thresholds = { ...thresholdsBase, tierMethod: cfg.tiers.method, tierRanks, rankedCustomers };

  const changed: CustomerScores[] = [];
  const scores = ranked.map((r): CustomerScores => {
    const rs = r.rs === null || r.rs === undefined ? null : Number(r.rs);
    const fs = r.fs === null || r.fs === undefined ? null : Number(r.fs);
    const ms = r.ms === null || r.ms === undefined ? null : Number(r.ms);
    const rank = r.rk === null || r.rk === undefined ? null : Number(r.rk);
    const score: CustomerScores = {
      customerId: String(r.customer_id),
      rScore: rs,
      fScore: fs,
      mScore: ms,
      segment: rs !== null && fs !== null && ms !== null ? segmentOf(cfg.rfm.segments, rs, fs, ms) : null,
      profitRank: rank,
      tier: tierOf(cfg.tiers, thresholds, rank, bigOf(r.before), bigOf(r.total)),
      quadrant: quadrantOf(bigOr0(r.profit_current_cents), bigOr0(r.potential_cents), thresholds),
    };
    if (!sameScores(score, r)) changed.push(score);
    return score;
  });
  return { scores, changed, thresholds };
}

const intOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const textOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

/** Whether the stored row (r_score … quadrant of crm_analysis) already holds these scores. */
function sameScores(s: CustomerScores, stored: Record<string, unknown>): boolean {
  return (
    s.rScore === intOrNull(stored.r_score) &&
    s.fScore === intOrNull(stored.f_score) &&
    s.mScore === intOrNull(stored.m_score) &&
    s.segment === textOrNull(stored.segment) &&
    s.profitRank === intOrNull(stored.profit_rank) &&
    s.tier === textOrNull(stored.tier) &&
    s.quadrant === textOrNull(stored.quadrant)
  );
}

export function segmentOf(segments: AnalysisConfig['rfm']['segments'], r: number, f: number, m: number): string | null {
  const inRange = (v: number, range: readonly [number, number]) => v >= range[0] && v <= range[1];
  return segments.find((s) => inRange(r, s.r) && inRange(f, s.f) && inRange(m, s.m))?.name ?? null;
}

function tierOf(cfg: AnalysisConfig['tiers'], t: Thresholds, rank: number | null, before: bigint | null, total: bigint | null): string {
  if (rank === null) return cfg.method === 'abc' ? 'C' : cfg.rest;
  if (cfg.method === 'abc') {
    // A while what the customers ranked above carry is under a % of the total, then B, then C.
    const b = (before ?? 0n) * 10000n;
    const tot = total ?? 0n;
    if (b < tot * BigInt(Math.round(cfg.abc.a * 100))) return 'A';
    if (b < tot * BigInt(Math.round(cfg.abc.b * 100))) return 'B';
    return 'C';
  }
  return t.tierRanks.find((x) => rank <= x.lastRank)?.name ?? cfg.rest;
}

/** High means above zero and at or above the threshold. */
export function quadrantOf(current: bigint, potential: bigint, t: Pick<Thresholds, 'currentCents' | 'potentialCents'>): Quadrant {
  const highCurrent = current > 0n && current >= t.currentCents;
  const highPotential = potential > 0n && potential >= t.potentialCents;
  if (highCurrent) return highPotential ? 'keep' : 'maintain';
  return highPotential ? 'develop' : 'reduce';
}
