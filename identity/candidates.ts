/**
 * Merge candidates: pairs of live golden records the match rules think are one customer.
 *
 * `findCandidates` runs the matcher over the hub's live records through its blocking index (each
 * record is looked up, then added, so every pair is considered once and never all pairs) and keeps
 * the pairs in crm_merge_candidate, one row per pair (gid_a < gid_b). A pair a person rejected is
 * never re-opened; an open pair is refreshed with the latest score and reason. Nothing is merged
 * unless `autoMergeSure` is set, which merges the sure matches (same credit code); the survivor
 * is chosen by `rankSurvivors` (docs/identity.md).
 */
import { CrmlinkError, ValidationError } from '../core/errors.js';
import { nowIso, type Hub } from '../hub/hub.js';
import { ENTITY_SYSTEM_COLUMNS as C, SYSTEM_TABLES as T } from '../hub/tables.js';
import type { CrmRecord, EntityName } from '../model/entities.js';
import type { MergePolicies, SurvivorshipRules } from './golden.js';
import { DEFAULT_RULES, MatchIndex, type InvalidCode, type Match, type MatchInput, type MatchRule, type MatchThresholds } from './matcher.js';
import { mergeRecords, type CandidateRow, type MergeInput, type MergeResult } from './record-merge.js';

import { CANDIDATE_STATUSES, type CandidateStatus } from './candidate-status.js';
export { CANDIDATE_STATUSES, type CandidateStatus };

export interface FindCandidatesOptions {
  /** Merge sure matches instead of only listing them (survivor: see rankSurvivors). */
  autoMergeSure?: boolean;
  /** Recorded on automatic merges; default `auto`. */
  actor?: string;
  /** Survivorship for automatic merges. */
  survivorship?: SurvivorshipRules;
  /** Conflict policies and job for automatic merges (identityConfig); default manual. */
  policies?: MergePolicies;
  job?: string | null;
  /** See MatchIndexOptions.maxSharedContact. */
  maxSharedContact?: number;
  /** Link and candidate thresholds (default DEFAULT_THRESHOLDS). */
  thresholds?: Partial<MatchThresholds>;
}

export interface FindCandidatesResult {
  /** Live records examined. */
  records: number;
  /** Matching pairs found (sure and probable). */
  matches: number;
  /** New candidate rows. */
  inserted: number;
  /** Open candidates whose score, rule or reason was refreshed. */
  updated: number;
  /** Pairs left alone because a person rejected them (or they were already decided). */
  skipped: number;
  /** Automatic merges (autoMergeSure). */
  merged: MergeResult[];
  /** Invalid credit codes, with the reason; never used to match. */
  invalid: InvalidCode[];
}

/** The fields shown side by side for each record of a pair. */
export interface CandidateSide {
  id: string;
  exists: boolean;
  mergedInto: string | null;
  deleted: boolean;
  values: CrmRecord;
  /** Source records linked to it. */
  sources: { source: string; sourceKey: string }[];
}

export interface CandidateView {
  id: number;
  entity: string;
  score: number;
  rule: string;
  reason: string;
  status: string;
  createdAt: string;
  decidedAt: string | null;
  decidedBy: string | null;
  a: CandidateSide;
  b: CandidateSide;
}

/** Key fields displayed for a candidate pair (those the entity has). */
export const KEY_FIELDS: readonly string[] = ['name', 'code', 'creditCode', 'phone', 'email', 'address', 'city', 'province', 'status'];

const MATCH_FIELDS = ['name', 'creditCode', 'phone', 'email'] as const;

