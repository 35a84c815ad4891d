/**
 * Restore and undelete from record history (恢复与撤销删除): a record or some of its fields back to
 * an earlier version, a deleted record back to life, selected changes or everything a sync run
 * changed undone.
 *
 * A restore is a normal hub change: it goes through the golden record write (model checks, a new
 * version, provenance `hub`, an audit entry and its own history version) and the next push carries
 * it to every source like any edit, with compare-before-write and conflicts as usual. Undeleting
 * also repairs the links: where a source lost the row (hard delete), its cross-reference and base
 * are dropped so the push inserts the row again and links it; where the row is still there and
 * live, its base is cleared so the push writes every field; a row soft-deleted in its source gets
 * its flag cleared (to the live value the row filter names) and its base cleared too, or is
 * reported when the mapping names no live value.
 *
 * Bulk restores (`restoreChanges`, `restoreRun`) undo a field only where the record still holds
 * what the change wrote; a field changed since is left alone and reported. A record a run created
 * is reported, not deleted. `restoreRun` also writes the source values the run's push overwrote
 * (kept in the audit, `source-write`) back into each source row that still holds what the push
 * wrote; the source's base is left as it was, so the next pull reads the write-back as a change of
 * that source and merges it as usual.
 *
 * @example
 * await restoreRecord(app, 'Customer', 'cus_…', { version: 3, actor: 'alice (steward)' });
 * const plan = await restoreRun(app, 42, { actor: 'ops', dryRun: true });
 */
import type { Knex } from 'knex';
import type { Where } from '../connectors/driver.js';
import { CrmlinkError, ValidationError } from '../core/errors.js';
import { nowIso, StaleRecordError, type HubRecord } from '../hub/golden.js';
import type { HistoryEntry } from '../hub/history.js';
import { isEntityName, type CrmRecord, type CrmValue, type EntityName } from '../model/entities.js';
import { canonicalFieldValue, pickFields, sameValue } from '../model/values.js';
import type { SyncApp } from './context.js';
import { SOURCE_WRITE } from './push.js';
import { ORIGIN } from './push/source-write.js';

export interface RestoreBy {
  /** Who restores (audit and history). */
  actor: string;
  /** Fields the caller may not write (masked for its role): left out of restores, refused when named. */
  hidden?: (entity: EntityName, field: string) => boolean;
}

/** What happened to one record. */
export interface RecordRestore {
  entity: EntityName;
  id: string;
  /** The record's new version; null when nothing needed changing (or a dry run). */
  version: number | null;
  /** Fields set back. */
  fields: string[];
  undeleted: boolean;
  /** Sources the next push re-creates (or rewrites) the record in. */
  recreateIn: string[];
  /** Source rows the record cannot come back in, and why. */
  notRecreated: { source: string; key: string; reason: string }[];
  /** Fields left alone because they changed after the change being undone (bulk restores). */
  changedSince: string[];
  /** Why the record was left alone as a whole (bulk restores). */
  skipped?: string;
}

/** A write-back of source values a run's push overwrote. */
export interface SourceRestore {
  source: string;
  entity: string;
  key: string;
  id: string | null;
  fields: string[];
  status: 'restored' | 'planned' | 'changed-since' | 'gone' | 'recreated-by-undelete';
}

export interface RestorePlan {
  dryRun: boolean;
  records: RecordRestore[];
  sources: SourceRestore[];
}

function entityOf(name: string): EntityName {
  if (!isEntityName(name)) throw new ValidationError(`entity: unknown entity "${name}"`, { field: 'entity' });
  return name;
}

async function liveRecord(app: SyncApp, entity: EntityName, gid: string, q?: Knex.Transaction): Promise<HubRecord> {
  const current = await app.hub.get(entity, gid, q);
  if (!current) throw new CrmlinkError('NOT_FOUND', `${entity} ${gid} does not exist`, { entity, key: gid });
  if (current.mergedInto) {
    throw new ValidationError(`${entity} ${gid} was merged into ${current.mergedInto}: unmerge it instead of restoring it`, { entity, key: gid });
  }
  return current;
}

