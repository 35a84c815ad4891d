/**
 * Helpers the benchmarks share: argument flags, closed-loop load with latency percentiles,
 * knex pool statistics, peak-RSS sampling and rounding.
 */
import { cpus as osCpus, totalmem as osTotalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Knex } from 'knex';

export function flags(argv = process.argv.slice(2)) {
  const get = (name: string, fallback: string): string => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : fallback;
  };
  return {
    get,
    num: (name: string, fallback: number) => Number(get(name, String(fallback))),
    list: (name: string, fallback: string) =>
      get(name, fallback)
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    has: (name: string) => argv.includes(`--${name}`),
  };
}

export function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export interface LoadResult {
  clients: number;
  requests: number;
  errors: number;
  perSecond: number;
  p50ms: number;
  p99ms: number;
  maxMs: number;
  /**
   * CPU time of the whole process (every thread: GC helpers, drivers) per request. On a shared
   * machine it moves less than requests/s, which counts the time other processes held the cores.
   */
  cpuMsPerRequest?: number;
}

/**
 * `clients` closed-loop clients each calling `once` back to back for `seconds` (a request started
 * before the deadline finishes and counts). Errors are counted, the first few kept.
 */
export async function closedLoop(
  clients: number,
  seconds: number,
  once: (client: number) => Promise<void>,
  opts: { errors?: unknown[]; latencies?: number[] } = {},
): Promise<LoadResult> {
  const latencies: number[] = opts.latencies ?? [];
  const firstErrors = opts.errors ?? [];
  const before = latencies.length;
  let errors = 0;
  const start = performance.now();
  const cpu = process.cpuUsage();
  const end = start + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      while (performance.now() < end) {
        const t = performance.now();
        try {
          await once(c);
          latencies.push(performance.now() - t);
        } catch (err) {
          errors++;
          if (firstErrors.length < 5) firstErrors.push(err);
        }
      }
    }),
  );
  const wall = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  const mine = latencies.slice(before).sort((a, b) => a - b);
  return {
    clients,
    requests: mine.length,
    errors,
    perSecond: round(mine.length / wall, 1),
    p50ms: round(percentile(mine, 50)),
    p99ms: round(percentile(mine, 99)),
    maxMs: round(mine[mine.length - 1] ?? 0),
    cpuMsPerRequest: round((used.user + used.system) / 1000 / Math.max(1, mine.length)),
  };
}

/** Merge results of the same load run in several rounds (interleaved with the other side). */
export function mergeRounds(rounds: LoadResult[], latencies: number[]): LoadResult {
  const all = [...latencies].sort((a, b) => a - b);
  const requests = rounds.reduce((n, r) => n + r.requests, 0);
  const perSecond = rounds.reduce((n, r) => n + r.perSecond, 0) / rounds.length;
  return {
    clients: rounds[0].clients,
    requests,
    errors: rounds.reduce((n, r) => n + r.errors, 0),
    perSecond: round(perSecond, 1),
    // Without raw latencies (a child process measured them): mean of the medians, worst p99.
    p50ms: all.length ? round(percentile(all, 50)) : round(rounds.reduce((n, r) => n + r.p50ms, 0) / rounds.length),
    p99ms: all.length ? round(percentile(all, 99)) : Math.max(...rounds.map((r) => r.p99ms)),
    maxMs: Math.max(...rounds.map((r) => r.maxMs)),
    ...(rounds.every((r) => r.cpuMsPerRequest !== undefined)
      ? { cpuMsPerRequest: round(rounds.reduce((n, r) => n + (r.cpuMsPerRequest as number) * r.requests, 0) / Math.max(1, requests)) }
      : {}),
  };
}

/** tarn pool of a knex instance: in use, free, waiting for a connection. */
export interface PoolStats {
  max: number;
  used: number;
  free: number;
  pendingAcquires: number;
  pendingCreates: number;
}

export function poolStats(k: Knex): PoolStats {
  const pool = (k.client as { pool?: { max: number; numUsed(): number; numFree(): number; numPendingAcquires(): number; numPendingCreates(): number } }).pool;
  if (!pool) return { max: 0, used: 0, free: 0, pendingAcquires: 0, pendingCreates: 0 };
  return { max: pool.max, used: pool.numUsed(), free: pool.numFree(), pendingAcquires: pool.numPendingAcquires(), pendingCreates: pool.numPendingCreates() };
}

/**
 * Counts the statements sent to the hub and to each named source: where a run's round trips go.
 * `take()` returns the counts since the last take (or the start) and starts again from zero.
 */
export function statementCounter(
  app: { hub: { knex: Knex }; sources: { driver(name: string): { onQuery(listener: () => void): void } } },
  sources: string[],
): { take(): Record<string, number> } {
  const counts: Record<string, number> = {};
  const count = (name: string) => () => (counts[name] = (counts[name] ?? 0) + 1);
  app.hub.knex.on('query', count('hub'));
  for (const name of sources) app.sources.driver(name).onQuery(count(name));
  return {
    take: () => {
      const out = { ...counts };
      for (const k of Object.keys(counts)) delete counts[k];
      return out;
    },
  };
}

/** Samples RSS every `ms` (and reads the kernel's max RSS at the end): the peak of a phase. */
export class RssSampler {
  private peak = 0;
  private atPeak: NodeJS.MemoryUsage | null = null;
  private timer: NodeJS.Timeout | null = null;
  readonly startRss = process.memoryUsage().rss;
  constructor(ms = 50) {
    this.sample();
    this.timer = setInterval(() => this.sample(), ms);
    this.timer.unref();
  }
  private sample(): void {
    const m = process.memoryUsage();
    if (m.rss > this.peak) {
      this.peak = m.rss;
      this.atPeak = m;
    }
  }
  /** Start, peak (sampled) and kernel max RSS, and what the peak was made of (V8 heap, external). */
  stop(): { startMiB: number; peakMiB: number; maxRssMiB: number; atPeak: { heapUsedMiB: number; heapTotalMiB: number; externalMiB: number } } {
    if (this.timer) clearInterval(this.timer);
    this.sample();
    const p = this.atPeak ?? process.memoryUsage();
    return {
      startMiB: mib(this.startRss),
      peakMiB: mib(this.peak),
      maxRssMiB: mib(process.resourceUsage().maxRSS * 1024),
      atPeak: { heapUsedMiB: mib(p.heapUsed), heapTotalMiB: mib(p.heapTotal), externalMiB: mib(p.external) },
    };
  }
}

export const mib = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;

export function machine(): { cores: number; cpu: string; memoryGiB: number; node: string } {
  return { cores: osCpus().length, cpu: osCpus()[0]?.model ?? 'unknown', memoryGiB: round(osTotalmem() / 2 ** 30, 1), node: process.version };
}
