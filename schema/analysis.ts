/**
 * Customer analysis in GraphQL: `Customer.analysis` and the top-level queries (customerAnalyses,
 * analysisDistribution, paretoCurve, lifecycleChanges, creditCheck, analysisStatus). Every figure
 * is read within the viewer's row rule (analysis/query.ts), and field masks carry over:
 * - a role that hides `CustomerAnalysis.contribution`, `Product.cost` or `SalesOrderLine.unitCost`
 *   gets no cost, profit, share or current value (null), and sorting by profit or asking for the
 *   Pareto curve is FORBIDDEN;
 * - a role that hides `CustomerAnalysis.credit`, `Customer.creditLimit` or
 *   `Customer.receivableBalance` gets no credit figures and may not run creditCheck.
 */
import { CrmlinkError } from '../core/errors.js';
import {
  analysesOf,
  checkCredit,
  distribution,
  listAnalyses,
  offsetCursor,
  pareto,
  profitTotalCents,
  shareOf,
  stageChanges,
  centsToDecimal,
  PROFIT_SORT_KEYS,
  SORT_KEYS,
  type AnalysisFilter,
  type AnalysisScope,
  type CustomerAnalysis,
  type Dimension,
  type SortKey,
} from '../analysis/index.js';
import type { ExtraTypeDefs, SchemaModule } from './module.js';
import type { Runtime, Scope } from './runtime.js';
import { HUB, type Rec } from './store.js';
import { isHidden, type Viewer } from './security.js';
import { resolveNode, scope, type CrmContext } from './resolvers.js';
import { codeEnum, enumResolvers } from './enums.js';

/** Closed sets of the analysis API. Tier and segment names stay strings: the config names them. */
const ANALYSIS_ENUMS = [
  codeEnum('CreditCheckReason', ['FITS', 'OVER_LIMIT', 'NO_LIMIT'], 'Whether an amount fits the credit left: NO_LIMIT means the customer has no credit limit, so nothing fits.'),
  codeEnum('TierMethod', ['pyramid', 'abc'], 'How tiers are drawn (analysis.tiers.method).'),
  codeEnum('AnalysisRefreshKind', ['full', 'incremental'], 'A refresh of every customer, or of those changed since the last one.'),
];

