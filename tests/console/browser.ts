/**
 * Headless Chromium for the browser tests: Debian's package through playwright-core (never a
 * downloaded browser), and a context that records every request and aborts any that would leave
 * this machine. Without /usr/bin/chromium (or $CRMLINK_CHROMIUM) the suites using it are skipped
 * with a notice; under CI=true they fail instead.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe } from 'vitest';
import type { Browser, BrowserContext } from 'playwright-core';

export const CHROMIUM = process.env.CRMLINK_CHROMIUM ?? '/usr/bin/chromium';
export const HAVE_CHROMIUM = existsSync(CHROMIUM);
const IN_CI = process.env.CI === 'true';
/** Where screenshots go (tests/.screenshots/, not committed). */
export const SHOTS = fileURLToPath(new URL('../.screenshots/', import.meta.url));

/** `describe` when a browser can run (or CI demands one), else `describe.skip` with a notice. */
export function browserDescribe(what: string): typeof describe | typeof describe.skip {
  if (HAVE_CHROMIUM || IN_CI) return describe;
  console.warn(`\n! ${what} SKIPPED: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CRMLINK_CHROMIUM)\n`);
  return describe.skip;
}

export async function launchChromium(): Promise<Browser> {
  if (!HAVE_CHROMIUM) throw new Error(`CI=true and no Chromium at ${CHROMIUM}: .ci/run installs Debian's chromium package`);
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
  });
}

/** Every request of `ctx` that is not for this machine: aborted, and its URL pushed to `external`. */
export async function keepOffline(ctx: BrowserContext, external: string[]): Promise<void> {
  await ctx.route('**/*', (route) => {
    const url = route.request().url();
    const { protocol, hostname } = new URL(url);
    // blob: and data: URLs never leave the page (GraphiQL starts its editor workers from blobs).
    if (protocol === 'blob:' || protocol === 'data:' || hostname === '127.0.0.1' || hostname === 'localhost') return route.continue();
    external.push(url);
    return route.abort('blockedbyclient');
  });
  // What the router never sees (workers, preloads) is still reported as a request.
  ctx.on('request', (r) => {
    const { protocol, hostname } = new URL(r.url());
    if (protocol !== 'blob:' && protocol !== 'data:' && hostname !== '127.0.0.1' && hostname !== 'localhost' && !external.includes(r.url())) external.push(r.url());
  });
}
