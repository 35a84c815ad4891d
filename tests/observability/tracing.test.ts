/**
 * The span tree crmlink records, seen through the in-memory exporter of the OpenTelemetry SDK as
 * app/tracing.ts registers it: HTTP request → GraphQL operation → each source statement (source,
 * table, rows) for the customer-360 query, and sync run → stage → batch → statement for a run.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { tracingTarget, type Tracing } from '../../app/tracing.js';
import { registerTracing } from '../../app/tracing-sdk.js';
import { tracingSchema } from '../../config/schema.js';
import { CUSTOMER_360 } from '../../schema/graphiql.js';
import { runJob } from '../../sync/engine.js';
import { useSecurityServer } from '../security/support.js';
import { ACME_AND_BETA } from '../sync/support.js';
import { seededWorld } from '../sync/seeded.js';

const exporter = new InMemorySpanExporter();
let tracing: Tracing;

beforeAll(() => {
  tracing = registerTracing([new SimpleSpanProcessor(exporter)], { serviceName: 'crmlink-test' });
});
afterAll(async () => {
  await tracing.shutdown();
});
beforeEach(() => exporter.reset());

const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;

/** The chain of span names from `span` up to its root. */
function ancestry(spans: readonly ReadableSpan[], span: ReadableSpan): string[] {
  const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]));
  const chain = [span.name];
  for (let p = byId.get(parentOf(span) ?? ''); p; p = byId.get(parentOf(p) ?? '')) chain.push(p.name);
  return chain;
}

/** Spans are exported when they end; the HTTP span ends when the response's socket work is done. */
async function spansUntil(done: (spans: ReadableSpan[]) => boolean): Promise<ReadableSpan[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const spans = exporter.getFinishedSpans();
    if (done(spans)) return spans;
    if (Date.now() > deadline) throw new Error(`spans never complete: ${spans.map((s) => s.name).join(', ')}`);
    await new Promise<void>((r) => setImmediate(r));
  }
}

describe('a customer-360 query', () => {
  const s = useSecurityServer({ customers: 3 });

  test('HTTP request → GraphQL operation → each source statement, with source, table and rows', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const callerSpan = '00f067aa0ba902b7';
    const res = await s.fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-${callerSpan}-01` },
      body: JSON.stringify({ query: CUSTOMER_360, operationName: 'Customer360' }),
    });
    const body = (await res.json()) as { data?: { customers: { totalCount: number } }; errors?: unknown[] };
    expect(body.errors).toBeUndefined();
    expect(body.data?.customers.totalCount).toBeGreaterThan(0);

    const spans = await spansUntil((all) => all.some((x) => x.name === 'POST /graphql'));
    const http = spans.find((x) => x.name === 'POST /graphql')!;
    // The caller's traceparent makes the request part of its trace.
    expect(http.spanContext().traceId).toBe(traceId);
    expect(parentOf(http)).toBe(callerSpan);
    expect(http.attributes['http.response.status_code']).toBe(200);

    const operation = spans.find((x) => x.name === 'query Customer360')!;
    expect(operation).toBeDefined();
    expect(parentOf(operation)).toBe(http.spanContext().spanId);
    expect(operation.attributes['graphql.operation.name']).toBe('Customer360');

    const statements = spans.filter((x) => x.attributes['crmlink.source'] !== undefined);
    expect(statements.length).toBeGreaterThan(0);
    for (const st of statements) {
      expect(st.spanContext().traceId).toBe(traceId);
      expect(ancestry(spans, st).slice(-2)).toEqual(['query Customer360', 'POST /graphql']);
      expect(st.attributes['db.collection.name']).toEqual(expect.any(String));
      expect(st.attributes['db.operation.name']).toEqual(expect.any(String));
    }
    // Every source the customer 360 reads, with its table and the rows it returned.
    const reads = statements.filter((x) => x.attributes['db.operation.name'] === 'select');
    expect(new Set(reads.map((x) => x.attributes['crmlink.source']))).toEqual(new Set(s.fixture.app.sources.names()));
    for (const r of reads) expect(r.attributes['crmlink.rows']).toEqual(expect.any(Number));
    expect(reads.some((r) => (r.attributes['crmlink.rows'] as number) > 0)).toBe(true);
  });
});

describe('a sync run', () => {
  test('sync run → stage (pull per source, push) → batch → source statement', async () => {
    const { world, app } = await seededWorld(ACME_AND_BETA);
    const report = await runJob(app, 'customers');
    expect(report.status).toBe('ok');

    const spans = exporter.getFinishedSpans();
    const run = spans.find((x) => x.name === 'sync.run')!;
    expect(run.attributes).toMatchObject({ 'crmlink.sync.job': 'customers', 'crmlink.sync.status': 'ok', 'crmlink.rows.read': 2 });
    expect(parentOf(run)).toBeUndefined();

    const stages = spans.filter((x) => parentOf(x) === run.spanContext().spanId && x.name.startsWith('sync.'));
    expect(stages.map((x) => `${x.name} ${x.attributes['crmlink.source'] ?? ''}`.trim())).toEqual(['sync.pull erp', 'sync.pull finance', 'sync.push']);

    const erpPull = stages[0];
    const erpBatches = spans.filter((x) => parentOf(x) === erpPull.spanContext().spanId && x.name === 'sync.pull.batch');
    expect(erpBatches.map((b) => b.attributes['crmlink.rows'])).toEqual([2]);
    const erpReads = spans.filter((x) => parentOf(x) === erpBatches[0].spanContext().spanId && x.attributes['crmlink.source'] === 'erp');
    expect(erpReads.length).toBeGreaterThan(0);
    expect(erpReads[0].attributes['db.collection.name']).toBe('erp_customer');

    const push = stages[2];
    const pushBatches = spans.filter((x) => parentOf(x) === push.spanContext().spanId && x.name === 'sync.push.batch');
    expect(pushBatches.map((b) => b.attributes['crmlink.source'])).toContain('finance');
    const financeBatch = pushBatches.find((b) => b.attributes['crmlink.source'] === 'finance')!;
    const writes = spans.filter((x) => ancestry(spans, x).includes('sync.push.batch') && x.attributes['crmlink.source'] === 'finance');
    const written = writes.filter((w) => ['insert', 'upsert'].includes(w.attributes['db.operation.name'] as string));
    expect(written.map((w) => [w.attributes['db.collection.name'], w.attributes['crmlink.rows']])).toEqual([['fin_account', 2]]);
    expect(financeBatch.attributes['crmlink.rows']).toBe(2);
  });
});

describe('configuration', () => {
  test('OTLP when an endpoint is configured or in the environment, nothing otherwise', () => {
    const cfg = (v: unknown) => tracingSchema.parse(v);
    expect(tracingTarget(cfg({}), {})).toBeNull();
    expect(tracingTarget(cfg({}), { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toEqual({ otlp: {} });
    expect(tracingTarget(cfg({ endpoint: 'http://collector:4318/v1/traces' }), {})).toEqual({ otlp: { url: 'http://collector:4318/v1/traces' } });
    expect(tracingTarget(cfg({ exporter: 'none' }), { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBeNull();
  });
});
