/**
 * What the CLI tests share: the binary they start (it runs the compiled dist/, built by
 * build-dist.ts), a temporary folder per test file, the small SQLite ERP most of them sync from,
 * the config that maps it, a PostgreSQL database to introspect, and `crmlink` run in process with
 * its output captured.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Command, CommanderError } from 'commander';
import knexFactory, { type Knex } from 'knex';
import { afterAll, beforeAll } from 'vitest';
import { main } from '../../cli/main.js';
import { closeApp, type App } from '../../app/app.js';
import { defaultContext, type AppCliContext } from '../../cli/context.js';
import { exitCodeFor } from '../../cli/exit-codes.js';
import type { ConnectionConfig } from '../../config/schema.js';
import { createTestDatabase, fixtureKnex, requireDialect, type TestDatabase } from './databases.js';

/** The `crmlink` binary as an operator starts it. */
export const CRMLINK_BIN = resolve(import.meta.dirname, '../../bin/crmlink.mjs');

/** A fresh temporary folder, removed after the tests of the file (or describe block) that asks. */
export function tempDirForTests(label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `crmlink-${label}-`));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface ErpCustomer {
  cCusCode: string;
  cCusName: string;
}

/** `dir`/erp.db: a SQLite ERP whose Customer table (cCusCode, cCusName) holds `rows`, one customer unless told. */
export async function writeCustomerErp(dir: string, rows: ErpCustomer[] = [{ cCusCode: 'C001', cCusName: '北京华为技术有限公司' }]): Promise<void> {
  const erp = knexFactory({ client: 'better-sqlite3', connection: { filename: join(dir, 'erp.db') }, useNullAsDefault: true });
  try {
    await erp.schema.createTable('Customer', (t) => {
      t.string('cCusCode').primary();
      t.string('cCusName');
    });
    await erp('Customer').insert(rows);
  } finally {
    await erp.destroy();
  }
}

export interface CustomerConfigOptions {
  /** The hub's SQLite file, relative to the config. */
  hubFile?: string;
  /** The Customer mapping's fields, as a YAML flow map's inside. */
  fields?: string;
  /** More lines under `entities:`, after Customer. */
  entities?: string[];
  /** Lines after the entities: `sync:`, `server:`… */
  rest?: string[];
}

/** A config of a SQLite hub and the ERP of writeCustomerErp, its Customer table mapped. */
export function customerConfig(opts: CustomerConfigOptions = {}): string {
  return [
    `hub: { dialect: sqlite, connection: { filename: ${opts.hubFile ?? './hub.db'} } }`,
    'sources:',
    '  erp: { kind: erp, dialect: sqlite, connection: { filename: ./erp.db } }',
    'entities:',
    '  Customer:',
    '    sources:',
    `      erp: { table: Customer, key: [cCusCode], fields: { ${opts.fields ?? 'code: cCusCode, name: cCusName'} } }`,
    ...(opts.entities ?? []),
    ...(opts.rest ?? []),
    '',
  ].join('\n');
}

/** `sync:` with the job `customers` pulling the ERP's customers; `more` adds settings to the job (`, schedule: …`). */
export function pullCustomersJob(more = ''): string[] {
  return ['sync:', '  jobs:', `    customers: { entity: Customer, sources: [erp], direction: pull${more} }`];
}

/** `server:` for a development server: no sign-in, everyone an admin who reads every customer. */
export const OPEN_ADMIN_SERVER = ['server:', '  auth: { mode: none, anonymousRole: admin, roles: { admin: { customers: all, admin: true } } }'];

/** Writes `config` to `dir`/`name` and returns its path. */
export function writeConfig(dir: string, config: string, name = 'crmlink.yaml'): string {
  const file = join(dir, name);
  writeFileSync(file, config);
  return file;
}

/** `crmlink …args` in this process, with what it writes captured. */
export async function runCli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['node', 'crmlink', ...args], { ...defaultContext(), out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

export interface PostgresForCli {
  /** False when PostgreSQL is unreachable: the tests skip (databases.ts requireDialect). */
  ready: boolean;
  db: TestDatabase;
  /** A temporary folder for the configs the tests write. */
  dir: string;
  /** The database's connection settings as a config holds them. */
  connection(): ConnectionConfig & { database: string };
}

/**
 * For the file that calls it: a fresh PostgreSQL database with the tables `create` makes, and a
 * temporary folder, both removed after the file's tests.
 */
export function usePostgresForCli(label: string, create: (k: Knex) => Promise<void>): PostgresForCli {
  const state = {
    ready: false,
    dir: tempDirForTests(label),
    connection: () => ({ ...state.db.connection, database: state.db.database }),
  } as PostgresForCli;
  beforeAll(async () => {
    state.ready = await requireDialect('postgres');
    if (!state.ready) return;
    state.db = await createTestDatabase('postgres', label);
    const k = fixtureKnex(state.db);
    try {
      await create(k);
    } finally {
      await k.destroy();
    }
  }, 60_000);
  afterAll(async () => {
    if (state.ready) await state.db.drop();
  });
  return state;
}

/** A command group's `register` (cli/commands/*.ts). */
export type RegisterCommands = (program: Command, ctx: AppCliContext) => void;

export interface CommandRunOptions {
  /** Give the program a version (for `--version`). */
  version?: string;
  /** Write a failure that is not commander's own to err, as the binary would. */
  printErrors?: boolean;
}

/**
 * `crmlink …args` through commander with only the command groups of `registers`, on the apps
 * `openApp` opens: its output and its exit code (0 ok, 2 usage, else as cli/exit-codes.ts says).
 */
export async function runCommands(registers: RegisterCommands[], openApp: () => Promise<App>, args: string[], opts: CommandRunOptions = {}): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const program = new Command('crmlink').exitOverride();
  if (opts.version) program.version(opts.version);
  const ctx: AppCliContext = { openApp, closeApp, out: (t: string) => out.push(t), err: (t: string) => err.push(t) };
  for (const register of registers) register(program, ctx);
  const all = (c: Command): Command[] => c.commands.flatMap((s) => [s, ...all(s)]);
  for (const c of all(program)) c.exitOverride().configureOutput({ writeErr: (t) => err.push(t), writeOut: (t) => out.push(t) });
  let code = 0;
  try {
    await program.parseAsync(['node', 'crmlink', ...args]);
  } catch (e) {
    code = e instanceof CommanderError ? (e.exitCode === 0 ? 0 : 2) : exitCodeFor(e);
    if (opts.printErrors && !(e instanceof CommanderError) && code !== 0 && !(e instanceof Error && e.message.startsWith('exit '))) err.push(String(e));
  }
  return { code, out: out.join('\n'), err: err.join('\n') };
}
