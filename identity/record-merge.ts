/**
 * Merge and unmerge of golden records (customers, in practice).
 *
 * A merge folds `merged` into `survivor` in one hub transaction: every source key of `merged`
 * moves to the survivor in crm_xref, every replicated child (contacts, orders, invoices, payments,
 * opportunities, activities, approvals) is re-pointed, the survivor's fields are recomputed by
 * survivorship (fields it lacks are filled from the merged record), and the merged record stays as
 * a redirect (`_merged_into = survivor`, not deleted) so `node(mergedId)` still resolves. Federated
 * children need nothing: they are read live through crm_xref, which now lists both records' keys.
 *
 * Everything the merge changes is snapshotted in crm_merge, so unmerge restores it. Unmerge undoes
 * exactly what the merge did: a value, xref row, child reference or provenance row is put back
 * when it still holds what the merge wrote; when it changed after the merge (a later sync or
 * edit), the newer state is kept and reported in the audit row. With nothing changed in between,
 * both records, their source keys, their children and their provenance return to their prior
 * state. The change-tracking columns (_version, _seq, _updated_at) move forward instead of back,
 * so change feeds and optimistic locking see the unmerge as a new change.
 */
import type { Knex } from 'knex';
import { CrmlinkError, ValidationError } from '../core/errors.js';
import { nowIso, type Hub, type HubRecord } from '../hub/hub.js';
import type { CandidateRow, MergeLogRow } from '../hub/merges.js';
import type { ProvenanceRow } from '../hub/provenance.js';
import { ENTITY_SYSTEM_COLUMNS as C } from '../hub/tables.js';
import type { XrefRow } from '../hub/xref.js';
import type { ConflictWrite } from '../hub/conflicts.js';
import type { FieldProvenance } from '../hub/provenance.js';
import type { SourceVersion } from '../hub/bases.js';
import { ENTITY_NAMES, MODEL, type CrmRecord, type CrmValue, type EntityName } from '../model/entities.js';
import { canonicalFieldValue, sameValue } from '../model/values.js';
import { sameCandidate } from '../hub/merges.js';
import { DEFAULT_SURVIVORSHIP, MANUAL_POLICIES, parseRule, recomputeGolden, type MergePolicies, type SurvivorshipRules } from './golden.js';

export type { CandidateRow } from '../hub/merges.js';
export type { XrefRow } from '../hub/xref.js';

/** A database row as stored (JSON-safe). */
export type RawValue = string | number | boolean | null;
export type RawRow = Record<string, RawValue>;

/** What crm_merge.snapshot holds: the state before and right after the merge. */
export interface MergeSnapshot {
  format: 1;
  entity: EntityName;
  survivor: { before: RawRow; after: RawRow };
  merged: { before: RawRow; after: RawRow };
  /** The merged record's xref rows before the merge (all moved to the survivor). */
  xref: XrefRow[];
  /** The survivor's provenance rows. */
  provenance: { before: ProvenanceRow[]; after: ProvenanceRow[] };
  /** Child rows whose ref field pointed at the merged record (re-pointed to the survivor). */
  children: { entity: EntityName; field: string; ids: string[] }[];
  /** Merge candidate rows the merge decided (the pair accepted, others about `merged` superseded). */
  candidates: { before: CandidateRow; after: CandidateRow }[];
  /** Open conflicts the merge raised (disagreements left to a person); unmerge closes those still open. */
  conflicts?: number[];
}

export interface MergeInput {
  entity?: EntityName;
  survivor: string;
  merged: string;
  /** Who asked (user id, `cli:<user>`, `auto`); recorded in crm_merge and the audit log. */
  actor: string;
  /**
   * Survivorship for fields the two records disagree on: a source order, `complete` or `hub`
   * decides; `newest` decides only on the sources' own change times. Default `newest`.
   */
  rules?: SurvivorshipRules;
  /** The job's conflict policies, for disagreements survivorship leaves open. Default: manual. */
  policies?: MergePolicies;
  /** Job the conflicts are filed under (identityConfig().job); default `merge`. */
  job?: string | null;
  /**
   * The person's choice per field: `survivor`, `merged`, or the name of the source whose value
   * should survive. A choice decides that field whatever the rules say.
   */
  choose?: Readonly<Record<string, string>>;
  /** Work everything out and return it, write nothing. */
  dryRun?: boolean;
}

/** What happened to one field of the survivor. */
export interface FieldOutcome {
  field: string;
  /** The survivor's value before the merge. */
  survivor: CrmValue;
  /** The merged record's value. */
  merged: CrmValue;
  /** The value after the merge. */
  value: CrmValue;
  /** The source the surviving value came from (its provenance), `hub` for a value edited in crmlink. */
  source: string | null;
  /**
   * same: both agree (or the merged record has none); filled: only the merged record had a value;
   * chosen: the person merging chose; rule: survivorship or the job's policy decided;
   * conflict: left open for a person (the survivor's value kept meanwhile, not pushed).
   */
  decision: 'same' | 'filled' | 'chosen' | 'rule' | 'conflict';
  reason: string;
}

/** What the next sync run will write to one source record because of the merge. */
export interface PlannedWrite {
  source: string;
  sourceKey: string;
  fields: Record<string, { from: CrmValue; to: CrmValue }>;
}

export interface SourceKey {
  source: string;
  sourceKey: string;
}

