/**
 * Faster pickup where the source cannot tell us: a short poll, apart from the cron schedule, for
 * jobs with `pollIntervalMs`. Every interval each polled source of the job gets one small indexed
 * read (connectors/capture/probe.ts: the change log's newest id for trigger capture on
 * MariaDB/MySQL, SQLite and SQL Server; the newest modification time for timestamp capture, on
 * any engine). A quiet source costs that one statement and nothing in the hub.
 *
 * When a source's mark moved, a run of the job pulling only the sources that moved (and pushing
 * on to the others) starts through runJobIfNeeded: under the job's and entity's locks, and only if
 * the hub's checkpoint of one of them is still behind the mark. So:
 * - a poll never overlaps a run of its job: a busy job is not waited for and the next interval
 *   asks again (a job's polls run one after the other, never two at once);
 * - with several crmlink processes on one hub, a change is pulled once: the process that comes
 *   second finds the checkpoint caught up and runs nothing, recording nothing;
 * - a failed run leaves the mark unseen, so the next interval tries again.
 * PostgreSQL trigger capture is not polled: it notifies (sync/source-listener.ts).
 *
 * A source that cannot be read is tried again with backoff (doubling the interval, up to a minute)
 * and logged once per outage; the schedule stays the safety net. stop() cancels the next poll,
 * aborts a run in progress at its next safe point and waits for it.
 *
 * @example
 * const poller = startSourcePoller(app); // crmlink serve does this
 * await poller.stop();
 */
import { canProbe, changeProbe, pendingChange, type ChangeMark } from '../connectors/capture/index.js';
import type { CaptureHost } from '../connectors/capture/host.js';
import type { CaptureSpec, Checkpoint } from '../connectors/driver.js';
import { readSourceCheckpoint } from '../hub/checkpoints.js';
import type { SyncApp } from './context.js';
import { runJobIfNeeded, type NotRun } from './engine.js';
import type { RunOptions, RunReport } from './types.js';

/** The longest wait between polls of a source that cannot be read. */
export const POLL_BACKOFF_MAX_MS = 60_000;

/** How the poller waits; tests inject one that fires on demand. */
export interface PollTimers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

