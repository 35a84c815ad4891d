/**
 * Progress of a sync run on stderr, in two forms:
 * - on a terminal, one line redrawn in place (at most every 100 ms): a bar when the total is known;
 * - elsewhere (a scheduler's log, CI), a plain line every `everyMs` (default 10 s), so a long
 *   first load shows it is moving and a short run prints nothing.
 * Both give the rate (rows/s since the phase of that source began) and, when the source gave an
 * estimate of its rows (a count on the first load: sync/pull.ts), the rows left and the time left.
 * The clock is injected so tests move time by hand.
 *
 * @example
 *   const progress = syncProgress({ tty: process.stderr.isTTY === true, write: (s) => process.stderr.write(s) });
 *   await runJob(app, job, { onProgress: progress.update });
 *   progress.done();
 */
import type { ProgressEvent } from '../sync/types.js';
import { progressFigures } from '../sync/run-events.js';

export interface ProgressOptions {
  /** Redraw one line in place (a terminal) rather than print a line at intervals. */
  tty: boolean;
  write: (text: string) => void;
  /** Milliseconds since some fixed point (default: Date.now). */
  now?: () => number;
  /** Not on a terminal: the least time between two lines (default 10 000 ms). */
  everyMs?: number;
}

export interface SyncProgress {
  update(e: ProgressEvent): void;
  done(): void;
}

const TTY_REDRAW_MS = 100;
export const DEFAULT_PROGRESS_EVERY_MS = 10_000;

export function syncProgress(opts: ProgressOptions): SyncProgress {
  const now = opts.now ?? Date.now;
  const every = opts.tty ? TTY_REDRAW_MS : (opts.everyMs ?? DEFAULT_PROGRESS_EVERY_MS);
  const started = new Map<string, number>();
  // Not on a terminal the first line waits a full interval: a short run prints nothing.
  let last = opts.tty ? -Infinity : now();
  let drawn = false;
  return {
    update(e) {
      const t = now();
      const key = `${e.phase}\0${e.source}`;
      if (!started.has(key)) started.set(key, t);
      if (t - last < every) return;
      last = t;
      const text = describeProgress(e, (t - started.get(key)!) / 1000);
      if (opts.tty) {
        opts.write(`\r\x1b[2K${text}`);
        drawn = true;
      } else opts.write(`progress: ${text}\n`);
    },
    done() {
      if (drawn) opts.write('\r\x1b[2K');
    },
  };
}

/** "pull erp: 1200/5000 rows (24%), 300 rows/s, 3800 left, about 13 s left" */
export function describeProgress(e: ProgressEvent, elapsedSeconds: number): string {
  const { total, rate, left, etaSeconds } = progressFigures(e, elapsedSeconds);
  // A reconcile counts keys; a pull or push, rows.
  const unit = e.phase === 'reconcile' ? 'keys' : 'rows';
  const parts = [`${e.phase} ${e.source}: ${e.done}${total ? `/${total}` : ''} ${unit}${total ? ` (${Math.min(100, Math.round((e.done / total) * 100))}%)` : ''}`];
  parts.push(rate === null ? 'measuring rate' : `${formatRate(rate)} ${unit}/s`);
  if (total) {
    parts.push(`${left} left`);
    if (etaSeconds !== null) parts.push(`about ${formatDuration(etaSeconds)} left`);
  } else parts.push('total unknown');
  const line = parts.join(', ');
  if (!total) return line;
  const width = 20;
  const filled = Math.round(Math.min(1, e.done / total) * width);
  return `[${'#'.repeat(filled).padEnd(width, '.')}] ${line}`;
}

function formatRate(rate: number): string {
  return rate >= 100 ? String(Math.round(rate)) : rate.toFixed(1);
}

/** 13 s, 4 min 05 s, 2 h 03 min */
export function formatDuration(seconds: number): string {
  const s = Math.ceil(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}
