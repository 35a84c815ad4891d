/**
 * Pull: one source's changes into the hub, a page at a time, each page through named stages over
 * plain data (sync/pull/):
 *
 *   changesSince(checkpoint) → decode → canonicalize → snapshot deletes → link identity
 *     → three-way merge → write (golden records, provenance, xref, conflicts, bases, checkpoint)
 *
 * The run owns the transaction: one hub transaction per page, so a crash anywhere before its commit
 * leaves the hub as it was and the checkpoint where it was, and the page is simply read again. A
 * row that cannot go on (unmappable, invalid for the model, a reference to a record the hub does
 * not have yet) is parked in the same transaction and the rest of the page goes on.
 */
import type { Knex } from 'knex';
import type { ChangeBatch, Checkpoint } from '../connectors/driver.js';
import type { Where } from '../connectors/types.js';
import { shiftTs, type TimestampCheckpoint } from '../connectors/capture/timestamp.js';
import { readSourceCheckpoint, writeSourceCheckpoint, type SourceCheckpoint } from '../hub/checkpoints.js';
import { park } from '../hub/parked.js';
import { SchemaError } from '../core/errors.js';
import type { RunContext, SourceUnit } from './context.js';
import { addStats } from './context.js';
import { canonicalizePage } from './pull/canonicalize.js';
import { decodePage } from './pull/decode.js';
import { linkPage } from './pull/link.js';
import { mergePage } from './pull/merge-page.js';
import { addSnapshotDeletes } from './pull/snapshot.js';
import type { PageContext, PageOutcome, Rejected } from './pull/types.js';
import { writePage } from './pull/write.js';
import { inSpan } from '../core/tracing.js';

/** Read every change of one source since its checkpoint and apply it, page by page. */
export async function pullSource(ctx: RunContext, unit: SourceUnit): Promise<void> {
  let cp = await readSourceCheckpoint<Checkpoint>(ctx.hub.q, ctx.job, unit.name);
  const keyTypes = await readKeyTypes(unit);
  if (keyTypes && cp.keyTypes && changedKey(cp.keyTypes, keyTypes)) {
    if (!ctx.opts.acceptKeyChange?.includes(unit.name)) throw keyChanged(ctx, unit, cp.keyTypes, keyTypes);
    // Accepted: the old position is ordered by the old type, so read the table again from the start
    // (rows unchanged since their base are no-ops; nothing is skipped).
    ctx.app.logger.warn({ job: ctx.job, source: unit.name, was: cp.keyTypes, now: keyTypes }, 'key type change accepted: reading the source again from the start');
    cp = { position: null, inScan: false, loadedAt: cp.loadedAt };
  }
  const estimated = ctx.opts.onProgress ? await estimateRows(ctx, unit, cp) : null;
  let done = 0;
  for (let page = 1; ; page++) {
    ctx.opts.signal?.throwIfAborted();
    const from = cp;
    const { batch, next } = await inSpan('sync.pull.batch', { 'crmlink.sync.stage': 'pull', 'crmlink.source': unit.name, 'crmlink.sync.batch': page }, async (span) => {
      const pulled = await pullPage(ctx, unit, from, page, keyTypes);
      span.setAttribute('crmlink.rows', pulled.batch.changes.length);
      return pulled;
    });
    cp = next;
    done += batch.changes.length;
    ctx.progress('pull', unit.name, done, estimated);
    if (!batch.hasMore) break;
  }
}

/** Read one page of changes after `cp` and apply it in one hub transaction. */
async function pullPage(
  ctx: RunContext,
  unit: SourceUnit,
  cp: SourceCheckpoint<Checkpoint>,
  page: number,
  keyTypes: Record<string, string> | null,
): Promise<{ batch: ChangeBatch; next: SourceCheckpoint<Checkpoint> }> {
  const position = cp.position;
  const batch = await ctx.retry(
    () => unit.driver.changesSince(unit.mapping.capture, position, { pageSize: ctx.cfg.batchSize, signal: ctx.opts.signal }),
    `read ${unit.name}`,
  );
  await ctx.fault('after-read', 'pull', unit.name, page, batch.changes.length);
  const next: SourceCheckpoint<Checkpoint> = {
    position: batch.checkpoint,
    inScan: batch.snapshot && batch.hasMore,
    loadedAt: cp.loadedAt ?? (batch.hasMore ? null : ctx.now().toISOString()),
    ...(keyTypes ? { keyTypes } : {}),
  };
  const startScan = batch.snapshot && !cp.inScan;
  const outcome = await ctx.retry(async () => {
    try {
      return await ctx.hub.tx((trx) => applyPage(ctx, unit, trx, batch, { page, startScan, checkpoint: next }));
    } catch (err) {
      ctx.linker.invalidate();
      throw err;
    }
  }, `apply ${unit.name} page ${page}`);
  commitPage(ctx, unit.name, outcome);
  return { batch, next };
}

/** The key columns' types as the source reports them now (null: it does not say). */
async function readKeyTypes(unit: SourceUnit): Promise<Record<string, string> | null> {
  const [info] = await unit.driver.introspect({ table: unit.mapping.table.table, schema: unit.mapping.table.schema });
  if (!info) return null;
  const out: Record<string, string> = {};
  for (const k of unit.mapping.key) {
    const c = info.columns.find((x) => x.name === k);
    if (!c) return null;
    out[k] = c.type.toLowerCase();
  }
  return out;
}

