/**
 * Benchmark data: a Yonyou-U8-like ERP, a receivables ledger (finance) and a Weaver-like OA, at a
 * chosen scale, bulk-loaded into PostgreSQL, MariaDB/MySQL or SQLite.
 *
 *   node --import tsx bench/data/generate.ts [--scale 10k|100k|1m|<n>] [--erp postgres] [--finance mysql]
 *        [--oa sqlite] [--no-detail] [--keep]
 *
 * Per customer i (deterministic: the same i always gives the same rows, in any table, in any run):
 * - ERP `Customer` (U8 客户档案: Chinese company name 城市 + 字号 + 行业 + 有限公司, unified social
 *   credit code with a valid check digit, phone with the city's area code, address, credit limit,
 *   salesperson, state, create/modify times), 10 `SO_SOMain` orders with 1–5 `SO_SODetails` lines
 *   each (3 on average; the order total is the sum of its lines);
 * - finance `fin_customer` (account AR0000001 …, its own spelling of the name in one case of ten)
 *   and one `ar_invoice` per order (same amount; open / partial / paid / void with a balance);
 * - OA `workflow_requestbase` + `formtable_main_12` (2 approval requests naming the customer as
 *   typed, with the ERP code in khbm for 9 of 10) and the view `v_approval` an OA administrator hands
 *   to an integration (as in demo/ddl.ts).
 *
 * Loading is bulk, never row by row: PostgreSQL COPY FROM STDIN (pg-copy-streams), MariaDB LOAD
 * DATA LOCAL INFILE from a stream (multi-row INSERTs when the server refuses LOCAL), SQLite one
 * prepared statement in transactions of 50,000 rows. Secondary indexes are built after the load.
 *
 * Also exports the row generators (so other benchmarks write the very same rows through other
 * paths) and seedHub(), which writes golden customers and their cross-references straight into a
 * hub, for read benchmarks that should not pay for an initial sync first.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import mysql from 'mysql2/promise';
import Database from 'better-sqlite3';
import { makeCreditCode } from '../../identity/credit-code.js';
import { CITIES, PRODUCTS, SALES, STREETS, SUFFIXES, TRADES, type City } from '../../demo/data/reference.js';
import { Random } from '../../demo/random.js';

export type BenchDialect = 'postgres' | 'mysql' | 'sqlite';
export type SystemName = 'erp' | 'finance' | 'oa';

export const PG_URL = process.env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const MYSQL_URL = process.env.MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/mysql';

export const SCALES: Record<string, number> = { '1k': 1_000, '10k': 10_000, '100k': 100_000, '1m': 1_000_000 };
export const ORDERS_PER_CUSTOMER = 10;
export const APPROVALS_PER_CUSTOMER = 2;
/** Order ids are (customer - 1) * 10 + j; line ids (order - 1) * MAX_LINES + k. */
export const MAX_LINES = 5;

export function parseScale(text: string): number {
  const n = SCALES[text.toLowerCase()] ?? Number(text.replace(/_/g, ''));
  if (!Number.isInteger(n) || n <= 0) throw new Error(`scale must be 10k, 100k, 1m or a positive integer, got "${text}"`);
  return n;
}

// ---------------------------------------------------------------------------------- rows

/** The demo's mulberry32 seeded from a scrambled integer: one small generator per customer / order. */
class Rng extends Random {
  constructor(seed: number) {
    super(Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ 0xc2b2ae35);
  }
}

const CITY_LIST: readonly City[] = Object.values(CITIES);
/** Characters of Chinese trade names (字号): 60³ three-character names, so a million customers keep distinct names. */
const BRAND_CHARS = [...'华信恒通金源天宇鑫达博远盛世宏图瑞丰嘉禾永泰中鼎海纳众诚正元新锐东方立德润长九洲万和明兴业宝佳聚能安启航广晟凯隆鸿泰誉'];
const SUFFIX_BAG: string[] = SUFFIXES.flatMap(([s, w]) => Array.from({ length: w }, () => s));
const CREDIT_CHARS = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const STATES = ['0', '1', '1', '2', '2', '2', '3', '3', '3', '4'];
const INVOICE_STATUS = ['paid', 'paid', 'paid', 'paid', 'open', 'open', 'partial', 'partial', 'void', 'paid'];
const WORKFLOWS = [
  { id: 1, name: '客户信用额度申请', formid: 12 },
  { id: 2, name: '特价审批', formid: 12 },
  { id: 3, name: '合同审批', formid: 12 },
];
const DAY = 86_400_000;
/** The data's "now": rows are stamped over the five years before it. */
export const AS_OF = Date.parse('2025-06-30T00:00:00Z');

