/**
 * The operations surfaces (conflicts, merge candidates, merges, parked records, runs, sources and
 * the console) show and change any customer's data, hidden fields included. The rule: `admin:
 * true` requires `customers: all` and no `hide`. config check refuses any other admin role, and
 * every operations field and the console refuse it again per request, for a config that did not
 * come through the check.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { parseConfig } from '../../config/load.js';
import { ConfigError } from '../../core/errors.js';
import { useSecurityServer } from './support.js';
import { ADMIN_ROLE, apiKeyAuth } from '../support/auth.js';

const config = (role: string) => `
sources:
  erp: { kind: erp, dialect: sqlite, connection: { filename: ":memory:" } }
server:
  auth:
    mode: apiKey
    apiKeys: [{ key: "lead-key-0123456789ab", user: alice, role: lead }]
    roles:
      lead: ${role}
`;

function configMessage(text: string): string | undefined {
  try {
    parseConfig(text, { env: {} });
    return undefined;
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
}

describe('config check: an admin role sees every customer', () => {
  test.each([
    ['{ customers: own, admin: true }'],
    ['{ customers: team, admin: true, write: true }'],
    ['{ customers: all, admin: true, hide: [Customer.creditLimit] }'],
  ])('%s is refused, naming the role', (role) => {
    const msg = configMessage(config(role));
    expect(msg).toContain('server.auth.roles.lead.admin: an admin role sees every customer');
    expect(msg).toContain('customers: all and no hide');
  });

  test('customers: all without hide is accepted, and so is a scoped role that is not admin', () => {
    expect(configMessage(config('{ customers: all, admin: true, write: true }'))).toBeUndefined();
    expect(configMessage(config('{ customers: own, write: true, hide: [Customer.creditLimit] }'))).toBeUndefined();
  });
});

describe('per request: a scoped admin role reaches no operations surface', () => {
  const s = useSecurityServer({
    customers: 4,
    server: apiKeyAuth(
      [
        { key: 'root-key-0123456789ab', user: 'root', role: 'admin' },
        { key: 'lead-key-0123456789ab', user: 'alice', role: 'lead' },
      ],
      { admin: ADMIN_ROLE, lead: ADMIN_ROLE },
    ),
  });
  const LEAD = { 'x-api-key': 'lead-key-0123456789ab' };
  const ROOT = { 'x-api-key': 'root-key-0123456789ab' };
  beforeAll(async () => {
    // A conflict on bob's customer, about the field the scoped role would hide.
    await s.fixture.app.hub.knex('crm_conflict').insert({
      job: 'customers',
      entity: 'Customer',
      gid: 'cus_0002',
      field: 'creditLimit',
      base: JSON.stringify('2000.5'),
      values: JSON.stringify({ hub: '2000.5', finance: '987654.32' }),
      rule: 'manual',
      reason: 'changed on both sides',
      status: 'open',
      created_at: '2024-05-01T00:00:00.000Z',
    });
    // The role as a config that skipped the check would have it: own customers, creditLimit hidden.
    const lead = s.fixture.app.config.server.auth.roles.lead;
    lead.customers = 'own';
    lead.hide = ['Customer.creditLimit'];
  });

  const READS = [
    '{ conflicts { totalCount nodes { recordId field values { side value } } } }',
    '{ mergeCandidates { id a { values { name } } b { values { name } } } }',
    '{ customerMerges(customerId: "cus_0002") { id } }',
    '{ parkedRecords { id } }',
    '{ syncRuns { id } }',
    '{ syncJobs { name } }',
    '{ sources { name } }',
    '{ sourceActivity { source } }',
    '{ hubBackups { count last { file } } }',
  ];
  const WRITES = [
    'mutation { resolveConflict(id: "1", keep: "finance") { status } }',
    'mutation { resolveConflict(id: "1", value: "1") { status } }',
    'mutation { acceptMergeCandidate(id: "1") { mergeId } }',
    'mutation { rejectMergeCandidate(id: "1") { id } }',
    'mutation { unmergeCustomer(customerId: "cus_0002") { mergeId } }',
    'mutation { retryParked(job: "customers") { retried } }',
    'mutation { runSyncJob(job: "customers", dryRun: true) { status } }',
    'mutation { testSource(name: "erp") { ok } }',
  ];

  test.each([...READS, ...WRITES])('%s is FORBIDDEN and shows nothing', async (query) => {
    const r = await s.gql(query, {}, LEAD);
    expect(r.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(r.errors?.[0]?.message).toContain('an admin role sees every customer');
    expect(JSON.stringify(r)).not.toContain('987654.32');
  });

  test('the conflict is still open, and an unscoped admin sees it', async () => {
    const r = await s.gql('{ conflicts { totalCount nodes { recordId values { side value } } } }', {}, ROOT);
    expect(r.data.conflicts.totalCount).toBe(1);
    expect(r.data.conflicts.nodes[0].values).toContainEqual({ side: 'finance', value: '987654.32' });
  });

  test('the console refuses the scoped admin role', async () => {
    const page = await s.fetch('/console', { headers: LEAD });
    expect(page.status).toBe(403);
    expect(await page.text()).toContain('an admin role sees every customer');
    expect((await s.fetch('/console', { headers: ROOT })).status).toBe(200);
  });

  test('its own customers stay readable through the API, under its row rule', async () => {
    const r = await s.gql('{ customers { totalCount nodes { ownerId } } }', {}, LEAD);
    expect(r.data.customers.totalCount).toBe(2);
    expect(r.data.customers.nodes.every((n: { ownerId: string }) => n.ownerId === 'alice')).toBe(true);
  });
});
