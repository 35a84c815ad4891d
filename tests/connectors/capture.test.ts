/**
 * The capture strategies at their boundaries, on a real SQLite source: where a page ends and the
 * next resumes, what the checkpoint holds at each step (so a run that stops after any page resumes
 * without missing or repeating a row), and what each strategy reports per change. The connector
 * contract (tests/contract/connector.contract.test.ts) runs the same strategies on every engine at
 * scale; this file states the small cases exactly and runs in seconds.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Knex } from 'knex';
import { createTestDatabase, fixtureKnex, type TestDatabase } from '../support/databases.js';
import { createDriver } from '../../connectors/registry.js';
import type { CaptureSpec, Change, ChangeBatch, Checkpoint, Driver } from '../../connectors/driver.js';
import { CRMLINK_ORIGIN, installCapture } from '../../connectors/capture/index.js';
import { HASH_PREFIX, shiftTs, tsOrder, tsValue } from '../../connectors/capture/timestamp.js';
import { keyHash, rowHash } from '../../connectors/hash.js';
import { drainChanges, sourceFor } from '../contract/support.js';
import { CrmlinkError } from '../../core/errors.js';

let db: TestDatabase;
let fx: Knex;
let driver: Driver;
let shanghai: Driver;

beforeAll(async () => {
  db = await createTestDatabase('sqlite', 'capture');
  fx = fixtureKnex(db);
  await fx.raw('select 1');
  driver = createDriver('erp', sourceFor(db));
  shanghai = createDriver('erp', sourceFor(db, { timezone: 'Asia/Shanghai' }));
});
afterAll(async () => {
  await driver?.destroy();
  await shanghai?.destroy();
  await fx?.destroy();
  await db?.drop();
});

/** A table keyed by the pair (a, b), with one value column v. */
function createPairsTable(name: string): Promise<void> {
  return fx.schema.createTable(name, (t) => {
    t.string('a', 5);
    t.integer('b');
    t.string('v', 10);
    t.primary(['a', 'b']);
  });
}

/** Every batch up to hasMore: false (of the test's driver unless another is named). */
const drain = (spec: CaptureSpec, cp: Checkpoint | null, pageSize: number, d: Driver = driver) => drainChanges(d, spec, cp, pageSize);

const keys = (changes: Change[]) => changes.map((c) => String(c.key.length === 1 ? c.key[0] : c.key.join('/')));

