/**
 * HTTP load generator, run as a child process so that the clients' CPU is not taken from the
 * server under test: `clients` closed-loop clients POST a GraphQL body for `seconds` over
 * keep-alive connections to 127.0.0.1 and check every answer (200, JSON with data and without
 * errors).
 *
 *   node --import tsx bench/lib/http-load.ts '<json spec>'
 *   spec: { url, bodies: string[] (round-robin), clients, seconds, expect?: string }
 *
 * Prints one JSON line: LoadResult plus status counts and the first errors. Also exported:
 * runHttpLoad(), which spawns it and parses the answer.
 */
import { spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { closedLoop, percentile, round, type LoadResult } from './common.js';

export interface HttpLoadSpec {
  url: string;
  bodies: string[];
  clients: number;
  seconds: number;
  /** A substring every good answer contains (default '"data"'). */
  expect?: string;
  headers?: Record<string, string>;
}

export interface HttpLoadResult extends LoadResult {
  /** Per body (index in spec.bodies): requests, p50, p99. */
  byBody: { requests: number; p50ms: number; p99ms: number }[];
  statuses: Record<string, number>;
  firstErrors: string[];
  bytes: number;
}

const SELF = fileURLToPath(import.meta.url);

/** Spawn the load generator and wait for its figures. */
export function runHttpLoad(spec: HttpLoadSpec): Promise<HttpLoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', SELF, JSON.stringify(spec)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`http-load exited with ${code}: ${out.slice(0, 500)}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').pop() as string) as HttpLoadResult);
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  });
}

async function main(spec: HttpLoadSpec): Promise<void> {
  const url = new URL(spec.url);
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) throw new Error(`load only goes to this machine's loopback, not ${url.hostname}`);
  const agent = new Agent({ keepAlive: true, maxSockets: spec.clients });
  const statuses: Record<string, number> = {};
  const firstErrors: string[] = [];
  let bytes = 0;
  let next = 0;
  const expect = spec.expect ?? '"data"';
  const perBody: number[][] = spec.bodies.map(() => []);
  const once = () =>
    new Promise<void>((resolve, reject) => {
      const which = next++ % spec.bodies.length;
      const body = spec.bodies[which];
      const t = performance.now();
      const req = request(
        url,
        { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...spec.headers } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString();
            bytes += text.length;
            statuses[res.statusCode ?? 0] = (statuses[res.statusCode ?? 0] ?? 0) + 1;
            if (res.statusCode !== 200 || !text.includes(expect) || text.includes('"errors"')) reject(new Error(`HTTP ${res.statusCode}: ${text.slice(0, 300)}`));
            else {
              perBody[which].push(performance.now() - t);
              resolve();
            }
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  // Warm-up: a second of traffic that is not counted (JIT, pools, caches).
  await closedLoop(Math.min(spec.clients, 4), Math.min(1, spec.seconds / 10), once);
  for (const k of Object.keys(statuses)) delete statuses[k];
  for (const l of perBody) l.length = 0;
  bytes = 0;
  const errors: unknown[] = [];
  const r = await closedLoop(spec.clients, spec.seconds, once, { errors });
  for (const e of errors) firstErrors.push(String(e instanceof Error ? e.message : e).slice(0, 300));
  agent.destroy();
  const byBody = perBody.map((l) => {
    l.sort((a, b) => a - b);
    return { requests: l.length, p50ms: round(percentile(l, 50)), p99ms: round(percentile(l, 99)) };
  });
  process.stdout.write(`${JSON.stringify({ ...r, byBody, statuses, firstErrors, bytes })}\n`);
}

if (process.argv[1] === SELF) await main(JSON.parse(process.argv[2]) as HttpLoadSpec);