export const ANALYSIS_TYPEDEFS: ExtraTypeDefs = {
  types: /* GraphQL */ `
"""Lifecycle stage (客户生命周期)."""
enum LifecycleStage {
  PROSPECT
  NEW
  GROWING
  MATURE
  DECLINING
  LAPSED
}
"""Value-matrix quadrant (价值矩阵): current value against potential value."""
enum ValueQuadrant {
  "high current, high potential"
  KEEP
  "low current, high potential"
  DEVELOP
  "high current, low potential"
  MAINTAIN
  "low current, low potential"
  REDUCE
}
enum AnalysisDimension {
  TIER
  SEGMENT
  STAGE
  QUADRANT
  "one bucket: every customer you see"
  ALL
}
enum CustomerAnalysisSortField {
  PROFIT
  REVENUE
  RECEIVABLE
  OVERDUE
  LAST_PURCHASE
  POTENTIAL
  CUSTOMER
}
"""Recency, frequency, monetary value over the analysis window, scored 1-5 by quintile."""
type Rfm {
  recencyDays: Int
  lastPurchase: Date
  frequency: Int!
  monetary: Decimal!
  r: Int
  f: Int
  m: Int
  segment: String
}
"""Profit contribution (利润贡献) over the analysis window: revenue − cost."""
type Contribution {
  revenue: Decimal!
  cost: Decimal!
  profit: Decimal!
  "profit / the total profit of the profitable customers you see (a fraction)"
  share: Decimal
  "Lines whose cost is unknown (counted at cost 0)."
  costMissingLines: Int!
  "Company-wide rank by profit (1 = largest)."
  rank: Int
}
type ValueMatrix {
  quadrant: ValueQuadrant
  "Contribution of the current span (null when your role may not see profit)."
  currentValue: Decimal
  "Revenue growth on the span before plus open opportunities weighted by stage."
  potentialValue: Decimal!
  revenueCurrent: Decimal!
  revenuePrevious: Decimal!
  pipeline: Decimal!
  openOpportunities: Int!
}
type Lifecycle {
  stage: LifecycleStage!
  since: DateTime!
  firstOrder: Date
  lastOrder: Date
}
"""Open receivables by age of the invoice (账龄)."""
type Aging {
  days0To30: Decimal!
  days31To60: Decimal!
  days61To90: Decimal!
  over90: Decimal!
}
type Credit {
  limit: Decimal
  receivable: Decimal!
  overdue: Decimal!
  aging: Aging!
  "receivable / limit"
  usage: Decimal
  available: Decimal
  overLimit: Boolean!
  isOverdue: Boolean!
}
"""A customer's analysis as of the last refresh (docs/analysis.md)."""
type CustomerAnalysis {
  asOf: Date!
  computedAt: DateTime!
  rfm: Rfm!
  "null when your role may not see cost or profit"
  contribution: Contribution
  "Pyramid tier (客户分级)."
  tier: String
  valueQuadrant: ValueQuadrant
  valueMatrix: ValueMatrix!
  lifecycle: Lifecycle!
  "null when your role may not see credit limits or receivables"
  credit: Credit
}
extend type Customer {
  "Customer analysis; null before the first refresh."
  analysis: CustomerAnalysis
}
type AnalyzedCustomer {
  customerId: ID!
  name: String
  customer: Customer
  analysis: CustomerAnalysis!
}
type CustomerAnalysisEdge {
  cursor: String!
  node: AnalyzedCustomer!
}
type CustomerAnalysisConnection {
  edges: [CustomerAnalysisEdge!]!
  nodes: [AnalyzedCustomer!]!
  pageInfo: PageInfo!
  totalCount: Int!
}
input CustomerAnalysisWhere {
  tier: [String!]
  segment: [String!]
  stage: [LifecycleStage!]
  quadrant: [ValueQuadrant!]
  overLimit: Boolean
  overdue: Boolean
}
input CustomerAnalysisOrderBy {
  field: CustomerAnalysisSortField!
  direction: SortDirection = DESC
}
type AnalysisBucket {
  key: String
  customers: Int!
  revenue: Decimal!
  "null when your role may not see profit"
  profit: Decimal
  "null when your role may not see credit figures (so are overdue and aging)"
  receivable: Decimal
  overdue: Decimal
  aging: Aging
}
type ParetoPoint {
  rank: Int!
  customerId: ID!
  name: String
  profit: Decimal!
  share: Decimal!
  cumulativeShare: Decimal!
  customerShare: Decimal!
}
type ParetoCurve {
  totalProfit: Decimal!
  customers: Int!
  points: [ParetoPoint!]!
}
type LifecycleChange {
  customerId: ID!
  name: String
  from: LifecycleStage
  to: LifecycleStage!
  at: DateTime!
}
type CreditCheck {
  customerId: ID!
  amount: Decimal!
  limit: Decimal
  receivable: Decimal!
  available: Decimal
  fits: Boolean!
  reason: CreditCheckReason!
}
type AnalysisThresholds {
  "Value matrix: current value at or above this is high (null when your role may not see profit)."
  currentValue: Decimal
  potentialValue: Decimal!
  tierMethod: TierMethod!
}
${ANALYSIS_ENUMS.map((e) => e.sdl).join('\n')}
type AnalysisStatus {
  lastRefresh: DateTime
  kind: AnalysisRefreshKind
  asOf: Date
  customers: Int
  thresholds: AnalysisThresholds
  schedule: String
}
`,
  query: [
    '  "Customers with their analysis, within your row rule."\n  customerAnalyses(where: CustomerAnalysisWhere, orderBy: CustomerAnalysisOrderBy, first: Int, after: String): CustomerAnalysisConnection!',
    '  "Customers, revenue, profit and receivables per tier, segment, stage or quadrant."\n  analysisDistribution(by: AnalysisDimension!, where: CustomerAnalysisWhere): [AnalysisBucket!]!',
    '  "The Pareto curve of profit contribution over the customers you see."\n  paretoCurve(first: Int = 100): ParetoCurve!',
    '  "Lifecycle moves, newest first."\n  lifecycleChanges(from: LifecycleStage, to: LifecycleStage, since: DateTime, first: Int = 100): [LifecycleChange!]!',
    '  "Would an order of this amount fit the customer\'s remaining credit? Live, not from the last refresh."\n  creditCheck(customerId: ID!, amount: Decimal!): CreditCheck!',
    '  analysisStatus: AnalysisStatus!',
  ],
  mutation: [],
};

export function contributionHidden(v: Viewer): boolean {
  return isHidden(v, 'CustomerAnalysis', 'contribution') || isHidden(v, 'Product', 'cost') || isHidden(v, 'SalesOrderLine', 'unitCost');
}

export function creditHidden(v: Viewer): boolean {
  return isHidden(v, 'CustomerAnalysis', 'credit') || isHidden(v, 'Customer', 'creditLimit') || isHidden(v, 'Customer', 'receivableBalance');
}

