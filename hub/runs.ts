/**
 * Run history (crm_run) and the status overview built from it: what ran when, how much it moved,
 * what it left (conflicts, parked records) and how far behind each job is.
 */
import type { Knex } from 'knex';
import type { App } from '../app/app.js';
import { SYSTEM_TABLES as T } from './tables.js';
import { listCheckpoints } from './checkpoints.js';
import type { RunReport, RunStatus } from '../sync/types.js';

type Q = Knex | Knex.Transaction;

export interface RunRecord {
  id: number;
  job: string;
  status: RunStatus | 'running' | 'abandoned';
  dryRun: boolean;
  startedAt: string;
  endedAt: string | null;
  stats: Partial<RunReport> | null;
  error: string | null;
}

export async function startRun(q: Q, job: string, startedAt: string): Promise<number> {
  const inserted = (await q(T.run).insert({ job, status: 'running', dry_run: false, started_at: startedAt }, ['id'])) as unknown[];
  return idOf(inserted[0]);
}

export async function finishRun(q: Q, id: number, report: RunReport): Promise<void> {
  await q(T.run)
    .where({ id })
    .update({
      status: report.status,
      ended_at: report.endedAt,
      stats: JSON.stringify(statsOf(report)),
      error: report.error ? JSON.stringify(report.error) : report.reason ?? null,
    });
}

/** A skipped tick (lock held elsewhere, tick already run) is history too. */
export async function recordSkipped(q: Q, job: string, reason: string, at: string): Promise<number> {
  const inserted = (await q(T.run).insert(
    { job, status: 'skipped', dry_run: false, started_at: at, ended_at: at, error: reason, stats: JSON.stringify({ reason }) },
    ['id'],
  )) as unknown[];
  return idOf(inserted[0]);
}

/**
 * Runs still marked running while we hold the job's lock were cut short (a crash, a kill): mark
 * them so history does not show a run that never ends.
 */
export async function abandonStaleRuns(q: Q, job: string): Promise<number> {
  return q(T.run).where({ job, status: 'running' }).update({ status: 'abandoned', ended_at: new Date().toISOString(), error: 'the process ended during the run' });
}

export async function listRuns(app: App, opts: { job?: string; limit?: number } = {}): Promise<RunRecord[]> {
  const rows = (await app.hub
    .knex(T.run)
    .modify((b) => {
      if (opts.job) b.where({ job: opts.job });
    })
    .orderBy('id', 'desc')
    .limit(opts.limit ?? 20)) as { id: number; job: string; status: string; dry_run: unknown; started_at: string; ended_at: string | null; stats: string | null; error: string | null }[];
  return rows.map((r) => ({
    id: Number(r.id),
    job: r.job,
    status: r.status as RunRecord['status'],
    dryRun: Boolean(r.dry_run),
    startedAt: r.started_at,
    endedAt: r.ended_at,
    stats: r.stats ? (JSON.parse(r.stats) as Partial<RunReport>) : null,
    error: r.error,
  }));
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

/** One line per configured job: last run, open conflicts, parked records, lag, checkpoints. */
export async function syncStatus(app: App): Promise<JobStatus[]> {
  const knex = app.hub.knex;
  const out: JobStatus[] = [];
  for (const [job, cfg] of Object.entries(app.config.sync.jobs)) {
    const [last] = await listRuns(app, { job, limit: 1 });
    const lastOk = (await knex(T.run).where({ job }).whereIn('status', ['ok', 'partial']).orderBy('id', 'desc').first()) as { ended_at: string; stats: string | null } | undefined;
    const conflicts = await knex(T.conflict).where({ job, status: 'open' }).count({ n: '*' });
    const parked = await knex(T.parked).where({ job, status: 'parked' }).count({ n: '*' });
    const lastStats = lastOk?.stats ? (JSON.parse(lastOk.stats) as Partial<RunReport>) : null;
    out.push({
      job,
      entity: cfg.entity,
      sources: cfg.sources,
      direction: cfg.direction,
      schedule: cfg.schedule ?? null,
      lastRun: last ?? null,
      lastSuccessAt: lastOk?.ended_at ?? null,
      running: last?.status === 'running',
      openConflicts: Number(conflicts[0]?.n ?? 0),
      parked: Number(parked[0]?.n ?? 0),
      lagSeconds: lastStats?.lagSeconds ?? null,
      checkpoints: (await listCheckpoints(knex, job)).map(({ source, value, updatedAt }) => ({ source, value, updatedAt })),
    });
  }
  return out;
}

function statsOf(report: RunReport): Partial<RunReport> {
  // The plan can be large and is only for dry runs, which are not recorded anyway.
  const { plan: _plan, ...rest } = report;
  return rest;
}

function idOf(v: unknown): number {
  if (typeof v === 'object' && v !== null && 'id' in v) return Number((v as { id: unknown }).id);
  return Number(v);
}
