/**
 * Idle `crmlink serve` memory: the compiled CLI serving a config, its RSS (VmRSS) read 5 s and 30 s
 * after /healthz first answers, alternating, `--runs` times each: as `crmlink serve` starts by
 * default (bin/crmlink.mjs keeps the young generation at its initial size), with Node's own
 * young-generation sizing (`--max-semi-space-size=16`, Node 20's maximum, which bin/crmlink.mjs
 * leaves alone: how every server ran before), and with `--max-semi-space-size=<--semi>`.
 *
 *   node --import tsx bench/idle-serve.bench.ts --config examples/demo/crmlink.yaml [--runs 3] [--semi 1]
 *
 * Needs dist/ (`npm run build`) and a config whose hub exists (`crmlink demo --no-serve` makes one).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { flags } from './lib/common.js';

const f = flags();
const root = resolve(import.meta.dirname, '..');
const config = resolve(f.get('config', 'examples/demo/crmlink.yaml'));
const runs = f.num('runs', 3);
const semi = `--max-semi-space-size=${f.get('semi', '1')}`;
const variants: Record<string, string[]> = { default: [], "--max-semi-space-size=16 (Node's sizing)": ['--max-semi-space-size=16'], [semi]: [semi] };
if (!existsSync(resolve(root, 'dist/cli/main.js'))) throw new Error('dist/ is missing: run `npm run build` first');

const rssMiB = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

async function once(nodeFlags: string[], port: number): Promise<{ at5s: number; at30s: number }> {
  const child = spawn(process.execPath, [...nodeFlags, resolve(root, 'bin/crmlink.mjs'), 'serve', '--config', config, '--port', String(port)], { stdio: 'ignore', env: { ...process.env, NODE_OPTIONS: '' } });
  try {
    for (;;) {
      const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false);
      if (ok) break;
      if (child.exitCode !== null) throw new Error(`crmlink serve exited with ${child.exitCode}`);
      await sleep(100);
    }
    await sleep(5000);
    const at5s = rssMiB(child.pid!);
    await sleep(25000);
    return { at5s: Math.round(at5s), at30s: Math.round(rssMiB(child.pid!)) };
  } finally {
    child.kill();
  }
}

const loadAverage = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
const loadAtStart = loadAverage();
const out: Record<string, { at5s: number; at30s: number }[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
let port = 4700 + Math.floor(Math.random() * 200);
for (let i = 0; i < runs; i++) for (const [name, nodeFlags] of Object.entries(variants)) out[name].push(await once(nodeFlags, port++));
console.log(JSON.stringify({ bench: 'idle-serve', config, loadAverage: { atStart: loadAtStart, atEnd: loadAverage() }, rssMiB: out }));