const pad = (n: number, w: number) => String(n).padStart(w, '0');

/** Three characters of the trade name, distinct for i < 216,000 and cycling after that. */
function brandOf(i: number): string {
  const b = BRAND_CHARS.length;
  let n = i % (b * b * b);
  let out = '';
  for (let k = 0; k < 3; k++) {
    out = BRAND_CHARS[n % b] + out;
    n = Math.floor(n / b);
  }
  return out;
}

export const customerCode = (i: number) => `C${pad(i, 7)}`;
export const accountNo = (i: number) => `AR${pad(i, 7)}`;
export const orderId = (i: number, j: number) => (i - 1) * ORDERS_PER_CUSTOMER + j;

/** ISO without zone, seconds precision: how U8 stores local times (Asia/Shanghai). */
function localStamp(ms: number): string {
  return new Date(ms + 8 * 3600_000).toISOString().slice(0, 19).replace('T', ' ');
}

export interface CustomerFacts {
  i: number;
  code: string;
  name: string;
  /** The same company as finance often types it: the region moved into brackets. */
  bracketed: string;
  shortName: string;
  creditCode: string;
  phone: string;
  email: string;
  address: string;
  city: string;
  province: string;
  industry: string;
  creditLimit: string;
  salesperson: string;
  team: string;
  state: string;
  createdAt: number;
  modifiedAt: number;
}

/** Everything about customer i (1-based) that more than one system repeats. */
export function customer(i: number): CustomerFacts {
  const r = new Rng(i);
  const city = r.pick(CITY_LIST);
  const [tradeWord, , industry] = r.pick(TRADES);
  // Trade name from i itself (distinct); the order of the characters mixed by the city so that
  // neighbouring codes do not read alike.
  const brand = brandOf(i * 7919 + 13);
  // Past 216,000 customers the trade names cycle: a 第N prefix keeps the names distinct.
  const branch = i >= 216_000 ? `第${Math.floor(i / 216_000) + 1}` : '';
  const suffix = r.pick(SUFFIX_BAG);
  const name = `${city.name}${brand}${tradeWord}${branch}${suffix}`;
  const bracketed = `${brand}${tradeWord}${branch}（${city.name}）${suffix}`;
  const district = r.pick(city.districts);
  let body = '';
  let n = i;
  for (let k = 0; k < 9; k++) {
    body = CREDIT_CHARS[n % 31] + body;
    n = Math.floor(n / 31);
  }
  const sales = r.pick(SALES);
  const createdAt = AS_OF - r.int(30, 5 * 365) * DAY - r.int(0, DAY / 1000) * 1000;
  return {
    i,
    code: customerCode(i),
    name,
    bracketed,
    shortName: `${brand}${tradeWord}`,
    creditCode: makeCreditCode(`91${district[1]}${body}`),
    phone: `${city.area}-${pad(r.int(20_000_000, 89_999_999), 8)}`,
    email: `c${i}@${['163.com', 'qq.com', 'sina.com', 'example.com.cn'][i % 4]}`,
    address: `${city.full}${district[0]}${r.pick(STREETS)}${r.int(1, 999)}号`,
    city: city.full,
    province: city.province,
    industry,
    creditLimit: `${r.int(1, 200) * 10_000}.00`,
    salesperson: sales.id,
    team: sales.team,
    state: r.next() < 0.95 ? '1' : '0',
    createdAt,
    // Modified at some second between creation and the day before AS_OF: a table built over years,
    // not at one instant (rows sharing one stamp would all fall in every run's look-back window).
    modifiedAt: createdAt + Math.floor((r.next() * (AS_OF - DAY - createdAt)) / 1000) * 1000,
  };
}

export interface OrderFacts {
  id: number;
  code: string;
  date: number;
  state: string;
  total: string;
  lines: { autoId: number; rowNo: number; product: string; productName: string; qty: string; price: string; sum: string }[];
}

