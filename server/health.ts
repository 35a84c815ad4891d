/**
 * Liveness and readiness. /healthz says the process answers; /readyz says every source and the hub
 * can be reached right now, with the reason for each that cannot (load balancers route on it).
 */
import type { App } from '../app/app.js';

export interface ReadinessReport {
  ready: boolean;
  hub: { ok: boolean; error?: string };
  sources: Record<string, { ok: boolean; dialect: string; latencyMs: number; error?: string }>;
}

export async function readiness(app: App, timeoutMs = 5000): Promise<ReadinessReport> {
  const signal = AbortSignal.timeout(timeoutMs);
  const hub = app.hub.knex
    .raw('select 1')
    .then(() => ({ ok: true }))
    .catch((err: unknown) => ({ ok: false, error: err instanceof Error ? err.message : String(err) }));
  const names = app.sources.names();
  const checks = await Promise.all(
    names.map(async (name) => {
      try {
        const r = await app.sources.driver(name).test(signal);
        return [name, { ok: r.ok, dialect: r.dialect, latencyMs: r.latencyMs, ...(r.error ? { error: r.error.message } : {}) }] as const;
      } catch (err) {
        return [name, { ok: false, dialect: app.config.sources[name]?.dialect ?? 'unknown', latencyMs: -1, error: err instanceof Error ? err.message : String(err) }] as const;
      }
    }),
  );
  const sources = Object.fromEntries(checks);
  const hubResult = await hub;
  return { ready: hubResult.ok && checks.every(([, c]) => c.ok), hub: hubResult, sources };
}
