/**
 * Pull: one source's changes into the hub, a page at a time.
 *
 * For each page read from the source (changesSince the stored checkpoint): rows are mapped to CRM
 * records, linked to golden records (cross-reference, else identity matching), merged field by
 * field against the base and the hub, and written — hub records (new `_version`, a fresh `_seq`
 * so the push sees them), provenance, conflicts, new bases and the checkpoint — in ONE hub
 * transaction. A crash anywhere before the commit leaves the hub as it was and the checkpoint
 * where it was: the page is simply read again.
 *
 * Full-scan (hash) snapshots span pages and commits; the keys seen so far are recorded in the hub
 * (crm_sync_seen) so that, when the snapshot ends, a key with a live base that was not seen is a
 * delete — even if the snapshot was resumed after a crash.
 */
import { isUtf8 } from 'node:buffer';
import type { Knex } from 'knex';
import { DatabaseError, RowError } from '../core/errors.js';
import { sameValue } from '../model/values.js';
import type { Change, ChangeBatch, Row } from '../connectors/driver.js';
import { encodeKey } from '../connectors/keys.js';
import { ENTITY_SYSTEM_COLUMNS as C, SYSTEM_TABLES as T } from '../hub/tables.js';
import type { HubRecord } from '../hub/hub.js';
import type { CrmRecord, CrmValue } from '../model/entities.js';
import { readSourceCheckpoint, writeSourceCheckpoint, type SourceCheckpoint } from '../hub/checkpoints.js';
import type { RunContext, SourceUnit } from './context.js';
import { addStats } from './context.js';
import type { LinkDecision } from './identity.js';
import { mergeSource, policyFor, type FieldConflict, type HubSide } from './three-way-merge.js';
import { SYNC_TABLES } from '../hub/sync-tables.js';
import { park, unparkKeys } from '../hub/parked.js';
import {
  chunks,
  insertXrefs,
  rowsPerInsert,
  loadBases,
  loadOpenConflicts,
  loadProvenance,
  loadXref,
  unseenBaseKeys,
  upsertBases,
  upsertProvenance,
  writeConflicts,
  type BaseEntry,
  type BaseWrite,
  type ConflictWrite,
} from './state.js';
import { emptyStats, type PlannedConflict, type PlannedWrite, type SourceStats } from './types.js';

/** What a page did, applied to the run's totals only once its transaction has committed. */
export class PageLog {
  readonly stats: SourceStats = emptyStats();
  readonly writes: [string, PlannedWrite][] = [];
  readonly conflicts: [string, PlannedConflict][] = [];
  readonly written: { gid: string; values: CrmRecord; deleted: boolean }[] = [];

  commit(ctx: RunContext, source: string): void {
    addStats(ctx.stats[source], this.stats);
    for (const [t, w] of this.writes) ctx.planWrite(t, w);
    for (const [t, c] of this.conflicts) ctx.planConflict(t, c);
    for (const w of this.written) ctx.linker.update(w.gid, w.values, w.deleted);
  }
}

/** Read every change of one source since its checkpoint and apply it, page by page. */
export async function pullSource(ctx: RunContext, unit: SourceUnit): Promise<void> {
  let cp = await readSourceCheckpoint(ctx.hub.q, ctx.job, unit.name);
  const estimated = ctx.opts.onProgress ? await estimateRows(ctx, unit, cp) : null;
  let done = 0;
  for (let page = 1; ; page++) {
    ctx.opts.signal?.throwIfAborted();
    const position = cp.position;
    const batch = await ctx.retry(
      () => unit.driver.changesSince(unit.mapping.capture, position, { pageSize: ctx.cfg.batchSize, signal: ctx.opts.signal }),
      `read ${unit.name}`,
    );
    await ctx.fault('after-read', 'pull', unit.name, page, batch.changes.length);
    const next: SourceCheckpoint = {
      position: batch.checkpoint,
      inScan: batch.snapshot && batch.hasMore,
      loadedAt: cp.loadedAt ?? (batch.hasMore ? null : new Date().toISOString()),
    };
    const startScan = batch.snapshot && !cp.inScan;
    const log = await ctx.retry(async () => {
      try {
        return await ctx.hub.tx((trx) => applyPage(ctx, unit, trx, batch, { page, startScan, checkpoint: next }));
      } catch (err) {
        ctx.linker.invalidate();
        throw err;
      }
    }, `apply ${unit.name} page ${page}`);
    log.commit(ctx, unit.name);
    cp = next;
    done += batch.changes.length;
    ctx.progress('pull', unit.name, done, estimated);
    if (!batch.hasMore) break;
  }
}

