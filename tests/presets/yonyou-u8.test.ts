/**
 * `preset: yonyou-u8` against tables shaped like a real UFDATA database (PostgreSQL with SQL
 * Server types substituted; DDL and rows in tests/fixtures/presets/yonyou-u8/, each column with
 * its public source): crmlink.yaml names the preset, every entity is synced into the hub, and the
 * values are read back through GraphQL.
 */
import { describe, expect } from 'vitest';
import { byKey, presetSuite, type Conn, type Row } from '../support/preset-harness.js';

describe('yonyou-u8 through crmlink.yaml', () => {
  const { presetTest } = presetSuite({ preset: 'yonyou-u8', dialect: 'postgres', files: ['schema.sql', 'data.sql'], label: 'u8' });

  presetTest('maps every entity a CRM expects from U8', (w) => {
    expect(w.entities).toEqual(['Customer', 'Department', 'Employee', 'Product', 'SalesOrder', 'Invoice', 'Contact', 'InvoiceLine', 'Payment', 'Receivable', 'SalesOrderLine']);
  });

  presetTest('customers with credit line, owner and contacts from Crm_Contact', async (w) => {
    const d = await w.gql<{ customers: Conn<Record<string, unknown> & { contacts: Conn<Record<string, unknown>> }> }>(
      `{ customers(orderBy: [{ field: code }]) { nodes { code name shortName creditLimit ownerId ownerTeam phone email address contacts(orderBy: [{ field: name }]) { nodes { name title mobile phone email isPrimary } } } } }`,
    );
    const c = byKey(d.customers.nodes, 'code');
    expect(c.C001).toMatchObject({ name: '上海华东机电有限公司', shortName: '华东机电', creditLimit: '500000', ownerId: 'P01', ownerTeam: '03', phone: '021-62100123', email: 'sales@hdjd.example.cn' });
    expect(c.C002).toMatchObject({ creditLimit: null, ownerId: null });
    expect(c.C001.contacts.nodes).toEqual([
      { name: '王丽', title: '经理', mobile: '13800138000', phone: '021-62100124', email: 'wangli@hdjd.example.cn', isPrimary: true },
      { name: '赵强', title: null, mobile: '13900139000', phone: null, email: null, isPrimary: false },
    ]);
  });

  presetTest('products carry the unit code (the name is in ComputationUnit) and the stop date as status', async (w) => {
    const d = await w.gql<{ products: Conn<Record<string, unknown>> }>(`{ products(orderBy: [{ field: code }]) { nodes { code name spec unit unitCode category status } } }`);
    expect(d.products.nodes).toEqual([
      { code: 'I001', name: '交流电机 Y2-132', spec: '5.5kW', unit: null, unitCode: '01', category: '0101', status: 'ACTIVE' },
      { code: 'I002', name: '旧款减速机', spec: 'R37', unit: null, unitCode: '02', category: '0102', status: 'INACTIVE' },
    ]);
    const e = await w.gql<{ employees: Conn<Record<string, unknown>> }>(`{ employees { nodes { code name department } } }`);
    expect(e.employees.nodes).toEqual([{ code: 'P01', name: '张三', department: '03' }]);
  });

  presetTest('departments from Department (cDepCode, cDepName); staff link to theirs through Person.cDepCode', async (w) => {
    const d = await w.gql<{ departments: Conn<Row & { employees: Conn<Row> }>; employees: Conn<Row> }>(
      `{ departments(orderBy: [{ field: code }]) { nodes { code name status employees { nodes { code } } } }
         employees { nodes { code department departmentRecord { code name } } } }`,
    );
    expect(d.departments.nodes).toEqual([
      { code: '03', name: '销售部', status: null, employees: { nodes: [{ code: 'P01' }] } },
      { code: '04', name: '财务部', status: null, employees: { nodes: [] } },
    ]);
    expect(d.employees.nodes).toEqual([{ code: 'P01', department: '03', departmentRecord: { code: '03', name: '销售部' } }]);
  });

  presetTest('sales orders: status from approver and closer, lines with amounts, totals from the lines', async (w) => {
    const d = await w.gql<{ salesOrders: Conn<Record<string, unknown> & { lines: Conn<Record<string, unknown>> & { aggregate: { sum: { amount: string } } } }> }>(
      `{ salesOrders(orderBy: [{ field: code }]) { nodes { code status orderDate currency salesperson totalAmount customer { code } lines(orderBy: [{ field: lineNo }]) { nodes { lineNo productCode productName quantity unitPrice amount product { code } } aggregate { sum { amount } } } } } }`,
    );
    const o = byKey(d.salesOrders.nodes, 'code');
    expect(Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v.status]))).toEqual({ SO2024001: 'APPROVED', SO2024002: 'CLOSED', SO2024003: 'DRAFT' });
    expect(o.SO2024001).toMatchObject({ orderDate: '2024-03-01', currency: '人民币', salesperson: 'P01', totalAmount: null, customer: { code: 'C001' } });
    expect(o.SO2024001.lines.nodes).toEqual([
      { lineNo: 1, productCode: 'I001', productName: '交流电机 Y2-132', quantity: '10', unitPrice: '1130', amount: '11300', product: { code: 'I001' } },
      { lineNo: 2, productCode: 'I002', productName: '旧款减速机', quantity: '2', unitPrice: '565.5', amount: '1131', product: { code: 'I002' } },
    ]);
    expect(o.SO2024001.lines.aggregate.sum.amount).toBe('12431');
  });

  presetTest('sales invoices from SaleBillVouch with their lines: a red-letter invoice is negative, a void one is VOID', async (w) => {
    const d = await w.gql<{ invoices: Conn<Record<string, unknown> & { lines: Conn<Record<string, unknown>> }> }>(
      `{ invoices(orderBy: [{ field: code }]) { nodes { code invoiceDate currency status customer { code } lines { nodes { productCode quantity amount paidAmount } } } } }`,
    );
    const i = byKey(d.invoices.nodes, 'code');
    expect(Object.keys(i)).toEqual(['PP2024001', 'PP2024002', 'ZP2024001']);
    expect(i.ZP2024001).toMatchObject({ invoiceDate: '2024-03-10', status: null, customer: { code: 'C001' } });
    expect(i.ZP2024001.lines.nodes).toEqual([{ productCode: 'I001', quantity: '10', amount: '11300', paidAmount: '5000' }]);
    expect(i.PP2024001.lines.nodes).toEqual([{ productCode: 'I001', quantity: '-2', amount: '-2260', paidAmount: '0' }]);
    expect(i.PP2024002.status).toBe('VOID');
  });

  presetTest("receivables are Ap_Vouch 'AR' vouchers only, keyed by Auto_ID, a red-letter (credit side) one negative", async (w) => {
    const d = await w.gql<{ receivables: Conn<Record<string, unknown>> }>(
      `{ receivables(orderBy: [{ field: code }]) { nodes { code documentDate amount balance currency customer { code } } } }`,
    );
    expect(d.receivables.nodes).toEqual([
      { code: 'YS2024001', documentDate: '2024-03-11', amount: '3000', balance: '1200.5', currency: '人民币', customer: { code: 'C001' } },
      { code: 'YS2024002', documentDate: '2024-03-12', amount: '-800', balance: '-800', currency: '人民币', customer: { code: 'C001' } },
    ]);
    const xref = await w.app.hub.knex('crm_xref').where({ entity: 'Receivable' }).orderBy('source_key').pluck('source_key');
    expect(xref).toEqual(['1', '2']);
  });

  presetTest('payments are receivable-side receipts (48) and refunds (49, negative); supplier payments stay out', async (w) => {
    const d = await w.gql<{ customers: Conn<{ code: string; payments: Conn<Record<string, unknown>> & { aggregate: { sum: { amount: string } } } }> }>(
      `{ customers(where: { code: { eq: "C001" } }) { nodes { code payments(orderBy: [{ field: code }]) { nodes { code paymentDate amount method currency } aggregate { sum { amount } } } } } }`,
    );
    const p = d.customers.nodes[0].payments;
    expect(p.nodes).toEqual([
      { code: 'SK2024001', paymentDate: '2024-03-15', amount: '5000', method: '2', currency: '人民币' },
      { code: 'TK2024001', paymentDate: '2024-03-16', amount: '-300', method: '2', currency: '人民币' },
    ]);
    expect(p.aggregate.sum.amount).toBe('4700');
    const all = await w.gql<{ payments: { totalCount: number } }>(`{ payments { totalCount } }`);
    expect(all.payments.totalCount).toBe(2);
  });
});
