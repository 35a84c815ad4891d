/**
 * Sync benchmark: initial load and incremental runs.
 *
 *   node --import tsx bench/sync.bench.ts [maxRows] [--changes 1000] [--hub sqlite|postgres]
 *                                        [--erp postgres|mysql] [--finance postgres|mysql] [--batch 1000]
 *
 * For each table size (10,000, then maxRows when larger; default maxRows 10,000):
 * 1. raw: the same rows written to an empty finance table with the same driver's batched insert
 *    (driver.upsert, mode insert, batches of --batch): the floor any sync must pay to write them;
 * 2. initial load: the job customers (ERP → hub → finance) on the empty hub: read every ERP row,
 *    map, match identity, merge, write hub records + xref + base + provenance, insert into finance;
 *    rows/s and the ratio to the raw insert;
 * 3. quiet run: nothing changed (what a scheduled tick costs when the systems are in step);
 * 4. incremental: --changes random ERP rows edited, then one run.
 *
 * Capture: the ERP by timestamp (rows stamped a second apart, as a table built over time is), the
 * finance system by trigger + change log with origin tags, so crmlink's own writes are skipped.
 *
 * Prints one JSON object per size on stdout. Needs PostgreSQL (and MariaDB for --finance mysql)
 * reachable as the tests expect (PG_URL, MYSQL_URL).
 */
import type { Knex } from 'knex';
import { parseConfig } from '../config/load.js';
import type { Dialect } from '../config/schema.js';
import { closeApp, openApp, type App } from '../core/app.js';
import { silentLogger } from '../core/logger.js';
import { makeCreditCode } from '../identity/credit-code.js';
import { installCapture } from '../connectors/capture/index.js';
import { runJob } from '../sync/engine.js';
import type { RunReport } from '../sync/types.js';
import { createTestDatabase, fixtureKnex, type TestDatabase } from '../tests/support/databases.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const maxRows = Number(args.find((a) => /^\d+$/.test(a)) ?? '10000');
const changes = Number(flag('changes', '1000'));
const hubDialect = flag('hub', 'sqlite') as 'sqlite' | 'postgres';
const erpDialect = flag('erp', 'postgres') as Dialect;
const finDialect = flag('finance', 'postgres') as Dialect;
const batch = Number(flag('batch', '1000'));
const sizes = [...new Set([10_000, maxRows])].filter((n) => n <= maxRows).sort((a, b) => a - b);

const CODE_CHARS = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const OLD = Date.parse('2020-01-01T00:00:00.000Z');

function creditCode(i: number): string {
  let body = '';
  let n = i;
  for (let k = 0; k < 8; k++) {
    body = CODE_CHARS[n % 31] + body;
    n = Math.floor(n / 31);
  }
  return makeCreditCode(`91110000M${body}`);
}

function erpRow(i: number): Record<string, unknown> {
  return {
    cust_code: `C${String(i).padStart(8, '0')}`,
    cust_name: `Customer ${i} Trading Co.`,
    credit_code: creditCode(i),
    phone: `010-${String(i).padStart(8, '0')}`,
    city: ['BJ', 'SH', 'GZ', 'SZ'][i % 4],
    credit_limit: `${(i % 1000) * 100}.00`,
    // One row a second in the past, as a table built over time looks (not all at one instant).
    updated_at: new Date(OLD + i * 1000).toISOString(),
  };
}

function finRow(i: number): Record<string, unknown> {
  const e = erpRow(i);
  return { acct_no: e.cust_code, name: e.cust_name, credit_code: e.credit_code, phone: e.phone, credit_limit: e.credit_limit };
}