describe('hash capture', () => {
  const spec: CaptureSpec = { table: 'h_rows', key: ['code'], columns: ['code', 'name'], strategy: 'hash', lookBackSeconds: 0 };
  beforeAll(async () => {
    await fx.schema.createTable('h_rows', (t) => {
      t.string('code', 10).primary();
      t.string('name', 50);
      t.integer('hidden').notNullable().defaultTo(0);
    });
    await fx('h_rows').insert(['A', 'B', 'C', 'D', 'E'].map((code) => ({ code, name: code.toLowerCase() })));
  });

  it('pages through the table in key order; each checkpoint is the last key delivered, null when the scan is complete', async () => {
    const b1 = await driver.changesSince(spec, null, { pageSize: 2 });
    expect(keys(b1.changes)).toEqual(['A', 'B']);
    expect(b1).toMatchObject({ hasMore: true, snapshot: true, checkpoint: { strategy: 'hash', after: ['B'] } });
    const b2 = await driver.changesSince(spec, b1.checkpoint, { pageSize: 2 });
    expect(keys(b2.changes)).toEqual(['C', 'D']);
    expect(b2).toMatchObject({ hasMore: true, checkpoint: { after: ['D'] } });
    const b3 = await driver.changesSince(spec, b2.checkpoint, { pageSize: 2 });
    expect(keys(b3.changes)).toEqual(['E']);
    expect(b3).toMatchObject({ hasMore: false, snapshot: true, checkpoint: { strategy: 'hash', after: null } });
    // After a complete scan the next call starts the next scan from the first key.
    const again = await driver.changesSince(spec, b3.checkpoint, { pageSize: 2 });
    expect(keys(again.changes)).toEqual(['A', 'B']);

    const c = b1.changes[0];
    expect(c).toEqual({ key: ['A'], op: 'upsert', row: { code: 'A', name: 'a' }, changedAt: null, hash: rowHash({ code: 'A', name: 'a' }, ['code', 'name']) });
  });

  it('a table of exactly one page is one batch with nothing more to read', async () => {
    const b = await driver.changesSince(spec, null, { pageSize: 5 });
    expect(keys(b.changes)).toEqual(['A', 'B', 'C', 'D', 'E']);
    expect(b.hasMore).toBe(false);
    expect(b.checkpoint).toEqual({ strategy: 'hash', after: null });
  });

  it('the hash changes with the row; a filtered-out row is absent from the snapshot', async () => {
    const before = new Map((await drain(spec, null, 2)).changes.map((c) => [String(c.key[0]), c.hash]));
    await fx('h_rows').where({ code: 'D' }).update({ name: 'changed' });
    await fx('h_rows').where({ code: 'B' }).update({ hidden: 1 });
    const filtered = { ...spec, where: { column: 'hidden', op: 'eq' as const, value: 0 } };
    const after = new Map((await drain(filtered, null, 2)).changes.map((c) => [String(c.key[0]), c.hash]));
    expect([...after.keys()]).toEqual(['A', 'C', 'D', 'E']);
    expect([...after].filter(([k, h]) => before.get(k) !== h).map(([k]) => k)).toEqual(['D']);
  });

  it('a composite key resumes after the last (a, b) pair', async () => {
    await createPairsTable('h_pairs');
    await fx('h_pairs').insert([
      { a: 'x', b: 2, v: '1' },
      { a: 'x', b: 1, v: '2' },
      { a: 'y', b: 1, v: '3' },
    ]);
    const pairs: CaptureSpec = { table: 'h_pairs', key: ['a', 'b'], columns: ['v'], strategy: 'hash', lookBackSeconds: 0 };
    const b1 = await driver.changesSince(pairs, null, { pageSize: 2 });
    expect(b1.changes.map((c) => c.key)).toEqual([
      ['x', 1],
      ['x', 2],
    ]);
    expect(b1.checkpoint).toEqual({ strategy: 'hash', after: ['x', 2] });
    expect(b1.changes[0].row).toEqual({ v: '2', a: 'x', b: 1 });
    const b2 = await driver.changesSince(pairs, b1.checkpoint, { pageSize: 2 });
    expect(b2.changes.map((c) => c.key)).toEqual([['y', 1]]);
    expect(b2.hasMore).toBe(false);
  });
});