/** Restore a record, or the `fields` given, to what they were after `version`. */
export async function restoreRecord(app: SyncApp, entityName: string, gid: string, opts: RestoreBy & { version: number; fields?: readonly string[] }): Promise<RecordRestore> {
  const entity = entityOf(entityName);
  const current = await liveRecord(app, entity, gid);
  const target = await app.hub.store.history.stateAt(app.hub.knex, entity, current, opts.version);
  const fields = restorable(app, entity, opts);
  const patch: CrmRecord = {};
  for (const f of fields) if (!sameValue(current.values[f], target.values[f])) patch[f] = target.values[f] ?? null;
  // A whole-record restore brings the deleted state back too; restoring some fields does not.
  const deleted = opts.fields ? current.deleted : target.deleted;
  return write(app, entity, current, patch, deleted, opts, { restoredFrom: opts.version }, []);
}

/** Bring a deleted record back, re-creating it in the sources that lost it. */
export async function undeleteRecord(app: SyncApp, entityName: string, gid: string, opts: RestoreBy): Promise<RecordRestore> {
  const entity = entityOf(entityName);
  const current = await liveRecord(app, entity, gid);
  if (!current.deleted) throw new ValidationError(`${entity} ${gid} is not deleted`, { entity, key: gid });
  return write(app, entity, current, {}, false, opts, { undelete: true }, []);
}

/** Undo the given history entries (crm_history ids). */
export async function restoreChanges(app: SyncApp, ids: readonly number[], opts: RestoreBy & { dryRun?: boolean; allow?: (entity: EntityName, record: HubRecord) => Promise<boolean> }): Promise<RestorePlan> {
  const entries = await app.hub.store.history.byIds(app.hub.knex, ids);
  const missing = ids.filter((id) => !entries.some((e) => e.id === id));
  if (missing.length > 0) throw new CrmlinkError('NOT_FOUND', `no recorded change ${missing.join(', ')}`, { ids: missing.join(',') });
  return { dryRun: opts.dryRun ?? false, records: await undoEntries(app, entries, opts, {}), sources: [] };
}

/**
 * Undo everything sync run `run` changed in the hub, and (with `sources`, the default) write back
 * the source values its push overwrote.
 */
export async function restoreRun(app: SyncApp, run: number, opts: RestoreBy & { dryRun?: boolean; sources?: boolean }): Promise<RestorePlan> {
  const [found] = await app.hub.store.runs.readRuns(app.hub.knex, { limit: 1, id: run });
  if (!found) throw new CrmlinkError('NOT_FOUND', `sync run ${run} does not exist`, { run });
  const entries = await app.hub.store.history.ofRun(app.hub.knex, run);
  const dryRun = opts.dryRun ?? false;
  const records = await undoEntries(app, entries, { ...opts, dryRun }, { run });
  const sources = opts.sources === false ? [] : await writeBackSources(app, run, found.startedAt, { ...opts, dryRun });
  return { dryRun, records, sources };
}

/** The fields a restore may set: those named (checked), or every field; never a hidden one. */
function restorable(app: SyncApp, entity: EntityName, opts: RestoreBy & { fields?: readonly string[] }): string[] {
  const all = app.hub.fields(entity).map((f) => f.name);
  const hidden = (f: string) => opts.hidden?.(entity, f) ?? false;
  if (!opts.fields) return all.filter((f) => !hidden(f));
  for (const f of opts.fields) {
    if (!all.includes(f)) throw new ValidationError(`${entity} has no field ${f}`, { entity, field: f });
    if (hidden(f)) throw new CrmlinkError('FORBIDDEN', `${entity}.${f} is hidden from this role and cannot be restored by it`, { entity, field: f });
  }
  return [...new Set(opts.fields)];
}

/** Per record: each field's value before the first entry and after the last. */
interface Undo {
  entity: EntityName;
  gid: string;
  before: CrmRecord;
  after: CrmRecord;
  created: boolean;
  /** The entries deleted the record (it was live before the first). */
  deletedIt: boolean;
}