function scopeOfViewer(v: Viewer): AnalysisScope {
  switch (v.customers) {
    case 'all':
      return { customers: 'all' };
    case 'own':
      return { customers: 'own', user: v.user };
    case 'team':
      return { customers: 'team', team: v.team };
  }
}

const upper = (s: string | null) => (s === null ? null : s.toUpperCase());
const lower = (xs: unknown) => (Array.isArray(xs) ? xs.map((x) => String(x).toLowerCase()) : undefined);

/** The analysis as the viewer may see it, in GraphQL shape. */
async function shaped(s: Scope, a: CustomerAnalysis): Promise<Record<string, unknown>> {
  const v = s.viewer;
  const noProfit = contributionHidden(v);
  const total = noProfit ? 0n : await s.once('analysis:profitTotal', () => profitTotalCents(s.app.hub.knex, scopeOfViewer(v)));
  return {
    asOf: a.asOf,
    computedAt: a.computedAt,
    rfm: a.rfm,
    contribution: noProfit ? null : { ...a.contribution, share: shareOf(a.contribution.profit, total) },
    tier: a.tier,
    valueQuadrant: upper(a.valueMatrix.quadrant),
    valueMatrix: { ...a.valueMatrix, quadrant: upper(a.valueMatrix.quadrant), currentValue: noProfit ? null : a.valueMatrix.currentValue },
    lifecycle: { ...a.lifecycle, stage: a.lifecycle.stage.toUpperCase() },
    credit: creditHidden(v) ? null : a.credit,
  };
}

function filterOf(where: unknown): AnalysisFilter {
  const w = (where ?? {}) as Record<string, unknown>;
  return {
    tier: w.tier as string[] | undefined,
    segment: w.segment as string[] | undefined,
    stage: lower(w.stage),
    quadrant: lower(w.quadrant),
    overLimit: typeof w.overLimit === 'boolean' ? w.overLimit : undefined,
    overdue: typeof w.overdue === 'boolean' ? w.overdue : undefined,
  };
}

function requireHubCustomers(rt: Runtime): void {
  if (rt.isFederated('Customer')) {
    throw new CrmlinkError('NOT_AVAILABLE', 'customer analysis needs Customer replicated in the hub (entities.Customer.mode: replicated)', { setting: 'entities.Customer.mode' });
  }
}

type Resolver = (parent: unknown, args: Record<string, unknown>, ctx: CrmContext) => unknown;

