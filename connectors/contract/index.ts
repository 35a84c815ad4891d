/**
 * The connector contract, read side, as a vitest suite any connector can run: crmlink runs it over
 * SQLite, PostgreSQL, MariaDB, Access, xlsx and CSV (tests/contract/connectors.contract.test.ts),
 * and a plugin author runs it over their own connector:
 *
 * @example
 *   // my-connector.contract.test.ts, in the plugin's repository
 *   import { connectorContract } from 'crmlink/connectors/contract';
 *   connectorContract('foo', async () => ({
 *     connector: new FooConnector('foo', settings),
 *     table: 'customers', key: ['id'], textColumn: 'name',
 *     expectedCount: 12,
 *     sample: { id: 1, name: '上海某某有限公司' },
 *   }));
 *
 * A connector that cannot meet a case declares it in `gaps` with the reason: it is skipped with
 * that reason printed, never silently. Not imported by crmlink at run time (it needs vitest).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CrmlinkError } from '../../core/errors.js';
import type { Connector } from '../connector.js';
import type { ChangeBatch, Checkpoint, FilterOp, KeyValues, Row, Where } from '../driver.js';
import { matchesWhere, selectFiltered, compareNullable } from '../filter.js';
import { checkConnector } from '../plugins.js';

/** What the contract needs to know about the data behind a connector. */
export interface ContractFixture {
  connector: Connector;
  /** A table with at least 5 rows and a non-null unique key. */
  table: string;
  key: string[];
  /** A text column with at least two distinct values (Chinese text welcome). */
  textColumn: string;
  /** Rows the table holds. */
  expectedCount: number;
  /** One row of the table, as `select` must return it (its key and any other columns). */
  sample: Row;
  /**
   * Change the source's data: return the keys whose rows now differ (updated or inserted) and the
   * keys that are gone. Without it the change-capture case is a declared gap.
   */
  change?(): Promise<{ upserted: KeyValues[]; deleted: KeyValues[] }>;
  /** Called after the suite (drop databases, remove files). */
  cleanup?(): Promise<void>;
}

/** Case names a connector may declare as gaps, with the reason. */
export type ContractCase = 'change capture' | 'aggregate' | 'read keys';

type ContractOptions = { gaps?: Partial<Record<ContractCase, string>> };
type ContractCaseFn = (title: string, fn: (f: ContractFixture) => Promise<void>, gap?: ContractCase) => void;

/**
 * A fixture of its own for the enclosing describe: set up before its cases (then `ready`), the
 * connector destroyed and the fixture cleaned up after them. Returns `when(title, fn, gap?)`, a
 * case skipped when the fixture is unavailable, or when it falls under a declared gap (said why).
 */
function fixtureCases(name: string, setup: () => Promise<ContractFixture | null>, opts: ContractOptions, ready?: (f: ContractFixture) => Promise<void>): ContractCaseFn {
  let fx: ContractFixture | null = null;
  beforeAll(async () => {
    fx = await setup();
    if (fx && ready) await ready(fx);
  });
  afterAll(async () => {
    await fx?.connector.destroy();
    await fx?.cleanup?.();
  });
  return (title, fn, gap) =>
    it(title, async (ctx) => {
      if (!fx) return ctx.skip();
      const why = gap ? opts.gaps?.[gap] : undefined;
      if (why) {
        process.stderr.write(`[${name}] declared gap "${gap}": ${why}\n`);
        return ctx.skip();
      }
      await fn(fx);
    });
}

