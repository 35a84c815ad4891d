/**
 * Push: hub changes out to the job's sources, in batches.
 *
 * Every hub record changed since the job's hub checkpoint (`_seq`), which includes everything the
 * pull just wrote, is compared — restricted to the fields each source may be written — with that
 * source's base. Only differing fields are written (so a concurrent edit of another field in the
 * source is not overwritten), then the written values become the new base in the hub. That is what
 * makes the next read of our own write a no-op: no echo, even where the database cannot tag the
 * write's origin.
 *
 * Crash safety: a source commit and the hub's record of it cannot be one transaction. Updates and
 * deletes are idempotent, so repeating them after a crash is harmless. Inserts are not: each is
 * first recorded as an intent in the hub; an intent left over after a crash (or a retry after a
 * failure whose outcome is unknown) is checked by reading the source back before anything is
 * inserted again.
 */
import { CrmlinkError, RowError } from '../core/errors.js';
import { sameValue } from '../model/values.js';
import type { KeyValues, Row, RowOutcome, Where } from '../connectors/driver.js';
import { encodeKey } from '../connectors/keys.js';
import { ENTITY_SYSTEM_COLUMNS as C } from '../hub/tables.js';
import type { HubRecord } from '../hub/hub.js';
import type { CrmRecord } from '../model/entities.js';
import { readHubCheckpoint, writeHubCheckpoint } from '../hub/checkpoints.js';
import type { RunContext, SourceUnit } from './context.js';
import { SYNC_TABLES } from '../hub/sync-tables.js';
import { park, unparkKeys } from '../hub/parked.js';
import { chunks, insertXrefs, loadBases, loadKeysByGid, loadOpenConflicts, loadXref, upsertBases, writeConflicts, type BaseEntry, type BaseWrite } from './state.js';
import { emptyStats, type SourceStats } from './types.js';
import { addStats } from './context.js';

export const ORIGIN = 'crmlink';

interface PlannedInsert {
  gid: string;
  values: CrmRecord;
  row: Row;
  intentId?: number;
}

interface PlannedUpdate {
  gid: string;
  sourceKey: string;
  values: CrmRecord;
  row: Row;
  base: BaseEntry | undefined;
}

interface PlannedDelete {
  gid: string;
  sourceKey: string;
  base: BaseEntry;
  soft: boolean;
}

/** Push every hub record changed since the job's hub checkpoint. */
export async function pushAll(ctx: RunContext): Promise<void> {
  const targets = ctx.units.filter((u) => u.canInsert || u.canUpdate || u.canDelete);
  let cursor = await readHubCheckpoint(ctx.hub.q, ctx.job);
  const table = ctx.app.hub.table(ctx.entity);
  let estimated: number | null = null;
  if (ctx.opts.onProgress) {
    const r = await ctx.hub.q(table).where(C.seq, '>', cursor).count({ n: '*' });
    estimated = Number(r[0]?.n ?? 0);
  }
  let done = 0;
  for (let batchNo = 1; ; batchNo++) {
    ctx.opts.signal?.throwIfAborted();
    const rows = (await ctx.hub.q(table).where(C.seq, '>', cursor).orderBy(C.seq).limit(ctx.cfg.batchSize)) as Record<string, unknown>[];
    if (rows.length === 0) break;
    // Records merged into another are represented by their survivor.
    const records = rows.map((r) => ctx.app.hub.fromRow(ctx.entity, r)).filter((r) => r.mergedInto === null);
    for (const unit of targets) {
      const t = performance.now();
      await ctx.retry(async (attempt) => {
        // A failed attempt may have written to the source already: link what it inserted first.
        if (attempt > 1 && !ctx.dryRun) await resolveIntents(ctx, [unit]);
        await pushBatch(ctx, unit, records, batchNo);
      }, `push to ${unit.name}`);
      ctx.stats[unit.name].pushMs += Math.round(performance.now() - t);
    }
    cursor = Number(rows[rows.length - 1][C.seq]);
    const at = cursor;
    await ctx.retry(() => ctx.hub.tx((trx) => writeHubCheckpoint(trx, ctx.job, at)), 'store hub checkpoint');
    done += rows.length;
    for (const unit of targets) ctx.progress('push', unit.name, done, estimated);
    if (rows.length < ctx.cfg.batchSize) break;
  }
}

