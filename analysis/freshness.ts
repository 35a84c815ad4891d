/**
 * When the analysis is refreshed: after every sync run that wrote to the hub (the customers it
 * touched, incremental), and in full on `analysis.schedule` (a node-cron pattern read in
 * `analysis.timezone`). Refreshes run one at a time in this process; requests that arrive while one
 * runs are folded into one more run after it (a full request wins over an incremental one).
 *
 * @example
 * const analysis = new AnalysisRefresher(app.hub, app.config.analysis, { logger: app.logger }).start();
 * startScheduler(app, { onRun: (report) => analysis.afterSyncRun(report) });
 * // on shutdown
 * await analysis.stop();
 */
import cron, { type ScheduledTask } from 'node-cron';
import type { AnalysisConfig } from '../config/schema.js';
import { CrmlinkError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Hub } from '../hub/hub.js';
import { refreshAnalysis, type RefreshReport } from './refresh.js';

/** What the refresher needs of a sync run's report. */
export interface SyncRunSummary {
  job: string;
  status: string;
  dryRun: boolean;
  totals: { hubWritten: number };
}

type Kind = 'full' | 'incremental';

export class AnalysisRefresher {
  private task: ScheduledTask | null = null;
  private running: Promise<void> | null = null;
  private pending: Kind | null = null;
  private stopped = false;
  /** The last refresh's report or error, for status output. */
  last: { report: RefreshReport | null; error: string | null } = { report: null, error: null };

  constructor(
    private readonly hub: Hub,
    private readonly cfg: AnalysisConfig,
    private readonly opts: { logger?: Pick<Logger, 'info' | 'error'>; now?: () => Date; /** After LOCKED, try again this much later (default 5 s). */ retryMs?: number } = {},
  ) {}

  /** Schedule the full refresh, when `analysis.schedule` is set. */
  start(): this {
    if (this.cfg.schedule && !this.task) {
      this.task = cron.schedule(this.cfg.schedule, () => this.request('full'), {
        name: 'crmlink:analysis:full',
        noOverlap: true,
        timezone: this.cfg.timezone,
        unref: true,
      });
      this.opts.logger?.info({ schedule: this.cfg.schedule }, 'analysis full refresh scheduled');
    }
    return this;
  }

  /** When the next scheduled full refresh is due (null: none scheduled). */
  nextFullRefresh(): Date | null {
    return this.task?.getNextRun() ?? null;
  }

  /** Told about every finished sync run: a run that wrote to the hub refreshes what it touched. */
  afterSyncRun(report: SyncRunSummary): Promise<void> {
    if (!this.cfg.refreshAfterSync || report.dryRun || report.status === 'skipped' || report.totals.hubWritten === 0) return Promise.resolve();
    return this.request('incremental');
  }

  /** Ask for a refresh; resolves when one that covers the request has ended (errors are logged, not thrown). */
  request(kind: Kind): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.running) {
      this.pending = this.pending === 'full' || kind === 'full' ? 'full' : 'incremental';
      return this.running.then(() => this.idle());
    }
    this.running = this.run(kind).finally(() => {
      this.running = null;
      const next = this.pending;
      this.pending = null;
      if (next && !this.stopped) void this.request(next);
    });
    return this.running;
  }

  /** Resolves once no refresh runs or waits. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async run(kind: Kind): Promise<void> {
    try {
      const report = await refreshAnalysis(this.hub, this.cfg, { kind, now: this.opts.now });
      this.last = { report, error: null };
      this.opts.logger?.info({ kind: report.kind, customers: report.customers, stageChanges: report.stageChanges }, 'analysis refreshed');
    } catch (err) {
      if (err instanceof CrmlinkError && err.code === 'LOCKED') {
        // Another process is refreshing, possibly from before this run's changes: once more later.
        this.last = { report: null, error: err.message };
        this.retryLater(kind);
        return;
      }
      this.last = { report: null, error: err instanceof Error ? err.message : String(err) };
      this.opts.logger?.error({ err }, 'analysis refresh failed');
    }
  }

  private retryTimer: NodeJS.Timeout | null = null;

  private retryLater(kind: Kind): void {
    if (this.stopped || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.request(kind);
    }, this.opts.retryMs ?? 5000);
    this.retryTimer.unref();
  }

  /** Stop scheduling and wait for a running refresh. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.pending = null;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (this.task) {
      await this.task.stop();
      await this.task.destroy();
      this.task = null;
    }
    await this.idle();
  }
}
