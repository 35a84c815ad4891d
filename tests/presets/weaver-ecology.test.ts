/**
 * `preset: weaver-ecology` against tables shaped like a real e-cology database (MariaDB; DDL and
 * rows in tests/fixtures/presets/weaver-ecology/, each column with its public source):
 * crmlink.yaml names the preset, every entity is synced into the hub and read back through
 * GraphQL; the form-table helper finds a system bill, a custom form and an old-style form.
 */
import { describe, expect } from 'vitest';
import { weaverForm, weaverFormTable } from '../../connectors/presets/weaver-ecology/form-tables.js';
import { byKey, presetSuite, type Conn, type Row } from '../support/preset-harness.js';

describe('weaver-ecology through crmlink.yaml', () => {
  const { presetTest } = presetSuite({ preset: 'weaver-ecology', dialect: 'mysql', files: ['schema.sql', 'data.sql'], label: 'ecology' });

  presetTest('maps the CRM, staff and approvals', (w) => {
    expect(w.entities).toEqual(['Customer', 'Department', 'Employee', 'ApprovalRequest', 'Contact']);
  });

  presetTest('approvals: pending, approved, rejected, withdrawn, paused; deleted requests left out; customer link and decision time', async (w) => {
    const d = await w.gql<{ approvals: Conn<Record<string, unknown>> }>(
      `{ approvals(orderBy: [{ field: code }]) { nodes { code title workflow status requester submittedAt decidedAt customer { name } } } }`,
    );
    const a = byKey(d.approvals.nodes, 'code');
    expect(Object.keys(a)).toEqual(['9001', '9002', '9003', '9004', '9005', '9007', '9008']);
    expect(Object.fromEntries(Object.entries(a).map(([k, v]) => [k, v.status]))).toEqual({
      9001: 'PENDING',
      9002: 'APPROVED',
      9003: 'REJECTED',
      9004: 'WITHDRAWN',
      9005: 'PENDING',
      9007: 'PENDING',
      // Paused (currentstatus 0): still a request awaiting its decision.
      9008: 'PENDING',
    });
    expect(a['9002']).toMatchObject({
      title: '信用额度申请-杭州西湖贸易',
      workflow: '41',
      requester: '22',
      submittedAt: '2024-03-02T02:00:00.000Z',
      decidedAt: '2024-03-04T08:30:05.000Z',
      customer: { name: '杭州西湖贸易有限公司' },
    });
    expect(a['9001'].customer).toEqual({ name: '上海华东机电有限公司' });
    expect(a['9005'].customer).toBeNull();
  });

  presetTest('customers from CRM_CustomerInfo with credit amount, owner and contacts; deleted customers left out', async (w) => {
    const d = await w.gql<{ customers: Conn<Record<string, unknown> & { contacts: Conn<Record<string, unknown>> }> }>(
      `{ customers(orderBy: [{ field: code }]) { nodes { code name creditCode phone email address ownerId ownerTeam creditLimit contacts(orderBy: [{ field: name }]) { nodes { name title phone mobile email isPrimary } } } } }`,
    );
    const c = byKey(d.customers.nodes, 'code');
    expect(Object.keys(c)).toEqual(['KH-2023-0001', 'KH-2024-0002']);
    expect(c['KH-2023-0001']).toMatchObject({ name: '上海华东机电有限公司', creditCode: '91310115MA1K4XXXXX', ownerId: '21', ownerTeam: '3', creditLimit: '200000', address: '上海市浦东新区张江路 88 号' });
    expect(c['KH-2023-0001'].contacts.nodes).toEqual([
      { name: '王丽', title: '采购经理', phone: '021-62100124', mobile: '13900139000', email: 'wangli@hdjd.example.cn', isPrimary: true },
      { name: '赵强', title: null, phone: null, mobile: '13700137000', email: null, isPrimary: false },
    ]);
  });

  presetTest('staff from HrmResource: status 0–3 on the payroll', async (w) => {
    const d = await w.gql<{ employees: Conn<Record<string, unknown>> }>(`{ employees(orderBy: [{ field: code }]) { nodes { code name department mobile status } } }`);
    expect(d.employees.nodes).toEqual([
      { code: '21', name: '张三', department: '3', mobile: '13800000021', status: 'ACTIVE' },
      { code: '22', name: '李四', department: '3', mobile: '13800000022', status: 'ACTIVE' },
      { code: '23', name: '王五', department: '4', mobile: null, status: 'INACTIVE' },
    ]);
  });

  presetTest('departments from HrmDepartment; staff link to theirs through HrmResource.departmentid', async (w) => {
    const d = await w.gql<{ departments: Conn<Row & { employees: Conn<Row> }>; employees: Conn<Row> }>(
      `{ departments(orderBy: [{ field: code }]) { nodes { code name employees(orderBy: [{ field: code }]) { nodes { code } } } }
         employees(orderBy: [{ field: code }]) { nodes { code department departmentRecord { name } } } }`,
    );
    expect(d.departments.nodes).toEqual([
      { code: '2', name: '营销中心', employees: { nodes: [] } },
      { code: '3', name: '销售一部', employees: { nodes: [{ code: '21' }, { code: '22' }] } },
      { code: '4', name: '财务部', employees: { nodes: [{ code: '23' }] } },
    ]);
    expect(d.employees.nodes).toEqual([
      { code: '21', department: '3', departmentRecord: { name: '销售一部' } },
      { code: '22', department: '3', departmentRecord: { name: '销售一部' } },
      { code: '23', department: '4', departmentRecord: { name: '财务部' } },
    ]);
  });

  presetTest('finds each workflow form: a system bill and a custom form through workflow_bill, an old-style form in workflow_form', async (w) => {
    const driver = w.app.sources.driver('erp');
    expect(await weaverForm(driver, 41)).toEqual({ table: 'formtable_main_12', kind: 'custom', formId: -12 });
    expect(await weaverForm(driver, 42)).toEqual({ table: 'Bill_Meetingroom', kind: 'bill', formId: 7 });
    expect(await weaverForm(driver, 43)).toEqual({ table: 'workflow_form', kind: 'legacy', formId: 5 });
    expect(await weaverFormTable(driver, 99)).toBeNull();
    // The amount of a credit request lives in its form table, joined by requestid.
    const table = await weaverFormTable(driver, 41);
    const rows = await driver.select({ table: table!, columns: ['requestid', 'sqje'], where: { column: 'requestid', op: 'eq', value: 9002 } });
    expect(rows.map((r) => [Number(r.requestid), String(r.sqje)])).toEqual([[9002, '50000.00']]);
  });
});
