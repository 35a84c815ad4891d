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
import { sameValue, stableStringify } from '../model/values.js';
import { nowIso, type Hub, type HubRecord } from '../hub/hub.js';
import { canonicalFieldValue } from '../model/values.js';
import { ENTITY_SYSTEM_COLUMNS as C, SYSTEM_TABLES as T } from '../hub/tables.js';
import { ENTITY_NAMES, MODEL, type EntityName, type ModelField } from '../model/entities.js';
import { DEFAULT_SURVIVORSHIP, recomputeGolden, type ProvenanceRow, type SurvivorshipRules } from './golden.js';

/** A database row as stored (JSON-safe). */
export type RawValue = string | number | boolean | null;
export type RawRow = Record<string, RawValue>;

export interface XrefRow {
  entity: string;
  source: string;
  source_key: string;
  gid: string;
  rule: string | null;
  linked_at: string;
}

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
}

export interface MergeInput {
  entity?: EntityName;
  survivor: string;
  merged: string;
  /** Who asked (user id, `cli:<user>`, `auto`); recorded in crm_merge and the audit log. */
  actor: string;
  /** Survivorship for the recomputed survivor; default `newest`. */
  rules?: SurvivorshipRules;
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
  const entity = opts.entity ?? 'Customer';
  const q = hub.knex(T.merge).where({ entity }).select('id', 'entity', 'survivor', 'merged', 'at', 'by', 'undone_at').orderBy('id', 'desc');
  if (opts.gid) {
    const gid = opts.gid;
    q.where((w) => w.where('survivor', gid).orWhere('merged', gid));
  }
  if (!opts.includeUndone) q.whereNull('undone_at');
  const rows = (await q) as Record<string, unknown>[];
  return rows.map((r) => ({
    id: Number(r.id),
    entity: String(r.entity),
    survivor: String(r.survivor),
    merged: String(r.merged),
    at: String(r.at),
    by: String(r.by),
    undoneAt: (r.undone_at as string | null) ?? null,
  }));
}

// ---------------------------------------------------------------------------------------------
// Merge
// ---------------------------------------------------------------------------------------------