/** Groups of ids joined by pairs (connected components), each group and the groups in id order. */
export function connectedGroups(pairs: readonly (readonly [string, string])[]): string[][] {
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    let r = x;
    while (parent.get(r) !== r) r = parent.get(r) as string;
    parent.set(x, r);
    return r;
  };
  for (const [a, b] of pairs) {
    if (!parent.has(a)) parent.set(a, a);
    if (!parent.has(b)) parent.set(b, b);
    const [ra, rb] = [find(a), find(b)];
    if (ra !== rb) parent.set(ra < rb ? rb : ra, ra < rb ? ra : rb);
  }
  const groups = new Map<string, string[]>();
  for (const id of [...parent.keys()].sort()) {
    const r = find(id);
    const g = groups.get(r);
    if (g) g.push(id);
    else groups.set(r, [id]);
  }
  return [...groups.values()].sort((x, y) => (x[0] < y[0] ? -1 : 1));
}

/**
 * Records in the order they should survive an automatic merge, best first: the record linked to
 * the most source keys (it holds the most of the customer), then the one crmlink has known the
 * longest (the earliest source link), then the smallest id. It never depends on the order the
 * records were found in.
 */
export async function rankSurvivors(hub: Hub, entity: EntityName, gids: readonly string[]): Promise<string[]> {
  const stats = new Map<string, { links: number; first: string }>();
  for (let i = 0; i < gids.length; i += 500) {
    const rows = (await hub
      .knex(T.xref)
      .where({ entity })
      .whereIn('gid', gids.slice(i, i + 500))
      .groupBy('gid')
      .select('gid')
      .count({ links: '*' })
      .min({ first: 'linked_at' })) as { gid: string; links: number | string; first: string | null }[];
    for (const r of rows) stats.set(r.gid, { links: Number(r.links), first: r.first ?? '' });
  }
  const of = (g: string) => stats.get(g) ?? { links: 0, first: '' };
  return [...gids].sort((x, y) => {
    const [a, b] = [of(x), of(y)];
    if (a.links !== b.links) return b.links - a.links;
    // a record with no link at all has no known age: it comes after every linked one
    if (a.first !== b.first) return a.first === '' ? 1 : b.first === '' ? -1 : a.first < b.first ? -1 : 1;
    return x < y ? -1 : x > y ? 1 : 0;
  });
}

function orderPair(x: string, y: string): [string, string] {
  return x < y ? [x, y] : [y, x];
}

export async function findCandidates(
  hub: Hub,
  entity: EntityName = 'Customer',
  rules: readonly MatchRule[] = DEFAULT_RULES,
  options: FindCandidatesOptions = {},
): Promise<FindCandidatesResult> {
  const have = new Set(hub.fields(entity).map((f) => f.name));
  const cols = MATCH_FIELDS.filter((f) => have.has(f));
  if (!cols.some((c) => rules.some((r) => r.rule === c))) {
    throw new ValidationError(`${entity} has none of the fields the match rules use (${rules.map((r) => r.rule).join(', ')})`, { entity });
  }
  const found = await matchLiveRecords(hub, entity, cols, rules, options);
  const kept = await keepCandidates(hub, entity, found.matches, options.autoMergeSure ?? false);
  // Automatic merges of sure matches: each group of records joined by sure matches folds into
  // one survivor chosen by rankSurvivors, whatever order the matches were found in.
  const merged: MergeResult[] = [];
  for (const group of connectedGroups(kept.sure)) {
    const [survivor, ...rest] = await rankSurvivors(hub, entity, group);
    for (const gone of rest) {
      merged.push(await mergeRecords(hub, { entity, survivor, merged: gone, actor: options.actor ?? 'auto', rules: options.survivorship, policies: options.policies, job: options.job }));
    }
  }
  return { records: found.records, matches: found.matches.length, inserted: kept.inserted, updated: kept.updated, skipped: kept.skipped, merged, invalid: found.invalid };
}

