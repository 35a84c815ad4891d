/**
 * The OpenTelemetry SDK: the only place that registers a tracer provider (see tracing.ts, which
 * loads this module only when tracing is on). Every other layer speaks @opentelemetry/api alone
 * (core/tracing.ts) and stays on the API's no-op tracer until this runs.
 */
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, type SpanProcessor } from '@opentelemetry/sdk-trace-base';

export interface Tracing {
  /** Flush what is buffered and unregister (the no-op tracer answers again). Safe to call twice. */
  shutdown(): Promise<void>;
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

/** Whether a tracer provider of this module is registered in this process. */
export function tracingRegistered(): boolean {
  return registered !== undefined;
}

/** Spans out by OTLP over HTTP, in batches. */
export function otlpProcessor(otlp: { url?: string }): SpanProcessor {
  return new BatchSpanProcessor(new OTLPTraceExporter(otlp));
}
