/**
 * Unknown is not zero: `receivableBalance` is null when nothing is mapped behind it (no invoices
 * configured, or a customer with no record in the invoices' system), 0 only when the invoices were
 * looked at and none is open; the schema description says so.
 */
import { describe, expect, it } from 'vitest';
import { createFixture, customerGid, DEV_AUTH } from './fixture.js';
import { createTwoSystems, haveBothServers, type TwoSystems } from '../identity/two-systems.js';
import { runJob } from '../../sync/engine.js';
import { useOpened } from '../support/lifecycle.js';
import { askGraphQL } from '../support/graphql.js';

const f = useOpened(() => createFixture({ customers: 2, server: DEV_AUTH }));

describe('receivableBalance', () => {
  it('is null for a customer with no record in the invoices system, a figure for one with invoices', async () => {
    const created = await f.gql(`mutation { createCustomer(input: { name: "没有财务档案的客户" }) { id } }`);
    expect(created.errors).toBeUndefined();
    const id = (created.data as { createCustomer: { id: string } }).createCustomer.id;
    const r = await f.gql(`query($a: ID!, $b: ID!) { a: customer(id: $a) { receivableBalance } b: customer(id: $b) { receivableBalance } }`, { a: id, b: customerGid(1) });
    expect(r.errors).toBeUndefined();
    expect(r.data).toEqual({ a: { receivableBalance: null }, b: { receivableBalance: '100.5' } });
  });

  it('says in the schema when it is null', async () => {
    const r = await f.gql(`{ __type(name: "Customer") { fields { name description } } }`);
    const field = (r.data as { __type: { fields: { name: string; description: string }[] } }).__type.fields.find((x) => x.name === 'receivableBalance');
    expect(field?.description).toContain('Null when unknown');
  });

  it('is null for every customer when no source maps invoices', async () => {
    if (!(await haveBothServers())) return;
    let sys: TwoSystems | null = null;
    try {
      sys = await createTwoSystems([{ code: 'C01', name: '北京华为技术有限公司', phone: null, email: null }], [], {
        label: 'unk',
        server: `server:${DEV_AUTH}`,
      });
      const app = await sys.open();
      await runJob(app, 'customers');
      const body = await askGraphQL(app, '{ customers(first: 5) { nodes { name receivableBalance } } }');
      expect(body.errors).toBeUndefined();
      expect(body.data).toEqual({ customers: { nodes: [{ name: '北京华为技术有限公司', receivableBalance: null }] } });
    } finally {
      await sys?.close();
    }
  });
});
