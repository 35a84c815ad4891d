/**
 * runJob: one run of one sync job, start to end.
 *
 *   lock (the job's, then its entity's) → (claim the tick) → record the run → finish inserts an interrupted run left open →
 *   pull each source, sorted by name (read changes → map → link → merge → hub + base + checkpoint,
 *   one transaction per page) → push hub changes to each source in batches → record the run.
 *
 * A run never throws for what happens inside it: the report says ok / partial (some records
 * parked) / failed / aborted / skipped, and failures are in crm_run. Only a job that does not
 * exist is thrown (a usage error).
 *
 * @example
 * const report = await runJob(app, 'customers');
 * if (report.status === 'failed') console.error(report.error);
 * const plan = await runJob(app, 'customers', { dryRun: true }); // plan.plan.finance.updates ...
 */
import type { Knex } from 'knex';
import type { SyncApp } from './context.js';
import { CrmlinkError } from '../core/errors.js';
import { ownValue } from '../core/own.js';
import type { JobConfig } from '../config/schema.js';
import type { Change, Where } from '../connectors/driver.js';
import { tryLockEntity, tryLockJob, type JobLock } from '../hub/locks.js';
import { ensureSyncTables } from '../hub/sync-tables.js';
import { RunContext, type HubAccess } from './context.js';
import { applyPage, commitPage, pullSource } from './pull.js';
import { pushAll, pushBatch, resolveIntents } from './push.js';
import { abandonStaleRuns, finishRun, recordSkipped, startRun } from '../hub/runs.js';
import { readParked } from '../hub/parked.js';
import { recordRunMetrics } from './metrics.js';
import { inSpan, SpanStatusCode, type Span } from '../core/tracing.js';
import { recordedStats } from './status.js';
import type { RunOptions, RunReport, RunStatus } from './types.js';
import { runEvents } from './run-events.js';

export function jobConfig(app: SyncApp, job: string): JobConfig {
  const cfg = ownValue(app.config.sync.jobs, job);
  if (!cfg) {
    const known = Object.keys(app.config.sync.jobs);
    throw new CrmlinkError('NOT_FOUND', `unknown sync job "${job}" (configured: ${known.join(', ') || 'none'})`, { path: 'sync.jobs', setting: `sync.jobs.${job}` });
  }
  return cfg;
}

/** Run a job now. See the module comment for what happens and what comes back. */
export function runJob(app: SyncApp, job: string, opts: RunOptions = {}): Promise<RunReport> {
  // The run's span holds one span per stage (pull of each source, push), each holding its batches.
  return inSpan('sync.run', { 'crmlink.sync.job': job, 'crmlink.sync.dry_run': opts.dryRun === true }, async (span) => {
    const report = await runJobTraced(app, job, opts);
    endRunSpan(span, report);
    return report;
  });
}

/** A finished run's outcome on its span. */
function endRunSpan(span: Span, report: RunReport): void {
  span.setAttributes({ 'crmlink.sync.status': report.status, 'crmlink.rows.read': report.totals.read, 'crmlink.rows.written': report.totals.written });
  if (report.status === 'failed') span.setStatus({ code: SpanStatusCode.ERROR, message: report.error?.code ?? 'failed' });
}

/** Why runJobIfNeeded ran nothing (and recorded nothing). */
export type NotRun = { notRun: 'busy' | 'not-needed' };

/**
 * A run only when it has work: `needed` is asked once the run holds its locks (so no other run of
 * the job can be moving the checkpoints meanwhile) and answers whether the hub still lacks what
 * the caller saw. When it does not, or when the job or its entity is busy (not waited for), nothing
 * runs and nothing is recorded: a change poll (sync/source-poller.ts) asks again at its next
 * interval, and several processes on one hub never run the same change twice.
 */
export function runJobIfNeeded(app: SyncApp, job: string, opts: RunOptions, needed: (hub: Knex) => Promise<boolean>): Promise<RunReport | NotRun> {
  if (opts.dryRun) throw new TypeError('runJobIfNeeded does not dry-run');
  return inSpan('sync.run', { 'crmlink.sync.job': job, 'crmlink.sync.dry_run': false }, async (span) => {
    const report = await runJobTraced(app, job, { ...opts, lockWaitMs: 0 }, needed);
    if ('notRun' in report) {
      span.setAttribute('crmlink.sync.status', report.notRun);
      return report;
    }
    endRunSpan(span, report);
    return report;
  });
}

