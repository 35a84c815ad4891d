/**
 * A running crmlink for the console tests: the embedded demo (ERP, finance and OA in SQLite,
 * seeded, synced, edited and synced again, so it has manual conflicts, parked records and merge
 * candidates) served by the real HTTP server on a free port, with API-key authentication and the
 * roles the console knows: admin and operator act, auditor only looks, sales is refused. Hub
 * backups go to `<demo dir>/backups` and are stale after 26 hours.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Knex } from 'knex';
import { loadConfigFile } from '../../config/load.js';
import { openApp, type App } from '../../app/app.js';
import { silentLogger } from '../../core/logger.js';
import { runJob } from '../../sync/engine.js';
import { refreshAnalysis } from '../../analysis/index.js';
import { prepareDemo, runDemoScenario, type PreparedDemo } from '../../demo/index.js';
import { openSqlite } from '../../demo/seed.js';
import { startServer, type RunningServer } from '../../server/server.js';
import { ADMIN_ROLE, apiKeyAuth } from '../support/auth.js';

export const KEYS = {
  admin: 'console-admin-key-0123456789',
  operator: 'console-operator-key-0123456789',
  auditor: 'console-auditor-key-0123456789',
  sales: 'console-sales-key-00123456789',
} as const;

/** The demo's server block, replaced: API keys from the environment, four roles. */
const CONSOLE_AUTH = apiKeyAuth(
  [
    { key: '${CONSOLE_ADMIN_KEY}', user: 'root', role: 'admin' },
    { key: '${CONSOLE_OPERATOR_KEY}', user: 'olivia', role: 'operator' },
    { key: '${CONSOLE_AUDITOR_KEY}', user: 'audrey', role: 'auditor' },
    { key: '${CONSOLE_SALES_KEY}', user: 'sam', role: 'sales' },
  ],
  {
    admin: ADMIN_ROLE,
    operator: `${ADMIN_ROLE}   # runs sync, settles conflicts and merges`,
    auditor: '{ customers: all, admin: true }                 # sees the console, cannot act',
    sales: '{ customers: own, hide: [Customer.creditLimit], write: true }',
  },
);
const SERVER_BLOCK = `server:\n  port: 0${CONSOLE_AUTH}`;

/**
 * Another server over the same demo databases and hub, with its own `server:` block (another
 * auth mode). No sync runs: it only reads what the fixture left.
 */
export async function startVariant(f: ConsoleFixture, serverBlock: string, env: Record<string, string> = {}): Promise<{ url: string; port: number; close(): Promise<void> }> {
  const text = readFileSync(join(f.demo.dir, 'crmlink-console.yaml'), 'utf8');
  const file = join(f.demo.dir, `crmlink-variant-${Math.random().toString(36).slice(2, 8)}.yaml`);
  writeFileSync(file, text.replace(/^server:\n(?:[ #].*\n|\n)*/m, serverBlock));
  const app = await openApp(loadConfigFile(file, { ...process.env, ...env }), { logger: silentLogger });
  const server = await startServer(app, { port: 0, host: '127.0.0.1' });
  return { url: `http://127.0.0.1:${server.port}`, port: server.port, close: () => server.close() };
}

export interface ConsoleFixture {
  root: string;
  demo: PreparedDemo;
  app: App;
  server: RunningServer;
  url: string;
  /** One query against a demo source database (erp, finance, oa). */
  sourceRow(system: 'erp' | 'finance' | 'oa', sql: string, bindings?: readonly (string | number)[]): Promise<Record<string, unknown> | undefined>;
  close(): Promise<void>;
}

export async function startConsoleFixture(): Promise<ConsoleFixture> {
  const root = mkdtempSync(join(tmpdir(), 'crmlink-console-'));
  try {
    const demo = await prepareDemo(join(root, 'demo'), { logLevel: 'silent', port: 0 });
    const text = readFileSync(demo.configPath, 'utf8');
    // Backups are expected (staleAfterHours) but none is taken here: the console warns until a test takes one.
    const replaced = text.replace(/^server:\n(?:[ #].*\n|\n)*/m, SERVER_BLOCK).replace(/^(hub:\n(?: .*\n)*?  connection: .*\n)/m, '$1  backup: { dir: ./backups, staleAfterHours: 26 }\n');
    if (replaced === text || !replaced.includes('mode: apiKey') || !replaced.includes('staleAfterHours')) throw new Error('the demo config has no server block to replace (demo/config.ts changed?)');
    const configPath = join(demo.dir, 'crmlink-console.yaml');
    writeFileSync(configPath, replaced);
    const env = {
      ...process.env,
      CONSOLE_ADMIN_KEY: KEYS.admin,
      CONSOLE_OPERATOR_KEY: KEYS.operator,
      CONSOLE_AUDITOR_KEY: KEYS.auditor,
      CONSOLE_SALES_KEY: KEYS.sales,
    };
    const app = await openApp(loadConfigFile(configPath, env), { logger: silentLogger });
    await runDemoScenario(demo, { sync: (job) => runJob(app, job), analyze: () => refreshAnalysis(app.hub, app.config.analysis, { kind: 'full' }) });
    const server = await startServer(app, { port: 0, host: '127.0.0.1' });
    const url = `http://127.0.0.1:${server.port}`;
    const sourceRow = async (system: 'erp' | 'finance' | 'oa', sql: string, bindings: readonly (string | number)[] = []) => {
      const db: Knex = openSqlite(demo.files[system]);
      try {
        return ((await db.raw(sql, bindings)) as Record<string, unknown>[])[0];
      } finally {
        await db.destroy();
      }
    };
    return {
      root,
      demo,
      app,
      server,
      url,
      sourceRow,
      close: async () => {
        await server.close();
        rmSync(root, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(root, { recursive: true, force: true });
    throw err;
  }
}