async function estimateRows(ctx: RunContext, unit: SourceUnit, cp: SourceCheckpoint): Promise<number | null> {
  // Only the first load is worth a count: later runs read a handful of changes.
  if (cp.loadedAt !== null && unit.mapping.capture.strategy !== 'hash') return null;
  try {
    const rows = await unit.driver.aggregate({ ...unit.mapping.table, where: unit.mapping.filter, aggregates: [{ fn: 'count', as: 'n' }] });
    return Number(rows[0]?.n ?? 0);
  } catch {
    return null;
  }
}

interface PageMeta {
  page: number;
  /** The first page of a hash snapshot: forget the keys seen by the previous one. */
  startScan: boolean;
  /** Stored at the end of the page; null: leave the checkpoint alone (retrying parked rows). */
  checkpoint: SourceCheckpoint | null;
}

type Item =
  | { kind: 'upsert'; sourceKey: string; record: CrmRecord; change: Change }
  | { kind: 'delete'; sourceKey: string; change: Change | null };

/** The hub's side of one golden record while a page works on it. */
interface Working {
  gid: string;
  exists: boolean;
  isNew: boolean;
  version: number;
  deleted: boolean;
  wasDeleted: boolean;
  values: CrmRecord;
  changedAt: Record<string, string>;
  provenance: Record<string, string>;
  updatedAt: string | null;
  /** Fields changed by this page, with the source and time of the change. */
  changed: Map<string, string>;
  sourceKey: string;
}

