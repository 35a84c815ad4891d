/**
 * The scheduler: one node-cron task per job that has a `schedule` (the cron pattern lives beside
 * the job, in `sync.jobs.<name>.schedule`). Each tick runs the job through runJob, which takes the
 * job's lock and claims the tick in the hub, so:
 * - a job never overlaps itself (noOverlap here, the hub lock across processes);
 * - with several crmlink processes on one PostgreSQL hub each tick runs once; the others record a
 *   skipped run.
 *
 * A job with `reconcile.schedule` also gets a reconcile task (sync/reconcile.ts), ticking on its own
 * pattern under the same job lock (it waits up to RECONCILE_LOCK_WAIT_MS for a run of the job to
 * finish, then records a skipped reconcile) and claiming its ticks apart from the job's.
 *
 * stop() is graceful: no new ticks, the abort signal tells running jobs to stop between pages /
 * batches (their last committed page and checkpoint stay valid), and it waits for them.
 *
 * @example
 * const scheduler = startScheduler(app);
 * // ... later, on SIGTERM:
 * await scheduler.stop();
 */
import cron, { type ScheduledTask } from 'node-cron';
import type { SyncApp } from './context.js';
import { BackgroundRuns } from './background-runs.js';
import { runJob } from './engine.js';
import { reconcileJob, type ReconcileReport } from './reconcile.js';

/** How long a scheduled reconcile waits for a run of its job to end before it is skipped. */
export const RECONCILE_LOCK_WAIT_MS = 10 * 60_000;
import type { RunOptions, RunReport } from './types.js';

export interface SchedulerOptions {
  /** Only these jobs (default: every job with a schedule). */
  jobs?: string[];
  /** Extra options for each run (faults, progress...). */
  runOptions?: Omit<RunOptions, 'signal' | 'tick' | 'dryRun'>;
  /** Told about every finished run (also skipped ones). */
  onRun?: (report: RunReport) => void;
  /** Told about every finished reconcile (also skipped ones). */
  onReconcile?: (report: ReconcileReport) => void;
  /** IANA time zone the patterns are read in (default: the process's). */
  timezone?: string;
}

export interface ScheduledJob {
  job: string;
  /** run: the job's sync runs; reconcile: its key reconcile. */
  task: 'run' | 'reconcile';
  schedule: string;
  nextRun: Date | null;
  running: boolean;
}

export class SyncScheduler {
  private readonly tasks = new Map<string, ScheduledTask>();
  /** Key reconcile tasks, by job. */
  private readonly reconcileTasks = new Map<string, ScheduledTask>();
  private readonly runs = new BackgroundRuns();
  private readonly reconciles = new BackgroundRuns();
  private stopping: Promise<void> | null = null;

  constructor(
    private readonly app: SyncApp,
    private readonly opts: SchedulerOptions = {},
  ) {}

  start(): this {
    if (this.stopping) throw new Error('the scheduler was stopped; create a new one');
    for (const [job, cfg] of Object.entries(this.app.config.sync.jobs)) {
      if (this.opts.jobs && !this.opts.jobs.includes(job)) continue;
      const reconcile = cfg.reconcile;
      if (reconcile && !this.reconcileTasks.has(job)) {
        this.reconcileTasks.set(job, this.cronTask(reconcile.schedule, `crmlink:reconcile:${job}`, (at) => this.reconcile(job, at)));
        this.app.logger.info({ job, schedule: reconcile.schedule }, 'key reconcile scheduled');
      }
      if (!cfg.schedule || this.tasks.has(job)) continue;
      this.tasks.set(job, this.cronTask(cfg.schedule, `crmlink:sync:${job}`, (at) => this.tick(job, at)));
      this.app.logger.info({ job, schedule: cfg.schedule }, 'sync job scheduled');
    }
    return this;
  }

  /**
   * A cron task in the scheduler's time zone that never overlaps itself. Unref'd: ticks must not
   * keep a CLI process alive on their own (the server holds it open).
   */
  private cronTask(schedule: string, name: string, run: (at: Date) => unknown): ScheduledTask {
    return cron.schedule(schedule, (ctx) => run(ctx.date), { name, noOverlap: true, timezone: this.opts.timezone, unref: true });
  }

  jobs(): ScheduledJob[] {
    const entry = (job: string, task: ScheduledTask, kind: ScheduledJob['task']): ScheduledJob => ({
      job,
      task: kind,
      schedule: task.getPattern(),
      nextRun: task.getNextRun(),
      running: (kind === 'run' ? this.runs : this.reconciles).has(job),
    });
    return [...[...this.tasks].map(([job, t]) => entry(job, t, 'run')), ...[...this.reconcileTasks].map(([job, t]) => entry(job, t, 'reconcile'))];
  }

  /** Reconcile one job's keys now, as its reconcile tick would. */
  reconcile(job: string, at: Date = new Date()): Promise<void> {
    if (this.reconciles.signal.aborted) return Promise.resolve();
    const tick = new Date(Math.floor(at.getTime() / 1000) * 1000).toISOString();
    const cfg = this.app.config.sync.jobs[job];
    return this.reconciles.start(
      job,
      async (signal) => {
        const report = await reconcileJob(this.app, job, { signal, tick, lockWaitMs: RECONCILE_LOCK_WAIT_MS, pageSize: cfg?.reconcile?.pageSize });
        this.opts.onReconcile?.(report);
      },
      (err) => this.app.logger.error({ job, err }, 'scheduled reconcile could not start'),
    );
  }

  /** Run one job now, as a tick would (used by the scheduler and for "run now" buttons). */
  tick(job: string, at: Date = new Date()): Promise<void> {
    if (this.runs.signal.aborted) return Promise.resolve();
    // Whole seconds: the same tick has the same name in every process.
    const tick = new Date(Math.floor(at.getTime() / 1000) * 1000).toISOString();
    // runJob reports run failures itself; what is logged here is a job that cannot even start.
    return this.runs.start(
      job,
      async (signal) => {
        const report = await runJob(this.app, job, { ...this.opts.runOptions, signal, tick });
        this.opts.onRun?.(report);
      },
      (err) => this.app.logger.error({ job, err }, 'scheduled sync run could not start'),
    );
  }

  /** Stop ticking, ask running jobs to stop at their next safe point, and wait for them. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await Promise.allSettled([...this.tasks.values(), ...this.reconcileTasks.values()].map(async (t) => {
        await t.stop();
        await t.destroy();
      }));
      this.tasks.clear();
      this.reconcileTasks.clear();
      await Promise.all([this.runs.stop('the scheduler is stopping'), this.reconciles.stop('the scheduler is stopping')]);
    })();
    return this.stopping;
  }
}

/** Start scheduling every job that has a schedule. The result is what the server stops on shutdown. */
export function startScheduler(app: SyncApp, opts: SchedulerOptions = {}): SyncScheduler {
  return new SyncScheduler(app, opts).start();
}
