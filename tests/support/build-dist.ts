/**
 * Vitest global setup: the tests that start the real binary (bin/crmlink.mjs) run the compiled
 * dist/, so it is brought up to date before any test runs (tsc's incremental build: a no-op when
 * nothing changed).
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export default function buildDist(): void {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
}
