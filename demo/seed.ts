/**
 * Writing the demo systems to disk: three SQLite databases (ERP, finance, OA) created through knex
 * + better-sqlite3. Each database is built in a temporary file (batched inserts inside one
 * transaction) and renamed into place, so a crash never leaves a half-seeded demo behind.
 *
 * @example
 *   const { created, files } = await seedDemo('examples/demo');
 *   // files.erp === 'examples/demo/erp.db' (absolute)
 */
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import knexFactory, { type Knex } from 'knex';
import { ERP_DDL, FINANCE_DDL, OA_DDL } from './ddl.js';
import { DEFAULT_CUSTOMERS, DEFAULT_SEED, generateDemoData, type DemoPlan, type SeedRow } from './generate.js';
import { generateSurveys, surveysFile, writeSurveyWorkbook } from './surveys.js';

export interface DemoFiles {
  erp: string;
  finance: string;
  oa: string;
}

export interface SeedOptions {
  /** ERP customers to create (default 40, 10 … 100000). */
  customers?: number;
  /** Re-create the databases even if they exist. */
  force?: boolean;
  /** PRNG seed (default: the documented demo). */
  seed?: string;
  /**
   * Delete `hub.db` in the same directory when the sources are (re)created, because its
   * cross-references, base snapshots and checkpoints describe the old data. Default true.
   */
  resetHub?: boolean;
}

export interface SeedResult {
  /** false when all three databases already existed (and `force` was not set). */
  created: boolean;
  /** Absolute paths of the three databases. */
  files: DemoFiles;
  /** Rows per table, when created. */
  counts?: Record<string, number>;
  /** What was seeded where (links, ERP-only and finance-only customers), when created. */
  plan?: DemoPlan;
}

export const DEMO_FILE_NAMES = { erp: 'erp.db', finance: 'finance.db', oa: 'oa.db' } as const;
export const HUB_FILE_NAME = 'hub.db';
/** Written next to the databases: how they were seeded. */
export const SEED_INFO_FILE = 'demo-seed.json';

export function demoFiles(dir: string): DemoFiles {
  const abs = resolve(dir);
  return {
    erp: join(abs, DEMO_FILE_NAMES.erp),
    finance: join(abs, DEMO_FILE_NAMES.finance),
    oa: join(abs, DEMO_FILE_NAMES.oa),
  };
}

/** True when all three demo databases exist in `dir`. */
export function demoExists(dir: string): boolean {
  const files = demoFiles(dir);
  return existsSync(files.erp) && existsSync(files.finance) && existsSync(files.oa);
}

/** Create the demo databases in `dir` unless they are already there (or `force`). */
export async function seedDemo(dir: string, opts: SeedOptions = {}): Promise<SeedResult> {
  const files = demoFiles(dir);
  if (!opts.force && demoExists(dir)) {
    // A demo seeded before the survey workbook existed gets one for the customers its ERP holds.
    if (!existsSync(surveysFile(dir))) await writeSurveyWorkbook(surveysFile(dir), generateSurveys(await erpCustomers(files.erp), opts.seed ?? DEFAULT_SEED));
    return { created: false, files };
  }

  const customers = opts.customers ?? DEFAULT_CUSTOMERS;
  const seed = opts.seed ?? DEFAULT_SEED;
  const data = generateDemoData({ customers, seed });
  mkdirSync(resolve(dir), { recursive: true });

  const tag = `.seeding-${process.pid}-${Date.now()}`;
  const temp: DemoFiles = { erp: files.erp + tag, finance: files.finance + tag, oa: files.oa + tag };
  const counts: Record<string, number> = {};
  try {
    await writeDatabase(temp.erp, ERP_DDL, data.erp, counts);
    await writeDatabase(temp.finance, FINANCE_DDL, data.finance, counts);
    await writeDatabase(temp.oa, OA_DDL, data.oa, counts);
    for (const k of ['erp', 'finance', 'oa'] as const) {
      removeDatabaseFile(files[k]);
      renameSync(temp[k], files[k]);
    }
  } finally {
    for (const k of ['erp', 'finance', 'oa'] as const) removeDatabaseFile(temp[k]);
  }
  const surveys = generateSurveys(data.erp.Customer.map((c) => ({ code: String(c.cCusCode), name: String(c.cCusName) })), seed);
  await writeSurveyWorkbook(surveysFile(dir), surveys);
  counts['surveys.xlsx'] = surveys.length;
  if (opts.resetHub ?? true) removeDatabaseFile(join(resolve(dir), HUB_FILE_NAME));

  const info = { seed, customers, seededAt: new Date().toISOString(), counts, plan: summarizePlan(data.plan) };
  writeFileSync(join(resolve(dir), SEED_INFO_FILE), JSON.stringify(info, null, 2) + '\n');
  return { created: true, files, counts, plan: data.plan };
}