/** Order j (1…10) of customer i, with its lines. */
export function order(i: number, j: number, c: CustomerFacts = customer(i)): OrderFacts {
  const id = orderId(i, j);
  const r = new Rng(id * 31 + 7);
  const n = r.int(1, MAX_LINES);
  let cents = 0;
  const lines: OrderFacts['lines'] = [];
  for (let k = 1; k <= n; k++) {
    const p = r.pick(PRODUCTS);
    const qty = r.int(1, 20);
    const priceCents = Math.round(Number(p.price) * 100 * (0.85 + r.next() * 0.2));
    const sum = qty * priceCents;
    cents += sum;
    lines.push({ autoId: (id - 1) * MAX_LINES + k, rowNo: k, product: p.code, productName: p.name, qty: `${qty}.000000`, price: (priceCents / 100).toFixed(6), sum: (sum / 100).toFixed(2) });
  }
  const date = c.createdAt + Math.floor(((AS_OF - c.createdAt) * j) / (ORDERS_PER_CUSTOMER + 1));
  return { id, code: `SO${pad(id, 9)}`, date, state: r.pick(STATES), total: (cents / 100).toFixed(2), lines };
}

// ------------------------------------------------------------------------------ tables

type ColType = `varchar(${number})` | `char(${number})` | `decimal(${number},${number})` | 'integer' | 'bigint' | 'date' | 'datetime' | 'text';
interface Col {
  name: string;
  type: ColType;
  notNull?: boolean;
}
export interface TableDef {
  name: string;
  columns: Col[];
  key: string[];
  indexes: string[][];
  /** Rows in column order, for customers from…to (inclusive). */
  rows(from: number, to: number): Generator<unknown[]>;
  detail: boolean;
}

const col = (name: string, type: ColType, notNull = false): Col => ({ name, type, notNull });