/** Apply one page of changes inside `trx`. Exported for retrying parked rows. */
export async function applyPage(ctx: RunContext, unit: SourceUnit, trx: Knex.Transaction, batch: ChangeBatch, meta: PageMeta): Promise<PageLog> {
  const { job, entity } = ctx;
  const S = unit.name;
  const log = new PageLog();
  const st = log.stats;
  const now = new Date().toISOString();
  st.read = batch.changes.length;

  // 1. Rows → records. A row that cannot be mapped is parked; the others go on.
  const items = new Map<string, Item>();
  const seenKeys: string[] = [];
  for (const change of batch.changes) {
    if (change.changedAt) {
      const at = change.changedAt.toISOString();
      if (st.oldestChange === null || at < st.oldestChange) st.oldestChange = at;
    }
    if (change.op === 'delete' || !change.row) {
      const sourceKey = encodeKey(change.key);
      items.delete(sourceKey);
      items.set(sourceKey, { kind: 'delete', sourceKey, change });
      continue;
    }
    const row = change.row;
    const sourceKey = unit.mapping.sourceKey(row);
    seenKeys.push(sourceKey);
    try {
      const record = ctx.canonicalize(unit.mapping.toRecord(row), unit.fields);
      checkEncoding(ctx, unit, row, record, sourceKey);
      items.delete(sourceKey); // a later change of the same key replaces an earlier one
      items.set(sourceKey, { kind: 'upsert', sourceKey, record, change });
    } catch (err) {
      items.delete(sourceKey);
      await park(trx, { job, entity, source: S, sourceKey, gid: null, direction: 'pull', error: err, payload: rowPayload(row) });
      st.parked++;
    }
  }

  // 2. Snapshot bookkeeping: keys seen so far, and at the end, the keys that were not. (A dry
  // run does the same inside its transaction, which is rolled back.)
  if (batch.snapshot) {
    if (meta.startScan) await trx(SYNC_TABLES.seen).where({ job, source: S }).delete();
    for (const part of chunks([...new Set(seenKeys)], 500)) {
      await trx(SYNC_TABLES.seen)
        .insert(part.map((k) => ({ job, source: S, source_key: k })))
        .onConflict(['job', 'source', 'source_key'])
        .ignore();
    }
    if (!batch.hasMore) {
      for (const k of await unseenBaseKeys(trx, entity, S, job, SYNC_TABLES.seen)) {
        if (!items.has(k)) items.set(k, { kind: 'delete', sourceKey: k, change: null });
      }
      await trx(SYNC_TABLES.seen).where({ job, source: S }).delete();
    }
  }

  // 3. References: source keys → global ids.
  await translateRefs(ctx, unit, trx, items, log);

  // 4. Cross-reference, bases, identity for unknown keys.
  const keys = [...items.keys()];
  const xref = await loadXref(trx, entity, S, keys);
  const bases = await loadBases(trx, entity, S, keys);
  const unknown = [...items.values()].filter((i): i is Extract<Item, { kind: 'upsert' }> => i.kind === 'upsert' && !xref.has(i.sourceKey));
  const decisions = await ctx.linker.link(
    trx,
    S,
    unknown.map((i) => ({ sourceKey: i.sourceKey, record: i.record })),
  );

  // 5. The golden records involved, with their provenance and open conflicts.
  const gidOf = (key: string): string | null => xref.get(key)?.gid ?? decisions.get(key)?.gid ?? null;
  const existingGids = new Set<string>();
  for (const k of keys) {
    const x = xref.get(k);
    const d = decisions.get(k);
    if (x) existingGids.add(x.gid);
    else if (d && !d.isNew) existingGids.add(d.gid);
  }
  const records = await loadFollowingMerges(ctx, trx, [...existingGids]);
  const allGids = [...new Set([...records.values()].map((r) => r.id))];
  const provenance = await loadProvenance(trx, entity, allGids);
  const open = await loadOpenConflicts(trx, entity, allGids);

  const working = new Map<string, Working>();
  const work = (gid: string, sourceKey: string, decision: LinkDecision | undefined): Working => {
    const rec = records.get(gid);
    const id = rec?.id ?? gid;
    let w = working.get(id);
    if (w) return w;
    const p = provenance.get(id);
    w = rec
      ? {
          gid: id,
          exists: true,
          isNew: false,
          version: rec.version,
          deleted: rec.deleted,
          wasDeleted: rec.deleted,
          values: { ...rec.values },
          changedAt: { ...(p?.changedAt ?? {}) },
          provenance: { ...(p?.source ?? {}) },
          updatedAt: rec.updatedAt,
          changed: new Map(),
          sourceKey,
        }
      : {
          gid: id,
          exists: false,
          isNew: decision?.isNew ?? true,
          version: 0,
          deleted: false,
          wasDeleted: false,
          values: {},
          changedAt: {},
          provenance: {},
          updatedAt: null,
          changed: new Map(),
          sourceKey,
        };
    working.set(id, w);
    return w;
  };

  const baseWrites: BaseWrite[] = [];
  const xrefWrites: { entity: string; source: string; sourceKey: string; gid: string; rule: string | null }[] = [];
  const conflictWrites: ConflictWrite[] = [];
  const candidates: { gidA: string; gidB: string; score: number; rule: string; reason: string }[] = [];
  const done: string[] = [];

  const addConflict = (w: Working, sourceKey: string, c: FieldConflict) => {
    conflictWrites.push({ gid: w.gid, conflict: c });
    if (c.status === 'open') st.conflicts++;
    else st.autoResolved++;
    log.conflicts.push([S, { gid: w.gid, sourceKey, field: c.field, values: c.values, rule: c.rule, winner: c.winner, reason: c.reason }]);
  };

  // 6. Decide, item by item, in the order the source gave them.
  let half = Math.ceil(items.size / 2);
  for (const item of items.values()) {
    if (--half === 0) await ctx.fault('mid-batch', 'pull', S, meta.page, items.size);
    const base = bases.get(item.sourceKey);
    const decision = decisions.get(item.sourceKey);
    const gid = gidOf(item.sourceKey);

    if (item.kind === 'delete') {
      if (!base || base.deleted) continue; // never synced, or already known to be gone
      baseWrites.push({ sourceKey: item.sourceKey, values: base.values, deleted: true, changedAt: item.change?.changedAt?.toISOString() ?? now });
      done.push(item.sourceKey);
      if (!gid) continue;
      const w = work(gid, item.sourceKey, undefined);
      if (!w.exists || w.deleted) continue;
      const moved = unit.fields.filter((f) => Object.prototype.hasOwnProperty.call(base.values, f) && !sameValue(w.values[f], base.values[f]));
      if (moved.length > 0) {
        // A delete against edits the hub made since: the delete wins, the edits are named.
        addConflict(w, item.sourceKey, {
          field: '_deleted',
          base: null,
          values: { hub: JSON.stringify(pick(w.values, moved)), [S]: null },
          rule: 'manual',
          winner: S,
          status: 'auto',
          source: S,
          reason: `deleted in ${S} while ${moved.join(', ')} changed in the hub since the last sync; the delete wins, the hub's values are kept here`,
        });
      }
      w.deleted = true;
      w.changed.set('_deleted', S);
      continue;
    }

    const { record, change } = item;
    const sameAsBase = base !== undefined && !movedFromBase(record, base.values, unit.fields);
    if (sameAsBase && !base.deleted) {
      st.unchanged++;
      done.push(item.sourceKey);
      continue;
    }
    if (!gid) continue; // unreachable: every upsert has a link decision
    const w = work(gid, item.sourceKey, decision);
    const at = change.changedAt?.toISOString() ?? null;
    done.push(item.sourceKey);
    if (decision && !xref.has(item.sourceKey)) {
      xrefWrites.push({ entity, source: S, sourceKey: item.sourceKey, gid: w.gid, rule: decision.rule });
      if (decision.isNew) st.created++;
      else st.linked++;
      if (decision.candidate) {
        candidates.push({ gidA: w.gid, gidB: decision.candidate.gid, ...pickCandidate(decision.candidate) });
        st.mergeCandidates++;
      }
      if (decision.invalidCode) ctx.app.logger.warn({ job, source: S, key: item.sourceKey }, `invalid credit code ${decision.invalidCode}`);
    }

    if ((base && base.deleted) || (w.exists && w.deleted)) {
      if (sameAsBase) {
        st.unchanged++;
        continue;
      }
      // Edited (or re-created) in the source after the record was deleted: it stays deleted,
      // and the edit is named so nothing is lost silently.
      addConflict(w, item.sourceKey, {
        field: '_deleted',
        base: null,
        values: { hub: null, [S]: JSON.stringify(record) },
        rule: 'manual',
        winner: 'hub',
        status: 'auto',
        source: S,
        reason: `${S} row ${item.sourceKey} changed after the record was deleted; it stays deleted (its values are kept here)`,
      });
      baseWrites.push({ sourceKey: item.sourceKey, values: record, deleted: base?.deleted ?? false, changedAt: at });
      continue;
    }

    const hubSide: HubSide = { exists: w.exists || w.changed.size > 0, values: w.values, changedAt: w.changedAt, provenance: w.provenance, updatedAt: w.updatedAt };
    const r = mergeSource(hubSide, { source: S, base: base ? base.values : null, values: record, fields: unit.fields, changedAt: change.changedAt }, ctx.policies);
    for (const ch of r.changes) {
      w.values[ch.field] = ch.to;
      w.changedAt[ch.field] = at ?? now;
      w.provenance[ch.field] = S;
      w.changed.set(ch.field, S);
    }
    for (const c of r.conflicts) addConflict(w, item.sourceKey, c);
    // A field with an open conflict still takes one-sided changes; the conflict must show the new
    // value, or whoever resolves it could overwrite a value they were never shown.
    for (const ch of r.changes) {
      if (!open.get(w.gid)?.has(ch.field) || r.conflicts.some((c) => c.field === ch.field)) continue;
      conflictWrites.push({
        gid: w.gid,
        conflict: {
          field: ch.field,
          base: undefined,
          values: { hub: ch.to, [S]: ch.to },
          rule: policyFor(ctx.policies, ch.field) as FieldConflict['rule'],
          winner: null,
          status: 'open',
          source: S,
          reason: `${ch.field} changed in ${S} to ${JSON.stringify(ch.to)} while this conflict was open; the hub took it (it had not changed since ${S} last synced), so it is one of the values to choose from`,
        },
      });
    }
    if (!w.exists && w.changed.size === 0) {
      // A brand-new record whose mapped fields are all null still has to exist.
      w.changed.set('_created', S);
    }
    if (r.changes.length === 0 && r.conflicts.length === 0) st.unchanged++;
    baseWrites.push({ sourceKey: item.sourceKey, values: r.base, deleted: false, changedAt: at });
  }

  // 7. Write the hub records: one sequence block for the page, optimistic version check.
  const dirty = [...working.values()].filter((w) => w.changed.size > 0);
  const hubTable = ctx.app.hub.table(entity);
  if (dirty.length > 0) {
    let seq = await ctx.app.hub.nextSeq(trx, dirty.length);
    const inserts: Record<string, unknown>[] = [];
    for (const w of dirty) {
      const s = seq++;
      if (!w.exists) {
        const values: CrmRecord = {};
        for (const f of ctx.fields) values[f.name] = w.values[f.name] ?? null;
        inserts.push({ [C.id]: w.gid, ...ctx.app.hub.toRow(entity, values), [C.version]: 1, [C.seq]: s, [C.updatedAt]: now, [C.deleted]: false });
        st.hubInserted++;
        log.writes.push(['hub', { op: 'insert', gid: w.gid, sourceKey: w.sourceKey, values }]);
        log.written.push({ gid: w.gid, values, deleted: false });
        continue;
      }
      const fields = [...w.changed.keys()].filter((f) => !f.startsWith('_'));
      const set = { ...ctx.app.hub.toRow(entity, pick(w.values, fields)), [C.version]: w.version + 1, [C.seq]: s, [C.updatedAt]: now, [C.deleted]: w.deleted };
      const n = await trx(hubTable).where({ [C.id]: w.gid, [C.version]: w.version }).update(set);
      if (n !== 1) {
        // Someone (GraphQL, a merge) changed the record between our read and this write.
        throw new DatabaseError('DB_TRANSIENT', `hub record ${w.gid} changed during the sync of ${S}; the page is applied again`, { entity, source: S, key: w.sourceKey });
      }
      if (w.deleted && !w.wasDeleted) {
        st.hubDeleted++;
        log.writes.push(['hub', { op: 'delete', gid: w.gid, sourceKey: w.sourceKey }]);
      } else {
        st.hubUpdated++;
        log.writes.push(['hub', { op: 'update', gid: w.gid, sourceKey: w.sourceKey, values: pick(w.values, fields) }]);
      }
      log.written.push({ gid: w.gid, values: w.values, deleted: w.deleted });
    }
    for (const part of chunks(inserts, rowsPerInsert(ctx.fields.length + 6, trx))) await trx(hubTable).insert(part);
  }
  await ctx.fault('after-hub-write', 'pull', S, meta.page, items.size);

  // 8. Provenance, identity, conflicts, bases: the rest of the page, same transaction.
  const prov = dirty.flatMap((w) =>
    [...w.changed.keys()].filter((f) => !f.startsWith('_')).map((field) => ({ gid: w.gid, field, source: S, changedAt: w.changedAt[field] ?? now })),
  );
  await upsertProvenance(trx, entity, prov);
  await insertXrefs(trx, xrefWrites);
  await writeConflicts(trx, job, entity, conflictWrites, open);
  for (const c of candidates) {
    await trx(T.mergeCandidate)
      .insert({ entity, gid_a: c.gidA, gid_b: c.gidB, score: c.score, rule: c.rule, reason: c.reason, status: 'open', created_at: now })
      .onConflict(['entity', 'gid_a', 'gid_b'])
      .ignore();
  }
  await upsertBases(trx, entity, S, baseWrites);
  await unparkKeys(trx, job, S, 'pull', done);
  await ctx.fault('before-checkpoint', 'pull', S, meta.page, items.size);
  if (meta.checkpoint) await writeSourceCheckpoint(trx, job, S, meta.checkpoint);
  return log;
}

