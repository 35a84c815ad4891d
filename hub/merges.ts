/**
 * Merge candidates (crm_merge_candidate: pairs of golden records the match rules think are one)
 * and the merge log (crm_merge: every merge with the snapshot needed to undo it).
 */
import type { Knex } from 'knex';
import { stableStringify } from '../model/values.js';
import { rowReader } from './rows.js';
import { SYSTEM_TABLES as T } from './tables.js';

type Q = Knex | Knex.Transaction;

export interface CandidateRow {
  id: number;
  entity: string;
  gid_a: string;
  gid_b: string;
  score: number;
  rule: string;
  reason: string;
  status: string;
  created_at: string;
  decided_at: string | null;
  decided_by: string | null;
}

export interface CandidateProposal {
  gidA: string;
  gidB: string;
  score: number;
  rule: string;
  reason: string;
}

export interface MergeLogRow {
  id: number;
  entity: string;
  survivor: string;
  merged: string;
  /** JSON; null when not read (listMerges). */
  snapshot: string | null;
  at: string;
  by: string;
  undoneAt: string | null;
}

export const toCandidate: (r: Record<string, unknown>) => CandidateRow = rowReader({
  id: 'number',
  entity: 'text',
  gid_a: 'text',
  gid_b: 'text',
  score: 'number',
  rule: 'text',
  reason: 'text',
  status: 'text',
  created_at: 'text',
  decided_at: 'text?',
  decided_by: 'text?',
});

/** Two candidate rows alike, scores at the precision PostgreSQL's float4 keeps. */
export function sameCandidate(a: CandidateRow, b: CandidateRow): boolean {
  return stableStringify({ ...a, score: Math.round(a.score * 1e6) }) === stableStringify({ ...b, score: Math.round(b.score * 1e6) });
}

const toMergeLog: (r: Record<string, unknown>) => MergeLogRow = rowReader({
  id: 'number',
  entity: 'text',
  survivor: 'text',
  merged: 'text',
  snapshot: 'text?',
  at: 'text',
  by: 'text',
  undoneAt: ['undone_at', 'text?'],
});

const idOf = (v: unknown): number => Number(typeof v === 'object' && v !== null ? (v as { id: unknown }).id : v);

export class MergeStore {
  // ------------------------------------------------------------------ candidates

  /** Record candidate pairs; a pair already recorded (whatever its status) is left alone. */
  async propose(q: Q, entity: string, pairs: readonly CandidateProposal[], at = new Date().toISOString()): Promise<void> {
    for (const c of pairs) {
      await q(T.mergeCandidate)
        .insert({ entity, gid_a: c.gidA, gid_b: c.gidB, score: c.score, rule: c.rule, reason: c.reason, status: 'open', created_at: at, decided_at: null, decided_by: null })
        .onConflict(['entity', 'gid_a', 'gid_b'])
        .ignore();
    }
  }

  /** New score, rule and reason for an open pair. */
  async rescore(q: Q, entity: string, c: CandidateProposal): Promise<void> {
    await q(T.mergeCandidate).where({ entity, gid_a: c.gidA, gid_b: c.gidB }).update({ score: c.score, rule: c.rule, reason: c.reason });
  }

  /** A person's (or a merge's) decision about a candidate. */
  async decide(q: Q, id: number, status: string, actor: string, at: string): Promise<void> {
    await q(T.mergeCandidate).where({ id }).update({ status, decided_at: at, decided_by: actor });
  }

  /** Put a candidate row back as it was (an unmerge). */
  async restoreCandidate(q: Q, row: CandidateRow): Promise<void> {
    const { id, ...rest } = row;
    await q(T.mergeCandidate).where({ id }).update(rest);
  }

  async candidate(q: Q, id: number): Promise<CandidateRow | null> {
    const row = (await q(T.mergeCandidate).where({ id }).first()) as Record<string, unknown> | undefined;
    return row ? toCandidate(row) : null;
  }