export interface MergeResult {
  mergeId: number;
  entity: EntityName;
  survivor: HubRecord;
  merged: HubRecord;
  /** Every source key now under the survivor. */
  sourceKeys: SourceKey[];
  /** Source keys moved from the merged record. */
  movedKeys: SourceKey[];
  /** Child rows re-pointed, per entity. */
  children: Partial<Record<EntityName, number>>;
  /** Fields of the survivor whose value changed. */
  changedFields: string[];
  /** Every field either record has a value for, with what survived and why. */
  fields: FieldOutcome[];
  /** Fields left as open conflicts. */
  conflicts: string[];
  /** What the next run pushes to each source record (fields with an open conflict are held back). */
  writes: PlannedWrite[];
  /** Nothing was written (MergeInput.dryRun); mergeId is 0. */
  dryRun: boolean;
}

export type UnmergeInput = {
  entity?: EntityName;
  actor: string;
  /**
   * Survivorship, used only when other records were merged into the survivor after this merge:
   * the survivor is then recomputed over them once this merge is undone.
   */
  rules?: SurvivorshipRules;
} & ({ mergeId: number; merged?: undefined } | { merged: string; mergeId?: undefined });

export interface UnmergeResult {
  mergeId: number;
  entity: EntityName;
  survivor: HubRecord;
  /** The merged record, standing on its own again. */
  restored: HubRecord;
  /** Changes made after the merge that unmerge kept rather than overwrite (empty normally). */
  kept: string[];
}

export interface MergeRow {
  id: number;
  entity: string;
  survivor: string;
  merged: string;
  at: string;
  by: string;
  undoneAt: string | null;
}

/** Fields of other entities that reference `entity` (e.g. Contact.customerId for Customer). */
export function referencingFields(entity: EntityName): { entity: EntityName; field: string }[] {
  const out: { entity: EntityName; field: string }[] = [];
  for (const e of ENTITY_NAMES) {
    for (const f of MODEL[e].fields) if (f.type === 'ref' && f.ref === entity) out.push({ entity: e, field: f.name });
  }
  return out;
}

/** Follow `_merged_into` to the record that stands for `gid` now (itself when not merged). */
export async function resolveMerged(hub: Hub, entity: EntityName, gid: string, trx: Knex | Knex.Transaction = hub.knex): Promise<string> {
  let id = gid;
  const seen = new Set<string>();
  for (;;) {
    const row = (await trx(hub.table(entity)).where(C.id, id).first(C.mergedInto)) as Record<string, unknown> | undefined;
    const next = row?.[C.mergedInto];
    if (typeof next !== 'string' || next === '') return id;
    if (seen.has(next)) throw new CrmlinkError('INTERNAL', `merge cycle at ${entity} ${next}`, { entity, key: gid });
    seen.add(id);
    id = next;
  }
}

/** Merges of an entity, newest first; `gid` limits them to those involving that record. */
export async function listMerges(hub: Hub, opts: { entity?: EntityName; gid?: string; includeUndone?: boolean } = {}): Promise<MergeRow[]> {
  const rows = await hub.store.merges.listMerges(hub.knex, { ...opts, entity: opts.entity ?? 'Customer' });
  return rows.map(({ snapshot: _snapshot, ...r }) => r);
}

// ---------------------------------------------------------------------------------------------
// Merge
// ---------------------------------------------------------------------------------------------

/** What a merge reads before it changes anything: the pair and everything it will touch. */
interface MergeBefore {
  survivor: RawRow;
  merged: RawRow;
  xref: XrefRow[];
  provenance: ProvenanceRow[];
  mergedProvenance: ProvenanceRow[];
  children: MergeSnapshot['children'];
  candidates: CandidateRow[];
}

/** Thrown inside a dry run's transaction to roll it back with the result. */
class DryRunRollback extends Error {
  constructor(readonly result: MergeResult) {
    super('dry run');
  }
}

export async function mergeRecords(hub: Hub, input: MergeInput): Promise<MergeResult> {
  const entity = input.entity ?? 'Customer';
  const { survivor, merged, actor } = input;
  if (survivor === merged) {
    throw new ValidationError(`cannot merge ${entity} ${merged} into itself`, { entity, key: merged, survivor, merged });
  }
  try {
    return await hub.store.transaction(async (trx) => {
      const result = await mergeInTransaction(hub, trx, entity, input);
      if (input.dryRun) throw new DryRunRollback({ ...result, mergeId: 0, dryRun: true });
      return result;
    });
  } catch (err) {
    if (err instanceof DryRunRollback) return err.result;
    throw err;
  }
}