function changedKey(was: Record<string, string>, now: Record<string, string>): boolean {
  return Object.keys(now).some((k) => was[k] !== undefined && was[k] !== now[k]);
}

function keyChanged(ctx: RunContext, unit: SourceUnit, was: Record<string, string>, now: Record<string, string>): SchemaError {
  const column = Object.keys(now).find((k) => was[k] !== undefined && was[k] !== now[k])!;
  const table = unit.mapping.table.table;
  return new SchemaError(
    `source "${unit.name}": the key column ${table}.${column} changed type from ${was[column]} to ${now[column]} since the last run of job ${ctx.job}. ` +
      `Nothing was read: the capture position is ordered by the old type, and keys that changed their text would no longer match their links. ` +
      `If the key values kept their text (1 → '1'), run the job once with --accept-key-change ${unit.name} (reads ${unit.name} again from the start); otherwise restore the column type.`,
    { source: unit.name, table, column, was: was[column], now: now[column], setting: `entities.${ctx.entity}.sources.${unit.name}.key` },
  );
}

/**
 * The rows this run will read, for progress: a count of the table on a first load (and for the
 * hash strategy, which reads it all); for the timestamp strategy between sweeps, a count of the
 * rows its sweep reads (timestamp at or after the high-water mark less the look-back). Other
 * incremental runs read a handful of changes and are not counted.
 */
async function estimateRows(ctx: RunContext, unit: SourceUnit, cp: SourceCheckpoint): Promise<number | null> {
  const capture = unit.mapping.capture;
  let where = unit.mapping.filter;
  if (cp.loadedAt !== null && capture.strategy !== 'hash') {
    const position = cp.position as Partial<TimestampCheckpoint> | null;
    if (capture.strategy !== 'timestamp' || !capture.column || position?.hwm === undefined || position.hwm === null || position.cursor) return null;
    const since: Where = { column: capture.column, op: 'gte', value: shiftTs(position.hwm, -capture.lookBackSeconds) };
    where = where ? { and: [where, since] } : since;
  }
  try {
    const rows = await unit.driver.aggregate({ ...unit.mapping.table, where, aggregates: [{ fn: 'count', as: 'n' }] });
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
  checkpoint: SourceCheckpoint<Checkpoint> | null;
}

/** The stages' view of one source in this run. */
export function pageContext(ctx: RunContext, unit: SourceUnit): PageContext {
  const refSources = new Map(unit.fields.map((f) => [f, unit.mapping.refSourceOf(f)] as const).filter(([, s]) => s !== unit.name));
  return { job: ctx.job, entity: ctx.entity, source: unit.name, fields: unit.fields, model: ctx.fieldByName, refSources, policies: ctx.policies, now: ctx.now().toISOString(), run: ctx.runId };
}

/** Apply one page of changes inside `trx`, stage by stage. Exported for retrying parked rows. */
export async function applyPage(ctx: RunContext, unit: SourceUnit, trx: Knex.Transaction, batch: ChangeBatch, meta: PageMeta): Promise<PageOutcome> {
  const pc = pageContext(ctx, unit);
  const store = ctx.app.hub.store;
  const fault = (point: Parameters<RunContext['fault']>[0], rows: number) => ctx.fault(point, 'pull', unit.name, meta.page, rows);
  const decoded = canonicalizePage(decodePage(batch, unit.mapping), pc, { table: unit.mapping.table.table, column: (f) => unit.mapping.fieldColumn(f)?.column });
  await parkRejected(ctx, unit, trx, decoded.rejected);
  const items = await addSnapshotDeletes(decoded, pc, { snapshot: batch.snapshot, starts: meta.startScan, ends: !batch.hasMore }, trx, store);
  const linked = await linkPage(items, pc, trx, { hub: ctx.app.hub, linker: ctx.linker });
  await parkRejected(ctx, unit, trx, linked.rejected);
  await fault('mid-batch', linked.items.size);
  const plan = mergePage(linked, pc);
  for (const w of plan.warnings) ctx.app.logger.warn({ job: ctx.job, source: unit.name, key: w.sourceKey }, w.message);
  const checkpoint = meta.checkpoint;
  const outcome = await writePage(plan, linked, pc, trx, {
    store,
    fault: (point) => fault(point, linked.items.size),
    checkpoint: checkpoint ? { write: (t) => writeSourceCheckpoint(t, ctx.job, unit.name, checkpoint) } : null,
  });
  outcome.stats.read = batch.changes.length;
  outcome.stats.parked += decoded.rejected.length + linked.rejected.length;
  outcome.stats.oldestChange = decoded.oldestChange;
  return outcome;
}

async function parkRejected(ctx: RunContext, unit: SourceUnit, trx: Knex.Transaction, rejected: readonly Rejected[]): Promise<void> {
  for (const r of rejected) {
    await park(trx, { job: ctx.job, entity: ctx.entity, source: unit.name, sourceKey: r.sourceKey, gid: null, direction: 'pull', error: r.error, payload: r.payload });
  }
}

/** A committed page's statistics, dry-run plan entries and written records, into the run. */
export function commitPage(ctx: RunContext, source: string, outcome: PageOutcome): void {
  addStats(ctx.stats[source], outcome.stats);
  for (const w of outcome.writes) ctx.planWrite('hub', w);
  for (const c of outcome.conflicts) ctx.planConflict(source, c);
  for (const w of outcome.written) ctx.linker.update(w.gid, w.values, w.deleted);
}
