/**
 * A vendor database for a preset test: DDL and rows from tests/fixtures/presets/<preset>/ loaded
 * into a real engine, a crmlink.yaml on disk that names the preset (and nothing else about the
 * source's tables), one pull job per entity the preset maps, and GraphQL over the synced hub.
 *
 * `presetSuite` is the scaffold every preset test shares: the engine check, the world built and
 * synced once (every job ok, nothing parked), closed afterwards, and the connected `config check`.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfigFile } from '../../config/load.js';
import { resolvePreset, type PresetOptionValue } from '../../config/presets.js';
import { openApp, closeApp, type App } from '../../app/app.js';
import { silentLogger } from '../../core/logger.js';
import { createYogaApp, type CrmYoga } from '../../server/yoga-app.js';
import { runJob } from '../../sync/engine.js';
import type { RunReport } from '../../sync/types.js';
import { createTestDatabase, requireDialect, type TestDatabase } from './databases.js';
import { DEV_AUTH } from '../graphql/fixture.js';
import { main } from '../../cli/main.js';
import { defaultContext } from '../../cli/context.js';

export const PRESET_FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../fixtures/presets');

/** A connection's nodes, as the preset tests read them back. */
export type Conn<T> = { nodes: T[]; totalCount?: number };
export type Row = Record<string, unknown>;

export interface PresetWorld {
  db: TestDatabase;
  app: App;
  yoga: CrmYoga;
  /** The crmlink.yaml the app was loaded from. */
  configFile: string;
  /** Entities the preset maps, in the order their jobs run (referenced entities first). */
  entities: string[];
  /** Run every job once, in order; returns the reports by entity. */
  syncAll(): Promise<Record<string, RunReport>>;
  gql<T = Record<string, unknown>>(query: string): Promise<T>;
  close(): Promise<void>;
}

/** Run a fixture SQL file as it is (several statements) on the test database. */
export async function loadSqlFile(db: TestDatabase, file: string): Promise<void> {
  const sql = readFileSync(file, 'utf8');
  if (db.dialect === 'postgres') {
    const client = new pg.Client({ ...db.connection, database: db.database } as pg.ClientConfig);
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
    return;
  }
  if (db.dialect === 'mysql') {
    const conn = await mysql.createConnection({
      host: db.connection.host,
      port: db.connection.port,
      user: db.connection.user,
      password: db.connection.password,
      database: db.database,
      charset: 'utf8mb4',
      multipleStatements: true,
    });
    try {
      await conn.query(sql);
    } finally {
      await conn.end();
    }
    return;
  }
  throw new Error(`no fixture loader for ${db.dialect}`);
}

/** Entities referenced by others sync first, so every ref finds its target in the hub. */
const ORDER = ['Customer', 'Department', 'Employee', 'Product', 'SalesOrder', 'Invoice'];

export interface PresetWorldOptions {
  preset: string;
  dialect: 'postgres' | 'mysql';
  files: string[];
  options?: Record<string, PresetOptionValue>;
  label: string;
  /** An `entities:` block of the crmlink.yaml, e.g. modes for entities the preset maps (no sources of their own). */
  entitiesYaml?: string;
}