export function tables(system: SystemName): TableDef[] {
  switch (system) {
    case 'erp':
      return [
        {
          name: 'Customer',
          detail: false,
          key: ['cCusCode'],
          indexes: [['dModifyDate', 'cCusCode'], ['cCusRegCode']],
          columns: [
            col('cCusCode', 'varchar(20)', true),
            col('cCusName', 'varchar(98)', true),
            col('cCusAbbName', 'varchar(60)', true),
            col('cCusRegCode', 'varchar(50)'),
            col('cCusPhone', 'varchar(100)'),
            col('cCusEmail', 'varchar(100)'),
            col('cCusAddress', 'varchar(255)'),
            col('cCusProvince', 'varchar(60)'),
            col('cCusCity', 'varchar(60)'),
            col('cTrade', 'varchar(60)'),
            col('iCusCreLine', 'decimal(18,2)'),
            col('cCusPPerson', 'varchar(20)'),
            col('cCusDepart', 'varchar(12)'),
            col('cCusState', 'char(1)', true),
            col('dCusCreateDatetime', 'datetime'),
            col('dModifyDate', 'datetime', true),
          ],
          *rows(from, to) {
            for (let i = from; i <= to; i++) {
              const c = customer(i);
              yield [c.code, c.name, c.shortName, c.creditCode, c.phone, c.email, c.address, c.province, c.city, c.industry, c.creditLimit, c.salesperson, c.team, c.state, localStamp(c.createdAt), localStamp(c.modifiedAt)];
            }
          },
        },
        {
          name: 'SO_SOMain',
          detail: true,
          key: ['ID'],
          indexes: [['cCusCode'], ['dModifyDate', 'ID'], ['cState', 'dDate']],
          columns: [
            col('ID', 'integer', true),
            col('cSOCode', 'varchar(30)', true),
            col('dDate', 'datetime', true),
            col('cCusCode', 'varchar(20)', true),
            col('cState', 'char(1)', true),
            col('cPersonCode', 'varchar(20)'),
            col('cDepCode', 'varchar(12)'),
            col('cexch_name', 'varchar(8)', true),
            col('iMoney', 'decimal(18,2)', true),
            col('cMaker', 'varchar(20)'),
            col('cMemo', 'varchar(255)'),
            col('dModifyDate', 'datetime', true),
          ],
          *rows(from, to) {
            for (let i = from; i <= to; i++) {
              const c = customer(i);
              for (let j = 1; j <= ORDERS_PER_CUSTOMER; j++) {
                const o = order(i, j, c);
                yield [o.id, o.code, localStamp(o.date), c.code, o.state, c.salesperson, c.team, '人民币', o.total, c.salesperson, j === 1 ? '首单' : null, localStamp(o.date + DAY)];
              }
            }
          },
        },
        {
          name: 'SO_SODetails',
          detail: true,
          key: ['AutoID'],
          indexes: [['ID', 'iRowNo']],
          columns: [
            col('AutoID', 'integer', true),
            col('ID', 'integer', true),
            col('cSOCode', 'varchar(30)', true),
            col('iSOsID', 'integer', true),
            col('iRowNo', 'integer', true),
            col('cInvCode', 'varchar(60)', true),
            col('cInvName', 'varchar(255)'),
            col('iQuantity', 'decimal(20,6)', true),
            col('iTaxUnitPrice', 'decimal(20,6)', true),
            col('iSum', 'decimal(18,2)', true),
          ],
          *rows(from, to) {
            for (let i = from; i <= to; i++) {
              const c = customer(i);
              for (let j = 1; j <= ORDERS_PER_CUSTOMER; j++) {
                const o = order(i, j, c);
                for (const l of o.lines) yield [l.autoId, o.id, o.code, l.autoId, l.rowNo, l.product, l.productName, l.qty, l.price, l.sum];
              }
            }
          },
        },
      ];
    case 'finance':
      return [
        {
          name: 'fin_customer',
          detail: false,
          key: ['acct_no'],
          indexes: [['updated_at', 'acct_no'], ['credit_code']],
          columns: [
            col('acct_no', 'varchar(16)', true),
            col('cust_name', 'varchar(200)', true),
            col('credit_code', 'varchar(18)'),
            col('tel', 'varchar(40)'),
            col('credit_limit', 'decimal(18,2)'),
            col('owner', 'varchar(20)'),
            col('updated_at', 'datetime', true),
          ],
          *rows(from, to) {
            for (let i = from; i <= to; i++) {
              const c = customer(i);
              // One in ten typed differently: the region in brackets, as finance prints it on invoices.
              const name = i % 10 === 1 ? c.bracketed : c.name;
              yield [accountNo(i), name, c.creditCode, c.phone.replace('-', ''), c.creditLimit, i % 2 ? 'f_sun' : 'f_zhou', isoStamp(c.modifiedAt)];
            }
          },
        },
        {
          name: 'ar_invoice',
          detail: true,
          key: ['inv_no'],
          indexes: [['acct_no'], ['status', 'due_date']],
          columns: [
            col('inv_no', 'varchar(20)', true),
            col('acct_no', 'varchar(16)', true),
            col('so_no', 'varchar(30)'),
            col('inv_date', 'date', true),
            col('due_date', 'date', true),
            col('currency', 'char(3)', true),
            col('amount', 'decimal(18,2)', true),
            col('paid', 'decimal(18,2)', true),
            col('balance', 'decimal(18,2)', true),
            col('status', 'varchar(10)', true),
            col('updated_at', 'datetime', true),
          ],
          *rows(from, to) {
            for (let i = from; i <= to; i++) {
              const c = customer(i);
              for (let j = 1; j <= ORDERS_PER_CUSTOMER; j++) {
                const o = order(i, j, c);
                const status = INVOICE_STATUS[(o.id * 7) % INVOICE_STATUS.length];
                const amountCents = Math.round(Number(o.total) * 100);
                const paidCents = status === 'paid' ? amountCents : status === 'partial' ? Math.floor(amountCents / 2) : 0;
                const balance = status === 'void' ? 0 : amountCents - paidCents;
                const invDate = o.date + 3 * DAY;
                yield [`INV${pad(o.id, 9)}`, accountNo(i), o.code, dateOf(invDate), dateOf(invDate + 30 * DAY), 'CNY', (amountCents / 100).toFixed(2), (paidCents / 100).toFixed(2), (balance / 100).toFixed(2), status, isoStamp(invDate)];
              }
            }
          },
        },
      ];
    case 'oa':
      return [
        {
          name: 'workflow_requestbase',
          detail: true,
          key: ['requestid'],
          indexes: [],
          columns: [
            col('requestid', 'integer', true),
            col('workflowid', 'integer', true),
            col('requestname', 'varchar(400)', true),
            col('currentnodetype', 'char(1)', true),
            col('status', 'varchar(60)'),
            col('creater', 'integer', true),
            col('createdate', 'char(10)', true),
            col('createtime', 'char(8)', true),
            col('lastoperatedate', 'char(10)'),
            col('lastoperatetime', 'char(8)'),
            col('requestlevel', 'integer', true),
          ],
          *rows(from, to) {
            for (let i = from; i <= to; i++) {
              const c = customer(i);
              for (let k = 1; k <= APPROVALS_PER_CUSTOMER; k++) {
                const id = (i - 1) * APPROVALS_PER_CUSTOMER + k;
                const r = new Rng(id * 13 + 5);
                const wf = r.pick(WORKFLOWS);
                const node = r.pick(['0', '1', '2', '3', '3', '3']);
                const status = node === '3' ? '归档' : r.next() < 0.2 ? r.pick(['退回', '撤回']) : '部门经理审批';
                const created = c.createdAt + r.int(1, 300) * DAY;
                const at = localStamp(created);
                const done = node === '3' || status === '退回' || status === '撤回' ? localStamp(created + r.int(1, 10) * DAY) : null;
                const creater = SALES.find((s) => s.id === c.salesperson)?.hrmId ?? 101;
                yield [id, wf.id, `${wf.name}-${c.shortName}-${pad(id, 8)}`, node, status, creater, at.slice(0, 10), at.slice(11), done?.slice(0, 10) ?? null, done?.slice(11) ?? null, 0];
              }
            }
          },
        },
        {
          name: 'formtable_main_12',
          detail: true,
          key: ['id'],
          indexes: [['requestid'], ['khbm']],
          columns: [
            col('id', 'integer', true),
            col('requestid', 'integer', true),
            col('khmc', 'varchar(200)'),
            col('khbm', 'varchar(50)'),
            col('sqje', 'decimal(15,2)'),
            col('sqlx', 'varchar(50)'),
            col('sqsm', 'varchar(1000)'),
          ],
          *rows(from, to) {
            for (let i = from; i <= to; i++) {
              const c = customer(i);
              for (let k = 1; k <= APPROVALS_PER_CUSTOMER; k++) {
                const id = (i - 1) * APPROVALS_PER_CUSTOMER + k;
                const r = new Rng(id * 17 + 3);
                // The ERP code is typed in nine times in ten; else only the name (as people do).
                yield [id, id, c.name, r.next() < 0.9 ? c.code : null, `${r.int(1, 500) * 1000}.00`, r.pick(['额度调整', '特价', '新签合同']), `${c.shortName}申请，请审批。`];
              }
            }
          },
        },
      ];
  }
}