/** Write one batch of hub records to one source. Exported for retrying parked records. */
export async function pushBatch(ctx: RunContext, unit: SourceUnit, records: readonly HubRecord[], batchNo: number): Promise<void> {
  const { entity, job } = ctx;
  const S = unit.name;
  const q = ctx.hub.q;
  const st: SourceStats = emptyStats();
  const gids = records.map((r) => r.id);
  const keysByGid = await loadKeysByGid(q, entity, S, gids);
  const bases = await loadBases(q, entity, S, [...keysByGid.values()].flat());
  const open = await loadOpenConflicts(q, entity, gids);
  const refKeys = await refKeysFor(ctx, unit, records);

  const inserts: PlannedInsert[] = [];
  const updates: PlannedUpdate[] = [];
  const deletes: PlannedDelete[] = [];
  const parks: { gid: string; sourceKey: string | null; error: CrmlinkError; payload?: unknown }[] = [];
  const notAllowed: { gid: string; sourceKey: string; base: BaseEntry }[] = [];

  for (const rec of records) {
    const keys = keysByGid.get(rec.id) ?? [];
    if (rec.deleted) {
      for (const sourceKey of keys) {
        const base = bases.get(sourceKey);
        if (!base || base.deleted) continue;
        if (!unit.canDelete) notAllowed.push({ gid: rec.id, sourceKey, base });
        else deletes.push({ gid: rec.id, sourceKey, base, soft: unit.mapping.deleteMode === 'soft' });
      }
      continue;
    }
    if (keys.length === 0) {
      if (!unit.canInsert) continue;
      // NULLs are left out so the table's defaults apply to a new row.
      const values = withRefs(ctx, unit, pickNonNull(rec.values, unit.writable), refKeys);
      if (values instanceof CrmlinkError) {
        parks.push({ gid: rec.id, sourceKey: null, error: values });
        continue;
      }
      try {
        const row = unit.mapping.toRow(values, 'insert');
        const missing = unit.identity ? [] : unit.mapping.key.filter((k) => row[k] === null || row[k] === undefined);
        if (missing.length > 0) {
          parks.push({
            gid: rec.id,
            sourceKey: null,
            error: new RowError(
              'ROW_REJECTED',
              `cannot insert ${entity} ${rec.id} into ${S}: key column ${missing.join(', ')} has no value (map a field such as code to it, or set entities.${entity}.sources.${S}.identity when the database generates it)`,
              { source: S, entity, column: missing[0], path: `entities.${entity}.sources.${S}.key` },
            ),
          });
          continue;
        }
        inserts.push({ gid: rec.id, values, row });
      } catch (err) {
        parks.push({ gid: rec.id, sourceKey: null, error: asError(err) });
      }
      continue;
    }
    const frozen = open.get(rec.id);
    for (const sourceKey of keys) {
      const base = bases.get(sourceKey);
      // Gone from the source (deleted there): not brought back by an update.
      if (base?.deleted) continue;
      const diff = unit.writable.filter((f) => {
        if (frozen?.has(f)) return false; // an open conflict: a person decides first
        const v = rec.values[f] ?? null;
        if (!base || !Object.prototype.hasOwnProperty.call(base.values, f)) return v !== null;
        return !sameValue(v, base.values[f]);
      });
      if (diff.length === 0 || !unit.canUpdate) continue;
      // Only what changed is written, so a concurrent edit of another column in the source is not
      // overwritten.
      const values = withRefs(ctx, unit, pick(rec.values, diff), refKeys);
      if (values instanceof CrmlinkError) {
        parks.push({ gid: rec.id, sourceKey, error: values });
        continue;
      }
      try {
        const row = { ...unit.mapping.toRow(values, 'update'), ...unit.mapping.keyRow(sourceKey) };
        updates.push({ gid: rec.id, sourceKey, values, row, base });
      } catch (err) {
        parks.push({ gid: rec.id, sourceKey, error: asError(err) });
      }
    }
  }

  // Compare-before-write: a row that changed in the source since its base was taken (an edit
  // made while this run was going) is not overwritten; the next run reads and merges it.
  if (!ctx.dryRun && (updates.length > 0 || deletes.length > 0)) {
    const read = await changedSinceBase(ctx, unit, [...updates, ...deletes].map((w) => ({ sourceKey: w.sourceKey, base: w.base })));
    const keep = <T extends { sourceKey: string }>(list: T[]) => list.filter((w) => !read.moved.has(w.sourceKey));
    st.deferred += updates.length + deletes.length;
    updates.splice(0, updates.length, ...keep(updates));
    deletes.splice(0, deletes.length, ...keep(deletes));
    st.deferred -= updates.length + deletes.length;
  }

  if (ctx.dryRun) {
    for (const i of inserts) ctx.planWrite(S, { op: 'insert', gid: i.gid, sourceKey: null, values: i.values });
    for (const u of updates) ctx.planWrite(S, { op: 'update', gid: u.gid, sourceKey: u.sourceKey, values: u.values });
    for (const d of deletes) ctx.planWrite(S, { op: 'delete', gid: d.gid, sourceKey: d.sourceKey, mode: d.soft ? 'soft' : 'hard' });
    st.inserted += inserts.length;
    st.updated += updates.length;
    st.deleted += deletes.length;
    st.parked += parks.length;
    st.deletesNotAllowed += notAllowed.length;
    addStats(ctx.stats[S], st);
    return;
  }

  // ---- writes to the source
  const baseWrites: BaseWrite[] = [];
  const xrefWrites: { entity: string; source: string; sourceKey: string; gid: string; rule: string | null }[] = [];
  const ok: string[] = [];
  const info = { key: unit.mapping.key, ...unit.mapping.table, identity: unit.identity, origin: ORIGIN, signal: ctx.opts.signal };

  if (inserts.length > 0) {
    await recordIntents(ctx, unit, inserts);
    const outcomes = await ctx.retry(async (attempt) => {
      // After a failure the earlier attempt may have committed: find what is already there.
      const already = attempt > 1 ? await findInserted(ctx, unit, inserts) : new Map<number, KeyValues>();
      const rest = inserts.map((_, i) => i).filter((i) => !already.has(i));
      const res = await unit.driver.upsert(rest.map((i) => inserts[i].row), { ...info, mode: 'insert' });
      const out: RowOutcome[] = new Array(inserts.length);
      for (const [i, key] of already) out[i] = { index: i, key, status: 'inserted' };
      res.forEach((o, j) => (out[rest[j]] = { ...o, index: rest[j] }));
      return out;
    }, `insert into ${S}`);
    outcomes.forEach((o, i) => {
      const p = inserts[i];
      if (o.status === 'error') {
        parks.push({ gid: p.gid, sourceKey: null, error: o.error, payload: p.values });
        return;
      }
      const sourceKey = unit.identity ? encodeKeyOf(o.key) : unit.mapping.sourceKey(p.row);
      xrefWrites.push({ entity, source: S, sourceKey, gid: p.gid, rule: 'insert' });
      baseWrites.push({ sourceKey, values: p.values, deleted: false, changedAt: null });
      ok.push(p.gid);
      st.inserted++;
    });
  }
  await ctx.fault('mid-batch', 'push', S, batchNo, inserts.length + updates.length + deletes.length);

  if (updates.length > 0) {
    const outcomes = await ctx.retry(() => unit.driver.upsert(updates.map((u) => u.row), { ...info, identity: false, mode: 'update' }), `update ${S}`);
    outcomes.forEach((o, i) => {
      const u = updates[i];
      if (o.status === 'error') return parks.push({ gid: u.gid, sourceKey: u.sourceKey, error: o.error, payload: u.values });
      if (o.status === 'missing') {
        return parks.push({
          gid: u.gid,
          sourceKey: u.sourceKey,
          error: new RowError('ROW_REJECTED', `${S} row ${u.sourceKey} no longer exists; the hub record was kept`, { source: S, entity, key: u.sourceKey }),
          payload: u.values,
        });
      }
      baseWrites.push({ sourceKey: u.sourceKey, values: { ...(u.base?.values ?? {}), ...u.values }, deleted: false, changedAt: null });
      ok.push(u.gid);
      if (o.status !== 'unchanged') st.updated++;
    });
  }

  const soft = deletes.filter((d) => d.soft);
  const hard = deletes.filter((d) => !d.soft);
  const deleteOutcomes: [PlannedDelete, RowOutcome][] = [];
  if (soft.length > 0) {
    const flag = unit.mapping.softDeleteRow();
    const res = await ctx.retry(
      () =>
        unit.driver.upsert(
          soft.map((d) => ({ ...flag, ...unit.mapping.keyRow(d.sourceKey) })),
          { ...info, identity: false, mode: 'update' },
        ),
      `soft-delete in ${S}`,
    );
    res.forEach((o, i) => deleteOutcomes.push([soft[i], o]));
  }
  if (hard.length > 0) {
    const res = await ctx.retry(() => unit.driver.delete(hard.map((d) => unit.mapping.keyValues(d.sourceKey)), info), `delete from ${S}`);
    res.forEach((o, i) => deleteOutcomes.push([hard[i], o]));
  }
  for (const [d, o] of deleteOutcomes) {
    if (o.status === 'error') {
      parks.push({ gid: d.gid, sourceKey: d.sourceKey, error: o.error });
      continue;
    }
    // 'missing' is fine: already gone.
    baseWrites.push({ sourceKey: d.sourceKey, values: d.base.values, deleted: true, changedAt: null });
    ok.push(d.gid);
    if (o.status === 'deleted' || o.status === 'updated') st.deleted++;
  }
  await ctx.fault('after-source-batch', 'push', S, batchNo, inserts.length + updates.length + deletes.length);

  // ---- the hub learns what the source now holds
  st.parked += parks.length;
  st.deletesNotAllowed += notAllowed.length;
  const intentIds = inserts.map((i) => i.intentId).filter((id): id is number => id !== undefined);
  await ctx.retry(
    () =>
      ctx.hub.tx(async (trx) => {
        await insertXrefs(trx, xrefWrites);
        await upsertBases(trx, entity, S, [
          ...baseWrites,
          // Reported once, then remembered as gone so it is not reported (or resurrected) again.
          ...notAllowed.map((n) => ({ sourceKey: n.sourceKey, values: n.base.values, deleted: true, changedAt: null })),
        ]);
        if (notAllowed.length > 0) {
          const openNow = await loadOpenConflicts(trx, entity, notAllowed.map((n) => n.gid));
          await writeConflicts(
            trx,
            job,
            entity,
            notAllowed.map((n) => ({
              gid: n.gid,
              conflict: {
                field: '_deleted',
                base: undefined,
                values: { hub: true, [S]: false },
                rule: 'manual',
                winner: null,
                status: 'open',
                source: S,
                reason: `deleted in the hub, but ${S} may not be deleted from (add "delete" to entities.${entity}.sources.${S}.write): row ${n.sourceKey} is still there`,
              },
            })),
            openNow,
          );
        }
        for (const p of parks) await park(trx, { job, entity, source: S, sourceKey: p.sourceKey, gid: p.gid, direction: 'push', error: p.error, payload: p.payload });
        for (const part of chunks(intentIds, 500)) await trx(SYNC_TABLES.intent).whereIn('id', part).delete();
        await unparkKeys(trx, job, S, 'push', ok);
      }),
    `record ${S} batch in the hub`,
    { finish: true },
  );
  addStats(ctx.stats[S], st);
}