const realTimers: PollTimers = {
  set: (fn, ms) => setTimeout(fn, ms).unref(),
  clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** What one poll of a job did. */
export interface PollOutcome {
  job: string;
  /** Sources whose mark moved since the last poll. */
  changed: string[];
  /** The run it started, or why none ran (nothing moved: null). */
  run: RunReport | NotRun['notRun'] | null;
  /** Sources that could not be read this time. */
  failed: string[];
}

export interface SourcePollerOptions {
  /** Told about every poll (tests count them). */
  onPoll?: (outcome: PollOutcome) => void;
  /** Told about every run a poll started. */
  onRun?: (report: RunReport) => void;
  runOptions?: Pick<RunOptions, 'retries' | 'retryMinTimeoutMs'>;
  timers?: PollTimers;
}

interface Polled {
  source: string;
  host: CaptureHost;
  spec: CaptureSpec;
  /** The probe's statement, built once. */
  probe: (signal?: AbortSignal) => Promise<ChangeMark>;
  /** What the last poll saw and a run (or another process) has taken in; undefined: not yet looked. */
  seen: ChangeMark | undefined;
}

interface PolledJob {
  job: string;
  intervalMs: number;
  sources: Polled[];
  timer: unknown;
  /** Consecutive polls with a source that could not be read. */
  failures: number;
  current: Promise<void> | null;
}

export class SourcePoller {
  private readonly jobs = new Map<string, PolledJob>();
  private readonly controller = new AbortController();
  private readonly timers: PollTimers;
  private stopping: Promise<void> | null = null;
  private started = false;

  constructor(
    private readonly app: SyncApp,
    private readonly opts: SourcePollerOptions = {},
  ) {
    this.timers = opts.timers ?? realTimers;
    for (const [job, cfg] of Object.entries(app.config.sync.jobs)) {
      if (cfg.pollIntervalMs === undefined || cfg.direction === 'push' || cfg.propagate === 'schedule') continue;
      const sources: Polled[] = [];
      for (const source of cfg.sources) {
        const spec = app.sources.mapping(cfg.entity, source).capture;
        // PostgreSQL trigger capture notifies (sync/source-listener.ts).
        if (spec.strategy === 'trigger' && app.config.sources[source]?.dialect === 'postgres') continue;
        const driver = app.sources.driver(source);
        if (!canProbe(driver, spec)) continue;
        sources.push({ source, host: driver, spec, probe: changeProbe(driver, spec), seen: undefined });
      }
      if (sources.length > 0) this.jobs.set(job, { job, intervalMs: cfg.pollIntervalMs, sources, timer: null, failures: 0, current: null });
    }
  }

  /** Polled sources, by job. */
  polled(): Record<string, string[]> {
    return Object.fromEntries([...this.jobs.values()].map((j) => [j.job, j.sources.map((s) => s.source)]));
  }

  /** Start polling: the first poll of each job after one interval. */
  start(): this {
    if (this.stopping) throw new Error('the source poller was stopped; create a new one');
    if (this.started) return this;
    this.started = true;
    for (const j of this.jobs.values()) {
      this.arm(j, j.intervalMs);
      this.app.logger.info({ job: j.job, sources: j.sources.map((s) => s.source), intervalMs: j.intervalMs }, 'polling sources for changes');
    }
    return this;
  }

  private arm(j: PolledJob, ms: number): void {
    if (this.stopping) return;
    j.timer = this.timers.set(() => {
      j.timer = null;
      void this.pollNow(j.job);
    }, ms);
  }

  /**
   * Poll one job now, as its timer does (a poll already going on is joined, never doubled); the
   * next poll is armed an interval after this one ends.
   */
  pollNow(job: string): Promise<void> {
    const j = this.jobs.get(job);
    if (!j || this.stopping) return Promise.resolve();
    j.current ??= (async () => {
      let outcome: PollOutcome;
      try {
        outcome = await this.poll(j);
      } catch (err) {
        // poll() reports what goes wrong itself; this is a fault of the poller's own.
        j.failures++;
        this.app.logger.error({ job: j.job, err }, 'a change poll failed');
        outcome = { job: j.job, changed: [], run: null, failed: j.sources.map((s) => s.source) };
      } finally {
        j.current = null;
        if (this.started) {
          if (j.timer !== null) this.timers.clear(j.timer);
          const backoff = j.failures > 0 ? Math.min(j.intervalMs * 2 ** j.failures, Math.max(POLL_BACKOFF_MAX_MS, j.intervalMs)) : j.intervalMs;
          this.arm(j, backoff);
        }
      }
      this.opts.onPoll?.(outcome);
    })();
    return j.current;
  }

  private async poll(j: PolledJob): Promise<PollOutcome> {
    const signal = this.controller.signal;
    const changed: { polled: Polled; mark: ChangeMark }[] = [];
    const failed: string[] = [];
    for (const p of j.sources) {
      if (signal.aborted) break;
      try {
        const mark = await p.probe(signal);
        if (p.seen === undefined || !sameMark(p.seen, mark)) changed.push({ polled: p, mark });
      } catch (err) {
        if (signal.aborted) break;
        failed.push(p.source);
        if (j.failures === 0) this.app.logger.warn({ job: j.job, source: p.source, err }, 'cannot poll the source for changes; trying again with backoff, the schedule covers it meanwhile');
      }
    }
    if (failed.length === 0 && j.failures > 0) this.app.logger.info({ job: j.job }, 'polling the sources for changes again');
    j.failures = failed.length > 0 ? j.failures + 1 : 0;
    let run: PollOutcome['run'] = null;
    if (changed.length > 0 && !signal.aborted) {
      try {
        const result = await runJobIfNeeded(
          this.app,
          j.job,
          { ...this.opts.runOptions, pullOnly: changed.map((c) => c.polled.source), signal },
          // Under the job's lock: is the hub still behind what the probes saw?
          async (hub) => {
            for (const c of changed) {
              const cp = await readSourceCheckpoint<Checkpoint>(hub, j.job, c.polled.source);
              if (await pendingChange(c.polled.host, c.polled.spec, c.mark, cp.position)) return true;
            }
            return false;
          },
        );
        if ('notRun' in result) {
          run = result.notRun;
          // The hub already has it (another process, the schedule): seen. Busy: ask again next time.
          if (result.notRun === 'not-needed') for (const c of changed) c.polled.seen = c.mark;
        } else {
          run = result;
          // A failed run leaves the marks unseen: the next poll tries again, with backoff.
          if (result.status === 'ok' || result.status === 'partial') for (const c of changed) c.polled.seen = c.mark;
          else if (result.status === 'failed') j.failures++;
          this.opts.onRun?.(result);
        }
      } catch (err) {
        j.failures++;
        this.app.logger.error({ job: j.job, err }, 'a run started by a change poll could not start');
      }
    }
    return { job: j.job, changed: changed.map((c) => c.polled.source), run, failed };
  }

  /** Stop polling: no new polls, a run in progress stops at its next safe point; resolves when all is quiet. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const j of this.jobs.values()) {
        if (j.timer !== null) this.timers.clear(j.timer);
        j.timer = null;
      }
      this.controller.abort(new Error('the source poller is stopping'));
      await Promise.allSettled([...this.jobs.values()].map((j) => j.current));
    })();
    return this.stopping;
  }
}

function sameMark(a: ChangeMark | undefined, b: ChangeMark): boolean {
  return a === b || (a !== null && a !== undefined && b !== null && String(a) === String(b));
}

/** Poll every job with `pollIntervalMs`; the result is what the server stops on shutdown. */
export function startSourcePoller(app: SyncApp, opts: SourcePollerOptions = {}): SourcePoller {
  return new SourcePoller(app, opts).start();
}