function isoStamp(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}
function dateOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Small tables loaded whole at every scale: products, people, workflows. */
function referenceTables(system: SystemName): { name: string; columns: Col[]; key: string[]; rows: unknown[][] }[] {
  switch (system) {
    case 'erp':
      return [
        {
          name: 'Inventory',
          key: ['cInvCode'],
          columns: [col('cInvCode', 'varchar(60)', true), col('cInvName', 'varchar(255)', true), col('cInvStd', 'varchar(255)'), col('cInvCCode', 'varchar(12)'), col('cComUnitCode', 'varchar(35)'), col('iInvSPrice', 'decimal(18,4)')],
          rows: PRODUCTS.map((p) => [p.code, p.name, p.spec, p.category, p.unit, p.price]),
        },
      ];
    case 'finance':
      return [];
    case 'oa':
      return [
        {
          name: 'HrmResource',
          key: ['id'],
          columns: [col('id', 'integer', true), col('loginid', 'varchar(60)'), col('lastname', 'varchar(60)'), col('departmentid', 'varchar(20)')],
          rows: SALES.map((s) => [s.hrmId, s.id, s.name, s.team]),
        },
        {
          name: 'workflow_base',
          key: ['id'],
          columns: [col('id', 'integer', true), col('workflowname', 'varchar(200)', true), col('formid', 'integer', true), col('isvalid', 'char(1)', true)],
          rows: WORKFLOWS.map((w) => [w.id, w.name, w.formid, '1']),
        },
      ];
  }
}

/**
 * The OA's v_approval (demo/ddl.ts), with one difference: khbm is passed through as it is (NULL
 * when not typed) instead of NULLIF(TRIM(khbm), ''), so the per-customer lookup can use the index
 * on formtable_main_12.khbm; over an expression SQLite scans the whole form table on every
 * request (~100–190 ms at 100k customers, on both sides of the customer-360 comparison).
 */
function approvalView(d: BenchDialect, q: (s: string) => string): string {
  const cat = (a: string, b: string) => (d === 'mysql' ? `CONCAT(${a}, ' ', ${b})` : `${a} || ' ' || ${b}`);
  return `CREATE VIEW ${q('v_approval')} AS
    SELECT r.requestid AS requestid, r.requestname AS requestname, b.workflowname AS workflowname, f.sqlx AS sqlx,
           CASE WHEN r.currentnodetype = '3' THEN '归档' WHEN r.status IN ('退回', '撤回') THEN r.status ELSE '审批中' END AS flow_state,
           h.loginid AS creater_login,
           ${cat('r.createdate', 'r.createtime')} AS created_at,
           CASE WHEN r.currentnodetype = '3' OR r.status IN ('退回', '撤回') THEN ${cat('r.lastoperatedate', 'r.lastoperatetime')} END AS decided_at,
           f.khbm AS khbm, f.khmc AS khmc, f.sqje AS sqje
      FROM ${q('workflow_requestbase')} r
      JOIN ${q('formtable_main_12')} f ON f.requestid = r.requestid
      JOIN ${q('workflow_base')} b ON b.id = r.workflowid
      LEFT JOIN ${q('HrmResource')} h ON h.id = r.creater`;
}

