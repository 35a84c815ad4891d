/**
 * What people change in the source systems between two sync runs, so the demo's second run has
 * something to show: changes that merge cleanly field by field, a conflict resolved by policy
 * (finance owns credit limits), a conflict a person must decide, and a new OA request that is
 * visible at once because approvals are read live.
 *
 * Edits set absolute values, so applying them again changes nothing (and bumps no timestamp).
 *
 * @example
 *   await runJob(app, 'customers');           // first sync: link, copy, report initial conflicts
 *   const edits = await applyDemoEdits(files);
 *   await runJob(app, 'customers');           // second sync: merges, one manual conflict
 */
import type { Knex } from 'knex';
import { openSqlite, type DemoFiles } from './seed.js';
import { isoUtc, shanghaiDateTime } from './time.js';

/** What the next sync run is expected to do with an edit. */
export type EditOutcome =
  /** Changed on one side only: taken, and pushed to the other side where that field is mapped. */
  | 'merged'
  /** Changed on both sides, the job's policy decides (creditLimit: source:finance). */
  | 'policy'
  /** Changed on both sides to different values, no policy: a manual conflict. */
  | 'conflict'
  /** Federated data: visible in GraphQL immediately, no sync involved. */
  | 'live';

export interface DemoEdit {
  system: 'erp' | 'finance' | 'oa';
  /** ERP customer code of the customer concerned. */
  erpCode: string;
  /** Its finance account, when it has one. */
  acctNo: string | null;
  customer: string;
  /** CRM field (ApprovalRequest for the OA edit). */
  field: string;
  table: string;
  column: string;
  from: string | number | null;
  to: string | number | null;
  expect: EditOutcome;
  /** One line for the console. */
  note: string;
  /** false when the value was already there (edits applied before). */
  changed: boolean;
}

/** The customers the edits touch (fixed by the seed's design, see demo/generate.ts). */
export const EDIT_TARGETS = {
  /** ERP changes the phone, finance the credit limit: both merge. */
  cleanMerge: 'C0001',
  /** Both change the phone, differently: a manual conflict. */
  phoneConflict: 'C0003',
  /** Both change the credit limit: finance wins by policy. */
  creditLimitBoth: 'C0005',
  /** ERP-only customer: a new address reaches the hub. */
  erpOnly: 'C0009',
} as const;

/** Marker of the OA request the edits submit (so it is submitted once). */
const OA_NOTE = '财务已上调信用额度，补走审批流程';

type Value = string | number | null;

interface ErpCustomer {
  cCusCode: string;
  cCusName: string;
  cCusRegCode: string | null;
  cCusPhone: string | null;
  cCusAddress: string | null;
  cCusProvince: string | null;
  cCusCity: string | null;
  cCusPPerson: string | null;
  iCusCreLine: Value;
}

interface FinCustomer {
  acct_no: string;
  tel: string | null;
  credit_limit: Value;
}

/**
 * Apply the demo edits to the seeded databases. Call it after the first sync run and run the
 * job again; `now` stamps the change-capture columns (default: the current time).
 */
export async function applyDemoEdits(files: DemoFiles, opts: { now?: Date } = {}): Promise<DemoEdit[]> {
  const now = opts.now ?? new Date();
  const erpStamp = shanghaiDateTime(now);
  const finStamp = isoUtc(now);
  const erp = openSqlite(files.erp);
  const fin = openSqlite(files.finance);
  const oa = openSqlite(files.oa);
  const edits: DemoEdit[] = [];
  try {
    const customer = async (code: string): Promise<ErpCustomer> => {
      const row = (await erp('Customer').where({ cCusCode: code }).first()) as ErpCustomer | undefined;
      if (!row) throw new Error(`demo edits: ERP customer ${code} not found in ${files.erp} (was it seeded by demo/seed.ts?)`);
      return row;
    };
    const account = async (c: ErpCustomer): Promise<FinCustomer> => {
      const row = c.cCusRegCode ? ((await fin('fin_customer').where({ credit_code: c.cCusRegCode }).first()) as FinCustomer | undefined) : undefined;
      if (!row) throw new Error(`demo edits: no finance account with the credit code of ${c.cCusCode} in ${files.finance}`);
      return row;
    };
    const area = (phone: string | null): string => (phone && phone.includes('-') ? phone.slice(0, phone.indexOf('-')) : '021');
    const name = (c: ErpCustomer) => c.cCusName.trim();

    const setErp = async (c: ErpCustomer, acctNo: string | null, field: string, column: keyof ErpCustomer, to: Value, expect: EditOutcome, note: string) => {
      const from = c[column];
      const changed = !sameValue(from, to);
      if (changed) await update(erp, 'Customer', { cCusCode: c.cCusCode }, { [column]: to, dModifyDate: erpStamp });
      edits.push({ system: 'erp', erpCode: c.cCusCode, acctNo, customer: name(c), field, table: 'Customer', column, from, to, expect, note, changed });
    };
    const setFin = async (c: ErpCustomer, a: FinCustomer, field: string, column: 'tel' | 'credit_limit', to: Value, expect: EditOutcome, note: string) => {
      const from = a[column];
      const changed = !sameValue(from, to);
      if (changed) await update(fin, 'fin_customer', { acct_no: a.acct_no }, { [column]: to, updated_at: finStamp });
      edits.push({ system: 'finance', erpCode: c.cCusCode, acctNo: a.acct_no, customer: name(c), field, table: 'fin_customer', column, from, to, expect, note, changed });
    };

    // 1. Different fields on each side: both merge and cross over.
    const x = await customer(EDIT_TARGETS.cleanMerge);
    const xa = await account(x);
    await setErp(x, xa.acct_no, 'phone', 'cCusPhone', `${area(x.cCusPhone)}-68880001`, 'merged', 'ERP changes the phone; pushed to finance');
    await setFin(x, xa, 'creditLimit', 'credit_limit', 1_888_000, 'merged', 'finance raises the credit limit; pushed to the ERP');

    // 2. The same field on both sides, no policy: a manual conflict.
    const y = await customer(EDIT_TARGETS.phoneConflict);
    const ya = await account(y);
    await setErp(y, ya.acct_no, 'phone', 'cCusPhone', `${area(y.cCusPhone)}-68880002`, 'conflict', 'ERP and finance both change the phone: manual conflict');
    await setFin(y, ya, 'phone', 'tel', `${area(y.cCusPhone)}-68880003`, 'conflict', 'ERP and finance both change the phone: manual conflict');

    // 3. The same field on both sides, with a policy: finance owns credit limits.
    const z = await customer(EDIT_TARGETS.creditLimitBoth);
    const za = await account(z);
    await setErp(z, za.acct_no, 'creditLimit', 'iCusCreLine', 2_200_000, 'policy', 'both change the credit limit: finance wins (source:finance)');
    await setFin(z, za, 'creditLimit', 'credit_limit', 2_500_000, 'policy', 'both change the credit limit: finance wins (source:finance)');

    // 4. A customer only the ERP knows moves.
    const w = await customer(EDIT_TARGETS.erpOnly);
    // Same district, new street: "江苏省南京市江宁区…" → "江苏省南京市江宁区创新大道88号…".
    const region = w.cCusProvince && w.cCusProvince !== w.cCusCity ? `${w.cCusProvince}${w.cCusCity ?? ''}` : (w.cCusCity ?? '');
    const district = /^.*?[区县]/.exec(w.cCusAddress ?? '')?.[0] ?? region;
    await setErp(w, null, 'address', 'cCusAddress', `${district}创新大道88号研发中心A座12层`, 'merged', 'ERP-only customer moves: the hub follows');

    // 5. A new OA request about customer 1, read live.
    edits.push(await submitRequest(oa, x, 1_888_000, now));
  } finally {
    await Promise.all([erp.destroy(), fin.destroy(), oa.destroy()]);
  }
  return edits;
}

