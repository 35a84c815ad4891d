/**
 * The probes and metrics tell an anonymous caller nothing but "ready" or "unavailable": which
 * sources exist, their dialects, latency and the reason one is down (host, port, user) go to an
 * admin credential or to the monitoring listener only. A flood of probes checks the sources once
 * per cache period, not once per request.
 */
import { describe, expect, test } from 'vitest';
import { SERVER_AUTH } from '../graphql/fixture.js';
import { ReadinessProbe, type ReadinessReport } from '../../server/health.js';
import { useSecurityServer } from './support.js';
import { rawRequest } from './http.js';

const ADMIN = { 'x-api-key': 'admin-key-0123456789' };
const SALES = { 'x-api-key': 'alice-key-0123456789' };
const PASSWORD = 'Led9er-pass-word-0001';

/** A fourth source that is down: a PostgreSQL port nothing listens on, with a user and a password. */
const LEDGER = `  ledger: { kind: finance, dialect: postgres, connection: { host: 127.0.0.1, port: 1, database: ledger, user: svc_reader, password: "\${LEDGER_PASSWORD}" } }`;

describe('/readyz and /metrics on the main port (production, API keys)', () => {
  const s = useSecurityServer({
    customers: 2,
    sources: LEDGER,
    env: { LEDGER_PASSWORD: PASSWORD },
    server: `  production: true\n  readiness: { cacheSeconds: 600 }\n${SERVER_AUTH}`,
  });

  test.each([
    ['no credential', {}],
    ['a wrong key', { 'x-api-key': 'wrong-key-0123456789xx' }],
    ['a non-admin key', SALES],
  ])('with %s, /readyz is the bare status', async (_name, headers) => {
    const r = await s.fetch('/readyz', { headers });
    expect(r.status).toBe(503);
    const text = await r.text();
    expect(JSON.parse(text)).toEqual({ status: 'unavailable' });
    for (const secret of ['ledger', 'postgres', 'svc_reader', '127.0.0.1', 'erp', 'latency', PASSWORD]) expect(text).not.toContain(secret);
  });

  test('an admin credential gets the report per source, without the password', async () => {
    const r = await s.fetch('/readyz', { headers: ADMIN });
    expect(r.status).toBe(503);
    const text = await r.text();
    const report = JSON.parse(text) as ReadinessReport;
    expect(report.ready).toBe(false);
    expect(report.sources.erp).toMatchObject({ ok: true, dialect: 'sqlite' });
    expect(report.sources.ledger).toMatchObject({ ok: false, dialect: 'postgres' });
    expect(report.sources.ledger.error).toMatch(/ledger/);
    expect(text).not.toContain(PASSWORD);
  });

  test('/metrics needs an admin credential', async () => {
    const none = await s.fetch('/metrics');
    expect(none.status).toBe(401);
    expect(await none.text()).not.toMatch(/process_|crmlink_/);
    expect((await s.fetch('/metrics', { headers: { 'x-api-key': 'wrong-key-0123456789xx' } })).status).toBe(401);
    expect((await s.fetch('/metrics', { headers: SALES })).status).toBe(403);
    const admin = await s.fetch('/metrics', { headers: { authorization: 'Bearer admin-key-0123456789' } });
    expect(admin.status).toBe(200);
    expect(await admin.text()).toMatch(/^# HELP /m);
  });
});

describe('readiness checks are shared', () => {
  const s = useSecurityServer({ customers: 1, server: '  readiness: { cacheSeconds: 600 }\n' });

  test('40 probes, 20 of them at once, check each source once', async () => {
    const counted = await s.fixture.countStatements(async () => {
      for (let i = 0; i < 20; i++) expect((await s.fetch('/readyz')).status).toBe(200);
      const burst = await Promise.all(Array.from({ length: 20 }, () => s.fetch('/readyz')));
      expect(burst.every((r) => r.status === 200)).toBe(true);
    });
    const perSource = (name: string) => counted.sql.filter((q) => q.startsWith(`${name}: `)).length;
    expect({ erp: perSource('erp'), finance: perSource('finance'), oa: perSource('oa'), hub: perSource('hub') }).toEqual({ erp: 1, finance: 1, oa: 1, hub: 1 });
  });

  test('a probe reuses a check for cacheMs, shares one that is running, and checks again after', async () => {
    let now = 1_000;
    let runs = 0;
    let finish: (r: ReadinessReport) => void = () => {};
    const probe = new ReadinessProbe(
      () => {
        runs++;
        return new Promise<ReadinessReport>((r) => (finish = r));
      },
      { cacheMs: 5_000, now: () => now },
    );
    const report: ReadinessReport = { ready: true, hub: { ok: true }, sources: {} };
    const a = probe.check();
    const b = probe.check();
    expect(runs).toBe(1);
    finish(report);
    expect(await a).toBe(report);
    expect(await b).toBe(report);
    now += 4_999;
    await probe.check();
    expect(runs).toBe(1);
    now += 1;
    const c = probe.check();
    expect(runs).toBe(2);
    finish({ ...report, ready: false });
    expect((await c).ready).toBe(false);
  });
});

describe('the monitoring listener (server.metricsListener)', () => {
  const s = useSecurityServer({
    customers: 1,
    sources: LEDGER,
    env: { LEDGER_PASSWORD: PASSWORD },
    server: `  production: true\n  metricsListener: { host: 127.0.0.1, port: 0 }\n${SERVER_AUTH}`,
  });

  test('serves metrics and the readiness report without credentials, and nothing else', async () => {
    const port = s.server.monitoring?.port;
    expect(port).toBeGreaterThan(0);
    const at = (path: string, host = `127.0.0.1:${port}`) => rawRequest(port!, 'GET', path, { host });
    const metrics = await at('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.body).toMatch(/^# HELP /m);
    const ready = await at('/readyz');
    expect(ready.status).toBe(503);
    expect((JSON.parse(ready.body) as ReadinessReport).sources.ledger.ok).toBe(false);
    expect(ready.body).not.toContain(PASSWORD);
    expect((await at('/graphql')).status).toBe(404);
    expect((await at('/console')).status).toBe(404);
    expect((await at('/metrics', `evil.example:${port}`)).status).toBe(421);
  });

  test('the main port still wants a credential for them', async () => {
    expect((await s.fetch('/metrics')).status).toBe(401);
    expect(await (await s.fetch('/readyz')).json()).toEqual({ status: 'unavailable' });
  });
});
