import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/load.js';
import { CrmlinkError } from '../../core/errors.js';
import { hashRecord } from '../../model/values.js';
import { nowIso } from '../../hub/hub.js';
import { SYSTEM_TABLES as T } from '../../hub/tables.js';
import {
  DEFAULT_RULES,
  identityConfig,
  parseRule,
  recomputeGolden,
  surviveFields,
  type SurvivorCandidate,
} from '../../identity/index.js';
import type { CrmRecord } from '../../model/entities.js';
import { namedSources } from '../support/config.js';
import { useTestHub } from '../support/hub.js';

const ERP: SurvivorCandidate = {
  source: 'erp',
  key: 'C0001',
  changedAt: '2024-01-10T08:00:00.000Z',
  values: { name: '北京华为技术有限公司', phone: null, email: '', address: '北京市海淀区', creditLimit: '500000', city: '北京' },
};
const FINANCE: SurvivorCandidate = {
  source: 'finance',
  key: 'AR-0017',
  changedAt: '2024-03-02T09:30:00.000Z',
  values: { name: '华为技术（北京）有限公司', phone: '010-8288 2688', email: 'ar@huawei-bj.example.cn', address: '北京市海淀区中关村软件园', creditLimit: '300000', city: '北京' },
};
const OA: SurvivorCandidate = {
  source: 'oa',
  key: '华为技术(北京)有限公司',
  changedAt: '2024-02-01T00:00:00.000Z',
  values: { name: '华为北京', phone: '010-8288 0000', email: null, address: null, creditLimit: null, city: null },
};

