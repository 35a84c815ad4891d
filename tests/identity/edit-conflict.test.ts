/**
 * Editing a field that has an open conflict, on two real systems (ERP on PostgreSQL, finance on
 * MariaDB): the edit resolves the conflict as the editor's choice, the conflict list updates, and
 * the next run pushes the value to both systems.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createYogaApp } from '../../server/yoga-app.js';
import { runJob } from '../../sync/engine.js';
import { listConflicts } from '../../sync/conflicts.js';
import { createTwoSystems, goldenWithKeys, haveBothServers, type TwoSystems } from './two-systems.js';

const DEV_ADMIN = `server:
  auth:
    mode: none
    anonymousRole: admin
    roles:
      admin: { customers: all, write: true, admin: true }
`;

let sys: TwoSystems | null = null;
afterEach(async () => {
  await sys?.close();
  sys = null;
});

describe('an edit of a field with an open conflict', () => {
  it('resolves the conflict as a person choice and pushes the value to every system', async () => {
    if (!(await haveBothServers())) return;
    sys = await createTwoSystems(
      [{ code: 'C02', name: '杭州阿里巴巴网络有限公司', phone: '0571-85022088', email: 'ir@alibaba.example' }],
      [{ code: 'F02', name: '杭州阿里巴巴网络有限公司', phone: '0571-85022088', email: 'finance@alibaba.example' }],
      { label: 'edc', server: DEV_ADMIN },
    );
    const app = await sys.open();
    await runJob(app, 'customers');
    const [golden] = await goldenWithKeys(app);
    const [conflict] = await listConflicts(app);
    expect(conflict).toMatchObject({ gid: golden.id, field: 'email', status: 'open' });

    const yoga = createYogaApp(app, { logger: false });
    const res = await yoga.fetch('http://x/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: `mutation($id: ID!) { updateCustomer(id: $id, input: { email: "ar@alibaba.example" }) { email } }`, variables: { id: golden.id } }),
    });
    const body = (await res.json()) as { data?: { updateCustomer: { email: string } }; errors?: unknown };
    expect(body.errors).toBeUndefined();
    expect(body.data?.updateCustomer.email).toBe('ar@alibaba.example');

    expect(await listConflicts(app)).toEqual([]);
    const [resolved] = await listConflicts(app, { status: 'resolved' });
    expect(resolved).toMatchObject({ id: conflict.id, resolution: { keep: 'value', value: 'ar@alibaba.example', edit: true }, resolvedBy: 'anonymous (admin)' });

    await runJob(app, 'customers');
    expect((await sys.erp('customer').first()).email).toBe('ar@alibaba.example');
    expect((await sys.fin('fin_customer').first()).email).toBe('ar@alibaba.example');
    expect(await listConflicts(app)).toEqual([]);
  });
});
