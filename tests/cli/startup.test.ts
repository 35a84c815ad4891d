/**
 * The installed CLI runs compiled JavaScript and loads a driver, the GraphQL stack or the config
 * loader only when a command needs it: `crmlink --help` loads none of them and compiles nothing.
 * Checked by the modules the process resolves (a resolve hook logs them), not by a timing.
 * The serving commands start with V8's young generation held at its initial size (bin/crmlink.mjs)
 * and let it grow once they serve: checked by the young generation's size in the serving process,
 * against a process that never grows it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, expect, it } from 'vitest';
import { sqliteErpConfig } from '../support/config.js';

const BIN = resolve(import.meta.dirname, '../../bin/crmlink.mjs');
const dir = mkdtempSync(join(tmpdir(), 'crmlink-startup-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * The modules (file URLs) a command loads. Written to a file with synchronous appends: output to a
 * pipe written at exit (or from the hooks' thread) can be cut short when the process ends.
 */
let runs = 0;
/** The `--import` preload that logs what the process loads, and the environment it reads the log's path from. */
function loadLogging(): { preload: string[]; env: NodeJS.ProcessEnv; log: string } {
  const log = join(dir, `loaded-${++runs}.txt`);
  writeFileSync(log, '');
  const hooks = join(dir, 'hooks.mjs');
  writeFileSync(
    hooks,
    `import { appendFileSync } from 'node:fs';\n` +
      `export async function resolve(s, c, next) { const r = await next(s, c); if (r.url.startsWith('file:')) appendFileSync(process.env.CRMLINK_LOADED_LOG, r.url + '\\n'); return r; }\n`,
  );
  const register = join(dir, 'register.mjs');
  // ES modules through the resolve hook; CommonJS ones (a driver knex requires) from the CommonJS cache at exit.
  writeFileSync(
    register,
    `import { register, createRequire } from 'node:module'; import { pathToFileURL } from 'node:url'; import { appendFileSync } from 'node:fs';\n` +
      `register(${JSON.stringify(pathToFileURL(hooks).href)});\n` +
      `const Module = createRequire(import.meta.url)('node:module');\n` +
      `process.on('exit', () => appendFileSync(process.env.CRMLINK_LOADED_LOG, Object.keys(Module._cache).map((f) => pathToFileURL(f).href + '\\n').join('')));\n`,
  );
  return {
    preload: ['--import', pathToFileURL(register).href],
    // Nothing of the test runner's NODE_OPTIONS, except the preload scripts/with-node.sh adds under
    // another Node major (better-sqlite3's addon for that ABI).
    env: { ...process.env, NODE_OPTIONS: /--require \S*native-addons\.cjs/.exec(process.env.NODE_OPTIONS ?? '')?.[0] ?? '', CRMLINK_LOADED_LOG: log },
    log,
  };
}

const loadedFrom = (log: string) => readFileSync(log, 'utf8').split('\n').filter(Boolean);

/**
 * A preload that reports the size of V8's young generation (new space, both semi-spaces) as JSON to
 * the file CRMLINK_NEW_SPACE_LOG names: at exit, and on SIGUSR2 both then and after it has churned
 * enough objects, with survivors, to grow it (whether the process lets it grow at that point).
 */
function newSpaceReport(): string[] {
  const report = join(dir, 'new-space.mjs');
  writeFileSync(
    report,
    `import { getHeapSpaceStatistics } from 'node:v8'; import { writeFileSync } from 'node:fs';\n` +
      `const size = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;\n` +
      `const report = {}; const write = () => writeFileSync(process.env.CRMLINK_NEW_SPACE_LOG, JSON.stringify(report));\n` +
      `process.on('SIGUSR2', () => { report.atSignal = size(); let keep = []; for (let i = 0; i < 2e6; i++) { keep.push({ i, s: 'x' + i }); if (keep.length > 50000) keep = []; } report.afterChurn = size(); write(); });\n` +
      `process.on('exit', () => { report.atExit = size(); write(); });\n`,
  );
  return ['--import', pathToFileURL(report).href];
}

type NewSpaceReport = { atExit?: number; atSignal?: number; afterChurn?: number };
const readReport = (file: string): NewSpaceReport => (existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as NewSpaceReport) : {});

/**
 * The young generation of a process that allocates enough, with survivors, to grow it several
 * times over, after a run-time growth factor of 1 (the size V8 keeps when it never grows it), or
 * with Node's defaults.
 */
