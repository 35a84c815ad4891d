/**
 * Run history (crm_run): what ran when, how it ended and what it moved. The shape of a run's
 * report belongs to the sync engine; the hub stores it as JSON.
 */
import type { Knex } from 'knex';
import { SYSTEM_TABLES as T } from './tables.js';

type Q = Knex | Knex.Transaction;

/** A run as recorded; `S` is the shape of its stats (the sync engine's report). */
export interface RunRecord<S = unknown> {
  id: number;
  job: string;
  /** The run's status, or running / abandoned. */
  status: string;
  dryRun: boolean;
  startedAt: string;
  endedAt: string | null;
  stats: S | null;
  error: string | null;
}

/** How a run ended, as the hub records it. */
export interface RunOutcome {
  status: string;
  endedAt: string;
  /** The run's report (stored as JSON). */
  stats: unknown;
  error: string | null;
}

/** A run starts as running; a scheduled one records its tick now, so a run cut short still shows it. */
export async function startRun(q: Q, job: string, startedAt: string, tick?: string): Promise<number> {
  const inserted = (await q(T.run).insert({ job, status: 'running', dry_run: false, started_at: startedAt, stats: tick ? JSON.stringify({ tick }) : null }, ['id'])) as unknown[];
  return idOf(inserted[0]);
}

export async function finishRun(q: Q, id: number, outcome: RunOutcome): Promise<void> {
  await q(T.run)
    .where({ id })
    .update({ status: outcome.status, ended_at: outcome.endedAt, stats: JSON.stringify(outcome.stats), error: outcome.error });
}

/** A skipped tick (lock held elsewhere, tick already run) is history too, with the tick it was for. */
export async function recordSkipped(q: Q, job: string, reason: string, at: string, tick?: string): Promise<number> {
  const inserted = (await q(T.run).insert(
    { job, status: 'skipped', dry_run: false, started_at: at, ended_at: at, error: reason, stats: JSON.stringify(tick ? { reason, tick } : { reason }) },
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

/** Recent runs, newest first (or the one run `id`). */
export async function readRuns<S>(q: Q, opts: { job?: string; limit?: number; id?: number } = {}): Promise<RunRecord<S>[]> {
  const rows = (await q(T.run)
    .modify((b) => {
      if (opts.job) b.where({ job: opts.job });
      if (opts.id !== undefined) b.where({ id: opts.id });
    })
    .orderBy('id', 'desc')
    .limit(opts.limit ?? 20)) as { id: number; job: string; status: string; dry_run: unknown; started_at: string; ended_at: string | null; stats: string | null; error: string | null }[];
  return rows.map((r) => ({
    id: Number(r.id),
    job: r.job,
    status: r.status,
    dryRun: Boolean(r.dry_run),
    startedAt: r.started_at,
    endedAt: r.ended_at,
    stats: r.stats ? (JSON.parse(r.stats) as S) : null,
    error: r.error,
  }));
}

/** The last run of a job that ended ok or partial. */
export async function lastSuccessfulRun<S>(q: Q, job: string): Promise<{ endedAt: string; stats: S | null } | null> {
  const row = (await q(T.run).where({ job }).whereIn('status', ['ok', 'partial']).orderBy('id', 'desc').first()) as { ended_at: string; stats: string | null } | undefined;
  return row ? { endedAt: row.ended_at, stats: row.stats ? (JSON.parse(row.stats) as S) : null } : null;
}

/** Open conflicts and parked records of a job. */
export async function pendingCounts(q: Q, job: string): Promise<{ openConflicts: number; parked: number }> {
  const conflicts = await q(T.conflict).where({ job, status: 'open' }).count({ n: '*' });
  const parked = await q(T.parked).where({ job, status: 'parked' }).count({ n: '*' });
  return { openConflicts: Number(conflicts[0]?.n ?? 0), parked: Number(parked[0]?.n ?? 0) };
}

function idOf(v: unknown): number {
  if (typeof v === 'object' && v !== null && 'id' in v) return Number((v as { id: unknown }).id);
  return Number(v);
}
