/**
 * The installed CLI runs compiled JavaScript and loads a driver, the GraphQL stack or the config
 * loader only when a command needs it: `crmlink --help` loads none of them and compiles nothing.
 * Checked by the modules the process resolves (a resolve hook logs them), not by a timing.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, expect, it } from 'vitest';

const BIN = resolve(import.meta.dirname, '../../bin/crmlink.mjs');
const dir = mkdtempSync(join(tmpdir(), 'crmlink-startup-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * The modules (file URLs) a command loads. Written to a file with synchronous appends: output to a
 * pipe written at exit (or from the hooks' thread) can be cut short when the process ends.
 */
let runs = 0;
function modulesLoadedBy(args: string[]): { urls: string[]; status: number | null; stdout: string } {
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
  const r = spawnSync(process.execPath, ['--import', pathToFileURL(register).href, BIN, ...args], {
    encoding: 'utf8',
    // Nothing of the test runner's NODE_OPTIONS, except the preload scripts/with-node.sh adds under
    // another Node major (better-sqlite3's addon for that ABI).
    env: { ...process.env, NODE_OPTIONS: /--require \S*native-addons\.cjs/.exec(process.env.NODE_OPTIONS ?? '')?.[0] ?? '', CRMLINK_LOADED_LOG: log },
  });
  const urls = readFileSync(log, 'utf8').split('\n').filter(Boolean);
  return { urls, status: r.status, stdout: r.stdout };
}

const packageOf = (url: string) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1];

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
