/**
 * `preset: northwind` from a crmlink.yaml: the unchanged Northwind dump (tests/fixtures/third_party/postgres/
 * northwind.sql) in PostgreSQL, one pull job per entity the preset maps, everything synced into
 * the hub and read back through GraphQL.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect } from 'vitest';
import { presetSuite, type Conn, type Row } from '../support/preset-harness.js';

const DUMP = fileURLToPath(new URL('../fixtures/third_party/postgres/northwind.sql', import.meta.url));

// As the docs show: the preset maps the tables, the config only says how each entity is served.
const entitiesYaml = `entities:\n  Customer:\n    mode: replicated\n  SalesOrder: { mode: replicated }\n`;

describe('northwind through crmlink.yaml', () => {
  const { presetTest } = presetSuite({ preset: 'northwind', dialect: 'postgres', files: [DUMP], label: 'nwpreset', entitiesYaml, timeoutMs: 180_000 });

  presetTest('syncs every entity the preset maps', async (w) => {
    expect(w.entities).toEqual(['Customer', 'Employee', 'Product', 'SalesOrder', 'Contact', 'SalesOrderLine']);
    const d = await w.gql<Record<string, { aggregate: { count: number } }>>(
      `{ customers { aggregate { count } } employees { aggregate { count } } products { aggregate { count } }
         salesOrders { aggregate { count } } contacts { aggregate { count } } salesOrderLines { aggregate { count } } }`,
    );
    expect(Object.fromEntries(Object.entries(d).map(([k, v]) => [k, v.aggregate.count]))).toEqual({
      customers: 91,
      employees: 9,
      products: 77,
      salesOrders: 830,
      contacts: 91,
      salesOrderLines: 2155,
    });
  });

  presetTest('reads a customer with its contact, orders, lines and products through the hub', async (w) => {
    const d = await w.gql<{ customers: Conn<Row & { contacts: Conn<Row>; salesOrders: Conn<Row & { lines: Conn<Row> }> }> }>(
      `{ customers(where: { code: { eq: "ALFKI" } }) { nodes { code name city phone
          contacts { nodes { name title } }
          salesOrders(orderBy: [{ field: code }], first: 1) { nodes { code orderDate salesperson
            lines { nodes { quantity unitPrice product { code name } } } } } } } }`,
    );
    const [alfki] = d.customers.nodes;
    expect(alfki).toMatchObject({ code: 'ALFKI', name: 'Alfreds Futterkiste', city: 'Berlin', phone: '030-0074321' });
    expect(alfki.contacts.nodes).toEqual([{ name: 'Maria Anders', title: 'Sales Representative' }]);
    const [order] = alfki.salesOrders.nodes;
    expect(order).toMatchObject({ code: '10643', orderDate: '1997-08-25', salesperson: '6' });
    expect(order.lines.nodes.map((l) => (l.product as Row).name).sort()).toEqual(['Chartreuse verte', 'Rössle Sauerkraut', 'Spegesild']);
    const e = await w.gql<{ employees: Conn<Row> }>(`{ employees(where: { code: { eq: "6" } }) { nodes { code name title } } }`);
    expect(e.employees.nodes).toEqual([{ code: '6', name: 'Michael Suyama', title: 'Sales Representative' }]);
  });
});