function churnedNewSpace(growthFactorOne: boolean): number {
  const script =
    `const v8 = require('node:v8'); ${growthFactorOne ? "v8.setFlagsFromString('--semi-space-growth-factor=1');" : ''}` +
    `let keep = []; for (let i = 0; i < 2e6; i++) { keep.push({ i, s: 'x' + i }); if (keep.length > 50000) keep = []; }` +
    `process.stdout.write(String(v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size));`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  return Number(r.stdout);
}

function modulesLoadedBy(args: string[]): { urls: string[]; status: number | null; stdout: string } {
  const { preload, env, log } = loadLogging();
  const r = spawnSync(process.execPath, [...preload, BIN, ...args], { encoding: 'utf8', env });
  return { urls: loadedFrom(log), status: r.status, stdout: r.stdout };
}

const packageOf = (url: string) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1];

/** A config with one SQLite ERP table and an admin anonymous role, its ERP database written beside it. */
function serveConfig(name: string): string {
  const db = new Database(join(dir, `${name}-erp.db`));
  db.exec("CREATE TABLE Customer (code text primary key, name text); INSERT INTO Customer VALUES ('C1', 'Acme')");
  db.close();
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, sqliteErpConfig({ hub: `./${name}-hub.db`, erp: `./${name}-erp.db` }));
  return file;
}

it('--help runs the compiled CLI and loads no driver, GraphQL, config loader or TypeScript compiler', () => {
  const { urls, status, stdout } = modulesLoadedBy(['--help']);
  expect(status).toBe(0);
  expect(stdout).toMatch(/Usage: crmlink/);
  expect(urls.some((u) => u.includes('/dist/cli/main.js'))).toBe(true);
  expect(urls.filter((u) => u.endsWith('.ts'))).toEqual([]);
  const packages = new Set(urls.map(packageOf).filter(Boolean));
  for (const heavy of ['tsx', 'esbuild', 'knex', 'pg', 'mysql2', 'mssql', 'tedious', 'better-sqlite3', 'graphql', 'graphql-yoga', 'zod', 'exceljs', 'mdb-reader', 'pino']) {
    expect(packages.has(heavy), `--help loaded ${heavy}`).toBe(false);
  }
  // Nor what a command loads when it runs: the YAML library, the sync engine and what it brings
  // (the hub, identity, the scheduler, metrics, retries, tracing, decimals): --help took 314 ms
  // with them and 185 ms without on the 2-core machine (BENCHMARKS.md, "Process start").
  for (const deferred of ['yaml', 'decimal.js', 'node-cron', 'prom-client', 'p-retry', '@opentelemetry/api']) {
    expect(packages.has(deferred), `--help loaded ${deferred}`).toBe(false);
  }
  const engine = urls.filter((u) => /\/dist\/(hub|connectors|identity\/matcher|sync\/engine|analysis\/query)\b/.test(u));
  expect(engine, '--help loaded the engine').toEqual([]);
});

it('a command that needs the config loads it, and no database driver it does not use', () => {
  const file = join(dir, 'crmlink.yaml');
  writeFileSync(file, 'hub: { dialect: sqlite, connection: { filename: ./hub.db } }\nsources:\n  erp: { kind: erp, dialect: sqlite, connection: { filename: ./erp.db } }\n');
  const { urls, status, stdout } = modulesLoadedBy(['config', 'check', '--config', file]);
  expect(status, stdout).toBe(0);
  const packages = new Set(urls.map(packageOf).filter(Boolean));
  expect(packages.has('zod')).toBe(true);
  for (const unused of ['mssql', 'tedious', 'pg', 'mysql2', 'graphql-yoga']) expect(packages.has(unused), `config check loaded ${unused}`).toBe(false);
});

it('a SQLite source loads the SQLite driver only: no PostgreSQL, MySQL or SQL Server driver', () => {
  const db = new Database(join(dir, 'only.db'));
  db.exec('CREATE TABLE t (id integer primary key)');
  db.close();
  const file = join(dir, 'sqlite-only.yaml');
  writeFileSync(file, 'hub: { dialect: sqlite, connection: { filename: ./hub.db } }\nsources:\n  erp: { kind: erp, dialect: sqlite, connection: { filename: ./only.db } }\n');
  const { urls, status, stdout } = modulesLoadedBy(['sources', 'test', '--config', file]);
  expect(status, stdout).toBe(0);
  expect(stdout).toMatch(/ok +erp +sqlite/);
  const packages = new Set(urls.map(packageOf).filter(Boolean));
  expect(packages.has('better-sqlite3')).toBe(true);
  for (const unused of ['mssql', 'tedious', 'pg', 'mysql2']) expect(packages.has(unused), `a SQLite-only config loaded ${unused}`).toBe(false);
});

