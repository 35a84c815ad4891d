/**
 * `crmlink sync …` holds V8's old generation to a fifth above what its last full collection kept
 * (bin/crmlink.mjs, cli/heap-growth.ts); other commands, and a process given a
 * heap flag of its own, keep V8's sizing. Checked by the old generation a churning process ends
 * with — garbage made fast while a steady set lives, as a sync run allocates — against a command
 * that keeps V8's sizing, in the same test. No figure is asserted, only which of the two is smaller.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { heapFlagGiven } from '../../cli/heap-growth.js';
import { sqliteErpConfig } from '../support/config.js';

const BIN = resolve(import.meta.dirname, '../../bin/crmlink.mjs');
const dir = mkdtempSync(join(tmpdir(), 'crmlink-heap-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('heapFlagGiven', () => {
  it('sees an old-generation flag on the command line or in NODE_OPTIONS, in either spelling', () => {
    expect(heapFlagGiven([], '')).toBe(false);
    expect(heapFlagGiven(['--import', 'file:///x.mjs', '--max-semi-space-size=16'], '--enable-source-maps')).toBe(false);
    expect(heapFlagGiven(['--max-old-space-size=512'], '')).toBe(true);
    expect(heapFlagGiven(['--max_old_space_size=512'], '')).toBe(true);
    expect(heapFlagGiven([], '--enable-source-maps  --heap-growing-percent=50')).toBe(true);
    expect(heapFlagGiven([], '--max-heap-size=300')).toBe(true);
  });
});

/**
 * A preload that, when the command ends, keeps 200,000 small objects and churns ten times that in
 * garbage, then writes the old generation's size (V8's old space) to the file CRMLINK_HEAP_LOG names.
 */
function churnPreload(): string {
  const file = join(dir, 'churn.mjs');
  writeFileSync(
    file,
    `import { getHeapSpaceStatistics } from 'node:v8'; import { writeFileSync } from 'node:fs';\n` +
      `process.on('exit', () => {\n` +
      `  const keep = (globalThis.kept = []); for (let i = 0; i < 200000; i++) keep.push({ a: 'k' + i, b: [i] });\n` +
      `  const junk = []; for (let r = 0; r < 40; r++) { const page = []; for (let i = 0; i < 20000; i++) page.push({ s: 'row' + i + r, v: [i, r] }); junk.push(page); if (junk.length > 8) junk.shift(); }\n` +
      `  writeFileSync(process.env.CRMLINK_HEAP_LOG, String(getHeapSpaceStatistics().find((s) => s.space_name === 'old_space').space_size));\n` +
      `});\n`,
  );
  return pathToFileURL(file).href;
}

let runs = 0;
/** The old space a command's process ends with after the churn, in bytes. */
function oldSpaceAfterChurn(args: string[], nodeFlags: string[] = []): number {
  const log = join(dir, `heap-${++runs}.txt`);
  const env = { ...process.env, NODE_OPTIONS: /--require \S*native-addons\.cjs/.exec(process.env.NODE_OPTIONS ?? '')?.[0] ?? '', CRMLINK_HEAP_LOG: log };
  const r = spawnSync(process.execPath, [...nodeFlags, '--import', churnPreload(), BIN, ...args], { encoding: 'utf8', env });
  expect(r.status, r.stderr).toBe(0);
  return Number(readFileSync(log, 'utf8'));
}

it('`sync` commands hold the old generation; `config check` and a process given a heap flag do not', () => {
  new Database(join(dir, 'erp.db')).exec('CREATE TABLE Customer (code text primary key, name text)');
  const config = join(dir, 'crmlink.yaml');
  writeFileSync(config, sqliteErpConfig({ hub: './hub.db', erp: './erp.db', pullJob: true }));
  const held = oldSpaceAfterChurn(['sync', 'status', '--config', config]);
  const control = oldSpaceAfterChurn(['config', 'check', '--config', config]);
  const given = oldSpaceAfterChurn(['sync', 'status', '--config', config], ['--max-old-space-size=4096']);
  expect(held, 'sync status let the old generation grow as V8 does by default').toBeLessThan(control);
  expect(given, 'a heap flag given to Node was overridden').toBeGreaterThan(held);
});