async function undoEntries(app: SyncApp, entries: readonly HistoryEntry[], opts: RestoreBy & { dryRun?: boolean; allow?: (entity: EntityName, record: HubRecord) => Promise<boolean> }, why: Record<string, unknown>): Promise<RecordRestore[]> {
  const groups = new Map<string, HistoryEntry[]>();
  for (const e of [...entries].sort((a, b) => a.version - b.version || a.id - b.id)) {
    const k = `${e.entity}\u0000${e.gid}`;
    const list = groups.get(k);
    if (list) list.push(e);
    else groups.set(k, [e]);
  }
  const out: RecordRestore[] = [];
  for (const list of groups.values()) {
    const first = list[0];
    const last = list[list.length - 1];
    const entity = entityOf(first.entity);
    const undo: Undo = { entity, gid: first.gid, before: {}, after: {}, created: first.version === 1, deletedIt: last.deleted && !first.deletedBefore };
    for (const e of list) {
      for (const c of e.changes) {
        if (!Object.prototype.hasOwnProperty.call(undo.before, c.field)) undo.before[c.field] = c.before;
        undo.after[c.field] = c.after;
      }
    }
    out.push(await undoRecord(app, undo, opts, why));
  }
  return out;
}

async function undoRecord(app: SyncApp, u: Undo, opts: RestoreBy & { dryRun?: boolean; allow?: (entity: EntityName, record: HubRecord) => Promise<boolean> }, why: Record<string, unknown>): Promise<RecordRestore> {
  const empty: RecordRestore = { entity: u.entity, id: u.gid, version: null, fields: [], undeleted: false, recreateIn: [], notRecreated: [], changedSince: [] };
  const current = await app.hub.get(u.entity, u.gid);
  if (!current) return { ...empty, skipped: 'the record no longer exists' };
  if (opts.allow && !(await opts.allow(u.entity, current))) return { ...empty, skipped: 'not visible to you' };
  if (current.mergedInto) return { ...empty, skipped: `merged into ${current.mergedInto} since: unmerge it first` };
  if (u.created) return { ...empty, skipped: 'created by the change: delete it if it should not exist' };
  const patch: CrmRecord = {};
  const changedSince: string[] = [];
  for (const [f, after] of Object.entries(u.after)) {
    if (opts.hidden?.(u.entity, f) || !app.hub.fields(u.entity).some((m) => m.name === f)) continue;
    const now = current.values[f] ?? null;
    const before = u.before[f] ?? null;
    if (sameValue(now, after)) {
      if (!sameValue(now, before)) patch[f] = before;
    } else if (!sameValue(now, before)) changedSince.push(f);
  }
  const deleted = u.deletedIt && current.deleted ? false : current.deleted;
  return write(app, u.entity, current, patch, deleted, opts, why, changedSince);
}

/**
 * The restore's golden write with the links an undelete repairs, in one hub transaction. Reads the
 * sources first (outside it) for the rows an undelete brings back.
 */
