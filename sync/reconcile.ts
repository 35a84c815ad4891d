/**
 * Key reconcile: the hard deletes a timestamp or rowversion capture cannot see.
 *
 * Those strategies read rows that changed; a row deleted at the source is simply never read again,
 * so the hub would keep it (and push it back) for ever. A reconcile compares, per source of the
 * job, the keys the hub believes the source holds (its live bases, walked in keyset pages) with
 * the keys the source still has (`Connector.readKeys`: one statement per page of keys, key columns
 * only, the mapping's row filter applied). A key the source no longer has is fed to the normal
 * pull pipeline as a delete (tombstone, history, provenance, conflicts as for any delete), and the
 * job's normal push then propagates it to the other sources per their mappings. Cost: O(keys the
 * hub holds), memory bounded by one page; no row is read in full.
 *
 *   lock the job → per source: hub keys page → source readKeys → missing keys → applyPage(deletes)
 *     → push (direction both / push) → record the run
 *
 * It runs under the job's lock (so never beside a run of the same job), as
 * `crmlink sync reconcile <job>` and on `sync.jobs.<name>.reconcile.schedule`. Every source of the
 * job is checked, whatever its capture: a cheap safety net for triggers disabled or a change log
 * purged too. A source whose connector has no `readKeys` (a plugin) is reported as not
 * reconcilable, and the run is `partial`.
 *
 * @example
 * const report = await reconcileJob(app, 'customers');
 * report.reconciled.erp; // { status: 'done', checked: 1000000, missing: 12, missingKeys: [...], reads: 1000 }
 */
import type { KeyValues } from '../connectors/driver.js';
import { encodeKey } from '../connectors/keys.js';
import { ensureSyncTables } from '../hub/sync-tables.js';
import { finishRun, recordSkipped, startRun } from '../hub/runs.js';
import { CrmlinkError } from '../core/errors.js';
import { RunContext, PLAN_LIMIT, type HubAccess, type SourceUnit, type SyncApp } from './context.js';
import { buildReport, describeError, jobConfig, lockJob } from './engine.js';
import { applyPage, commitPage } from './pull.js';
import { pushAll } from './push.js';
import { recordRunMetrics } from './metrics.js';
import { recordedStats } from './status.js';
import type { RunOptions, RunReport, RunStatus } from './types.js';

/** Keys compared per page (hub page = one source statement per READ_KEYS_CHUNK keys). */
export const RECONCILE_PAGE_SIZE = 1000;

export interface ReconciledSource {
  /** done: compared; not-supported: the connector cannot list keys (no readKeys). */
  status: 'done' | 'not-supported';
  /** Keys the hub holds for this source and were looked for. */
  checked: number;
  /** Of those, keys the source no longer has (deleted there; or outside the mapping's filter). */
  missing: number;
  /** The first PLAN_LIMIT missing keys. */
  missingKeys: string[];
  /** readKeys calls made (each one statement per chunk of up to 1000 keys on SQL sources). */
  reads: number;
  reason?: string;
}

export interface ReconcileReport extends RunReport {
  reconciled: Record<string, ReconciledSource>;
}

export interface ReconcileOptions extends Pick<RunOptions, 'signal' | 'onProgress' | 'retries' | 'retryMinTimeoutMs' | 'lockWaitMs' | 'dryRun' | 'tick'> {
  /** Keys per page (default RECONCILE_PAGE_SIZE). */
  pageSize?: number;
  /** Only these sources of the job. */
  sources?: readonly string[];
}

/**
 * A scheduled reconcile's tick as claimed in the hub, apart from the job's own tick at the same
 * time: "R" + the ISO time (25 characters; the column holds 30, the job name keeps its 64).
 */
export function reconcileTick(tick: string): string {
  return `R${tick}`;
}