export async function mergeRecords(hub: Hub, input: MergeInput): Promise<MergeResult> {
  const entity = input.entity ?? 'Customer';
  const { survivor, merged, actor } = input;
  const rules = input.rules ?? DEFAULT_SURVIVORSHIP;
  if (survivor === merged) {
    throw new ValidationError(`cannot merge ${entity} ${merged} into itself`, { entity, key: merged, survivor, merged });
  }
  const table = hub.table(entity);

  return hub.knex.transaction(async (trx) => {
    const rows = await lockRows(hub, trx, table, [survivor, merged]);
    const sRow = rows.get(survivor);
    const mRow = rows.get(merged);
    for (const [gid, row] of [[survivor, sRow], [merged, mRow]] as const) {
      if (!row) throw new CrmlinkError('NOT_FOUND', `${entity} ${gid} does not exist`, { entity, key: gid, table, survivor, merged });
      const into = row[C.mergedInto];
      if (typeof into === 'string' && into !== '') {
        throw new ValidationError(
          `cannot merge ${merged} into ${survivor}: ${gid} was already merged into ${into}` +
            (gid === survivor ? ` (merge into ${into} instead)` : ''),
          { entity, key: gid, survivor, merged, mergedInto: into },
        );
      }
      if (canonicalFieldValue(BOOL, row[C.deleted]) === true) {
        throw new ValidationError(`cannot merge ${merged} into ${survivor}: ${gid} is deleted`, { entity, key: gid, survivor, merged });
      }
    }
    const sBefore = sRow as RawRow;
    const mBefore = mRow as RawRow;
    const sRecord = hub.fromRow(entity, sBefore);
    const mRecord = hub.fromRow(entity, mBefore);

    // -- snapshot what will change
    const xref = ((await trx(T.xref).where({ entity, gid: merged }).orderBy(['source', 'source_key'])) as Record<string, unknown>[]).map(toXref);
    const provBefore = await provenanceRows(trx, entity, survivor);
    const mergedProv = await provenanceRows(trx, entity, merged);
    const children: MergeSnapshot['children'] = [];
    for (const ref of referencingFields(entity)) {
      const ids = ((await trx(hub.table(ref.entity)).where(ref.field, merged).orderBy(C.id).pluck(C.id)) as unknown[]).map(String);
      if (ids.length > 0) children.push({ entity: ref.entity, field: ref.field, ids });
    }
    const candBefore = ((await trx(T.mergeCandidate)
      .where({ entity })
      .where((w) => w.where('gid_a', merged).orWhere('gid_b', merged))
      .orderBy('id')) as Record<string, unknown>[]).map(toCandidate);

    // -- move source keys
    await trx(T.xref).where({ entity, gid: merged }).update({ gid: survivor });

    // -- re-point children
    const moved: Partial<Record<EntityName, number>> = {};
    for (const c of children) {
      await repoint(hub, trx, c.entity, c.field, c.ids, merged, survivor);
      moved[c.entity] = (moved[c.entity] ?? 0) + c.ids.length;
    }

    // -- the merged record becomes a redirect
    const now = nowIso();
    const seq = await hub.nextSeq(trx);
    await trx(table)
      .where(C.id, merged)
      .update({ [C.mergedInto]: survivor, [C.version]: mRecord.version + 1, [C.seq]: seq, [C.updatedAt]: now });

    // -- survivorship over both records' sources; fields the survivor lacks come from the merged
    const mergedProvMap: Record<string, { source: string; changedAt: string | null }> = {};
    for (const p of mergedProv) mergedProvMap[p.field] = { source: p.source, changedAt: p.changed_at };
    const recomputed = await recomputeGolden(hub, trx, entity, survivor, rules, {
      fallbacks: [{ values: mRecord.values, provenance: mergedProvMap }],
      touch: true,
    });

    // -- candidates: this pair accepted, other open pairs about the merged record superseded
    const candidates: MergeSnapshot['candidates'] = [];
    for (const before of candBefore) {
      const other = before.gid_a === merged ? before.gid_b : before.gid_a;
      let status: string;
      if (other === survivor) status = 'accepted';
      else if (before.status === 'open') status = 'superseded';
      else continue;
      const after: CandidateRow = { ...before, status, decided_at: now, decided_by: actor };
      await trx(T.mergeCandidate).where('id', before.id).update({ status, decided_at: now, decided_by: actor });
      candidates.push({ before, after });
    }

    const sAfter = toRaw((await trx(table).where(C.id, survivor).first()) as Record<string, unknown>);
    const mAfter = toRaw((await trx(table).where(C.id, merged).first()) as Record<string, unknown>);
    const provAfter = await provenanceRows(trx, entity, survivor);
    const snapshot: MergeSnapshot = {
      format: 1,
      entity,
      survivor: { before: toRaw(sBefore), after: sAfter },
      merged: { before: toRaw(mBefore), after: mAfter },
      xref,
      provenance: { before: provBefore, after: provAfter },
      children,
      candidates,
    };
    const mergeId = await insertId(trx, T.merge, {
      entity,
      survivor,
      merged,
      snapshot: JSON.stringify(snapshot),
      at: now,
      by: actor,
      undone_at: null,
    });

    const allKeys = ((await trx(T.xref).where({ entity, gid: survivor }).orderBy(['source', 'source_key'])) as Record<string, unknown>[]).map(toXref);
    const survivorAfter = hub.fromRow(entity, sAfter);
    const mergedAfter = hub.fromRow(entity, mAfter);
    const movedKeys = xref.map((x) => ({ source: x.source, sourceKey: x.source_key }));
    await hub.audit(trx, {
      actor,
      action: 'merge',
      entity,
      gid: survivor,
      before: { survivor: sRecord.values, merged: { id: merged, ...mRecord.values } },
      after: {
        mergeId,
        survivor: survivorAfter.values,
        merged: { id: merged, mergedInto: survivor },
        changedFields: recomputed.changed,
        movedKeys,
        children: moved,
        candidates: candidates.map((c) => ({ id: c.before.id, status: c.after.status })),
      },
    });

    return {
      mergeId,
      entity,
      survivor: survivorAfter,
      merged: mergedAfter,
      sourceKeys: allKeys.map((x) => ({ source: x.source, sourceKey: x.source_key })),
      movedKeys,
      children: moved,
      changedFields: recomputed.changed,
    };
  });
}

// ---------------------------------------------------------------------------------------------
// Unmerge
// ---------------------------------------------------------------------------------------------

