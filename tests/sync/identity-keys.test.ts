/**
 * Identity per page from the hub's match keys decides exactly as matching against every hub
 * customer in memory: the same links, candidates, scores and reasons, with deleted and merged
 * customers, name variants, invalid credit codes, rows stored without keys, and phones and e-mail
 * addresses shared by more customers than the matcher uses (SQLite and PostgreSQL hubs).
 */
import { describe, expect, it } from 'vitest';
import type { Knex } from 'knex';
import type { Hub } from '../../hub/hub.js';
import type { GoldenWrite } from '../../hub/golden.js';
import { CUSTOMER_MATCH_KEYS, makeCreditCode, type MatchRule } from '../../identity/index.js';
import type { CrmRecord } from '../../model/entities.js';
import { IdentityLinker, type LinkDecision, type LinkRequest } from '../../sync/identity.js';
import { useTestHub } from '../support/hub.js';

/** A small deterministic generator, so a failure repeats. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const CORES = ['华为技术', '美的集团', '美菱电器', '阿里巴巴', '腾讯科技', '万科企业', 'Acme Trading'];
const REGIONS = ['', '北京', '上海', '深圳'];
const SHARED_PHONE = '400-800-8888';
const SHARED_MAIL = 'finance@group.cn';
const CODES = CORES.map((_, i) => makeCreditCode(`9111010${i}MA01C2D3E`));

function customer(rnd: () => number): CrmRecord {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const core = pick(CORES);
  const region = pick(REGIONS);
  const forms = [`${region}${core}有限公司`, `${core}(${region || '北京'})有限公司`, `${core}股份有限公司`, ` ${core.toUpperCase()}  Co., Ltd. `, `${region}${core}`];
  const n = Math.floor(rnd() * 60);
  return {
    name: pick(forms),
    creditCode: rnd() < 0.3 ? (rnd() < 0.1 ? '91110000XXXXXXXXX0' : CODES[CORES.indexOf(core) + (rnd() < 0.2 ? 1 : 0)] ?? CODES[0]) : null,
    phone: rnd() < 0.5 ? SHARED_PHONE : rnd() < 0.5 ? `010-8288 ${String(2600 + n)}` : `(010) 8288${String(2600 + n)}`,
    email: rnd() < 0.4 ? SHARED_MAIL : rnd() < 0.5 ? `Info${n}@Example.cn` : null,
  };
}

/** A decision without the random id of a new record. */
function comparable(d: LinkDecision | undefined): unknown {
  if (!d) return d;
  return { ...d, gid: d.isNew ? 'new' : d.gid };
}

async function seed(hub: Hub, trx: Knex.Transaction, rnd: () => number): Promise<void> {
  const writes: GoldenWrite[] = [];
  for (let i = 0; i < 240; i++) writes.push({ gid: `cus_${String(i).padStart(4, '0')}`, current: null, patch: customer(rnd), deleted: i % 17 === 0 });
  writes.push({ gid: 'cus_merged', current: null, patch: { name: '华为技术有限公司', phone: '010-8288 2601' }, mergedInto: 'cus_0001' });
  // Keyed by the writer for the first half, stored unkeyed (a writer without the derivation) for the rest.
  hub.store.matchKeyDeriver = CUSTOMER_MATCH_KEYS;
  await hub.store.golden.write(trx, 'Customer', writes.slice(0, 120), { actor: 'test', action: 'seed' });
  hub.store.matchKeyDeriver = null;
  await hub.store.golden.write(trx, 'Customer', writes.slice(120), { actor: 'test', action: 'seed' });
  hub.store.matchKeyDeriver = CUSTOMER_MATCH_KEYS;
}

async function decide(hub: Hub, trx: Knex.Transaction, rules: MatchRule[] | undefined, requests: LinkRequest[], byKeys: boolean): Promise<Map<string, unknown>> {
  hub.store.matchKeyColumns = byKeys;
  try {
    const decisions = await new IdentityLinker(hub, 'Customer', rules).link(trx, 'erp', requests);
    return new Map(requests.map((r) => [r.sourceKey, comparable(decisions.get(r.sourceKey))]));
  } finally {
    hub.store.matchKeyColumns = true;
  }
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`identity by hub match keys (${dialect} hub)`, () => {
    const env = useTestHub(dialect, 'idkeys');

    it('decides every page as matching against the whole hub in memory', async (t) => {
      const hub = env.hub;
      if (!hub) return t.skip();
      const rnd = random(17);
      const rollback = new Error('rolled back on purpose');
      const ruleSets: (MatchRule[] | undefined)[] = [undefined, [{ rule: 'name', certainty: 'sure' }, { rule: 'phone' }], [{ rule: 'email' }, { rule: 'creditCode' }], [{ rule: 'phone', weight: 1 }]];
      const checked = hub.store.transaction(async (trx) => {
        await seed(hub, trx, rnd);
        let linked = 0;
        for (const rules of ruleSets) {
          for (let page = 0; page < 3; page++) {
            const requests = Array.from({ length: 40 }, (_, i) => ({ sourceKey: `E${page}-${i}`, record: customer(rnd) }));
            const byKeys = await decide(hub, trx, rules, requests, true);
            const inMemory = await decide(hub, trx, rules, requests, false);
            expect(byKeys).toEqual(inMemory);
            linked += [...byKeys.values()].filter((d) => (d as LinkDecision).isNew === false).length;
          }
        }
        // The comparison means something only if pages did link and did propose.
        expect(linked).toBeGreaterThan(20);
        const keyed = await trx('crm_customer').where('_match_keys', '<', CUSTOMER_MATCH_KEYS.version).count<{ n: number }[]>({ n: '*' });
        expect(Number(keyed[0].n)).toBe(0);
        throw rollback;
      });
      await expect(checked).rejects.toBe(rollback);
    });

    it('a customer whose name changes is found by its new name only', async (t) => {
      const hub = env.hub;
      if (!hub) return t.skip();
      const rollback = new Error('rolled back on purpose');
      const checked = hub.store.transaction(async (trx) => {
        const [created] = await hub.store.golden.write(trx, 'Customer', [{ gid: 'cus_rename', current: null, patch: { name: '青岛海尔电器有限公司' } }], { actor: 'test', action: 'seed' });
        await hub.store.golden.write(trx, 'Customer', [{ gid: 'cus_rename', current: created, patch: { name: '青岛海信电器有限公司' } }], { actor: 'test', action: 'rename' });
        const linker = new IdentityLinker(hub, 'Customer', [{ rule: 'name', certainty: 'sure' }]);
        const out = await linker.link(trx, 'erp', [
          { sourceKey: 'old', record: { name: '海尔电器(青岛)有限公司' } },
          { sourceKey: 'new', record: { name: '海信电器(青岛)有限公司' } },
        ]);
        expect(out.get('old')).toMatchObject({ isNew: true });
        expect(out.get('new')).toMatchObject({ isNew: false, gid: 'cus_rename', rule: 'name' });
        throw rollback;
      });
      await expect(checked).rejects.toBe(rollback);
    });
  });
}