/**
 * Source keys whose current row differs from the base the push planned against. One keyed select
 * per 200 rows.
 */
async function changedSinceBase(
  ctx: RunContext,
  unit: SourceUnit,
  planned: { sourceKey: string; base: BaseEntry | undefined }[],
): Promise<{ moved: Set<string> }> {
  const m = unit.mapping;
  const out = new Set<string>();
  const current = new Map<string, Row>();
  const columns = m.columns;
  for (const part of chunks(planned, 200)) {
    const byKey: Where =
      m.key.length === 1
        ? { column: m.key[0], op: 'in', value: part.map((p) => m.keyValues(p.sourceKey)[0]) }
        : { or: part.map((p) => ({ and: m.keyValues(p.sourceKey).map((v, j) => ({ column: m.key[j], op: 'eq' as const, value: v })) })) };
    const rows = await ctx.retry(() => unit.driver.select({ ...m.table, columns, where: m.filter ? { and: [m.filter, byKey] } : byKey }), `read ${unit.name} before writing`);
    for (const r of rows) current.set(m.sourceKey(r), r);
  }
  for (const p of planned) {
    const row = current.get(p.sourceKey);
    // Gone: a delete is then already done, an update is reported by the driver as missing.
    if (!row || !p.base) continue;
    try {
      const rec = ctx.canonicalize(m.toRecord(row), unit.fields);
      // Refs are global ids in the base and source keys in the row: compare the rest.
      const fields = unit.fields.filter((f) => ctx.fieldByName.get(f)?.type !== 'ref' && Object.prototype.hasOwnProperty.call(p.base!.values, f));
      if (fields.some((f) => !sameValue(rec[f] ?? null, p.base!.values[f] ?? null))) out.add(p.sourceKey);
    } catch {
      out.add(p.sourceKey); // unreadable now: leave it to the pull, which parks it with its error
    }
  }
  return { moved: out };
}

