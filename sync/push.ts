/**
 * Push: hub changes out to the job's sources, in batches, each batch through named stages:
 *
 *   hub records changed since the hub checkpoint (`_seq`) → plan (per source: inserts, updates of
 *   the fields that differ from the base, deletes) → defer rows changed in the source since their
 *   base → write to the source (one call per kind) → record in the hub (links, bases, parked rows)
 *
 * Only differing fields are written (so a concurrent edit of another field in the source is not
 * overwritten), then the written values become the new base in the hub. That is what makes the
 * next read of our own write a no-op: no echo, even where the database cannot tag the write's
 * origin.
 *
 * Crash safety: a source commit and the hub's record of it cannot be one transaction. Updates and
 * deletes are idempotent, so repeating them after a crash is harmless. Inserts are not: each is
 * first recorded as an intent in the hub; an intent left over after a crash (or a retry after a
 * failure whose outcome is unknown) is checked by reading the source back before anything is
 * inserted again.
 */
import type { Knex } from 'knex';
import type { KeyValues, Row, Where } from '../connectors/driver.js';
import { encodeKey } from '../connectors/keys.js';
import type { BaseEntry } from '../hub/bases.js';
import { readHubCheckpoint, writeHubCheckpoint } from '../hub/checkpoints.js';
import type { HubRecord } from '../hub/golden.js';
import { park, unparkKeys } from '../hub/parked.js';
import { ENTITY_SYSTEM_COLUMNS as C } from '../hub/tables.js';
import type { CrmRecord } from '../model/entities.js';
import { pickFields, sameValue } from '../model/values.js';
import type { RunContext, SourceUnit } from './context.js';
import { addStats } from './context.js';
import { planPush, type PlannedInsert, type PushPlan, type PushState } from './push/plan.js';
import { writeToSource, type SourceResult } from './push/source-write.js';
import { emptyStats, type SourceStats } from './types.js';
import { inSpan } from '../core/tracing.js';

export { ORIGIN } from './push/source-write.js';

/** The audit action of a push's write to a source, which keeps the source's old values. */
export const SOURCE_WRITE = 'source-write';

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
export function pushBatch(ctx: RunContext, unit: SourceUnit, records: readonly HubRecord[], batchNo: number): Promise<void> {
  const attributes = { 'crmlink.sync.stage': 'push', 'crmlink.source': unit.name, 'crmlink.sync.batch': batchNo, 'crmlink.rows': records.length };
  return inSpan('sync.push.batch', attributes, () => pushBatchTraced(ctx, unit, records, batchNo));
}

async function pushBatchTraced(ctx: RunContext, unit: SourceUnit, records: readonly HubRecord[], batchNo: number): Promise<void> {
  const st: SourceStats = emptyStats();
  const plan = planPush(records, await pushState(ctx, unit, records), unit, { entity: ctx.entity, model: ctx.fieldByName });
  if (!ctx.dryRun) st.deferred += await deferMoved(ctx, unit, plan);
  st.parked += plan.parks.length;
  st.deletesNotAllowed += plan.notAllowed.length;
  if (ctx.dryRun) {
    planDryRun(ctx, unit, plan, st);
    return addStats(ctx.stats[unit.name], st);
  }
  if (plan.inserts.length > 0) await recordIntents(ctx, unit, plan.inserts);
  const rows = plan.inserts.length + plan.updates.length + plan.deletes.length;
  const result = await writeToSource(ctx, unit, plan, (inserts) => findInserted(ctx, unit, inserts), () => ctx.fault('mid-batch', 'push', unit.name, batchNo, rows));
  await ctx.fault('after-source-batch', 'push', unit.name, batchNo, rows);
  st.parked += result.parks.length - plan.parks.length;
  st.inserted += result.inserted;
  st.updated += result.updated;
  st.deleted += result.deleted;
  await ctx.retry(() => ctx.hub.tx((trx) => recordInHub(ctx, unit, trx, plan, result)), `record ${unit.name} batch in the hub`, { finish: true });
  addStats(ctx.stats[unit.name], st);
}

/** What the hub knows about the batch's records in this source. */
export async function pushState(ctx: RunContext, unit: SourceUnit, records: readonly HubRecord[]): Promise<PushState> {
  const { store } = ctx.app.hub;
  const gids = records.map((r) => r.id);
  const keysByGid = await store.xref.keysByGid(ctx.hub.q, ctx.entity, unit.name, gids);
  const bases = await store.bases.load(ctx.hub.q, ctx.entity, unit.name, [...keysByGid.values()].flat());
  const open = await store.conflicts.loadOpen(ctx.hub.q, ctx.entity, gids);
  return { keysByGid, bases, open, refKeys: await refKeysFor(ctx, unit, records) };
}