export async function unmergeRecords(hub: Hub, input: UnmergeInput): Promise<UnmergeResult> {
  const entity = input.entity ?? 'Customer';
  const { actor } = input;
  const table = hub.table(entity);

  return hub.knex.transaction(async (trx) => {
    // -- which merge
    let row: Record<string, unknown> | undefined;
    if (input.mergeId !== undefined) {
      row = (await trx(T.merge).where({ id: input.mergeId }).first()) as Record<string, unknown> | undefined;
      if (!row) throw new CrmlinkError('NOT_FOUND', `merge ${input.mergeId} does not exist`, { entity, mergeId: input.mergeId, table: T.merge });
      if (row.entity !== entity) {
        throw new ValidationError(`merge ${input.mergeId} is a merge of ${String(row.entity)}, not ${entity}`, { entity, mergeId: input.mergeId });
      }
    } else {
      row = (await trx(T.merge).where({ entity, merged: input.merged }).whereNull('undone_at').orderBy('id', 'desc').first()) as
        | Record<string, unknown>
        | undefined;
      if (!row) {
        throw new CrmlinkError('NOT_FOUND', `${entity} ${input.merged} is not merged into another record (no merge to undo)`, {
          entity,
          key: input.merged,
          table: T.merge,
        });
      }
    }
    const mergeId = Number(row.id);
    const survivor = String(row.survivor);
    const merged = String(row.merged);
    if (row.undone_at) {
      throw new ValidationError(`merge ${mergeId} (${merged} into ${survivor}) was already undone at ${String(row.undone_at)}`, {
        entity,
        mergeId,
        survivor,
        merged,
      });
    }

    // -- later merges this one's undo would break
    const later = (await trx(T.merge)
      .where({ entity })
      .where('id', '>', mergeId)
      .whereNull('undone_at')
      .where((w) => w.where('merged', survivor).orWhere('merged', merged).orWhere('survivor', merged))
      .orderBy('id', 'desc')
      .first()) as Record<string, unknown> | undefined;
    if (later) {
      throw new ValidationError(
        `cannot unmerge merge ${mergeId} (${merged} into ${survivor}): later merge ${String(later.id)} (${String(later.merged)} into ${String(later.survivor)}) depends on it; unmerge that first`,
        { entity, mergeId, survivor, merged, dependentMergeId: Number(later.id) },
      );
    }

    let snapshot: MergeSnapshot;
    try {
      snapshot = JSON.parse(String(row.snapshot)) as MergeSnapshot;
    } catch (err) {
      throw new CrmlinkError('INTERNAL', `merge ${mergeId} has an unreadable snapshot`, { entity, mergeId, table: T.merge }, { cause: err });
    }
    if (snapshot.format !== 1) throw new CrmlinkError('INTERNAL', `merge ${mergeId}: unknown snapshot format ${String(snapshot.format)}`, { entity, mergeId });

    const rows = await lockRows(hub, trx, table, [survivor, merged]);
    const sCur = rows.get(survivor);
    const mCur = rows.get(merged);
    if (!sCur || !mCur) {
      const missing = !sCur ? survivor : merged;
      throw new CrmlinkError('NOT_FOUND', `cannot unmerge merge ${mergeId}: ${entity} ${missing} no longer exists`, { entity, mergeId, key: missing, table });
    }
    if (mCur[C.mergedInto] !== survivor) {
      throw new ValidationError(
        `cannot unmerge merge ${mergeId}: ${merged} is no longer merged into ${survivor} (now ${String(mCur[C.mergedInto] ?? 'not merged')})`,
        { entity, mergeId, survivor, merged },
      );
    }

    const kept: string[] = [];
    const fields = hub.fields(entity);
    const sBefore = hub.fromRow(entity, sCur);
    const mBefore = hub.fromRow(entity, mCur);

    // -- the two records, field by field
    await restoreRow(hub, trx, entity, survivor, sCur, snapshot.survivor, fields, kept);
    await restoreRow(hub, trx, entity, merged, mCur, snapshot.merged, fields, kept);

    // -- source keys back to the merged record
    for (const x of snapshot.xref) {
      const cur = (await trx(T.xref).where({ entity, source: x.source, source_key: x.source_key }).first()) as Record<string, unknown> | undefined;
      if (!cur) {
        kept.push(`xref ${x.source}:${x.source_key} was removed after the merge`);
        continue;
      }
      if (cur.gid !== survivor) {
        kept.push(`xref ${x.source}:${x.source_key} now belongs to ${String(cur.gid)}`);
        continue;
      }
      await trx(T.xref).where({ entity, source: x.source, source_key: x.source_key }).update({ gid: merged, rule: x.rule, linked_at: x.linked_at });
    }

    // -- children back to the merged record
    for (const c of snapshot.children) {
      const n = await repoint(hub, trx, c.entity, c.field, c.ids, survivor, merged);
      if (n < c.ids.length) kept.push(`${c.ids.length - n} ${c.entity} row(s) no longer pointing at ${survivor} were left as they are`);
    }

    // -- the survivor's provenance, field by field
    const provCur = new Map((await provenanceRows(trx, entity, survivor)).map((p) => [p.field, p]));
    const provBefore = new Map(snapshot.provenance.before.map((p) => [p.field, p]));
    const provAfter = new Map(snapshot.provenance.after.map((p) => [p.field, p]));
    for (const field of new Set([...provBefore.keys(), ...provAfter.keys()])) {
      const cur = provCur.get(field);
      const after = provAfter.get(field);
      const before = provBefore.get(field);
      if (!sameProvenance(cur, after)) {
        kept.push(`provenance of ${field} changed after the merge`);
        continue;
      }
      if (sameProvenance(before, after)) continue;
      if (!before) await trx(T.provenance).where({ entity, gid: survivor, field }).delete();
      else if (cur) await trx(T.provenance).where({ entity, gid: survivor, field }).update({ source: before.source, changed_at: before.changed_at });
      else await trx(T.provenance).insert(before);
    }

    // -- candidates back to how they were
    for (const c of snapshot.candidates) {
      const curRow = (await trx(T.mergeCandidate).where('id', c.before.id).first()) as Record<string, unknown> | undefined;
      if (!curRow) {
        kept.push(`merge candidate ${c.before.id} was removed after the merge`);
        continue;
      }
      if (!sameCandidate(toCandidate(curRow), c.after)) {
        kept.push(`merge candidate ${c.before.id} changed after the merge`);
        continue;
      }
      const { id: _id, ...rest } = c.before;
      await trx(T.mergeCandidate).where('id', c.before.id).update(rest);
    }

    // -- records merged into the survivor after this merge still count: recompute over them, so a
    //    field this merge filled and a later merged record also has is not left empty
    const laterInto = ((await trx(T.merge).where({ entity, survivor }).where('id', '>', mergeId).whereNull('undone_at').orderBy('id').pluck('merged')) as unknown[]).map(String);
    if (laterInto.length > 0 && input.rules !== undefined) {
      const fallbacks = [...(await hub.getMany(entity, laterInto, trx)).values()].map((r) => ({ values: r.values }));
      const r = await recomputeGolden(hub, trx, entity, survivor, input.rules, { fallbacks });
      if (r.changed.length > 0) kept.push(`${survivor} recomputed over later merges (${laterInto.join(', ')}): ${r.changed.join(', ')}`);
    }

    const now = nowIso();
    await trx(T.merge).where('id', mergeId).update({ undone_at: now });

    const survivorAfter = (await hub.get(entity, survivor, trx)) as HubRecord;
    const restored = (await hub.get(entity, merged, trx)) as HubRecord;
    await hub.audit(trx, {
      actor,
      action: 'unmerge',
      entity,
      gid: merged,
      before: { mergeId, survivor: sBefore.values, merged: { id: merged, mergedInto: mBefore.mergedInto } },
      after: {
        mergeId,
        survivor: survivorAfter.values,
        merged: { id: merged, ...restored.values },
        sourceKeys: snapshot.xref.map((x) => ({ source: x.source, sourceKey: x.source_key })),
        kept,
      },
    });
    return { mergeId, entity, survivor: survivorAfter, restored, kept };
  });
}

