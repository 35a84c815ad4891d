/**
 * Push stage 3, write to the source: a batch's planned inserts, updates and deletes, one driver
 * call each (the driver writes a batch in one transaction and reports an outcome per row). A row
 * the source refuses is parked with its error; the rest of the batch goes on. Returns what the
 * hub must learn: new links, new bases, the records that went through.
 */
import { RowError } from '../../core/errors.js';
import type { KeyValues, RowOutcome, WriteOptions } from '../../connectors/driver.js';
import { encodeKey } from '../../connectors/keys.js';
import type { BaseWrite } from '../../hub/bases.js';
import type { XrefLink } from '../../hub/xref.js';
import type { CrmRecord } from '../../model/entities.js';
import type { RunContext, SourceUnit } from '../context.js';
import type { PlannedDelete, PlannedInsert, PlannedUpdate, PushPark, PushPlan } from './plan.js';

export const ORIGIN = 'crmlink';

export interface SourceResult {
  links: XrefLink[];
  bases: BaseWrite[];
  /** gids whose rows went through (their parked entries are done). */
  ok: string[];
  parks: PushPark[];
  /** Rows updated or deleted, with the values they held before (for the audit). */
  overwritten: { gid: string; sourceKey: string; op: 'update' | 'delete'; old: CrmRecord; values: CrmRecord | null }[];
  inserted: number;
  updated: number;
  deleted: number;
}

/** Which planned inserts are already in the source (index → key); see push.ts findInserted. */
export type FindInserted = (inserts: readonly PlannedInsert[]) => Promise<Map<number, KeyValues>>;

export function writeOptions(ctx: RunContext, unit: SourceUnit): WriteOptions {
  return { key: unit.mapping.key, ...unit.mapping.table, identity: unit.identity, origin: ORIGIN, signal: ctx.opts.signal };
}

export async function insertRows(ctx: RunContext, unit: SourceUnit, inserts: readonly PlannedInsert[], findInserted: FindInserted, out: SourceResult): Promise<void> {
  if (inserts.length === 0) return;
  const outcomes = await ctx.retry(async (attempt) => {
    // After a failure the earlier attempt may have committed: find what is already there.
    const already = attempt > 1 ? await findInserted(inserts) : new Map<number, KeyValues>();
    const rest = inserts.map((_, i) => i).filter((i) => !already.has(i));
    const res = await unit.driver.upsert(
      rest.map((i) => inserts[i].row),
      { ...writeOptions(ctx, unit), mode: 'insert' },
    );
    const all: RowOutcome[] = new Array(inserts.length);
    for (const [i, key] of already) all[i] = { index: i, key, status: 'inserted' };
    res.forEach((o, j) => (all[rest[j]] = { ...o, index: rest[j] }));
    return all;
  }, `insert into ${unit.name}`);
  outcomes.forEach((o, i) => {
    const p = inserts[i];
    if (o.status === 'error') return void out.parks.push({ gid: p.gid, sourceKey: null, error: o.error, payload: p.values });
    const sourceKey = unit.identity ? encodeKey(o.key) : unit.mapping.sourceKey(p.row);
    out.links.push({ entity: ctx.entity, source: unit.name, sourceKey, gid: p.gid, rule: 'insert' });
    // The base holds references as global ids, as the pull compares them (not the keys written).
    out.bases.push({ sourceKey, values: p.hubValues, deleted: false, changedAt: null });
    out.ok.push(p.gid);
    out.inserted++;
  });
}

export async function updateRows(ctx: RunContext, unit: SourceUnit, updates: readonly PlannedUpdate[], out: SourceResult): Promise<void> {
  if (updates.length === 0) return;
  const S = unit.name;
  const outcomes = await ctx.retry(() => unit.driver.upsert(updates.map((u) => u.row), { ...writeOptions(ctx, unit), identity: false, mode: 'update' }), `update ${S}`);
  outcomes.forEach((o, i) => {
    const u = updates[i];
    if (o.status === 'error') return void out.parks.push({ gid: u.gid, sourceKey: u.sourceKey, error: o.error, payload: u.values });
    if (o.status === 'missing') {
      const error = new RowError('ROW_REJECTED', `${S} row ${u.sourceKey} no longer exists; the hub record was kept`, { source: S, entity: ctx.entity, key: u.sourceKey });
      return void out.parks.push({ gid: u.gid, sourceKey: u.sourceKey, error, payload: u.values });
    }
    out.bases.push({ sourceKey: u.sourceKey, values: { ...(u.base?.values ?? {}), ...u.hubValues }, deleted: false, changedAt: null });
    out.ok.push(u.gid);
    if (o.status !== 'unchanged') out.updated++;
    if (o.status !== 'unchanged' && u.old) out.overwritten.push({ gid: u.gid, sourceKey: u.sourceKey, op: 'update', old: u.old, values: u.values });
  });
}

export async function deleteRows(ctx: RunContext, unit: SourceUnit, deletes: readonly PlannedDelete[], out: SourceResult): Promise<void> {
  const soft = deletes.filter((d) => d.soft);
  const hard = deletes.filter((d) => !d.soft);
  const done: [PlannedDelete, RowOutcome][] = [];
  if (soft.length > 0) {
    // A soft delete is an update of the flag columns.
    const flag = unit.mapping.softDeleteRow();
    const rows = soft.map((d) => ({ ...flag, ...unit.mapping.keyRow(d.sourceKey) }));
    const res = await ctx.retry(() => unit.driver.upsert(rows, { ...writeOptions(ctx, unit), identity: false, mode: 'update' }), `soft-delete in ${unit.name}`);
    res.forEach((o, i) => done.push([soft[i], o]));
  }
  if (hard.length > 0) {
    const res = await ctx.retry(() => unit.driver.delete(hard.map((d) => unit.mapping.keyValues(d.sourceKey)), writeOptions(ctx, unit)), `delete from ${unit.name}`);
    res.forEach((o, i) => done.push([hard[i], o]));
  }
  for (const [d, o] of done) {
    if (o.status === 'error') {
      out.parks.push({ gid: d.gid, sourceKey: d.sourceKey, error: o.error });
      continue;
    }
    // 'missing' is fine: already gone.
    out.bases.push({ sourceKey: d.sourceKey, values: d.base.values, deleted: true, changedAt: null });
    out.ok.push(d.gid);
    if (o.status === 'deleted' || o.status === 'updated') {
      out.deleted++;
      if (d.old) out.overwritten.push({ gid: d.gid, sourceKey: d.sourceKey, op: 'delete', old: d.old, values: null });
    }
  }
}

/** The planned writes of a batch, in order: inserts, (fault point), updates, deletes. */
export async function writeToSource(ctx: RunContext, unit: SourceUnit, plan: PushPlan, findInserted: FindInserted, fault: () => Promise<void>): Promise<SourceResult> {
  const out: SourceResult = { links: [], bases: [], ok: [], parks: [...plan.parks], overwritten: [], inserted: 0, updated: 0, deleted: 0 };
  await insertRows(ctx, unit, plan.inserts, findInserted, out);
  await fault();
  await updateRows(ctx, unit, plan.updates, out);
  await deleteRows(ctx, unit, plan.deletes, out);
  return out;
}
