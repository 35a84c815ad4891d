import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // The binary the CLI tests start runs the compiled dist/: build it first.
    globalSetup: ['tests/support/build-dist.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: files run in parallel on forks, each on its own databases.
    pool: 'forks',
    maxWorkers: 2,
  },
});