async function createTables(k: Knex, dialect: Dialect, table: string, kind: 'erp' | 'fin'): Promise<void> {
  await k.schema.createTable(table, (t) => {
    if (kind === 'erp') {
      t.string('cust_code', 20).primary();
      t.string('cust_name', 200).notNullable();
    } else {
      t.string('acct_no', 20).primary();
      t.string('name', 200).notNullable();
    }
    t.string('credit_code', 18).nullable();
    t.string('phone', 30).nullable();
    if (kind === 'erp') t.string('city', 50).nullable();
    t.decimal('credit_limit', 12, 2).nullable();
    // ISO text, maintained by a trigger: what the timestamp capture reads.
    t.string('updated_at', 30).nullable();
    t.index(['updated_at']);
  });
  const stampIso = dialect === 'postgres' ? `to_char(now() at time zone 'utc', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')` : `DATE_FORMAT(UTC_TIMESTAMP(3), '%Y-%m-%dT%H:%i:%s.%fZ')`;
  if (dialect === 'postgres') {
    await k.raw(`create or replace function ${table}_stamp() returns trigger as $$ begin if new.updated_at is null or new.updated_at = old.updated_at then new.updated_at := ${stampIso}; end if; return new; end $$ language plpgsql`);
    await k.raw(`create trigger ${table}_stamp_u before update on ${table} for each row execute function ${table}_stamp()`);
    await k.raw(
      `create or replace function ${table}_stamp_i() returns trigger as $$ begin if new.updated_at is null then new.updated_at := ${stampIso}; end if; return new; end $$ language plpgsql`,
    );
    await k.raw(`create trigger ${table}_stamp_ins before insert on ${table} for each row execute function ${table}_stamp_i()`);
  } else if (dialect === 'mysql') {
    // %f gives microseconds (6 digits): keep 3 so the text sorts like the ERP's.
    const iso = `CONCAT(DATE_FORMAT(UTC_TIMESTAMP(3), '%Y-%m-%dT%H:%i:%s.'), LPAD(FLOOR(MICROSECOND(UTC_TIMESTAMP(3)) / 1000), 3, '0'), 'Z')`;
    await k.raw(`create trigger ${table}_stamp_u before update on ${table} for each row begin if new.updated_at is null or new.updated_at = old.updated_at then set new.updated_at = ${iso}; end if; end`);
    await k.raw(`create trigger ${table}_stamp_i before insert on ${table} for each row begin if new.updated_at is null then set new.updated_at = ${iso}; end if; end`);
  }
}

async function bulkInsert(k: Knex, table: string, n: number, row: (i: number) => Record<string, unknown>): Promise<void> {
  for (let start = 0; start < n; start += 2000) {
    const part = Array.from({ length: Math.min(2000, n - start) }, (_, j) => row(start + j));
    await k(table).insert(part);
  }
}

function config(hub: TestDatabase, erp: TestDatabase, fin: TestDatabase): string {
  const c = (d: TestDatabase) => JSON.stringify(d.connection);
  return `
hub: { dialect: ${hub.dialect}, connection: ${c(hub)} }
sources:
  erp: { kind: erp, dialect: ${erp.dialect}, connection: ${c(erp)} }
  finance: { kind: finance, dialect: ${fin.dialect}, connection: ${c(fin)} }
entities:
  Customer:
    sources:
      erp:
        table: erp_customer
        key: [cust_code]
        changes: { strategy: timestamp, column: updated_at, lookBackSeconds: 5 }
        write: [insert, update]
        fields: { code: cust_code, name: cust_name, creditCode: credit_code, phone: phone, city: city, creditLimit: { column: credit_limit, type: decimal, scale: 2 } }
      finance:
        table: fin_account
        key: [acct_no]
        changes: { strategy: ${finDialect === 'postgres' || finDialect === 'mysql' ? 'trigger' : 'hash'} }
        write: [insert, update]
        fields: { code: acct_no, name: name, creditCode: credit_code, phone: phone, creditLimit: { column: credit_limit, type: decimal, scale: 2 } }
sync:
  jobs:
    customers: { entity: Customer, sources: [erp, finance], batchSize: ${batch} }
log: { level: silent }
`;
}

interface SizeResult {
  rows: number;
  hub: string;
  erp: string;
  finance: string;
  batch: number;
  raw: { seconds: number; rowsPerSecond: number };
  initialLoad: { seconds: number; rowsPerSecond: number; ratioToRaw: number; hubWritten: number; financeInserted: number; status: string; phasesMs: Record<string, number> };
  quietRun: { seconds: number; read: number; written: number; phasesMs: Record<string, number> };
  incremental: { changes: number; seconds: number; read: number; written: number; status: string; phasesMs: Record<string, number> };
  rssMiB: number;
}