async function write(
  app: SyncApp,
  entity: EntityName,
  current: HubRecord,
  patch: CrmRecord,
  deleted: boolean,
  opts: RestoreBy & { dryRun?: boolean },
  why: Record<string, unknown>,
  changedSince: string[],
): Promise<RecordRestore> {
  const undeleting = current.deleted && !deleted;
  const relink: RelinkPlan = undeleting ? await relinkPlan(app, entity, current.id) : { drop: [], reset: [], revive: [], notRecreated: [] };
  const result: RecordRestore = {
    entity,
    id: current.id,
    version: null,
    fields: Object.keys(patch),
    undeleted: undeleting,
    recreateIn: [...new Set([...relink.drop, ...relink.reset, ...relink.revive].map((r) => r.source))],
    notRecreated: relink.notRecreated,
    changedSince,
  };
  if (opts.dryRun || (Object.keys(patch).length === 0 && !undeleting)) return result;
  const { store } = app.hub;
  const at = nowIso();
  result.version = await store.transaction(async (trx) => {
    const [written] = await store.golden.write(
      trx,
      entity,
      [
        {
          gid: current.id,
          current,
          patch,
          deleted,
          provenance: Object.fromEntries(Object.keys(patch).map((f) => [f, { source: 'hub', changedAt: at }])),
          audit: { before: { version: current.version, deleted: current.deleted, values: pickFields(current.values, Object.keys(patch)) }, after: { ...why, deleted, values: patch } },
        },
      ],
      { actor: opts.actor, action: undeleting && Object.keys(patch).length === 0 ? 'undelete' : 'restore' },
    );
    for (const [source, keys] of bySource(relink.drop)) {
      await store.xref.unlink(trx, entity, source, keys);
      await store.bases.remove(trx, entity, source, keys);
    }
    for (const [source, keys] of bySource([...relink.reset, ...relink.revive])) {
      await store.bases.save(trx, entity, source, keys.map((sourceKey) => ({ sourceKey, values: {}, deleted: false, changedAt: null })));
    }
    return written.version;
  }).catch((err: unknown) => {
    if (err instanceof StaleRecordError) throw new CrmlinkError('VERSION_CONFLICT', `${entity} ${current.id} changed while it was being restored; look at its history again and repeat the restore`, { entity, key: current.id });
    throw err;
  });
  // Soft-deleted rows come back once the hub has the record back; the push then writes every field.
  for (const r of relink.revive) {
    const m = app.sources.mapping(entity, r.source);
    const res = await app.sources
      .driver(r.source)
      .upsert([{ ...(m.softUndeleteRow() ?? {}), ...m.keyRow(r.key) }], { ...m.table, key: [...m.key], identity: false, mode: 'update', origin: ORIGIN })
      .catch((err: unknown) => [{ index: 0, status: 'error' as const, error: err instanceof Error ? err : new Error(String(err)) }]);
    const o = res[0];
    if (o?.status === 'error' || o?.status === 'missing') {
      result.recreateIn = result.recreateIn.filter((s) => s !== r.source || relink.drop.concat(relink.reset).some((x) => x.source === s));
      result.notRecreated.push({ source: r.source, key: r.key, reason: o.status === 'error' ? `clearing its delete flag failed: ${o.error.message}` : 'the row is gone' });
    }
  }
  return result;
}

function bySource(list: readonly { source: string; key: string }[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const r of list) out.set(r.source, [...(out.get(r.source) ?? []), r.key]);
  return out;
}

interface RelinkPlan {
  /** Rows gone from their source: links and bases dropped, the push inserts them again. */
  drop: { source: string; key: string }[];
  /** Rows still there and live: bases cleared, the push writes every field. */
  reset: { source: string; key: string }[];
  /** Rows soft-deleted in their source: flag cleared once the hub commits, bases cleared. */
  revive: { source: string; key: string }[];
  notRecreated: { source: string; key: string; reason: string }[];
}

/** For a record being undeleted: what each source that has (had) it needs. */
async function relinkPlan(app: SyncApp, entity: EntityName, gid: string): Promise<RelinkPlan> {
  const plan: RelinkPlan = { drop: [], reset: [], revive: [], notRecreated: [] };
  const { store } = app.hub;
  const sources = Object.keys(app.config.entities[entity]?.sources ?? {});
  for (const source of sources) {
    const keys = (await store.xref.keysByGid(app.hub.knex, entity, source, [gid])).get(gid) ?? [];
    if (keys.length === 0) continue;
    const bases = await store.bases.load(app.hub.knex, entity, source, keys);
    const m = app.sources.mapping(entity, source);
    const driver = app.sources.driver(source);
    const writable = !(app.config.sources[source]?.readOnly ?? false);
    const canInsert = writable && m.canWrite('insert');
    const canUpdate = writable && m.canWrite('update');
    for (const key of keys) {
      if (!bases.get(key)?.deleted) continue;
      const byKey: Where = { and: m.keyValues(key).map((v, j) => ({ column: m.key[j], op: 'eq' as const, value: v })) };
      const there = await driver.select({ ...m.table, columns: [...m.key], where: byKey, limit: 1 });
      if (there.length === 0) {
        if (canInsert) plan.drop.push({ source, key });
        else plan.notRecreated.push({ source, key, reason: `${source} may not be inserted into (entities.${entity}.sources.${source}.write)` });
        continue;
      }
      const live = m.filter ? await driver.select({ ...m.table, columns: [...m.key], where: { and: [m.filter, byKey] }, limit: 1 }) : there;
      if (live.length > 0) plan.reset.push({ source, key });
      else if (m.softUndeleteRow() !== null && canUpdate) plan.revive.push({ source, key });
      else plan.notRecreated.push({ source, key, reason: `the row is soft-deleted in ${source} and crmlink cannot clear its flag (the row filter names no live value for the delete column, or ${source} may not be updated): clear it there (entities.${entity}.sources.${source}.delete)` });
    }
  }
  return plan;
}