async function runJobTraced(app: SyncApp, job: string, opts: RunOptions): Promise<RunReport>;
async function runJobTraced(app: SyncApp, job: string, opts: RunOptions, needed: (hub: Knex) => Promise<boolean>): Promise<RunReport | NotRun>;
async function runJobTraced(app: SyncApp, job: string, opts: RunOptions, needed?: (hub: Knex) => Promise<boolean>): Promise<RunReport | NotRun> {
  const cfg = jobConfig(app, job);
  const started = new Date();
  const startedAt = started.toISOString();
  if (opts.dryRun) return dryRun(app, job, cfg, opts, started);
  await ensureSyncTables(app.hub.knex);

  const locked = await lockRun(app, job, cfg.entity, opts.lockWaitMs ?? 0, opts.signal);
  if ('busy' in locked && needed) return { notRun: 'busy' };
  if ('busy' in locked) {
    const id = await recordSkipped(app.hub.knex, job, locked.busy, startedAt, opts.tick);
    app.logger.info({ job, reason: locked.busy }, 'sync run skipped: the job or its entity is busy');
    runEvents(app.hub).finished(id, job, 'skipped');
    return skipped(job, cfg, id, started, locked.busy, opts.tick);
  }
  const { lock } = locked;
  let runId: number | null = null;
  try {
    if (needed && !(await needed(app.hub.knex))) return { notRun: 'not-needed' };
    if (opts.tick && !(await app.hub.store.journal.claimTick(app.hub.knex, job, opts.tick, lock.holder))) {
      const reason = `tick ${opts.tick} was already run by another process`;
      const id = await recordSkipped(app.hub.knex, job, reason, startedAt, opts.tick);
      runEvents(app.hub).finished(id, job, 'skipped');
      return skipped(job, cfg, id, started, reason, opts.tick);
    }
    // We hold the lock: any run still marked running was cut short.
    await abandonStaleRuns(app.hub.knex, job);
    runId = await startRun(app.hub.knex, job, startedAt, opts.tick);
    const access: HubAccess = { q: app.hub.knex, tx: (fn) => app.hub.knex.transaction(fn) };
    // A run's progress also goes to the process's bus (live progress over GraphQL) while someone
    // listens: counting rows for the estimate costs a query per source, so not for nobody.
    const bus = runEvents(app.hub);
    const id = runId;
    const onProgress: RunOptions['onProgress'] = bus.listening
      ? (e) => {
          bus.progress(id, e);
          opts.onProgress?.(e);
        }
      : opts.onProgress;
    let report: RunReport;
    try {
      report = await execute(app, job, cfg, access, { ...opts, ...(onProgress ? { onProgress } : {}) }, started, runId);
    } catch (err) {
      bus.finished(runId, job, 'failed');
      throw err;
    }
    if (opts.tick) report.tick = opts.tick;
    await finishRun(app.hub.knex, runId, { status: report.status, endedAt: report.endedAt, stats: recordedStats(report), error: report.error ? JSON.stringify(report.error) : (report.reason ?? null) }).catch((err: unknown) => app.logger.error({ job, err }, 'could not record the run'));
    recordRunMetrics(report);
    log(app, report);
    bus.finished(runId, job, report.status);
    return report;
  } finally {
    await lock.release().catch((err: unknown) => app.logger.warn({ job, err }, 'could not release the job lock'));
  }
}

/**
 * The job's lock, waiting up to `waitMs` for it (an event-driven push of the same job lasts
 * milliseconds: a scheduled tick waits for it rather than being skipped).
 */
export function lockJob(app: SyncApp, job: string, waitMs: number, signal?: AbortSignal): Promise<JobLock | null> {
  return waitForLock(() => tryLockJob(app.hub, job), waitMs, signal);
}

/**
 * What a run that pulls holds: its job's lock, then its entity's (hub/locks.ts tryLockEntity), so
 * runs of two jobs on one entity never interleave and cannot both create the same new record.
 * Each is waited for up to `waitMs`; `busy` says which was held.
 */
export async function lockRun(app: SyncApp, job: string, entity: string, waitMs: number, signal?: AbortSignal): Promise<{ lock: JobLock } | { busy: string }> {
  const jobLock = await lockJob(app, job, waitMs, signal);
  if (!jobLock) return { busy: 'LOCKED: another run of this job holds its lock' };
  let entityLock: JobLock | null;
  try {
    entityLock = await waitForLock(() => tryLockEntity(app.hub, entity), waitMs, signal);
  } catch (err) {
    await jobLock.release();
    throw err;
  }
  if (!entityLock) {
    await jobLock.release();
    return { busy: `LOCKED: a run of another job on ${entity} holds the entity's lock (runs of jobs on one entity take turns); this one runs at its next tick` };
  }
  const held = entityLock;
  return {
    lock: {
      name: jobLock.name,
      holder: jobLock.holder,
      release: async () => {
        try {
          await held.release();
        } finally {
          await jobLock.release();
        }
      },
    },
  };
}