/**
 * Compare-before-write: a row that changed in the source since its base was taken (an edit made
 * while this run was going) is not overwritten; the next run reads and merges it. Returns how many
 * writes were held back.
 */
async function deferMoved(ctx: RunContext, unit: SourceUnit, plan: PushPlan): Promise<number> {
  if (plan.updates.length === 0 && plan.deletes.length === 0) return 0;
  const read = await changedSinceBase(ctx, unit, [...plan.updates, ...plan.deletes].map((w) => ({ sourceKey: w.sourceKey, base: w.base })));
  const before = plan.updates.length + plan.deletes.length;
  plan.updates = plan.updates.filter((w) => !read.moved.has(w.sourceKey));
  plan.deletes = plan.deletes.filter((w) => !read.moved.has(w.sourceKey));
  // What the source holds before it is overwritten, for the audit (and restoreRun) to undo it there.
  for (const u of plan.updates) {
    const cur = read.current.get(u.sourceKey);
    if (cur) u.old = pickFields(cur, Object.keys(u.values));
  }
  for (const d of plan.deletes) {
    const cur = read.current.get(d.sourceKey);
    if (cur) d.old = cur;
  }
  return before - plan.updates.length - plan.deletes.length;
}

function planDryRun(ctx: RunContext, unit: SourceUnit, plan: PushPlan, st: SourceStats): void {
  const S = unit.name;
  for (const i of plan.inserts) ctx.planWrite(S, { op: 'insert', gid: i.gid, sourceKey: null, values: i.values });
  for (const u of plan.updates) ctx.planWrite(S, { op: 'update', gid: u.gid, sourceKey: u.sourceKey, values: u.values });
  for (const d of plan.deletes) ctx.planWrite(S, { op: 'delete', gid: d.gid, sourceKey: d.sourceKey, mode: d.soft ? 'soft' : 'hard' });
  st.inserted += plan.inserts.length;
  st.updated += plan.updates.length;
  st.deleted += plan.deletes.length;
}

/** Push stage 4: the hub learns what the source now holds, in one hub transaction. */
async function recordInHub(ctx: RunContext, unit: SourceUnit, trx: Knex.Transaction, plan: PushPlan, result: SourceResult): Promise<void> {
  const { store } = ctx.app.hub;
  const { job, entity } = ctx;
  const S = unit.name;
  await store.xref.link(trx, result.links);
  await store.bases.save(trx, entity, S, [
    ...result.bases,
    // Reported once, then remembered as gone so it is not reported (or resurrected) again.
    ...plan.notAllowed.map((n) => ({ sourceKey: n.sourceKey, values: n.base.values, deleted: true, changedAt: null })),
  ]);
  if (plan.notAllowed.length > 0) {
    const open = await store.conflicts.loadOpen(trx, entity, plan.notAllowed.map((n) => n.gid));
    const reason = (key: string) => `deleted in the hub, but ${S} may not be deleted from (add "delete" to entities.${entity}.sources.${S}.write): row ${key} is still there`;
    await store.conflicts.save(
      trx,
      job,
      entity,
      plan.notAllowed.map((n) => ({ gid: n.gid, conflict: { field: '_deleted', base: undefined, values: { hub: true, [S]: false }, rule: 'manual', winner: null, status: 'open', reason: reason(n.sourceKey) } })),
      open,
    );
  }
  // The source's values before this batch overwrote them (point 4 of record history): a wrong
  // write-back can be undone in the source too (restoreRun writes them back).
  await store.audit.recordMany(
    trx,
    result.overwritten.map((o) => ({
      actor: `sync:${job}`,
      action: SOURCE_WRITE,
      entity,
      gid: o.gid,
      before: { source: S, key: o.sourceKey, values: o.old },
      after: { source: S, key: o.sourceKey, run: ctx.runId, op: o.op, values: o.values },
    })),
  );
  for (const p of result.parks) await park(trx, { job, entity, source: S, sourceKey: p.sourceKey, gid: p.gid, direction: 'push', error: p.error, payload: p.payload });
  await store.journal.dropIntents(trx, plan.inserts.flatMap((i) => (i.intentId === undefined ? [] : [i.intentId])));
  await unparkKeys(trx, job, S, 'push', [...result.ok, ...plan.settled]);
}

