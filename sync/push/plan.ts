/**
 * Push stage 1, plan: which rows of one source a batch of golden records needs inserted, updated
 * or deleted, restricted to the fields the source may be written and to the fields that differ
 * from its base (so a concurrent edit of another column in the source is not overwritten). Pure.
 */
import { CrmlinkError, RowError } from '../../core/errors.js';
import type { Row } from '../../connectors/driver.js';
import type { BaseEntry } from '../../hub/bases.js';
import type { OpenConflicts } from '../../hub/conflicts.js';
import type { HubRecord } from '../../hub/golden.js';
import type { CrmRecord, EntityName, ModelField } from '../../model/entities.js';
import { pickFields, sameValue } from '../../model/values.js';

/** The part of a source unit planning needs. */
export interface PushTarget {
  name: string;
  writable: readonly string[];
  canInsert: boolean;
  canUpdate: boolean;
  canDelete: boolean;
  identity: boolean;
  mapping: {
    key: readonly string[];
    deleteMode: 'hard' | 'soft';
    toRow(values: CrmRecord, op: 'insert' | 'update'): Row;
    keyRow(sourceKey: string): Row;
  };
}

/** What the hub knows about the batch's records in this source. */
export interface PushState {
  keysByGid: Map<string, string[]>;
  bases: Map<string, BaseEntry>;
  open: OpenConflicts;
  /** Per ref field: gid → this source's key of the referenced record. */
  refKeys: Map<string, Map<string, string>>;
}

export interface PlannedInsert {
  gid: string;
  /** The values written, references as this source's keys. */
  values: CrmRecord;
  /** The same values as the hub holds them (references as global ids): what the base records. */
  hubValues: CrmRecord;
  row: Row;
  intentId?: number;
}
export interface PlannedUpdate {
  gid: string;
  sourceKey: string;
  /** The values written, references as this source's keys. */
  values: CrmRecord;
  /** The same values as the hub holds them (references as global ids): what the base records. */
  hubValues: CrmRecord;
  row: Row;
  base: BaseEntry | undefined;
  /** The source's canonical values of the fields to write, read just before writing (refs as its own keys). */
  old?: CrmRecord;
}
export interface PlannedDelete {
  gid: string;
  sourceKey: string;
  base: BaseEntry;
  soft: boolean;
  /** The source's canonical record read just before deleting it. */
  old?: CrmRecord;
}
export interface PushPark {
  gid: string;
  sourceKey: string | null;
  error: CrmlinkError;
  payload?: unknown;
}

export interface PushPlan {
  inserts: PlannedInsert[];
  updates: PlannedUpdate[];
  deletes: PlannedDelete[];
  parks: PushPark[];
  /** Deleted in the hub, but the source may not be deleted from: reported, not written. */
  notAllowed: { gid: string; sourceKey: string; base: BaseEntry }[];
  /**
   * Deleted in the hub with no live row in this source (never written there, or gone already):
   * nothing to write, and a push of it parked earlier (an order whose customer was not there yet)
   * is over.
   */
  settled: string[];
}

export interface PlanContext {
  entity: EntityName;
  model: ReadonlyMap<string, ModelField>;
}

export function planPush(records: readonly HubRecord[], state: PushState, target: PushTarget, ctx: PlanContext): PushPlan {
  const plan: PushPlan = { inserts: [], updates: [], deletes: [], parks: [], notAllowed: [], settled: [] };
  for (const rec of records) {
    const keys = state.keysByGid.get(rec.id) ?? [];
    if (rec.deleted) planDeletes(rec, keys, state, target, plan);
    else if (keys.length === 0) planInsert(rec, state, target, ctx, plan);
    else planUpdates(rec, keys, state, target, ctx, plan);
  }
  return plan;
}

function planDeletes(rec: HubRecord, keys: readonly string[], state: PushState, target: PushTarget, plan: PushPlan): void {
  let live = false;
  for (const sourceKey of keys) {
    const base = state.bases.get(sourceKey);
    if (!base || base.deleted) continue;
    live = true;
    if (!target.canDelete) plan.notAllowed.push({ gid: rec.id, sourceKey, base });
    else plan.deletes.push({ gid: rec.id, sourceKey, base, soft: target.mapping.deleteMode === 'soft' });
  }
  if (!live) plan.settled.push(rec.id);
}