/** Every pair of live records the rules match, through the blocking index (each record looked up, then added). */
async function matchLiveRecords(
  hub: Hub,
  entity: EntityName,
  cols: readonly (typeof MATCH_FIELDS)[number][],
  rules: readonly MatchRule[],
  options: FindCandidatesOptions,
): Promise<{ records: number; matches: Match[]; invalid: InvalidCode[] }> {
  const index = new MatchIndex(rules, { thresholds: options.thresholds, ...(options.maxSharedContact === undefined ? {} : { maxSharedContact: options.maxSharedContact }) });
  const out = { records: 0, matches: [] as Match[], invalid: [] as InvalidCode[] };
  let lastId = '';
  for (;;) {
    const page = (await hub
      .knex(hub.table(entity))
      .select(C.id, ...cols)
      .where(C.deleted, false)
      .whereNull(C.mergedInto)
      .where(C.id, '>', lastId)
      .orderBy(C.id)
      .limit(5000)) as Record<string, unknown>[];
    if (page.length === 0) break;
    for (const r of page) {
      const rec: MatchInput = { id: String(r[C.id]) };
      for (const c of cols) rec[c] = (r[c] as string | null) ?? null;
      const found = index.find(rec);
      if (found.invalid) out.invalid.push(found.invalid);
      out.matches.push(...found.matches);
      index.add(rec);
      out.records++;
    }
    lastId = String(page[page.length - 1][C.id]);
  }
  return out;
}

/** New pairs recorded, open ones refreshed, decided ones left alone; the sure pairs to merge. */
async function keepCandidates(hub: Hub, entity: EntityName, matches: readonly Match[], autoMergeSure: boolean): Promise<{ inserted: number; updated: number; skipped: number; sure: [string, string][] }> {
  const existing = new Map<string, CandidateRow>();
  for (const c of await hub.store.merges.candidates(hub.knex, entity)) existing.set(`${c.gid_a}|${c.gid_b}`, c);
  const out = { inserted: 0, updated: 0, skipped: 0, sure: [] as [string, string][] };
  const now = nowIso();
  await hub.store.transaction(async (trx) => {
    for (const m of matches) {
      const [a, b] = orderPair(m.a, m.b);
      const key = `${a}|${b}`;
      const cur = existing.get(key);
      if (m.certainty === 'sure' && autoMergeSure && cur?.status !== 'rejected') out.sure.push([a, b]);
      const proposal = { gidA: a, gidB: b, score: m.score, rule: m.rule, reason: m.reason };
      if (!cur) {
        await hub.store.merges.propose(trx, entity, [proposal], now);
        existing.set(key, { id: 0, entity, gid_a: a, gid_b: b, score: m.score, rule: m.rule, reason: m.reason, status: 'open', created_at: now, decided_at: null, decided_by: null });
        out.inserted++;
      } else if (cur.status !== 'open') {
        out.skipped++;
      } else if (Math.abs(cur.score - m.score) > 1e-6 || cur.rule !== m.rule || cur.reason !== m.reason) {
        await hub.store.merges.rescore(trx, entity, proposal);
        out.updated++;
      }
    }
  });
  return out;
}

/** Candidates with both records' key fields, best score first. */
export async function listCandidates(
  hub: Hub,
  opts: { entity?: EntityName; status?: CandidateStatus | 'all'; limit?: number; offset?: number; ids?: readonly number[] } = {},
): Promise<CandidateView[]> {
  const entity = opts.entity ?? 'Customer';
  const cands = await hub.store.merges.listCandidates(hub.knex, { ...opts, entity, status: opts.status ?? 'open' });

  const gids = [...new Set(cands.flatMap((c) => [c.gid_a, c.gid_b]))];
  const records = await hub.getMany(entity, gids);
  const keys = new Map<string, { source: string; sourceKey: string }[]>();
  for (let i = 0; i < gids.length; i += 500) {
    const xrefs = (await hub
      .knex(T.xref)
      .where({ entity })
      .whereIn('gid', gids.slice(i, i + 500))
      .orderBy(['source', 'source_key'])) as { gid: string; source: string; source_key: string }[];
    for (const x of xrefs) keys.set(x.gid, [...(keys.get(x.gid) ?? []), { source: x.source, sourceKey: x.source_key }]);
  }
  const shown = KEY_FIELDS.filter((f) => hub.fields(entity).some((mf) => mf.name === f));
  const side = (gid: string): CandidateSide => {
    const r = records.get(gid);
    const values: CrmRecord = {};
    for (const f of shown) values[f] = r?.values[f] ?? null;
    return { id: gid, exists: r !== undefined, mergedInto: r?.mergedInto ?? null, deleted: r?.deleted ?? false, values, sources: keys.get(gid) ?? [] };
  };
  return cands.map((c) => ({
    id: c.id,
    entity: c.entity,
    score: Math.round(c.score * 1e6) / 1e6,
    rule: c.rule,
    reason: c.reason,
    status: c.status,
    createdAt: c.created_at,
    decidedAt: c.decided_at,
    decidedBy: c.decided_by,
    a: side(c.gid_a),
    b: side(c.gid_b),
  }));
}

