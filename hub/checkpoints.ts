/**
 * Capture positions per (job, source), stored in crm_checkpoint inside the same transaction as the
 * data they cover, so a checkpoint never runs ahead of a durable write.
 *
 * Two kinds:
 * - a source's: the driver's opaque checkpoint plus whether a full-scan snapshot is in progress;
 * - the hub's (source "@hub"): the highest hub `_seq` the push has dealt with.
 */
import type { Knex } from 'knex';
import { SYSTEM_TABLES as T } from './tables.js';

/** Source names are letters, digits, _ and -, so this can never clash with one. */
export const HUB_CHECKPOINT = '@hub';

/** A source's checkpoint; `P` is the connector's position, opaque to the hub (stored as JSON). */
export interface SourceCheckpoint<P = unknown> {
  /** The connector's position; null before the first page. */
  position: P | null;
  /** A hash snapshot is half read: its seen keys are in crm_sync_seen. */
  inScan: boolean;
  /** Set when the first complete pass over the source has finished (the initial load). */
  loadedAt: string | null;
  /** The key columns' types when the position was taken (a change of type stops the pull). */
  keyTypes?: Record<string, string>;
}

type Q = Knex | Knex.Transaction;

export async function readSourceCheckpoint<P>(q: Q, job: string, source: string): Promise<SourceCheckpoint<P>> {
  const row = (await q(T.checkpoint).where({ job, source }).first()) as { value: string } | undefined;
  if (!row) return { position: null, inScan: false, loadedAt: null };
  const parsed = JSON.parse(row.value) as Partial<SourceCheckpoint<P>>;
  return { position: parsed.position ?? null, inScan: parsed.inScan ?? false, loadedAt: parsed.loadedAt ?? null, ...(parsed.keyTypes ? { keyTypes: parsed.keyTypes } : {}) };
}

export async function writeSourceCheckpoint<P>(q: Q, job: string, source: string, cp: SourceCheckpoint<P>): Promise<void> {
  await upsert(q, job, source, JSON.stringify(cp));
}

export async function readHubCheckpoint(q: Q, job: string): Promise<number> {
  const row = (await q(T.checkpoint).where({ job, source: HUB_CHECKPOINT }).first()) as { value: string } | undefined;
  if (!row) return 0;
  return Number((JSON.parse(row.value) as { seq?: number }).seq ?? 0);
}

export async function writeHubCheckpoint(q: Q, job: string, seq: number): Promise<void> {
  await upsert(q, job, HUB_CHECKPOINT, JSON.stringify({ seq }));
}

export async function listCheckpoints(q: Q, job?: string): Promise<{ job: string; source: string; value: unknown; updatedAt: string }[]> {
  const rows = (await q(T.checkpoint)
    .modify((b) => {
      if (job) b.where({ job });
    })
    .orderBy(['job', 'source'])) as { job: string; source: string; value: string; updated_at: string }[];
  return rows.map((r) => ({ job: r.job, source: r.source, value: JSON.parse(r.value) as unknown, updatedAt: r.updated_at }));
}

async function upsert(q: Q, job: string, source: string, value: string): Promise<void> {
  await q(T.checkpoint)
    .insert({ job, source, value, updated_at: new Date().toISOString() })
    .onConflict(['job', 'source'])
    .merge(['value', 'updated_at']);
}