async function waitForLock(take: () => Promise<JobLock | null>, waitMs: number, signal?: AbortSignal): Promise<JobLock | null> {
  const deadline = Date.now() + waitMs;
  for (let delay = 10; ; delay = Math.min(delay * 2, 200)) {
    const lock = await take();
    if (lock || Date.now() + delay > deadline || signal?.aborted) return lock;
    await new Promise<void>((r) => setTimeout(r, delay));
  }
}

async function dryRun(app: SyncApp, job: string, cfg: JobConfig, opts: RunOptions, started: Date): Promise<RunReport> {
  // Everything happens in one hub transaction that is rolled back; sources are only read.
  const trx = await app.hub.knex.transaction();
  try {
    // The sync engine's own tables, if the hub lacks them, exist only inside this transaction.
    await ensureSyncTables(trx);
    const access: HubAccess = { q: trx, tx: (fn) => trx.transaction(fn) };
    return await execute(app, job, cfg, access, { ...opts, dryRun: true }, started, null);
  } finally {
    await trx.rollback().catch(() => undefined);
  }
}

async function execute(app: SyncApp, job: string, cfg: JobConfig, access: HubAccess, opts: RunOptions, started: Date, runId: number | null): Promise<RunReport> {
  let ctx: RunContext | null = null;
  let status: RunStatus = 'ok';
  let error: RunReport['error'];
  try {
    ctx = new RunContext(app, job, cfg, access, opts);
    ctx.runId = runId;
    if (!ctx.dryRun) await resolveIntents(ctx);
    if (cfg.direction !== 'push') {
      for (const unit of ctx.units) {
        if (opts.pullOnly && !opts.pullOnly.includes(unit.name)) continue;
        const t = performance.now();
        try {
          const pulled = ctx;
          await inSpan('sync.pull', { 'crmlink.sync.stage': 'pull', 'crmlink.source': unit.name }, () => pullSource(pulled, unit));
        } finally {
          ctx.stats[unit.name].pullMs += Math.round(performance.now() - t);
        }
      }
    }
    const pushing = ctx;
    if (cfg.direction !== 'pull') await inSpan('sync.push', { 'crmlink.sync.stage': 'push' }, () => pushAll(pushing));
  } catch (err) {
    const aborted = opts.signal?.aborted === true;
    status = aborted ? 'aborted' : 'failed';
    error = describeError(err);
    app.logger.error({ job, err }, aborted ? 'sync run aborted' : 'sync run failed');
  }
  const report = buildReport(job, cfg, ctx, started, runId, status, error);
  if (status === 'ok' && report.totals.parked > 0) report.status = 'partial';
  return report;
}

export function buildReport(job: string, cfg: JobConfig, ctx: RunContext | null, started: Date, runId: number | null, status: RunStatus, error?: RunReport['error']): RunReport {
  const ended = new Date();
  const sources = ctx?.stats ?? {};
  const totals = { read: 0, written: 0, hubWritten: 0, sourceWritten: 0, conflicts: 0, autoResolved: 0, parked: 0 };
  let oldest: string | null = null;
  for (const s of Object.values(sources)) {
    totals.read += s.read;
    totals.hubWritten += s.hubInserted + s.hubUpdated + s.hubDeleted;
    totals.sourceWritten += s.inserted + s.updated + s.deleted;
    totals.conflicts += s.conflicts;
    totals.autoResolved += s.autoResolved;
    totals.parked += s.parked;
    if (s.oldestChange !== null && (oldest === null || s.oldestChange < oldest)) oldest = s.oldestChange;
  }
  totals.written = totals.hubWritten + totals.sourceWritten;
  const report: RunReport = {
    runId,
    job,
    entity: cfg.entity,
    status,
    dryRun: ctx?.dryRun ?? false,
    startedAt: started.toISOString(),
    endedAt: ended.toISOString(),
    durationMs: ended.getTime() - started.getTime(),
    sources,
    totals,
    lagSeconds: oldest === null ? null : Math.max(0, (ended.getTime() - Date.parse(oldest)) / 1000),
  };
  if (error) report.error = error;
  if (ctx?.plan) report.plan = ctx.plan;
  return report;
}

function skipped(job: string, cfg: JobConfig, runId: number, started: Date, reason: string, tick: string | undefined): RunReport {
  const report = buildReport(job, cfg, null, started, runId, 'skipped');
  report.reason = reason;
  if (tick) report.tick = tick;
  recordRunMetrics(report);
  return report;
}

export function describeError(err: unknown): { code: string; message: string } {
  if (err instanceof CrmlinkError) return { code: err.code, message: shorten(err.message) };
  if (err instanceof Error) return { code: err.name === 'AbortError' ? 'ABORTED' : 'INTERNAL', message: shorten(err.message) };
  return { code: 'INTERNAL', message: shorten(String(err)) };
}