/** Hub records by gid, following `_merged_into` to the survivor (keyed by the gid asked for). */
async function loadFollowingMerges(ctx: RunContext, trx: Knex.Transaction, gids: string[]): Promise<Map<string, HubRecord>> {
  const out = new Map<string, HubRecord>();
  let pending = gids;
  const asked = new Map<string, string>(gids.map((g) => [g, g]));
  for (let depth = 0; depth < 5 && pending.length > 0; depth++) {
    const found = await ctx.app.hub.getMany(ctx.entity, pending, trx);
    const next: string[] = [];
    for (const g of pending) {
      const rec = found.get(g);
      if (!rec) continue;
      const origin = asked.get(g) ?? g;
      if (rec.mergedInto) {
        asked.set(rec.mergedInto, origin);
        next.push(rec.mergedInto);
      } else out.set(origin, rec);
    }
    pending = next;
  }
  return out;
}

/** Ref fields hold source keys in the source and global ids in the hub. */
async function translateRefs(ctx: RunContext, unit: SourceUnit, trx: Knex.Transaction, items: Map<string, Item>, log: PageLog): Promise<void> {
  const refFields = unit.fields.map((f) => ctx.fieldByName.get(f)!).filter((f) => f.type === 'ref' && f.ref);
  for (const f of refFields) {
    const target = f.ref!;
    const wanted = new Set<string>();
    for (const i of items.values()) if (i.kind === 'upsert' && i.record[f.name] !== null && i.record[f.name] !== undefined) wanted.add(String(i.record[f.name]));
    if (wanted.size === 0) continue;
    const found = await loadXref(trx, target, unit.name, [...wanted]);
    for (const [key, i] of items) {
      if (i.kind !== 'upsert') continue;
      const v = i.record[f.name];
      if (v === null || v === undefined) continue;
      const x = found.get(String(v));
      if (x) {
        i.record[f.name] = x.gid;
        continue;
      }
      items.delete(key);
      const err = new RowError(
        'ROW_REJECTED',
        `${ctx.entity}.${f.name} refers to ${target} ${String(v)} of ${unit.name}, which is not in the hub yet: sync ${target} first, then retry the parked rows`,
        { source: unit.name, entity: ctx.entity, key, field: f.name },
      );
      await park(trx, { job: ctx.job, entity: ctx.entity, source: unit.name, sourceKey: key, gid: null, direction: 'pull', error: err, payload: i.record });
      log.stats.parked++;
    }
  }
}