/** Reconcile one job's sources now. Never throws for what happens inside the run (see RunReport). */
export async function reconcileJob(app: SyncApp, job: string, opts: ReconcileOptions = {}): Promise<ReconcileReport> {
  const cfg = jobConfig(app, job);
  const started = new Date();
  await ensureSyncTables(app.hub.knex);
  const lock = await lockJob(app, job, opts.lockWaitMs ?? 0, opts.signal);
  if (!lock) {
    const reason = 'LOCKED: a run of this job holds its lock';
    const id = await recordSkipped(app.hub.knex, job, `reconcile: ${reason}`, started.toISOString());
    return { ...buildReport(job, cfg, null, started, id, 'skipped'), reason, trigger: 'reconcile', reconciled: {} };
  }
  try {
    if (opts.tick && !(await app.hub.store.journal.claimTick(app.hub.knex, job, reconcileTick(opts.tick), lock.holder))) {
      const reason = `tick ${opts.tick} was already reconciled by another process`;
      const id = await recordSkipped(app.hub.knex, job, `reconcile: ${reason}`, started.toISOString());
      return { ...buildReport(job, cfg, null, started, id, 'skipped'), reason, trigger: 'reconcile', reconciled: {} };
    }
    const runId = opts.dryRun ? null : await startRun(app.hub.knex, job, started.toISOString());
    const access: HubAccess = { q: app.hub.knex, tx: (fn) => app.hub.knex.transaction(fn) };
    const ctx = new RunContext(app, job, cfg, access, { ...opts, dryRun: false });
    ctx.runId = runId;
    const reconciled: Record<string, ReconciledSource> = {};
    let status: RunStatus = 'ok';
    let error: RunReport['error'];
    try {
      if (cfg.direction !== 'push') {
        for (const unit of ctx.units) {
          if (opts.sources && !opts.sources.includes(unit.name)) continue;
          reconciled[unit.name] = await reconcileSource(ctx, unit, opts);
        }
      }
      // The deletes go out like any hub change: the job's normal push.
      if (!opts.dryRun && cfg.direction !== 'pull') await pushAll(ctx);
    } catch (err) {
      status = opts.signal?.aborted ? 'aborted' : 'failed';
      error = describeError(err);
      app.logger.error({ job, err }, 'reconcile failed');
    }
    const report: ReconcileReport = { ...buildReport(job, cfg, ctx, started, runId, status, error), trigger: 'reconcile', dryRun: opts.dryRun === true, reconciled };
    const unsupported = Object.values(reconciled).some((r) => r.status === 'not-supported');
    if (report.status === 'ok' && (report.totals.parked > 0 || unsupported)) report.status = 'partial';
    if (runId !== null) {
      await finishRun(app.hub.knex, runId, { status: report.status, endedAt: report.endedAt, stats: recordedStats(report), error: report.error ? JSON.stringify(report.error) : null }).catch((err: unknown) =>
        app.logger.error({ job, err }, 'could not record the reconcile run'),
      );
    }
    recordRunMetrics(report);
    app.logger.info({ job, status: report.status, reconciled: Object.fromEntries(Object.entries(reconciled).map(([s, r]) => [s, { checked: r.checked, missing: r.missing }])) }, 'reconcile finished');
    return report;
  } finally {
    await lock.release().catch((err: unknown) => app.logger.warn({ job, err }, 'could not release the job lock'));
  }
}

async function reconcileSource(ctx: RunContext, unit: SourceUnit, opts: ReconcileOptions): Promise<ReconciledSource> {
  const out: ReconciledSource = { status: 'done', checked: 0, missing: 0, missingKeys: [], reads: 0 };
  const readKeys = unit.driver.readKeys?.bind(unit.driver);
  if (!readKeys) {
    const reason = `source "${unit.name}" (${unit.driver.kind}) cannot list its keys (its connector has no readKeys): deletes there are seen only by its own capture`;
    ctx.app.logger.warn({ job: ctx.job, source: unit.name }, reason);
    return { ...out, status: 'not-supported', reason };
  }
  const m = unit.mapping;
  const store = ctx.app.hub.store;
  const pageSize = opts.pageSize ?? RECONCILE_PAGE_SIZE;
  // Missing keys are applied a job batch at a time (one hub transaction each), not a page at a
  // time: deletes are rare and spread out, and a transaction per page of keys would cost more
  // than the comparison.
  let pending: string[] = [];
  let applied = 0;
  const apply = async () => {
    if (pending.length === 0 || opts.dryRun) return void (pending = []);
    const keys = pending;
    pending = [];
    const batch = { changes: keys.map((k) => ({ key: keyValues(unit, k), op: 'delete' as const, row: null, changedAt: null, hash: '' })), checkpoint: { strategy: m.capture.strategy }, hasMore: false, snapshot: false };
    const n = ++applied;
    // No checkpoint moves: the capture's own position is untouched by a reconcile.
    const outcome = await ctx.retry(async () => {
      try {
        return await ctx.hub.tx((trx) => applyPage(ctx, unit, trx, batch, { page: n, startScan: false, checkpoint: null }));
      } catch (err) {
        ctx.linker.invalidate();
        throw err;
      }
    }, `apply ${unit.name} deletes`);
    commitPage(ctx, unit.name, outcome);
  };
  let after: string | null = null;
  for (;;) {
    ctx.opts.signal?.throwIfAborted();
    const hubPage = await store.bases.liveKeysPage(ctx.hub.q, ctx.entity, unit.name, after, pageSize);
    if (hubPage.keys.length > 0) {
      const wanted = hubPage.keys.map((k) => keyValues(unit, k));
      const found = await ctx.retry(() => readKeys({ ...m.table, key: m.key, keys: wanted, where: m.filter, signal: ctx.opts.signal }), `read ${unit.name} keys`);
      out.reads++;
      // Keys compare as text: a driver may hand back 42 for a key the hub holds as "42".
      const present = new Set(found.map((k) => encodeKey(k)));
      const missing = hubPage.keys.filter((k) => !present.has(k));
      out.checked += hubPage.keys.length;
      out.missing += missing.length;
      for (const k of missing) if (out.missingKeys.length < PLAN_LIMIT) out.missingKeys.push(k);
      pending.push(...missing);
      if (pending.length >= ctx.cfg.batchSize) await apply();
      ctx.progress('reconcile', unit.name, out.checked, null);
    }
    if (hubPage.next === null) break;
    after = hubPage.next;
  }
  await apply();
  return out;
}

function keyValues(unit: SourceUnit, sourceKey: string): KeyValues {
  try {
    return unit.mapping.keyValues(sourceKey);
  } catch (err) {
    throw new CrmlinkError('INTERNAL', `the hub holds key ${sourceKey} for ${unit.name}, which does not fit its key (${unit.mapping.key.join(', ')})`, { source: unit.name, key: sourceKey }, { cause: err });
  }
}
