/**
 * `npm run bench`: runs every benchmark in its own process (so one's memory does not colour
 * another's RSS figures) and prints what each reports. Sizes are modest by default so the whole
 * run fits in a few minutes; pass `--full` for the sizes quoted in BENCHMARKS.md.
 */
import { spawnSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { resolve } from 'node:path';

interface Bench {
  name: string;
  file: string;
  args: string[];
  fullArgs: string[];
}

const BENCHES: Bench[] = [
  { name: 'identity: match N vs N customers', file: 'identity.bench.ts', args: ['20000'], fullArgs: ['100000'] },
  { name: 'connectors: bounded-memory read', file: 'read-memory.bench.ts', args: ['100000'], fullArgs: ['1000000'] },
  { name: 'graphql: customer-360 vs hand-written SQL', file: 'customer360.bench.ts', args: ['500', '3'], fullArgs: ['2000', '5'] },
  { name: 'sync: initial load and incremental runs', file: 'sync.bench.ts', args: ['10000'], fullArgs: ['100000'] },
];

const full = process.argv.includes('--full');
const only = process.argv.slice(2).filter((a) => !a.startsWith('--'));
console.log(`machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB, node ${process.version}`);

let failed = 0;
for (const b of BENCHES) {
  if (only.length && !only.some((o) => b.file.includes(o))) continue;
  const args = full ? b.fullArgs : b.args;
  console.log(`\n== ${b.name} (bench/${b.file} ${args.join(' ')})`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', resolve(import.meta.dirname, b.file), ...args], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    console.log(`!! ${b.file} exited with ${r.status ?? r.signal}`);
  }
}
process.exitCode = failed ? 1 : 0;