function planInsert(rec: HubRecord, state: PushState, target: PushTarget, ctx: PlanContext, plan: PushPlan): void {
  if (!target.canInsert) return;
  // NULLs are left out so the table's defaults apply to a new row.
  const hubValues = pickNonNull(rec.values, target.writable);
  const values = withRefs(hubValues, state, target, ctx);
  if (values instanceof CrmlinkError) return void plan.parks.push({ gid: rec.id, sourceKey: null, error: values });
  try {
    const row = target.mapping.toRow(values, 'insert');
    const missing = target.identity ? [] : target.mapping.key.filter((k) => row[k] === null || row[k] === undefined);
    if (missing.length === 0) return void plan.inserts.push({ gid: rec.id, values, hubValues, row });
    const { entity } = ctx;
    const S = target.name;
    const error = new RowError(
      'ROW_REJECTED',
      `cannot insert ${entity} ${rec.id} into ${S}: key column ${missing.join(', ')} has no value (map a field such as code to it, or set entities.${entity}.sources.${S}.identity when the database generates it)`,
      { source: S, entity, column: missing[0], path: `entities.${entity}.sources.${S}.key` },
    );
    plan.parks.push({ gid: rec.id, sourceKey: null, error });
  } catch (err) {
    plan.parks.push({ gid: rec.id, sourceKey: null, error: asError(err) });
  }
}

function planUpdates(rec: HubRecord, keys: readonly string[], state: PushState, target: PushTarget, ctx: PlanContext, plan: PushPlan): void {
  const frozen = state.open.get(rec.id);
  for (const sourceKey of keys) {
    const base = state.bases.get(sourceKey);
    // Gone from the source (deleted there): not brought back by an update.
    if (base?.deleted) continue;
    const diff = target.writable.filter((f) => {
      if (frozen?.has(f)) return false; // an open conflict: a person decides first
      const v = rec.values[f] ?? null;
      // A field stored only in key columns cannot change by an update (the row is addressed by its
      // key): after a merge the survivor's code differs from the merged record's rows' keys, and
      // writing it would record in the base a value the row never took, so every pull would change it back.
      if (keyOnly(target, f, v)) return false;
      if (!base || !Object.prototype.hasOwnProperty.call(base.values, f)) return v !== null;
      return !sameValue(v, base.values[f]);
    });
    if (diff.length === 0 || !target.canUpdate) continue;
    const hubValues = pickFields(rec.values, diff);
    const values = withRefs(hubValues, state, target, ctx);
    if (values instanceof CrmlinkError) {
      plan.parks.push({ gid: rec.id, sourceKey, error: values });
      continue;
    }
    try {
      const row = { ...target.mapping.toRow(values, 'update'), ...target.mapping.keyRow(sourceKey) };
      plan.updates.push({ gid: rec.id, sourceKey, values, hubValues, row, base });
    } catch (err) {
      plan.parks.push({ gid: rec.id, sourceKey, error: asError(err) });
    }
  }
}

/** Whether field f of a record is stored in the source's key columns only. */
function keyOnly(target: PushTarget, f: string, v: CrmRecord[string]): boolean {
  let cols: string[];
  try {
    cols = Object.keys(target.mapping.toRow({ [f]: v }, 'update'));
  } catch {
    return false; // a value the mapping refuses: parked when the row is built
  }
  return cols.length > 0 && cols.every((c) => target.mapping.key.includes(c));
}

/** Ref values (global ids in the hub) → this source's keys; an error when it has none yet. */
function withRefs(values: CrmRecord, state: PushState, target: PushTarget, ctx: PlanContext): CrmRecord | CrmlinkError {
  const out = { ...values };
  for (const [field, byGid] of state.refKeys) {
    const v = out[field];
    if (v === null || v === undefined) continue;
    const key = byGid.get(String(v));
    if (key === undefined) {
      const ref = ctx.model.get(field)?.ref ?? 'record';
      return new RowError('ROW_REJECTED', `${ctx.entity}.${field} refers to ${ref} ${String(v)}, which ${target.name} does not have yet: sync ${ref} to ${target.name} first, then retry`, {
        source: target.name,
        entity: ctx.entity,
        field,
      });
    }
    out[field] = key;
  }
  return out;
}


function pickNonNull(values: CrmRecord, fields: readonly string[]): CrmRecord {
  const out: CrmRecord = {};
  for (const f of fields) if (values[f] !== null && values[f] !== undefined) out[f] = values[f];
  return out;
}

export function asError(err: unknown): CrmlinkError {
  if (err instanceof CrmlinkError) return err;
  return new RowError('ROW_REJECTED', err instanceof Error ? err.message : String(err), {}, { cause: err });
}
