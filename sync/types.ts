/**
 * The shapes runJob takes and returns: options, fault hooks, progress, run reports and dry-run plans.
 */
import type { CrmValue } from '../model/entities.js';

/**
 * Where a run can be interrupted on purpose (crash tests). Each point sits between two steps of
 * the write path:
 * - after-read: a page of changes was read from a source, nothing applied yet;
 * - mid-batch: half of a page applied inside its hub transaction (pull), or a source's upserts
 *   written and its deletes not yet (push);
 * - after-hub-write: a page's hub records written, bases and checkpoint not yet (same transaction);
 * - before-checkpoint: everything of a page written but the checkpoint, still uncommitted;
 * - after-source-batch: a batch written to a source and committed there, the hub not yet told.
 */
export type FaultPoint = 'after-read' | 'after-hub-write' | 'before-checkpoint' | 'after-source-batch' | 'mid-batch';

export interface FaultInfo {
  job: string;
  phase: 'pull' | 'push';
  source: string;
  /** Page (pull) or batch (push) number within the source, from 1. */
  page: number;
  rows: number;
}

export interface FaultHook {
  /** Called at each point; throwing (or killing the process) simulates a failure there. */
  at(point: FaultPoint, info: FaultInfo): void | Promise<void>;
}

export interface ProgressEvent {
  job: string;
  phase: 'pull' | 'push' | 'reconcile';
  source: string;
  /** Rows done so far in this phase and source. */
  done: number;
  /** Best estimate of the total, when known (first load: the table's row count). */
  estimated: number | null;
}

export interface RunOptions {
  /** Compute and return the plan; change nothing anywhere. */
  dryRun?: boolean;
  /** Stops the run between pages / batches (graceful shutdown). */
  signal?: AbortSignal;
  faults?: FaultHook;
  onProgress?: (event: ProgressEvent) => void;
  /**
   * The scheduled time this run is for (ISO, whole seconds). With several processes on one hub,
   * a tick already claimed by another is skipped.
   */
  tick?: string;
  /** Retries of transient faults per step (default 4) and first backoff in ms (default 100). */
  retries?: number;
  retryMinTimeoutMs?: number;
  /** Pull only these sources (one that signalled a change); the push still goes to every source. */
  pullOnly?: readonly string[];
  /** How long to wait for the job's lock before recording a skipped run (default 0: skip at once). */
  lockWaitMs?: number;
  /** Sources whose key column changed type and whose keys kept their text: read them again from the start. */
  acceptKeyChange?: readonly string[];
  /**
   * The crmlink host's clock (tests inject one to jump it). It stamps hub-side times only: capture
   * positions come from the source's own values, never from this clock.
   */
  clock?: () => Date;
}

export interface SourceStats {
  /** Changes read from the source. */
  read: number;
  /** Read but equal to the base: nothing to do (our own write read back, look-back re-reads). */
  unchanged: number;
  /** Hub records created / updated / deleted from this source's changes. */
  hubInserted: number;
  hubUpdated: number;
  hubDeleted: number;
  /** Rows written to this source by the push. */
  inserted: number;
  updated: number;
  deleted: number;
  /** Conflicts raised by this source's changes: open (need a person) and decided by policy. */
  conflicts: number;
  autoResolved: number;
  parked: number;
  /** Identity: new source keys linked to an existing record (sure match) or to a new one. */
  linked: number;
  created: number;
  mergeCandidates: number;
  /** Deletes that this source's mapping does not allow: reported, not written. */
  deletesNotAllowed: number;
  /** Writes held back because the source row changed since it was read (taken in next run). */
  deferred: number;
  /** Oldest change time read (ISO), for the lag. */
  oldestChange: string | null;
  /** Time spent pulling from / pushing to this source. */
  pullMs: number;
  pushMs: number;
}

export function emptyStats(): SourceStats {
  return {
    read: 0,
    unchanged: 0,
    hubInserted: 0,
    hubUpdated: 0,
    hubDeleted: 0,
    inserted: 0,
    updated: 0,
    deleted: 0,
    conflicts: 0,
    autoResolved: 0,
    parked: 0,
    linked: 0,
    created: 0,
    mergeCandidates: 0,
    deletesNotAllowed: 0,
    deferred: 0,
    oldestChange: null,
    pullMs: 0,
    pushMs: 0,
  };
}

export interface PlannedWrite {
  op: 'insert' | 'update' | 'delete';
  gid: string | null;
  sourceKey: string | null;
  /** Fields written, with their new values (updates and inserts). */
  values?: Record<string, CrmValue>;
  /** soft: the delete is an update of the soft-delete flag. */
  mode?: 'hard' | 'soft';
}

export interface PlannedConflict {
  gid: string | null;
  sourceKey: string | null;
  field: string;
  values: Record<string, CrmValue>;
  rule: string;
  winner: string | null;
  reason: string;
}

/** What a dry run would do, per target ("hub" or a source name). At most `limit` entries each. */
export interface TargetPlan {
  inserts: PlannedWrite[];
  updates: PlannedWrite[];
  deletes: PlannedWrite[];
  conflicts: PlannedConflict[];
  /** Full counts, even when the lists above were cut. */
  counts: { inserts: number; updates: number; deletes: number; conflicts: number };
}

export type RunStatus = 'ok' | 'partial' | 'failed' | 'skipped' | 'aborted';

export interface RunReport {
  /** crm_run id (null for a dry run, which records nothing). */
  runId: number | null;
  job: string;
  entity: string;
  status: RunStatus;
  dryRun: boolean;
  startedAt: string;
  endedAt: string;
  durationMs: number;
  sources: Record<string, SourceStats>;
  /** Hub-wide totals of what this run changed. */
  totals: {
    read: number;
    /** Rows written anywhere: hub records plus source rows. */
    written: number;
    hubWritten: number;
    sourceWritten: number;
    conflicts: number;
    autoResolved: number;
    parked: number;
  };
  /** Seconds between now and the oldest change read (null when no source gives change times). */
  lagSeconds: number | null;
  /** Why the run was skipped or failed. */
  reason?: string;
  /**
   * event: an event-driven push of the records a hub change named (sync/propagation.ts);
   * reconcile: a key reconcile (sync/reconcile.ts).
   */
  trigger?: 'event' | 'reconcile';
  /**
   * The scheduled tick this run (or skip) was for, whole seconds ISO: with several processes on one
   * hub, run history shows that each tick ran once.
   */
  tick?: string;
  error?: { code: string; message: string };
  /** Dry runs: the plan per target. */
  plan?: Record<string, TargetPlan>;
}
