/**
 * Names that every JavaScript object inherits (constructor, __proto__, toString, hasOwnProperty,
 * valueOf) never resolve to a role, a job or a source, whether they arrive in a validly signed
 * token, an API key's entry, the anonymous role or a GraphQL argument: only what the config
 * declares counts, and anything else is refused.
 */
import { describe, expect, test } from 'vitest';
import { SERVER_AUTH } from '../graphql/fixture.js';
import { retryParked, runJob } from '../../sync/engine.js';
import { useSecurityServer } from './support.js';
import { bearer, jwtServer } from './tokens.js';
import { configErrorOf } from '../support/config.js';

const INHERITED = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf'];
const ADMIN = { 'x-api-key': 'admin-key-0123456789' };

const MINIMAL = (server: string) => `
sources:
  erp: { kind: erp, dialect: sqlite, connection: { filename: ":memory:" } }
server:
${server}
`;

const configIssues = (text: string): string => configErrorOf(text).message;

describe('a validly signed token naming an inherited member as its role', () => {
  const s = useSecurityServer({ customers: 4, server: jwtServer() });

  test.each(INHERITED)('role "%s" is refused and sees nothing', async (role) => {
    const r = await s.gql(`{ customers { totalCount nodes { id creditLimit } } }`, {}, await bearer('mallory', role));
    expect(r.status).toBe(403);
    expect(r.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(r.errors?.[0]?.message).toContain('is not declared under server.auth.roles');
    expect(r.data ?? null).toBeNull();
  });

  test('a declared role still works with the same token shape', async () => {
    const r = await s.gql(`{ customers { totalCount } }`, {}, await bearer('alice', 'sales'));
    expect(r.errors).toBeUndefined();
    expect(r.data.customers.totalCount).toBe(2);
  });
});

describe('config: roles, keys and the anonymous role name only declared roles', () => {
  test.each(INHERITED)('an API key with role "%s" fails config check', (role) => {
    const msg = configIssues(
      MINIMAL(`  auth:
    mode: apiKey
    apiKeys: [{ key: "key-0123456789abcdef", user: u, role: "${role}" }]
    roles: { sales: { customers: own } }`),
    );
    expect(msg).toContain('server.auth.apiKeys.0.role');
    expect(msg).toContain(`unknown role "${role}"`);
  });

  test.each(INHERITED)('anonymousRole "%s" fails config check', (role) => {
    const msg = configIssues(
      MINIMAL(`  auth:
    mode: none
    anonymousRole: "${role}"
    roles: { sales: { customers: own } }`),
    );
    expect(msg).toContain('server.auth.anonymousRole');
  });

  test('a sync job naming an inherited member as a source fails config check', () => {
    const msg = configIssues(`
sources:
  erp: { kind: erp, dialect: sqlite, connection: { filename: ":memory:" } }
entities:
  Customer:
    sources:
      erp: { table: c, key: [id], fields: { name: n } }
sync:
  jobs:
    customers: { entity: Customer, sources: [erp, constructor] }
`);
    expect(msg).toContain('sync.jobs.customers.sources.1');
  });
});

describe('GraphQL arguments naming an inherited member', () => {
  const s = useSecurityServer({ customers: 2, server: SERVER_AUTH });

  test.each(INHERITED)('runSyncJob(job: "%s") is a validation error and records no run', async (job) => {
    const r = await s.gql(`mutation($job: String!) { runSyncJob(job: $job) { status } }`, { job }, ADMIN);
    expect(r.errors?.[0]?.extensions?.code).toBe('VALIDATION_FAILED');
    expect(r.errors?.[0]?.message).toContain(`unknown sync job "${job}"`);
    const runs = await s.gql(`query($job: String) { syncRuns(job: $job) { id } }`, { job }, ADMIN);
    expect(runs.data.syncRuns).toEqual([]);
  });

  test.each(INHERITED)('retryParked(job: "%s") is a validation error', async (job) => {
    const r = await s.gql(`mutation($job: String!) { retryParked(job: $job) { retried } }`, { job }, ADMIN);
    expect(r.errors?.[0]?.extensions?.code).toBe('VALIDATION_FAILED');
    expect(r.errors?.[0]?.message).toContain(`unknown sync job "${job}"`);
  });

  test.each(INHERITED)('the sync engine itself (crmlink sync run / sync parked --retry) knows no job "%s"', async (job) => {
    await expect(runJob(s.fixture.app, job)).rejects.toThrow(`unknown sync job "${job}"`);
    await expect(retryParked(s.fixture.app, job)).rejects.toThrow(`unknown sync job "${job}"`);
  });

  test.each(INHERITED)('testSource(name: "%s") is a validation error', async (name) => {
    const r = await s.gql(`mutation($name: String!) { testSource(name: $name) { ok } }`, { name }, ADMIN);
    expect(r.errors?.[0]?.extensions?.code).toBe('VALIDATION_FAILED');
  });

  test.each(INHERITED)('conflicts, runs and parked records filtered by "%s" list nothing', async (name) => {
    const r = await s.gql(`query($n: String) { conflicts(entity: $n, job: $n) { totalCount } syncRuns(job: $n) { id } parkedRecords(job: $n) { id } }`, { n: name }, ADMIN);
    expect(r.errors).toBeUndefined();
    expect(r.data).toEqual({ conflicts: { totalCount: 0 }, syncRuns: [], parkedRecords: [] });
  });
});
