/**
 * The modules mutation testing covers (`npm run mutate`): the places where a silent bug leaks or
 * loses data. Each names the source files Stryker mutates and the test files that cover them, so
 * one module's run executes those tests only and fits a small shared machine.
 *
 * Ordered smallest and most critical first; `npm run mutate` runs them in this order.
 */
export const MODULES = {
  merge: {
    what: 'three-way merge and conflict policies',
    mutate: ['sync/three-way-merge.ts'],
    tests: ['tests/sync/merge.test.ts'],
  },
  retry: {
    what: 'transient-error classification and retry',
    mutate: ['sync/retry.ts'],
    tests: ['tests/sync/retry.test.ts'],
  },
  decimal: {
    what: 'exact decimal values',
    mutate: ['model/decimal.ts'],
    tests: ['tests/model/values.test.ts', 'tests/model/decimal.test.ts'],
  },
  time: {
    what: 'date and time values',
    mutate: ['model/time.ts'],
    tests: ['tests/model/values.test.ts', 'tests/model/time.test.ts', 'tests/model/time-zones.test.ts'],
  },
  'row-rules': {
    what: 'row rules and field masks',
    mutate: ['schema/security.ts'],
    tests: [
      'tests/security/viewer.test.ts',
      'tests/security/own-with-team.test.ts',
      'tests/security/held.test.ts',
      'tests/security/ownership.test.ts',
      'tests/security/hidden-values.test.ts',
      'tests/security/existence.test.ts',
      'tests/graphql/security.test.ts',
      'tests/graphql/row-rule-coverage.test.ts',
      'tests/security/row-visibility.test.ts',
    ],
  },
  tombstones: {
    what: 'deletes and tombstones in the pull merge',
    mutate: ['sync/pull/merge-page.ts'],
    tests: ['tests/sync/merge-page.test.ts', 'tests/sync/pull-stages.test.ts', 'tests/sync/basic.test.ts'],
  },
  checkpoints: {
    what: 'checkpoints and change capture',
    mutate: ['hub/checkpoints.ts', 'connectors/capture/hash.ts', 'connectors/capture/timestamp.ts', 'connectors/capture/trigger.ts'],
    // Unit-level: the hub's checkpoint table on both hub engines and each strategy on a real SQLite
    // source (seconds); the sync suites that also pass through these files take minutes a mutant.
    tests: ['tests/hub/checkpoints.test.ts', 'tests/connectors/capture.test.ts'],
  },
  identity: {
    what: 'identity matching and record merge',
    mutate: ['identity/matcher.ts', 'identity/record-merge.ts'],
    // golden.test.ts is left out: it states golden.ts (not mutated here) and reaches the matcher only
    // through DEFAULT_RULES, which the matcher's own tests state; each static mutant runs every file.
    tests: [
      'tests/identity/matcher.test.ts',
      'tests/identity/match-thresholds.test.ts',
      'tests/identity/merge-decisions.test.ts',
      'tests/identity/merge.test.ts',
      'tests/identity/merge-conflicts.test.ts',
      'tests/identity/unmerge-restore.test.ts',
    ],
  },
};
