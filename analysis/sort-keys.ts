/**
 * The keys customer lists sort by, and the columns they sort on: apart from the queries so the
 * command line can offer them as choices without loading the analysis.
 */
export const SORT_KEYS = {
  PROFIT: 'a.profit_cents',
  REVENUE: 'a.revenue_cents',
  RECEIVABLE: 'a.receivable_cents',
  OVERDUE: 'a.overdue_cents',
  LAST_PURCHASE: 'a.last_purchase',
  POTENTIAL: 'a.potential_cents',
  CUSTOMER: 'a.customer_id',
} as const;
export type SortKey = keyof typeof SORT_KEYS;
/** Sort keys that reveal profit or cost. */
export const PROFIT_SORT_KEYS: readonly SortKey[] = ['PROFIT'];
