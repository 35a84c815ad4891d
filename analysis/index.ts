/**
 * Customer analysis over the hub: RFM, profit contribution and its Pareto curve, pyramid tiers,
 * the value matrix, lifecycle stages with their changes, credit and receivables aging. Figures are
 * computed by SQL on the hub (refresh.ts) and stored through the hub store; queries (query.ts)
 * read them within a viewer's row scope. docs/analysis.md has the rules and formulas.
 */
export { refreshAnalysis, touchedCustomers, ANALYSIS_LOCK, type RefreshOptions, type RefreshReport } from './refresh.js';
export { checkCredit, type CreditCheck } from './credit.js';
export { computeFigures, lifecycleStage, windowsOf, LIFECYCLE_STAGES, OPEN_STAGES, type LifecycleStage, type Windows } from './figures.js';
export { computeScores, quadrantOf, segmentOf, QUADRANTS, type Quadrant, type Thresholds } from './ranks.js';
export {
  analysesOf,
  distribution,
  listAnalyses,
  pareto,
  profitTotalCents,
  shareOf,
  stageChanges,
  offsetCursor,
  parseOffsetCursor,
  DIMENSIONS,
  SORT_KEYS,
  PROFIT_SORT_KEYS,
  type AnalysisScope,
  type AnalysisFilter,
  type AnalysisPage,
  type Bucket,
  type CustomerAnalysis,
  type Dimension,
  type Pareto,
  type ParetoPoint,
  type SortKey,
  type StageChange,
} from './query.js';
export { todayIn, addMonths, addDays, centsToDecimal } from './sql.js';
export { AnalysisRefresher, type SyncRunSummary } from './freshness.js';
export { writeCsv, writeXlsx, EXPORT_COLUMNS, type ExportColumn } from './export.js';
