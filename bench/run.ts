/**
 * `npm run bench`: runs every benchmark in its own process (so one's memory does not colour
 * another's RSS figures) and prints what each reports. Sizes are modest by default so the whole
 * run fits in a few minutes; `--full` gives the sizes quoted in BENCHMARKS.md (about an hour, most
 * of it the 1M-row sync and the 100k-customer data sets).
 *
 *   npm run bench                               all, modest sizes
 *   npm run bench -- --full                     all, published sizes
 *   npm run bench -- customer360 list           only the benches whose file name contains a word
 *   npm run bench -- --full --out results.json  also write every bench's JSON into one file
 *   npm run bench -- --compiled                 the benches that report memory run compiled
 *                                               (dist/bench/, built first), as the service runs
 *
 * Needs PostgreSQL and MariaDB on 127.0.0.1 (PG_URL, MYSQL_URL; the defaults are the local
 * servers with trust / no password). All traffic stays on 127.0.0.1.
 */
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { resolve } from 'node:path';

interface Bench {
  name: string;
  file: string;
  args: string[];
  fullArgs: string[];
  /** Compiled by tsconfig.bench.json: with --compiled it runs from dist/bench/, without tsx. */
  compilable: boolean;
}

/** The benches whose figures include the process's memory (tsx adds ~45 MiB to it): see tsconfig.bench.json. */
const COMPILABLE = new Set(['sync.bench.ts', 'read-memory.bench.ts']);

/** One bench: its arguments as typed on a command line, at the modest and the published sizes. */
const bench = (name: string, file: string, args: string, fullArgs: string): Bench => ({ name, file, args: args.split(' '), fullArgs: fullArgs.split(' '), compilable: COMPILABLE.has(file) });

const BENCHES: Bench[] = [
  bench('cli: process start, compiled vs tsx', 'startup.bench.ts', '--runs 10', '--runs 30'),
  bench('tracing: a source statement with tracing off and on', 'tracing.bench.ts', '--statements 5000', '--statements 20000'),
  bench('identity: match N vs N customers', 'identity.bench.ts', '20000', '100000'),
  bench('connectors: bounded-memory read', 'read-memory.bench.ts', '100000', '1000000'),
  bench('connectors: row mapping vs a hand-written conversion', 'mapping.bench.ts', '--rows 100000', '--rows 1000000'),
  bench('libraries: width folding vs NFKC, zone conversion vs temporal-polyfill, GraphQL limits vs graphql-armor', 'libraries.bench.ts', '--values 50000 --rounds 2', '--values 200000 --rounds 3 --all-zones'),
  bench('graphql: customer-360 over PostgreSQL + MariaDB + SQLite vs hand-written SQL', 'customer360.bench.ts', '--scales 1000,5000 --seconds 2 --rounds 1', '--scales 10000,100000 --seconds 5 --rounds 2'),
  bench('graphql: single-source list vs PostGraphile', 'list.bench.ts', '--customers 5000 --seconds 2 --rounds 1', '--customers 100000 --seconds 5 --rounds 2'),
  bench('sync: initial load, incremental runs, peak RSS, change-to-visible lag', 'sync.bench.ts', '--sizes 10000 --lag-samples 3', '--sizes 10000,100000,1000000 --lag-samples 10'),
  bench('sync: key reconcile (hard deletes under timestamp capture), keys/s, RSS, statements', 'reconcile.bench.ts', '--rows 100000 --deleted 1000', '--rows 1000000 --deleted 1000'),
  bench('analysis: full refresh, and incremental after changed orders (SQLite hub)', 'analysis.bench.ts', '--customers 10000 --lines 100000 --changed 1000', '--customers 100000 --lines 1000000 --changed 1000'),
  bench('propagation: change to visible in every other system (5-minute cron, events only)', 'propagation.bench.ts', '--samples 20 --customers 1000', '--samples 200 --customers 10000'),
  bench('poll: change to visible for sources that cannot notify (short poll, 5-minute cron), and the cost of a quiet source', 'poll.bench.ts', '--samples 10 --customers 1000 --poll-ms 1000 --quiet-seconds 20', '--samples 50 --customers 1000 --poll-ms 250,1000 --quiet-seconds 60'),
  bench('load: 100 GraphQL clients on the HTTP server while the sync job runs', 'load.bench.ts', '--seconds 15 --customers 5000', '--seconds 60 --customers 10000'),
];

const argv = process.argv.slice(2);
const full = argv.includes('--full');
const compiled = argv.includes('--compiled');
const outAt = argv.indexOf('--out');
const out = outAt >= 0 ? argv[outAt + 1] : undefined;
const only = argv.filter((a, i) => !a.startsWith('--') && argv[i - 1] !== '--out');
const machine = { cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10, node: process.version };
console.log(`machine: ${machine.cores} cores (${machine.cpu}), ${machine.memoryGiB} GiB, node ${machine.node}`);

/** How a bench starts, its script from the repository root: compiled from dist/bench/ with --compiled (if it can be), else its source through tsx. */
function entryOf(b: Bench): { nodeFlags: string[]; script: string } {
  if (compiled && b.compilable) return { nodeFlags: [], script: `dist/bench/${b.file.replace(/\.ts$/, '.js')}` };
  return { nodeFlags: ['--import', 'tsx'], script: `bench/${b.file}` };
}

function run(b: Bench, args: string[]): Promise<{ code: number | null; stdout: string; seconds: number }> {
  const started = performance.now();
  const { nodeFlags, script } = entryOf(b);
  return new Promise((done) => {
    const child = spawn(process.execPath, [...nodeFlags, resolve(import.meta.dirname, '..', script), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      process.stdout.write(d);
    });
    child.on('close', (code) => done({ code, stdout, seconds: Math.round((performance.now() - started) / 100) / 10 }));
  });
}

/** A bench prints one JSON document, or one JSON object per line (sync): keep what parses. */
function parse(stdout: string): unknown {
  const text = stdout.trim();
  try {
    return JSON.parse(text);
  } catch {
    const lines = text
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => {
        try {
          return JSON.parse(l) as unknown;
        } catch {
          return null;
        }
      })
      .filter((x) => x !== null);
    return lines.length ? lines : text;
  }
}

if (compiled) {
  console.log('$ npm run bench:build');
  const build = spawnSync('npm', ['run', 'bench:build'], { stdio: 'inherit' });
  if (build.status !== 0) throw new Error(`npm run bench:build exited with ${build.status}`);
}

let failed = 0;
const results: Record<string, unknown> = {};
for (const b of BENCHES) {
  if (only.length && !only.some((o) => b.file.includes(o))) continue;
  const args = full ? b.fullArgs : b.args;
  const { nodeFlags, script } = entryOf(b);
  const command = ['node', ...nodeFlags, script, ...args].join(' ');
  console.log(`\n== ${b.name}\n$ ${command}`);
  const r = await run(b, args);
  results[b.file] = { command, seconds: r.seconds, exit: r.code, output: parse(r.stdout) };
  console.log(`-- ${b.file}: ${r.seconds} s`);
  if (r.code !== 0) {
    failed++;
    console.log(`!! ${b.file} exited with ${r.code}`);
  }
}
if (out) {
  writeFileSync(out, `${JSON.stringify({ at: new Date().toISOString(), full, compiled, machine, results }, null, 2)}\n`);
  console.log(`\nwrote ${out}`);
}
process.exitCode = failed ? 1 : 0;