async function mergeInTransaction(hub: Hub, trx: Knex.Transaction, entity: EntityName, input: MergeInput): Promise<MergeResult> {
  const { survivor, merged, actor } = input;
  const before = await readBeforeMerge(hub, trx, entity, survivor, merged);
  const now = nowIso();
  const sRecord = hub.fromRow(entity, before.survivor);
  const mRecord = hub.fromRow(entity, before.merged);
  // Decide every field before anything moves: the sources' own versions of both records.
  const versions = [
    ...(await hub.store.bases.versionsOf(trx, entity, survivor)).map((v) => ({ ...v, side: 'survivor' as const })),
    ...(await hub.store.bases.versionsOf(trx, entity, merged)).map((v) => ({ ...v, side: 'merged' as const })),
  ];
  const decided = decideFields(hub, entity, sRecord.values, mRecord.values, provenanceOf(before.provenance), provenanceOf(before.mergedProvenance), versions, input, now);

  await hub.store.xref.moveAll(trx, entity, merged, survivor);
  const moved = await repointChildren(hub, trx, before.children, merged, survivor, actor);
  // The merged record becomes a redirect.
  await hub.store.golden.write(trx, entity, [{ gid: merged, current: mRecord, patch: {}, mergedInto: survivor }], { actor, action: 'merge' });
  const patch: CrmRecord = {};
  const provenance: Record<string, FieldProvenance> = {};
  for (const o of decided.outcomes) {
    if (sameValue(o.value, o.survivor)) continue;
    patch[o.field] = o.value;
    const p = decided.provenance.get(o.field);
    if (p) provenance[o.field] = p;
  }
  await hub.store.golden.write(trx, entity, [{ gid: survivor, current: sRecord, patch, provenance }], { actor, action: 'merge' });
  const job = input.job ?? 'merge';
  const openBefore = new Set([...((await hub.store.conflicts.loadOpen(trx, entity, [survivor])).get(survivor)?.values() ?? [])].map((c) => c.id));
  await hub.store.conflicts.save(trx, job, entity, decided.conflicts, await hub.store.conflicts.loadOpen(trx, entity, [survivor]));
  const raised = [...((await hub.store.conflicts.loadOpen(trx, entity, [survivor])).get(survivor)?.values() ?? [])].map((c) => c.id).filter((id) => !openBefore.has(id));

  const candidates = await decideCandidates(hub, trx, before.candidates, survivor, merged, actor, now);
  const snapshot = { ...(await snapshotMerge(hub, trx, entity, before, candidates)), conflicts: raised };
  const mergeId = await hub.store.merges.logMerge(trx, { entity, survivor, merged, snapshot, at: now, by: actor });
  const survivorAfter = hub.fromRow(entity, snapshot.survivor.after);
  const mergedAfter = hub.fromRow(entity, snapshot.merged.after);
  const movedKeys = before.xref.map((x) => ({ source: x.source, sourceKey: x.source_key }));
  const changedFields = decided.outcomes.filter((o) => !sameValue(o.value, o.survivor)).map((o) => o.field);
  const conflicts = decided.outcomes.filter((o) => o.decision === 'conflict').map((o) => o.field);
  const writes = plannedWrites(survivorAfter.values, versions, new Set(conflicts), await hub.store.conflicts.loadOpen(trx, entity, [survivor]), survivor);
  await hub.store.audit.record(trx, {
    actor,
    action: 'merge',
    entity,
    gid: survivor,
    before: { survivor: sRecord.values, merged: { id: merged, ...mRecord.values } },
    after: {
      mergeId,
      survivor: survivorAfter.values,
      merged: { id: merged, mergedInto: survivor },
      changedFields,
      fields: decided.outcomes.filter((o) => o.decision !== 'same'),
      movedKeys,
      children: moved,
      candidates: candidates.map((c) => ({ id: c.before.id, status: c.after.status })),
    },
  });
  const allKeys = await hub.store.xref.ofRecord(trx, entity, survivor);
  const sourceKeys = allKeys.map((x) => ({ source: x.source, sourceKey: x.source_key }));
  return {
    mergeId,
    entity,
    survivor: survivorAfter,
    merged: mergedAfter,
    sourceKeys,
    movedKeys,
    children: moved,
    changedFields,
    fields: decided.outcomes,
    conflicts,
    writes,
    dryRun: false,
  };
}

type Version = SourceVersion & { side: 'survivor' | 'merged' };

function provenanceOf(rows: readonly ProvenanceRow[]): Map<string, FieldProvenance> {
  return new Map(rows.map((p) => [p.field, { source: p.source, changedAt: p.changed_at }]));
}

function hasValue(v: CrmValue | undefined): v is string | number | boolean {
  return v !== null && v !== undefined && !(typeof v === 'string' && v.trim() === '');
}

/**
 * Field by field: what survives, where it came from, and which disagreements are conflicts.
 * Agreement keeps the survivor's provenance; a value only the merged record has comes with the
 * merged record's provenance; a disagreement is decided by the person's choice, else by an
 * explicit survivorship rule (a source order, complete, hub; newest only on the sources' own
 * change times), else by the job's conflict policy, and otherwise stays an open conflict with the
 * survivor's value kept. The time a record was created in the hub is never used.
 */
