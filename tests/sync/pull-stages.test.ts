/**
 * The pull's stages one at a time, each given a literal and checked on what it returns: decode and
 * canonicalize and the three-way merge are pure; snapshot deletes, link identity and write run
 * against a real hub (SQLite and PostgreSQL).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { entitySourceSchema, type SourceConfig } from '../../config/schema.js';
import { EntityMapping } from '../../connectors/mapping/entity-mapping.js';
import { Hub } from '../../hub/hub.js';
import { fieldsOf } from '../../model/entities.js';
import { IdentityLinker } from '../../sync/identity.js';
import { canonicalizePage } from '../../sync/pull/canonicalize.js';
import { decodePage } from '../../sync/pull/decode.js';
import { linkPage } from '../../sync/pull/link.js';
import { mergePage } from '../../sync/pull/merge-page.js';
import { addSnapshotDeletes } from '../../sync/pull/snapshot.js';
import type { DecodedPage, PageContext } from '../../sync/pull/types.js';
import { writePage } from '../../sync/pull/write.js';
import { useTestHub } from '../support/hub.js';
import { hubRecord, linkedPage } from './pages.js';

const model = new Map(fieldsOf('Customer').map((f) => [f.name, f]));
const ctx: PageContext = {
  job: 'customers',
  entity: 'Customer',
  source: 'erp',
  fields: ['code', 'name', 'phone', 'status', 'creditLimit'],
  model,
  policies: { default: 'manual', fields: { creditLimit: 'source:erp' }, clockSkewSeconds: 5 },
  now: '2024-06-01T00:00:00.000Z',
};
const columns = { code: 'no', name: { column: 'nm', trim: true }, phone: 'tel', status: { column: 'st', map: { '1': 'ACTIVE', '0': 'INACTIVE', '9': 'GONE' } }, creditLimit: 'lim' };
const erp = { dialect: 'sqlite', connection: { filename: 'x' }, timezone: 'Asia/Shanghai', readOnly: false } as unknown as SourceConfig;
const mapping = new EntityMapping('Customer', 'erp', erp, entitySourceSchema.parse({ table: 'cust', key: ['no'], fields: columns }));
const at = (iso: string) => new Date(iso);

describe('decode', () => {
  it('maps rows, keeps the last change of a key, rejects an unreadable row with its columns', () => {
    const page = decodePage(
      {
        changes: [
          { key: ['C1'], op: 'upsert', row: { no: 'C1', nm: ' Acme ', tel: '1', st: '1', lim: '10.50' }, changedAt: at('2024-05-02T00:00:00Z'), hash: '' },
          { key: ['C2'], op: 'upsert', row: { no: 'C2', nm: 'Beta', tel: null, st: 'x', lim: null }, changedAt: null, hash: '' },
          { key: ['C1'], op: 'upsert', row: { no: 'C1', nm: 'Acme Ltd', tel: '2', st: '0', lim: '10.50' }, changedAt: at('2024-05-01T00:00:00Z'), hash: '' },
          { key: ['C3'], op: 'delete', row: null, changedAt: null, hash: '' },
        ],
      },
      mapping,
    );
    expect([...page.items.keys()]).toEqual(['C1', 'C3']);
    expect(page.items.get('C1')).toMatchObject({ kind: 'upsert', record: { code: 'C1', name: 'Acme Ltd', phone: '2', status: 'INACTIVE', creditLimit: '10.5' } });
    expect(page.items.get('C3')).toEqual({ kind: 'delete', sourceKey: 'C3', changedAt: null });
    expect(page.seenKeys).toEqual(['C1', 'C2', 'C1']);
    expect(page.oldestChange).toBe('2024-05-01T00:00:00.000Z');
    expect(page.rejected).toHaveLength(1);
    expect(page.rejected[0]).toMatchObject({ sourceKey: 'C2', payload: { no: 'C2', st: 'x' } });
    expect(String(page.rejected[0].error)).toMatch(/Customer\.status .*code "x" is not in the map/);
  });
});

describe('canonicalize', () => {
  const page = (record: Record<string, unknown>, row: Record<string, unknown> = {}): DecodedPage => ({
    items: new Map([['C1', { kind: 'upsert', sourceKey: 'C1', record: record as never, changedAt: null, row }]]),
    seenKeys: ['C1'],
    rejected: [],
    oldestChange: null,
  });
  const origin = { table: 'cust', column: (f: string) => ({ name: 'nm', phone: 'tel', status: 'st' })[f] };

  it('puts values in canonical form and keeps only the mapped model fields', () => {
    const out = canonicalizePage(page({ code: 'C1', name: 'Acme', creditLimit: '0010.500', phone: 12345, extra: 'x' }), ctx, origin);
    expect(out.rejected).toEqual([]);
    expect(out.items.get('C1')).toMatchObject({ record: { code: 'C1', name: 'Acme', creditLimit: '10.5', phone: '12345', status: null } });
  });

  it('rejects a value the model refuses, and text that was not UTF-8, naming field, column and key', () => {
    const bad = canonicalizePage(page({ code: 'C1', name: 'Acme', status: 'GONE' }), ctx, origin);
    expect(bad.items.size).toBe(0);
    expect((bad.rejected[0].error as Error).message).toBe(
      'Customer.status from erp.cust.st (key C1): "GONE" is not one of ACTIVE, INACTIVE, BLOCKED, PROSPECT; map the source\'s codes onto ACTIVE, INACTIVE, BLOCKED, PROSPECT with `map:` in entities.Customer.sources.erp.fields.status',
    );
    const broken = canonicalizePage(page({ code: 'C1', name: 'Ac\uFFFDme' }, { nm: 'Ac\uFFFDme' }), ctx, origin);
    expect((broken.rejected[0].error as { context: unknown }).context).toMatchObject({ field: 'name', column: 'nm', key: 'C1', source: 'erp' });
  });
});

const record = hubRecord;
const linked = linkedPage;

describe('three-way merge', () => {
  it('takes one-sided changes, raises a conflict for two-sided ones, creates new records, skips what is unchanged', () => {
    const plan = mergePage(
      linked({
        items: new Map([
          ['C1', { kind: 'upsert', sourceKey: 'C1', record: { code: 'C1', name: 'Acme', phone: '2', status: null, creditLimit: '7' }, changedAt: '2024-05-01T00:00:00.000Z' }],
          ['C2', { kind: 'upsert', sourceKey: 'C2', record: { code: 'C2', name: 'New', phone: null, status: null, creditLimit: null }, changedAt: null }],
          ['C3', { kind: 'upsert', sourceKey: 'C3', record: { code: 'C3', name: 'Same', phone: null, status: null, creditLimit: null }, changedAt: null }],
        ]),
        xref: new Map([
          ['C1', { gid: 'cus_1', rule: null }],
          ['C3', { gid: 'cus_3', rule: null }],
        ]),
        decisions: new Map([['C2', { gid: 'cus_new', isNew: true, rule: null, candidate: { gid: 'cus_1', score: 0.8, rule: 'name', reason: 'similar name' } }]]),
        bases: new Map([
          ['C1', { sourceKey: 'C1', values: { code: 'C1', name: 'Acme', phone: '1', status: null, creditLimit: '5' }, hash: '', deleted: false, changedAt: null }],
          ['C3', { sourceKey: 'C3', values: { code: 'C3', name: 'Same', phone: null, status: null, creditLimit: null }, hash: '', deleted: false, changedAt: null }],
        ]),
        records: new Map([
          ['cus_1', record('cus_1', { code: 'C1', name: 'Acme', phone: '9', creditLimit: '6' })],
          ['cus_3', record('cus_3', { code: 'C3', name: 'Same' })],
        ]),
      }),
      ctx,
    );
    expect(plan.records.map((w) => [w.gid, [...w.changed].sort()])).toEqual([
      ['cus_1', ['creditLimit']],
      ['cus_new', ['code', 'creditLimit', 'name', 'phone', 'status']],
    ]);
    expect(plan.records[0].values).toMatchObject({ phone: '9', creditLimit: '7' });
    expect(plan.conflicts.map((c) => [c.gid, c.conflict.field, c.conflict.status])).toEqual([
      ['cus_1', 'creditLimit', 'auto'],
      ['cus_1', 'phone', 'open'],
    ]);
    expect(plan.links).toEqual([{ entity: 'Customer', source: 'erp', sourceKey: 'C2', gid: 'cus_new', rule: null }]);
    expect(plan.candidates).toEqual([{ gidA: 'cus_new', gidB: 'cus_1', score: 0.8, rule: 'name', reason: 'similar name' }]);
    expect(plan.stats).toMatchObject({ unchanged: 1, created: 1, conflicts: 1, autoResolved: 1, mergeCandidates: 1 });
    expect(plan.done).toEqual(['C1', 'C2', 'C3']);
    expect(plan.bases.map((b) => b.sourceKey)).toEqual(['C1', 'C2']);
  });

  it('a delete wins over hub edits and names them; a delete of a record never synced writes nothing and takes its key off the parked list', () => {
    const plan = mergePage(
      linked({
        items: new Map([
          ['C1', { kind: 'delete', sourceKey: 'C1', changedAt: null }],
          ['C9', { kind: 'delete', sourceKey: 'C9', changedAt: null }],
        ]),
        xref: new Map([['C1', { gid: 'cus_1', rule: null }]]),
        bases: new Map([['C1', { sourceKey: 'C1', values: { phone: '1' }, hash: '', deleted: false, changedAt: null }]]),
        records: new Map([['cus_1', record('cus_1', { phone: '2' })]]),
      }),
      ctx,
    );
    expect(plan.records).toHaveLength(1);
    expect(plan.records[0]).toMatchObject({ gid: 'cus_1', deleted: true });
    expect(plan.conflicts[0].conflict).toMatchObject({ field: '_deleted', winner: 'erp', status: 'auto', values: { hub: '{"phone":"2"}', erp: null } });
    expect(plan.bases).toEqual([{ sourceKey: 'C1', values: { phone: '1' }, deleted: true, changedAt: ctx.now }]);
    // done: the keys whose parked rows are settled — C9 was never synced, but a row parked under it is gone too.
    expect(plan.done).toEqual(['C1', 'C9']);
  });
});

describe.each(['sqlite', 'postgres'] as const)('snapshot deletes, link identity and write on a %s hub', (dialect) => {
  const env = useTestHub(dialect, 'stages');
  let hub: Hub;
  beforeAll(async () => {
    if (!env.hub) return;
    hub = env.hub;
    await hub.store.transaction(async (trx) => {
      await hub.store.golden.write(trx, 'Customer', [{ gid: 'cus_1', current: null, patch: { code: 'C1', name: 'Acme', phone: '1' } }], { actor: 'test', action: 'seed' });
      await hub.store.xref.link(trx, [{ entity: 'Customer', source: 'erp', sourceKey: 'C1', gid: 'cus_1', rule: null }]);
      await hub.store.bases.save(trx, 'Customer', 'erp', [
        { sourceKey: 'C1', values: { code: 'C1', name: 'Acme', phone: '1' }, deleted: false, changedAt: null },
        { sourceKey: 'C7', values: { code: 'C7' }, deleted: false, changedAt: null },
      ]);
    });
  });

  it('links known keys, matches unknown ones, reads the hub side, and ends a snapshot with its deletes', async (t) => {
    if (!env.hub) return t.skip();
    const items = new Map([
      ['C1', { kind: 'upsert' as const, sourceKey: 'C1', record: { code: 'C1', name: 'Acme', phone: '2' }, changedAt: null }],
      ['C2', { kind: 'upsert' as const, sourceKey: 'C2', record: { code: 'C2', name: 'Beta Ltd', phone: null }, changedAt: null }],
    ]);
    const page: DecodedPage = { items, seenKeys: ['C1', 'C2'], rejected: [], oldestChange: null };
    const rollback = new Error('rolled back on purpose');
    const checked = hub.store.transaction(async (trx) => {
      const withDeletes = await addSnapshotDeletes(page, ctx, { snapshot: true, starts: true, ends: true }, trx, hub.store);
      expect([...withDeletes.entries()].filter(([, i]) => i.kind === 'delete').map(([k]) => k)).toEqual(['C7']);
      const out = await linkPage(withDeletes, ctx, trx, { hub, linker: new IdentityLinker(hub, 'Customer', undefined) });
      expect(out.xref.get('C1')?.gid).toBe('cus_1');
      expect(out.decisions.get('C2')).toMatchObject({ isNew: true });
      // The phone is 1, or 2 when the write test ran first (tests run in any order).
      expect(out.records.get('cus_1')?.values).toMatchObject({ name: 'Acme', phone: expect.stringMatching(/^[12]$/) });
      expect(out.bases.get('C7')?.values).toEqual({ code: 'C7' });
      throw rollback;
    });
    await expect(checked).rejects.toBe(rollback);
  });

  it('writes a plan: golden records versioned with provenance, links, bases, an audit entry, then the checkpoint', async (t) => {
    if (!env.hub) return t.skip();
    const current = (await hub.get('Customer', 'cus_1'))!;
    const plan = mergePage(
      linked({
        items: new Map([['C1', { kind: 'upsert', sourceKey: 'C1', record: { code: 'C1', name: 'Acme', phone: '2' }, changedAt: '2024-05-01T00:00:00.000Z' }]]),
        xref: new Map([['C1', { gid: 'cus_1', rule: null }]]),
        bases: new Map([['C1', { sourceKey: 'C1', values: { code: 'C1', name: 'Acme', phone: '1' }, hash: '', deleted: false, changedAt: null }]]),
        records: new Map([['cus_1', current]]),
      }),
      { ...ctx, fields: ['code', 'name', 'phone'] },
    );
    const steps: string[] = [];
    const outcome = await hub.store.transaction((trx) =>
      writePage(plan, { open: new Map() }, ctx, trx, {
        store: hub.store,
        fault: async (p) => void steps.push(p),
        checkpoint: { write: async (trx2) => void (await hub.store.checkpoints.writeSourceCheckpoint(trx2, 'customers', 'erp', { position: { at: 1 }, inScan: false, loadedAt: null }), steps.push('checkpoint')) },
      }),
    );
    expect(steps).toEqual(['after-hub-write', 'before-checkpoint', 'checkpoint']);
    expect(outcome.stats).toMatchObject({ hubUpdated: 1 });
    const after = (await hub.get('Customer', 'cus_1'))!;
    expect(after).toMatchObject({ version: current.version + 1, values: { phone: '2', name: 'Acme' } });
    expect(after.seq).toBeGreaterThan(current.seq);
    expect((await hub.store.provenance.ofRecord(hub.knex, 'Customer', 'cus_1')).phone).toEqual({ source: 'erp', changedAt: '2024-05-01T00:00:00.000Z' });
    expect((await hub.store.bases.load(hub.knex, 'Customer', 'erp', ['C1'])).get('C1')?.values).toEqual({ code: 'C1', name: 'Acme', phone: '2' });
    const audit = await hub.knex('crm_audit').where({ action: 'sync' }).first();
    expect(JSON.parse(audit.after)).toEqual({ job: 'customers', source: 'erp', inserted: 0, updated: 1, deleted: 0 });
    expect(await hub.store.checkpoints.readSourceCheckpoint(hub.knex, 'customers', 'erp')).toMatchObject({ position: { at: 1 } });
  });
});
