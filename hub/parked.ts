/**
 * Parked records: rows that failed permanently (a constraint in the target, a value the mapping
 * cannot transform, a reference not synced yet). Each is kept with its error until retried, and
 * the rest of its batch goes on. One parked entry per (job, source, record, direction): parking the
 * same record again counts an attempt instead of adding a row.
 */
import type { Knex } from 'knex';
import { CrmlinkError } from '../core/errors.js';
import { rowReader } from './rows.js';
import { SYSTEM_TABLES as T } from './tables.js';

type Q = Knex | Knex.Transaction;

export interface ParkInput {
  job: string;
  entity: string;
  source: string;
  sourceKey: string | null;
  gid: string | null;
  direction: 'pull' | 'push';
  error: unknown;
  payload?: unknown;
}

export interface ParkedRecord extends Pick<ParkInput, 'job' | 'entity' | 'source' | 'sourceKey' | 'gid' | 'direction'> {
  id: number;
  code: string;
  message: string;
  payload: unknown;
  attempts: number;
  status: 'parked' | 'resolved';
  createdAt: string;
  updatedAt: string;
}

export async function park(q: Q, p: ParkInput): Promise<void> {
  const now = new Date().toISOString();
  const code = p.error instanceof CrmlinkError ? p.error.code : 'INTERNAL';
  const message = p.error instanceof Error ? p.error.message : String(p.error);
  const payload = p.payload === undefined ? null : JSON.stringify(p.payload);
  const match = q(T.parked).where({ job: p.job, source: p.source, direction: p.direction, status: 'parked' });
  if (p.direction === 'pull') match.where({ source_key: p.sourceKey });
  else match.where({ gid: p.gid });
  const existing = (await match.first()) as { id: number; attempts: number } | undefined;
  if (existing) {
    await q(T.parked)
      .where({ id: existing.id })
      .update({ code, message, payload, attempts: Number(existing.attempts) + 1, updated_at: now, source_key: p.sourceKey, gid: p.gid });
    return;
  }
  await q(T.parked).insert({
    job: p.job,
    entity: p.entity,
    source: p.source,
    source_key: p.sourceKey,
    gid: p.gid,
    direction: p.direction,
    code,
    message,
    payload,
    attempts: 1,
    status: 'parked',
    created_at: now,
    updated_at: now,
  });
}

/** A record that went through after all: its parked entry is done. */
export async function unparkKeys(q: Q, job: string, source: string, direction: 'pull' | 'push', keys: readonly string[]): Promise<void> {
  const column = direction === 'pull' ? 'source_key' : 'gid';
  if (keys.length === 0) return;
  // Most pages have nothing parked (always so on a first load): one indexed probe instead of
  // an update per 500 keys.
  const any = await q(T.parked).where({ job, source, direction, status: 'parked' }).first('id');
  if (!any) return;
  for (let i = 0; i < keys.length; i += 500) {
    await q(T.parked)
      .where({ job, source, direction, status: 'parked' })
      .whereIn(column, keys.slice(i, i + 500))
      .update({ status: 'resolved', updated_at: new Date().toISOString() });
  }
}

export async function readParked(q: Q, opts: { job?: string; status?: 'parked' | 'resolved' | 'all'; limit?: number; ids?: number[]; gids?: readonly string[] } = {}): Promise<ParkedRecord[]> {
  const rows = (await q(T.parked)
    .modify((b) => {
      if (opts.job) b.where({ job: opts.job });
      const status = opts.status ?? 'parked';
      if (status !== 'all') b.where({ status });
      if (opts.ids) b.whereIn('id', opts.ids);
      if (opts.gids) b.whereIn('gid', [...opts.gids]);
    })
    .orderBy('id')
    .limit(opts.limit ?? 10_000)) as Record<string, unknown>[];
  return rows.map((r) => readParkedRow(r) as ParkedRecord);
}

const readParkedRow = rowReader({
  id: 'number',
  job: 'text',
  entity: 'text',
  source: 'text',
  sourceKey: ['source_key', 'text?'],
  gid: 'text?',
  direction: 'text',
  code: 'text',
  message: 'text',
  payload: 'json?',
  attempts: 'number',
  status: 'text',
  createdAt: ['created_at', 'text'],
  updatedAt: ['updated_at', 'text'],
});
