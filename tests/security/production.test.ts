/**
 * A production server is never open: without authentication it refuses to start unless the config
 * says `allowOpenInProduction: true`; nothing is granted by default (no role, no anonymous role);
 * production hides the schema (introspection, "Did you mean" hints) unless told otherwise; JWT
 * mode needs its secret, and a token must expire (or the config bounds its age).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseConfig } from '../../config/load.js';
import { ConfigError } from '../../core/errors.js';
import { startServer } from '../../server/server.js';
import { createFixture } from '../graphql/fixture.js';
import { startSecurityServer, type SecurityServer } from './support.js';
import { bearer, jwtServer, signToken } from './tokens.js';

const BIN = resolve(import.meta.dirname, '../../bin/crmlink.mjs');

const config = (server: string) => `
sources:
  erp: { kind: erp, dialect: sqlite, connection: { filename: ":memory:" } }
server:
${server}
`;

/**
 * Run the CLI until it exits, or until it says it is serving (then it is stopped): a server that
 * starts when it should not must fail the test, not hang it.
 */
function runCli(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string; served: boolean }> {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, CRMLINK_LOG_LEVEL: 'silent' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let served = false;
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (!served && /serving GraphQL/.test(stdout)) {
      served = true;
      child.kill('SIGTERM');
    }
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((r) => child.on('exit', (status) => r({ status, stdout, stderr, served })));
}

