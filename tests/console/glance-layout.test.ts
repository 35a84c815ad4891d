/**
 * The console for an operator at a glance, in both languages, at laptop sizes: the first screen
 * says whether the scheduler runs and when the next run is, how far behind each source the hub
 * may be, and the last backup; dates follow the browser's locale and show the time zone; server
 * codes (errors, run statuses, conflict rules) are shown in Chinese in Chinese. At 1024×768 and
 * 1440×900 no screen is wider than the window, numbers stay on one line and toasts do not
 * overlap (screenshots in tests/.screenshots/).
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { mkdirSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { SyncScheduler } from '../../sync/scheduler.js';
import { KEYS, startConsoleFixture, type ConsoleFixture } from './support.js';
import { browserDescribe, keepOffline, launchChromium, SHOTS } from './browser.js';

const VIEWS = ['sources', 'jobs', 'conflicts', 'parked', 'merges', 'customers', 'analysis'] as const;
const SIZES = [
  { width: 1024, height: 768 },
  { width: 1440, height: 900 },
] as const;

let f: ConsoleFixture;
let scheduler: SyncScheduler;
let browser: Browser;
const external: string[] = [];

beforeAll(async () => {
  f = await startConsoleFixture();
  // As `crmlink serve` does: the console reads the scheduler of the process serving it.
  scheduler = new SyncScheduler(f.app).start();
  f.app.scheduler = scheduler;
});
afterAll(async () => {
  await browser?.close();
  await scheduler?.stop();
  await f?.close();
});

async function open(opts: { locale: string; timezoneId: string; width: number; height: number }): Promise<{ ctx: BrowserContext; page: Page; errors: string[] }> {
  browser ??= await launchChromium();
  const ctx = await browser.newContext({ viewport: { width: opts.width, height: opts.height }, locale: opts.locale, timezoneId: opts.timezoneId, serviceWorkers: 'block' });
  await keepOffline(ctx, external);
  const page = await ctx.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${f.url}/console`);
  await page.getByTestId('credential').fill(KEYS.operator);
  await page.getByTestId('signin-submit').click();
  await page.locator('[data-view="sources"]').waitFor();
  return { ctx, page, errors };
}

async function show(page: Page, view: string): Promise<void> {
  await page.evaluate((h) => {
    location.hash = h;
  }, `#/${view}`);
  await page.locator(`[data-view="${view}"][data-hash="#/${view}"]`).waitFor();
}

/** Cells holding a number or an amount that are taller than one line of their text. */
function wrappedNumbers(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    // Header cells may hold a label over two lines on purpose; the figures must not wrap.
    [...document.querySelectorAll<HTMLElement>('td.num, span.num, div.num')]
      .filter((el) => el.offsetParent !== null && (el.textContent ?? '').trim() !== '')
      .filter((el) => {
        const range = document.createRange();
        range.selectNodeContents(el);
        const tops = new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top)));
        return tops.size > 1;
      })
      .map((el) => el.textContent ?? ''),
  );
}

/**
 * The navigation and the tables that scroll sideways to show all of themselves: none may at these
 * widths (a cut navigation hides screens; a table scrolled sideways hides its buttons).
 */
function clipped(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll<HTMLElement>('#nav, .topbar, .table-wrap')]
      .filter((el) => el.offsetParent !== null || el.classList.contains('topbar'))
      .filter((el) => el.scrollWidth > el.clientWidth + 1)
      .map((el) => `${el.id || el.className}: ${el.scrollWidth} > ${el.clientWidth} (${(el.textContent ?? '').slice(0, 40)})`),
  );
}

