/**
 * The layer rule (.dependency-cruiser.cjs, `npm run check:layers` in `npm test`): the project has
 * no upward import and no cycle, and the rule does catch both (checked on a throwaway tree).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const DEPCRUISE = join(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');
const CONFIG = join(ROOT, '.dependency-cruiser.cjs');

function cruise(cwd: string): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [DEPCRUISE, '--config', CONFIG, '.'], { cwd, encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
}

const tmp = mkdtempSync(join(tmpdir(), 'crmlink-layers-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmp, 'tree-'));
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext' } }));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

it('the project has no upward import and no import cycle', () => {
  const r = cruise(ROOT);
  expect(r.out).toMatch(/no dependency violations found/);
  expect(r.status).toBe(0);
});

it('an upward import, schema reaching into sync, and a cycle each fail the check', () => {
  const dir = tree({
    'model/entities.ts': "import { startServer } from '../server/server.js';\nexport const x = startServer;\n",
    'server/server.ts': 'export const startServer = 1;\n',
    'schema/ops.ts': "import { runJob } from '../sync/engine.js';\nexport const y = runJob;\n",
    'sync/engine.ts': 'export const runJob = 2;\n',
    'hub/a.ts': "import { b } from './b.js';\nexport const a = b;\n",
    'hub/b.ts': "import { a } from './a.js';\nexport const b = () => a;\n",
  });
  const r = cruise(dir);
  expect(r.status).not.toBe(0);
  expect(r.out).toMatch(/model-imports-upward: model\/entities\.ts → server\/server\.ts/);
  expect(r.out).toMatch(/schema-imports-sync: schema\/ops\.ts → sync\/engine\.ts/);
  expect(r.out).toMatch(/no-cycles: hub\/a\.ts/);
});
