/**
 * Process start: `crmlink --help` from the compiled dist/ (what an install runs) against the same
 * CLI through tsx (how it ran before the build step) and against an empty `node -e ""` (the floor
 * no CLI can beat). Each command runs N times, interleaved so load on the machine hits all alike;
 * medians in milliseconds.
 *
 *   node --import tsx bench/startup.bench.ts [--runs 20]
 *
 * Needs dist/ (`npm run build`).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { flags, round } from './lib/common.js';

const f = flags();
const RUNS = f.num('runs', 20);
const root = resolve(import.meta.dirname, '..');
if (!existsSync(resolve(root, 'dist/cli/main.js'))) throw new Error('dist/ is missing: run `npm run build` first');

const commands: Record<string, string[]> = {
  'node -e ""': ['-e', ''],
  'crmlink --help (compiled)': [resolve(root, 'bin/crmlink.mjs'), '--help'],
  'crmlink --help (tsx)': ['--import', 'tsx', '--input-type=module', '-e', `const { main } = await import(${JSON.stringify(resolve(root, 'cli/main.ts'))}); process.exitCode = await main(['node', 'crmlink', '--help']);`],
};

const times = new Map<string, number[]>(Object.keys(commands).map((k) => [k, []]));
for (let i = 0; i < RUNS; i++) {
  for (const [name, args] of Object.entries(commands)) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'ignore' });
    if (r.status !== 0) throw new Error(`${name} exited with ${r.status}`);
    times.get(name)!.push(performance.now() - t0);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const medians = Object.fromEntries([...times].map(([k, xs]) => [k, round(median(xs), 0)]));
const floor = medians['node -e ""'];
console.log(
  JSON.stringify({
    runs: RUNS,
    medianMs: medians,
    compiledOverFloorMs: medians['crmlink --help (compiled)'] - floor,
    tsxOverFloorMs: medians['crmlink --help (tsx)'] - floor,
    speedupVsTsx: round(medians['crmlink --help (tsx)'] / medians['crmlink --help (compiled)']),
  }),
);