async function erpCustomers(erpFile: string): Promise<{ code: string; name: string }[]> {
  const db = openSqlite(erpFile);
  try {
    const rows = (await db('Customer').select('cCusCode', 'cCusName').orderBy('cCusCode')) as { cCusCode: string; cCusName: string }[];
    return rows.map((r) => ({ code: r.cCusCode, name: r.cCusName }));
  } finally {
    await db.destroy();
  }
}

/** A knex instance on one SQLite file (the caller destroys it). */
export function openSqlite(filename: string): Knex {
  return knexFactory({ client: 'better-sqlite3', connection: { filename }, useNullAsDefault: true, pool: { min: 1, max: 1 } });
}

async function writeDatabase(
  filename: string,
  ddl: readonly string[],
  tables: Record<string, SeedRow[]>,
  counts: Record<string, number>,
): Promise<void> {
  removeDatabaseFile(filename);
  const db = openSqlite(filename);
  try {
    // Fast while building a private file; WAL afterwards so the server can read while sync writes.
    await db.raw('PRAGMA journal_mode = OFF');
    await db.raw('PRAGMA synchronous = OFF');
    await db.raw('PRAGMA foreign_keys = ON');
    await db.transaction(async (trx) => {
      for (const statement of ddl) await trx.raw(statement);
      for (const [table, rows] of Object.entries(tables)) {
        await insertBatched(trx, table, rows);
        counts[table] = rows.length;
      }
    });
    await db.raw('PRAGMA journal_mode = WAL');
  } finally {
    await db.destroy();
  }
}

/**
 * Multi-row INSERTs sized under SQLite's limits (32766 bound parameters; knex writes a multi-row
 * insert as a compound SELECT, limited to 500 terms).
 */
export async function insertBatched(db: Knex | Knex.Transaction, table: string, rows: SeedRow[]): Promise<void> {
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0]).length;
  const size = Math.max(1, Math.min(400, Math.floor(30_000 / columns)));
  for (let i = 0; i < rows.length; i += size) await db(table).insert(rows.slice(i, i + size));
}

function removeDatabaseFile(file: string): void {
  for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(file + suffix, { force: true });
}

/** The plan reduced to figures and keys, for demo-seed.json. */
function summarizePlan(plan: DemoPlan) {
  const byKind = (kind: string) => plan.links.filter((l) => l.kind === kind).length;
  return {
    erpCustomers: plan.customers,
    financeAccounts: plan.links.length + plan.financeOnly.length,
    linkedByCreditCode: byKind('creditCode'),
    linkedByNameOnly: byKind('name'),
    linkedByPhoneOnly: byKind('phone'),
    erpOnly: plan.erpOnly,
    financeOnly: plan.financeOnly,
    alreadyInConflict: plan.links.filter((l) => l.differs.length > 0).map((l) => ({ erp: l.erpCode, finance: l.acctNo, fields: l.differs })),
    falseFriend: plan.falseFriend,
  };
}