describe('parseRule', () => {
  it('knows the keywords and source orders', () => {
    expect(parseRule('newest')).toEqual({ kind: 'newest' });
    expect(parseRule(' complete ')).toEqual({ kind: 'complete' });
    expect(parseRule('hub')).toEqual({ kind: 'hub' });
    expect(parseRule('erp, finance')).toEqual({ kind: 'order', sources: ['erp', 'finance'] });
    expect(parseRule('finance')).toEqual({ kind: 'order', sources: ['finance'] });
  });

  it('rejects empty rules and empty source names with VALIDATION_FAILED', () => {
    for (const bad of ['', 'erp,,finance', ',erp']) {
      const err = (() => {
        try {
          parseRule(bad, 'phone');
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(CrmlinkError);
      expect((err as CrmlinkError).code).toBe('VALIDATION_FAILED');
      expect((err as CrmlinkError).context.field).toBe('phone');
    }
  });
});

describe('surviveFields', () => {
  it('source order: the first source with a value wins, blank values do not count', () => {
    const r = surviveFields('Customer', [FINANCE, ERP], { default: 'erp,finance', fields: {} });
    expect(r.values.name).toBe('北京华为技术有限公司');
    expect(r.provenance.name).toEqual({ source: 'erp', changedAt: ERP.changedAt });
    // erp has no phone and a blank e-mail: finance fills them
    expect(r.values.phone).toBe('010-8288 2688');
    expect(r.values.email).toBe('ar@huawei-bj.example.cn');
    expect(r.provenance.email.source).toBe('finance');
    expect(r.values.creditLimit).toBe('500000');
    // no source has it: null, no provenance
    expect(r.values.industry).toBeNull();
    expect(r.provenance.industry).toBeUndefined();
  });

  it('source order: unlisted sources come after the listed ones, newest first', () => {
    const r = surviveFields('Customer', [ERP, FINANCE, OA], { default: 'erp', fields: {} });
    // erp has no phone; finance (2024-03) is newer than oa (2024-02)
    expect(r.values.phone).toBe('010-8288 2688');
    const r2 = surviveFields('Customer', [ERP, OA], { default: 'erp', fields: {} });
    expect(r2.values.phone).toBe('010-8288 0000');
  });

  it('newest: latest changedAt wins; unknown times lose; ties broken by source name', () => {
    const r = surviveFields('Customer', [ERP, FINANCE, OA], { default: 'newest', fields: {} });
    expect(r.values.name).toBe('华为技术（北京）有限公司');
    expect(r.provenance.name).toEqual({ source: 'finance', changedAt: FINANCE.changedAt });

    const t = '2024-05-01T00:00:00.000Z';
    const a = { source: 'finance', changedAt: t, values: { name: 'F' } };
    const b = { source: 'erp', changedAt: t, values: { name: 'E' } };
    const c = { source: 'aaa', changedAt: null, values: { name: 'N' } };
    expect(surviveFields('Customer', [a, b, c], { default: 'newest', fields: {} }).values.name).toBe('E');
    expect(surviveFields('Customer', [c, b, a], { default: 'newest', fields: {} }).values.name).toBe('E');
    // the same instant written differently is still a tie
    const d = { source: 'crm', changedAt: '2024-05-01T08:00:00+08:00', values: { name: 'C' } };
    expect(surviveFields('Customer', [a, b, d], { default: 'newest', fields: {} }).values.name).toBe('C');
  });

  it('complete: the longest text wins, ties by newest; non-text fields take any value', () => {
    const r = surviveFields('Customer', [ERP, FINANCE, OA], { default: 'complete', fields: {} });
    expect(r.values.address).toBe('北京市海淀区中关村软件园');
    expect(r.values.name).toBe('华为技术（北京）有限公司');
    // decimals are not "longer": the newest value wins
    expect(r.values.creditLimit).toBe('300000');
  });

  it('hub: the hub value stays when set, otherwise newest', () => {
    const hubValues: CrmRecord = { name: '华为（北京）', phone: null };
    const r = surviveFields('Customer', [ERP, FINANCE], { default: 'erp,finance', fields: { name: 'hub', phone: 'hub' } }, hubValues);
    expect(r.values.name).toBe('华为（北京）');
    expect(r.provenance.name).toEqual({ source: 'hub', changedAt: null });
    expect(r.values.phone).toBe('010-8288 2688');
  });

  it('per-field rules override the default', () => {
    const r = surviveFields('Customer', [ERP, FINANCE], { default: 'erp,finance', fields: { phone: 'newest', name: 'finance,erp' } });
    expect(r.values.name).toBe('华为技术（北京）有限公司');
    expect(r.values.address).toBe('北京市海淀区');
  });

  it('keeps hub values no source has, with their provenance, then falls back to further records', () => {
    const r = surviveFields(
      'Customer',
      [ERP],
      { default: 'newest', fields: {} },
      { ownerId: 'u-zhang', industry: null },
      {
        hubProvenance: { ownerId: { source: 'hub', changedAt: '2024-04-01T00:00:00.000Z' } },
        fallbacks: [{ values: { industry: '通信设备', ownerId: 'u-li' }, provenance: { industry: { source: 'oa', changedAt: '2024-01-01T00:00:00.000Z' } } }],
      },
    );
    expect(r.values.ownerId).toBe('u-zhang');
    expect(r.provenance.ownerId).toEqual({ source: 'hub', changedAt: '2024-04-01T00:00:00.000Z' });
    expect(r.values.industry).toBe('通信设备');
    expect(r.provenance.industry).toEqual({ source: 'oa', changedAt: '2024-01-01T00:00:00.000Z' });
  });

  it('a value edited in the hub competes with the sources under newest', () => {
    const hubProvenance = { phone: { source: 'hub', changedAt: '2024-06-01T00:00:00.000Z' } };
    const r = surviveFields('Customer', [ERP, FINANCE], { default: 'newest', fields: {} }, { phone: '010-6666 8888' }, { hubProvenance });
    expect(r.values.phone).toBe('010-6666 8888');
    expect(r.provenance.phone.source).toBe('hub');
    const older = { phone: { source: 'hub', changedAt: '2023-01-01T00:00:00.000Z' } };
    expect(surviveFields('Customer', [ERP, FINANCE], { default: 'newest', fields: {} }, { phone: '010-6666 8888' }, { hubProvenance: older }).values.phone).toBe(
      '010-8288 2688',
    );
  });

  it('is deterministic whatever the order of the candidates', () => {
    const rules = { default: 'newest', fields: { address: 'complete', name: 'erp,finance' } };
    const x = surviveFields('Customer', [ERP, FINANCE, OA], rules);
    const y = surviveFields('Customer', [OA, FINANCE, ERP], rules);
    expect(y).toEqual(x);
  });

  it('never decides ref fields', () => {
    const r = surviveFields('Contact', [{ source: 'erp', changedAt: null, values: { customerId: 'C0001', name: '张伟' } }], { default: 'newest', fields: {} });
    expect(r.values.name).toBe('张伟');
    expect('customerId' in r.values).toBe(false);
  });
});

describe('identityConfig', () => {
  const yaml = (survivorship: string) => `
${namedSources('erp', 'finance')}
entities:
  Customer:
    sources:
      erp: { table: customer, key: [id], fields: { name: name } }
${survivorship}
`;

  it('defaults to the default match rules and newest', () => {
    const ids = identityConfig(parseConfig(yaml('')).config);
    expect(ids.match).toEqual([...DEFAULT_RULES]);
    expect(ids.survivorship).toEqual({ default: 'newest', fields: {} });
  });

  it('reads match rules and survivorship', () => {
    const ids = identityConfig(
      parseConfig(yaml(`    match: [{ rule: creditCode }, { rule: name, certainty: sure }]\n    survivorship: { default: "erp,finance", fields: { phone: newest } }`)).config,
    );
    expect(ids.match).toEqual([{ rule: 'creditCode' }, { rule: 'name', certainty: 'sure' }]);
    expect(ids.survivorship).toEqual({ default: 'erp,finance', fields: { phone: 'newest' } });
  });

  it('rejects a source order naming an unknown source, with the config path', () => {
    const cfg = parseConfig(yaml(`    survivorship: { default: "erp,finanse" }`)).config;
    expect(() => identityConfig(cfg)).toThrow(/unknown source "finanse"/);
    try {
      identityConfig(cfg);
    } catch (e) {
      expect((e as CrmlinkError).code).toBe('CONFIG_INVALID');
      expect((e as CrmlinkError).context.path).toBe('entities.Customer.survivorship.default');
    }
  });
});

describe.each(['sqlite', 'postgres'] as const)('recomputeGolden on a %s hub', (dialect) => {
  const ctx = useTestHub(dialect, 'golden', {
    erp: { kind: 'erp', dialect: 'sqlite', connection: { filename: './erp.db' } },
    finance: { kind: 'finance', dialect: 'sqlite', connection: { filename: './fin.db' } },
  });

  let n = 0;
  /** A golden customer linked to the given source versions (keys made unique per call). */
  async function seed(values: CrmRecord, versions: SurvivorCandidate[], provenance: Record<string, string> = {}): Promise<{ gid: string; keys: string[] }> {
    const hub = ctx.hub!;
    const gid = hub.newId('Customer');
    n++;
    const sources = versions.map((s) => ({ ...s, key: `${s.key ?? ''}-${n}` }));
    await hub.knex.transaction(async (trx) => {
      const seq = await hub.nextSeq(trx);
      await trx('crm_customer').insert({ id: gid, ...hub.toRow('Customer', values), _version: 1, _seq: seq, _updated_at: nowIso(), _deleted: false });
      for (const s of sources) {
        await trx(T.xref).insert({ entity: 'Customer', source: s.source, source_key: s.key, gid, rule: 'new', linked_at: nowIso() });
        await trx(T.base).insert({
          entity: 'Customer',
          source: s.source,
          source_key: s.key,
          values: JSON.stringify(s.values),
          hash: hashRecord(s.values),
          deleted: false,
          changed_at: s.changedAt,
          synced_at: nowIso(),
        });
      }
      for (const [field, source] of Object.entries(provenance)) {
        await trx(T.provenance).insert({ entity: 'Customer', gid, field, source, changed_at: '2024-06-01T00:00:00.000Z' });
      }
    });
    return { gid, keys: sources.map((s) => s.key) };
  }

  it('writes the golden values, bumps _version/_seq, and records provenance', async (t) => {
    const hub = ctx.hub;
    if (!hub) return t.skip();
    const { gid } = await seed({ name: '北京华为技术有限公司', ownerId: 'u-zhang' }, [ERP, FINANCE], { ownerId: 'hub' });
    const before = await hub.get('Customer', gid);
    const r = await hub.knex.transaction((trx) => recomputeGolden(hub, trx, 'Customer', gid, { default: 'erp,finance', fields: { address: 'complete' } }));
    expect(r.changed.sort()).toEqual(['address', 'city', 'creditLimit', 'email', 'phone']);
    const after = await hub.get('Customer', gid);
    expect(after?.version).toBe((before?.version ?? 0) + 1);
    expect(after?.seq).toBeGreaterThan(before?.seq ?? 0);
    expect(after?.values).toMatchObject({
      name: '北京华为技术有限公司',
      phone: '010-8288 2688',
      email: 'ar@huawei-bj.example.cn',
      address: '北京市海淀区中关村软件园',
      creditLimit: '500000',
      ownerId: 'u-zhang',
    });
    const prov = (await hub.knex(T.provenance).where({ entity: 'Customer', gid }).orderBy('field')) as { field: string; source: string; changed_at: string }[];
    expect(Object.fromEntries(prov.map((p) => [p.field, p.source]))).toEqual({
      address: 'finance',
      city: 'erp',
      creditLimit: 'erp',
      email: 'finance',
      name: 'erp',
      ownerId: 'hub',
      phone: 'finance',
    });
    expect(prov.find((p) => p.field === 'ownerId')?.changed_at).toBe('2024-06-01T00:00:00.000Z');

    // nothing to change: no new version
    const again = await hub.knex.transaction((trx) => recomputeGolden(hub, trx, 'Customer', gid, { default: 'erp,finance', fields: { address: 'complete' } }));
    expect(again.changed).toEqual([]);
    expect((await hub.get('Customer', gid))?.version).toBe(after?.version);
  });

  it('ignores base rows of deleted source records', async (t) => {
    const hub = ctx.hub;
    if (!hub) return t.skip();
    const { gid, keys } = await seed({ name: 'x' }, [ERP, FINANCE]);
    await hub.knex(T.base).where({ entity: 'Customer', source: 'finance', source_key: keys[1] }).update({ deleted: true });
    const r = await hub.knex.transaction((trx) => recomputeGolden(hub, trx, 'Customer', gid, { default: 'newest', fields: {} }));
    expect(r.after.values.name).toBe('北京华为技术有限公司');
    expect(r.after.values.phone).toBeNull();
  });

  it('fails with NOT_FOUND for an unknown id', async (t) => {
    const hub = ctx.hub;
    if (!hub) return t.skip();
    await expect(hub.knex.transaction((trx) => recomputeGolden(hub, trx, 'Customer', 'cus_missing', { default: 'newest', fields: {} }))).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });
});