// ------------------------------------------------------------------------------ loaders

export interface BenchDatabase {
  dialect: BenchDialect;
  /** Database name (sqlite: file path). */
  database: string;
  /** As a crmlink config holds it. */
  connection: Record<string, unknown>;
  drop(): Promise<void>;
}

/** A fresh, uniquely named database (a temporary file for SQLite). */
export async function createDatabase(dialect: BenchDialect, label: string): Promise<BenchDatabase> {
  const name = `crmlink_bench_${label}_${randomBytes(3).toString('hex')}`.toLowerCase();
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'crmlink-bench-'));
    const filename = join(dir, `${name}.db`);
    return { dialect, database: filename, connection: { filename }, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const url = new URL(dialect === 'postgres' ? PG_URL : MYSQL_URL);
  const connection = { host: url.hostname, port: Number(url.port) || (dialect === 'postgres' ? 5432 : 3306), user: decodeURIComponent(url.username), ...(url.password ? { password: decodeURIComponent(url.password) } : {}), database: name };
  const admin = async (sql: string) => {
    if (dialect === 'postgres') {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      try {
        await c.query(sql);
      } finally {
        await c.end();
      }
    } else {
      const c = await mysql.createConnection(MYSQL_URL);
      try {
        await c.query(sql);
      } finally {
        await c.end();
      }
    }
  };
  await admin(dialect === 'postgres' ? `CREATE DATABASE "${name}"` : `CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  return { dialect, database: name, connection, drop: () => admin(dialect === 'postgres' ? `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)` : `DROP DATABASE IF EXISTS \`${name}\``) };
}

function sqlType(d: BenchDialect, t: ColType): string {
  if (d === 'postgres') return t === 'datetime' ? 'timestamp(0)' : t.replace('decimal', 'numeric');
  if (d === 'mysql') return t === 'datetime' ? 'datetime' : t === 'integer' ? 'int' : t;
  return t;
}

const quoter = (d: BenchDialect) => (s: string) => (d === 'mysql' ? `\`${s}\`` : `"${s}"`);

function createTableSql(d: BenchDialect, t: { name: string; columns: Col[]; key: string[] }): string {
  const q = quoter(d);
  const cols = t.columns.map((c) => `${q(c.name)} ${sqlType(d, c.type)}${c.notNull ? ' NOT NULL' : ''}`);
  return `CREATE TABLE ${q(t.name)} (${cols.join(', ')}, PRIMARY KEY (${t.key.map(q).join(', ')}))`;
}

function indexSql(d: BenchDialect, table: string, columns: string[]): string {
  const q = quoter(d);
  return `CREATE INDEX ${q(`ix_${table}_${columns.join('_')}`)} ON ${q(table)} (${columns.map(q).join(', ')})`;
}

/** Text-format COPY / LOAD DATA field: \N for NULL, backslash escapes for \, tab, newline. */
function field(v: unknown): string {
  if (v === null || v === undefined) return '\\N';
  const s = String(v);
  return /[\\\t\n\r]/.test(s) ? s.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r') : s;
}

/** Rows as tab-separated text in chunks of ~256 KB (one line per row would be one stream write each). */
export function* tsvChunks(rows: Iterable<unknown[]>): Generator<string> {
  let buf = '';
  for (const r of rows) {
    buf += r.map(field).join('\t') + '\n';
    if (buf.length >= 1 << 18) {
      yield buf;
      buf = '';
    }
  }
  if (buf) yield buf;
}

/** One open connection to a bench database that can run DDL and bulk-load rows. */
export interface BulkLoader {
  exec(sql: string): Promise<void>;
  load(table: string, columns: string[], rows: Iterable<unknown[]>): Promise<number>;
  close(): Promise<void>;
}

