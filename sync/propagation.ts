/**
 * Event-driven propagation (事件驱动传播): a committed hub change is pushed to the other systems
 * within moments, through the same push stages as a scheduled run.
 *
 *   hub store event (mutation, conflict resolution, merge, a pull that changed records)
 *   → wait for its transaction to commit → queue its record ids per job covering the entity
 *   → debounce (sync.propagation.debounceMs; a record queued twice is pushed once, with its
 *     latest values) → the job's lock → pushBatch per target source (plan → compare-before-write
 *     → write → record in the hub: links, bases, parked rows) → a run in crm_run
 *
 * It is not a second write path: pushBatch is the scheduled run's own batch push, so merge
 * policies, open conflicts, parking, retries and insert intents apply alike. Idempotence comes
 * from the bases: a push writes only the fields that differ from what the source was last given,
 * so an event push and a scheduled run that both see a change write it once, whichever runs
 * first; the job lock keeps them from running at the same time. The hub checkpoint of the
 * scheduled push is not moved here, so the schedule stays the safety net (a target that was down
 * catches up at the next run even after the retries here are spent).
 *
 * A pull's own changes are not queued for the job that pulled them (its run pushes them at its
 * end), only for the other jobs covering the entity.
 *
 * @example
 * const propagator = startPropagation(app); // crmlink serve does this
 * await propagator.waitFor('Customer', gid, version, { timeoutMs: 3000 }); // createCustomer(propagate: WAIT)
 * await propagator.stop();
 */
import type { JobConfig } from '../config/schema.js';
import type { HubChange } from '../hub/golden.js';
import { finishRun, startRun } from '../hub/runs.js';
import { ensureSyncTables } from '../hub/sync-tables.js';
import type { EntityName } from '../model/entities.js';
import { RunContext, type HubAccess, type SyncApp } from './context.js';
import { buildReport, describeError, lockJob } from './engine.js';
import { recordRunMetrics } from './metrics.js';
import { pushBatch, resolveIntents } from './push.js';
import { recordedStats } from './status.js';
import type { RunOptions, RunReport, RunStatus } from './types.js';

/** Timers the queue runs on; tests hand in a manual clock. */
export interface PropagationTimers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

