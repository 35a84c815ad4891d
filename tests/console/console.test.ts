/**
 * The operations console end to end: the real server (startServer) over the embedded demo after
 * its sync scenario, API-key authentication, and the page driven in headless Chromium (Debian's
 * package, through playwright-core; never a downloaded browser).
 *
 * Over HTTP: /console refuses a request without credentials, serves its files with the right
 * types and caching, never outside console/, and opens a session only for console roles; the
 * console's GraphQL fields follow the roles.
 *
 * In the browser, as an operator: sign in, test a source, resolve conflicts (keep a side, enter a
 * value, bulk with a preview), a dry run that shows the plan and writes nothing, run now and find
 * the decisions in the source databases, a row the ERP refuses parked and retried, a merge
 * candidate accepted, the customer 360 with provenance, and an unmerge; the read-only and refused
 * roles; both languages. A screenshot of each screen goes to tests/.screenshots/. No request may
 * leave the machine.
 *
 * Without /usr/bin/chromium the browser part is skipped with a notice (CI=true: it fails).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request as httpRequest } from 'node:http';
import type { Browser, BrowserContext, Page, Request } from 'playwright-core';
import { runJob } from '../../sync/engine.js';
import ExcelJS from 'exceljs';
import { EDIT_TARGETS } from '../../demo/index.js';
import { takeBackup } from '../../hub/backup/index.js';
import { SURVEY_HEADER_ROW, SURVEY_SHEET, surveysFile } from '../../demo/surveys.js';
import { openSqlite } from '../../demo/seed.js';
import { shanghaiDateTime } from '../../demo/time.js';
import { SignJWT } from 'jose';
import { KEYS, startConsoleFixture, startVariant, type ConsoleFixture } from './support.js';
import { CHROMIUM, HAVE_CHROMIUM, launchChromium, SHOTS } from './browser.js';

const IN_CI = process.env.CI === 'true';
const BLOCKED_PHONE = '028-00000000';
const TRIGGER = 'console_test_reserved_phone';

if (!HAVE_CHROMIUM && !IN_CI) {
  console.warn(
    `\n${'!'.repeat(78)}\n! console browser tests SKIPPED: no Chromium at ${CHROMIUM}.\n! Install Debian's package (apt-get install chromium) or set CRMLINK_CHROMIUM.\n${'!'.repeat(78)}\n`,
  );
}

let f: ConsoleFixture;
beforeAll(async () => {
  f = await startConsoleFixture();
});
afterAll(async () => {
  await f?.close();
});

// ------------------------------------------------------------------------------------------------
// helpers

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** node:http, so the path goes out exactly as written (fetch would normalise ../ away). */
function raw(method: string, path: string, headers: Record<string, string> = {}, port = f.server.port): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- responses are walked freely
async function gql(key: string, query: string, variables: Record<string, unknown> = {}): Promise<{ data: any; errors?: { message: string; extensions?: { code?: string } }[] }> {
  const res = await fetch(`${f.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': key },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as never;
}

async function data(query: string, variables: Record<string, unknown> = {}) {
  const r = await gql(KEYS.admin, query, variables);
  expect(r.errors, query.slice(0, 80)).toBeUndefined();
  return r.data;
}

async function assetVersion(): Promise<string> {
  const page = await raw('GET', '/console');
  const m = /\/console\/assets\/([0-9a-f]+)\/style\.css/.exec(page.body);
  expect(m, 'the sign-in page links its stylesheet').not.toBeNull();
  return m![1];
}

async function sourceSql(system: 'erp' | 'finance', sql: string): Promise<void> {
  const db = openSqlite(f.demo.files[system]);
  try {
    await db.raw(sql);
  } finally {
    await db.destroy();
  }
}

// ------------------------------------------------------------------------------------------------

describe('/console over HTTP (auth mode apiKey)', () => {
  test('refuses a request without credentials: the sign-in page with 401, no application code', async () => {
    const r = await raw('GET', '/console');
    expect(r.status).toBe(401);
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(r.headers['cache-control']).toBe('no-store');
    expect(r.headers['www-authenticate']).toMatch(/^Bearer /);
    expect(r.body).toContain('data-page="signin"');
    expect(r.body).toContain('data-auth="apiKey"');
    expect(r.body).not.toContain('app.js');
    // The head every page shares (console/head.html) is in, its links versioned like the other assets.
    expect(r.body).toContain('<meta name="referrer" content="no-referrer">');
    expect(r.body).toMatch(/<link rel="stylesheet" href="\/console\/assets\/[^/"]+\/style\.css">/);
    expect(r.body).not.toMatch(/%[A-Z_]+%/);

    const v = await assetVersion();
    for (const gated of [`/console/assets/${v}/app.js`, `/console/assets/${v}/views/conflicts.js`, `/console/assets/${v}/api.js`]) {
      const g = await raw('GET', gated);
      expect([gated, g.status]).toEqual([gated, 401]);
      expect(g.body).not.toContain('import');
    }
    expect((await raw('GET', '/console', { 'x-api-key': 'not-a-key-0123456789' })).status).toBe(401);
    expect((await raw('GET', '/console', { cookie: 'crmlink_console=forged' })).status).toBe(401);
  });

  test('serves the page to admin and operator roles, read-only roles too, and refuses the others', async () => {
    for (const key of [KEYS.admin, KEYS.operator, KEYS.auditor]) {
      const r = await raw('GET', '/console/', { 'x-api-key': key });
      expect(r.status).toBe(200);
      expect(r.body).toContain('data-page="console"');
      expect(r.body).toContain('<meta name="referrer" content="no-referrer">');
      expect(r.body).not.toMatch(/%[A-Z_]+%/);
    }
    const sales = await raw('GET', '/console', { 'x-api-key': KEYS.sales });
    expect(sales.status).toBe(403);
    expect(sales.body).toContain('role &#34;sales&#34; may not use the operations console');
    expect(sales.body).toContain('<meta name="referrer" content="no-referrer">');
  });

  test('content types, security headers and caching: immutable versioned assets, revalidated page', async () => {
    const key = { 'x-api-key': KEYS.operator };
    const v = await assetVersion();
    const pageRes = await raw('GET', '/console', key);
    expect(pageRes.headers['content-security-policy']).toContain("default-src 'none'");
    expect(pageRes.headers['content-security-policy']).toContain("connect-src 'self'");
    expect(pageRes.headers['x-content-type-options']).toBe('nosniff');
    expect(pageRes.headers['x-frame-options']).toBe('DENY');
    expect(pageRes.headers['cache-control']).toBe('private, no-cache');
    const etag = String(pageRes.headers.etag);
    expect(etag).toMatch(/^".+"$/);
    expect((await raw('GET', '/console', { ...key, 'if-none-match': etag })).status).toBe(304);
    // Every URL of the page is local and versioned.
    for (const m of pageRes.body.matchAll(/(?:src|href)="([^"#]+)"/g)) expect(m[1]).toMatch(new RegExp(`^/console/assets/${v}/`));

    const types: [string, string][] = [
      ['app.js', 'text/javascript; charset=utf-8'],
      ['views/jobs.js', 'text/javascript; charset=utf-8'],
      ['style.css', 'text/css; charset=utf-8'],
      ['favicon.svg', 'image/svg+xml'],
    ];
    for (const [file, type] of types) {
      const r = await raw('GET', `/console/assets/${v}/${file}`, key);
      expect([file, r.status, r.headers['content-type']]).toEqual([file, 200, type]);
      expect(r.headers['cache-control']).toBe('private, max-age=31536000, immutable');
      expect((await raw('GET', `/console/assets/${v}/${file}`, { ...key, 'if-none-match': String(r.headers.etag) })).status).toBe(304);
    }
    // An old page asking for an old version gets today's file, revalidated.
    const old = await raw('GET', '/console/assets/000000000000/app.js', key);
    expect([old.status, old.headers['cache-control']]).toEqual([200, 'private, no-cache']);
    // The sign-in page's own files need no credentials; HEAD has the headers and no body.
    const head = await raw('HEAD', `/console/assets/${v}/style.css`);
    expect([head.status, head.body, Number(head.headers['content-length']) > 1000]).toEqual([200, '', true]);
    expect((await raw('GET', `/console/assets/${v}/signin.js`)).status).toBe(200);
    expect((await raw('PUT', '/console', key)).status).toBe(405);
  });

  test('never serves anything outside console/', async () => {
    const key = { 'x-api-key': KEYS.operator };
    const v = await assetVersion();
    const attempts = [
      `/console/assets/${v}/../../package.json`,
      `/console/assets/${v}/../../../package.json`,
      `/console/assets/${v}/%2e%2e/%2e%2e/package.json`,
      `/console/assets/${v}/..%2f..%2fpackage.json`,
      `/console/assets/${v}/views%5c..%5c..%5c..%5cpackage.json`,
      `/console/assets/${v}/%2e%2e%5c%2e%2e%5cserver%5cconsole.ts`,
      `/console/assets/${v}/.%2e/.%2e/tsconfig.json`,
      `/console/assets/${v}/%00`,
      `/console/assets/${v}/%E0%A4%A`,
      `/console/assets/${v}/`,
      `/console/assets/${v}//etc/passwd`,
      `/console/assets/${v}/index.html`,
      `/console/assets/../../package.json`,
      '/console/../package.json',
      '/console/index.html',
      '/console/signin.html',
      '/console/assets',
      '/console//etc/passwd',
    ];
    for (const path of attempts) {
      const r = await raw('GET', path, key);
      expect([path, r.status >= 400 && r.status < 500]).toEqual([path, true]);
      expect(r.body).not.toContain('"name": "crmlink"');
      expect(r.body).not.toContain('compilerOptions');
      expect(r.body).not.toContain('root:');
    }
  });

  test('a session is opened only for a console role, is HttpOnly and same-site, and ends on sign-out', async () => {
    expect((await raw('POST', '/console/session')).status).toBe(401);
    expect((await raw('POST', '/console/session', { 'x-api-key': 'wrong-key-0123456789' })).status).toBe(401);
    const sales = await raw('POST', '/console/session', { 'x-api-key': KEYS.sales });
    expect(sales.status).toBe(403);
    expect(sales.headers['set-cookie']).toBeUndefined();
    const cross = await raw('POST', '/console/session', { 'x-api-key': KEYS.operator, origin: 'http://evil.example' });
    expect(cross.status).toBe(403);

    const ok = await raw('POST', '/console/session', { 'x-api-key': KEYS.operator, origin: f.url });
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toEqual({ user: 'olivia', role: 'operator', admin: true, write: true });
    const setCookie = String(ok.headers['set-cookie']);
    expect(setCookie).toMatch(/^crmlink_console=[A-Za-z0-9_-]{40,};/);
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Strict');
    expect(setCookie).toContain('Path=/console');
    const cookie = setCookie.split(';')[0];
    expect((await raw('GET', '/console', { cookie })).status).toBe(200);
    const v = await assetVersion();
    expect((await raw('GET', `/console/assets/${v}/app.js`, { cookie })).status).toBe(200);
    // The cookie is no credential for data: GraphQL still wants the key.
    const g = await fetch(`${f.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', cookie }, body: JSON.stringify({ query: '{ viewer { user } }' }) });
    expect(JSON.stringify(await g.json())).toContain('UNAUTHENTICATED');

    const out = await raw('DELETE', '/console/session', { cookie });
    expect(out.status).toBe(204);
    expect(String(out.headers['set-cookie'])).toContain('Max-Age=0');
    expect((await raw('GET', '/console', { cookie })).status).toBe(401);
  });

  test('the console fields follow the roles: operators act, auditors look, others are refused', async () => {
    const viewer = await gql(KEYS.sales, '{ viewer { user role admin write } }');
    expect(viewer.data.viewer).toEqual({ user: 'sam', role: 'sales', admin: false, write: true });
    const salesOps = await gql(KEYS.sales, '{ mergeCandidates { id } }');
    expect(salesOps.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

    const audit = await gql(KEYS.auditor, '{ viewer { write } mergeCandidates { id score a { id } b { id } } sourceActivity { source lastReadAt } }');
    expect(audit.errors).toBeUndefined();
    expect(audit.data.viewer.write).toBe(false);
    expect(audit.data.mergeCandidates.length).toBeGreaterThan(0);
    expect(audit.data.sourceActivity.find((s: { source: string }) => s.source === 'erp').lastReadAt).toMatch(/^\d{4}-/);
    for (const m of [
      `mutation { rejectMergeCandidate(id: "${audit.data.mergeCandidates[0].id}") { id } }`,
      'mutation { retryParked(job: "customers") { retried } }',
      'mutation { unmergeCustomer(mergeId: "1") { mergeId } }',
    ]) {
      expect((await gql(KEYS.auditor, m)).errors?.[0]?.extensions?.code, m).toBe('FORBIDDEN');
    }
    const tested = await gql(KEYS.auditor, 'mutation { testSource(name: "finance") { source ok latencyMs testedAt } }');
    expect(tested.data.testSource).toMatchObject({ source: 'finance', ok: true });

    const bad = await gql(KEYS.operator, 'mutation { testSource(name: "nope") { ok } }');
    expect(bad.errors?.[0]?.extensions?.code).toBe('VALIDATION_FAILED');
    expect(bad.errors?.[0]?.message).toContain('unknown source "nope"');
    const none = await gql(KEYS.operator, 'mutation { unmergeCustomer { mergeId } }');
    expect(none.errors?.[0]?.extensions?.code).toBe('VALIDATION_FAILED');
  });
});

describe('/console in the other auth modes', () => {
  test('jwt: the sign-in asks for a token; a session ends no later than the token', async () => {
    const secret = 'console-jwt-secret-0123456789abcdef';
    const v = await startVariant(
      f,
      `server:
  port: 0
  auth:
    mode: jwt
    jwt: { secret: "\${CONSOLE_JWT_SECRET}", issuer: crmlink-test }
    roles:
      operator: { customers: all, write: true, admin: true }
      sales: { customers: own, write: true }
`,
      { CONSOLE_JWT_SECRET: secret },
    );
    try {
      const token = (role: string, seconds: number) =>
        new SignJWT({ role })
          .setProtectedHeader({ alg: 'HS256' })
          .setSubject('olivia')
          .setIssuer('crmlink-test')
          .setExpirationTime(Math.floor(Date.now() / 1000) + seconds)
          .sign(new TextEncoder().encode(secret));
      const page = await raw('GET', '/console', {}, v.port);
      expect(page.status).toBe(401);
      expect(page.body).toContain('data-auth="jwt"');
      expect((await raw('GET', '/console', { authorization: `Bearer ${await token('operator', 600)}` }, v.port)).status).toBe(200);
      expect((await raw('GET', '/console', { authorization: `Bearer ${await token('sales', 600)}` }, v.port)).status).toBe(403);
      expect((await raw('GET', '/console', { authorization: 'Bearer not.a.token' }, v.port)).status).toBe(401);
      const s = await raw('POST', '/console/session', { authorization: `Bearer ${await token('operator', 120)}` }, v.port);
      expect(s.status).toBe(200);
      const maxAge = Number(/Max-Age=(\d+)/.exec(String(s.headers['set-cookie']))?.[1]);
      expect(maxAge).toBeGreaterThan(100);
      expect(maxAge).toBeLessThanOrEqual(120);
    } finally {
      await v.close();
    }
  });

  test('none: the page opens without signing in when the anonymous role may use it, else 403', async () => {
    const open = await startVariant(f, 'server:\n  port: 0\n  auth: { mode: none, anonymousRole: admin, roles: { admin: { customers: all, write: true, admin: true } } }\n');
    const closed = await startVariant(f, 'server:\n  port: 0\n  auth:\n    mode: none\n    anonymousRole: guest\n    roles: { guest: { customers: all } }\n');
    try {
      const page = await raw('GET', '/console', {}, open.port);
      expect(page.status).toBe(200);
      expect(page.body).toContain('data-auth="none"');
      const refused = await raw('GET', '/console', {}, closed.port);
      expect(refused.status).toBe(403);
      expect(refused.body).toContain('role &#34;guest&#34; may not use the operations console');
    } finally {
      await open.close();
      await closed.close();
    }
  });
});

// ------------------------------------------------------------------------------------------------

const browserSuite = HAVE_CHROMIUM || IN_CI ? describe : describe.skip;

interface WorkbookSurvey {
  customerCode: string;
  date: string;
  channel: string;
  score: number;
  comment: string | null;
}

/** The demo's survey workbook as the sales team sees it, read with exceljs (not through crmlink). */
async function workbookSurveys(dir: string): Promise<WorkbookSurvey[]> {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.readFile(surveysFile(dir));
  const ws = wb.getWorksheet(SURVEY_SHEET);
  if (!ws) throw new Error(`no sheet ${SURVEY_SHEET} in the demo's workbook`);
  const out: WorkbookSurvey[] = [];
  ws.eachRow((row, n) => {
    const no = row.getCell(1).value;
    if (n <= SURVEY_HEADER_ROW || typeof no !== 'string' || !/^MY\d{4}$/.test(no)) return;
    const date = row.getCell(4).value;
    const overall = row.getCell(9).value as { result?: unknown } | number;
    const comment = row.getCell(10).value;
    out.push({
      customerCode: String(row.getCell(2).value),
      date: date instanceof Date ? date.toISOString().slice(0, 10) : String(date),
      channel: String(row.getCell(5).value),
      score: Number(typeof overall === 'object' && overall !== null ? overall.result : overall),
      comment: typeof comment === 'string' && comment !== '' ? comment : null,
    });
  });
  return out;
}

// One operator's session in steps (sign in, resolve conflicts, run the job, retry what parked, merge
// then unmerge the pair): each step starts where the last one left the data, so the order is fixed.
browserSuite('the console in headless Chromium', { shuffle: false }, () => {
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const requests: string[] = [];
  const external: string[] = [];
  const pageErrors: string[] = [];
  /** The pair merged by the merge-candidate test, unmerged by the customer test. */
  let mergedPair: { survivor: string; merged: string } | undefined;

  /** Every request of a context: recorded, and anything not on this machine aborted. */
  async function guard(ctx: BrowserContext): Promise<void> {
    await ctx.route('**/*', (route) => {
      const url = route.request().url();
      const host = new URL(url).hostname;
      if (host === '127.0.0.1' || host === 'localhost') return route.continue();
      external.push(url);
      return route.abort('blockedbyclient');
    });
    ctx.on('request', (r) => requests.push(r.url()));
  }

  async function newContext(locale: string): Promise<BrowserContext> {
    const ctx = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale, serviceWorkers: 'block' });
    await guard(ctx);
    return ctx;
  }

  function watch(p: Page): void {
    p.on('pageerror', (e) => pageErrors.push(e.message));
    p.on('console', (m) => {
      // The sign-in page itself arrives with 401: Chromium logs that as a failed resource.
      if (m.type() === 'error' && !/status of 40[13]/.test(m.text())) pageErrors.push(m.text());
    });
  }

  /** A full-page screenshot, without the passing messages of earlier steps in the way. */
  async function shot(p: Page, name: string): Promise<void> {
    await p.evaluate(() => document.querySelectorAll('.toast').forEach((el) => el.remove()));
    await p.screenshot({ path: `${SHOTS}${name}.png`, fullPage: true });
  }

  /** Go to a screen and wait until it has rendered for that hash. */
  async function show(p: Page, hash: string, view: string): Promise<void> {
    await p.evaluate((h) => {
      location.hash = h;
    }, hash);
    await p.locator(`[data-view="${view}"][data-hash="${hash}"]`).waitFor();
  }

  async function signIn(p: Page, key: string): Promise<void> {
    await p.goto(`${f.url}/console`);
    await p.getByTestId('credential').fill(key);
    await p.getByTestId('signin-submit').click();
  }

  async function toast(p: Page, text: string | RegExp): Promise<void> {
    await p.getByTestId('toast').filter({ hasText: text }).first().waitFor();
  }

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    browser = await launchChromium();
    context = await newContext('en-US');
    page = await context.newPage();
    watch(page);
  });
  afterAll(async () => {
    await browser?.close();
  });

  test('signs in with an API key, kept in the tab only', async () => {
    const res = await page.goto(`${f.url}/console`);
    expect(res?.status()).toBe(401);
    await page.getByTestId('credential').waitFor();
    await shot(page, '01-signin');
    await page.getByTestId('credential').fill('wrong-key-0123456789');
    await page.getByTestId('signin-submit').click();
    await expect.poll(() => page.getByTestId('signin-error').textContent()).toContain('unknown API key');
    await page.getByTestId('credential').fill(KEYS.operator);
    await page.getByTestId('signin-submit').click();
    await page.locator('[data-view="sources"]').waitFor();
    expect(await page.getByTestId('who').textContent()).toBe('olivia · operator');
    expect(await page.evaluate(() => sessionStorage.getItem('crmlink.console.credential'))).toBe(KEYS.operator);
    expect(await page.evaluate(() => localStorage.getItem('crmlink.console.credential'))).toBeNull();
    // A reload keeps the session (cookie for the files, sessionStorage for the API).
    await page.reload();
    await page.locator('[data-view="sources"]').waitFor();
  });

  test('sources: health, dialect, last successful read, test connection', async () => {
    await show(page, '#/sources', 'sources');
    expect(await page.getByTestId('health-erp').textContent()).toContain('reachable');
    expect(await page.getByTestId('last-read-erp').textContent()).toMatch(/\d{4}/);
    expect(await page.getByTestId('last-read-oa').textContent()).toContain('never');
    await page.getByTestId('test-finance').click();
    await toast(page, 'finance: connection OK');
    await shot(page, '02-sources');
  });

  test('backups: the last backup with its time and size, and a warning in both languages when it is stale', async () => {
    const b = await takeBackup(f.app.hub, { dir: join(f.demo.dir, 'backups'), label: 'manual' });
    await page.reload();
    await page.locator('[data-view="sources"]').waitFor();
    const last = await page.getByTestId('backup-last').textContent();
    expect(last).toContain('Last backup');
    expect(last).toMatch(/\d+(\.\d)? (B|KB|MB)/);
    expect(last).toContain(b.manifest.file);
    expect(await page.getByTestId('backup-stale').count()).toBe(0);

    // The same backup, as if taken 30 hours ago.
    const manifest = JSON.parse(readFileSync(b.manifestPath, 'utf8')) as { createdAt: string };
    writeFileSync(b.manifestPath, JSON.stringify({ ...manifest, createdAt: new Date(Date.now() - 30 * 3_600_000).toISOString() }));
    await page.reload();
    await page.getByTestId('backup-stale').waitFor();
    expect(await page.getByTestId('backup-stale').isVisible()).toBe(true);
    expect(await page.getByTestId('backup-stale').textContent()).toContain('older than 26 hours');
    await shot(page, '02b-backup-stale');
    await page.getByTestId('lang').selectOption('zh');
    await expect.poll(() => page.getByTestId('backup-stale').textContent()).toContain('已超过 26 小时');
    await page.getByTestId('lang').selectOption('en');
    await expect.poll(() => page.getByTestId('backup-stale').textContent()).toContain('older than 26 hours');
  });

  test('conflicts: keep a side, enter a value, and resolve in bulk after a preview', async () => {
    const open = (await data('{ conflicts(first: 100) { nodes { id recordId field values { side value } } } }')).conflicts.nodes as {
      id: string;
      recordId: string;
      field: string;
      values: { side: string; value: string }[];
    }[];
    const codes = new Map<string, string>();
    for (const c of open) codes.set(c.recordId, (await data(`{ customer(id: "${c.recordId}") { code } }`)).customer.code);
    const keepSide = open.find((c) => codes.get(c.recordId) === EDIT_TARGETS.phoneConflict && c.field === 'phone')!;
    expect(keepSide, 'the demo leaves a manual phone conflict on C0003').toBeDefined();
    const typed = open.find((c) => c !== keepSide && c.field === 'phone')!;
    const bulk = open.filter((c) => c !== keepSide && c !== typed);
    expect(bulk.length).toBeGreaterThan(0);

    // The ERP refuses one particular phone number (a rule of its own): that push will be parked.
    await sourceSql('erp', `CREATE TRIGGER ${TRIGGER} BEFORE UPDATE OF cCusPhone ON Customer WHEN NEW.cCusPhone = '${BLOCKED_PHONE}' BEGIN SELECT RAISE(ABORT, 'ERP rule: phone ${BLOCKED_PHONE} is reserved'); END`);

    await show(page, '#/conflicts', 'conflicts');
    await page.getByTestId('filter-field').selectOption('phone');
    await page.waitForURL(/field=phone/);
    await page.locator(`tr[data-conflict="${keepSide.id}"]`).waitFor();
    expect(await page.getByTestId('conflict-count').textContent()).toContain(`${open.filter((c) => c.field === 'phone').length} shown`);
    await shot(page, '03-conflicts');

    // Keep finance's value.
    await page.getByTestId(`keep-${keepSide.id}-finance`).click();
    await page.getByTestId('confirm-resolve-dialog').waitFor();
    expect(await page.getByTestId('confirm-resolve-dialog').textContent()).toContain('0755-68880003');
    await page.getByTestId('confirm-resolve').click();
    await toast(page, /Resolved .*0755-68880003/);

    // Enter a value.
    await page.locator(`tr[data-conflict="${typed.id}"]`).waitFor();
    await page.getByTestId(`value-${typed.id}`).fill(BLOCKED_PHONE);
    await page.getByTestId(`use-value-${typed.id}`).click();
    await page.getByTestId('confirm-resolve').click();
    await toast(page, `Resolved`);
    await page.locator(`tr[data-conflict="${typed.id}"]`).waitFor({ state: 'detached' });

    // Bulk: keep the hub's value for the rest, after a preview.
    for (const c of bulk) await page.getByTestId(`select-${c.id}`).check();
    expect(await page.getByTestId('selected-count').textContent()).toBe(`${bulk.length} selected`);
    await page.getByTestId('bulk-keep').selectOption('hub');
    await page.getByTestId('bulk-preview').click();
    await page.getByTestId('bulk-dialog').waitFor();
    expect(await page.getByTestId('bulk-preview-table').locator('tbody tr').count()).toBe(bulk.length);
    await shot(page, '04-conflicts-bulk-preview');
    await page.getByTestId('bulk-apply').click();
    await toast(page, `${bulk.length} resolved, 0 failed`);
    await page.getByTestId('no-conflicts').waitFor();

    const after = await data('{ conflicts(status: ALL, first: 100) { nodes { id status resolution } } }');
    const byId = new Map((after.conflicts.nodes as { id: string; status: string; resolution: { keep: string; value: unknown } }[]).map((c) => [c.id, c]));
    expect(byId.get(keepSide.id)!.resolution).toEqual({ keep: 'finance', value: '0755-68880003' });
    expect(byId.get(typed.id)!.resolution).toEqual({ keep: 'value', value: BLOCKED_PHONE });
    for (const c of bulk) expect(byId.get(c.id)!.resolution.keep).toBe('hub');
  });

  test('jobs: a dry run shows the plan and writes nothing; run now pushes the decisions to the sources', async () => {
    const erpPhone = async (code: string) => String((await f.sourceRow('erp', 'SELECT cCusPhone FROM Customer WHERE cCusCode = ?', [code]))?.cCusPhone);
    const before = await erpPhone(EDIT_TARGETS.phoneConflict);
    expect(before).toBe('0755-68880002');
    const runsBefore = (await data('{ syncRuns(job: "customers") { id } }')).syncRuns.length;

    await show(page, '#/jobs', 'jobs');
    await page.getByTestId('job-customers').getByTestId('run-chart').waitFor();
    await page.getByTestId('dry-run-customers').click();
    await page.getByTestId('plan-dialog').waitFor();
    const erpPlan = page.getByTestId('plan-erp');
    await erpPlan.waitFor();
    expect(await erpPlan.textContent()).toContain('0755-68880003');
    expect(await page.getByTestId('plan-counts').textContent()).toMatch(/erp/);
    await shot(page, '05-jobs-dry-run');
    // Nothing written: not the source, not the run history.
    expect(await erpPhone(EDIT_TARGETS.phoneConflict)).toBe(before);
    expect((await data('{ syncRuns(job: "customers") { id } }')).syncRuns.length).toBe(runsBefore);

    await page.getByTestId('plan-apply').click();
    await toast(page, /customers: (ok|partial)/);
    await expect.poll(() => erpPhone(EDIT_TARGETS.phoneConflict)).toBe('0755-68880003');
    await page.locator(`[data-testid="runs-customers"] tbody tr`).nth(runsBefore).waitFor();
    await shot(page, '06-jobs');
  });

  test('jobs: a run\'s progress arrives live over one event stream, and syncRuns is not polled while it runs', async () => {
    // Every GraphQL request, marked with whether the run's mutation had answered when it was sent.
    const graphql: { accept: string; body: string; afterRun: boolean }[] = [];
    let runAnswered = false;
    const onRequest = (r: Request) => {
      if (new URL(r.url()).pathname === '/graphql') graphql.push({ accept: r.headers()['accept'] ?? '', body: r.postData() ?? '', afterRun: runAnswered });
    };
    const onFinished = (r: Request) => {
      if ((r.postData() ?? '').includes('runSyncJob')) runAnswered = true;
    };
    page.on('request', onRequest);
    page.on('requestfinished', onFinished);
    try {
      // A fresh render of the jobs view, so its stream is opened while the log listens.
      await show(page, '#/sources', 'sources');
      await show(page, '#/jobs', 'jobs');
      // The view's stream is open (the server listens) before the run starts.
      await page.locator('[data-view="jobs"][data-live="on"]').waitFor();
      const streams = graphql.filter((r) => r.accept.includes('text/event-stream'));
      expect(streams.map((r) => JSON.parse(r.body).query)).toEqual([expect.stringContaining('syncRunProgress')]);
      const before = graphql.length;

      await page.getByTestId('run-customers').click();
      const panel = page.getByTestId('progress-customers');
      // The run's own lines as they arrive (once it has ended, an event-driven push of the same job
      // may take the panel over).
      await panel.getByTestId('progress-row').filter({ hasText: /read from erp: [\d,]+ of [\d,]+ rows/ }).first().waitFor();
      await panel.getByTestId('progress-final').waitFor();
      await toast(page, /customers: (ok|partial)/);
      const duringRun = graphql.slice(before).filter((r) => !r.afterRun);
      // During the run: the mutation and nothing else; no syncRuns request, no second stream.
      expect(duringRun.filter((r) => r.body.includes('syncRuns'))).toEqual([]);
      expect(duringRun.filter((r) => r.accept.includes('text/event-stream'))).toEqual([]);
      expect(duringRun.map((r) => JSON.parse(r.body).query)).toEqual([expect.stringContaining('runSyncJob')]);
      expect(await panel.getByTestId('progress-final').textContent()).toMatch(/Run #\d+ ended: \w+/);
      // After it: the view reloads once (one syncRuns per job), and opens its stream again.
      const jobs = (await data('{ syncJobs { name } }')).syncJobs.length as number;
      await page.locator('[data-view="jobs"][data-live="on"]').waitFor();
      expect(graphql.filter((r) => r.afterRun && r.body.includes('syncRuns')).length).toBeLessThanOrEqual(jobs);
      await shot(page, '06b-jobs-live-progress');
    } finally {
      page.off('request', onRequest);
      page.off('requestfinished', onFinished);
    }
  });

  test('conflicts: a conflict a sync run opens shows up in the badge and the list\'s notice, from conflictOpened', async () => {
    await show(page, '#/conflicts', 'conflicts');
    const badge = async () => Number((await page.getByTestId('nav-conflicts').locator('.count').textContent().catch(() => '0')) || 0);
    const count = await badge();
    // The hub and the ERP give one customer two different phones: the next run opens a conflict.
    const code = 'C0002';
    const id = (await data(`{ customers(where: { code: { eq: "${code}" } }) { nodes { id } } }`)).customers.nodes[0].id as string;
    await data(`mutation { updateCustomer(id: "${id}", input: { phone: "0755-68881111" }) { id } }`);
    const erp = openSqlite(f.demo.files.erp);
    try {
      // The ERP's change capture reads dModifyDate (Shanghai time).
      await erp('Customer').where({ cCusCode: code }).update({ cCusPhone: '0755-68882222', dModifyDate: shanghaiDateTime(new Date()) });
    } finally {
      await erp.destroy();
    }
    // Started by the server's own engine (as the scheduler would), not from this page.
    const report = await runJob(f.app, 'customers');
    expect(report.totals.conflicts).toBeGreaterThan(0);
    await page.getByTestId('conflicts-new').waitFor();
    expect(await page.getByTestId('conflicts-new').textContent()).toContain('new conflict');
    await expect.poll(badge).toBeGreaterThan(count);
    await page.getByTestId('conflicts-reload').click();
    await page.locator(`[data-testid="conflicts-table"] [data-record="${id}"][data-field="phone"]`).waitFor();
  });

  test('parked records: the ERP refusal is listed with its error, and goes through on retry', async () => {
    const parked = (await data('{ parkedRecords { id source direction message recordId } }')).parkedRecords as { source: string; message: string; recordId: string }[];
    const refused = parked.find((p) => p.source === 'erp' && p.message.includes('reserved'));
    expect(refused, JSON.stringify(parked)).toBeDefined();
    const code = (await data(`{ customer(id: "${refused!.recordId}") { code } }`)).customer.code as string;

    await show(page, '#/parked', 'parked');
    const row = page.getByTestId('parked-table').locator('tbody tr', { hasText: 'reserved' });
    await row.waitFor();
    expect(await row.textContent()).toContain('ROW_REJECTED');
    await shot(page, '07-parked');

    await sourceSql('erp', `DROP TRIGGER ${TRIGGER}`);
    await page.getByTestId('retry-customers').click();
    await toast(page, /customers: retried \d+, \d+ went through, 0 still parked/);
    await page.getByTestId('no-parked').waitFor();
    expect((await f.sourceRow('erp', 'SELECT cCusPhone FROM Customer WHERE cCusCode = ?', [code]))?.cCusPhone).toBe(BLOCKED_PHONE);
  });

  test('merge candidates: side by side with score and reason; accept one', async () => {
    const cands = (await data('{ mergeCandidates { id reason a { id sourceKeys { source } } b { id sourceKeys { source } } } }')).mergeCandidates as {
      id: string;
      reason: string;
      a: { id: string; sourceKeys: { source: string }[] };
      b: { id: string; sourceKeys: { source: string }[] };
    }[];
    const c = cands.find((x) => x.b.sourceKeys.some((k) => k.source === 'erp')) ?? cands[0];
    await show(page, '#/merges', 'merges');
    const card = page.getByTestId(`candidate-${c.id}`);
    await card.waitFor();
    expect(await card.textContent()).toContain(c.reason);
    await shot(page, '08-merges');
    await page.getByTestId(`accept-b-${c.id}`).click();
    await page.getByTestId('confirm-merge').click();
    await toast(page, /Merged into/);
    await card.waitFor({ state: 'detached' });

    const accepted = await data('{ mergeCandidates(status: ACCEPTED) { id } }');
    expect(accepted.mergeCandidates.map((x: { id: string }) => x.id)).toContain(c.id);
    const merges = await data(`{ customerMerges(customerId: "${c.b.id}") { id survivor merged undoneAt } }`);
    expect(merges.customerMerges).toEqual([expect.objectContaining({ survivor: c.b.id, merged: c.a.id, undoneAt: null })]);
    mergedPair = { survivor: c.b.id, merged: c.a.id };
  });

  test('customer 360: golden record with provenance, source keys, orders, invoices, approvals; unmerge', async () => {
    // Search, then the customer whose conflict took finance's value.
    await show(page, '#/customers', 'customers');
    await page.getByTestId('customer-search').fill('腾讯');
    await page.getByTestId('customer-search-go').click();
    await page.getByTestId(`customer-link-${EDIT_TARGETS.phoneConflict}`).click();
    await page.getByTestId('golden-record').waitFor();
    expect(await page.getByTestId('value-phone').textContent()).toBe('0755-68880003');
    expect(await page.getByTestId('source-phone').textContent()).toBe('finance');
    expect(await page.getByTestId('source-keys').textContent()).toMatch(/erp.*C0003.*finance.*AR-/s);
    expect(await page.getByTestId('orders').locator('tbody tr').count()).toBeGreaterThan(0);
    expect(await page.getByTestId('invoices').locator('tbody tr').count()).toBeGreaterThan(0);

    // C0001 has requests in the OA (the demo's edits submit one): the page shows what the API has.
    const c1 = (await data(`{ customers(where: { code: { eq: "${EDIT_TARGETS.cleanMerge}" } }) { nodes { id approvals { totalCount } } } }`)).customers.nodes[0];
    await show(page, `#/customers/${c1.id}`, 'customers');
    await page.getByTestId('approvals-panel').waitFor();
    if (c1.approvals.totalCount > 0) await page.getByTestId('approvals').locator('tbody tr').first().waitFor();
    else expect(await page.getByTestId('approvals-panel').textContent()).toContain('No approval requests');
    await shot(page, '09-customer-360');

    // The survivor of the accepted merge: unmerge it.
    expect(mergedPair).toBeDefined();
    await show(page, `#/customers/${mergedPair!.survivor}`, 'customers');
    const merges = page.getByTestId('merges');
    await merges.locator('tbody tr').first().waitFor();
    await shot(page, '10-customer-merged');
    await merges.locator('button[data-testid^="unmerge-"]').click();
    await page.getByTestId('confirm-unmerge').click();
    await toast(page, 'stands on its own again');
    const after = await data(`{ customerMerges(customerId: "${mergedPair!.survivor}", includeUndone: true) { undoneAt } customer(id: "${mergedPair!.merged}") { id sourceRecords { source } } }`);
    expect(after.customerMerges[0].undoneAt).toMatch(/^\d{4}-/);
    expect(after.customer.sourceRecords.length).toBeGreaterThan(0);
  });

  test('customer 360: the survey responses from the demo workbook, with the average score, in English and Chinese', async () => {
    // The workbook's customer with the most responses (the first of them on a tie).
    const rows = await workbookSurveys(f.demo.dir);
    const byCustomer = new Map<string, WorkbookSurvey[]>();
    for (const r of rows) byCustomer.set(r.customerCode, [...(byCustomer.get(r.customerCode) ?? []), r]);
    const [code, mine] = [...byCustomer].reduce((best, e) => (e[1].length > best[1].length ? e : best));
    expect(mine.length).toBeGreaterThan(1);
    const customer = (await data(`{ customers(where: { code: { eq: "${code}" } }) { nodes { id } } }`)).customers.nodes[0];
    expect(customer).toBeDefined();

    await show(page, `#/customers/${customer.id}`, 'customers');
    const panel = page.getByTestId('surveys-panel');
    const table = page.getByTestId('surveys');
    await table.waitFor();
    const channelEn: Record<string, string> = { 电话: 'phone', 上门: 'visit', 微信: 'WeChat', 邮件: 'e-mail', 网页: 'web' };
    const two = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });
    const cells = async () => (await table.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? ''))));
    const shown = await cells();
    expect(shown).toHaveLength(mine.length);
    // Newest first; each row: date, channel, overall score, three sub-scores, comment (with the respondent under it).
    const dates = shown.map((r) => r[0]);
    expect(dates).toEqual([...dates].sort().reverse());
    expect(shown.map((r) => [r[0], r[1], r[2]]).sort()).toEqual(mine.map((m) => [m.date, channelEn[m.channel], two.format(m.score)]).sort());
    for (const m of mine) {
      const row = shown.find((r) => r[0] === m.date && r[2] === two.format(m.score))!;
      if (m.comment) expect(row[6].startsWith(m.comment)).toBe(true);
      else expect(row[6].startsWith('—')).toBe(true);
    }
    const mean = mine.reduce((sum, m) => sum + m.score, 0) / mine.length;
    expect(await page.getByTestId('survey-average').textContent()).toBe(two.format(mean));
    expect(await panel.locator('h2').textContent()).toBe(`Satisfaction surveys ${mine.length} responses`);
    await shot(page, '09b-customer-surveys');

    // The same in Chinese: labels follow the switch, the data stays as it is.
    await page.getByTestId('lang').selectOption('zh');
    await panel.locator('h2', { hasText: '满意度调查' }).waitFor();
    expect(await panel.locator('thead').textContent()).toContain('总体评分');
    expect((await cells()).map((r) => r[1]).sort()).toEqual(mine.map((m) => m.channel).sort());
    expect(await panel.textContent()).toContain(`平均评分 ${new Intl.NumberFormat('zh-CN', { maximumFractionDigits: 2 }).format(mean)}`);
    await page.getByTestId('lang').selectOption('en');
    await panel.locator('h2', { hasText: 'Satisfaction surveys' }).waitFor();
  });

  test('customer analysis: Pareto curve, tiers, value matrix, lifecycle and aging, clickable through to the customers', async () => {
    await show(page, '#/analysis', 'analysis');
    await page.getByTestId('pareto').waitFor();
    const curve = (await data('{ paretoCurve(first: 1000) { customers } analysisDistribution(by: TIER) { key customers } }'));
    expect(await page.getByTestId('pareto-point').count()).toBe(curve.paretoCurve.customers);
    for (const id of ['panel-tiers', 'panel-matrix', 'panel-stages', 'panel-aging']) await page.getByTestId(id).waitFor();
    await shot(page, '11-analysis');

    const vip = (curve.analysisDistribution as { key: string; customers: number }[]).find((b) => b.key === 'vip')!;
    await page.getByTestId('tier-vip').locator('rect').click();
    await page.locator('[data-view="analysis"][data-hash="#/analysis/tier/vip"]').waitFor();
    expect(await page.getByTestId('analysis-table').locator('tbody tr').count()).toBe(vip.customers);
    expect(await page.getByTestId('analysis-count').textContent()).toBe(String(vip.customers));

    await page.getByTestId('analysis-clear').click();
    await page.locator('[data-view="analysis"][data-hash="#/analysis"]').waitFor();
    await page.getByTestId('quadrant-KEEP').click();
    await page.locator('[data-view="analysis"][data-hash="#/analysis/quadrant/keep"]').waitFor();
    const keep = (await data('{ customerAnalyses(where: { quadrant: [KEEP] }) { totalCount } }')).customerAnalyses.totalCount;
    expect(await page.getByTestId('analysis-table').locator('tbody tr').count()).toBe(keep);

    // Through to the customer 360.
    await page.getByTestId('analysis-table').locator('tbody tr a').first().click();
    await page.getByTestId('golden-record').waitFor();
  });

  test('labels follow the browser language and the switch', async () => {
    await page.getByTestId('lang').selectOption('zh');
    await show(page, '#/jobs', 'jobs');
    expect(await page.getByTestId('nav-sources').textContent()).toBe('数据源');
    expect(await page.getByTestId('dry-run-customers').textContent()).toBe('试运行');
    // The schedule in words comes from the server (cronstrue, zh_CN locale).
    expect(await page.getByTestId('schedule-customers').textContent()).toBe('每隔 5 分钟');
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('zh-CN');
    await shot(page, '11-jobs-zh');
    await page.getByTestId('lang').selectOption('en');
    expect(await page.getByTestId('nav-sources').textContent()).toBe('Sources');
    expect(await page.getByTestId('schedule-customers').textContent()).toBe('Every 5 minutes');

    const zh = await newContext('zh-CN');
    const p = await zh.newPage();
    watch(p);
    await p.goto(`${f.url}/console`);
    expect(await p.getByTestId('signin-submit').textContent()).toBe('登录');
    await zh.close();
  });

  test('a read-only role sees the console but cannot act; other roles are refused at sign-in', async () => {
    const ctx = await newContext('en-US');
    const p = await ctx.newPage();
    watch(p);
    await signIn(p, KEYS.auditor);
    await p.getByTestId('readonly').waitFor();
    await show(p, '#/jobs', 'jobs');
    expect(await p.getByTestId('run-customers').isDisabled()).toBe(true);
    expect(await p.getByTestId('dry-run-customers').isDisabled()).toBe(true);
    await shot(p, '12-read-only');

    await p.getByTestId('signout').click();
    await p.getByTestId('credential').waitFor();
    await p.getByTestId('credential').fill(KEYS.sales);
    await p.getByTestId('signin-submit').click();
    await expect.poll(() => p.getByTestId('signin-error').textContent()).toContain('may not use the operations console');
    await ctx.close();
  });

  test('no request left this machine, and the page raised no errors', () => {
    expect(requests.length).toBeGreaterThan(20);
    expect(external).toEqual([]);
    for (const url of requests) expect(url.startsWith(f.url) || url.startsWith('data:'), url).toBe(true);
    expect(pageErrors).toEqual([]);
  });
});
