/**
 * A small world for sync tests: a hub, an ERP and a finance database on real engines, the config
 * that maps Customer onto both, and helpers to look at every side.
 */
import type { Knex } from 'knex';
import type { Dialect } from '../../config/schema.js';
import type { App } from '../../app/app.js';
import { makeCreditCode } from '../../identity/credit-code.js';
import { runJob } from '../../sync/engine.js';
import type { RunReport } from '../../sync/types.js';
import { type TestDatabase } from '../support/databases.js';
import { appsOnConfig, hubErpFinance, type AppsOnConfig, type HubErpFinance } from '../support/apps.js';
import { addErpCustomerColumns, TEST_ERP_CUSTOMERS, TEST_ERP_CUSTOMER_FIELDS } from '../support/test-erp.js';

export interface WorldOptions {
  hub?: 'sqlite' | 'postgres';
  erp?: Dialect;
  finance?: Dialect;
  /** Conflict policies of the job (default: manual, creditLimit owned by finance). */
  conflicts?: { default?: string; fields?: Record<string, string> };
  erpCapture?: 'hash' | 'timestamp';
  /** trigger: install it with installCapture before the first run. */
  financeCapture?: 'hash' | 'trigger';
  financeWrite?: string[];
  financeDelete?: 'hard' | 'soft';
  batchSize?: number;
  direction?: 'both' | 'pull' | 'push';
  clockSkewSeconds?: number;
  schedule?: string;
  /** sync.jobs.customers.pollIntervalMs */
  pollIntervalMs?: number;
  /** More jobs on Customer beside `customers`: name → sources (same settings otherwise). */
  extraJobs?: Record<string, string[]>;
  /** sync.jobs.customers.reconcile.schedule */
  reconcileSchedule?: string;
  label?: string;
}

export interface World extends HubErpFinance, AppsOnConfig {
  yaml: string;
}

export const CODE_A = makeCreditCode('91110000MA01AAAA0');
export const CODE_B = makeCreditCode('91110000MA01BBBB0');
export const CODE_C = makeCreditCode('91110000MA01CCCC0');

/** Two ERP customers, each with a credit code and a phone: the smallest world to sync. */
export const ACME_AND_BETA = [
  { code: 'C001', name: 'Acme', creditCode: CODE_A, phone: '010-1' },
  { code: 'C002', name: 'Beta', creditCode: CODE_B, phone: '010-2' },
];

/** The same two with their credit codes only. */
export const ACME_AND_BETA_NO_PHONE = [
  { code: 'C001', name: 'Acme', creditCode: CODE_A },
  { code: 'C002', name: 'Beta', creditCode: CODE_B },
];

export async function createWorld(opts: WorldOptions = {}): Promise<World> {
  const label = opts.label ?? 'sync';
  const { hubDb, erpDb, finDb, erp, fin } = await hubErpFinance(label, { hub: opts.hub ?? 'sqlite', erp: opts.erp ?? 'sqlite', finance: opts.finance ?? 'sqlite' });
  await erp.schema.createTable('erp_customer', (t) => {
    addErpCustomerColumns(t);
    t.string('updated_at', 30).nullable();
  });
  await fin.schema.createTable('fin_account', (t) => {
    t.string('acct_no', 20).primary();
    // Deliberately short: a long ERP name is a constraint violation here.
    t.string('name', 40).notNullable().checkLength('<=', 40);
    t.string('credit_code', 18).nullable();
    t.string('phone', 30).nullable();
    t.decimal('credit_limit', 12, 2).nullable();
    t.integer('deleted').notNullable().defaultTo(0);
  });
  const conn = (db: TestDatabase) => JSON.stringify(db.connection);
  const conflicts = { default: opts.conflicts?.default ?? 'manual', fields: opts.conflicts?.fields ?? { creditLimit: 'source:finance' } };
  const erpChanges = opts.erpCapture === 'timestamp' ? `{ strategy: timestamp, column: updated_at, lookBackSeconds: 60 }` : `{ strategy: hash }`;
  const finDelete = opts.financeDelete === 'soft' ? `{ mode: soft, column: deleted, value: 1 }` : `{ mode: hard }`;
  const yaml = `
hub:
  dialect: ${opts.hub ?? 'sqlite'}
  connection: ${conn(hubDb)}
sources:
  erp:
    kind: erp
    dialect: ${erpDb.dialect}
    connection: ${conn(erpDb)}
  finance:
    kind: finance
    dialect: ${finDb.dialect}
    connection: ${conn(finDb)}
${TEST_ERP_CUSTOMERS}
        changes: ${erpChanges}
        write: [insert, update, delete]
${TEST_ERP_CUSTOMER_FIELDS}
      finance:
        table: fin_account
        key: [acct_no]
        filter: { deleted: 0 }
        changes: { strategy: ${opts.financeCapture ?? 'hash'} }
        delete: ${finDelete}
        write: ${JSON.stringify(opts.financeWrite ?? ['insert', 'update', 'delete'])}
        fields:
          code: acct_no
          name: name
          creditCode: credit_code
          phone: phone
          creditLimit: { column: credit_limit, type: decimal, scale: 2 }
sync:
  jobs:
    customers:
      entity: Customer
      sources: [erp, finance]
      direction: ${opts.direction ?? 'both'}
${opts.schedule ? `      schedule: "${opts.schedule}"
` : ''}${opts.pollIntervalMs ? `      pollIntervalMs: ${opts.pollIntervalMs}
` : ''}${opts.reconcileSchedule ? `      reconcile: { schedule: "${opts.reconcileSchedule}" }
` : ''}      batchSize: ${opts.batchSize ?? 500}
      clockSkewSeconds: ${opts.clockSkewSeconds ?? 5}
      conflicts: ${JSON.stringify(conflicts)}
${Object.entries(opts.extraJobs ?? {})
  .map(([job, sources]) => `    ${job}: { entity: Customer, sources: ${JSON.stringify(sources)}, direction: ${opts.direction ?? 'both'}, batchSize: ${opts.batchSize ?? 500}, conflicts: { default: ${conflicts.default} } }\n`)
  .join('')}log:
  level: silent
`;
  return {
    hubDb,
    erpDb,
    finDb,
    erp,
    fin,
    yaml,
    ...appsOnConfig(yaml, [erp, fin], [hubDb, erpDb, finDb]),
  };
}