/**
 * Whether the source's values differ from its base. A field the base does not hold (never written
 * to or read from this source, e.g. a NULL left out of an insert) counts only when it has a value.
 */
function movedFromBase(record: CrmRecord, base: CrmRecord, fields: readonly string[]): boolean {
  for (const f of fields) {
    const v = record[f] ?? null;
    if (Object.prototype.hasOwnProperty.call(base, f) ? !sameValue(v, base[f]) : v !== null) return true;
  }
  return false;
}

function pick(values: CrmRecord, fields: readonly string[]): CrmRecord {
  const out: CrmRecord = {};
  for (const f of fields) out[f] = values[f] ?? null;
  return out;
}

/**
 * Text that was not valid UTF-8 in the source (bytes a driver replaced by U+FFFD, or binary bytes
 * under a text field) would be stored and pushed everywhere as garbage, the original lost: the row
 * is rejected (and parked) instead, naming the field, column and key.
 */
function checkEncoding(ctx: RunContext, unit: SourceUnit, row: Row, record: CrmRecord, sourceKey: string): void {
  for (const field of unit.fields) {
    const type = ctx.fieldByName.get(field)?.type;
    if (type !== 'string' && type !== 'text') continue;
    const column = unit.mapping.fieldColumn(field)?.column;
    const raw = column === undefined ? undefined : row[column];
    const v = record[field];
    const broken = Buffer.isBuffer(raw) ? !isUtf8(raw) : typeof v === 'string' && v.includes('\uFFFD');
    if (!broken) continue;
    const where = `${unit.name}.${unit.mapping.table.table}${column ? `.${column}` : ''}`;
    const shown = Buffer.isBuffer(raw) ? `bytes 0x${raw.toString('hex').slice(0, 64)}` : `value ${JSON.stringify(String(v).slice(0, 64))}`;
    throw new RowError('ROW_REJECTED', `${ctx.entity}.${field} from ${where} (key ${sourceKey}): not valid UTF-8 text (${shown}); fix the encoding in ${unit.name}`, {
      source: unit.name,
      entity: ctx.entity,
      key: sourceKey,
      field,
      ...(column ? { column } : {}),
    });
  }
}

function pickCandidate(c: { score: number; rule: string; reason: string }): { score: number; rule: string; reason: string } {
  return { score: c.score, rule: c.rule, reason: c.reason };
}

function rowPayload(row: Row): Record<string, CrmValue> {
  const out: Record<string, CrmValue> = {};
  for (const [k, v] of Object.entries(row)) {
    out[k] = v === null || v === undefined ? null : v instanceof Date ? v.toISOString() : typeof v === 'number' || typeof v === 'boolean' ? v : Buffer.isBuffer(v) ? `0x${v.toString('hex')}` : String(v);
  }
  return out;
}