/** Intents are committed before the source insert, so a crash between the two can be told. */
async function recordIntents(ctx: RunContext, unit: SourceUnit, inserts: PlannedInsert[]): Promise<void> {
  const now = new Date().toISOString();
  await ctx.retry(
    () =>
      ctx.hub.tx(async (trx) => {
        for (const part of chunks(inserts, 500)) {
          const ids = (await trx(SYNC_TABLES.intent).insert(
            part.map((i) => ({ job: ctx.job, entity: ctx.entity, source: unit.name, gid: i.gid, values: JSON.stringify(i.values), row: JSON.stringify(jsonRow(i.row)), created_at: now })),
            ['id'],
          )) as unknown[];
          part.forEach((p, j) => (p.intentId = idOf(ids[j])));
        }
      }),
    'record insert intents',
  );
}

/**
 * Intents left by an earlier run that ended between the hub's intent and its record of the
 * outcome: read the source back; a row that is there is linked (not inserted again), an intent
 * with no row is dropped (the push inserts it again, the xref still being absent).
 */
export async function resolveIntents(ctx: RunContext, units: readonly SourceUnit[] = ctx.units): Promise<number> {
  let resolved = 0;
  for (const unit of units) {
    const rows = (await ctx.hub.q(SYNC_TABLES.intent).where({ job: ctx.job, source: unit.name }).orderBy('id')) as {
      id: number;
      gid: string;
      values: string;
      row: string;
    }[];
    if (rows.length === 0) continue;
    const planned: PlannedInsert[] = rows.map((r) => ({ gid: r.gid, values: JSON.parse(r.values) as CrmRecord, row: JSON.parse(r.row) as Row, intentId: Number(r.id) }));
    const found = await findInserted(ctx, unit, planned);
    await ctx.hub.tx(async (trx) => {
      const xrefs: { entity: string; source: string; sourceKey: string; gid: string; rule: string | null }[] = [];
      const bases: BaseWrite[] = [];
      for (const [i, key] of found) {
        const sourceKey = encodeKeyOf(key);
        xrefs.push({ entity: ctx.entity, source: unit.name, sourceKey, gid: planned[i].gid, rule: 'insert' });
        bases.push({ sourceKey, values: planned[i].values, deleted: false, changedAt: null });
      }
      await insertXrefs(trx, xrefs);
      await upsertBases(trx, ctx.entity, unit.name, bases);
      await trx(SYNC_TABLES.intent).whereIn('id', planned.map((p) => p.intentId!)).delete();
    });
    resolved += found.size;
    if (found.size > 0) ctx.app.logger.info({ job: ctx.job, source: unit.name, linked: found.size }, 'inserts of an interrupted run found in the source and linked');
  }
  return resolved;
}

