/**
 * Editing a field that has an open conflict, on two real systems (ERP on PostgreSQL, finance on
 * MariaDB): the edit resolves the conflict as the editor's choice, the conflict list updates, and
 * the next run pushes the value to both systems.
 */
import { describe, expect, it } from 'vitest';
import { runJob } from '../../sync/engine.js';
import { listConflicts } from '../../sync/conflicts.js';
import { createTwoSystems, goldenWithKeys, haveBothServers, type TwoSystems } from './two-systems.js';
import { closeAfterTest } from '../support/lifecycle.js';
import { openAuth } from '../support/auth.js';
import { askGraphQL } from '../support/graphql.js';

const DEV_ADMIN = `server:${openAuth()}`;

describe('an edit of a field with an open conflict', () => {
  it('resolves the conflict as a person choice and pushes the value to every system', async () => {
    if (!(await haveBothServers())) return;
    const sys = closeAfterTest(await createTwoSystems(
      [{ code: 'C02', name: '杭州阿里巴巴网络有限公司', phone: '0571-85022088', email: 'ir@alibaba.example' }],
      [{ code: 'F02', name: '杭州阿里巴巴网络有限公司', phone: '0571-85022088', email: 'finance@alibaba.example' }],
      { label: 'edc', server: DEV_ADMIN },
    ));
    const app = await sys.open();
    await runJob(app, 'customers');
    const [golden] = await goldenWithKeys(app);
    const [conflict] = await listConflicts(app);
    expect(conflict).toMatchObject({ gid: golden.id, field: 'email', status: 'open' });

    const body = await askGraphQL(app, `mutation($id: ID!) { updateCustomer(id: $id, input: { email: "ar@alibaba.example" }) { email } }`, { id: golden.id });
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

describe('sourceRecords', () => {
  const query = async (sys: TwoSystems, q: string): Promise<unknown> => {
    const app = await sys.open();
    await runJob(app, 'customers');
    const body = await askGraphQL(app, q);
    expect(body.errors).toBeUndefined();
    return body.data;
  };
  const ERP = [{ code: 'C02', name: '杭州阿里巴巴网络有限公司', phone: '0571-85022088', email: 'ir@alibaba.example' }];
  const FIN = [{ code: 'F02', name: '杭州阿里巴巴网络有限公司', phone: '0571-85022088', email: 'finance@alibaba.example' }];

  it("shows each system's values side by side", async () => {
    if (!(await haveBothServers())) return;
    const sys = closeAfterTest(await createTwoSystems(ERP, FIN, { label: 'srv', server: DEV_ADMIN }));
    const data = await query(sys, '{ customers(first: 1) { nodes { email sourceRecords { source key values } } } }');
    expect(data).toEqual({
      customers: {
        nodes: [
          {
            email: 'ir@alibaba.example',
            sourceRecords: [
              { source: 'erp', key: 'C02', values: { code: 'C02', name: '杭州阿里巴巴网络有限公司', phone: '0571-85022088', email: 'ir@alibaba.example' } },
              { source: 'finance', key: 'F02', values: { name: '杭州阿里巴巴网络有限公司', phone: '0571-85022088', email: 'finance@alibaba.example' } },
            ],
          },
        ],
      },
    });
  });

  it('leaves out the fields the role may not see', async () => {
    if (!(await haveBothServers())) return;
    const server = `server:\n  auth:\n    mode: none\n    anonymousRole: sales\n    roles:\n      sales: { customers: all, hide: [Customer.email] }\n`;
    const sys = closeAfterTest(await createTwoSystems(ERP, FIN, { label: 'srh', server }));
    const data = (await query(sys, '{ customers(first: 1) { nodes { sourceRecords { source values } } } }')) as { customers: { nodes: { sourceRecords: { values: Record<string, unknown> }[] }[] } };
    for (const r of data.customers.nodes[0].sourceRecords) expect(Object.keys(r.values)).not.toContain('email');
  });
});
