import { defineConfig } from 'vitest/config';
import { MODULES } from './scripts/mutate-modules.mjs';

/**
 * Vitest as Stryker runs it (stryker.config.mjs): the test files of the module named by
 * MUTATE_MODULE, in-process. No build of dist/ first: these tests do not start the binary.
 *
 * The files are chosen here, not with Stryker's `testFiles`: with a test filter, Stryker 9.6 turns
 * static mutants (module-level values such as the sets of transient codes) on after the module has
 * loaded, so they survive tests that kill them (stryker-js issue 6144).
 */
const name = process.env.MUTATE_MODULE ?? '';
const module = (MODULES as Record<string, { tests: string[] } | undefined>)[name];

export default defineConfig({
  test: {
    include: module ? module.tests : ['tests/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