/**
 * Which planned inserts are already in the source (index → key). By key when the key is ours to
 * give; otherwise by every written column, skipping rows already linked to another record.
 */
async function findInserted(ctx: RunContext, unit: SourceUnit, inserts: readonly PlannedInsert[]): Promise<Map<number, KeyValues>> {
  const out = new Map<number, KeyValues>();
  const key = unit.mapping.key;
  const linked = new Set<string>();
  for (let i = 0; i < inserts.length; i++) {
    const row = inserts[i].row;
    const cols = unit.identity ? Object.keys(row).filter((c) => row[c] !== null && row[c] !== undefined && !key.includes(c)) : key;
    if (cols.length === 0) continue;
    const where: Where = { and: cols.map((c) => ({ column: c, op: 'eq' as const, value: row[c] })) };
    const found = await ctx.retry(() => unit.driver.select({ ...unit.mapping.table, columns: key, where, limit: 10 }), `read back ${unit.name}`);
    if (found.length === 0) continue;
    const keys = found.map((r) => key.map((k) => r[k]));
    const known = await loadXref(ctx.hub.q, ctx.entity, unit.name, keys.map(encodeKeyOf));
    const free = keys.find((k) => !known.has(encodeKeyOf(k)) && !linked.has(encodeKeyOf(k)));
    if (free) {
      out.set(i, free);
      linked.add(encodeKeyOf(free));
    } else if (!unit.identity) {
      // Our own key, already linked (to this record, by a pull of the row): nothing to insert.
      const mine = known.get(encodeKeyOf(keys[0]));
      if (mine?.gid === inserts[i].gid) out.set(i, keys[0]);
    }
  }
  return out;
}

