/**
 * Live progress of the sync runs of this process, for whoever listens (the GraphQL subscription
 * `syncRunProgress`, ops/sync-subscriptions.ts). One bus per hub: every run of runJob on that hub
 * publishes into it — runs started by the scheduler, by the `runSyncJob` mutation, by the CLI —
 * whatever else listens to its own `onProgress`.
 *
 *   runJob → RunContext.progress (sync/context.ts) → bus.progress → listeners (rate and ETA added)
 *   runJob ends → bus.finished → listeners (a final event with the run's status)
 *
 * The rate is rows per second since that run's phase on that source began, and the time left is
 * what is left of the source's estimate at that rate (progressFigures, shared with cli/progress.ts).
 */
import type { ProgressEvent, RunStatus } from './types.js';

/** One event of a run: progress of a phase on a source, or (final) the run's end. */
export interface RunProgress {
  runId: number | null;
  job: string;
  /** The phase and source of the latest progress; null on a final event of a run that made none. */
  phase: ProgressEvent['phase'] | null;
  source: string | null;
  done: number;
  estimated: number | null;
  rowsPerSecond: number | null;
  etaSeconds: number | null;
  at: Date;
  /** The run ended: `status` says how. */
  final: boolean;
  status: RunStatus | null;
}

export interface ProgressFigures {
  /** The estimate when one is known and above zero. */
  total: number | null;
  rate: number | null;
  left: number | null;
  etaSeconds: number | null;
}

/** Rate, rows left and time left of a progress event, `elapsedSeconds` after its phase began. */
export function progressFigures(e: Pick<ProgressEvent, 'done' | 'estimated'>, elapsedSeconds: number): ProgressFigures {
  const total = e.estimated !== null && e.estimated > 0 ? e.estimated : null;
  const rate = elapsedSeconds > 0 ? e.done / elapsedSeconds : null;
  const left = total === null ? null : Math.max(0, total - e.done);
  const etaSeconds = left !== null && rate !== null && rate > 0 ? left / rate : null;
  return { total, rate, left, etaSeconds };
}

type Listener = (e: RunProgress) => void;

export class RunEventBus {
  private readonly listeners = new Set<Listener>();
  /** Per run (runId, or job for a run without one): when each phase+source began, and the latest event. */
  private readonly runs = new Map<string, { began: Map<string, number>; last: RunProgress | null }>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Listen to every run's events from now on; returns the unsubscribe. */
  listen(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  get listening(): boolean {
    return this.listeners.size > 0;
  }

  progress(runId: number | null, e: ProgressEvent): void {
    const key = runKey(runId, e.job);
    let run = this.runs.get(key);
    if (!run) this.runs.set(key, (run = { began: new Map(), last: null }));
    const t = this.now();
    const stage = `${e.phase}\0${e.source}`;
    if (!run.began.has(stage)) run.began.set(stage, t);
    const f = progressFigures(e, (t - run.began.get(stage)!) / 1000);
    run.last = { runId, job: e.job, phase: e.phase, source: e.source, done: e.done, estimated: e.estimated, rowsPerSecond: f.rate, etaSeconds: f.etaSeconds, at: new Date(t), final: false, status: null };
    this.emit(run.last);
  }

  finished(runId: number | null, job: string, status: RunStatus): void {
    const key = runKey(runId, job);
    const last = this.runs.get(key)?.last;
    this.runs.delete(key);
    this.emit({
      runId,
      job,
      phase: last?.phase ?? null,
      source: last?.source ?? null,
      done: last?.done ?? 0,
      estimated: last?.estimated ?? null,
      rowsPerSecond: last?.rowsPerSecond ?? null,
      etaSeconds: 0,
      at: new Date(this.now()),
      final: true,
      status,
    });
  }

  private emit(e: RunProgress): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        // A listener never fails a run.
      }
    }
  }
}

function runKey(runId: number | null, job: string): string {
  return runId === null ? `job:${job}` : `run:${runId}`;
}

const buses = new WeakMap<object, RunEventBus>();

/** The bus of the runs on this hub (one per hub object, so per process). */
export function runEvents(hub: object): RunEventBus {
  let bus = buses.get(hub);
  if (!bus) buses.set(hub, (bus = new RunEventBus()));
  return bus;
}