  /** Candidates of an entity, optionally only those naming `gid`, in id order. */
  async candidates(q: Q, entity: string, gid?: string): Promise<CandidateRow[]> {
    const b = q(T.mergeCandidate).where({ entity }).orderBy('id');
    if (gid !== undefined) b.where((w) => w.where('gid_a', gid).orWhere('gid_b', gid));
    return ((await b) as Record<string, unknown>[]).map(toCandidate);
  }

  /** Candidates best score first, filtered. */
  async listCandidates(q: Q, opts: { entity: string; status?: string; limit?: number; offset?: number; ids?: readonly number[] }): Promise<CandidateRow[]> {
    const b = q(T.mergeCandidate).where({ entity: opts.entity }).orderBy([{ column: 'score', order: 'desc' }, { column: 'id' }]);
    if (opts.status !== undefined && opts.status !== 'all') b.where({ status: opts.status });
    if (opts.ids) b.whereIn('id', [...opts.ids]);
    if (opts.limit !== undefined) b.limit(opts.limit);
    if (opts.offset !== undefined) b.offset(opts.offset);
    return ((await b) as Record<string, unknown>[]).map(toCandidate);
  }

  // ------------------------------------------------------------------ merge log

  /** Log a merge; returns its id. */
  async logMerge(q: Q, entry: { entity: string; survivor: string; merged: string; snapshot: unknown; at: string; by: string }): Promise<number> {
    const [id] = (await q(T.merge).insert({ ...entry, snapshot: JSON.stringify(entry.snapshot), undone_at: null }, ['id'])) as unknown[];
    return idOf(id);
  }

  async markUndone(q: Q, id: number, at: string): Promise<void> {
    await q(T.merge).where({ id }).update({ undone_at: at });
  }

  async merge(q: Q, id: number): Promise<MergeLogRow | null> {
    const row = (await q(T.merge).where({ id }).first()) as Record<string, unknown> | undefined;
    return row ? toMergeLog(row) : null;
  }

  /** The latest merge of `merged` not undone yet. */
  async latestMergeOf(q: Q, entity: string, merged: string): Promise<MergeLogRow | null> {
    const row = (await q(T.merge).where({ entity, merged }).whereNull('undone_at').orderBy('id', 'desc').first()) as Record<string, unknown> | undefined;
    return row ? toMergeLog(row) : null;
  }

  /** A later merge (not undone) that undoing `mergeId` would break: one that merged either record away, or into the merged one. */
  async dependentMerge(q: Q, entity: string, mergeId: number, survivor: string, merged: string): Promise<MergeLogRow | null> {
    const row = (await q(T.merge)
      .where({ entity })
      .where('id', '>', mergeId)
      .whereNull('undone_at')
      .where((w) => w.where('merged', survivor).orWhere('merged', merged).orWhere('survivor', merged))
      .orderBy('id', 'desc')
      .first()) as Record<string, unknown> | undefined;
    return row ? toMergeLog(row) : null;
  }

  /** Records merged into `survivor` after `mergeId` and still merged. */
  async mergedIntoAfter(q: Q, entity: string, survivor: string, mergeId: number): Promise<string[]> {
    return ((await q(T.merge).where({ entity, survivor }).where('id', '>', mergeId).whereNull('undone_at').orderBy('id').pluck('merged')) as unknown[]).map(String);
  }

  /** Merges of an entity, newest first; `gid` limits them to those involving that record. */
  async listMerges(q: Q, opts: { entity: string; gid?: string; includeUndone?: boolean }): Promise<MergeLogRow[]> {
    const b = q(T.merge).where({ entity: opts.entity }).select('id', 'entity', 'survivor', 'merged', 'at', 'by', 'undone_at').orderBy('id', 'desc');
    if (opts.gid) {
      const gid = opts.gid;
      b.where((w) => w.where('survivor', gid).orWhere('merged', gid));
    }
    if (!opts.includeUndone) b.whereNull('undone_at');
    return ((await b) as Record<string, unknown>[]).map(toMergeLog);
  }
}