/** Sorted plain rows of a table, decimals as normalised text so engines compare equal. */
export async function rows(k: Knex, table: string, orderBy: string): Promise<Record<string, unknown>[]> {
  const out = (await k(table).orderBy(orderBy)) as Record<string, unknown>[];
  return out.map((r) => {
    const o: Record<string, unknown> = {};
    for (const [c, v] of Object.entries(r)) {
      if (c === 'credit_limit' && v !== null) o[c] = String(Number(v));
      else o[c] = v;
    }
    return o;
  });
}

/** Both sources' customer tables as rows(): what a run that should write nothing must leave as it was. */
export async function sourceRows(world: Pick<World, 'erp' | 'fin'>): Promise<{ erp: Record<string, unknown>[]; fin: Record<string, unknown>[] }> {
  return { erp: await rows(world.erp, 'erp_customer', 'cust_code'), fin: await rows(world.fin, 'fin_account', 'acct_no') };
}

/** Live golden customers as plain values, by code. */
export async function hubCustomers(app: App): Promise<Record<string, Record<string, unknown>>> {
  const list = (await app.hub.knex('crm_customer').where('_deleted', false).orderBy('code')) as Record<string, unknown>[];
  const out: Record<string, Record<string, unknown>> = {};
  for (const r of list) {
    const rec = app.hub.fromRow('Customer', r);
    out[String(rec.values.code)] = { ...rec.values, id: rec.id };
  }
  return out;
}

export async function seedErp(erp: Knex, list: { code: string; name: string; creditCode?: string; phone?: string; city?: string; limit?: string }[]): Promise<void> {
  if (list.length === 0) return;
  await erp('erp_customer').insert(
    list.map((c) => ({
      cust_code: c.code,
      cust_name: c.name,
      credit_code: c.creditCode ?? null,
      phone: c.phone ?? null,
      city: c.city ?? null,
      credit_limit: c.limit ?? null,
      updated_at: new Date().toISOString(),
    })),
  );
}

/** What a GraphQL mutation does to a golden record: new values, version and sequence number. */
export async function editHub(app: App, code: string, values: Record<string, string | number | boolean | null>, opts: { delete?: boolean } = {}): Promise<void> {
  await app.hub.knex.transaction(async (trx) => {
    const row = (await trx('crm_customer').where({ code, _deleted: false }).first()) as Record<string, unknown>;
    const seq = await app.hub.nextSeq(trx);
    await trx('crm_customer')
      .where({ id: row.id })
      .update({ ...app.hub.toRow('Customer', values), _version: Number(row._version) + 1, _seq: seq, _updated_at: new Date().toISOString(), _deleted: opts.delete ?? false });
    for (const field of Object.keys(values)) {
      await trx('crm_provenance')
        .insert({ entity: 'Customer', gid: row.id, field, source: 'hub', changed_at: new Date().toISOString() })
        .onConflict(['entity', 'gid', 'field'])
        .merge();
    }
  });
}

/** Every row of every hub table, for "nothing changed" checks. */
export async function dumpHub(app: App): Promise<Record<string, unknown[]>> {
  const tables = ['crm_customer', 'crm_xref', 'crm_base', 'crm_provenance', 'crm_checkpoint', 'crm_conflict', 'crm_parked', 'crm_run', 'crm_audit', 'crm_history', 'crm_lock', 'crm_merge_candidate', 'crm_counter', 'crm_sync_seen', 'crm_sync_intent', 'crm_sync_tick'];
  const out: Record<string, unknown[]> = {};
  for (const t of tables) {
    if (await app.hub.knex.schema.hasTable(t)) out[t] = await app.hub.knex(t).select();
  }
  return out;
}

/** A run of `job` that stops after its first read until the test calls `release()`; `atRead` settles when it gets there. */
export function runHeldAfterRead(app: App, job: string): { atRead: Promise<void>; release: () => void; run: Promise<RunReport> } {
  let release!: () => void;
  let reached!: () => void;
  const atRead = new Promise<void>((r) => (reached = r));
  const held = new Promise<void>((r) => (release = r));
  const run = runJob(app, job, {
    faults: {
      at: async (point) => {
        if (point !== 'after-read') return;
        reached();
        await held;
      },
    },
  });
  return { atRead, release, run };
}