// ---------------------------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------------------------

const BOOL: ModelField = { name: C.deleted, type: 'boolean' };

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
    if (v === null || v === undefined) out[k] = null;
    else if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = v;
    else if (typeof v === 'bigint') out[k] = v.toString();
    else if (v instanceof Date) out[k] = v.toISOString();
    else out[k] = String(v);
  }
  return out;
}

function toXref(r: Record<string, unknown>): XrefRow {
  return {
    entity: String(r.entity),
    source: String(r.source),
    source_key: String(r.source_key),
    gid: String(r.gid),
    rule: (r.rule as string | null) ?? null,
    linked_at: String(r.linked_at),
  };
}

export function toCandidate(r: Record<string, unknown>): CandidateRow {
  return {
    id: Number(r.id),
    entity: String(r.entity),
    gid_a: String(r.gid_a),
    gid_b: String(r.gid_b),
    score: Number(r.score),
    rule: String(r.rule),
    reason: String(r.reason),
    status: String(r.status),
    created_at: String(r.created_at),
    decided_at: (r.decided_at as string | null) ?? null,
    decided_by: (r.decided_by as string | null) ?? null,
  };
}

function sameCandidate(a: CandidateRow, b: CandidateRow): boolean {
  // float4 on PostgreSQL: compare scores at the precision it keeps
  return stableStringify({ ...a, score: Math.round(a.score * 1e6) }) === stableStringify({ ...b, score: Math.round(b.score * 1e6) });
}