export function analysisResolvers(rt: Runtime): { types: Record<string, Record<string, Resolver>>; query: Record<string, Resolver> } {
  const knex = () => rt.app.hub.knex;
  const customerAnalysis: Resolver = async (parent, _a, ctx) => {
    const rec = parent as Rec;
    if (rec.space !== HUB) return null;
    const s = scope(rt, ctx);
    const a = await s
      .loader<string, CustomerAnalysis | null>('analysis:customer', async (ids) => {
        const m = await analysesOf(knex(), scopeOfViewer(s.viewer), ids);
        return ids.map((id) => m.get(id) ?? null);
      })
      .load(rec.key);
    return a ? shaped(s, a) : null;
  };

  const query: Record<string, Resolver> = {
    customerAnalyses: async (_p, args, ctx) => {
      requireHubCustomers(rt);
      const s = scope(rt, ctx);
      const order = (args.orderBy ?? { field: 'PROFIT', direction: 'DESC' }) as { field: SortKey; direction?: 'ASC' | 'DESC' };
      if (!(order.field in SORT_KEYS)) throw new CrmlinkError('VALIDATION_FAILED', `unknown sort field ${String(order.field)}`, { field: 'orderBy' });
      if (PROFIT_SORT_KEYS.includes(order.field) && contributionHidden(s.viewer)) {
        throw new CrmlinkError('FORBIDDEN', `sorting by ${order.field} is not allowed for role "${s.viewer.role}" (profit is hidden)`, { field: 'orderBy' });
      }
      const page = await listAnalyses(knex(), scopeOfViewer(s.viewer), {
        filter: filterOf(args.where),
        orderBy: { key: order.field, direction: order.direction ?? 'DESC' },
        first: typeof args.first === 'number' ? args.first : undefined,
        after: typeof args.after === 'string' ? args.after : undefined,
      });
      const nodes = await Promise.all(
        page.nodes.map(async (a) => ({
          customerId: a.customerId,
          name: a.customerName,
          customer: () => resolveNode(s, a.customerId, 'Customer'),
          analysis: await shaped(s, a),
        })),
      );
      const cursor = (i: number) => offsetCursor(page.startOffset + i);
      return {
        nodes,
        edges: nodes.map((node, i) => ({ node, cursor: cursor(i) })),
        totalCount: page.totalCount,
        pageInfo: {
          hasNextPage: page.hasNextPage,
          hasPreviousPage: page.startOffset > 0,
          startCursor: nodes.length ? cursor(0) : null,
          endCursor: nodes.length ? cursor(nodes.length - 1) : null,
        },
      };
    },
    analysisDistribution: async (_p, args, ctx) => {
      requireHubCustomers(rt);
      const s = scope(rt, ctx);
      const buckets = await distribution(knex(), scopeOfViewer(s.viewer), String(args.by) as Dimension, filterOf(args.where));
      const noProfit = contributionHidden(s.viewer);
      const noCredit = creditHidden(s.viewer);
      return buckets.map((b) => ({
        ...b,
        key: args.by === 'STAGE' || args.by === 'QUADRANT' ? upper(b.key) : b.key,
        profit: noProfit ? null : b.profit,
        receivable: noCredit ? null : b.receivable,
        overdue: noCredit ? null : b.overdue,
        aging: noCredit ? null : b.aging,
      }));
    },
    paretoCurve: async (_p, args, ctx) => {
      requireHubCustomers(rt);
      const s = scope(rt, ctx);
      if (contributionHidden(s.viewer)) throw new CrmlinkError('FORBIDDEN', `the Pareto curve of profit is not allowed for role "${s.viewer.role}" (profit is hidden)`, { field: 'paretoCurve' });
      const p = await pareto(knex(), scopeOfViewer(s.viewer), typeof args.first === 'number' ? args.first : 100);
      return { ...p, points: p.points.map((x) => ({ ...x, name: x.customerName })) };
    },
    lifecycleChanges: async (_p, args, ctx) => {
      requireHubCustomers(rt);
      const s = scope(rt, ctx);
      const changes = await stageChanges(knex(), scopeOfViewer(s.viewer), {
        from: typeof args.from === 'string' ? args.from.toLowerCase() : undefined,
        to: typeof args.to === 'string' ? args.to.toLowerCase() : undefined,
        since: typeof args.since === 'string' ? args.since : undefined,
        first: typeof args.first === 'number' ? args.first : undefined,
      });
      return changes.map((c) => ({ customerId: c.customerId, name: c.customerName, from: upper(c.from), to: c.to.toUpperCase(), at: c.at }));
    },
    creditCheck: async (_p, args, ctx) => {
      requireHubCustomers(rt);
      const s = scope(rt, ctx);
      if (creditHidden(s.viewer)) throw new CrmlinkError('FORBIDDEN', `creditCheck is not allowed for role "${s.viewer.role}" (credit figures are hidden)`, { field: 'creditCheck' });
      const id = String(args.customerId);
      // Deny what the row rule hides exactly as an unknown customer.
      const rec = await resolveNode(s, id, 'Customer');
      const result = rec && rec.space === HUB ? await checkCredit(rt.app.hub, rt.app.config.analysis, rec.key, String(args.amount)) : null;
      if (!result) throw new CrmlinkError('NOT_FOUND', `Customer ${id} not found (or not visible to you)`, { entity: 'Customer', key: id });
      return result;
    },
    analysisStatus: async (_p, _a, ctx) => {
      const s = scope(rt, ctx);
      const cfg = rt.app.config.analysis;
      const last = await rt.app.hub.store.analysis.lastRun(knex());
      const t = (last?.thresholds ?? null) as { currentCents?: string; potentialCents?: string; tierMethod?: string } | null;
      return {
        lastRefresh: last?.endedAt ?? null,
        kind: last?.kind ?? null,
        asOf: last?.asOf ?? null,
        customers: last?.customers ?? null,
        thresholds:
          t && t.potentialCents !== undefined
            ? {
                currentValue: contributionHidden(s.viewer) || t.currentCents === undefined ? null : centsToDecimal(BigInt(t.currentCents)),
                potentialValue: centsToDecimal(BigInt(t.potentialCents)),
                tierMethod: t.tierMethod ?? cfg.tiers.method,
              }
            : null,
        schedule: cfg.schedule ?? null,
      };
    },
  };

  return {
    types: {
      Customer: { analysis: customerAnalysis },
      AnalyzedCustomer: { customer: (p) => (p as { customer: () => Promise<Rec | null> }).customer() },
    },
    query,
  };
}

/** The analysis part of the API: built into every schema (schema/index.ts). */
export const analysisModule: SchemaModule = { typeDefs: ANALYSIS_TYPEDEFS, resolvers: analysisResolvers as SchemaModule['resolvers'], enums: enumResolvers(ANALYSIS_ENUMS) };
