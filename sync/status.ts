/**
 * What the sync engine reports about itself, read from the hub store: run history, the status of
 * each job (last run, open conflicts, parked records, lag, checkpoints) and the parked records.
 */
import type { SyncApp } from './context.js';
import type { ParkedRecord } from '../hub/parked.js';
import type { RunRecord as HubRunRecord } from '../hub/runs.js';
import type { RunReport, RunStatus } from './types.js';

export interface RunRecord extends Omit<HubRunRecord<Partial<RunReport>>, 'status'> {
  status: RunStatus | 'running' | 'abandoned';
}

export interface JobStatus {
  job: string;
  entity: string;
  sources: string[];
  direction: string;
  schedule: string | null;
  lastRun: RunRecord | null;
  lastSuccessAt: string | null;
  running: boolean;
  openConflicts: number;
  parked: number;
  lagSeconds: number | null;
  checkpoints: { source: string; value: unknown; updatedAt: string }[];
}

/** The report as crm_run keeps it: the dry-run plan (large, and dry runs are not recorded) left out. */
export function recordedStats(report: RunReport): Partial<RunReport> {
  const { plan: _plan, ...rest } = report;
  return rest;
}

export async function listRuns(app: SyncApp, opts: { job?: string; limit?: number } = {}): Promise<RunRecord[]> {
  return (await app.hub.store.runs.readRuns<Partial<RunReport>>(app.hub.knex, opts)) as RunRecord[];
}

/** One line per configured job: last run, open conflicts, parked records, lag, checkpoints. */
export async function syncStatus(app: SyncApp): Promise<JobStatus[]> {
  const { knex, store } = app.hub;
  const out: JobStatus[] = [];
  for (const [job, cfg] of Object.entries(app.config.sync.jobs)) {
    const [last] = await listRuns(app, { job, limit: 1 });
    const lastOk = await store.runs.lastSuccessfulRun<Partial<RunReport>>(knex, job);
    const pending = await store.runs.pendingCounts(knex, job);
    out.push({
      job,
      entity: cfg.entity,
      sources: cfg.sources,
      direction: cfg.direction,
      schedule: cfg.schedule ?? null,
      lastRun: last ?? null,
      lastSuccessAt: lastOk?.endedAt ?? null,
      running: last?.status === 'running',
      ...pending,
      lagSeconds: lastOk?.stats?.lagSeconds ?? null,
      checkpoints: (await store.checkpoints.listCheckpoints(knex, job)).map(({ source, value, updatedAt }) => ({ source, value, updatedAt })),
    });
  }
  return out;
}

export async function listParked(app: SyncApp, opts: { job?: string; status?: 'parked' | 'resolved' | 'all'; limit?: number } = {}): Promise<ParkedRecord[]> {
  return app.hub.store.parked.readParked(app.hub.knex, opts);
}
