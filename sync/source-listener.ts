/**
 * Faster pickup where the source can tell us (#2 of event-driven propagation): for every source
 * with trigger capture on PostgreSQL, a LISTEN connection; a NOTIFY from a captured table starts a
 * run of each job mapping that table, pulling only that source (the run's push then carries the
 * change to the other systems), within a second of the source's commit.
 *
 * Notifications arriving while such a run goes on start one more run after it. A run waits for a
 * scheduled run holding the job's lock rather than being skipped. A lost connection is re-opened
 * with backoff, followed by a run (notifications sent meanwhile were lost); the schedule remains
 * the safety net.
 *
 * @example
 * const listener = await startSourceListener(app); // crmlink serve does this
 * await listener.stop();
 */
import { listenChanges, type ChangeListener } from '../connectors/capture/index.js';
import type { SyncApp } from './context.js';
import { BackgroundRuns } from './background-runs.js';
import { runJob } from './engine.js';
import type { RunOptions, RunReport } from './types.js';

export interface SourceListenerOptions {
  /** Notifications within this window start one run (default 100 ms). */
  debounceMs?: number;
  /** Told about every run a notification started. */
  onRun?: (report: RunReport) => void;
  runOptions?: Pick<RunOptions, 'retries' | 'retryMinTimeoutMs'>;
}

interface Watched {
  source: string;
  /** table name → jobs mapping it */
  jobs: Map<string, Set<string>>;
  listener: ChangeListener | null;
  failures: number;
}

export class SourceListener {
  private readonly watched = new Map<string, Watched>();
  private readonly pending = new Map<string, Set<string>>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly runs = new BackgroundRuns();
  private stopping: Promise<void> | null = null;

  constructor(
    private readonly app: SyncApp,
    private readonly opts: SourceListenerOptions = {},
  ) {
    for (const [job, cfg] of Object.entries(app.config.sync.jobs)) {
      // Pull-only jobs too: the pull is what a notification starts.
      if (cfg.direction === 'push' || cfg.propagate === 'schedule') continue;
      for (const source of cfg.sources) {
        const mapping = app.sources.mapping(cfg.entity, source);
        if (mapping.capture.strategy !== 'trigger' || app.config.sources[source]?.dialect !== 'postgres') continue;
        let w = this.watched.get(source);
        if (!w) this.watched.set(source, (w = { source, jobs: new Map(), listener: null, failures: 0 }));
        const table = mapping.table.table;
        const set = w.jobs.get(table) ?? new Set<string>();
        set.add(job);
        w.jobs.set(table, set);
      }
    }
  }

  /** Sources listened to. */
  sources(): string[] {
    return [...this.watched.keys()];
  }

  /** Open every LISTEN connection; a source that cannot be reached is tried again in the background. */
  async start(): Promise<this> {
    await Promise.all([...this.watched.values()].map((w) => this.listen(w)));
    return this;
  }

  private async listen(w: Watched): Promise<void> {
    if (this.stopping) return;
    try {
      w.listener = await listenChanges(this.app.sources.driver(w.source), {
        onChange: (table) => {
          for (const job of w.jobs.get(table) ?? []) this.queue(job, w.source);
        },
        onError: (err) => {
          w.listener = null;
          this.app.logger.warn({ source: w.source, err }, 'change notifications stopped; listening again');
          this.retry(w);
        },
      });
      if (w.failures > 0) for (const jobs of w.jobs.values()) for (const job of jobs) this.queue(job, w.source);
      w.failures = 0;
      if (w.listener) this.app.logger.info({ source: w.source }, 'listening for change notifications');
    } catch (err) {
      this.app.logger.warn({ source: w.source, err }, 'cannot listen for change notifications yet; the schedule covers it meanwhile');
      this.retry(w);
    }
  }

  private retry(w: Watched): void {
    if (this.stopping) return;
    w.failures++;
    const t = setTimeout(() => void this.listen(w), Math.min(1000 * 2 ** (w.failures - 1), 60_000));
    t.unref();
  }

  private queue(job: string, source: string): void {
    if (this.stopping) return;
    const set = this.pending.get(job) ?? new Set<string>();
    set.add(source);
    this.pending.set(job, set);
    if (this.timers.has(job) || this.runs.has(job)) return;
    const t = setTimeout(() => {
      this.timers.delete(job);
      this.run(job);
    }, this.opts.debounceMs ?? 100);
    t.unref();
    this.timers.set(job, t);
  }

  private run(job: string): void {
    const sources = [...(this.pending.get(job) ?? [])];
    this.pending.delete(job);
    if (sources.length === 0 || this.stopping) return;
    const ran = this.runs.start(
      job,
      async (signal) => {
        const report = await runJob(this.app, job, { ...this.opts.runOptions, pullOnly: sources, lockWaitMs: 30_000, signal });
        this.opts.onRun?.(report);
      },
      (err) => this.app.logger.error({ job, err }, 'a run started by a change notification could not start'),
    );
    // Notifications that came during the run start the next one.
    void ran.then(() => {
      if (this.pending.has(job)) this.queue(job, [...(this.pending.get(job) ?? [])][0]);
    });
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const t of this.timers.values()) clearTimeout(t);
      this.timers.clear();
      const runs = this.runs.stop('the source listener is stopping');
      await Promise.allSettled([...this.watched.values()].map((w) => w.listener?.close()));
      await runs;
    })();
    return this.stopping;
  }
}

/** Listen to every source that can notify; the result is what the server stops on shutdown. */
export function startSourceListener(app: SyncApp, opts: SourceListenerOptions = {}): Promise<SourceListener> {
  return new SourceListener(app, opts).start();
}
