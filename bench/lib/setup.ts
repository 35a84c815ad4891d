/**
 * The three-source deployment the read and load benchmarks run against: the ERP on PostgreSQL,
 * finance on MariaDB, the OA on SQLite (each dialect selectable), a hub (SQLite by default), the
 * crmlink.yaml that maps them (demo/config.ts's mappings, on the generated schema), and teardown.
 */
import { parseConfig } from '../../config/load.js';
import type { App } from '../../app/app.js';
import { closeApp, openApp } from '../../app/app.js';
import { silentLogger } from '../../core/logger.js';
import { ERP_CUSTOMER_FIELDS, ERP_SALES_ORDER_SOURCE, ERP_SALES_ORDER_LINE_SOURCE, FINANCE_INVOICE_SOURCE, OA_APPROVAL_DETAIL_FIELDS, oaApprovalKey, updatedByTimestamp } from '../../demo/mappings.js';
import { createDatabase, loadSystem, seedHub, type BenchDatabase, type BenchDialect, type LoadReport } from '../data/generate.js';

/** The ERP's sales orders as an entity read live (federated) from the ERP, for a config's `entities:` block. */
export const FEDERATED_SALES_ORDERS = `  SalesOrder:
    mode: federated
    owner: erp
    sources:
      erp:
${ERP_SALES_ORDER_SOURCE}`;

export interface Deployment {
  customers: number;
  erp: BenchDatabase;
  finance: BenchDatabase;
  oa: BenchDatabase;
  hub: BenchDatabase;
  loads: LoadReport[];
  hubSeedSeconds: number;
  yaml: string;
  app: App;
  close(): Promise<void>;
}

export interface DeployOptions {
  customers: number;
  erp?: BenchDialect;
  finance?: BenchDialect;
  oa?: BenchDialect;
  hub?: 'sqlite' | 'postgres';
  /** Write golden customers + cross-references straight into the hub (default true). */
  seedHub?: boolean;
  /** Sync job schedule (node-cron, 6 fields for seconds), if the job should be scheduled. */
  schedule?: string;
  /** Pool max per source (default: crmlink's default, 10). */
  poolMax?: number;
  /** Load orders, lines, invoices and approvals too (default true). */
  detail?: boolean;
}

export async function deploy(opts: DeployOptions): Promise<Deployment> {
  const made: BenchDatabase[] = [];
  try {
    const erp = await createDatabase(opts.erp ?? 'postgres', 'erp');
    made.push(erp);
    const finance = await createDatabase(opts.finance ?? 'mysql', 'fin');
    made.push(finance);
    const oa = await createDatabase(opts.oa ?? 'sqlite', 'oa');
    made.push(oa);
    const hub = await createDatabase(opts.hub ?? 'sqlite', 'hub');
    made.push(hub);
    const loads = await Promise.all([
      loadSystem('erp', erp, opts.customers, { detail: opts.detail }),
      loadSystem('finance', finance, opts.customers, { detail: opts.detail }),
      loadSystem('oa', oa, opts.customers, { detail: opts.detail }),
    ]);
    const yaml = configYaml({ erp, finance, oa, hub }, opts);
    const app = await openApp(parseConfig(yaml), { logger: silentLogger });
    let hubSeedSeconds = 0;
    if (opts.seedHub !== false) {
      const t = performance.now();
      await seedHub(hub, opts.customers);
      hubSeedSeconds = Math.round((performance.now() - t) / 10) / 100;
    }
    return {
      customers: opts.customers,
      erp,
      finance,
      oa,
      hub,
      loads,
      hubSeedSeconds,
      yaml,
      app,
      close: async () => {
        await closeApp(app);
        await Promise.allSettled(made.map((d) => d.drop()));
      },
    };
  } catch (err) {
    await Promise.allSettled(made.map((d) => d.drop()));
    throw err;
  }
}

function conn(d: BenchDatabase): string {
  return JSON.stringify(d.connection);
}

export function configYaml(dbs: { erp: BenchDatabase; finance: BenchDatabase; oa: BenchDatabase; hub: BenchDatabase }, opts: Pick<DeployOptions, 'schedule' | 'poolMax'> = {}): string {
  const pool = opts.poolMax ? `, pool: { min: 0, max: ${opts.poolMax} }` : '';
  const poolOf = (d: BenchDatabase) => (d.dialect === 'sqlite' ? '' : pool);
  return `
hub: { dialect: ${dbs.hub.dialect}, connection: ${conn(dbs.hub)} }
log: { level: silent }
sources:
  erp: { kind: erp, dialect: ${dbs.erp.dialect}, connection: ${conn(dbs.erp)}, timezone: Asia/Shanghai${poolOf(dbs.erp)} }
  finance: { kind: finance, dialect: ${dbs.finance.dialect}, connection: ${conn(dbs.finance)}, timezone: UTC${poolOf(dbs.finance)} }
  oa: { kind: oa, dialect: ${dbs.oa.dialect}, connection: ${conn(dbs.oa)}, timezone: Asia/Shanghai, readOnly: true${poolOf(dbs.oa)} }
entities:
  Customer:
    mode: replicated
    match:
      - { rule: creditCode, certainty: sure }
      - { rule: name, certainty: probable }
    survivorship:
      default: erp,finance
      fields: { creditLimit: finance }
    sources:
      erp:
${updatedByTimestamp('Customer', 'cCusCode', 'dModifyDate', 5)}
${ERP_CUSTOMER_FIELDS}
      finance:
${updatedByTimestamp('fin_customer', 'acct_no', 'updated_at', 5)}
          name: { column: cust_name, trim: true, halfWidth: true, write: false }
          creditCode: { column: credit_code, trim: true }
          creditLimit: { column: credit_limit, type: decimal, scale: 2 }
${FEDERATED_SALES_ORDERS}
  SalesOrderLine:
    mode: federated
    owner: erp
    sources:
      erp:
${ERP_SALES_ORDER_LINE_SOURCE}
  Invoice:
    mode: federated
    owner: finance
    sources:
      finance:
${FINANCE_INVOICE_SOURCE}
  ApprovalRequest:
    mode: federated
    owner: oa
    writable: []
    fields:
      customerName: { type: string }
    sources:
      oa:
${oaApprovalKey('{ column: khbm, type: ref }')}
${OA_APPROVAL_DETAIL_FIELDS}
sync:
  jobs:
    customers:
      entity: Customer
      sources: [erp, finance]
      batchSize: 1000${opts.schedule ? `\n      schedule: "${opts.schedule}"` : ''}
      conflicts:
        default: newest
        fields: { creditLimit: "source:finance", name: "source:erp" }
server:
  port: 0
  limits: { depth: 10, cost: 1000000 }
  auth: { mode: none, anonymousRole: admin, roles: { admin: { customers: all, write: true, admin: true } } }
`;
}
