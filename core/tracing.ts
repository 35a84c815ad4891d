/**
 * OpenTelemetry spans for every layer, through @opentelemetry/api only: the SDK (processors,
 * exporters) is wired by app/tracing.ts when tracing is configured. Without it the API's no-op
 * tracer answers: `inSpan` then costs a non-recording span object and one context switch, and
 * nothing is recorded or sent.
 *
 * Attribute names: crmlink.* for crmlink's own notions (source, job, stage, batch, row count),
 * OpenTelemetry's semantic conventions where one exists (db.operation.name, db.collection.name,
 * http.request.method, graphql.operation.name).
 *
 * @example
 *   const rows = await inSpan('db select', { 'crmlink.source': 'erp' }, async (span) => {
 *     const rows = await query();
 *     span.setAttribute('crmlink.rows', rows.length);
 *     return rows;
 *   });
 */
import { redact } from './errors.js';
import { SpanKind, SpanStatusCode, trace, type Attributes, type Span, type Tracer } from '@opentelemetry/api';

export { SpanKind, SpanStatusCode, type Span };

const TRACER_NAME = 'crmlink';

/** The tracer of the globally registered provider (the no-op tracer until one is registered). */
export function tracer(): Tracer {
  return trace.getTracer(TRACER_NAME);
}

/**
 * Run `fn` inside a new active span (spans started within are its children), ending it when `fn`
 * settles. A thrown error is recorded on the span, which is marked failed, and thrown on.
 */
export function inSpan<T>(name: string, attributes: Attributes, fn: (span: Span) => Promise<T>, kind: SpanKind = SpanKind.INTERNAL): Promise<T> {
  return tracer().startActiveSpan(name, { kind, attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      failSpan(span, err);
      throw err;
    } finally {
      span.end();
    }
  });
}

/** Mark a span failed by `err` (its code when it is a CrmlinkError, its message otherwise). */
export function failSpan(span: Span, err: unknown): void {
  if (!span.isRecording()) return;
  // Driver messages can quote a connection string: spans leave the process, credentials do not.
  const message = redact(err instanceof Error ? err.message : String(err)).slice(0, 500);
  span.recordException({ name: err instanceof Error ? err.name : 'Error', message });
  const code = typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
  if (code) span.setAttribute('crmlink.error.code', code);
  span.setStatus({ code: SpanStatusCode.ERROR, message });
}