export async function openLoader(db: BenchDatabase): Promise<BulkLoader> {
  const q = quoter(db.dialect);
  if (db.dialect === 'postgres') {
    const c = new pg.Client({ ...(db.connection as pg.ClientConfig) });
    await c.connect();
    return {
      exec: async (sql) => void (await c.query(sql)),
      load: async (table, columns, rows) => {
        let n = 0;
        const counted = (function* () {
          for (const r of rows) {
            n++;
            yield r;
          }
        })();
        const stream = c.query(copyFrom(`COPY ${q(table)} (${columns.map(q).join(', ')}) FROM STDIN`));
        await pipeline(Readable.from(tsvChunks(counted)), stream);
        return n;
      },
      close: () => c.end(),
    };
  }
  if (db.dialect === 'mysql') {
    const c = await mysql.createConnection({ ...(db.connection as mysql.ConnectionOptions), charset: 'utf8mb4' });
    let localRefused = false;
    return {
      exec: async (sql) => void (await c.query(sql)),
      load: async (table, columns, rows) => {
        let n = 0;
        const it = (function* () {
          for (const r of rows) {
            n++;
            yield r;
          }
        })();
        if (!localRefused) {
          try {
            await c.query({
              sql: `LOAD DATA LOCAL INFILE 'stream' INTO TABLE ${q(table)} CHARACTER SET utf8mb4 FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' (${columns.map(q).join(', ')})`,
              infileStreamFactory: () => Readable.from((function* () {
                for (const chunk of tsvChunks(it)) yield Buffer.from(chunk);
              })()),
            } as mysql.QueryOptions);
            return n;
          } catch (err) {
            // Server or client refuses LOCAL: fall back to multi-row INSERTs (nothing was loaded).
            if (n > 0 || !/LOCAL|local_infile|3948|1148/i.test(String((err as Error).message))) throw err;
            localRefused = true;
          }
        }
        const head = `INSERT INTO ${q(table)} (${columns.map(q).join(', ')}) VALUES `;
        let batch: unknown[][] = [];
        const flush = async () => {
          if (batch.length === 0) return;
          await c.query(head + batch.map(() => `(${columns.map(() => '?').join(',')})`).join(','), batch.flat());
          batch = [];
        };
        for (const r of it) {
          batch.push(r);
          if (batch.length >= 2000) await flush();
        }
        await flush();
        return n;
      },
      close: () => c.end(),
    };
  }
  const file = String(db.connection.filename);
  const s = new Database(file);
  s.pragma('journal_mode = WAL');
  s.pragma('synchronous = OFF');
  return {
    exec: async (sql) => void s.exec(sql),
    load: async (table, columns, rows) => {
      const stmt = s.prepare(`INSERT INTO ${q(table)} (${columns.map(q).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`);
      let n = 0;
      const run = s.transaction((part: unknown[][]) => {
        for (const r of part) stmt.run(r);
      });
      let part: unknown[][] = [];
      for (const r of rows) {
        part.push(r);
        n++;
        if (part.length >= 50_000) {
          run(part);
          part = [];
        }
      }
      if (part.length) run(part);
      return n;
    },
    close: async () => {
      s.pragma('synchronous = NORMAL');
      s.close();
    },
  };
}

export interface LoadReport {
  system: SystemName;
  dialect: BenchDialect;
  database: string;
  tables: Record<string, { rows: number; seconds: number; rowsPerSecond: number }>;
  indexSeconds: number;
  seconds: number;
}

/**
 * Create one system's tables in `db` and bulk-load customers 1…n. detail: false loads only the
 * customer masters (sync benchmarks), true also orders, lines, invoices and approvals.
 */
export async function loadSystem(system: SystemName, db: BenchDatabase, n: number, opts: { detail?: boolean } = {}): Promise<LoadReport> {
  const started = performance.now();
  const loader = await openLoader(db);
  const q = quoter(db.dialect);
  const report: LoadReport = { system, dialect: db.dialect, database: db.database, tables: {}, indexSeconds: 0, seconds: 0 };
  try {
    for (const t of referenceTables(system)) {
      await loader.exec(createTableSql(db.dialect, t));
      await loader.load(t.name, t.columns.map((c) => c.name), t.rows);
    }
    const defs = tables(system).filter((t) => opts.detail !== false || !t.detail);
    for (const t of defs) {
      await loader.exec(createTableSql(db.dialect, t));
      const t0 = performance.now();
      const rows = await loader.load(t.name, t.columns.map((c) => c.name), t.rows(1, n));
      const seconds = (performance.now() - t0) / 1000;
      report.tables[t.name] = { rows, seconds: round(seconds), rowsPerSecond: Math.round(rows / seconds) };
    }
    const t1 = performance.now();
    for (const t of defs) for (const ix of t.indexes) await loader.exec(indexSql(db.dialect, t.name, ix));
    if (system === 'oa' && defs.some((t) => t.name === 'formtable_main_12')) await loader.exec(approvalView(db.dialect, q));
    if (db.dialect === 'postgres') await loader.exec('ANALYZE');
    else if (db.dialect === 'mysql') for (const t of defs) await loader.exec(`ANALYZE TABLE ${q(t.name)}`);
    else await loader.exec('ANALYZE');
    report.indexSeconds = round((performance.now() - t1) / 1000);
  } finally {
    await loader.close();
  }
  report.seconds = round((performance.now() - started) / 1000);
  return report;
}

