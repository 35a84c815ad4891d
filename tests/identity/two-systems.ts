/**
 * The same customers in two real systems, as a new user meets them: an ERP on PostgreSQL and a
 * finance database on MariaDB, no credit codes, a few e-mails, phones and names changed on one
 * side. The config has no match block unless a test gives one.
 */
import type { App } from '../../app/app.js';
import { requireDialect } from '../support/databases.js';
import { hubAndSources } from '../support/config.js';
import { appsOnConfig, hubErpFinance, type AppsOnConfig, type HubErpFinance } from '../support/apps.js';

export interface Person {
  code: string;
  name: string;
  phone: string | null;
  email: string | null;
}

export interface TwoSystems extends Pick<HubErpFinance, 'erp' | 'fin'>, AppsOnConfig {
  yaml: string;
  hubFile: string;
}

/** Whether both servers are reachable (skips loudly otherwise, fails under CI). */
export async function haveBothServers(): Promise<boolean> {
  return (await requireDialect('postgres')) && (await requireDialect('mysql'));
}

/** Four customers as the ERP holds them. */
export const PLANTED_ERP: readonly Person[] = [
  { code: 'C01', name: '北京华为技术有限公司', phone: '010-82882888', email: 'info@huawei.example' },
  { code: 'C02', name: '杭州阿里巴巴网络有限公司', phone: '0571-85022088', email: 'ir@alibaba.example' },
  { code: 'C03', name: '深圳市腾讯计算机系统有限公司', phone: '0755-86013388', email: 'pr@tencent.example' },
  { code: 'C04', name: '小米科技有限责任公司', phone: '010-60606666', email: 'hi@xiaomi.example' },
];

/** The same four in finance, with planted differences: C02's e-mail and C03's phone changed, C04 renamed; C01 identical. */
export const PLANTED_FIN: readonly Person[] = [
  { code: 'F01', name: '北京华为技术有限公司', phone: '010-82882888', email: 'info@huawei.example' },
  { code: 'F02', name: '杭州阿里巴巴网络有限公司', phone: '0571-85022088', email: 'finance@alibaba.example' },
  { code: 'F03', name: '深圳市腾讯计算机系统有限公司', phone: '0755-86019999', email: 'pr@tencent.example' },
  { code: 'F04', name: '北京小米移动软件有限公司', phone: '010-60606666', email: 'hi@xiaomi.example' },
];

export interface TwoSystemsOptions {
  /** Extra lines under entities.Customer (e.g. a match block), indented by four spaces. */
  customerExtra?: string;
  /** The job's conflicts block. */
  conflicts?: string;
  /** Survivorship block under entities.Customer. */
  survivorship?: string;
  label?: string;
  /** A `server:` block (e.g. development auth for GraphQL tests). */
  server?: string;
}

export async function createTwoSystems(erpRows: readonly Person[], finRows: readonly Person[], opts: TwoSystemsOptions = {}): Promise<TwoSystems> {
  const label = opts.label ?? 'two';
  const { hubDb, erpDb, finDb, erp, fin } = await hubErpFinance(label, { hub: 'sqlite', erp: 'postgres', finance: 'mysql' });
  await erp.schema.createTable('customer', (t) => {
    t.string('code', 20).primary();
    t.string('name', 200).notNullable();
    t.string('phone', 30).nullable();
    t.string('email', 100).nullable();
  });
  await fin.schema.createTable('fin_customer', (t) => {
    t.string('acct', 20).primary();
    t.string('name', 200).notNullable();
    t.string('phone', 30).nullable();
    t.string('email', 100).nullable();
  });
  if (erpRows.length) await erp('customer').insert(erpRows.map((p) => ({ code: p.code, name: p.name, phone: p.phone, email: p.email })));
  if (finRows.length) await fin('fin_customer').insert(finRows.map((p) => ({ acct: p.code, name: p.name, phone: p.phone, email: p.email })));
  const yaml = `
${hubAndSources(hubDb, { erp: erpDb, finance: finDb })}
entities:
  Customer:
    sources:
      erp:
        table: customer
        key: [code]
        write: [update]
        fields: { code: code, name: name, phone: phone, email: email }
      finance:
        table: fin_customer
        key: [acct]
        write: [update]
        fields: { name: name, phone: phone, email: email }
${opts.customerExtra ?? ''}
${opts.survivorship ?? ''}
sync:
  jobs:
    customers:
      entity: Customer
      sources: [erp, finance]
      conflicts: ${opts.conflicts ?? '{ default: manual }'}
log:
  level: silent
${opts.server ?? ''}
`;
  return {
    erp,
    fin,
    yaml,
    hubFile: hubDb.database,
    ...appsOnConfig(yaml, [erp, fin], [hubDb, erpDb, finDb]),
  };
}

/** Live golden customers, each with its source keys. */
export async function goldenWithKeys(app: App): Promise<{ id: string; values: Record<string, unknown>; keys: string[] }[]> {
  const rows = (await app.hub.knex('crm_customer').where('_deleted', false).whereNull('_merged_into').orderBy('id')) as Record<string, unknown>[];
  const xref = (await app.hub.knex('crm_xref').where({ entity: 'Customer' }).orderBy(['source', 'source_key'])) as { gid: string; source: string; source_key: string }[];
  return rows.map((r) => {
    const rec = app.hub.fromRow('Customer', r);
    return { id: rec.id, values: rec.values, keys: xref.filter((x) => x.gid === rec.id).map((x) => `${x.source}:${x.source_key}`) };
  });
}
