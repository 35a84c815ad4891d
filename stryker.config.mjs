// @ts-check
/**
 * StrykerJS for one module of scripts/mutate-modules.mjs at a time: `npm run mutate -- <module>`
 * (scripts/mutate.mjs sets MUTATE_MODULE). Mutants are type-checked first (TypeScript checker) and
 * run against the module's own test files only (vitest.mutate.config.ts picks them), one at a time:
 * the machine is small and shared.
 */
import { MODULES } from './scripts/mutate-modules.mjs';

const name = process.env.MUTATE_MODULE ?? '';
const module = Object.hasOwn(MODULES, name) ? MODULES[/** @type {keyof typeof MODULES} */ (name)] : undefined;
if (!module) throw new Error(`MUTATE_MODULE must name one of: ${Object.keys(MODULES).join(', ')} (got "${name}")`);

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutate.config.ts', related: false },
  checkers: ['typescript'],
  tsconfigFile: `.mutate/tsconfig.${name}.json`,
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  mutate: module.mutate,
  coverageAnalysis: 'perTest',
  concurrency: 1,
  timeoutMS: 30_000,
  dryRunTimeoutMinutes: 20,
  reporters: ['clear-text', 'progress', 'json', 'html'],
  jsonReporter: { fileName: `reports/mutation/${name}.json` },
  htmlReporter: { fileName: `reports/mutation/${name}.html` },
  clearTextReporter: { allowEmojis: false, logTests: false },
  thresholds: { high: 95, low: 90, break: null },
  tempDirName: '.stryker-tmp',
  // Re-runs reuse the previous run's results for mutants whose code and tests did not change.
  incremental: true,
  incrementalFile: `reports/mutation/${name}.incremental.json`,
  ignorePatterns: ['dist', 'coverage', 'reports', 'bench/results', '.scratch', '.crmlink', 'console/node_modules', 'tests/.screenshots'],
};