browserDescribe('console at a glance and layout')('the console at a glance, in both languages, at 1024 and 1440 wide', { shuffle: false }, () => {
  test('the first screen: scheduler running, next run, lag per source, last backup; dates in the browser locale with the zone', async () => {
    mkdirSync(SHOTS, { recursive: true });
    const { ctx, page } = await open({ locale: 'en-US', timezoneId: 'Asia/Shanghai', width: 1440, height: 900 });
    const glance = page.getByTestId('glance');
    await glance.waitFor();
    expect(await page.getByTestId('glance-scheduler').textContent()).toContain('running');
    const next = Date.parse(scheduler.jobs()[0].nextRun!.toISOString());
    // en-US in Asia/Shanghai: M/D/YYYY, 12-hour clock, the zone named.
    const shown = await page.getByTestId('glance-next-run').textContent();
    const expected = new Intl.DateTimeFormat('en-US', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'short' }).format(next);
    expect(shown).toContain(expected);
    expect(shown).toMatch(/GMT\+8/);
    expect(await page.getByTestId('glance-next-run').getAttribute('title')).toBeTruthy();
    expect(await page.getByTestId('lag-erp').textContent()).toMatch(/\d/);
    expect(await page.getByTestId('lag-oa').textContent()).toBe('—');
    expect(await page.getByTestId('glance-backup').textContent()).toMatch(/no backup|Last backup/);
    expect(await page.getByTestId('last-read-erp').textContent()).toMatch(/\d{2}\/\d{2}\/\d{4}.*GMT\+8/);
    await ctx.close();

    const gb = await open({ locale: 'en-GB', timezoneId: 'Europe/London', width: 1440, height: 900 });
    const read = await gb.page.getByTestId('last-read-erp').textContent();
    expect(read).toMatch(/\d{2}\/\d{2}\/\d{4}, \d{2}:\d{2}:\d{2} (GMT|BST)/);
    await gb.ctx.close();
  });

  test('in Chinese, what the server says by code is shown in Chinese: conflict reasons, errors', async () => {
    const { ctx, page } = await open({ locale: 'zh-CN', timezoneId: 'Asia/Shanghai', width: 1440, height: 900 });
    expect(await page.getByTestId('glance-scheduler').textContent()).toContain('运行中');
    await show(page, 'conflicts');
    const reasons = await page.locator('td.reason').allTextContents();
    expect(reasons.length).toBeGreaterThan(0);
    for (const r of reasons) {
      expect(r).toMatch(/[\u4e00-\u9fff]/);
      expect(r).not.toMatch(/changed in|policy manual|the hub value is kept/);
    }
    // An error from the server: its code shown in Chinese, the server's text on hover.
    // The page's own modules, already loaded (importing them again runs nothing); a string, so the
    // test runner does not rewrite import().
    const text = await page.evaluate(`(async () => {
      const app = document.querySelector('link[rel="modulepreload"]').href;
      const { errorText } = await import(app);
      const { ApiError } = await import(app.replace('app.js', 'api.js'));
      return errorText(new ApiError('job: unknown sync job "x"', { code: 'VALIDATION_FAILED' }));
    })()`);
    expect(text).toMatch(/^失败：输入不正确/);
    await ctx.close();
  });

  for (const size of SIZES) {
    for (const locale of ['en-US', 'zh-CN']) {
      test(`${size.width}×${size.height} ${locale}: no screen wider than the window, numbers on one line, toasts apart`, async () => {
        const { ctx, page, errors } = await open({ locale, timezoneId: 'Asia/Shanghai', ...size });
        for (const view of VIEWS) {
          await show(page, view);
          if (view === 'customers') {
            const first = page.locator('[data-testid^="customer-link"], a[href^="#/customers/"]').first();
            if (await first.count()) {
              await first.click();
              await page.locator('[data-view="customers"]').last().waitFor();
            }
          }
          const overflow = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, inner: window.innerWidth }));
          expect([view, overflow.scroll], `${view} at ${size.width}`).toEqual([view, expect.any(Number)]);
          expect(overflow.scroll, `${view} is wider than the window at ${size.width}`).toBeLessThanOrEqual(overflow.inner);
          expect(await wrappedNumbers(page), `numbers wrapping on ${view}`).toEqual([]);
          expect(await clipped(page), `content cut off on ${view} at ${size.width}`).toEqual([]);
          await page.evaluate(() => document.querySelectorAll('.toast').forEach((el) => el.remove()));
          await page.screenshot({ path: `${SHOTS}layout-${size.width}x${size.height}-${locale}-${view}.png`, fullPage: true });
        }
        // Several messages at once (each source test says how it went): stacked, never on top of each other.
        await show(page, 'sources');
        for (const name of ['erp', 'finance', 'oa']) await page.getByTestId(`test-${name}`).click();
        await expect.poll(() => page.getByTestId('toast').count(), { timeout: 15_000 }).toBeGreaterThanOrEqual(3);
        const boxes = (await Promise.all((await page.getByTestId('toast').all()).map((t) => t.boundingBox()))).filter((b) => b !== null);
        for (const b of boxes) {
          expect(b.x).toBeGreaterThanOrEqual(0);
          expect(b.x + b.width).toBeLessThanOrEqual(size.width);
          expect(b.y + b.height).toBeLessThanOrEqual(size.height);
        }
        for (let i = 0; i < boxes.length; i++) {
          for (let j = i + 1; j < boxes.length; j++) {
            const [a, b] = [boxes[i], boxes[j]];
            const apart = a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y;
            expect(apart, `toasts ${i} and ${j} overlap`).toBe(true);
          }
        }
        // Each test's result is written beside its button: the table still fits.
        expect(await clipped(page), `content cut off on sources after the tests at ${size.width}`).toEqual([]);
        await page.screenshot({ path: `${SHOTS}layout-${size.width}x${size.height}-${locale}-toasts.png` });
        expect(errors).toEqual([]);
        await ctx.close();
      });
    }
  }

  test('no request left 127.0.0.1', () => {
    expect(external).toEqual([]);
  });
});
