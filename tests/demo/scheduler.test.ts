/**
 * `crmlink demo` serves with the scheduler running, as the config it writes promises ("every five
 * minutes"): the real binary, a real port, and the scheduler's state read over GraphQL. With
 * --no-schedule it says that jobs run only on demand, and GraphQL agrees.
 */
import { afterAll, describe, expect, test } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const BIN = resolve(import.meta.dirname, '../../bin/crmlink.mjs');
const root = mkdtempSync(join(tmpdir(), 'crmlink-demo-scheduler-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface SchedulerAnswer {
  syncScheduler: { running: boolean; nextRunAt: string | null; jobs: { job: string; schedule: string; nextRunAt: string | null }[] };
  syncJobs: { name: string; nextRunAt: string | null }[];
}

/** Start the demo, wait for its banner, ask GraphQL about the scheduler, stop it with SIGTERM. */
async function demoScheduler(args: string[]): Promise<{ stdout: string; answer: SchedulerAnswer; code: number | null }> {
  const child = spawn(process.execPath, [BIN, 'demo', '--dir', join(root, 'demo'), '--port', '0', ...args], {
    env: { ...process.env, CRMLINK_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.resume();
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  try {
    await expect.poll(() => /GraphiQL at (http:\/\/\S+)\/graphql/.exec(stdout)?.[1], { timeout: 120_000, interval: 200 }).toBeTruthy();
    await expect.poll(() => stdout.includes('Press Ctrl+C'), { timeout: 10_000, interval: 100 }).toBe(true);
    const base = /GraphiQL at (http:\/\/\S+)\/graphql/.exec(stdout)![1];
    const res = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ syncScheduler { running nextRunAt jobs { job schedule nextRunAt } } syncJobs { name nextRunAt } }' }),
    });
    const body = (await res.json()) as { data: SchedulerAnswer; errors?: unknown };
    expect(body.errors).toBeUndefined();
    child.kill('SIGTERM');
    return { stdout, answer: body.data, code: await exited };
  } finally {
    child.kill('SIGKILL');
  }
}

describe('crmlink demo and its schedule', () => {
  test('runs every scheduled job of the demo config, each next run within five minutes, and says so', async () => {
    const started = Date.now();
    const { stdout, answer, code } = await demoScheduler([]);
    expect(code).toBe(0);
    const s = answer.syncScheduler;
    expect(s.running).toBe(true);
    expect(s.jobs.map((j) => j.job).sort()).toEqual(['customers', 'invoices', 'order-lines', 'orders', 'products']);
    for (const j of s.jobs) {
      expect(j.schedule).toBe('*/5 * * * *');
      const next = Date.parse(j.nextRunAt ?? '');
      expect(next).toBeGreaterThan(started);
      expect(next - Date.now()).toBeLessThanOrEqual(5 * 60_000);
    }
    expect(s.nextRunAt).toBe(s.jobs.map((j) => j.nextRunAt).sort()[0]);
    expect(answer.syncJobs.every((j) => j.nextRunAt !== null)).toBe(true);
    expect(stdout).toMatch(/scheduler: running 5 sync jobs on their schedules/);
    expect(stdout).toMatch(/ {2}customers \(\*\/5 \* \* \* \*\), next run \d{4}-\d\d-\d\dT/);
  }, 180_000);

  test('--no-schedule: no scheduled run, and the banner says jobs run on demand', async () => {
    const { stdout, answer, code } = await demoScheduler(['--no-schedule']);
    expect(code).toBe(0);
    expect(answer.syncScheduler).toEqual({ running: false, nextRunAt: null, jobs: [] });
    expect(answer.syncJobs.every((j) => j.nextRunAt === null)).toBe(true);
    expect(stdout).toContain('scheduler: off (--no-schedule)');
  }, 180_000);
});