interface SourceWriteEntry {
  gid: string | null;
  entity: string;
  before: { source: string; key: string; values: CrmRecord };
  after: { source: string; key: string; run: number | null; op: 'update' | 'delete'; values: CrmRecord | null };
}

function isSourceWrite(e: { before?: unknown; after?: unknown }): e is { before: SourceWriteEntry['before']; after: SourceWriteEntry['after'] } {
  const a = e.after as Partial<SourceWriteEntry['after']> | undefined;
  const b = e.before as Partial<SourceWriteEntry['before']> | undefined;
  return !!a && !!b && typeof a.source === 'string' && typeof a.key === 'string' && typeof b.values === 'object' && b.values !== null;
}

/** Write back what run `run`'s push overwrote, where the source row still holds what it wrote. */
async function writeBackSources(app: SyncApp, run: number, since: string, opts: RestoreBy & { dryRun: boolean }): Promise<SourceRestore[]> {
  const entries = await app.hub.store.audit.byAction(app.hub.knex, SOURCE_WRITE, since);
  // The first overwrite of a row in the run holds the value before the run; the last, what the run left.
  const rows = new Map<string, SourceWriteEntry>();
  for (const e of entries) {
    if (!isSourceWrite(e) || e.after.run !== run) continue;
    const k = `${e.entity}\u0000${e.after.source}\u0000${e.after.key}`;
    const prev = rows.get(k);
    rows.set(k, prev ? { ...prev, before: { ...prev.before, values: { ...e.before.values, ...prev.before.values } }, after: e.after } : { gid: e.gid ?? null, entity: e.entity, before: e.before, after: e.after });
  }
  const out: SourceRestore[] = [];
  for (const w of rows.values()) {
    const entity = entityOf(w.entity);
    const { source, key } = w.after;
    const fields = Object.keys(w.after.values ?? w.before.values);
    const item: SourceRestore = { source, entity, key, id: w.gid, fields, status: 'planned' };
    out.push(item);
    if (w.after.op === 'delete') {
      // The row is gone: undeleting the hub record (above) re-creates it through the push.
      item.status = 'recreated-by-undelete';
      continue;
    }
    const m = app.sources.mapping(entity, source);
    const driver = app.sources.driver(source);
    const byKey: Where = { and: m.keyValues(key).map((v, j) => ({ column: m.key[j], op: 'eq' as const, value: v })) };
    const [row] = await driver.select({ ...m.table, columns: m.columns, where: byKey, limit: 1 });
    if (!row) {
      item.status = 'gone';
      continue;
    }
    const model = new Map(app.hub.fields(entity).map((f) => [f.name, f]));
    const rec = m.toRecord(row);
    const now = (f: string): CrmValue => {
      const mf = model.get(f);
      return mf ? canonicalFieldValue(mf, rec[f]) : (rec[f] ?? null);
    };
    if (fields.some((f) => !sameValue(now(f), w.after.values?.[f] ?? null))) {
      item.status = 'changed-since';
      continue;
    }
    if (opts.dryRun) continue;
    const values = pickFields(w.before.values, fields);
    const res = await driver.upsert([{ ...m.toRow(values, 'update'), ...m.keyRow(key) }], { ...m.table, key: [...m.key], identity: false, mode: 'update', origin: ORIGIN });
    const o = res[0];
    if (o?.status === 'error') throw o.error;
    item.status = o?.status === 'missing' ? 'gone' : 'restored';
    await app.hub.store.audit.record(app.hub.knex, {
      actor: opts.actor,
      action: 'restore-source',
      entity,
      gid: w.gid,
      before: { source, key, values: pickFields(Object.fromEntries(fields.map((f) => [f, now(f)])), fields) },
      after: { source, key, run, values },
    });
  }
  return out;
}