export function connectorContract(name: string, setup: () => Promise<ContractFixture | null>, opts: ContractOptions = {}): void {
  describe(`connector contract (read side): ${name}`, () => {
    let all: Row[] = [];
    const when = fixtureCases(name, setup, opts, async (fx) => {
      all = [];
      for await (const page of fx.connector.readPages({ table: fx.table, key: fx.key, pageSize: 1000 })) all.push(...page);
    });

    const keyOf = (f: ContractFixture, r: Row) => JSON.stringify(f.key.map((k) => String(r[k])));

    when('declares its capabilities as data', async (f) => {
      expect(checkConnector(f.connector)).toBeUndefined();
      expect(f.connector.capabilities.capture.length).toBeGreaterThan(0);
    });

    when('test() reports a reachable source', async (f) => {
      const h = await f.connector.test();
      expect(h.error?.message).toBeUndefined();
      expect(h.ok).toBe(true);
      expect(h.latencyMs).toBeGreaterThanOrEqual(0);
    });

    when('introspects the table: its columns and key', async (f) => {
      const [info] = await f.connector.introspect({ table: f.table });
      expect(info.name).toBe(f.table);
      const names = info.columns.map((c) => c.name);
      for (const c of [...f.key, f.textColumn, ...Object.keys(f.sample)]) expect(names).toContain(c);
      expect((await f.connector.introspect()).map((t) => t.name)).toContain(f.table);
    });

    when('an unknown table is an error that names it', async (f) => {
      const err = await f.connector.select({ table: 'crmlink_no_such_table', columns: f.key }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toContain('crmlink_no_such_table');
    });

    when('reads every row once, in key order, in bounded pages', async (f) => {
      expect(all.length).toBe(f.expectedCount);
      expect(new Set(all.map((r) => keyOf(f, r))).size).toBe(all.length);
      const pages: Row[][] = [];
      for await (const page of f.connector.readPages({ table: f.table, key: f.key, pageSize: 2 })) pages.push(page);
      expect(pages.every((p) => p.length <= 2)).toBe(true);
      const paged = pages.flat();
      expect(paged.map((r) => keyOf(f, r))).toEqual(all.map((r) => keyOf(f, r)));
      for (let i = 1; i < paged.length; i++) {
        const cmp = f.key.map((k) => compareNullable(paged[i - 1][k], paged[i][k], f.connector.capabilities.nullsAscending)).find((c) => c !== 0) ?? 0;
        expect(cmp).toBeLessThan(0);
      }
    });

    when('resumes a keyset read after a key', async (f) => {
      const third = all[2];
      const rest: Row[] = [];
      for await (const page of f.connector.readPages({ table: f.table, key: f.key, pageSize: 2, after: f.key.map((k) => third[k]) })) rest.push(...page);
      expect(rest.map((r) => keyOf(f, r))).toEqual(all.slice(3).map((r) => keyOf(f, r)));
    });

    when('returns the sample row with its values', async (f) => {
      const where: Where = { and: f.key.map((k) => ({ column: k, op: 'eq' as const, value: f.sample[k] })) };
      const rows = await selectFiltered(f.connector, { table: f.table, columns: Object.keys(f.sample), where });
      expect(rows).toEqual([f.sample]);
    });

    when('filters as crmlink would, pushed down or not', async (f) => {
      const t = f.textColumn;
      const texts = all.map((r) => r[t]).filter((v): v is string => typeof v === 'string' && v.length > 0);
      const k = f.key[0];
      const keys = all.map((r) => r[k]);
      const probes: Where[] = [
        { column: t, op: 'eq', value: texts[0] },
        { column: t, op: 'ne', value: texts[0] },
        { column: t, op: 'in', value: [texts[0], texts[texts.length - 1]] },
        { column: t, op: 'startsWith', value: texts[1].slice(0, 1) },
        { column: t, op: 'contains', value: texts[1].slice(1, 3) || texts[1] },
        // contains is case-insensitive for text, wherever it is evaluated (docs/filters.md).
        { column: t, op: 'contains', value: (texts[1].slice(1, 3) || texts[1]).toUpperCase() },
        { column: t, op: 'contains', value: (texts[1].slice(1, 3) || texts[1]).toLowerCase() },
        { column: t, op: 'isNull', value: true },
        { column: k, op: 'gt', value: keys[1] },
        { column: k, op: 'lte', value: keys[3] },
        { or: [{ column: k, op: 'eq', value: keys[0] }, { not: { column: k, op: 'lt', value: keys[4] } }] },
      ];
      for (const where of probes) {
        const got = await selectFiltered(f.connector, { table: f.table, columns: f.key, where, orderBy: f.key.map((column) => ({ column, direction: 'asc' as const })) });
        const want = all.filter((r) => matchesWhere(r, where));
        expect(got.map((r) => keyOf(f, r)), JSON.stringify(where)).toEqual(want.map((r) => keyOf(f, r)));
      }
    });

    when('refuses a filter it cannot push down, naming the operator', async (f) => {
      const missing = (['eq', 'ne', 'in', 'nin', 'lt', 'lte', 'gt', 'gte', 'contains', 'startsWith', 'isNull'] as FilterOp[]).find((op) => !f.connector.capabilities.filters.includes(op));
      if (!missing) return; // evaluates every operator itself
      const err = await f.connector.select({ table: f.table, columns: f.key, where: { column: f.textColumn, op: missing, value: 'x' } }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toContain(missing);
    });

    when(
      'aggregates: count, grouped',
      async (f) => {
        const [total] = await f.connector.aggregate({ table: f.table, aggregates: [{ fn: 'count', as: 'n' }] });
        expect(Number(total.n)).toBe(f.expectedCount);
        const grouped = await f.connector.aggregate({ table: f.table, groupBy: [f.textColumn], aggregates: [{ fn: 'count', as: 'n' }] });
        expect(grouped.reduce((s, g) => s + Number(g.n), 0)).toBe(f.expectedCount);
      },
      'aggregate',
    );

    when(
      'reads which keys still have a row (readKeys), honouring a filter',
      async (f) => {
        const readKeys = f.connector.readKeys?.bind(f.connector);
        if (!readKeys) throw new Error('no readKeys: declare the "read keys" gap');
        const text = (v: KeyValues) => JSON.stringify(v.map(String));
        const present = all.map((r) => f.key.map((k) => r[k]));
        // A key no row has: a number far above the largest, or a text no row holds.
        const absent = f.key.map((k) => {
          const values = all.map((r) => r[k]);
          return values.every((v) => typeof v === 'number') ? Math.max(...(values as number[])) + 1_000_000 : `crmlink-absent-${k}`;
        });
        const got = await readKeys({ table: f.table, key: f.key, keys: [absent, ...present] });
        expect(got.map(text).sort()).toEqual(present.map(text).sort());
        expect(got.every((k) => k.length === f.key.length)).toBe(true);
        const first = all.find((r) => typeof r[f.textColumn] === 'string')!;
        const where: Where = { column: f.textColumn, op: 'eq', value: first[f.textColumn] };
        const filtered = await readKeys({ table: f.table, key: f.key, keys: present, where });
        expect(filtered.map(text).sort()).toEqual(all.filter((r) => matchesWhere(r, where)).map((r) => text(f.key.map((k) => r[k]))).sort());
        expect(await readKeys({ table: f.table, key: f.key, keys: [] })).toEqual([]);
      },
      'read keys',
    );

    when('an aborted read stops', async (f) => {
      const ac = new AbortController();
      ac.abort();
      await expect(
        (async () => {
          for await (const _ of f.connector.readPages({ table: f.table, key: f.key, signal: ac.signal })) void _;
        })(),
      ).rejects.toBeTruthy();
    });

    when('a read-only source refuses writes, naming itself', async (f) => {
      if (f.connector.capabilities.write) return;
      // A plugin need not depend on crmlink's error classes: the code and the message are the contract.
      const err = await f.connector.upsert([f.sample], { table: f.table, key: f.key }).catch((e: unknown) => e);
      expect((err as CrmlinkError).code).toBe('WRITE_FORBIDDEN');
      expect((err as Error).message).toContain(f.connector.name);
      const del = await f.connector.delete([f.key.map((k) => f.sample[k])], { table: f.table, key: f.key }).catch((e: unknown) => e);
      expect((del as CrmlinkError).code).toBe('WRITE_FORBIDDEN');
    });

  });

  // Change capture changes the data: its own fixture, so the read cases see the data as set up
  // whatever order the cases run in.
  describe(`connector contract (change capture): ${name}`, () => {
    const when = fixtureCases(name, setup, opts);

    when(
      'captures changes by row hash: a full snapshot, then what changed and what was deleted',
      async (f) => {
        const [first0] = await f.connector.select({ table: f.table, columns: f.key, limit: 1, orderBy: f.key.map((column) => ({ column, direction: 'asc' as const })) });
        const info = (await f.connector.introspect({ table: f.table }))[0];
        const columns = info.columns.map((c) => c.name);
        expect(first0).toBeDefined();
        const spec = { table: f.table, key: f.key, columns, strategy: 'hash' as const, lookBackSeconds: 0 };
        const scan = async (from: Checkpoint | null) => {
          const hashes = new Map<string, string>();
          let cp = from;
          let snapshot = false;
          for (let i = 0; i < 10_000; i++) {
            const b: ChangeBatch = await f.connector.changesSince(spec, cp, { pageSize: 3 });
            snapshot ||= b.snapshot;
            for (const c of b.changes) hashes.set(JSON.stringify(c.key.map(String)), c.hash);
            cp = b.checkpoint;
            if (!b.hasMore) break;
          }
          return { hashes, cp, snapshot };
        };
        const first = await scan(null);
        expect(first.snapshot).toBe(true);
        expect(first.hashes.size).toBe(f.expectedCount);
        // Unchanged: either nothing (the connector knows) or the same hashes again.
        const again = await scan(first.cp);
        if (again.snapshot) expect(again.hashes).toEqual(first.hashes);
        else expect(again.hashes.size).toBe(0);
        if (!f.change) throw new Error('no change() given: declare the "change capture" gap');
        const { upserted, deleted } = await f.change();
        const after = await scan(again.cp);
        expect(after.snapshot).toBe(true);
        const changed = [...after.hashes].filter(([k, h]) => first.hashes.get(k) !== h).map(([k]) => k).sort();
        expect(changed).toEqual(upserted.map((k) => JSON.stringify(k.map(String))).sort());
        const gone = [...first.hashes.keys()].filter((k) => !after.hashes.has(k)).sort();
        expect(gone).toEqual(deleted.map((k) => JSON.stringify(k.map(String))).sort());
      },
      'change capture',
    );
  });
}

/** What the write contract needs: a writable table with two rows the cases may change. */
export interface WriteContractFixture {
  connector: Connector;
  table: string;
  key: string[];
  /** A text column (Chinese text is written to it). */
  textColumn: string;
  /** Three existing rows, with at least their key (one per case that changes an existing row). */
  existing: [Row, Row, Row];
  /** Two keys no row has: one is inserted, the other must stay absent. */
  newKeys: [KeyValues, KeyValues];
  cleanup?(): Promise<void>;
}

/**
 * The write side of the contract, for connectors with capabilities.write: batched upserts with
 * an outcome per row (inserted, updated, unchanged, missing, error), deletes, Chinese text written
 * and read back unchanged. Each case touches its own rows, so the cases run in any order.
 */
export function connectorWriteContract(name: string, setup: () => Promise<WriteContractFixture | null>): void {
  describe(`connector contract (write side): ${name}`, () => {
    let fx: WriteContractFixture | null = null;
    beforeAll(async () => {
      fx = await setup();
    });
    afterAll(async () => {
      await fx?.connector.destroy();
      await fx?.cleanup?.();
    });
    const when = (title: string, fn: (f: WriteContractFixture) => Promise<void>) =>
      it(title, async (ctx) => {
        if (!fx) return ctx.skip();
        await fn(fx);
      });
    const read = async (f: WriteContractFixture, key: KeyValues) =>
      f.connector.select({ table: f.table, columns: [...f.key, f.textColumn], where: { and: f.key.map((k, i) => ({ column: k, op: 'eq' as const, value: key[i] })) } });
    const rowOf = (f: WriteContractFixture, key: KeyValues, text: string): Row => ({ ...Object.fromEntries(f.key.map((k, i) => [k, key[i]])), [f.textColumn]: text });

    when('declares that it can write', async (f) => {
      expect(f.connector.capabilities.write).toBe(true);
    });

    when('inserts a new row and reads it back, Chinese text unchanged', async (f) => {
      const text = '（新）成都天府软件园·研发中心 有限公司';
      const [o] = await f.connector.upsert([rowOf(f, f.newKeys[0], text)], { table: f.table, key: f.key });
      expect(o.status).toBe('inserted');
      const back = await read(f, f.newKeys[0]);
      expect(back.length).toBe(1);
      expect(back[0][f.textColumn]).toBe(text);
    });

    when('updates a row, then reports the same values as unchanged', async (f) => {
      const key = f.key.map((k) => f.existing[0][k]);
      const text = '上海锦江贸易（集团）有限公司';
      expect((await f.connector.upsert([rowOf(f, key, text)], { table: f.table, key: f.key }))[0].status).toBe('updated');
      expect((await read(f, key))[0][f.textColumn]).toBe(text);
      expect((await f.connector.upsert([rowOf(f, key, text)], { table: f.table, key: f.key }))[0].status).toBe('unchanged');
    });

    when('mode update: a missing key is reported missing and nothing is inserted', async (f) => {
      const [o] = await f.connector.upsert([rowOf(f, f.newKeys[1], 'x')], { table: f.table, key: f.key, mode: 'update' });
      expect(o.status).toBe('missing');
      expect(await read(f, f.newKeys[1])).toEqual([]);
    });

    when('mode insert: an existing key is an error outcome, the row unchanged', async (f) => {
      const key = f.key.map((k) => f.existing[1][k]);
      const before = await read(f, key);
      const [o] = await f.connector.upsert([rowOf(f, key, 'should not be written')], { table: f.table, key: f.key, mode: 'insert' });
      expect(o.status).toBe('error');
      expect(await read(f, key)).toEqual(before);
    });

    when('deletes by key; a missing key is reported missing', async (f) => {
      const key = f.key.map((k) => f.existing[2][k]);
      const out = await f.connector.delete([key, f.newKeys[1]], { table: f.table, key: f.key });
      expect(out.map((o) => o.status)).toEqual(['deleted', 'missing']);
      expect(await read(f, key)).toEqual([]);
    });
  });
}
