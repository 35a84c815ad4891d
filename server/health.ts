/**
 * Liveness and readiness. /healthz says the process answers; /readyz says whether the hub and
 * every source can be reached right now (load balancers route on it).
 *
 * What anyone may see is the bare status. The report behind it (source names, dialects, latency,
 * the reason each source is down, which can name hosts and users) goes only to an admin
 * credential, or to the monitoring listener (server.metricsListener). Checks are not made per
 * request: one check is reused for server.readiness.cacheSeconds, and probes arriving while one
 * runs wait for it, so a flood of probes opens no more connections than one.
 */
import type { ServerApp } from './server-app.js';
import { redact } from '../core/errors.js';

export interface ReadinessReport {
  ready: boolean;
  hub: { ok: boolean; error?: string };
  sources: Record<string, { ok: boolean; dialect: string; latencyMs: number; error?: string }>;
}

/** What /readyz tells a caller without an admin credential. */
export interface PublicReadiness {
  status: 'ready' | 'unavailable';
}

const messageOf = (err: unknown) => redact(err instanceof Error ? err.message : String(err));

export async function readiness(app: ServerApp, timeoutMs = 5000): Promise<ReadinessReport> {
  const signal = AbortSignal.timeout(timeoutMs);
  const hub = app.hub.knex
    .raw('select 1')
    .then(() => ({ ok: true }))
    .catch((err: unknown) => ({ ok: false, error: messageOf(err) }));
  const names = app.sources.names();
  const checks = await Promise.all(
    names.map(async (name) => {
      try {
        const r = await app.sources.connector(name).test(signal);
        return [name, { ok: r.ok, dialect: r.dialect, latencyMs: r.latencyMs, ...(r.error ? { error: messageOf(r.error) } : {}) }] as const;
      } catch (err) {
        return [name, { ok: false, dialect: app.config.sources[name]?.dialect ?? app.config.sources[name]?.connector ?? 'unknown', latencyMs: -1, error: messageOf(err) }] as const;
      }
    }),
  );
  const sources = Object.fromEntries(checks);
  const hubResult = await hub;
  return { ready: hubResult.ok && checks.every(([, c]) => c.ok), hub: hubResult, sources };
}

export function publicReadiness(report: ReadinessReport): PublicReadiness {
  return { status: report.ready ? 'ready' : 'unavailable' };
}

/**
 * Readiness checks shared by every probe: one check at a time, its result reused for `cacheMs`.
 *
 * @example
 *   const probe = new ReadinessProbe(() => readiness(app), { cacheMs: 5000 });
 *   const report = await probe.check(); // the same report for every call within 5 s
 */
export class ReadinessProbe {
  private last: { at: number; report: ReadinessReport } | undefined;
  private running: Promise<ReadinessReport> | undefined;
  private readonly now: () => number;

  constructor(
    private readonly run: () => Promise<ReadinessReport>,
    private readonly opts: { cacheMs: number; now?: () => number },
  ) {
    this.now = opts.now ?? Date.now;
  }

  check(): Promise<ReadinessReport> {
    if (this.last && this.now() - this.last.at < this.opts.cacheMs) return Promise.resolve(this.last.report);
    this.running ??= this.run()
      .then((report) => {
        this.last = { at: this.now(), report };
        return report;
      })
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }
}
