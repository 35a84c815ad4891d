/**
 * The OpenTelemetry SDK: the only place that registers a tracer provider. Every other layer
 * speaks @opentelemetry/api alone (core/tracing.ts) and stays on the API's no-op tracer until
 * this runs.
 *
 * `startTracing` reads the `tracing` section and the standard environment variables: with an OTLP
 * endpoint (tracing.endpoint, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT)
 * spans go out by OTLP over HTTP in batches; without one nothing is registered. Tests register
 * their own processor (an in-memory exporter) through `registerTracing`.
 */
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Env } from '../config/load.js';
import type { TracingConfig } from '../config/schema.js';

export interface Tracing {
  /** Flush what is buffered and unregister (the no-op tracer answers again). Safe to call twice. */
  shutdown(): Promise<void>;
}

/** Where spans go: an OTLP endpoint, the exporter's own default from the environment, or nowhere. */
export function tracingTarget(cfg: TracingConfig, env: Env = process.env): { otlp: { url?: string } } | null {
  const fromEnv = Boolean(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT);
  const exporter = cfg.exporter ?? (cfg.endpoint || fromEnv ? 'otlp' : 'none');
  if (exporter === 'none') return null;
  // Without tracing.endpoint the exporter reads OTEL_EXPORTER_OTLP_* itself (default localhost:4318).
  return { otlp: cfg.endpoint ? { url: cfg.endpoint } : {} };
}

let registered: { provider: BasicTracerProvider; contextManager: AsyncLocalStorageContextManager } | undefined;

/**
 * Register a tracer provider with `processors` as the process's global one, with the async
 * context that lets spans nest across awaits and the W3C traceparent propagator. One at a time:
 * registering while one is registered is refused.
 */
export function registerTracing(processors: SpanProcessor[], opts: { serviceName?: string; sampleRatio?: number } = {}): Tracing {
  if (registered) throw new Error('a tracer provider is already registered in this process');
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': opts.serviceName ?? 'crmlink' }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(opts.sampleRatio ?? 1) }),
    spanProcessors: processors,
  });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  trace.setGlobalTracerProvider(provider);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  const mine = { provider, contextManager };
  registered = mine;
  let done: Promise<void> | undefined;
  return {
    shutdown() {
      done ??= provider.shutdown().finally(() => {
        if (registered !== mine) return;
        trace.disable();
        propagation.disable();
        context.disable();
        registered = undefined;
      });
      return done;
    },
  };
}

/** Start exporting spans as `cfg` and the environment say; undefined when tracing is off (or already on in this process). */
export function startTracing(cfg: TracingConfig, env: Env = process.env): Tracing | undefined {
  const target = tracingTarget(cfg, env);
  if (!target || registered) return undefined;
  const exporter = new OTLPTraceExporter(target.otlp);
  return registerTracing([new BatchSpanProcessor(exporter)], { serviceName: env.OTEL_SERVICE_NAME || cfg.serviceName, sampleRatio: cfg.sampleRatio });
}