function configError(text: string): ConfigError {
  try {
    parseConfig(text, { env: {} });
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected the config to be rejected');
}

describe('production without authentication', () => {
  const dir = mkdtempSync(join(tmpdir(), 'crmlink-prod-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('crmlink serve refuses to start, naming the settings (exit 2)', async () => {
    const file = join(dir, 'crmlink.yaml');
    writeFileSync(file, config('  production: true\n  port: 0'));
    for (const args of [['serve', '--config', file, '--no-schedule'], ['config', 'check', '--config', file]]) {
      const r = await runCli(args);
      expect(r.served).toBe(false);
      expect(r.status).toBe(2);
      expect(r.stderr).toContain('server.auth.mode: production: true needs authentication');
      expect(r.stderr).toContain('server.auth.allowOpenInProduction');
    }
  });

  test('startServer refuses an open production config that did not come through config check', async () => {
    const f = await createFixture({ customers: 1 });
    try {
      f.app.config.server.production = true;
      await expect(startServer(f.app, { port: 0, host: '127.0.0.1' })).rejects.toThrow(/server\.auth\.mode: production: true needs authentication/);
    } finally {
      await f.close();
    }
  });

  test('allowOpenInProduction: true starts it on purpose, as the anonymous role', async () => {
    const s = await startSecurityServer({
      customers: 2,
      server: `  production: true
  auth:
    mode: none
    allowOpenInProduction: true
    anonymousRole: reader
    roles: { reader: { customers: all } }
`,
    });
    try {
      const r = await s.gql('{ customers { totalCount } }');
      expect(r.data.customers.totalCount).toBe(2);
      const write = await s.gql('mutation { createCustomer(input: { name: "x" }) { id } }');
      expect(write.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    } finally {
      await s.close();
    }
  });
});

describe('defaults deny', () => {
  test('no role is declared and no one is anonymous unless the config says so', () => {
    const { config: c } = parseConfig(config('  port: 0'), { env: {} });
    expect(c.server.auth.mode).toBe('none');
    expect(c.server.auth.roles).toEqual({});
    expect(c.server.auth.anonymousRole).toBeUndefined();
    // What used to be enough for an anonymous admin now names an undeclared role.
    const err = configError(config('  auth: { mode: none, anonymousRole: admin }'));
    expect(err.message).toContain('server.auth.anonymousRole: unknown role "admin" (declared: none)');
  });

  test('a server without an anonymous role refuses every request, saying what to set', async () => {
    const s = await startSecurityServer({ customers: 2, server: '  auth: { mode: none }\n' });
    try {
      const r = await s.gql('{ customers { totalCount } }');
      expect(r.status).toBe(403);
      expect(r.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      expect(r.errors?.[0]?.message).toContain('server.auth.anonymousRole is not set');
      expect(r.data ?? null).toBeNull();
      const console = await s.fetch('/console');
      expect(console.status).toBe(403);
    } finally {
      await s.close();
    }
  });
});

describe('config check on authentication settings', () => {
  test('jwt mode without a secret or a key set', () => {
    const needs = 'server.auth.jwt: jwt mode needs server.auth.jwt.secret (HS256';
    expect(configError(config('  auth: { mode: jwt, roles: { r: {} } }')).message).toContain(needs);
    expect(configError(config('  auth: { mode: jwt, jwt: { issuer: x }, roles: { r: {} } }')).message).toContain(needs);
  });

  test('apiKey mode without keys', () => {
    expect(configError(config('  auth: { mode: apiKey, roles: { r: {} } }')).message).toContain('server.auth.apiKeys: apiKey mode needs at least one key');
  });

  test('maxTokenAge is seconds or a time span', () => {
    expect(configError(config(`  auth: { mode: jwt, jwt: { secret: "0123456789abcdef0", maxTokenAge: "forever" }, roles: { r: {} } }`)).message).toContain('server.auth.jwt.maxTokenAge');
    expect(parseConfig(config(`  auth: { mode: jwt, jwt: { secret: "0123456789abcdef0", maxTokenAge: "8h" }, roles: { r: {} } }`), { env: {} }).config.server.auth.jwt?.maxTokenAge).toBe('8h');
  });
});

describe('production hides the schema', () => {
  let prod: SecurityServer;
  let prodOpen: SecurityServer;
  let dev: SecurityServer;
  beforeAll(async () => {
    [prod, prodOpen, dev] = await Promise.all([
      startSecurityServer({ customers: 2, server: `  production: true\n${jwtServer()}` }),
      startSecurityServer({ customers: 2, server: `  production: true\n  introspection: true\n  fieldSuggestions: true\n${jwtServer()}` }),
      startSecurityServer({ customers: 2, server: jwtServer() }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([prod?.close(), prodOpen?.close(), dev?.close()]);
  });

  const INTROSPECT = '{ __schema { types { name } } }';
  const TYPO_FIELD = '{ customers { nodes { creditLimt } } }';
  const TYPO_ENUM = '{ customers(orderBy: [{ field: creditLimt }]) { totalCount } }';
  const TYPO_VARIABLE = 'query($f: CustomerSortField!) { customers(orderBy: [{ field: $f }]) { totalCount } }';

  test('introspection is off in production unless configured', async () => {
    const admin = await bearer('root', 'admin');
    const off = await prod.gql(INTROSPECT, {}, admin);
    expect(off.errors?.[0]?.message).toMatch(/introspection/i);
    expect(off.data ?? null).toBeNull();
    expect((await prodOpen.gql(INTROSPECT, {}, admin)).data.__schema.types.length).toBeGreaterThan(10);
    expect((await dev.gql(INTROSPECT, {}, admin)).data.__schema.types.length).toBeGreaterThan(10);
  });

  test('"Did you mean" hints are gone in production unless configured: fields, enum values, variables', async () => {
    const sales = await bearer('alice', 'sales');
    for (const [query, variables] of [[TYPO_FIELD, {}], [TYPO_ENUM, {}], [TYPO_VARIABLE, { f: 'creditLimt' }]] as const) {
      const hidden = await prod.gql(query, variables, sales);
      expect(hidden.errors?.length).toBeGreaterThan(0);
      expect(JSON.stringify(hidden.errors)).not.toMatch(/Did you mean|creditLimit/);
      const shown = await prodOpen.gql(query, variables, sales);
      expect(JSON.stringify(shown.errors)).toMatch(/Did you mean[^"]*\\"creditLimit\\"/);
      const development = await dev.gql(query, variables, sales);
      expect(JSON.stringify(development.errors)).toMatch(/Did you mean/);
    }
  });

  test('GraphiQL is not offered in production', async () => {
    const page = await prod.fetch('/graphql', { headers: { accept: 'text/html' } });
    expect(await page.text()).not.toMatch(/<title>crmlink<\/title>/);
  });
});

describe('JWT expiry', () => {
  let s: SecurityServer;
  let aged: SecurityServer;
  beforeAll(async () => {
    [s, aged] = await Promise.all([
      startSecurityServer({ customers: 2, server: jwtServer() }),
      startSecurityServer({ customers: 2, server: jwtServer(', maxTokenAge: 600') }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([s?.close(), aged?.close()]);
  });
  const Q = '{ customers { totalCount } }';
  const now = () => Math.floor(Date.now() / 1000);

  test('a token without exp is refused', async () => {
    const token = await signToken({ sub: 'root', role: 'admin' }, { exp: null });
    const r = await s.gql(Q, {}, { authorization: `Bearer ${token}` });
    expect(r.status).toBe(401);
    expect(r.errors?.[0]?.message).toContain('the token has no "exp" claim');
    expect(r.data ?? null).toBeNull();
  });

  test('with maxTokenAge, a token without exp is accepted while its iat is recent enough', async () => {
    const fresh = await signToken({ sub: 'root', role: 'admin' }, { exp: null, iat: now() - 60 });
    expect((await aged.gql(Q, {}, { authorization: `Bearer ${fresh}` })).data.customers.totalCount).toBe(2);
    const old = await signToken({ sub: 'root', role: 'admin' }, { exp: null, iat: now() - 3600 });
    expect((await aged.gql(Q, {}, { authorization: `Bearer ${old}` })).status).toBe(401);
    const noIat = await signToken({ sub: 'root', role: 'admin' }, { exp: null, iat: null });
    const r = await aged.gql(Q, {}, { authorization: `Bearer ${noIat}` });
    expect(r.status).toBe(401);
    expect(r.errors?.[0]?.message).toContain('"iat"');
  });
});
