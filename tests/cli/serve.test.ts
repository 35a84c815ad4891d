/**
 * `crmlink serve` as an operator runs it: a real process, a real port, readiness over HTTP, and a
 * graceful stop on SIGTERM (scheduler stopped, pools closed, exit code 0).
 */
import { describe, expect, test } from 'vitest';
import { spawn } from 'node:child_process';
import { CRMLINK_BIN, customerConfig, OPEN_ADMIN_SERVER, pullCustomersJob, tempDirForTests, writeConfig, writeCustomerErp } from '../support/cli.js';

const dir = tempDirForTests('serve');

describe('crmlink serve', () => {
  test('serves health, readiness and GraphQL, and stops cleanly on SIGTERM', async () => {
    await writeCustomerErp(dir);
    const config = writeConfig(dir, customerConfig({ rest: [...pullCustomersJob(', schedule: "* * * * * *"'), ...OPEN_ADMIN_SERVER] }));

    const child = spawn(process.execPath, [CRMLINK_BIN, 'serve', '--config', config, '--port', '0'], {
      env: { ...process.env, CRMLINK_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));

    await expect.poll(() => /serving GraphQL at (http:\/\/\S+)\/graphql/.exec(stdout)?.[1], { timeout: 30_000 }).toBeTruthy();
    const base = /serving GraphQL at (http:\/\/\S+)\/graphql/.exec(stdout)![1];

    expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { sources: Record<string, { ok: boolean }> }).sources.erp.ok).toBe(true);

    // The scheduled job pulls the ERP customer into the hub; GraphQL serves it.
    await expect
      .poll(
        async () => {
          const r = await fetch(`${base}/graphql`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ query: '{ customers(first: 5) { nodes { code name } } }' }),
          });
          return ((await r.json()) as { data?: { customers: { nodes: unknown[] } } }).data?.customers.nodes;
        },
        { timeout: 30_000, interval: 500 },
      )
      .toEqual([{ code: 'C001', name: '北京华为技术有限公司' }]);

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr).toContain('"msg":"stopped"');
  }, 90_000);
});
