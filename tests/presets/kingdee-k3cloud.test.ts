/**
 * `preset: kingdee-k3cloud` against tables shaped like a real K/3 Cloud database (PostgreSQL; DDL
 * and rows in tests/fixtures/presets/kingdee-k3cloud/, each column with its public source) with
 * the preset's own views.sql on top: crmlink.yaml names the preset and the using organisation,
 * every entity is synced into the hub and read back through GraphQL.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect } from 'vitest';
import { byKey, presetSuite, type Conn, type Row } from '../support/preset-harness.js';

const VIEWS = fileURLToPath(new URL('../../connectors/presets/kingdee-k3cloud/views.sql', import.meta.url));

describe('kingdee-k3cloud through crmlink.yaml', () => {
  const { presetTest } = presetSuite({
    preset: 'kingdee-k3cloud',
    dialect: 'postgres',
    files: ['schema.sql', 'data.sql', VIEWS],
    options: { organization: 100001 },
    label: 'k3',
  });

  presetTest('names the using organisation in the config', async (w) => {
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(w.configFile, 'utf8')).toContain('presetOptions: {"organization":100001}');
    expect(w.entities).toEqual(['Customer', 'Department', 'Employee', 'Product', 'SalesOrder', 'Invoice', 'ApprovalRequest', 'Contact', 'CreditLimit', 'Payment', 'SalesOrderLine']);
  });

  presetTest('customers: one record per code, the chosen organisation’s; name from _L, salesperson and department by code, credit limit from the credit archive', async (w) => {
    const d = await w.gql<{ customers: Conn<Row & { contacts: Conn<Row>; creditLimits: Conn<Row> }> }>(
      `{ customers(orderBy: [{ field: code }]) { nodes { code name shortName phone address ownerId ownerTeam status
          contacts(orderBy: [{ field: name }]) { nodes { name isPrimary } } creditLimits { nodes { amount } } } } }`,
    );
    expect(d.customers.nodes.map((c) => c.code)).toEqual(['C0001', 'C0002']);
    const c = byKey(d.customers.nodes, 'code');
    expect(c.C0001).toMatchObject({ name: '上海华东机电有限公司', shortName: '华东机电', phone: '021-62100123', ownerId: 'S001', ownerTeam: 'D01', status: 'ACTIVE' });
    expect(c.C0001.contacts.nodes).toEqual([
      { name: '王丽', isPrimary: true },
      { name: '赵强', isPrimary: false },
    ]);
    expect(c.C0001.creditLimits.nodes).toEqual([{ amount: '500000' }]);
    expect(c.C0002).toMatchObject({ status: 'INACTIVE', ownerId: null });
  });

  presetTest('salespersons by code with their department; materials of the organisation with the base unit code', async (w) => {
    const e = await w.gql<{ employees: Conn<Row> }>(`{ employees(orderBy: [{ field: code }]) { nodes { code name department status } } }`);
    expect(e.employees.nodes).toEqual([
      { code: 'S001', name: '刘洋', department: 'D01', status: 'ACTIVE' },
      { code: 'S002', name: '陈静', department: 'D02', status: 'INACTIVE' },
    ]);
    const p = await w.gql<{ products: Conn<Row> }>(`{ products(orderBy: [{ field: code }]) { nodes { code name spec unitCode status } } }`);
    expect(p.products.nodes).toEqual([
      { code: 'M001', name: '交流电机', spec: 'Y2-132 5.5kW', unitCode: 'Pcs', status: 'ACTIVE' },
      { code: 'M002', name: '旧款减速机', spec: 'R37', unitCode: 'kg', status: 'INACTIVE' },
    ]);
  });

  presetTest('departments from T_BD_DEPARTMENT with the name from _L; salespersons link to theirs, whatever organisation it is in', async (w) => {
    const d = await w.gql<{ departments: Conn<Row & { employees: Conn<Row> }>; employees: Conn<Row> }>(
      `{ departments(orderBy: [{ field: code }]) { nodes { code name status employees { nodes { code } } } }
         employees(orderBy: [{ field: code }]) { nodes { code departmentRecord { code } } } }`,
    );
    expect(d.departments.nodes).toEqual([
      { code: 'D01', name: '华东销售部', status: 'ACTIVE', employees: { nodes: [{ code: 'S001' }] } },
      { code: 'D02', name: '旧销售二部', status: 'INACTIVE', employees: { nodes: [{ code: 'S002' }] } },
    ]);
    expect(d.employees.nodes).toEqual([
      { code: 'S001', departmentRecord: { code: 'D01' } },
      { code: 'S002', departmentRecord: { code: 'D02' } },
    ]);
  });

  presetTest('sales orders: status from cancel/close/document status, settlement currency, salesperson code, total and line amounts', async (w) => {
    const d = await w.gql<{ salesOrders: Conn<Row & { lines: Conn<Row> }> }>(
      `{ salesOrders(orderBy: [{ field: code }]) { nodes { code status orderDate currency salesperson totalAmount customer { code }
          lines(orderBy: [{ field: lineNo }]) { nodes { lineNo productCode productName quantity unitPrice amount product { code } } } } } }`,
    );
    const o = byKey(d.salesOrders.nodes, 'code');
    expect(Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v.status]))).toEqual({
      XSDD000001: 'APPROVED',
      XSDD000002: 'CLOSED',
      XSDD000003: 'CANCELLED',
      XSDD000004: 'DRAFT',
      XSDD000005: 'DRAFT',
      XSDD000007: 'DRAFT',
      XSDD000008: 'DRAFT',
    });
    expect(o.XSDD000001).toMatchObject({ orderDate: '2024-03-01', currency: 'PRE001', salesperson: 'S001', totalAmount: '1180', customer: { code: 'C0001' } });
    expect(o.XSDD000002.currency).toBe('PRE007');
    expect(o.XSDD000001.lines.nodes).toEqual([
      { lineNo: 1, productCode: 'M001', productName: '交流电机', quantity: '10', unitPrice: '113', amount: '1130', product: { code: 'M001' } },
      { lineNo: 2, productCode: 'M002', productName: '旧款减速机', quantity: '2.5', unitPrice: '20', amount: '50', product: { code: 'M002' } },
    ]);
  });

  presetTest('receivables: approved ones with amount and written-off status; receipts from customers only', async (w) => {
    const d = await w.gql<{ invoices: Conn<Row>; payments: Conn<Row> }>(
      `{ invoices(orderBy: [{ field: code }]) { nodes { code invoiceDate amount status customer { code } } }
         payments { nodes { code paymentDate amount customer { code } } } }`,
    );
    expect(d.invoices.nodes).toEqual([
      { code: 'AR00000001', invoiceDate: '2024-03-10', amount: '1130', status: 'OPEN', customer: { code: 'C0001' } },
      { code: 'AR00000002', invoiceDate: '2024-03-11', amount: '500', status: 'PARTIAL', customer: { code: 'C0001' } },
      { code: 'AR00000003', invoiceDate: '2024-03-12', amount: '200', status: 'PAID', customer: { code: 'C0001' } },
      { code: 'AR00000006', invoiceDate: '2024-03-15', amount: '-113', status: 'OPEN', customer: { code: 'C0001' } },
    ]);
    expect(d.payments.nodes).toEqual([{ code: 'SKD00000001', paymentDate: '2024-03-20', amount: '600', customer: { code: 'C0001' } }]);
  });

  presetTest('approvals: each submitted sales order with its bill status — approved with its approval time, under review or sent back pending, voided withdrawn; never-submitted bills left out', async (w) => {
    const d = await w.gql<{ approvals: Conn<Row> }>(
      `{ approvals(orderBy: [{ field: code }]) { nodes { code title workflow status requester decidedAt amount customer { code } } } }`,
    );
    expect(d.approvals.nodes).toEqual([
      { code: 'XSDD000001', title: 'XSDD000001', workflow: 'SAL_SaleOrder', status: 'APPROVED', requester: 'S001', decidedAt: '2024-03-01T08:30:00.000Z', amount: '1180', customer: { code: 'C0001' } },
      { code: 'XSDD000002', title: 'XSDD000002', workflow: 'SAL_SaleOrder', status: 'APPROVED', requester: 'S001', decidedAt: '2024-03-02T01:00:00.000Z', amount: '113', customer: { code: 'C0001' } },
      { code: 'XSDD000003', title: 'XSDD000003', workflow: 'SAL_SaleOrder', status: 'WITHDRAWN', requester: 'S001', decidedAt: null, amount: null, customer: { code: 'C0001' } },
      { code: 'XSDD000005', title: 'XSDD000005', workflow: 'SAL_SaleOrder', status: 'PENDING', requester: 'S001', decidedAt: null, amount: null, customer: { code: 'C0001' } },
      { code: 'XSDD000007', title: 'XSDD000007', workflow: 'SAL_SaleOrder', status: 'PENDING', requester: 'S001', decidedAt: null, amount: '226', customer: { code: 'C0001' } },
    ]);
  });
});