/** gid → source key in this source, for every ref value the batch may write. */
async function refKeysFor(ctx: RunContext, unit: SourceUnit, records: readonly HubRecord[]): Promise<Map<string, Map<string, string>>> {
  const out = new Map<string, Map<string, string>>();
  for (const name of unit.writable) {
    const f = ctx.fieldByName.get(name);
    if (!f || f.type !== 'ref' || !f.ref) continue;
    const gids = [...new Set(records.map((r) => r.values[name]).filter((v): v is string => typeof v === 'string'))];
    const byGid = await loadKeysByGid(ctx.hub.q, f.ref, unit.name, gids);
    out.set(name, new Map([...byGid].map(([g, keys]) => [g, keys[0]])));
  }
  return out;
}

function withRefs(ctx: RunContext, unit: SourceUnit, values: CrmRecord, refKeys: Map<string, Map<string, string>>): CrmRecord | CrmlinkError {
  const out = { ...values };
  for (const [field, byGid] of refKeys) {
    const v = out[field];
    if (v === null || v === undefined) continue;
    const key = byGid.get(String(v));
    if (key === undefined) {
      const target = ctx.fieldByName.get(field)?.ref ?? 'record';
      return new RowError('ROW_REJECTED', `${ctx.entity}.${field} refers to ${target} ${String(v)}, which ${unit.name} does not have yet: sync ${target} to ${unit.name} first, then retry`, {
        source: unit.name,
        entity: ctx.entity,
        field,
      });
    }
    out[field] = key;
  }
  return out;
}

function pick(values: CrmRecord, fields: readonly string[]): CrmRecord {
  const out: CrmRecord = {};
  for (const f of fields) out[f] = values[f] ?? null;
  return out;
}

function pickNonNull(values: CrmRecord, fields: readonly string[]): CrmRecord {
  const out: CrmRecord = {};
  for (const f of fields) if (values[f] !== null && values[f] !== undefined) out[f] = values[f];
  return out;
}

function asError(err: unknown): CrmlinkError {
  if (err instanceof CrmlinkError) return err;
  return new RowError('ROW_REJECTED', err instanceof Error ? err.message : String(err), {}, { cause: err });
}

function encodeKeyOf(key: KeyValues): string {
  return encodeKey(key);
}

function jsonRow(row: Row): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) out[k] = v instanceof Date ? v.toISOString() : typeof v === 'bigint' ? v.toString() : Buffer.isBuffer(v) ? v.toString('hex') : v;
  return out;
}

function idOf(v: unknown): number {
  if (typeof v === 'object' && v !== null && 'id' in v) return Number((v as { id: unknown }).id);
  return Number(v);
}
