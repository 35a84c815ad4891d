/**
 * One request never stops the process. Connection arguments that the plan refuses (a page larger
 * than the maximum, first and last together, a cursor this API never issued, an orderBy on a field
 * the role cannot see) are answered with a validation or permission error at the field, even when
 * the selection reads nothing of the connection but __typename: the plan's refusal always reaches
 * a handler. The `crmlink serve` process is checked alive after each of them, and a rejection no
 * code handled is logged by the process's last-resort handler instead of ending it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { configYaml, createFixture, type Fixture } from '../graphql/fixture.js';
import { startSecurityServer, type SecurityServer } from './support.js';
import { ADMIN_ROLE, apiKeyAuth } from '../support/auth.js';

const ADMIN = { 'x-api-key': 'admin-key-0123456789' };
const ALICE = { 'x-api-key': 'alice-key-0123456789' };

/** A salesperson who cannot see invoice balances (nor credit limits). */
const AUTH = apiKeyAuth(
  [
    { key: 'admin-key-0123456789', user: 'root', role: 'admin' },
    { key: 'alice-key-0123456789', user: 'alice', role: 'sales' },
  ],
  { admin: ADMIN_ROLE, sales: '{ customers: own, write: true, hide: [Customer.creditLimit, Invoice.balance] }' },
);

/** [name, document, who, expected code]. */
export const KILLERS: [string, string, Record<string, string>, string][] = [
  ['a top-level page of 5000', '{ customers(first: 5000) { __typename } }', ADMIN, 'VALIDATION_FAILED'],
  ['a top-level last of 5000', '{ customers(last: 5000) { __typename } }', ADMIN, 'VALIDATION_FAILED'],
  ['first and last together', '{ customers(first: 1, last: 1) { __typename } }', ADMIN, 'VALIDATION_FAILED'],
  ['a cursor this API never issued', '{ customers(after: "abc") { __typename } }', ADMIN, 'VALIDATION_FAILED'],
  ['a before cursor this API never issued', '{ customers(before: "%%%") { __typename } }', ADMIN, 'VALIDATION_FAILED'],
  ['an orderBy on a hidden field', '{ invoices(orderBy: [{ field: balance }]) { __typename } }', ALICE, 'FORBIDDEN'],
  ['a filter on a hidden field', '{ invoices(where: { balance: { gt: "0" } }) { __typename } }', ALICE, 'FORBIDDEN'],
  ['a nested page of 5000', '{ customers(first: 2) { nodes { salesOrders(first: 5000) { __typename } } } }', ADMIN, 'VALIDATION_FAILED'],
  ['a nested bad cursor', '{ customers(first: 2) { nodes { salesOrders(after: "abc") { __typename } } } }', ADMIN, 'VALIDATION_FAILED'],
  ['nested first and last', '{ customers(first: 2) { nodes { invoices(first: 1, last: 1) { __typename } } } }', ADMIN, 'VALIDATION_FAILED'],
  ['a nested orderBy on a hidden field', '{ customers(first: 2) { nodes { invoices(orderBy: [{ field: balance }]) { __typename } } } }', ALICE, 'FORBIDDEN'],
];

describe('connection arguments the plan refuses', () => {
  let s: SecurityServer;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  beforeAll(async () => {
    s = await startSecurityServer({ customers: 2, server: AUTH });
    process.on('unhandledRejection', onUnhandled);
  });
  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    await s?.close();
  });

  test.each(KILLERS)('%s: an error at the field, and no unhandled rejection', async (_name, query, who, code) => {
    const r = await s.gql(query, undefined, who);
    expect(r.errors?.map((e) => e.extensions?.code)).toContain(code);
    expect(r.errors?.every((e) => e.extensions?.code !== 'INTERNAL')).toBe(true);
    // Give a stray rejection the turn of the event loop it needs to be reported.
    await new Promise((r) => setImmediate(r));
    expect(unhandled).toEqual([]);
  });
});

function serve(configFile: string): { child: ChildProcess; url: Promise<string>; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [resolve(import.meta.dirname, '../../bin/crmlink.mjs'), 'serve', '--config', configFile, '--port', '0', '--no-schedule'], {
    env: { ...process.env, CRMLINK_LOG_LEVEL: 'error' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  const url = new Promise<string>((res, rej) => {
    const check = () => {
      const m = /serving GraphQL at (http:\/\/\S+)\/graphql/.exec(out);
      if (m) res(m[1]);
    };
    child.stdout?.on('data', check);
    void exited.then((c) => rej(new Error(`crmlink serve exited (${c}) before serving:\n${out}`)));
  });
  return { child, url, output: () => out, exited };
}

describe('crmlink serve stays up', () => {
  let f: Fixture;
  let proc: ReturnType<typeof serve>;
  let base: string;
  beforeAll(async () => {
    f = await createFixture({ customers: 2, server: AUTH });
    const file = join(f.dir, 'crmlink.yaml');
    writeFileSync(file, configYaml(f.dir, f.dbs, AUTH));
    proc = serve(file);
    base = await proc.url;
  });
  afterAll(async () => {
    if (proc?.child.exitCode === null) {
      proc.child.kill('SIGTERM');
      await proc.exited;
    }
    await f?.close();
  });

  test('after every refused connection argument the process still answers /healthz and GraphQL', async () => {
    for (const [name, query, who] of KILLERS) {
      const r = await fetch(`${base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...who }, body: JSON.stringify({ query }) });
      expect(r.status, name).toBeLessThan(500);
      await r.text();
      const health = await fetch(`${base}/healthz`).catch((e: unknown) => e);
      expect(health instanceof Response ? health.status : `${name}: ${String(health)}\n${proc.output()}`, name).toBe(200);
    }
    const ok = await fetch(`${base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...ADMIN }, body: JSON.stringify({ query: '{ customers { totalCount } }' }) });
    // The answer (its extensions may carry a warning: this config has no sync job filling the hub).
    const answer = (await ok.json()) as { data?: unknown; errors?: unknown };
    expect(answer.errors).toBeUndefined();
    expect(answer.data).toEqual({ customers: { totalCount: 2 } });
    expect(proc.child.exitCode).toBeNull();
  });
});

describe('the last-resort handler', () => {
  test('a rejection and an exception no code handled are logged, and the process keeps serving', async () => {
    // A process that owns a server the way `crmlink serve` does, then hits two bugs outside any request.
    const script = `
      import { createServer } from 'node:http';
      import { pino } from 'pino';
      import { installLastResort } from ${JSON.stringify(resolve(import.meta.dirname, '../../server/last-resort.ts'))};
      installLastResort(pino());
      const server = createServer((_req, res) => res.end('alive'));
      server.listen(0, '127.0.0.1', () => {
        Promise.reject(new Error('a bug: nobody awaits this'));
        setTimeout(() => { throw new Error('a bug: thrown from a timer'); }, 0);
        setTimeout(() => console.log('PORT ' + server.address().port), 50);
      });
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: resolve(import.meta.dirname, '../..'), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    try {
      await expect.poll(() => /PORT (\d+)/.exec(out)?.[1] ?? (child.exitCode !== null ? `exited: ${out}` : undefined), { timeout: 20_000 }).toMatch(/^\d+$/);
      const port = /PORT (\d+)/.exec(out)![1];
      expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('alive');
      expect(out).toContain('unhandled promise rejection (a bug)');
      expect(out).toContain('a bug: nobody awaits this');
      expect(out).toContain('uncaught exception (a bug)');
      expect(out).toContain('a bug: thrown from a timer');
      expect(child.exitCode).toBeNull();
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });
});
