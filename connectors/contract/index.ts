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
export type ContractCase = 'change capture' | 'aggregate';

export function connectorContract(name: string, setup: () => Promise<ContractFixture | null>, opts: { gaps?: Partial<Record<ContractCase, string>> } = {}): void {
  describe(`connector contract (read side): ${name}`, () => {
    let fx: ContractFixture | null = null;
    let all: Row[] = [];

    beforeAll(async () => {
      fx = await setup();
      if (!fx) return;
      all = [];
      for await (const page of fx.connector.readPages({ table: fx.table, key: fx.key, pageSize: 1000 })) all.push(...page);
    });

    afterAll(async () => {
      await fx?.connector.destroy();
      await fx?.cleanup?.();
    });

    const when = (title: string, fn: (f: ContractFixture) => Promise<void>, gap?: ContractCase) =>
      it(title, async (ctx) => {
        if (!fx) return ctx.skip();
        const why = gap ? opts.gaps?.[gap] : undefined;
        if (why) {
          process.stderr.write(`[${name}] declared gap "${gap}": ${why}\n`);
          return ctx.skip();
        }
        await fn(fx);
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

    when(
      'captures changes by row hash: a full snapshot, then what changed and what was deleted',
      async (f) => {
        const columns = Object.keys(all[0] ?? {});
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