const REAL_TIMERS: PropagationTimers = {
  set: (fn, ms) => {
    const t = setTimeout(fn, ms);
    // Queued pushes must not keep a process alive on their own: the server holds it open.
    t.unref();
    return t;
  },
  clear: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface PropagationOptions {
  /** Only these jobs (default: every job with `propagate` not `schedule` and a push direction). */
  jobs?: string[];
  /** Default: sync.propagation.debounceMs. */
  debounceMs?: number;
  /** First retry delay after a target failed; default sync.propagation.retryMs. */
  retryMs?: number;
  /** Retries of a failed target before leaving it to the schedule (default 10). */
  maxRetries?: number;
  /** A held job lock (a scheduled run) is tried again after this long (default 50 ms). */
  lockRetryMs?: number;
  timers?: PropagationTimers;
  /** Options for each push (retries of transient faults, fault hooks in tests). */
  runOptions?: Pick<RunOptions, 'retries' | 'retryMinTimeoutMs' | 'faults'>;
  /** Told about every finished event push. */
  onPush?: (report: RunReport) => void;
}

/** The last failure of a target, until a push to it succeeds. */
export interface TargetFailure {
  job: string;
  source: string;
  code: string;
  message: string;
  at: string;
}

interface Waiter {
  gid: string;
  version: number;
  jobs: Set<string>;
  resolve(): void;
}

/** Pushed versions remembered per job and record, so a late waiter knows its push is done. */
const DONE_LIMIT = 10000;

export class Propagator {
  private readonly timers: PropagationTimers;
  private readonly debounceMs: number;
  private readonly retryMs: number;
  private readonly maxRetries: number;
  private readonly lockRetryMs: number;
  /** job → record ids waiting for the next push. */
  private readonly pending = new Map<string, Set<string>>();
  private readonly scheduled = new Map<string, unknown>();
  /** Jobs whose pending records wait for a retry after a failure (not "busy" for idle()). */
  private readonly backingOff = new Set<string>();
  private readonly failuresInRow = new Map<string, number>();
  private readonly active = new Map<string, Promise<void>>();
  /** `${job}\0${gid}` → the version last pushed. */
  private readonly done = new Map<string, number>();
  private readonly failures = new Map<string, TargetFailure>();
  private waiters: Waiter[] = [];
  private idlers: (() => void)[] = [];
  private settlers: (() => void)[] = [];
  private uncommitted = 0;
  private unsubscribe: (() => void) | null = null;
  private readonly controller = new AbortController();
  private stopping: Promise<void> | null = null;

  constructor(
    private readonly app: SyncApp,
    private readonly opts: PropagationOptions = {},
  ) {
    const cfg = app.config.sync.propagation;
    this.timers = opts.timers ?? REAL_TIMERS;
    this.debounceMs = opts.debounceMs ?? cfg.debounceMs;
    this.retryMs = opts.retryMs ?? cfg.retryMs;
    this.maxRetries = opts.maxRetries ?? 10;
    this.lockRetryMs = opts.lockRetryMs ?? 50;
  }

  start(): this {
    if (this.stopping) throw new Error('propagation was stopped; start a new Propagator');
    this.unsubscribe ??= this.app.hub.store.subscribe((change) => this.onChange(change));
    const jobs = this.jobs();
    if (jobs.length > 0) this.app.logger.info({ jobs }, 'event-driven propagation on');
    return this;
  }

  /** Jobs this propagator pushes for: configured, not `propagate: schedule`, not pull-only. */
  jobs(entity?: EntityName): string[] {
    return Object.entries(this.app.config.sync.jobs)
      .filter(([job, cfg]) => propagates(cfg) && (entity === undefined || cfg.entity === entity) && (!this.opts.jobs || this.opts.jobs.includes(job)))
      .map(([job]) => job);
  }

  /** Whether a push of `job` is queued, waiting, or under way (a record's status is then PENDING). */
  isQueued(job: string, gid: string): boolean {
    return this.pending.get(job)?.has(gid) === true;
  }

  /** The last failure pushing `job` to `source`, cleared by the next success. */
  failure(job: string, source: string): TargetFailure | undefined {
    return this.failures.get(`${job}\0${source}`);
  }

  /**
   * Resolves once every job propagating `entity` has pushed record `gid` at `version` or later
   * (whatever the outcome per target), or after `timeoutMs`. Returns whether it got there in time.
   */
  waitFor(entity: EntityName, gid: string, version: number, opts: { timeoutMs: number }): Promise<boolean> {
    const jobs = new Set(this.jobs(entity).filter((job) => (this.done.get(`${job}\0${gid}`) ?? 0) < version));
    if (jobs.size === 0 || this.stopping) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      let handle: unknown = null;
      const waiter: Waiter = {
        gid,
        version,
        jobs,
        resolve: () => {
          if (handle !== null) this.timers.clear(handle);
          resolve(true);
        },
      };
      this.waiters.push(waiter);
      handle = this.timers.set(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve(false);
      }, opts.timeoutMs);
    });
  }

  /**
   * Resolves when nothing is queued, waiting for a commit, or being pushed (records waiting for
   * a retry after a failure do not count). For tests and orderly shutdown.
   */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise<void>((resolve) => this.idlers.push(resolve));
  }

  /**
   * Resolves when no change waits for its commit and no push is under way: what is queued then
   * waits only for a timer (the debounce, a held lock, a retry). For tests on a manual clock.
   */
  settled(): Promise<void> {
    if (this.isSettled()) return Promise.resolve();
    return new Promise<void>((resolve) => this.settlers.push(resolve));
  }

  /** Push what is queued for `job` now, without waiting for the debounce. */
  flush(job: string): Promise<void> {
    const running = this.active.get(job);
    if (running) return running;
    const handle = this.scheduled.get(job);
    if (handle !== undefined) {
      this.timers.clear(handle);
      this.scheduled.delete(job);
    }
    this.backingOff.delete(job);
    const p = this.push(job).finally(() => {
      this.active.delete(job);
      if ((this.pending.get(job)?.size ?? 0) > 0 && !this.scheduled.has(job) && !this.stopping) this.schedule(job, 0);
      this.checkIdle();
    });
    this.active.set(job, p);
    return p;
  }

  /** No new pushes; the one under way finishes (its batches are whole), waiters are released. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.unsubscribe?.();
      this.unsubscribe = null;
      for (const h of this.scheduled.values()) this.timers.clear(h);
      this.scheduled.clear();
      this.controller.abort(new Error('propagation is stopping'));
      await Promise.allSettled([...this.active.values()]);
      for (const w of this.waiters) w.resolve();
      this.waiters = [];
      for (const r of [...this.idlers, ...this.settlers]) r();
      this.idlers = [];
      this.settlers = [];
    })();
    return this.stopping;
  }

  private onChange(change: HubChange): void {
    if (this.stopping) return;
    // A pull's changes are pushed by the end of the same run: queue them for the other jobs only.
    const own = change.actor.startsWith('sync:') ? change.actor.slice(5) : null;
    const jobs = this.jobs(change.entity).filter((j) => j !== own);
    if (jobs.length === 0) return;
    const gids = change.records.map((r) => r.id);
    this.uncommitted++;
    void change.committed.then((ok) => {
      this.uncommitted--;
      if (ok && !this.stopping) for (const job of jobs) this.enqueue(job, gids);
      this.checkIdle();
    });
  }

  private enqueue(job: string, gids: readonly string[]): void {
    let set = this.pending.get(job);
    if (!set) this.pending.set(job, (set = new Set()));
    for (const g of gids) set.add(g);
    if (this.active.has(job)) return; // pushed right after the push under way
    const handle = this.scheduled.get(job);
    // New records do not wait out a retry delay: they go after the debounce, with the retried ones.
    if (handle !== undefined && this.backingOff.has(job)) {
      this.timers.clear(handle);
      this.scheduled.delete(job);
      this.backingOff.delete(job);
    }
    if (!this.scheduled.has(job)) this.schedule(job, this.debounceMs);
  }

  private schedule(job: string, ms: number): void {
    this.scheduled.set(
      job,
      this.timers.set(() => {
        this.scheduled.delete(job);
        void this.flush(job);
      }, ms),
    );
  }

  /** One event push of `job`: the queued records, under the job's lock, to each target. */
  private async push(job: string): Promise<void> {
    const queued = this.pending.get(job);
    if (!queued || queued.size === 0) return;
    const cfg = this.app.config.sync.jobs[job];
    if (!cfg) return void this.pending.delete(job);
    let hubDown = false;
    const lock = await lockJob(this.app, job, 0).catch((err: unknown) => {
      this.app.logger.warn({ job, err }, 'event push: could not take the job lock');
      hubDown = true;
      return null;
    });
    if (!lock) {
      // A run of the job holds it: that run may push these records already; ours finds nothing left then.
      // The hub unreachable: back off as after a failed push.
      if (hubDown) this.retryLater(job, []);
      else if (!this.stopping) this.schedule(job, this.lockRetryMs);
      return;
    }
    const gids = [...queued];
    this.pending.delete(job);
    try {
      const failed = await this.pushRecords(job, cfg, gids);
      if (failed) this.retryLater(job, gids);
      else this.failuresInRow.delete(job);
    } catch (err) {
      this.app.logger.error({ job, err }, 'event push failed');
      this.retryLater(job, gids);
    } finally {
      await lock.release().catch((err: unknown) => this.app.logger.warn({ job, err }, 'could not release the job lock'));
    }
  }

  /** Returns whether some target failed (its records stay queued for a retry). */
  private async pushRecords(job: string, cfg: JobConfig, gids: string[]): Promise<boolean> {
    const { app } = this;
    await ensureSyncTables(app.hub.knex);
    const started = new Date();
    const runId = await startRun(app.hub.knex, job, started.toISOString());
    const access: HubAccess = { q: app.hub.knex, tx: (fn) => app.hub.knex.transaction(fn) };
    const ctx = new RunContext(app, job, cfg, access, { ...this.opts.runOptions, signal: this.controller.signal });
    const targets = ctx.units.filter((u) => u.canInsert || u.canUpdate || u.canDelete);
    const failed: { source: string; code: string; message: string }[] = [];
    const pushed = new Map<string, number>();
    let status: RunStatus = 'ok';
    let error: RunReport['error'];
    try {
      await resolveIntents(ctx);
      for (let i = 0; i < gids.length; i += cfg.batchSize) {
        const found = await app.hub.getMany(cfg.entity, gids.slice(i, i + cfg.batchSize));
        // Records merged into another are represented by their survivor (as in a scheduled push).
        const records = [...found.values()].filter((r) => r.mergedInto === null);
        for (const r of found.values()) pushed.set(r.id, r.version);
        for (const unit of targets) {
          if (failed.some((f) => f.source === unit.name)) continue;
          const t = performance.now();
          try {
            await ctx.retry(async (attempt) => {
              if (attempt > 1) await resolveIntents(ctx, [unit]);
              await pushBatch(ctx, unit, records, i / cfg.batchSize + 1);
            }, `push to ${unit.name}`);
          } catch (err) {
            // One target down does not hold back the others; its records wait for a retry.
            failed.push({ source: unit.name, ...describeError(err) });
          } finally {
            ctx.stats[unit.name].pushMs += Math.round(performance.now() - t);
          }
        }
      }
    } catch (err) {
      status = this.controller.signal.aborted ? 'aborted' : 'failed';
      error = describeError(err);
    }
    const at = new Date().toISOString();
    for (const unit of targets) {
      const f = failed.find((x) => x.source === unit.name);
      if (f) this.failures.set(`${job}\0${unit.name}`, { job, source: unit.name, code: f.code, message: f.message, at });
      else if (!error) this.failures.delete(`${job}\0${unit.name}`);
    }
    if (!error && failed.length > 0) {
      status = 'failed';
      error = { code: failed[0].code, message: failed.map((f) => `${f.source}: ${f.message}`).join('; ') };
    }
    const report = buildReport(job, cfg, ctx, started, runId, status, error);
    report.trigger = 'event';
    if (report.status === 'ok' && report.totals.parked > 0) report.status = 'partial';
    await finishRun(app.hub.knex, runId, { status: report.status, endedAt: report.endedAt, stats: recordedStats(report), error: report.error ? JSON.stringify(report.error) : null }).catch((err: unknown) =>
      app.logger.error({ job, err }, 'could not record the event push'),
    );
    recordRunMetrics(report);
    app.logger.info({ job, status: report.status, records: gids.length, written: report.totals.sourceWritten, parked: report.totals.parked, ms: report.durationMs }, 'event push finished');
    if (!error) this.markDone(job, pushed);
    this.opts.onPush?.(report);
    return error !== undefined;
  }

  private markDone(job: string, pushed: ReadonlyMap<string, number>): void {
    for (const [gid, version] of pushed) {
      const key = `${job}\0${gid}`;
      this.done.delete(key);
      this.done.set(key, version);
    }
    // Oldest first out: a Map iterates in insertion order.
    for (const key of this.done.keys()) {
      if (this.done.size <= DONE_LIMIT) break;
      this.done.delete(key);
    }
    this.waiters = this.waiters.filter((w) => {
      const v = pushed.get(w.gid);
      if (v !== undefined && v >= w.version) w.jobs.delete(job);
      if (w.jobs.size > 0) return true;
      w.resolve();
      return false;
    });
  }

  private retryLater(job: string, gids: readonly string[]): void {
    const n = (this.failuresInRow.get(job) ?? 0) + 1;
    this.failuresInRow.set(job, n);
    // Even when the retries are spent the records are not lost: the scheduled run pushes them.
    // Waiters are told now: a target that is down must not hold a mutation until its timeout.
    this.releaseWaiters(job, gids);
    if (n > this.maxRetries || this.stopping) return;
    let set = this.pending.get(job);
    if (!set) this.pending.set(job, (set = new Set()));
    for (const g of gids) set.add(g);
    this.backingOff.add(job);
    const handle = this.scheduled.get(job);
    if (handle !== undefined) this.timers.clear(handle);
    this.schedule(job, Math.min(this.retryMs * 2 ** (n - 1), 3600000));
  }

  private releaseWaiters(job: string, gids: readonly string[]): void {
    const set = new Set(gids);
    this.waiters = this.waiters.filter((w) => {
      if (set.has(w.gid)) w.jobs.delete(job);
      if (w.jobs.size > 0) return true;
      w.resolve();
      return false;
    });
  }

  private isSettled(): boolean {
    return this.active.size === 0 && this.uncommitted === 0;
  }

  private isIdle(): boolean {
    if (!this.isSettled()) return false;
    for (const [job, set] of this.pending) if (set.size > 0 && !this.backingOff.has(job)) return false;
    return true;
  }

  private checkIdle(): void {
    if (this.isSettled()) {
      const settled = this.settlers;
      this.settlers = [];
      for (const r of settled) r();
    }
    if (!this.isIdle()) return;
    const list = this.idlers;
    this.idlers = [];
    for (const r of list) r();
  }
}

/** Whether a job propagates hub changes by events (the default) and pushes at all. */
export function propagates(cfg: JobConfig): boolean {
  return cfg.propagate !== 'schedule' && cfg.direction !== 'pull';
}

/** Start event-driven propagation for every job that has it. The result is what the server stops on shutdown. */
export function startPropagation(app: SyncApp, opts: PropagationOptions = {}): Propagator {
  return new Propagator(app, opts).start();
}