function decideFields(
  hub: Hub,
  entity: EntityName,
  s: CrmRecord,
  m: CrmRecord,
  sProv: Map<string, FieldProvenance>,
  mProv: Map<string, FieldProvenance>,
  versions: readonly Version[],
  input: MergeInput,
  now: string,
): { outcomes: FieldOutcome[]; provenance: Map<string, FieldProvenance>; conflicts: ConflictWrite[] } {
  const fields = hub.fields(entity).filter((f) => f.type !== 'ref').map((f) => f.name);
  const known = new Set(fields);
  for (const f of Object.keys(input.choose ?? {})) {
    if (!known.has(f)) throw new ValidationError(`cannot choose ${f}: ${entity} has no such field (or it is a reference)`, { entity, field: f });
  }
  const rules = input.rules ?? DEFAULT_SURVIVORSHIP;
  const policies = input.policies ?? MANUAL_POLICIES;
  const outcomes: FieldOutcome[] = [];
  const provenance = new Map<string, FieldProvenance>();
  const conflicts: ConflictWrite[] = [];
  for (const field of fields) {
    const sv = s[field] ?? null;
    const mv = m[field] ?? null;
    if (!hasValue(sv) && !hasValue(mv)) continue;
    const sSource = sProv.get(field)?.source ?? 'hub';
    const mSource = mProv.get(field)?.source ?? 'hub';
    const base = { field, survivor: sv, merged: mv };
    const choice = Object.prototype.hasOwnProperty.call(input.choose ?? {}, field) ? input.choose![field] : undefined;
    if (!hasValue(mv) || sameValue(sv, mv)) {
      if (choice !== undefined && choice !== 'survivor' && choice !== sSource) {
        throw new ValidationError(`cannot choose ${choice} for ${field}: both records hold ${JSON.stringify(sv)} there is nothing to choose`, { entity, field });
      }
      outcomes.push({ ...base, value: sv, source: sProv.get(field)?.source ?? null, decision: 'same', reason: hasValue(mv) ? 'both records agree' : 'only the survivor has a value' });
      continue;
    }
    if (!hasValue(sv)) {
      outcomes.push({ ...base, value: mv, source: mProv.get(field)?.source ?? null, decision: 'filled', reason: `only the merged record has a value (from ${mSource})` });
      provenance.set(field, mProv.get(field) ?? { source: 'hub', changedAt: now });
      continue;
    }
    // Two different values. Sides are named after the source each value came from.
    const mKey = mSource === sSource ? `${mSource}:merged` : mSource;
    const values: Record<string, CrmValue> = { hub: sv, [mKey]: mv };
    const take = (side: 'survivor' | 'merged', decision: 'chosen' | 'rule', rule: string, reason: string, decidedBy?: string) => {
      const value = side === 'survivor' ? sv : mv;
      outcomes.push({ ...base, value, source: (side === 'survivor' ? sProv : mProv).get(field)?.source ?? null, decision, reason });
      if (side === 'merged') provenance.set(field, mProv.get(field) ?? { source: 'hub', changedAt: now });
      conflicts.push({
        gid: input.survivor,
        conflict: { field, base: undefined, values, rule, winner: side === 'survivor' ? 'hub' : mKey, reason, status: 'auto', ...(decidedBy ? { decidedBy } : {}) },
      });
    };
    if (choice !== undefined) {
      const side = choice === 'survivor' || (choice === sSource && choice !== mSource) ? 'survivor' : choice === 'merged' || choice === mSource ? 'merged' : null;
      if (side === null) {
        throw new ValidationError(`cannot choose ${choice} for ${field}: the values come from ${sSource} (survivor) and ${mSource} (merged); choose survivor, merged or one of those`, { entity, field });
      }
      take(side, 'chosen', 'manual', `${field}: ${input.actor} chose ${side === 'survivor' ? sSource : mSource}'s ${JSON.stringify(side === 'survivor' ? sv : mv)} over ${JSON.stringify(side === 'survivor' ? mv : sv)} when merging ${input.merged} into ${input.survivor}`, input.actor);
      continue;
    }
    const bySurvivorship = survivorshipSide(rules.fields[field] ?? rules.default, field, sSource, mSource, sv, mv, versions, policies.clockSkewSeconds);
    if (bySurvivorship) {
      take(bySurvivorship.side, 'rule', `survivorship:${bySurvivorship.rule}`, `${field}: survivorship "${bySurvivorship.rule}" keeps ${bySurvivorship.side === 'survivor' ? sSource : mSource}'s value (${bySurvivorship.why}) when merging ${input.merged} into ${input.survivor}`);
      continue;
    }
    const policy = policies.fields[field] ?? policies.default;
    const byPolicy = policySide(policy, sSource, mSource, sv, mv, versions, field, policies.clockSkewSeconds);
    if (byPolicy) {
      take(byPolicy.side, 'rule', policy, `${field}: the job's policy ${policy} keeps ${byPolicy.side === 'survivor' ? sSource : mSource}'s value (${byPolicy.why}) when merging ${input.merged} into ${input.survivor}`);
      continue;
    }
    const reason = `${field} differs: ${sSource} has ${JSON.stringify(sv)}, ${mSource} has ${JSON.stringify(mv)} (merging ${input.merged} into ${input.survivor}); policy ${policy} leaves it to a person, ${JSON.stringify(sv)} is kept meanwhile and neither is pushed`;
    outcomes.push({ ...base, value: sv, source: sProv.get(field)?.source ?? null, decision: 'conflict', reason });
    conflicts.push({ gid: input.survivor, conflict: { field, base: undefined, values, rule: policy, winner: null, reason, status: 'open' } });
  }
  return { outcomes, provenance, conflicts };
}

type Side = { side: 'survivor' | 'merged'; why: string };

/** The sources' own change time of a field's value on one side; null when no source gave one. */
function sourceTime(versions: readonly Version[], side: 'survivor' | 'merged', source: string, field: string, value: CrmValue): number | null {
  let best: number | null = null;
  for (const v of versions) {
    if (v.side !== side || v.source !== source || v.sourceChangedAt === null || !sameValue(v.values[field] ?? null, value)) continue;
    const t = Date.parse(v.sourceChangedAt);
    if (!Number.isNaN(t) && (best === null || t > best)) best = t;
  }
  return best;
}

function newestSide(versions: readonly Version[], field: string, sSource: string, mSource: string, sv: CrmValue, mv: CrmValue, skewSeconds: number): Side | null {
  const ts = sourceTime(versions, 'survivor', sSource, field, sv);
  const tm = sourceTime(versions, 'merged', mSource, field, mv);
  if (ts === null || tm === null || Math.abs(ts - tm) <= skewSeconds * 1000) return null;
  return ts > tm ? { side: 'survivor', why: `${sSource} changed it later` } : { side: 'merged', why: `${mSource} changed it later` };
}

function survivorshipSide(rule: string, field: string, sSource: string, mSource: string, sv: CrmValue, mv: CrmValue, versions: readonly Version[], skew: number): (Side & { rule: string }) | null {
  const parsed = parseRule(rule, field);
  switch (parsed.kind) {
    case 'newest': {
      const n = newestSide(versions, field, sSource, mSource, sv, mv, skew);
      return n ? { ...n, rule } : null;
    }
    case 'hub':
      return { side: 'survivor', why: 'the survivor keeps its value', rule };
    case 'complete': {
      const ls = typeof sv === 'string' ? [...sv.trim()].length : 1;
      const lm = typeof mv === 'string' ? [...mv.trim()].length : 1;
      if (ls === lm) return null;
      return ls > lm ? { side: 'survivor', why: 'the longer value', rule } : { side: 'merged', why: 'the longer value', rule };
    }
    case 'order': {
      for (const src of parsed.sources) {
        if (src === sSource && src !== mSource) return { side: 'survivor', why: `${src} comes first`, rule };
        if (src === mSource && src !== sSource) return { side: 'merged', why: `${src} comes first`, rule };
      }
      return null;
    }
  }
}

