/**
 * A steward's whole path on two real systems (ERP on PostgreSQL, finance on MariaDB): the same
 * customers with planted differences end as one golden record per real customer, every
 * disagreement is an open conflict or a decision recorded with its reason, and no value reaches a
 * source that neither the job's policy nor a person decided. The merge goes through GraphQL,
 * with a dry run first and a per-field choice.
 */
import { describe, expect, it } from 'vitest';
import { createYogaApp } from '../../server/yoga-app.js';
import { listCandidates } from '../../identity/index.js';
import { runJob } from '../../sync/engine.js';
import { listConflicts } from '../../sync/conflicts.js';
import { createTwoSystems, goldenWithKeys, haveBothServers, PLANTED_ERP as ERP, PLANTED_FIN as FIN } from './two-systems.js';
import { closeAfterTest } from '../support/lifecycle.js';
import { openAuth } from '../support/auth.js';
import { askGraphQL } from '../support/graphql.js';

const SERVER = `server:${openAuth()}`;

describe('a steward on two real systems', () => {
  it('ends with one golden record per customer, every disagreement a conflict or a recorded decision, nothing pushed undecided', async () => {
    if (!(await haveBothServers())) return;
    const sys = closeAfterTest(await createTwoSystems(ERP, FIN, { label: 'stw', server: SERVER }));
    const app = await sys.open();
    await runJob(app, 'customers');
    const yoga = createYogaApp(app, { logger: false });
    const gql = async (query: string, variables: Record<string, unknown>) => {
      const body = await askGraphQL(yoga, query, variables);
      expect(body.errors).toBeUndefined();
      return body.data as Record<string, unknown>;
    };
    const [candidate] = await listCandidates(app.hub, {});
    const survivor = candidate.a.sources[0].source === 'erp' ? candidate.a.id : candidate.b.id;
    const ACCEPT = `mutation($id: ID!, $s: ID, $c: [MergeChoice!], $d: Boolean) { acceptMergeCandidate(id: $id, survivor: $s, choose: $c, dryRun: $d) { mergeId dryRun changedFields conflicts fields { field value source decision } writes { source key fields { field from to } } } }`;

    const preview = (await gql(ACCEPT, { id: String(candidate.id), s: survivor, d: true })).acceptMergeCandidate as { dryRun: boolean; mergeId: string; conflicts: string[] };
    expect(preview).toMatchObject({ dryRun: true, mergeId: '0', conflicts: ['name'] });
    expect((await goldenWithKeys(app)).length).toBe(5);

    const done = (await gql(ACCEPT, { id: String(candidate.id), s: survivor, c: [{ field: 'name', side: 'finance' }] })).acceptMergeCandidate as {
      dryRun: boolean;
      conflicts: string[];
      fields: { field: string; value: unknown; source: string; decision: string }[];
      writes: { source: string; key: string; fields: { field: string; from: unknown; to: unknown }[] }[];
    };
    expect(done.dryRun).toBe(false);
    expect(done.conflicts).toEqual([]);
    expect(done.fields.find((f) => f.field === 'name')).toEqual({ field: 'name', value: '北京小米移动软件有限公司', source: 'finance', decision: 'CHOSEN' });
    expect(done.writes).toEqual([{ source: 'erp', key: 'C04', fields: [{ field: 'name', from: '小米科技有限责任公司', to: '北京小米移动软件有限公司' }] }]);

    await runJob(app, 'customers');
    // One golden record per real customer.
    expect((await goldenWithKeys(app)).map((g) => g.keys.join(',')).sort()).toEqual([
      'erp:C01,finance:F01',
      'erp:C02,finance:F02',
      'erp:C03,finance:F03',
      'erp:C04,finance:F04',
    ]);
    // Every disagreement: an open conflict, or a decision with who and why.
    const open = await listConflicts(app);
    expect(open.map((c) => c.field).sort()).toEqual(['email', 'phone']);
    const decided = await listConflicts(app, { status: 'resolved' });
    expect(decided.map((c) => [c.field, c.resolvedBy])).toEqual([['name', 'anonymous (admin)']]);
    expect(decided[0].reason).toMatch(/chose finance's "北京小米移动软件有限公司"/);
    // Only the decided value was written: the ERP's C04 name. Every other source value is as seeded.
    expect(await sys.erp('customer').orderBy('code')).toEqual(ERP.map((p) => (p.code === 'C04' ? { ...p, name: '北京小米移动软件有限公司' } : p)));
    expect(await sys.fin('fin_customer').orderBy('acct')).toEqual(FIN.map((p) => ({ acct: p.code, name: p.name, phone: p.phone, email: p.email })));
  });
});
