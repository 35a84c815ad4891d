/**
 * The sync engine's public surface: run jobs, schedule them, look at their history, list and
 * resolve conflicts, list and retry parked records, and the merge itself.
 */
export { runJob, retryParked, jobConfig, type RetryParkedResult } from './engine.js';
export type { SyncApp } from './context.js';
export { startPropagation, Propagator, propagates, type PropagationOptions, type PropagationTimers, type TargetFailure } from './propagation.js';
export { reconcileJob, RECONCILE_PAGE_SIZE, type ReconcileReport, type ReconcileOptions, type ReconciledSource } from './reconcile.js';
export { runEvents, progressFigures, RunEventBus, type RunProgress, type ProgressFigures } from './run-events.js';
export { startScheduler, SyncScheduler, type SchedulerOptions, type ScheduledJob } from './scheduler.js';
export { listConflicts, getConflict, resolveConflict, type ConflictRecord, type ConflictFilter, type ResolveOptions } from './conflicts.js';
export { restoreRecord, undeleteRecord, restoreChanges, restoreRun, type RestoreBy, type RecordRestore, type SourceRestore, type RestorePlan } from './restore.js';
export { listParked, listRuns, syncStatus, type RunRecord, type JobStatus } from './status.js';
export type { ParkedRecord } from '../hub/parked.js';
export { tryLockJob, lockName, type JobLock } from '../hub/locks.js';
export { isTransient, withRetry } from './retry.js';
export { syncMetricsRegistry, recordRunMetrics } from './metrics.js';
export { mergeSource, mergeRecord, decide, policyFor, type MergePolicies, type HubSide, type SourceSide, type FieldConflict, type FieldChange, type SourceMergeResult, type RecordMergeResult } from './three-way-merge.js';
export type {
  FaultHook,
  FaultInfo,
  FaultPoint,
  ProgressEvent,
  RunOptions,
  RunReport,
  RunStatus,
  SourceStats,
  TargetPlan,
  PlannedWrite,
  PlannedConflict,
} from './types.js';