/** Mark a candidate as not the same record; findCandidates will not propose the pair again. */
export async function rejectCandidate(hub: Hub, id: number, actor: string): Promise<CandidateView> {
  await hub.store.transaction(async (trx) => {
    const c = await hub.store.merges.candidate(trx, id);
    if (!c) throw new CrmlinkError('NOT_FOUND', `merge candidate ${id} does not exist`, { key: String(id), table: T.mergeCandidate });
    if (c.status === 'rejected') return;
    if (c.status !== 'open') {
      throw new ValidationError(`merge candidate ${id} (${c.gid_a} / ${c.gid_b}) is ${c.status}, only an open candidate can be rejected`, {
        entity: c.entity,
        key: String(id),
        status: c.status,
      });
    }
    await hub.store.merges.decide(trx, id, 'rejected', actor, nowIso());
    await hub.store.audit.record(trx, {
      actor,
      action: 'reject_candidate',
      entity: c.entity,
      gid: c.gid_a,
      before: { candidate: id, gidA: c.gid_a, gidB: c.gid_b, status: c.status },
      after: { candidate: id, status: 'rejected' },
    });
  });
  const entity = ((await hub.store.merges.candidate(hub.knex, id))?.entity ?? 'Customer') as EntityName;
  const [view] = await listCandidates(hub, { status: 'all', ids: [id], entity });
  return view;
}

/**
 * Accept an open candidate by merging its pair. The survivor is `survivor` when given (one of the
 * pair), else the older record (gid_a).
 */
export async function acceptCandidate(
  hub: Hub,
  id: number,
  actor: string,
  opts: { survivor?: string; rules?: SurvivorshipRules } & Pick<MergeInput, 'policies' | 'job' | 'choose' | 'dryRun'> = {},
): Promise<MergeResult> {
  const c = await hub.store.merges.candidate(hub.knex, id);
  if (!c) throw new CrmlinkError('NOT_FOUND', `merge candidate ${id} does not exist`, { key: String(id), table: T.mergeCandidate });
  if (c.status !== 'open') {
    throw new ValidationError(`merge candidate ${id} (${c.gid_a} / ${c.gid_b}) is ${c.status}, only an open candidate can be accepted`, {
      entity: c.entity,
      key: String(id),
      status: c.status,
    });
  }
  const survivor = opts.survivor ?? c.gid_a;
  if (survivor !== c.gid_a && survivor !== c.gid_b) {
    throw new ValidationError(`survivor ${survivor} is not one of candidate ${id}'s records (${c.gid_a}, ${c.gid_b})`, { key: String(id), survivor });
  }
  const merged = survivor === c.gid_a ? c.gid_b : c.gid_a;
  return mergeRecords(hub, { entity: c.entity as EntityName, survivor, merged, actor, rules: opts.rules, policies: opts.policies, job: opts.job, choose: opts.choose, dryRun: opts.dryRun });
}
