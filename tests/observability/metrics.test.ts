/**
 * Prometheus metrics of /graphql: request duration by operation name and status, errors by
 * GraphQL code (and refused requests by HTTP status), requests in flight; read through the
 * server's own /metrics with an admin credential.
 */
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { SERVER_AUTH } from '../graphql/fixture.js';
import { MAX_OPERATION_NAMES, requestsInFlight } from '../../server/plugins/use-request-metrics.js';
import { startSecurityServer, type SecurityServer } from '../security/support.js';

const ADMIN = { 'x-api-key': 'admin-key-0123456789' };
const ALICE = { 'x-api-key': 'alice-key-0123456789' };

/** The value of one series in a Prometheus text exposition (0 when absent). */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

describe('/graphql request metrics', () => {
  let s: SecurityServer;
  const scrape = async () => (await s.fetch('/metrics', { headers: ADMIN })).text();
  beforeAll(async () => {
    s = await startSecurityServer({ customers: 3, server: SERVER_AUTH });
  });
  afterAll(async () => {
    await s?.close();
  });

  test('duration by operation name and status', async () => {
    const before = await scrape();
    const series = 'crmlink_http_request_duration_seconds_count{operation="CustomerCount",status="200"}';
    for (let i = 0; i < 2; i++) expect((await s.gql('query CustomerCount { customers { totalCount } }', {}, ADMIN)).status).toBe(200);
    await s.gql('{ customers { totalCount } }', {}, ADMIN);
    const after = await scrape();
    expect(sample(after, series) - sample(before, series)).toBe(2);
    expect(sample(after, 'crmlink_http_request_duration_seconds_count{operation="anonymous",status="200"}')).toBeGreaterThan(0);
    expect(after).toContain('crmlink_http_request_duration_seconds_bucket{le="0.005",operation="CustomerCount",status="200"}');
  });

  test('errors: a refused request by its status, a GraphQL error by its code', async () => {
    const refused = 'crmlink_http_request_errors_total{operation="none",code="http_401"}';
    const forbidden = 'crmlink_http_request_errors_total{operation="Jobs",code="FORBIDDEN"}';
    const before = await scrape();
    expect((await s.gql('query CustomerCount { customers { totalCount } }', {}, {})).status).toBe(401);
    const r = await s.gql('query Jobs { syncJobs { name } }', {}, ALICE);
    expect(r.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const after = await scrape();
    expect(sample(after, refused) - sample(before, refused)).toBe(1);
    expect(sample(after, forbidden) - sample(before, forbidden)).toBe(1);
  });

  test('in flight: a request whose body is still arriving is counted, and is not once answered', async () => {
    expect((await requestsInFlight.get()).values[0]?.value ?? 0).toBe(0);
    const body = JSON.stringify({ query: '{ customers { totalCount } }' });
    const answered = new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${s.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...ADMIN } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      // Half the body now; the rest once the server counts the request.
      req.write(body.slice(0, 10));
      void (async () => {
        const deadline = Date.now() + 10_000;
        while (((await requestsInFlight.get()).values[0]?.value ?? 0) < 1) {
          if (Date.now() > deadline) throw new Error('the request being received was never counted in flight');
          await new Promise<void>((r) => setImmediate(r));
        }
        expect(sample(await scrape(), 'crmlink_http_requests_in_flight')).toBe(1);
        req.end(body.slice(10));
      })().catch(reject);
    });
    expect(await answered).toBe(200);
    expect((await requestsInFlight.get()).values[0]?.value).toBe(0);
  });

  test(`operation names are bounded: past ${MAX_OPERATION_NAMES} distinct or over 64 characters they count as "other"`, async () => {
    const long = `Q${'x'.repeat(64)}`;
    await s.gql(`query ${long} { customers { totalCount } }`, {}, ADMIN);
    const text = await scrape();
    expect(text).not.toContain(long);
    expect(sample(text, 'crmlink_http_request_duration_seconds_count{operation="other",status="200"}')).toBeGreaterThan(0);
  });
});
