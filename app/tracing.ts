/**
 * Whether and where spans are exported. `startTracing` reads the `tracing` section and the standard environment variables: with an OTLP
 * endpoint (tracing.endpoint, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT)
 * spans go out by OTLP over HTTP in batches; without one nothing is registered. Tests register
 * their own processor (an in-memory exporter) through `registerTracing` (tracing-sdk.ts).
 *
 * The SDK and the OTLP exporter load only when tracing is on: a process that exports no spans
 * does not carry them (they are a tenth of an idle server's memory).
 */
import type { Env } from '../config/load.js';
import type { TracingConfig } from '../config/schema.js';

import type { Tracing } from './tracing-sdk.js';

export type { Tracing } from './tracing-sdk.js';

/** Where spans go: an OTLP endpoint, the exporter's own default from the environment, or nowhere. */
export function tracingTarget(cfg: TracingConfig, env: Env = process.env): { otlp: { url?: string } } | null {
  const fromEnv = Boolean(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT);
  const exporter = cfg.exporter ?? (cfg.endpoint || fromEnv ? 'otlp' : 'none');
  if (exporter === 'none') return null;
  // Without tracing.endpoint the exporter reads OTEL_EXPORTER_OTLP_* itself (default localhost:4318).
  return { otlp: cfg.endpoint ? { url: cfg.endpoint } : {} };
}

/** Start exporting spans as `cfg` and the environment say; undefined when tracing is off (or already on in this process). */
export async function startTracing(cfg: TracingConfig, env: Env = process.env): Promise<Tracing | undefined> {
  const target = tracingTarget(cfg, env);
  if (!target) return undefined;
  const sdk = await import('./tracing-sdk.js');
  if (sdk.tracingRegistered()) return undefined;
  return sdk.registerTracing([sdk.otlpProcessor(target.otlp)], { serviceName: env.OTEL_SERVICE_NAME || cfg.serviceName, sampleRatio: cfg.sampleRatio });
}
