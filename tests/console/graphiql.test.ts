/**
 * GraphiQL works offline: its page, scripts, styles and editor workers come from the server
 * itself (server/graphiql.ts), so on a machine without internet it opens and runs a query. The
 * browser aborts every request that would leave 127.0.0.1, and the test fails if there is one.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { loadConfigFile } from '../../config/load.js';
import { openApp } from '../../app/app.js';
import { silentLogger } from '../../core/logger.js';
import { prepareDemo } from '../../demo/index.js';
import { startServer, type RunningServer } from '../../server/server.js';
import { browserDescribe, keepOffline, launchChromium, SHOTS } from './browser.js';

const root = mkdtempSync(join(tmpdir(), 'crmlink-graphiql-'));
let server: RunningServer;
let browser: Browser | undefined;

beforeAll(async () => {
  const demo = await prepareDemo(join(root, 'demo'), { logLevel: 'silent', port: 0 });
  const app = await openApp(loadConfigFile(demo.configPath, {}), { logger: silentLogger });
  server = await startServer(app, { port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
  rmSync(root, { recursive: true, force: true });
});

browserDescribe('GraphiQL offline')('GraphiQL in headless Chromium', () => {
  test('opens, runs a query and answers, with no request leaving 127.0.0.1', async () => {
    mkdirSync(SHOTS, { recursive: true });
    browser = await launchChromium();
    const ctx = await browser.newContext({ viewport: { width: 1366, height: 768 }, serviceWorkers: 'block' });
    const external: string[] = [];
    await keepOffline(ctx, external);
    const page = await ctx.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const res = await page.goto(`http://127.0.0.1:${server.port}/graphql`, { headers: { accept: 'text/html' } } as never);
    expect(res?.status()).toBe(200);
    // The run button exists only once GraphiQL has rendered (a blank page has none).
    const run = page.locator('.graphiql-execute-button');
    await run.waitFor({ timeout: 30_000 });
    // The default document is the demo's customer 360: run it, as a user would.
    const answered = page.waitForResponse((r) => r.url().endsWith('/graphql') && r.request().method() === 'POST' && (r.request().postData() ?? '').includes('"query"') && !(r.request().postData() ?? '').includes('IntrospectionQuery'));
    await run.click();
    // The document holds two operations: GraphiQL asks which one.
    await page.getByRole('menuitem', { name: 'Customer360' }).click();
    const response = await answered;
    expect(response.status()).toBe(200);
    const body = (await response.json()) as { data?: unknown; errors?: unknown[] };
    expect(body.errors).toBeUndefined();
    expect(body.data).toBeTruthy();
    await expect.poll(() => page.locator('.graphiql-response').innerText(), { timeout: 10_000 }).toContain('"data"');
    await page.screenshot({ path: `${SHOTS}graphiql.png` });
    expect(external).toEqual([]);
    expect(errors).toEqual([]);
  });
});
