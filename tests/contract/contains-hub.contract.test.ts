/**
 * The `contains` rule on both hub engines, as on every source (connector.contract.test.ts) and in
 * memory (connectors/filter.ts): case-insensitive for text, and % _ ! [ in the search text match
 * themselves (docs/filters.md).
 */
import { describe, expect, it } from 'vitest';
import { HubStore } from '../../schema/hub-store.js';
import { matchesWhere } from '../../connectors/filter.js';
import { useTestHub } from '../support/hub.js';

const NAMES: Record<string, string> = {
  C1: 'Acme Trading',
  C2: 'ACME 100% wool',
  C3: 'acme_b',
  C4: 'acmexb',
  C5: 'Bang! [x]',
};

const PROBES: [string, string[]][] = [
  ['acme', ['C1', 'C2', 'C3', 'C4']],
  ['TRADING', ['C1']],
  ['aCmE T', ['C1']],
  ['0%', ['C2']],
  ['%', ['C2']],
  ['e_b', ['C3']],
  ['_', ['C3']],
  ['!', ['C5']],
  ['[X', ['C5']],
  ['nope', []],
];

describe.each(['sqlite', 'postgres'] as const)('contains on a %s hub', (dialect) => {
  const env = useTestHub(dialect, 'contains_hub');

  it('is case-insensitive, with % _ ! [ taken literally', async (t) => {
    const hub = env.hub;
    if (!hub) return t.skip();
    await hub.store.transaction((trx) =>
      hub.store.golden.write(
        trx,
        'Customer',
        Object.entries(NAMES).map(([code, name]) => ({ gid: `cus_${code}`, patch: { code, name }, current: null })),
        { actor: 'test', action: 'seed' },
      ),
    );
    const store = new HubStore('Customer', hub);
    for (const [value, want] of PROBES) {
      const recs = await store.select({ where: { field: 'name', op: 'contains', value }, sort: [{ column: 'code', direction: 'asc' }, ...store.keySort()], limit: 50 });
      expect(recs.map((r) => r.get('code')), value).toEqual(want);
    }
  });
});

describe('contains in memory (connectors that filter what a source cannot)', () => {
  it('follows the same rule', () => {
    for (const [value, want] of PROBES) {
      const got = Object.entries(NAMES)
        .filter(([, name]) => matchesWhere({ name }, { column: 'name', op: 'contains', value }))
        .map(([code]) => code);
      expect(got, value).toEqual(want);
    }
  });
});