describe('trigger capture', () => {
  const spec: CaptureSpec = {
    table: 't_rows',
    key: ['code'],
    columns: ['code', 'name'],
    where: { column: 'deleted', op: 'eq', value: 0 },
    strategy: 'trigger',
    lookBackSeconds: 0,
  };
  beforeAll(async () => {
    await fx.schema.createTable('t_rows', (t) => {
      t.string('code', 10).primary();
      t.string('name', 50);
      t.integer('deleted').notNullable().defaultTo(0);
    });
    await installCapture(driver, { table: { table: 't_rows' }, key: ['code'] });
  });

  it('an empty change log gives nothing and no position; the position stays put while nothing new is logged', async () => {
    const b = await driver.changesSince(spec, null, { pageSize: 10 });
    expect(b).toEqual({ changes: [], checkpoint: { strategy: 'trigger', lastId: null }, hasMore: false, snapshot: false });
    const kept = await driver.changesSince(spec, { strategy: 'trigger', lastId: '0' }, { pageSize: 10 });
    expect(kept.checkpoint).toEqual({ strategy: 'trigger', lastId: '0' });
  });

  it('one change per key, the latest, in the order of each key’s last change; deletes and rows leaving the filter are deletes', async () => {
    await fx('t_rows').insert({ code: 'A', name: 'a' });
    await fx('t_rows').insert({ code: 'B', name: 'b' });
    await fx('t_rows').insert({ code: 'C', name: 'c' });
    await fx('t_rows').where({ code: 'A' }).update({ name: 'a2' });
    await fx('t_rows').where({ code: 'B' }).delete();
    await fx('t_rows').where({ code: 'C' }).update({ deleted: 1 });

    const b = await driver.changesSince(spec, null, { pageSize: 100 });
    expect(b.hasMore).toBe(false);
    expect(b.snapshot).toBe(false);
    expect(b.changes.map((c) => `${c.op}:${String(c.key[0])}`)).toEqual(['upsert:A', 'delete:B', 'delete:C']);
    const [a, del] = b.changes;
    expect(a.row).toEqual({ code: 'A', name: 'a2' });
    expect(a.hash).toBe(rowHash({ code: 'A', name: 'a2' }, ['code', 'name']));
    expect(del).toMatchObject({ key: ['B'], row: null, hash: keyHash(['B']) });
    for (const c of b.changes) {
      expect(c.changedAt).toBeInstanceOf(Date);
      expect(Math.abs(c.changedAt!.getTime() - Date.now())).toBeLessThan(24 * 3600_000);
    }
    // The position is the last log entry read: nothing is read twice.
    const ids = (await fx('crmlink_changelog').where({ table_name: 't_rows' }).orderBy('id', 'asc').select('id')) as { id: number }[];
    expect(b.checkpoint).toEqual({ strategy: 'trigger', lastId: String(ids[ids.length - 1].id) });
    expect((await driver.changesSince(spec, b.checkpoint, { pageSize: 100 })).changes).toEqual([]);
  });

  it('pages end at the page size; resuming from each page’s position reads every later entry once', async () => {
    const start = (await drain(spec, null, 100)).checkpoint;
    for (const code of ['P1', 'P2', 'P3', 'P4']) await fx('t_rows').insert({ code, name: code });
    const b1 = await driver.changesSince(spec, start, { pageSize: 2 });
    expect(keys(b1.changes)).toEqual(['P1', 'P2']);
    expect(b1.hasMore).toBe(true);
    const b2 = await driver.changesSince(spec, b1.checkpoint, { pageSize: 2 });
    expect(keys(b2.changes)).toEqual(['P3', 'P4']);
    // Exactly a page left: no further page is announced.
    expect(b2.hasMore).toBe(false);
    expect(Number(b2.checkpoint.lastId)).toBeGreaterThan(Number(b1.checkpoint.lastId));
  });

  it("an entry tagged with crmlink's origin (its own write, as the PostgreSQL, MariaDB and SQL Server triggers tag it) is skipped, and read past", async () => {
    const start = (await drain(spec, null, 100)).checkpoint;
    await fx('t_rows').insert({ code: 'ECHO', name: 'written by crmlink' });
    // SQLite triggers cannot tag a session's writes (a declared gap): tag the logged entry as the other engines do.
    // The literal the installed triggers write (a trigger installed by an earlier release included).
    expect(CRMLINK_ORIGIN).toBe('crmlink');
    await fx('crmlink_changelog').where({ table_name: 't_rows' }).andWhere('id', '>', Number(start.lastId)).update({ origin: 'crmlink' });
    await fx('t_rows').insert({ code: 'THEIRS', name: 'an external write' });
    const b = await driver.changesSince(spec, start, { pageSize: 10 });
    expect(keys(b.changes)).toEqual(['THEIRS']);
    const last = (await fx('crmlink_changelog').max('id as id').first()) as { id: number };
    expect(b.checkpoint.lastId).toBe(String(last.id));
  });

  it('a checkpoint taken on an empty change log still reads what is logged after it', async () => {
    await fx.schema.createTable('t_later', (t) => {
      t.string('code', 10).primary();
      t.string('name', 50);
    });
    await installCapture(driver, { table: { table: 't_later' }, key: ['code'] });
    const later: CaptureSpec = { table: 't_later', key: ['code'], columns: ['code', 'name'], strategy: 'trigger', lookBackSeconds: 0 };
    const empty = await driver.changesSince(later, null, { pageSize: 10 });
    expect(empty.checkpoint).toEqual({ strategy: 'trigger', lastId: null });
    await fx('t_later').insert({ code: 'N', name: 'new' });
    const next = await driver.changesSince(later, JSON.parse(JSON.stringify(empty.checkpoint)) as Checkpoint, { pageSize: 10 });
    expect(keys(next.changes)).toEqual(['N']);
  });

  it('a page with nothing to deliver costs one statement: the change-log read', async () => {
    const end = (await drain(spec, null, 100)).checkpoint;
    const statements: string[] = [];
    const off = driver.onQuery((sql) => statements.push(sql));
    try {
      const b = await driver.changesSince(spec, end, { pageSize: 10 });
      expect(b.changes).toEqual([]);
    } finally {
      off();
    }
    expect(statements).toHaveLength(1);
    expect(statements[0]).toMatch(/crmlink_changelog/);
  });

  it('an entry logged with a bare key (not a JSON array, as a hand-made trigger may write) is a one-column key', async () => {
    const start = (await drain(spec, null, 100)).checkpoint;
    await fx('t_rows').insert({ code: 'BARE', name: 'bare' });
    await fx('crmlink_changelog').where({ table_name: 't_rows' }).andWhere('id', '>', Number(start.lastId)).update({ key_json: '"BARE"' });
    const b = await driver.changesSince(spec, start, { pageSize: 10 });
    expect(b.changes.map((c) => [c.op, c.key, c.row])).toEqual([['upsert', ['BARE'], { code: 'BARE', name: 'bare' }]]);
  });

  it('a mapped column missing from the table fails naming the column and the read that failed', async () => {
    const start = (await drain(spec, null, 100)).checkpoint;
    await fx('t_rows').insert({ code: 'G', name: 'g' });
    const err = await driver.changesSince({ ...spec, columns: ['code', 'name', 'gone'] }, start, { pageSize: 10 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CrmlinkError);
    expect((err as CrmlinkError).message).toMatch(/t_rows has no column gone .*read changed rows/);
  });

  it('a change log without the origin column (an older one) fails naming the column and the change-log read', async () => {
    const old = await createTestDatabase('sqlite', 'capture-old-log');
    const ofx = fixtureKnex(old);
    const od = createDriver('erp', sourceFor(old));
    try {
      await ofx.schema.createTable('r', (t) => {
        t.string('code', 10).primary();
      });
      await ofx.raw("create table crmlink_changelog (id integer primary key autoincrement, table_name text not null, key_json text not null, op text not null, changed_at text not null default (strftime('%Y-%m-%d %H:%M:%f', 'now')))");
      const err = await od.changesSince({ table: 'r', key: ['code'], columns: ['code'], strategy: 'trigger', lookBackSeconds: 0 }, null, { pageSize: 10 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CrmlinkError);
      expect((err as CrmlinkError).message).toMatch(/crmlink_changelog has no column origin .*read change log/);
    } finally {
      await od.destroy();
      await ofx.destroy();
      await old.drop();
    }
  });

  it('a composite key is logged and joined back per key', async () => {
    await createPairsTable('t_pairs');
    await installCapture(driver, { table: { table: 't_pairs' }, key: ['a', 'b'] });
    await fx('t_pairs').insert({ a: 'x', b: 1, v: 'one' });
    await fx('t_pairs').insert({ a: 'x', b: 2, v: 'two' });
    await fx('t_pairs').where({ a: 'x', b: 2 }).delete();
    const pairs: CaptureSpec = { table: 't_pairs', key: ['a', 'b'], columns: ['v'], strategy: 'trigger', lookBackSeconds: 0 };
    const b = await driver.changesSince(pairs, null, { pageSize: 10 });
    expect(b.changes.map((c) => ({ op: c.op, key: c.key.map(String), row: c.row }))).toEqual([
      { op: 'upsert', key: ['x', '1'], row: { v: 'one', a: 'x', b: 1 } },
      { op: 'delete', key: ['x', '2'], row: null },
    ]);
  });
});

describe('timestamp capture', () => {
  const spec: CaptureSpec = { table: 'ts_rows', key: ['id'], columns: ['id', 'name', 'modified_at'], strategy: 'timestamp', column: 'modified_at', lookBackSeconds: 300 };
  beforeAll(async () => {
    await fx.schema.createTable('ts_rows', (t) => {
      t.integer('id').primary();
      t.string('name', 50);
      t.text('modified_at');
    });
  });
  beforeEach(async () => {
    await fx('ts_rows').del();
  });

  it('a first sweep pages by (time, key); its checkpoint then holds the high-water mark and every row of the window', async () => {
    await fx('ts_rows').insert([
      { id: 3, name: 'c', modified_at: '2024-01-01 10:00:00' },
      { id: 1, name: 'a', modified_at: '2024-01-01 10:00:00' },
      { id: 2, name: 'b', modified_at: '2024-01-01 09:00:00' },
      { id: 4, name: 'no time', modified_at: null },
    ]);
    const b1 = await driver.changesSince(spec, null, { pageSize: 2 });
    expect(keys(b1.changes)).toEqual(['2', '1']);
    expect(b1.hasMore).toBe(true);
    expect(b1.checkpoint).toMatchObject({ strategy: 'timestamp', v: 2, hwm: null, sweepMax: '2024-01-01 10:00:00', cursor: { ts: '2024-01-01 10:00:00', key: [1] } });
    expect(b1.changes[0].changedAt?.toISOString()).toBe('2024-01-01T09:00:00.000Z');
    const b2 = await driver.changesSince(spec, JSON.parse(JSON.stringify(b1.checkpoint)) as Checkpoint, { pageSize: 2 });
    expect(keys(b2.changes)).toEqual(['3']);
    expect(b2.hasMore).toBe(false);
    const cp = b2.checkpoint as Checkpoint & { seen: Record<string, string> };
    expect(cp).toMatchObject({ hwm: '2024-01-01 10:00:00', sweepMax: null, cursor: null, sweep: [] });
    // 09:00 is older than the window (10:00 − 300 s): only rows 1 and 3 are remembered.
    expect(Object.keys(cp.seen).sort()).toEqual(['1', '3']);
    const h1 = b1.changes[1].hash;
    expect(cp.seen['1']).toBe(h1.slice(0, HASH_PREFIX) + Date.UTC(2024, 0, 1, 10).toString(36));

    // The next sweep starts at the mark minus the look-back and delivers nothing unchanged.
    const idle = await driver.changesSince(spec, cp, { pageSize: 10 });
    expect(idle.changes).toEqual([]);
    expect(idle.checkpoint).toMatchObject({ hwm: '2024-01-01 10:00:00', cursor: null });
  });

  it('a row committed late inside the window, a tie at the mark and an edit that keeps its time all come once', async () => {
    await fx('ts_rows').insert([1, 2, 3].map((id) => ({ id, name: `n${id}`, modified_at: '2024-02-01 10:00:00' })));
    const first = await drain(spec, null, 2);
    expect(keys(first.changes)).toEqual(['1', '2', '3']);
    const frozen = JSON.stringify(first.checkpoint);

    await fx('ts_rows').insert({ id: 4, name: 'late', modified_at: '2024-02-01 09:56:00' });
    await fx('ts_rows').insert({ id: 5, name: 'too late', modified_at: '2024-02-01 09:54:59' });
    await fx('ts_rows').insert({ id: 6, name: 'tie', modified_at: '2024-02-01 10:00:00' });
    await fx('ts_rows').where({ id: 2 }).update({ name: 'edited' });
    const next = await drain(spec, first.checkpoint, 2);
    // Row 5 is older than the window (mark − 300 s): the strategy's stated limit.
    expect(keys(next.changes).sort()).toEqual(['2', '4', '6']);
    expect(JSON.stringify(first.checkpoint)).toBe(frozen);
    expect((await drain(spec, next.checkpoint, 2)).changes).toEqual([]);
    // The same checkpoint handed in again (a retried run) gives the same changes.
    expect(keys((await drain(spec, first.checkpoint, 2)).changes).sort()).toEqual(['2', '4', '6']);
  });

  it('a row put back to the version an earlier sweep delivered, after this sweep delivered another, comes again', async () => {
    await fx('ts_rows').insert([
      { id: 1, name: 'A', modified_at: '2024-03-01 10:00:05' },
      { id: 2, name: 'x', modified_at: '2024-03-01 10:00:02' },
      { id: 3, name: 'y', modified_at: '2024-03-01 10:00:03' },
    ]);
    const first = await drain(spec, null, 10);
    // Row 1 is changed with an earlier time (a skewed clock), delivered, then restored exactly.
    await fx('ts_rows').where({ id: 1 }).update({ name: 'B', modified_at: '2024-03-01 10:00:01' });
    const b1 = await driver.changesSince(spec, first.checkpoint, { pageSize: 1 });
    expect(b1.changes.map((c) => `${String(c.key[0])}:${String(c.row?.name)}`)).toEqual(['1:B']);
    await fx('ts_rows').where({ id: 1 }).update({ name: 'A', modified_at: '2024-03-01 10:00:05' });
    const rest = await drain(spec, b1.checkpoint, 1);
    // The consumer last got B: A must come again although the earlier sweep delivered it.
    expect(rest.changes.map((c) => `${String(c.key[0])}:${String(c.row?.name)}`)).toEqual(['1:A']);
  });

  /**
   * `n` rows with one time (2024-04-01 10:00), their hashes as a first read gives them, and what a
   * checkpoint of the earlier shape remembering `seen` (key → entry) delivers next.
   */
  const fromEarlierShape = async (n: number, seen: (hashes: string[], order: number) => Record<string, unknown>) => {
    await fx('ts_rows').insert(Array.from({ length: n }, (_, i) => ({ id: i + 1, name: String.fromCharCode(97 + i), modified_at: '2024-04-01 10:00:00' })));
    const hashes = (await drain(spec, null, 10)).changes.map((c) => c.hash);
    const order = Date.UTC(2024, 3, 1, 10);
    const old = { strategy: 'timestamp', hwm: '2024-04-01 10:00:00', sweepMax: null, cursor: null, seen: seen(hashes, order) } as Checkpoint;
    return { hashes, order, next: await driver.changesSince(spec, old, { pageSize: 10 }) };
  };

  it('an earlier checkpoint shape is read: rows it remembers unchanged are not delivered again', async () => {
    // key → [24-digit hash prefix, timestamp order]; a malformed entry is dropped (its row comes again).
    const { next: b } = await fromEarlierShape(2, (h, order) => ({ '1': [h[0].slice(0, 24), order], '2': ['not', 'valid'] }));
    expect(keys(b.changes)).toEqual(['2']);
    expect(b.checkpoint).toMatchObject({ v: 2, hwm: '2024-04-01 10:00:00', cursor: null });
    expect(Object.keys(b.checkpoint.seen as object).sort()).toEqual(['1', '2']);
  });

  it('the sweep in progress drops pages wholly older than the window, and keeps the rest', async () => {
    // One row a minute for 10 minutes; window 120 s; pages of 2.
    await fx('ts_rows').insert(Array.from({ length: 10 }, (_, i) => ({ id: i + 1, name: `m${i}`, modified_at: `2024-05-01 10:0${i}:00` })));
    const short = { ...spec, lookBackSeconds: 120 };
    let cp: Checkpoint | null = null;
    const sizes: number[] = [];
    for (;;) {
      const b = await driver.changesSince(short, cp, { pageSize: 2 });
      cp = JSON.parse(JSON.stringify(b.checkpoint)) as Checkpoint;
      sizes.push((cp.sweep as unknown[]).length);
      if (!b.hasMore) break;
    }
    // Buckets below (latest − 120 s) go: at most the straddling page and the current one stay.
    expect(Math.max(...sizes)).toBeLessThanOrEqual(3);
    expect(sizes.slice(0, -1).every((n) => n >= 1)).toBe(true);
    // The window is 10:07..10:09: rows 8, 9, 10 are remembered.
    expect(Object.keys(cp!.seen as object).sort()).toEqual(['10', '8', '9']);
    expect((await drain(short, cp, 2)).changes).toEqual([]);
  });

  it('a table of exactly one page is one batch with nothing more to read, and never a snapshot', async () => {
    await fx('ts_rows').insert([1, 2].map((id) => ({ id, name: `n${id}`, modified_at: `2024-07-01 10:0${id}:00` })));
    const b = await driver.changesSince(spec, null, { pageSize: 2 });
    expect(keys(b.changes)).toEqual(['1', '2']);
    expect(b).toMatchObject({ hasMore: false, snapshot: false, checkpoint: { hwm: '2024-07-01 10:02:00', cursor: null } });
  });

  it('the capture filter applies, and rows without a time are never read', async () => {
    await fx('ts_rows').insert([
      { id: 1, name: 'keep', modified_at: '2024-07-01 10:00:00' },
      { id: 2, name: 'drop', modified_at: '2024-07-01 10:01:00' },
      { id: 3, name: 'keep', modified_at: null },
    ]);
    const filtered: CaptureSpec = { ...spec, where: { column: 'name', op: 'eq', value: 'keep' } };
    expect(keys((await drain(filtered, null, 10)).changes)).toEqual(['1']);
  });

  it('refuses a timestamp capture without a column', async () => {
    await expect(driver.changesSince({ ...spec, column: undefined }, null, { pageSize: 10 })).rejects.toThrow('timestamp capture needs `column`');
  });

  it('a page of rows delivered before adds nothing to the sweep in progress', async () => {
    await fx('ts_rows').insert([1, 2, 3, 4].map((id) => ({ id, name: `n${id}`, modified_at: '2024-07-02 10:00:00' })));
    const first = await drain(spec, null, 10);
    await fx('ts_rows').insert({ id: 5, name: 'new', modified_at: '2024-07-02 10:00:01' });
    // The first page (rows 1 and 2) is all known: no bucket; the last page holds row 5.
    const p1 = await driver.changesSince(spec, first.checkpoint, { pageSize: 2 });
    expect(p1.changes).toEqual([]);
    expect(p1.hasMore).toBe(true);
    expect(p1.checkpoint.sweep).toEqual([]);
    const rest = await drain(spec, p1.checkpoint, 2);
    expect(keys(rest.changes)).toEqual(['5']);
  });

  /** Rows 1, 2, 3 at `times` (newest first, the third outside the window), read once: the mark is the newest, rows 1 and 2 are remembered. */
  async function firstWindow(times: [string, string, string]) {
    await fx('ts_rows').insert(times.map((modified_at, i) => ({ id: i + 1, name: 'abc'[i], modified_at })));
    const first = await drain(spec, null, 10);
    expect(first.checkpoint.hwm).toBe(times[0]);
    expect(Object.keys(first.checkpoint.seen as object).sort()).toEqual(['1', '2']);
    return first;
  }

  it('the mark moves forward only, and the remembered rows are those of the window below it, its edge included', async () => {
    const first = await firstWindow(['2024-08-01 11:55:00', '2024-08-01 11:52:00', '2024-08-01 10:00:00']);
    // A later row moves the mark; the window is now 11:55..12:00: row 1 sits on its edge and stays, row 2 goes.
    await fx('ts_rows').insert({ id: 4, name: 'd', modified_at: '2024-08-01 12:00:00' });
    const second = await drain(spec, first.checkpoint, 10);
    expect(keys(second.changes)).toEqual(['4']);
    expect(second.checkpoint.hwm).toBe('2024-08-01 12:00:00');
    expect(Object.keys(second.checkpoint.seen as object).sort()).toEqual(['1', '4']);
    // The row at the mark moves back in time (a skewed clock): delivered, and the mark stays.
    await fx('ts_rows').where({ id: 4 }).update({ name: 'd2', modified_at: '2024-08-01 11:58:00' });
    const third = await drain(spec, second.checkpoint, 10);
    expect(keys(third.changes)).toEqual(['4']);
    expect(third.checkpoint.hwm).toBe('2024-08-01 12:00:00');
  });

  it('times before 1970 keep their mark and window', async () => {
    const first = await firstWindow(['1969-07-20 20:17:00', '1969-07-20 20:14:00', '1969-07-20 10:00:00']);
    expect((await drain(spec, first.checkpoint, 10)).changes).toEqual([]);
  });

  it('an earlier checkpoint shape taken inside a sweep resumes where it stopped, with its mark and the sweep maximum', async () => {
    await fx('ts_rows').insert([
      { id: 1, name: 'a', modified_at: '2024-09-01 09:00:00' },
      { id: 5, name: 'e', modified_at: '2024-09-01 10:05:00' },
      { id: 6, name: 'f', modified_at: '2024-09-01 10:06:00' },
    ]);
    const old = { strategy: 'timestamp', hwm: '2024-09-01 10:00:00', sweepMax: '2024-09-01 10:10:00', cursor: { ts: '2024-09-01 10:05:00', key: [5] }, seen: {} } as Checkpoint;
    const b = await driver.changesSince(spec, old, { pageSize: 10 });
    // Row 1 is older than the old mark's window and row 5 was before the cursor: only row 6.
    expect(keys(b.changes)).toEqual(['6']);
    expect(b.checkpoint).toMatchObject({ v: 2, hwm: '2024-09-01 10:10:00', cursor: null });
  });

  it('an earlier checkpoint shape: each entry it remembers becomes the short hash and the time order; malformed ones are dropped', async () => {
    const { hashes, order, next: b } = await fromEarlierShape(3, (h, order) => ({ '1': [h[0].slice(0, 24), order], '2': h[1], '3': [7, order] }));
    expect(keys(b.changes)).toEqual(['2', '3']);
    expect((b.checkpoint.seen as Record<string, string>)['1']).toBe(hashes[0].slice(0, HASH_PREFIX) + order.toString(36));
  });

  it("changedAt is the row's time read in the source's zone", async () => {
    await fx('ts_rows').insert({ id: 1, name: 'a', modified_at: '2024-06-01 08:00:00' });
    const b = await shanghai.changesSince(spec, null, { pageSize: 10 });
    expect(b.changes[0].changedAt?.toISOString()).toBe('2024-06-01T00:00:00.000Z');
  });

  it('a column of epoch seconds: the window is in seconds', async () => {
    await fx.schema.createTable('ts_epoch', (t) => {
      t.integer('id').primary();
      t.integer('changed');
    });
    const T = 1_700_000_000;
    await fx('ts_epoch').insert([
      { id: 1, changed: T },
      { id: 2, changed: T + 10 },
    ]);
    const ep: CaptureSpec = { table: 'ts_epoch', key: ['id'], columns: ['id', 'changed'], strategy: 'timestamp', column: 'changed', lookBackSeconds: 60 };
    const first = await drain(ep, null, 10);
    expect(first.checkpoint.hwm).toBe(T + 10);
    expect(first.changes[1].changedAt?.getTime()).toBe((T + 10) * 1000);
    await fx('ts_epoch').insert([
      { id: 3, changed: T - 40 },
      { id: 4, changed: T - 60 },
    ]);
    expect(keys((await drain(ep, first.checkpoint, 10)).changes).sort()).toEqual(['3']);
  });
});

describe('timestamp values', () => {
  it('tsValue keeps text, numbers and Dates in a form that survives JSON', () => {
    expect(tsValue(new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6)))).toBe('2024-01-02T03:04:05.006Z');
    expect(tsValue(1700000000)).toBe(1700000000);
    expect(tsValue(1700000000123n)).toBe(1700000000123);
    expect(tsValue('2024-01-01 10:00:00')).toBe('2024-01-01 10:00:00');
  });

  it('tsOrder puts seconds, milliseconds, naive text and instants on one scale', () => {
    expect(tsOrder(1_700_000_000)).toBe(1_700_000_000_000);
    expect(tsOrder(1_700_000_000_000)).toBe(1_700_000_000_000);
    expect(tsOrder(-1_700_000_000)).toBe(-1_700_000_000_000);
    expect(tsOrder(99_999_999_999)).toBe(99_999_999_999_000);
    expect(tsOrder(100_000_000_000)).toBe(100_000_000_000);
    expect(tsOrder('2024-01-01 10:00:00')).toBe(Date.UTC(2024, 0, 1, 10));
    expect(tsOrder('2024-01-01T10:00:00+08:00')).toBe(Date.UTC(2024, 0, 1, 2));
    expect(tsOrder('garbage')).toBe(0);
  });

  it('shiftTs moves a time and keeps its form', () => {
    expect(shiftTs(1_700_000_000, -10)).toBe(1_699_999_990);
    expect(shiftTs(1_700_000_000_000, -10)).toBe(1_699_999_990_000);
    expect(shiftTs(-1_700_000_000, -10)).toBe(-1_700_000_010);
    expect(shiftTs('2024-01-01', -1)).toBe('2023-12-31');
    expect(shiftTs(' 2024-01-01 ', 86_400)).toBe('2024-01-02');
    expect(shiftTs('2024-01-01 10:00:00', -300)).toBe('2024-01-01 09:55:00');
    expect(shiftTs('2024-01-01T10:00:00', -300)).toBe('2024-01-01T09:55:00');
    expect(shiftTs('2024-01-01 10:00:00.5', -1)).toBe('2024-01-01 09:59:59.5');
    expect(shiftTs('2024-01-01 10:00:00.250', -1)).toBe('2024-01-01 09:59:59.250');
    expect(shiftTs('2024-01-01 00:00:00.123456', -1)).toBe('2023-12-31 23:59:59.123000');
    expect(shiftTs('1969-12-31 23:59:59.750', -1)).toBe('1969-12-31 23:59:58.750');
    expect(shiftTs('2024-01-01T10:00:00.000Z', -60)).toBe('2024-01-01T09:59:00.000Z');
    expect(shiftTs('2024-01-01T10:00:00+08:00', 60)).toBe('2024-01-01T02:01:00.000Z');
    expect(shiftTs('not a time', -60)).toBe('not a time');
    // From 1e11 on a number is milliseconds (1e11 s would be the year 5138).
    expect(shiftTs(99_999_999_999, -10)).toBe(99_999_999_989);
    expect(shiftTs(100_000_000_000, -10)).toBe(99_999_990_000);
    expect(shiftTs(' 2024-01-01T10:00:00', -300)).toBe('2024-01-01T09:55:00');
    expect(shiftTs('2024-01-01 10:00:00.05', -1)).toBe('2024-01-01 09:59:59.05');
  });
});