// ------------------------------------------------------------------------------ hub

/**
 * Golden customers 1…n and their cross-references (ERP code, finance account, OA's ERP code)
 * written straight into a migrated hub: what the initial sync would have left, without paying for it.
 */
export async function seedHub(hub: BenchDatabase, n: number, sources: { erp?: string; finance?: string; oa?: string } = { erp: 'erp', finance: 'finance', oa: 'oa' }): Promise<number> {
  const now = new Date(AS_OF).toISOString();
  const customerCols = ['id', 'code', 'name', 'shortName', 'creditCode', 'phone', 'email', 'address', 'city', 'province', 'industry', 'status', 'creditLimit', 'ownerId', 'ownerTeam', 'createdAt', 'updatedAt', '_version', '_seq', '_updated_at', '_deleted'];
  const xrefCols = ['entity', 'source', 'source_key', 'gid', 'rule', 'linked_at'];
  const gid = (i: number) => `cus_${pad(i, 9)}`;
  const customers = function* () {
    for (let i = 1; i <= n; i++) {
      const c = customer(i);
      const t = new Date(c.modifiedAt).toISOString();
      yield [gid(i), c.code, c.name, c.shortName, c.creditCode, c.phone, c.email, c.address, c.city, c.province, c.industry, c.state === '1' ? 'ACTIVE' : 'INACTIVE', c.creditLimit, c.salesperson, c.team, new Date(c.createdAt).toISOString(), t, 1, i, now, hub.dialect === 'postgres' ? 'f' : 0];
    }
  };
  const xrefs = function* () {
    for (let i = 1; i <= n; i++) {
      if (sources.erp) yield ['Customer', sources.erp, customerCode(i), gid(i), 'creditCode', now];
      if (sources.finance) yield ['Customer', sources.finance, accountNo(i), gid(i), 'creditCode', now];
      if (sources.oa) yield ['Customer', sources.oa, customerCode(i), gid(i), 'name', now];
    }
  };
  const loader = await openLoader(hub);
  try {
    await loader.load('crm_customer', customerCols, customers());
    await loader.load('crm_xref', xrefCols, xrefs());
    await loader.exec(hub.dialect === 'postgres' ? `INSERT INTO crm_counter (name, value) VALUES ('seq', ${n}) ON CONFLICT (name) DO UPDATE SET value = ${n}` : `INSERT OR REPLACE INTO crm_counter (name, value) VALUES ('seq', ${n})`);
    await loader.exec('ANALYZE');
  } finally {
    await loader.close();
  }
  return n;
}

export const hubGid = (i: number) => `cus_${pad(i, 9)}`;

function round(x: number, d = 2): number {
  return Math.round(x * 10 ** d) / 10 ** d;
}

// ------------------------------------------------------------------------------ CLI

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const flag = (name: string, fallback: string) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
  };
  const n = parseScale(flag('scale', '10k'));
  const detail = !args.includes('--no-detail');
  const keep = args.includes('--keep');
  const targets: [SystemName, BenchDialect][] = [
    ['erp', flag('erp', 'postgres') as BenchDialect],
    ['finance', flag('finance', 'mysql') as BenchDialect],
    ['oa', flag('oa', 'sqlite') as BenchDialect],
  ];
  const out: LoadReport[] = [];
  const dbs: BenchDatabase[] = [];
  try {
    for (const [system, dialect] of targets) {
      const db = await createDatabase(dialect, system);
      dbs.push(db);
      const r = await loadSystem(system, db, n, { detail });
      out.push(r);
      process.stderr.write(`${system} (${dialect}) ${r.seconds}s: ${Object.entries(r.tables).map(([t, x]) => `${t} ${x.rows} rows ${x.rowsPerSecond}/s`).join(', ')}\n`);
    }
    process.stdout.write(`${JSON.stringify({ customers: n, detail, kept: keep, systems: out }, null, 2)}\n`);
  } finally {
    if (!keep) await Promise.allSettled(dbs.map((d) => d.drop()));
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
