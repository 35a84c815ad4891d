/**
 * The embedded demo: seeded ERP / finance / OA databases, their crmlink.yaml, the edits that give
 * the second sync run something to merge, and the example queries. `crmlink demo` calls:
 *
 * @example
 *   const demo = await prepareDemo('examples/demo');          // seed if absent, write crmlink.yaml
 *   const app = await openApp(loadConfigFile(demo.configPath));
 *   if (demo.fresh) {
 *     await runDemoScenario(demo, {
 *       sync: (job) => runJob(app, job),
 *       analyze: () => refreshAnalysis(app.hub, app.config.analysis, { kind: 'full' }),
 *       log: console.log,
 *     });
 *   }
 *   // serve createYogaApp(app) and print formatDemoQueries(url)
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { demoConfigYaml, type DemoConfigOptions } from './config.js';
import { DEFAULT_DEMO_DIR } from './defaults.js';
import { applyDemoEdits, describeEdits, type DemoEdit } from './edits.js';
import { HUB_FILE_NAME, seedDemo, type DemoFiles, type SeedOptions, type SeedResult } from './seed.js';

export { seedDemo, demoFiles, demoExists, DEMO_FILE_NAMES, HUB_FILE_NAME, SEED_INFO_FILE } from './seed.js';
export type { DemoFiles, SeedOptions, SeedResult } from './seed.js';
export { demoConfigYaml, DEMO_JOB, DEMO_PULL_JOBS, DEMO_ANALYSIS_AS_OF, DEMO_PORT, type DemoConfigOptions } from './config.js';
import { DEMO_JOB, DEMO_PULL_JOBS } from './config.js';
export { DEMO_QUERIES, DEMO_GRAPHIQL_DOCUMENT, formatDemoQueries, type DemoQuery } from './queries.js';
export { applyDemoEdits, describeEdits, EDIT_TARGETS, type DemoEdit, type EditOutcome } from './edits.js';
export { generateDemoData, DEFAULT_CUSTOMERS, type DemoDataset, type DemoPlan, type DemoLink } from './generate.js';
export { DEMO_TABLES } from './ddl.js';

export { DEFAULT_DEMO_DIR } from './defaults.js';
export const DEMO_CONFIG_FILE = 'crmlink.yaml';

export interface PrepareDemoOptions extends SeedOptions, DemoConfigOptions {}

export interface PreparedDemo {
  /** Absolute directory of the demo. */
  dir: string;
  /** Absolute path of the crmlink.yaml just written. */
  configPath: string;
  files: DemoFiles;
  /** The source databases were (re)created now. */
  created: boolean;
  /**
   * No hub exists yet: the first start on this machine (or after a reseed). Run the demo scenario
   * (sync, edits, sync) before serving; otherwise the hub already holds it.
   */
  fresh: boolean;
  /** Row counts and the overlap plan, when created now. */
  seed: SeedResult;
}

/**
 * Seed the demo databases in `dir` if they are absent (or `force`), and (re)write
 * `dir/crmlink.yaml`. The config is generated: edits to it are overwritten.
 */
export async function prepareDemo(dir: string = DEFAULT_DEMO_DIR, opts: PrepareDemoOptions = {}): Promise<PreparedDemo> {
  const abs = resolve(dir);
  const seed = await seedDemo(abs, opts);
  const configPath = join(abs, DEMO_CONFIG_FILE);
  writeFileSync(configPath, demoConfigYaml(abs, opts));
  return {
    dir: abs,
    configPath,
    files: seed.files,
    created: seed.created,
    fresh: !existsSync(join(abs, HUB_FILE_NAME)),
    seed,
  };
}

export interface DemoScenarioHooks {
  /** Run a sync job once, e.g. `(job) => runJob(app, job)`: DEMO_JOB twice, then each of DEMO_PULL_JOBS. */
  sync: (job: string) => Promise<unknown>;
  /** Then refresh the customer analysis, e.g. `() => refreshAnalysis(app.hub, app.config.analysis, { kind: 'full' })`. */
  analyze?: () => Promise<unknown>;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

export interface DemoScenarioResult {
  first: unknown;
  /** Empty when the first sync failed (the edits would otherwise look like initial data). */
  edits: DemoEdit[];
  /** null when the first sync failed. */
  second: unknown;
  /** The pull jobs' results by job (empty when the first sync failed). */
  pulls: Record<string, unknown>;
}

/** A sync result that says it failed (a RunReport with status 'failed'). */
function failed(result: unknown): boolean {
  return typeof result === 'object' && result !== null && 'status' in result && (result as { status: unknown }).status === 'failed';
}

/**
 * The demo flow between seeding and serving: first sync (links customers across ERP and finance,
 * copies them into the hub, reports the conflicts the data already has), the edits people make in
 * the source systems, second sync (merges them field by field; one manual conflict). A first sync
 * that reports `status: 'failed'` stops the scenario there.
 */
export async function runDemoScenario(demo: Pick<PreparedDemo, 'files'>, hooks: DemoScenarioHooks): Promise<DemoScenarioResult> {
  const log = hooks.log ?? (() => {});
  log('sync 1/2: linking ERP and finance customers into the hub …');
  const first = await hooks.sync(DEMO_JOB);
  if (failed(first)) {
    log('the first sync failed: the demo edits are not applied (fix the cause, then `crmlink demo --reset`)');
    return { first, edits: [], second: null, pulls: {} };
  }
  log('editing the source systems, as their users would:');
  const edits = await applyDemoEdits(demo.files);
  for (const line of describeEdits(edits)) log(`  ${line}`);
  log('sync 2/2: merging the edits …');
  const second = await hooks.sync(DEMO_JOB);
  log('copying products, orders and invoices into the hub for the customer analysis …');
  const pulls: Record<string, unknown> = {};
  for (const job of DEMO_PULL_JOBS) pulls[job] = await hooks.sync(job);
  if (hooks.analyze) {
    log('analysing customers (客户分析) …');
    await hooks.analyze();
  }
  return { first, edits, second, pulls };
}