async function update(db: Knex, table: string, key: Record<string, string>, values: Record<string, Value>): Promise<void> {
  await db.transaction(async (trx) => {
    const n = await trx(table).where(key).update(values);
    if (n !== 1) throw new Error(`demo edits: expected to update one ${table} row ${JSON.stringify(key)}, updated ${n}`);
  });
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === null || a === undefined || b === null || b === undefined) return a == b;
  if (typeof a === 'number' || typeof b === 'number') return Number(a) === Number(b);
  return String(a) === String(b);
}

async function submitRequest(oa: Knex, c: ErpCustomer, amount: number, now: Date): Promise<DemoEdit> {
  const existing = (await oa('formtable_main_12').where({ khbm: c.cCusCode, sqsm: OA_NOTE }).first()) as { requestid: number } | undefined;
  const base = {
    system: 'oa' as const,
    erpCode: c.cCusCode,
    acctNo: null,
    customer: c.cCusName.trim(),
    field: 'ApprovalRequest',
    table: 'workflow_requestbase + formtable_main_12',
    column: 'requestid',
    from: null,
    expect: 'live' as const,
    note: 'a new credit-limit request appears in the OA: visible at once (federated)',
  };
  if (existing) return { ...base, to: existing.requestid, changed: false };

  const creator = (await oa('HrmResource').where({ loginid: c.cCusPPerson ?? '' }).first()) as { id: number; lastname: string } | undefined;
  const hrm = creator ?? ((await oa('HrmResource').orderBy('id').first()) as { id: number; lastname: string });
  const stamp = shanghaiDateTime(now);
  const max = (await oa('workflow_requestbase').max({ m: 'requestid' }).first()) as { m: number | null } | undefined;
  const requestid = (max?.m ?? 10_230) + 1;
  const maxForm = (await oa('formtable_main_12').max({ m: 'id' }).first()) as { m: number | null } | undefined;
  await oa.transaction(async (trx) => {
    await trx('workflow_requestbase').insert({
      requestid,
      workflowid: 12,
      requestname: `信用额度调整-${c.cCusName.trim()}-${hrm.lastname}-${stamp.slice(0, 10)}`,
      currentnodetype: '1',
      status: '财务总监审批',
      creater: hrm.id,
      createdate: stamp.slice(0, 10),
      createtime: stamp.slice(11),
      lastoperatedate: stamp.slice(0, 10),
      lastoperatetime: stamp.slice(11),
      requestlevel: 0,
    });
    await trx('formtable_main_12').insert({
      id: (maxForm?.m ?? 0) + 1,
      requestid,
      khmc: c.cCusName.trim(),
      khbm: c.cCusCode,
      sqje: amount,
      sqlx: '信用额度调整',
      sqsm: OA_NOTE,
    });
  });
  return { ...base, to: requestid, changed: true };
}

/** The edits as console lines: "erp  C0001 上海宝钢… phone 021-… → 021-… (merged)". */
export function describeEdits(edits: readonly DemoEdit[]): string[] {
  return edits.map((e) => {
    const who = `${e.erpCode}${e.acctNo ? `/${e.acctNo}` : ''} ${e.customer}`;
    const what = e.system === 'oa' ? `new request ${e.to}` : `${e.field} ${String(e.from)} → ${String(e.to)}`;
    return `${e.system.padEnd(7)} ${who}: ${what} — ${e.note}`;
  });
}