function policySide(policy: string, sSource: string, mSource: string, sv: CrmValue, mv: CrmValue, versions: readonly Version[], field: string, skew: number): Side | null {
  if (policy === 'hub') return { side: 'survivor', why: 'the hub keeps its value' };
  if (policy === 'newest') return newestSide(versions, field, sSource, mSource, sv, mv, skew);
  if (policy.startsWith('source:')) {
    const owner = policy.slice('source:'.length);
    if (owner === sSource && owner !== mSource) return { side: 'survivor', why: `${owner} owns ${field}` };
    if (owner === mSource && owner !== sSource) return { side: 'merged', why: `${owner} owns ${field}` };
  }
  return null;
}

/** Per source record: the fields whose golden value now differs from what that source holds. */
function plannedWrites(golden: CrmRecord, versions: readonly Version[], held: ReadonlySet<string>, open: Awaited<ReturnType<Hub['store']['conflicts']['loadOpen']>>, gid: string): PlannedWrite[] {
  const openFields = open.get(gid);
  const out: PlannedWrite[] = [];
  for (const v of versions) {
    const fields: PlannedWrite['fields'] = {};
    for (const [f, from] of Object.entries(v.values)) {
      if (held.has(f) || openFields?.has(f) || !Object.prototype.hasOwnProperty.call(golden, f)) continue;
      const to = golden[f] ?? null;
      if (!sameValue(from ?? null, to)) fields[f] = { from: from ?? null, to };
    }
    if (Object.keys(fields).length > 0) out.push({ source: v.source, sourceKey: v.key, fields });
  }
  return out.sort((a, b) => order(a.source, b.source) || order(a.sourceKey, b.sourceKey));
}

