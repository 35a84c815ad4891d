import { defineConfig } from 'vitest/config';

/**
 * Vitest as Stryker runs it (stryker.config.mjs): the unit and integration files of one module,
 * in-process. No build of dist/ first: the tests a module maps to do not start the binary.
 */
export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
