/**
 * Export by OTLP: with tracing.endpoint set, app/tracing.ts sends the spans over OTLP/HTTP to
 * that URL (here a collector stand-in on 127.0.0.1 that keeps what it receives), flushed when
 * the tracing is shut down; with no endpoint nothing is registered and spans do not record.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, test } from 'vitest';
import { startTracing } from '../../app/tracing.js';
import { tracingSchema } from '../../config/schema.js';
import { inSpan } from '../../core/tracing.js';

test('without an endpoint nothing is registered: spans do not record', async () => {
  expect(await startTracing(tracingSchema.parse({}), {})).toBeUndefined();
  await inSpan('idle', {}, async (span) => expect(span.isRecording()).toBe(false));
});

test('spans reach the configured OTLP/HTTP endpoint, with the service name', async () => {
  const received: { path: string; headers: IncomingHttpHeaders; body: Buffer }[] = [];
  const collector = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => collector.listen(0, '127.0.0.1', r));
  try {
    const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}/v1/traces`;
    const tracing = await startTracing(tracingSchema.parse({ endpoint, serviceName: 'crmlink-otlp-test' }), {});
    expect(tracing).toBeDefined();
    await inSpan('sync.run', { 'crmlink.sync.job': 'customers' }, async (span) => {
      expect(span.isRecording()).toBe(true);
      await inSpan('sync.pull', { 'crmlink.source': 'erp' }, async () => undefined);
    });
    await tracing!.shutdown();
    expect(received).toHaveLength(1);
    expect(received[0].path).toBe('/v1/traces');
    expect(received[0].headers['content-type']).toBe('application/json');
    // OTLP/JSON: the span names, attributes and service name are in the body.
    const text = received[0].body.toString('utf8');
    for (const s of ['sync.run', 'sync.pull', 'crmlink.sync.job', 'crmlink-otlp-test']) expect(text).toContain(s);
    // Shut down, the API's no-op tracer answers again.
    await inSpan('after', {}, async (span) => expect(span.isRecording()).toBe(false));
  } finally {
    await new Promise<void>((r) => collector.close(() => r()));
  }
});