/**
 * Source keys whose current row differs from the base the push planned against. One keyed select
 * per 200 rows.
 */
async function changedSinceBase(
  ctx: RunContext,
  unit: SourceUnit,
  planned: { sourceKey: string; base: BaseEntry | undefined }[],
): Promise<{ moved: Set<string>; current: Map<string, CrmRecord> }> {
  const m = unit.mapping;
  const out = new Set<string>();
  const records = new Map<string, CrmRecord>();
  const current = new Map<string, Row>();
  const columns = m.columns;
  for (let i = 0; i < planned.length; i += 200) {
    const part = planned.slice(i, i + 200);
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
      records.set(p.sourceKey, rec);
      // Refs are global ids in the base and source keys in the row: compare the rest.
      const fields = unit.fields.filter((f) => ctx.fieldByName.get(f)?.type !== 'ref' && Object.prototype.hasOwnProperty.call(p.base!.values, f));
      if (fields.some((f) => !sameValue(rec[f] ?? null, p.base!.values[f] ?? null))) out.add(p.sourceKey);
    } catch {
      out.add(p.sourceKey); // unreadable now: leave it to the pull, which parks it with its error
    }
  }
  return { moved: out, current: records };
}

/** Intents are committed before the source insert, so a crash between the two can be told. */
async function recordIntents(ctx: RunContext, unit: SourceUnit, inserts: PlannedInsert[]): Promise<void> {
  const ids = await ctx.retry(
    () => ctx.hub.tx((trx) => ctx.app.hub.store.journal.recordIntents(trx, ctx.job, ctx.entity, unit.name, inserts.map((i) => ({ gid: i.gid, values: i.values, row: jsonRow(i.row) })))),
    'record insert intents',
  );
  inserts.forEach((p, j) => (p.intentId = ids[j]));
}

/**
 * Intents left by an earlier run that ended between the hub's intent and its record of the
 * outcome: read the source back; a row that is there is linked (not inserted again), an intent
 * with no row is dropped (the push inserts it again, the xref still being absent).
 */
export async function resolveIntents(ctx: RunContext, units: readonly SourceUnit[] = ctx.units): Promise<number> {
  const { store } = ctx.app.hub;
  let resolved = 0;
  for (const unit of units) {
    const rows = await store.journal.intents(ctx.hub.q, ctx.job, unit.name);
    if (rows.length === 0) continue;
    // The intent keeps the values as written (references as this source's keys).
    const planned: PlannedInsert[] = rows.map((r) => {
      const values = JSON.parse(r.values) as CrmRecord;
      return { gid: r.gid, values, hubValues: values, row: JSON.parse(r.row) as Row, intentId: r.id };
    });
    const found = await findInserted(ctx, unit, planned);
    const links = [...found].map(([i, key]) => ({ entity: ctx.entity, source: unit.name, sourceKey: encodeKey(key), gid: planned[i].gid, rule: 'insert' }));
    await ctx.hub.tx(async (trx) => {
      await store.xref.link(trx, links);
      await store.bases.save(trx, ctx.entity, unit.name, [...found].map(([i, key]) => ({ sourceKey: encodeKey(key), values: planned[i].values, deleted: false, changedAt: null })));
      await store.journal.dropIntents(trx, rows.map((r) => r.id));
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
    const known = await ctx.app.hub.store.xref.load(ctx.hub.q, ctx.entity, unit.name, keys.map(encodeKey));
    const free = keys.find((k) => !known.has(encodeKey(k)) && !linked.has(encodeKey(k)));
    if (free) {
      out.set(i, free);
      linked.add(encodeKey(free));
    } else if (!unit.identity) {
      // Our own key, already linked (to this record, by a pull of the row): nothing to insert.
      const mine = known.get(encodeKey(keys[0]));
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
    const byGid = await ctx.app.hub.store.xref.keysByGid(ctx.hub.q, f.ref, unit.name, gids);
    out.set(name, new Map([...byGid].map(([g, keys]) => [g, keys[0]])));
  }
  return out;
}

function jsonRow(row: Row): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) out[k] = v instanceof Date ? v.toISOString() : typeof v === 'bigint' ? v.toString() : Buffer.isBuffer(v) ? v.toString('hex') : v;
  return out;
}