export async function createPresetWorld(opts: PresetWorldOptions): Promise<PresetWorld> {
  const db = await createTestDatabase(opts.dialect, opts.label);
  for (const f of opts.files) await loadSqlFile(db, resolve(PRESET_FIXTURES, opts.preset, f));
  const dir = mkdtempSync(join(tmpdir(), `crmlink-${opts.label}-`));
  const { mappings, issues } = resolvePreset(opts.preset, opts.options ?? {});
  expect(issues).toEqual([]);
  const entities = [...mappings.keys()].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const conn = { ...db.connection, database: db.database };
  const configFile = join(dir, 'crmlink.yaml');
  writeFileSync(
    configFile,
    `hub:
  dialect: sqlite
  connection: { filename: ./hub.db }
log: { level: silent }
sources:
  erp:
    kind: erp
    dialect: ${db.dialect}
    connection: ${JSON.stringify(Object.fromEntries(Object.entries(conn).filter(([, v]) => v !== undefined)))}
    timezone: Asia/Shanghai
    readOnly: true
    preset: ${opts.preset}
${opts.options ? `    presetOptions: ${JSON.stringify(opts.options)}\n` : ''}${opts.entitiesYaml ?? ''}sync:
  jobs:
${entities.map((e) => `    ${e}: { entity: ${e}, sources: [erp], direction: pull }`).join('\n')}
server:${DEV_AUTH}`,
  );
  const app = await openApp(loadConfigFile(configFile, {}), { logger: silentLogger });
  const yoga = createYogaApp(app, { logger: false });
  return {
    db,
    app,
    yoga,
    configFile,
    entities,
    async syncAll() {
      const out: Record<string, RunReport> = {};
      for (const e of entities) out[e] = await runJob(app, e);
      return out;
    },
    async gql<T>(query: string): Promise<T> {
      const res = await yoga.fetch('http://x/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
      const body = (await res.json()) as { data?: T; errors?: unknown[] };
      expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
      return body.data as T;
    },
    async close() {
      await closeApp(app);
      await db.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function rank(entity: string): number {
  const i = ORDER.indexOf(entity);
  return i < 0 ? ORDER.length : i;
}

/**
 * `crmlink config check` on the world's crmlink.yaml, connected: the preset's mappings are checked
 * against the vendor tables loaded from the fixtures (every mapped table and column there).
 */
export async function configCheck(w: PresetWorld): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['node', 'crmlink', 'config', 'check', '--config', w.configFile], { ...defaultContext(), out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** `config check`, connected, passes: every table and column the preset maps is in the database. */
export async function expectLiveCheckPasses(w: PresetWorld): Promise<void> {
  const r = await configCheck(w);
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  expect(r.out).toMatch(new RegExp(`live: ${w.entities.length} mapped tables checked against their sources`));
}

/** Nodes of a connection, by a key field. */
export function byKey<T extends Record<string, unknown>>(nodes: T[], key: keyof T): Record<string, T> {
  return Object.fromEntries(nodes.map((n) => [String(n[key]), n]));
}

export interface PresetSuite {
  /** The synced world (only inside a test that `presetTest` runs, i.e. when the engine is up). */
  readonly w: PresetWorld;
}

/**
 * The shared scaffold of a preset test file: skips everything when the engine is not running,
 * builds and syncs the world once before the tests (every job `ok`, nothing parked), closes it
 * afterwards, and adds the connected `config check` test. Returns the world and `presetTest`,
 * an `it` that skips when the engine is not running.
 */
export function presetSuite(
  opts: PresetWorldOptions & { dialect: 'postgres' | 'mysql'; timeoutMs?: number },
): PresetSuite & { presetTest: (name: string, fn: (w: PresetWorld) => unknown) => void } {
  let ready = false;
  let world: PresetWorld | undefined;
  beforeAll(async () => {
    ready = await requireDialect(opts.dialect);
    if (!ready) return;
    world = await createPresetWorld(opts);
    const reports = await world.syncAll();
    for (const [entity, r] of Object.entries(reports)) {
      expect({ entity, status: r.status, parked: r.totals.parked, error: r.error }).toEqual({ entity, status: 'ok', parked: 0, error: undefined });
    }
  }, opts.timeoutMs ?? 120_000);
  afterAll(async () => {
    if (ready) await world?.close();
  });
  const presetTest = (name: string, fn: (w: PresetWorld) => unknown): void => {
    it(name, async (ctx) => {
      if (!ready || !world) return ctx.skip();
      await fn(world);
    });
  };
  presetTest('passes config check connected: every table and column the preset maps is in the database', (w) => expectLiveCheckPasses(w));
  return {
    get w(): PresetWorld {
      if (!world) throw new Error('the preset world is only there inside a presetTest');
      return world;
    },
    presetTest,
  };
}