/** Three-way order of two strings (code-unit order, as the sources' keys are compared elsewhere). */
function order(x: string, y: string): number {
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Lock the pair, check it can be merged, and read everything the merge will change. */
async function readBeforeMerge(hub: Hub, trx: Knex.Transaction, entity: EntityName, survivor: string, merged: string): Promise<MergeBefore> {
  const table = hub.table(entity);
  const rows = await lockRows(hub, trx, table, [survivor, merged]);
  for (const gid of [survivor, merged]) {
    const row = rows.get(gid);
    if (!row) throw new CrmlinkError('NOT_FOUND', `${entity} ${gid} does not exist`, { entity, key: gid, table, survivor, merged });
    const into = row[C.mergedInto];
    if (typeof into === 'string' && into !== '') {
      throw new ValidationError(`cannot merge ${merged} into ${survivor}: ${gid} was already merged into ${into}` + (gid === survivor ? ` (merge into ${into} instead)` : ''), {
        entity,
        key: gid,
        survivor,
        merged,
        mergedInto: into,
      });
    }
    if (canonicalFieldValue({ type: 'boolean' }, row[C.deleted]) === true) {
      throw new ValidationError(`cannot merge ${merged} into ${survivor}: ${gid} is deleted`, { entity, key: gid, survivor, merged });
    }
  }
  const children: MergeSnapshot['children'] = [];
  for (const ref of referencingFields(entity)) {
    const ids = ((await trx(hub.table(ref.entity)).where(ref.field, merged).orderBy(C.id).pluck(C.id)) as unknown[]).map(String);
    if (ids.length > 0) children.push({ entity: ref.entity, field: ref.field, ids });
  }
  const { store } = hub;
  return {
    survivor: rows.get(survivor) as RawRow,
    merged: rows.get(merged) as RawRow,
    xref: await store.xref.ofRecord(trx, entity, merged),
    provenance: await store.provenance.rows(trx, entity, survivor),
    mergedProvenance: await store.provenance.rows(trx, entity, merged),
    children,
    candidates: await store.merges.candidates(trx, entity, merged),
  };
}

/** This pair accepted, other open pairs about the merged record superseded. */
async function decideCandidates(hub: Hub, trx: Knex.Transaction, before: CandidateRow[], survivor: string, merged: string, actor: string, now: string): Promise<MergeSnapshot['candidates']> {
  const out: MergeSnapshot['candidates'] = [];
  for (const c of before) {
    const other = c.gid_a === merged ? c.gid_b : c.gid_a;
    const status = other === survivor ? 'accepted' : c.status === 'open' ? 'superseded' : null;
    if (status === null) continue;
    await hub.store.merges.decide(trx, c.id, status, actor, now);
    out.push({ before: c, after: { ...c, status, decided_at: now, decided_by: actor } });
  }
  return out;
}

/** Everything the merge changed, before and after, for unmerge. */
async function snapshotMerge(hub: Hub, trx: Knex.Transaction, entity: EntityName, before: MergeBefore, candidates: MergeSnapshot['candidates']): Promise<MergeSnapshot> {
  const survivor = String(before.survivor[C.id]);
  const merged = String(before.merged[C.id]);
  const after = await lockRows(hub, trx, hub.table(entity), [survivor, merged]);
  return {
    format: 1,
    entity,
    survivor: { before: before.survivor, after: after.get(survivor) as RawRow },
    merged: { before: before.merged, after: after.get(merged) as RawRow },
    xref: before.xref,
    provenance: { before: before.provenance, after: await hub.store.provenance.rows(trx, entity, survivor) },
    children: before.children,
    candidates,
  };
}

/** Point the children's ref fields that still hold `from` at `to`, each a new version; counts by entity. */
async function repointChildren(hub: Hub, trx: Knex.Transaction, children: MergeSnapshot['children'], from: string, to: string, actor: string): Promise<Partial<Record<EntityName, number>>> {
  const counts: Partial<Record<EntityName, number>> = {};
  for (const c of children) {
    const n = await repoint(hub, trx, c.entity, c.field, c.ids, from, to, actor);
    counts[c.entity] = (counts[c.entity] ?? 0) + n;
  }
  return counts;
}

async function repoint(hub: Hub, trx: Knex.Transaction, entity: EntityName, field: string, ids: readonly string[], from: string, to: string, actor: string): Promise<number> {
  let n = 0;
  // Batches bound what one write holds; within one transaction a record already re-pointed no
  // longer holds `from`, so neither an empty last batch nor a batch reaching past 500 writes more.
  // Stryker disable next-line EqualityOperator: equivalent: `i <= ids.length` only adds an empty batch, which writes nothing
  for (let i = 0; i < ids.length; i += 500) {
    // Stryker disable next-line MethodExpression: equivalent: every id at once re-points the same rows (later batches then find none still holding `from`)
    const records = await hub.getMany(entity, ids.slice(i, i + 500), trx);
    const writes = [...records.values()].filter((r) => r.values[field] === from).map((r) => ({ gid: r.id, current: r, patch: { [field]: to } }));
    await hub.store.golden.write(trx, entity, writes, { actor, action: 'repoint' });
    n += writes.length;
  }
  return n;
}

// ---------------------------------------------------------------------------------------------
// Unmerge
// ---------------------------------------------------------------------------------------------

export async function unmergeRecords(hub: Hub, input: UnmergeInput): Promise<UnmergeResult> {
  const entity = input.entity ?? 'Customer';
  const { actor } = input;
  return hub.store.transaction(async (trx) => {
    const log = await findMerge(hub, trx, entity, input);
    const { id: mergeId, survivor, merged } = log;
    const snapshot = parseSnapshot(log, entity);
    const rows = await lockRows(hub, trx, hub.table(entity), [survivor, merged]);
    const sCur = rows.get(survivor);
    const mCur = rows.get(merged);
    if (!sCur || !mCur) {
      const missing = !sCur ? survivor : merged;
      throw new CrmlinkError('NOT_FOUND', `cannot unmerge merge ${mergeId}: ${entity} ${missing} no longer exists`, { entity, mergeId, key: missing, table: hub.table(entity) });
    }
    if (mCur[C.mergedInto] !== survivor) {
      throw new ValidationError(`cannot unmerge merge ${mergeId}: ${merged} is no longer merged into ${survivor} (now ${String(mCur[C.mergedInto] ?? 'not merged')})`, { entity, mergeId, survivor, merged });
    }
    const kept: string[] = [];
    const sBefore = hub.fromRow(entity, sCur);
    const mBefore = hub.fromRow(entity, mCur);
    // The survivor gives the merged record's keys back and may be left with no row in a source:
    // it is written even when no value changes, so the next push checks it (and inserts it there).
    await restoreRecord(hub, trx, entity, sBefore, sCur, snapshot.survivor, actor, kept, snapshot.xref.length > 0);
    // Stryker disable next-line BooleanLiteral: equivalent: the merged record's merged-into always goes back (unmerge refuses otherwise), so it is always written
    await restoreRecord(hub, trx, entity, mBefore, mCur, snapshot.merged, actor, kept, false);
    await restoreLinks(hub, trx, snapshot, survivor, actor, kept);
    await rebaseOnKeysGivenBack(hub, trx, entity, snapshot, survivor, actor);
    await restoreProvenance(hub, trx, entity, survivor, snapshot.provenance, kept);
    await restoreCandidates(hub, trx, snapshot.candidates, kept);
    await closeRaisedConflicts(hub, trx, entity, survivor, mergeId, snapshot.conflicts ?? [], actor);
    await recomputeOverLaterMerges(hub, trx, entity, survivor, mergeId, input.rules, actor, kept);
    await hub.store.merges.markUndone(trx, mergeId, nowIso());
    const survivorAfter = (await hub.get(entity, survivor, trx)) as HubRecord;
    const restored = (await hub.get(entity, merged, trx)) as HubRecord;
    await hub.store.audit.record(trx, {
      actor,
      action: 'unmerge',
      entity,
      gid: merged,
      before: { mergeId, survivor: sBefore.values, merged: { id: merged, mergedInto: mBefore.mergedInto } },
      after: { mergeId, survivor: survivorAfter.values, merged: { id: merged, ...restored.values }, sourceKeys: snapshot.xref.map((x) => ({ source: x.source, sourceKey: x.source_key })), kept },
    });
    return { mergeId, entity, survivor: survivorAfter, restored, kept };
  });
}

/** The merge to undo (by id, or the latest of the merged record), checked that it can be undone. */
async function findMerge(hub: Hub, trx: Knex.Transaction, entity: EntityName, input: UnmergeInput): Promise<MergeLogRow> {
  const { merges } = hub.store;
  let log: MergeLogRow | null;
  if (input.mergeId !== undefined) {
    log = await merges.merge(trx, input.mergeId);
    if (!log) throw new CrmlinkError('NOT_FOUND', `merge ${input.mergeId} does not exist`, { entity, mergeId: input.mergeId, table: 'crm_merge' });
    if (log.entity !== entity) throw new ValidationError(`merge ${input.mergeId} is a merge of ${log.entity}, not ${entity}`, { entity, mergeId: input.mergeId });
  } else {
    log = await merges.latestMergeOf(trx, entity, input.merged);
    if (!log) throw new CrmlinkError('NOT_FOUND', `${entity} ${input.merged} is not merged into another record (no merge to undo)`, { entity, key: input.merged, table: 'crm_merge' });
  }
  const { id: mergeId, survivor, merged } = log;
  if (log.undoneAt) throw new ValidationError(`merge ${mergeId} (${merged} into ${survivor}) was already undone at ${log.undoneAt}`, { entity, mergeId, survivor, merged });
  const later = await merges.dependentMerge(trx, entity, mergeId, survivor, merged);
  if (later) {
    throw new ValidationError(
      `cannot unmerge merge ${mergeId} (${merged} into ${survivor}): later merge ${later.id} (${later.merged} into ${later.survivor}) depends on it; unmerge that first`,
      { entity, mergeId, survivor, merged, dependentMergeId: later.id },
    );
  }
  return log;
}

function parseSnapshot(log: MergeLogRow, entity: EntityName): MergeSnapshot {
  let snapshot: MergeSnapshot;
  try {
    snapshot = JSON.parse(log.snapshot ?? '') as MergeSnapshot;
  } catch (err) {
    throw new CrmlinkError('INTERNAL', `merge ${log.id} has an unreadable snapshot`, { entity, mergeId: log.id, table: 'crm_merge' }, { cause: err });
  }
  if (snapshot.format !== 1) throw new CrmlinkError('INTERNAL', `merge ${log.id}: unknown snapshot format ${String(snapshot.format)}`, { entity, mergeId: log.id });
  return snapshot;
}

/**
 * Put back, column by column, what the merge changed on one record: a column is restored when it
 * still holds the merge's value, and kept (reported) when it changed since. `always` writes the
 * record even when nothing is put back (a new change for the push).
 */
async function restoreRecord(hub: Hub, trx: Knex.Transaction, entity: EntityName, current: HubRecord, raw: RawRow, snap: { before: RawRow; after: RawRow }, actor: string, kept: string[], always: boolean): Promise<void> {
  const patch: CrmRecord = {};
  const system: { mergedInto?: string | null; deleted?: boolean } = {};
  const columns = [
    ...hub.fields(entity).map((f) => ({ name: f.name, type: f.type })),
    { name: C.mergedInto, type: 'string' as const },
    { name: C.deleted, type: 'boolean' as const },
  ];
  for (const { name, type } of columns) {
    const before = canonicalFieldValue({ type }, snap.before[name]);
    const after = canonicalFieldValue({ type }, snap.after[name]);
    if (sameValue(before, after)) continue;
    const now = canonicalFieldValue({ type }, raw[name]);
    if (!sameValue(now, after)) {
      kept.push(`${current.id}.${name} changed after the merge; kept ${JSON.stringify(now)}`);
      continue;
    }
    if (name === C.mergedInto) system.mergedInto = before === null ? null : String(before);
    else if (name === C.deleted) system.deleted = before === true;
    else patch[name] = before;
  }
  if (!always && Object.keys(patch).length === 0 && Object.keys(system).length === 0) return;
  await hub.store.golden.write(trx, entity, [{ gid: current.id, current, patch, ...system }], { actor, action: 'unmerge' });
}

/** Source keys and children back to the merged record, where they still point at the survivor. */
async function restoreLinks(hub: Hub, trx: Knex.Transaction, snapshot: MergeSnapshot, survivor: string, actor: string, kept: string[]): Promise<void> {
  for (const x of snapshot.xref) {
    const r = await hub.store.xref.restore(trx, x, survivor);
    if (r.restored) continue;
    kept.push(r.gid === null ? `xref ${x.source}:${x.source_key} was removed after the merge` : `xref ${x.source}:${x.source_key} now belongs to ${r.gid}`);
  }
  const merged = String(snapshot.merged.before[C.id]);
  for (const c of snapshot.children) {
    const n = await repoint(hub, trx, c.entity, c.field, c.ids, survivor, merged, actor);
    if (n < c.ids.length) kept.push(`${c.ids.length - n} ${c.entity} row(s) no longer pointing at ${survivor} were left as they are`);
  }
}

/**
 * In a source where the survivor has no key left once the merged record's keys go back, every row
 * referring to the survivor was written with one of those keys (it had no other), and that key
 * names the merged record again. Such a child's base there is set to what its row says now (the
 * merged record), and the child written, so the next run does not read the row as re-pointed in
 * the source: it pushes the survivor's new key into it instead.
 */
async function rebaseOnKeysGivenBack(hub: Hub, trx: Knex.Transaction, entity: EntityName, snapshot: MergeSnapshot, survivor: string, actor: string): Promise<void> {
  const { store } = hub;
  const merged = String(snapshot.merged.before[C.id]);
  // Stryker disable next-line ArrayDeclaration: equivalent: a source no key is linked in finds no child rows to rebase
  const bare: string[] = [];
  for (const source of new Set(snapshot.xref.map((x) => x.source))) {
    if (!(await store.xref.keysByGid(trx, entity, source, [survivor])).has(survivor)) bare.push(source);
  }
  // Stryker disable next-line ConditionalExpression: equivalent: with no such source the loops below find nothing to write (a shortcut)
  if (bare.length === 0) return;
  for (const ref of referencingFields(entity)) {
    const ids = ((await trx(hub.table(ref.entity)).where(ref.field, survivor).where(C.deleted, false).pluck(C.id)) as unknown[]).map(String);
    // Stryker disable next-line ConditionalExpression: equivalent: no children, no keys, no bases to rebase (a shortcut)
    if (ids.length === 0) continue;
    const rebased = new Set<string>();
    for (const source of bare) {
      const gidOfKey = new Map<string, string>();
      for (const [gid, keys] of await store.xref.keysByGid(trx, ref.entity, source, ids)) for (const k of keys) gidOfKey.set(k, gid);
      const writes = [];
      for (const [sourceKey, b] of await store.bases.load(trx, ref.entity, source, [...gidOfKey.keys()])) {
        if (b.deleted || b.values[ref.field] !== survivor) continue;
        writes.push({ sourceKey, values: { ...b.values, [ref.field]: merged }, deleted: false, changedAt: b.changedAt });
        rebased.add(gidOfKey.get(sourceKey) as string);
      }
      // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent: saving no bases writes nothing
      if (writes.length > 0) await store.bases.save(trx, ref.entity, source, writes);
    }
    const records = await hub.getMany(ref.entity, [...rebased], trx);
    await store.golden.write(trx, ref.entity, [...records.values()].map((r) => ({ gid: r.id, current: r, patch: {} })), { actor, action: 'unmerge' });
  }
}

/** The survivor's provenance, field by field, where it is still what the merge left. */
async function restoreProvenance(hub: Hub, trx: Knex.Transaction, entity: EntityName, survivor: string, snap: MergeSnapshot['provenance'], kept: string[]): Promise<void> {
  const current = new Map((await hub.store.provenance.rows(trx, entity, survivor)).map((p) => [p.field, p]));
  const before = new Map(snap.before.map((p) => [p.field, p]));
  const after = new Map(snap.after.map((p) => [p.field, p]));
  const fields: Record<string, { source: string; changedAt: string } | null> = {};
  for (const field of new Set([...before.keys(), ...after.keys()])) {
    const b = before.get(field);
    const a = after.get(field);
    if (!sameProvenance(current.get(field), a)) {
      kept.push(`provenance of ${field} changed after the merge`);
      continue;
    }
    // Stryker disable next-line ConditionalExpression: equivalent: a row the merge left as it was would be written back unchanged
    if (sameProvenance(b, a)) continue;
    fields[field] = b ? { source: b.source, changedAt: b.changed_at } : null;
  }
  await hub.store.provenance.apply(trx, entity, [{ gid: survivor, fields }]);
}

/**
 * The conflicts the merge raised are about two records that are no longer one: those still open
 * are closed (the survivor keeps its value), named in the audit entry.
 */
async function closeRaisedConflicts(hub: Hub, trx: Knex.Transaction, entity: EntityName, survivor: string, mergeId: number, ids: readonly number[], actor: string): Promise<void> {
  const open = (await hub.store.conflicts.loadOpen(trx, entity, [survivor])).get(survivor);
  const closed: number[] = [];
  const now = nowIso();
  for (const c of open?.values() ?? []) {
    if (!ids.includes(c.id)) continue;
    await hub.store.conflicts.resolve(trx, c.id, { keep: 'hub', value: c.values.hub ?? null }, actor, now);
    closed.push(c.id);
  }
  if (closed.length > 0) {
    await hub.store.audit.record(trx, { actor, action: 'resolve-conflict', entity, gid: survivor, after: { conflicts: closed, reason: `merge ${mergeId} was undone: the records are no longer one` } });
  }
}

/** Merge candidates back to how they were, where the merge's decision still stands. */
async function restoreCandidates(hub: Hub, trx: Knex.Transaction, candidates: MergeSnapshot['candidates'], kept: string[]): Promise<void> {
  const { merges } = hub.store;
  for (const c of candidates) {
    const cur = await merges.candidate(trx, c.before.id);
    if (!cur) kept.push(`merge candidate ${c.before.id} was removed after the merge`);
    else if (!sameCandidate(cur, c.after)) kept.push(`merge candidate ${c.before.id} changed after the merge`);
    else await merges.restoreCandidate(trx, c.before);
  }
}

/**
 * Records merged into the survivor after this merge still count: recompute over them, so a field
 * this merge filled and a later merged record also has is not left empty.
 */
async function recomputeOverLaterMerges(hub: Hub, trx: Knex.Transaction, entity: EntityName, survivor: string, mergeId: number, rules: SurvivorshipRules | undefined, actor: string, kept: string[]): Promise<void> {
  const laterInto = await hub.store.merges.mergedIntoAfter(trx, entity, survivor, mergeId);
  if (laterInto.length === 0 || rules === undefined) return;
  const fallbacks = [...(await hub.getMany(entity, laterInto, trx)).values()].map((r) => ({ values: r.values }));
  const r = await recomputeGolden(hub, trx, entity, survivor, rules, { fallbacks, actor });
  if (r.changed.length > 0) kept.push(`${survivor} recomputed over later merges (${laterInto.join(', ')}): ${r.changed.join(', ')}`);
}

// ---------------------------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------------------------

/** Read (and on PostgreSQL lock) rows by id, in id order so two merges cannot deadlock. */
async function lockRows(hub: Hub, trx: Knex.Transaction, table: string, ids: string[]): Promise<Map<string, RawRow>> {
  const q = trx(table).whereIn(C.id, ids).orderBy(C.id);
  if (hub.dialect === 'postgres') q.forUpdate();
  const rows = (await q) as Record<string, unknown>[];
  return new Map(rows.map((r) => [String(r[C.id]), toRaw(r)]));
}

/** A row as JSON-safe values, exactly as the driver returned them (bigints as strings). */
function toRaw(row: Record<string, unknown>): RawRow {
  const out: RawRow = {};
  for (const [k, v] of Object.entries(row)) {
    // Stryker disable next-line ConditionalExpression: equivalent: the drivers return null, never undefined, for an empty column
    if (v === null || v === undefined) out[k] = null;
    // Stryker disable next-line ConditionalExpression: equivalent: a string left to String(v) below is the same string
    else if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = v;
    else if (typeof v === 'bigint') out[k] = v.toString();
    else if (v instanceof Date) out[k] = v.toISOString();
    else out[k] = String(v);
  }
  return out;
}

function sameProvenance(a: ProvenanceRow | undefined, b: ProvenanceRow | undefined): boolean {
  if (!a || !b) return a === b;
  return a.source === b.source && a.changed_at === b.changed_at;
}