/** knex puts the whole statement in its messages; a 500-row insert does not belong in a report. */
function shorten(message: string): string {
  return message.length <= 1200 ? message : `${message.slice(0, 500)} … ${message.slice(-500)}`;
}

function log(app: SyncApp, r: RunReport): void {
  const line = { job: r.job, status: r.status, ms: r.durationMs, read: r.totals.read, written: r.totals.written, conflicts: r.totals.conflicts, parked: r.totals.parked, lag: r.lagSeconds };
  if (r.status === 'failed') app.logger.error(line, 'sync run failed');
  else app.logger.info(line, 'sync run finished');
}

export interface RetryParkedResult {
  retried: number;
  resolved: number;
  remaining: number;
  report: RunReport;
}

/**
 * Try the job's parked records again: pulled rows are read again from their source by key,
 * pushed records are pushed again. Whatever goes through leaves the list; the rest stays parked
 * with one more attempt counted.
 */
export async function retryParked(app: SyncApp, job: string, opts: Pick<RunOptions, 'signal' | 'retries' | 'retryMinTimeoutMs'> = {}): Promise<RetryParkedResult> {
  const cfg = jobConfig(app, job);
  await ensureSyncTables(app.hub.knex);
  const started = new Date();
  const locked = await lockRun(app, job, cfg.entity, 0);
  if ('busy' in locked) {
    throw new CrmlinkError('LOCKED', `job ${job} cannot retry its parked records now (${locked.busy}); try again when the run has finished`, { setting: `sync.jobs.${job}` });
  }
  const { lock } = locked;
  try {
    const parked = await readParked(app.hub.knex, { job, status: 'parked' });
    const access: HubAccess = { q: app.hub.knex, tx: (fn) => app.hub.knex.transaction(fn) };
    const ctx = new RunContext(app, job, cfg, access, opts);
    let status: RunStatus = 'ok';
    let error: RunReport['error'];
    try {
      for (const unit of ctx.units) {
        const pulls = parked.filter((p) => p.source === unit.name && p.direction === 'pull' && p.sourceKey !== null);
        if (pulls.length > 0) {
          const changes = await rereadRows(ctx, unit.name, pulls.map((p) => p.sourceKey!));
          const batch = { changes, checkpoint: { strategy: unit.mapping.capture.strategy }, hasMore: false, snapshot: false };
          const outcome = await ctx.retry(() => ctx.hub.tx((trx) => applyPage(ctx, unit, trx, batch, { page: 1, startScan: false, checkpoint: null })), `retry ${unit.name} rows`);
          commitPage(ctx, unit.name, outcome);
        }
        const pushes = parked.filter((p) => p.source === unit.name && p.direction === 'push' && p.gid !== null);
        if (pushes.length > 0) {
          const records = await app.hub.getMany(cfg.entity, [...new Set(pushes.map((p) => p.gid!))]);
          await pushBatch(ctx, unit, [...records.values()], 1);
        }
      }
    } catch (err) {
      status = 'failed';
      error = describeError(err);
    }
    const still = await readParked(app.hub.knex, { job, status: 'parked', ids: parked.map((p) => p.id) });
    const report = buildReport(job, cfg, ctx, started, null, status, error);
    return { retried: parked.length, resolved: parked.length - still.length, remaining: still.length, report };
  } finally {
    await lock.release();
  }
}

/** Current rows for these keys; a key with no row (or one outside the filter) is a delete. */
async function rereadRows(ctx: RunContext, source: string, keys: string[]): Promise<Change[]> {
  const unit = ctx.unit(source);
  const m = unit.mapping;
  const out: Change[] = [];
  const found = new Map<string, Change>();
  for (let i = 0; i < keys.length; i += 200) {
    const part = keys.slice(i, i + 200);
    const byKey: Where =
      m.key.length === 1
        ? { column: m.key[0], op: 'in', value: part.map((k) => m.keyValues(k)[0]) }
        : { or: part.map((k) => ({ and: m.keyValues(k).map((v, j) => ({ column: m.key[j], op: 'eq' as const, value: v })) })) };
    const where: Where = m.filter ? { and: [m.filter, byKey] } : byKey;
    const rows = await ctx.retry(() => unit.driver.select({ ...m.table, columns: m.columns, where }), `read ${source}`);
    for (const row of rows) found.set(m.sourceKey(row), { key: m.key.map((k) => row[k]), op: 'upsert', row, changedAt: null, hash: '' });
  }
  for (const k of keys) out.push(found.get(k) ?? { key: m.keyValues(k), op: 'delete', row: null, changedAt: null, hash: '' });
  return out;
}