/** The test runner's environment without its NODE_OPTIONS, except the preload scripts/with-node.sh adds under another Node major. */
const plainEnv = (): NodeJS.ProcessEnv => ({ ...process.env, NODE_OPTIONS: /--require \S*native-addons\.cjs/.exec(process.env.NODE_OPTIONS ?? '')?.[0] ?? '' });

/** Starts `crmlink serve` on a config with the given Node flags and environment; its URL once it serves, and how to stop it. */
async function startServing(config: string, nodeFlags: string[], env: NodeJS.ProcessEnv, args: string[] = []): Promise<{ url: string; child: ChildProcess; stop(): Promise<number | null> }> {
  const child = spawn(process.execPath, [...nodeFlags, BIN, 'serve', '--config', config, '--port', '0', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const serving = () => /serving GraphQL at (http:\/\/\S+)\/graphql/.exec(stdout)?.[1];
  await expect.poll(serving, { timeout: 30_000 }).toBeTruthy();
  return {
    url: serving() as string,
    child,
    stop: () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

it('a serving server with no file source, no tracing and no federation loads no workbook or Access reader, OpenTelemetry SDK or subgraph builder', async () => {
  const { preload, env, log } = loadLogging();
  const server = await startServing(serveConfig('serve'), preload, env);
  const answer = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ customers(first: 1) { totalCount } }' }),
  });
  expect(answer.status).toBe(200);
  expect(await server.stop()).toBe(0);
  const packages = new Set(loadedFrom(log).map(packageOf).filter(Boolean));
  expect(packages.has('graphql-yoga'), 'the server itself was not logged').toBe(true);
  for (const unused of ['exceljs', 'mdb-reader', '@opentelemetry/sdk-trace-base', '@opentelemetry/exporter-trace-otlp-http', '@apollo/subgraph']) {
    expect(packages.has(unused), `an idle server loaded ${unused}`).toBe(false);
  }
}, 60_000);

// Without the module log's loader hooks: their thread's heap, configured when it starts, can put
// V8's growth factor back to 2 during the server's start-up (as tsx's does: bin/crmlink.mjs).
it('a serving server keeps its young generation small through start-up and lets it grow once it serves', async () => {
  const newSpaceLog = join(dir, 'serve-new-space.txt');
  const server = await startServing(serveConfig('young'), newSpaceReport(), { ...plainEnv(), CRMLINK_NEW_SPACE_LOG: newSpaceLog });
  // Up and serving: the young generation is as start-up left it, and may grow from now on.
  server.child.kill('SIGUSR2');
  await expect.poll(() => readReport(newSpaceLog).afterChurn, { timeout: 30_000 }).toBeDefined();
  expect(await server.stop()).toBe(0);
  // Started, migrated and its schema built, the server's young generation is smaller than Node's
  // sizing makes it under the same churn (the control; start-up alone grew it that far before);
  // once it serves, the churn grows it. Not compared with the size V8 keeps at a factor of 1: under
  // load Node 22 ends that at 1 or 2 MiB from one process to the next.
  const grown = churnedNewSpace(false);
  expect(grown, 'the control did not grow its young generation').toBeGreaterThan(churnedNewSpace(true));
  const report = readReport(newSpaceLog);
  expect(report.atSignal, 'start-up grew the young generation').toBeLessThan(grown);
  expect(report.afterChurn, 'the serving process did not let its young generation grow again').toBeGreaterThan(report.atSignal as number);
}, 60_000);

it("a command that does not serve, and a server started with a semi-space flag of its own, keep Node's young-generation sizing", async () => {
  const file = serveConfig('flagged');
  const kept = churnedNewSpace(true);
  const env = plainEnv();
  // `config schema` builds and prints the config's JSON schema: enough allocation to grow the young generation.
  const schemaLog = join(dir, 'schema-new-space.txt');
  const r = spawnSync(process.execPath, [...newSpaceReport(), BIN, 'config', 'schema'], { encoding: 'utf8', env: { ...env, CRMLINK_NEW_SPACE_LOG: schemaLog } });
  expect(r.status, r.stderr).toBe(0);
  expect(readReport(schemaLog).atExit, 'config schema ran with the serving commands\' small young generation').toBeGreaterThan(kept);
  // --max-semi-space-size=16 is Node's own maximum: the server may grow to it, as the operator asked.
  const serveLog = join(dir, 'flagged-new-space.txt');
  const server = await startServing(file, ['--max-semi-space-size=16', ...newSpaceReport()], { ...env, CRMLINK_NEW_SPACE_LOG: serveLog }, ['--no-schedule']);
  expect(await server.stop()).toBe(0);
  expect(readReport(serveLog).atExit, 'a server started with --max-semi-space-size held its young generation small').toBeGreaterThan(kept);
}, 60_000);