async function provenanceRows(trx: Knex.Transaction, entity: EntityName, gid: string): Promise<ProvenanceRow[]> {
  const rows = (await trx(T.provenance).where({ entity, gid }).orderBy('field')) as Record<string, unknown>[];
  return rows.map((r) => ({ entity: String(r.entity), gid: String(r.gid), field: String(r.field), source: String(r.source), changed_at: String(r.changed_at) }));
}

function sameProvenance(a: ProvenanceRow | undefined, b: ProvenanceRow | undefined): boolean {
  if (!a || !b) return a === b;
  return a.source === b.source && a.changed_at === b.changed_at;
}

async function insertId(trx: Knex.Transaction, table: string, row: Record<string, unknown>): Promise<number> {
  const res = (await trx(table).insert(row).returning('id')) as unknown[];
  const first = res[0];
  return Number(typeof first === 'object' && first !== null ? (first as { id: unknown }).id : first);
}

/**
 * Set `field` from `from` to `to` on the rows `ids` that still hold `from`, each with a new
 * _seq and _version. Returns how many rows changed.
 */
async function repoint(hub: Hub, trx: Knex.Transaction, entity: EntityName, field: string, ids: readonly string[], from: string, to: string): Promise<number> {
  const table = hub.table(entity);
  const now = nowIso();
  let n = 0;
  for (let i = 0; i < ids.length; i += 200) {
    const current = ((await trx(table).whereIn(C.id, ids.slice(i, i + 200)).where(field, from).orderBy(C.id).pluck(C.id)) as unknown[]).map(String);
    if (current.length === 0) continue;
    const first = await hub.nextSeq(trx, current.length);
    const cases = current.map(() => 'WHEN ? THEN CAST(? AS BIGINT)').join(' ');
    const bindings: (string | number)[] = [C.id];
    current.forEach((id, j) => bindings.push(id, first + j));
    await trx(table)
      .whereIn(C.id, current)
      .update({
        [field]: to,
        [C.version]: trx.raw('?? + 1', [C.version]),
        [C.seq]: trx.raw(`CASE ?? ${cases} END`, bindings),
        [C.updatedAt]: now,
      });
    n += current.length;
  }
  return n;
}

/**
 * Put back, column by column, what the merge changed on one record: a column is restored when it
 * still holds the merge's value, and kept (reported) when it changed since.
 */
async function restoreRow(
  hub: Hub,
  trx: Knex.Transaction,
  entity: EntityName,
  gid: string,
  current: RawRow,
  snap: { before: RawRow; after: RawRow },
  fields: ModelField[],
  kept: string[],
): Promise<void> {
  const patch: Record<string, RawValue> = {};
  const columns: { name: string; field: ModelField }[] = [
    ...fields.map((f) => ({ name: f.name, field: f })),
    { name: C.mergedInto, field: { name: C.mergedInto, type: 'string' } },
    { name: C.deleted, field: BOOL },
  ];
  for (const { name, field } of columns) {
    const before = canonicalFieldValue(field, snap.before[name]);
    const after = canonicalFieldValue(field, snap.after[name]);
    if (sameValue(before, after)) continue;
    const now = canonicalFieldValue(field, current[name]);
    if (!sameValue(now, after)) {
      kept.push(`${gid}.${name} changed after the merge; kept ${JSON.stringify(now)}`);
      continue;
    }
    patch[name] = snap.before[name] ?? null;
  }
  if (Object.keys(patch).length === 0) return;
  const seq = await hub.nextSeq(trx);
  await trx(hub.table(entity))
    .where(C.id, gid)
    .update({ ...patch, [C.version]: Number(current[C.version]) + 1, [C.seq]: seq, [C.updatedAt]: nowIso() });
}