async function benchSize(n: number): Promise<SizeResult> {
  const hubDb = await createTestDatabase(hubDialect, 'benchhub');
  const erpDb = await createTestDatabase(erpDialect, 'bencherp');
  const finDb = await createTestDatabase(finDialect, 'benchfin');
  const erp = fixtureKnex(erpDb);
  const fin = fixtureKnex(finDb);
  let app: App | null = null;
  try {
    await createTables(erp, erpDialect, 'erp_customer', 'erp');
    await createTables(fin, finDialect, 'fin_account', 'fin');
    await createTables(fin, finDialect, 'fin_account_raw', 'fin');
    await bulkInsert(erp, 'erp_customer', n, erpRow);
    app = await openApp(parseConfig(config(hubDb, erpDb, finDb)), { logger: silentLogger });
    // Finance: trigger capture, crmlink's own writes tagged with their origin and skipped.
    if (finDialect === 'postgres' || finDialect === 'mysql') await installCapture(app.sources.driver('finance'), app.sources.mapping('Customer', 'finance'));

    // 1. raw batched insert through the same driver
    const driver = app.sources.driver('finance');
    let t = performance.now();
    for (let start = 0; start < n; start += batch) {
      const part = Array.from({ length: Math.min(batch, n - start) }, (_, j) => finRow(start + j));
      const out = await driver.upsert(part, { table: 'fin_account_raw', key: ['acct_no'], mode: 'insert' });
      if (out.some((o) => o.status === 'error')) throw new Error('raw insert failed');
    }
    const rawSeconds = (performance.now() - t) / 1000;

    // 2. initial load
    t = performance.now();
    const initial = await runJob(app, 'customers');
    const initialSeconds = (performance.now() - t) / 1000;
    check(initial, 'initial load');

    // 3. a quiet run (settles the look-back window of the writes just made)
    await runJob(app, 'customers');
    t = performance.now();
    const quiet = await runJob(app, 'customers');
    const quietSeconds = (performance.now() - t) / 1000;

    // 4. incremental: `changes` random rows edited in the ERP
    const picked = new Set<number>();
    let seed = 42;
    while (picked.size < Math.min(changes, n)) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      picked.add(seed % n);
    }
    const codes = [...picked].map((i) => `C${String(i).padStart(8, '0')}`);
    for (let s = 0; s < codes.length; s += 500) {
      await erp('erp_customer').whereIn('cust_code', codes.slice(s, s + 500)).update({ phone: erp.raw(`concat(phone, 'x')`) });
    }
    t = performance.now();
    const inc = await runJob(app, 'customers');
    const incSeconds = (performance.now() - t) / 1000;
    check(inc, 'incremental run');

    const rawRate = n / rawSeconds;
    const loadRate = n / initialSeconds;
    return {
      rows: n,
      hub: hubDialect,
      erp: erpDialect,
      finance: finDialect,
      batch,
      raw: { seconds: round(rawSeconds), rowsPerSecond: Math.round(rawRate) },
      initialLoad: {
        seconds: round(initialSeconds),
        rowsPerSecond: Math.round(loadRate),
        ratioToRaw: round(loadRate / rawRate, 3),
        hubWritten: initial.totals.hubWritten,
        financeInserted: initial.sources.finance.inserted,
        status: initial.status,
        phasesMs: phases(initial),
      },
      quietRun: { seconds: round(quietSeconds), read: quiet.totals.read, written: quiet.totals.written, phasesMs: phases(quiet) },
      incremental: { changes: codes.length, seconds: round(incSeconds), read: inc.totals.read, written: inc.totals.written, status: inc.status, phasesMs: phases(inc) },
      rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20),
    };
  } finally {
    if (app) await closeApp(app);
    await Promise.allSettled([erp.destroy(), fin.destroy()]);
    await Promise.allSettled([hubDb.drop(), erpDb.drop(), finDb.drop()]);
  }
}

/** Where a run's time went: pull and push per source. */
function phases(r: RunReport): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, s] of Object.entries(r.sources)) {
    out[`pull:${name}`] = s.pullMs;
    out[`push:${name}`] = s.pushMs;
  }
  return out;
}

function check(r: RunReport, what: string): void {
  if (r.status !== 'ok') throw new Error(`${what}: ${r.status} ${JSON.stringify(r.error ?? r.totals)}`);
}

function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

for (const n of sizes) {
  const result = await benchSize(n);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
