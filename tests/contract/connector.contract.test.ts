/**
 * The connector contract: one suite, run over every real database testDialects() names (SQLite,
 * PostgreSQL, MariaDB always; SQL Server when MSSQL_URL is set), each on a fresh database.
 * Dialect differences are capabilities or declared gaps (support.ts KNOWN_GAPS), never silent skips.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Knex } from 'knex';
import { createTestDatabase, fixtureKnex, requireDialect, testDialects, type TestDatabase } from '../support/databases.js';
import { createDriver } from '../../connectors/registry.js';
import type { Change, ChangeBatch, Checkpoint, Driver, Row, RowOutcome } from '../../connectors/driver.js';
import { CRMLINK_ORIGIN, installCapture, uninstallCapture } from '../../connectors/capture/index.js';
import { EntityMapping } from '../../connectors/mapping/entity-mapping.js';
import { entitySourceSchema } from '../../config/schema.js';
import { CrmlinkError } from '../../core/errors.js';
import { encodeKey } from '../../connectors/keys.js';
import { toInstant } from '../../model/time.js';
import { normalizeDecimal as coreNormalizeDecimal, sameValue as coreSameValue } from '../../model/values.js';
import { SourceStore } from '../../schema/source-store.js';
import { decimalColumn, drainChanges, gap, killDriverSessions, waitForDriverQuery, naiveDateTimeColumn, readAll, sleep, sourceFor } from './support.js';
import { everyAggregate } from '../support/aggregates.js';

const LEGACY_TABLE = '客户 Order';

for (const dialect of testDialects()) {
  describe(`connector contract: ${dialect}`, () => {
    let ready = false;
    let db: TestDatabase;
    let fx: Knex;
    let driver: Driver;

    beforeAll(async () => {
      ready = await requireDialect(dialect);
      if (!ready) return;
      db = await createTestDatabase(dialect, 'contract');
      fx = fixtureKnex(db);
      await fx.raw('select 1'); // SQLite: creates the file the driver opens (it never creates one itself)
      driver = createDriver('erp', sourceFor(db));
    });

    afterAll(async () => {
      if (!ready) return;
      await driver?.destroy();
      await fx?.destroy();
      await db?.drop();
    });

    /** Skip when the database is unreachable (outside CI) or the dialect declares a gap. */
    const when = (name: string, fn: () => Promise<void>, gapName?: string) =>
      it(name, async (ctx) => {
        if (!ready) return ctx.skip();
        const why = gapName ? gap(dialect, gapName) : undefined;
        if (why) {
          process.stderr.write(`[${dialect}] known gap "${gapName}": ${why}\n`);
          return ctx.skip();
        }
        await fn();
      });

    // ------------------------------------------------------------------ health

    when('test() reports a reachable source with its version', async () => {
      const h = await driver.test();
      expect(h.ok).toBe(true);
      expect(h.dialect).toBe(dialect);
      expect(h.version).toMatch(/\d/);
      expect(h.latencyMs).toBeGreaterThanOrEqual(0);
    });

    when(
      'test() on a closed port names connection.host/port (SOURCE_UNREACHABLE)',
      async () => {
        const bad = createDriver('erp', sourceFor(db, { connection: { ...sourceFor(db).connection, port: 1 } }));
        try {
          const h = await bad.test();
          expect(h.ok).toBe(false);
          expect(h.error?.code).toBe('SOURCE_UNREACHABLE');
          expect(h.error?.kind).toBe('operational');
          expect(h.error?.message).toContain('sources.erp.connection.host');
          expect(h.error?.message).toContain('sources.erp.connection.port');
        } finally {
          await bad.destroy();
        }
      },
      'unreachable host',
    );

    when('test() on an unknown database names connection.database (SOURCE_DATABASE_UNKNOWN)', async () => {
      const connection = dialect === 'sqlite' ? { filename: `${db.database}.missing` } : { ...sourceFor(db).connection, database: 'crmlink_no_such_db' };
      const bad = createDriver('erp', sourceFor(db, { connection }));
      try {
        const h = await bad.test();
        expect(h.ok).toBe(false);
        expect(h.error?.code).toBe('SOURCE_DATABASE_UNKNOWN');
        expect(h.error?.message).toContain(dialect === 'sqlite' ? 'sources.erp.connection.filename' : 'sources.erp.connection.database');
      } finally {
        await bad.destroy();
      }
    });

    when(
      'test() with a wrong password names connection.user/password (SOURCE_AUTH_FAILED)',
      async () => {
        const bad = createDriver('erp', sourceFor(db, { connection: { ...sourceFor(db).connection, password: 'definitely-wrong-password' } }));
        try {
          const h = await bad.test();
          expect(h.ok).toBe(false);
          expect(h.error?.code).toBe('SOURCE_AUTH_FAILED');
          expect(h.error?.message).toContain('sources.erp.connection.password');
        } finally {
          await bad.destroy();
        }
      },
      'bad password',
    );

    // ------------------------------------------------------------------ introspection and legacy names

    /** A table with a Chinese name with a space, a reserved word and mixed case; each test makes its own. */
    const createLegacyTable = (name: string) =>
      fx.schema.createTable(name, (t) => {
        t.increments('id');
        t.string('select', 40).notNullable();
        t.string('名称', 100);
        t.string('Mixed Case', 50);
        decimalColumn(t, dialect, 'amount');
        t.unique(['select']);
      });

    when('introspects tables, columns, keys of a legacy table with Chinese names, spaces and a reserved word', async () => {
      await createLegacyTable(LEGACY_TABLE);
      const [info] = await driver.introspect({ table: LEGACY_TABLE });
      expect(info.name).toBe(LEGACY_TABLE);
      expect(info.columns.map((c) => c.name)).toEqual(['id', 'select', '名称', 'Mixed Case', 'amount']);
      expect(info.primaryKey).toEqual(['id']);
      expect(info.uniqueKeys).toContainEqual(['select']);
      const col = (n: string) => info.columns.find((c) => c.name === n);
      expect(col('id')?.autoIncrement).toBe(true);
      expect(col('select')?.nullable).toBe(false);
      expect(col('名称')?.nullable).toBe(true);
      expect(col('select')?.maxLength).toBe(40);
      expect(col('select')?.type).toMatch(/char/i);
      if (dialect !== 'sqlite') {
        expect(col('amount')?.precision).toBe(18);
        expect(col('amount')?.scale).toBe(4);
      }
      const all = await driver.introspect();
      expect(all.map((t) => t.name)).toContain(LEGACY_TABLE);
    });

    when('introspects foreign keys with the referenced table and columns, composite ones in key order', async () => {
      await fx.schema.createTable('fk_parent', (t) => {
        t.string('region', 10).notNullable();
        t.string('code', 10).notNullable();
        t.primary(['region', 'code']);
      });
      await fx.schema.createTable('fk_child', (t) => {
        t.integer('id').primary();
        t.string('p_region', 10);
        t.string('p_code', 10);
        t.foreign(['p_region', 'p_code'], 'fk_child_parent').references(['region', 'code']).inTable('fk_parent');
      });
      const [child] = await driver.introspect({ table: 'fk_child' });
      expect(child.foreignKeys).toEqual([
        expect.objectContaining({ columns: ['p_region', 'p_code'], referencedTable: 'fk_parent', referencedColumns: ['region', 'code'] }),
      ]);
      if (dialect !== 'sqlite') expect(child.foreignKeys?.[0].name).toBe('fk_child_parent');
      const [parent] = await driver.introspect({ table: 'fk_parent' });
      expect(parent.foreignKeys).toEqual([]);
    });

    when('round-trips Chinese text through a table and columns with legacy names', async () => {
      const table = `${LEGACY_TABLE} 2`;
      await createLegacyTable(table);
      const rows: Row[] = [
        { select: 'C001', 名称: '北京华夏科技有限公司', 'Mixed Case': '（总部）ＡＢＣ', amount: '1.5' },
        { select: 'C002', 名称: '上海浦东发展银行 — 客户部 ✓', 'Mixed Case': 'x', amount: '2' },
      ];
      const out = await driver.upsert(rows, { table, key: ['select'] });
      expect(out.map((o) => o.status)).toEqual(['inserted', 'inserted']);
      const back = await driver.select({
        table,
        columns: ['select', '名称', 'Mixed Case'],
        where: { column: '名称', op: 'contains', value: '华夏' },
      });
      expect(back).toEqual([{ select: 'C001', 名称: '北京华夏科技有限公司', 'Mixed Case': '（总部）ＡＢＣ' }]);
      const second = await driver.select({ table, columns: ['名称'], where: { column: 'select', op: 'eq', value: 'C002' } });
      expect(second[0].名称).toBe('上海浦东发展银行 — 客户部 ✓');
    });

    // ------------------------------------------------------------------ reads

    when('keyset paging over a composite key returns every row once, in key order, with resume', async () => {
      await fx.schema.createTable('so_lines', (t) => {
        t.string('order_code', 20).notNullable();
        t.integer('line_no').notNullable();
        t.integer('qty');
        t.primary(['order_code', 'line_no']);
      });
      const seed: Row[] = [];
      for (const o of ['SO-A', 'SO-B', 'SO-C']) for (let l = 1; l <= 7; l++) seed.push({ order_code: o, line_no: l, qty: l * 10 });
      await fx('so_lines').insert([...seed].reverse());
      const { rows, pages } = await readAll(driver, { table: 'so_lines', key: ['order_code', 'line_no'], pageSize: 4 });
      expect(pages).toBe(6);
      expect(rows.map((r) => `${r.order_code}/${r.line_no}`)).toEqual(seed.map((r) => `${r.order_code}/${r.line_no}`));
      const resumed = await readAll(driver, { table: 'so_lines', key: ['order_code', 'line_no'], pageSize: 5, after: ['SO-B', 6] });
      expect(resumed.rows.map((r) => `${r.order_code}/${r.line_no}`)).toEqual(['SO-B/7', ...seed.filter((r) => r.order_code === 'SO-C').map((r) => `SO-C/${r.line_no}`)]);

      // Mixed directions: order_code asc, line_no desc, after (SO-A, 2).
      const mixed = await driver.select({
        table: 'so_lines',
        columns: ['order_code', 'line_no'],
        orderBy: [
          { column: 'order_code', direction: 'asc' },
          { column: 'line_no', direction: 'desc' },
        ],
        after: ['SO-A', 2],
        limit: 3,
      });
      expect(mixed.map((r) => `${r.order_code}/${r.line_no}`)).toEqual(['SO-A/1', 'SO-B/7', 'SO-B/6']);
    });

    when('keyset `after` over nullable order columns follows the dialect NULL order: every row once, in ORDER BY order', async () => {
      await fx.schema.createTable('null_order', (t) => {
        t.integer('id').primary();
        t.string('grp', 10);
        t.integer('score');
      });
      const grps = ['b', null, 'a', null, 'c', 'a', null, 'b'];
      const scores = [null, 3, 1, null, 2, null, 3, 1];
      await fx('null_order').insert(grps.map((grp, i) => ({ id: i + 1, grp, score: scores[i] })));
      const orders: { column: string; direction: 'asc' | 'desc' }[][] = [
        [{ column: 'grp', direction: 'asc' }, { column: 'id', direction: 'asc' }],
        [{ column: 'grp', direction: 'desc' }, { column: 'id', direction: 'asc' }],
        [{ column: 'score', direction: 'asc' }, { column: 'grp', direction: 'desc' }, { column: 'id', direction: 'desc' }],
        [{ column: 'grp', direction: 'asc' }, { column: 'score', direction: 'asc' }, { column: 'id', direction: 'asc' }],
        [{ column: 'score', direction: 'desc' }, { column: 'id', direction: 'asc' }],
      ];
      const columns = ['id', 'grp', 'score'];
      for (const orderBy of orders) {
        const all = (await driver.select({ table: 'null_order', columns, orderBy })).map((r) => Number(r.id));
        expect(all).toHaveLength(8);
        for (const pageSize of [1, 2, 3]) {
          const paged: number[] = [];
          let after: unknown[] | undefined;
          for (let i = 0; i < 20; i++) {
            const page = await driver.select({ table: 'null_order', columns, orderBy, after, limit: pageSize });
            paged.push(...page.map((r) => Number(r.id)));
            if (page.length < pageSize) break;
            const last = page[page.length - 1];
            after = orderBy.map((o) => last[o.column]);
          }
          expect({ orderBy: orderBy.map((o) => `${o.column} ${o.direction}`).join(', '), pageSize, paged }).toEqual({
            orderBy: orderBy.map((o) => `${o.column} ${o.direction}`).join(', '),
            pageSize,
            paged: all,
          });
        }
      }
      // A position on a NULL, given directly: rows after it only.
      const byGrp = (await driver.select({ table: 'null_order', columns, orderBy: orders[0] })).map((r) => Number(r.id));
      const afterNull = await driver.select({ table: 'null_order', columns, orderBy: orders[0], after: [null, 4] });
      expect(afterNull.map((r) => Number(r.id))).toEqual(byGrp.slice(byGrp.indexOf(4) + 1));
      // PostgreSQL sorts NULLs last ascending, the others first.
      expect(byGrp[0] === 2).toBe(dialect !== 'postgres');
    });

    when('contains is case-insensitive for text, and % _ ! [ in the search text match themselves', async () => {
      await fx.schema.createTable('contains_rule', (t) => {
        t.string('code', 10).primary();
        t.string('name', 60);
        t.integer('qty');
      });
      await fx('contains_rule').insert([
        { code: 'C1', name: 'Acme Trading' },
        { code: 'C2', name: 'ACME 100% wool', qty: 1005 },
        { code: 'C3', name: 'acme_b' },
        { code: 'C4', name: 'acmexb' },
        { code: 'C5', name: 'Bang! [x]' },
        { code: 'C6', name: null },
      ]);
      const codes = async (value: string) =>
        (
          await driver.select({
            table: 'contains_rule',
            columns: ['code'],
            where: { column: 'name', op: 'contains', value },
            orderBy: [{ column: 'code', direction: 'asc' }],
          })
        ).map((r) => r.code);
      expect(await codes('acme')).toEqual(['C1', 'C2', 'C3', 'C4']);
      expect(await codes('TRADING')).toEqual(['C1']);
      expect(await codes('aCmE T')).toEqual(['C1']);
      expect(await codes('0%')).toEqual(['C2']);
      expect(await codes('%')).toEqual(['C2']);
      expect(await codes('e_b')).toEqual(['C3']);
      expect(await codes('_')).toEqual(['C3']);
      expect(await codes('!')).toEqual(['C5']);
      expect(await codes('[x]')).toEqual(['C5']);
      expect(await codes('[X')).toEqual(['C5']);
      expect(await codes('nope')).toEqual([]);
      // A number column is searched as its text (PostgreSQL has no LIKE on numbers).
      expect(
        (await driver.select({ table: 'contains_rule', columns: ['code'], where: { column: 'qty', op: 'contains', value: '00' } })).map((r) => r.code),
      ).toEqual(['C2']);
    });

    when('compiles filters (and/or/not, in/nin, like with % and _ taken literally) and aggregates', async () => {
      await fx.schema.createTable('products', (t) => {
        t.string('code', 20).primary();
        t.string('name', 100);
        t.integer('stock');
        t.string('grp', 10);
      });
      await fx('products').insert([
        { code: 'P1', name: '100% cotton', stock: 5, grp: 'a' },
        { code: 'P2', name: '100 cotton', stock: 0, grp: 'a' },
        { code: 'P3', name: 'a_b', stock: 7, grp: 'b' },
        { code: 'P4', name: 'axb', stock: null, grp: 'b' },
      ]);
      const codes = async (where: Parameters<Driver['select']>[0]['where']) =>
        (await driver.select({ table: 'products', columns: ['code'], where, orderBy: [{ column: 'code', direction: 'asc' }] })).map((r) => r.code);
      expect(await codes({ column: 'name', op: 'contains', value: '0%' })).toEqual(['P1']);
      expect(await codes({ column: 'name', op: 'contains', value: '_' })).toEqual(['P3']);
      expect(await codes({ column: 'name', op: 'startsWith', value: '100' })).toEqual(['P1', 'P2']);
      expect(await codes({ column: 'stock', op: 'isNull', value: true })).toEqual(['P4']);
      expect(await codes({ or: [{ column: 'code', op: 'eq', value: 'P1' }, { column: 'stock', op: 'gt', value: 6 }] })).toEqual(['P1', 'P3']);
      expect(await codes({ and: [{ column: 'grp', op: 'eq', value: 'a' }, { not: { column: 'stock', op: 'eq', value: 0 } }] })).toEqual(['P1']);
      expect(await codes({ column: 'code', op: 'in', value: ['P2', 'P4', 'nope'] })).toEqual(['P2', 'P4']);
      expect(await codes({ column: 'code', op: 'nin', value: ['P2', 'P4'] })).toEqual(['P1', 'P3']);
      expect(await codes({ column: 'code', op: 'in', value: [] })).toEqual([]);
      const agg = await driver.aggregate({
        table: 'products',
        groupBy: ['grp'],
        aggregates: [
          { fn: 'count', as: 'n' },
          { fn: 'sum', column: 'stock', as: 'total' },
        ],
      });
      const byGroup = Object.fromEntries(agg.map((r) => [r.grp, [Number(r.n), Number(r.total)]]));
      expect(byGroup).toEqual({ a: [2, 5], b: [2, 7] });
    });

    when(
      'a connection dropped during a read fails as DB_TRANSIENT and a retried read resumes and completes',
      async () => {
        await fx.schema.createTable('slow_t', (t) => {
          t.integer('id').primary();
          t.string('v', 10);
        });
        await fx('slow_t').insert([1, 2, 3, 4, 5, 6].map((id) => ({ id, v: `v${id}` })));
        if (dialect === 'postgres') await fx.raw(`create view slow_v as select t.* from slow_t t where (select true from pg_sleep(0.6))`);
        else await fx.raw('create view slow_v as select * from slow_t where sleep(0.1) = 0');
        const admin = fixtureKnex(db);
        const seen: unknown[] = [];
        let after: unknown[] | undefined;
        const failures: CrmlinkError[] = [];
        try {
          let killed = false;
          for (let attempt = 0; attempt < 3; attempt++) {
            try {
              // Settled into a value at once: the read may fail while the kill is still being
              // sent, and a rejection with no handler yet would be reported as unhandled.
              const reading = (async () => {
                for await (const page of driver.readPages({ table: 'slow_v', key: ['id'], pageSize: 3, after })) {
                  for (const r of page) seen.push(r.id);
                  after = [page[page.length - 1].id];
                }
              })().then(
                () => null,
                (err: unknown) => err,
              );
              if (!killed) {
                await waitForDriverQuery(admin, db, 'slow_v');
                expect(await killDriverSessions(admin, db)).toBeGreaterThan(0);
                killed = true;
              }
              const failed = await reading;
              if (failed) throw failed;
              break;
            } catch (err) {
              expect(err).toBeInstanceOf(CrmlinkError);
              failures.push(err as CrmlinkError);
              await sleep(200); // the caller's backoff (p-retry) before retrying
            }
          }
        } finally {
          await admin.destroy();
        }
        expect(failures.map((f) => `${f.code} ${f.message}`)).toEqual([expect.stringContaining("DB_TRANSIENT")]);
        expect(failures[0].code).toBe('DB_TRANSIENT');
        expect(failures[0].transient).toBe(true);
        expect(failures[0].context.source).toBe('erp');
        expect(seen.map(Number)).toEqual([1, 2, 3, 4, 5, 6]);
      },
      'dropped connection',
    );

    // ------------------------------------------------------------------ writes

    when('upsert mixes inserts, updates and unchanged rows in one call; modes insert and update', async () => {
      await fx.schema.createTable('customers', (t) => {
        t.string('code', 20).primary();
        t.string('name', 100).notNullable();
        decimalColumn(t, dialect, 'credit');
      });
      await fx('customers').insert([
        { code: 'C1', name: 'One', credit: '10.5' },
        { code: 'C2', name: 'Two', credit: '20' },
      ]);
      const out = await driver.upsert(
        [
          { code: 'C1', name: 'One', credit: '10.50' },
          { code: 'C2', name: 'Two (renamed)', credit: '20' },
          { code: 'C3', name: 'Three', credit: '30.25' },
        ],
        { table: 'customers', key: ['code'] },
      );
      expect(out.map((o) => [o.index, o.key, o.status])).toEqual([
        [0, ['C1'], 'unchanged'],
        [1, ['C2'], 'updated'],
        [2, ['C3'], 'inserted'],
      ]);
      const rows = await driver.select({ table: 'customers', columns: ['code', 'name'], orderBy: [{ column: 'code', direction: 'asc' }] });
      expect(rows).toEqual([
        { code: 'C1', name: 'One' },
        { code: 'C2', name: 'Two (renamed)' },
        { code: 'C3', name: 'Three' },
      ]);
      const upd = await driver.upsert(
        [
          { code: 'C3', name: 'Three!' },
          { code: 'C9', name: 'Nine' },
        ],
        { table: 'customers', key: ['code'], mode: 'update' },
      );
      expect(upd.map((o) => o.status)).toEqual(['updated', 'missing']);
      const ins = await driver.upsert(
        [
          { code: 'C1', name: 'dup' },
          { code: 'C4', name: 'Four' },
        ],
        { table: 'customers', key: ['code'], mode: 'insert' },
      );
      expect(ins.map((o) => o.status)).toEqual(['error', 'inserted']);
      expect((await driver.select({ table: 'customers', columns: ['code'], where: { column: 'code', op: 'eq', value: 'C9' } })).length).toBe(0);

      // A repeated key in one batch: the second occurrence updates what the first inserted.
      const rep = await driver.upsert(
        [
          { code: 'C5', name: 'first' },
          { code: 'C5', name: 'second' },
        ],
        { table: 'customers', key: ['code'] },
      );
      expect(rep.map((o) => o.status)).toEqual(['inserted', 'updated']);
      expect((await driver.select({ table: 'customers', columns: ['name'], where: { column: 'code', op: 'eq', value: 'C5' } }))[0].name).toBe('second');
    });

    when('a constraint violation mid-batch rejects only that row, with its key and the database message', async () => {
      await fx.schema.createTable('contacts', (t) => {
        t.string('code', 20).primary();
        t.string('name', 100).notNullable();
        t.string('email', 100).unique();
      });
      await fx('contacts').insert({ code: 'X0', name: 'existing', email: 'taken@example.com' });
      const rows: Row[] = [
        { code: 'X1', name: 'a', email: 'a@example.com' },
        { code: 'X2', name: 'b', email: 'b@example.com' },
        { code: 'X3', name: null, email: 'c@example.com' },
        { code: 'X4', name: 'd', email: 'taken@example.com' },
        { code: 'X5', name: 'e', email: 'e@example.com' },
      ];
      const out = await driver.upsert(rows, { table: 'contacts', key: ['code'], origin: CRMLINK_ORIGIN });
      expect(out.map((o) => (o.status === 'error' ? `error: ${o.error.message}` : o.status))).toEqual([
        'inserted',
        'inserted',
        expect.stringMatching(/^error/),
        expect.stringMatching(/^error/),
        'inserted',
      ]);
      const bad = out[2] as Extract<RowOutcome, { status: 'error' }>;
      expect(bad.key).toEqual(['X3']);
      expect(bad.error.code).toBe('ROW_REJECTED');
      expect(bad.error.context).toMatchObject({ source: 'erp', table: 'contacts', key: 'X3' });
      expect(bad.error.message).toMatch(/null/i);
      expect(bad.error.context.column).toBe('name');
      expect(bad.error.cause).toBeDefined();
      const dup = out[3] as Extract<RowOutcome, { status: 'error' }>;
      expect(dup.error.message).toMatch(/unique|duplicate/i);
      const codes = (await driver.select({ table: 'contacts', columns: ['code'], orderBy: [{ column: 'code', direction: 'asc' }] })).map((r) => r.code);
      expect(codes).toEqual(['X0', 'X1', 'X2', 'X5']);
    });

    when('identity keys: rows without a key are inserted and report the generated key; explicit keys update', async () => {
      await fx.schema.createTable('tickets', (t) => {
        t.increments('id');
        t.string('title', 100).notNullable();
      });
      const out = await driver.upsert([{ title: 'first' }, { title: 'second' }, { title: '第三' }], { table: 'tickets', key: ['id'], identity: true });
      expect(out.map((o) => o.status)).toEqual(['inserted', 'inserted', 'inserted']);
      const ids = out.map((o) => Number(o.key[0]));
      expect(new Set(ids).size).toBe(3);
      const rows = await driver.select({ table: 'tickets', columns: ['id', 'title'], orderBy: [{ column: 'id', direction: 'asc' }] });
      expect(rows.map((r) => [Number(r.id), r.title])).toEqual([
        [ids[0], 'first'],
        [ids[1], 'second'],
        [ids[2], '第三'],
      ]);
      const upd = await driver.upsert([{ id: ids[1], title: 'second (edited)' }], { table: 'tickets', key: ['id'], identity: true });
      expect(upd[0].status).toBe('updated');
      expect((await driver.select({ table: 'tickets', columns: ['title'], where: { column: 'id', op: 'eq', value: ids[1] } }))[0].title).toBe('second (edited)');
    });

    when('delete removes rows by key in one transaction and reports missing keys', async () => {
      await fx.schema.createTable('notes', (t) => {
        t.string('a', 10).notNullable();
        t.integer('b').notNullable();
        t.primary(['a', 'b']);
      });
      await fx('notes').insert([
        { a: 'x', b: 1 },
        { a: 'x', b: 2 },
        { a: 'y', b: 1 },
      ]);
      const out = await driver.delete(
        [
          ['x', 2],
          ['z', 9],
          ['y', 1],
        ],
        { table: 'notes', key: ['a', 'b'] },
      );
      expect(out.map((o) => o.status)).toEqual(['deleted', 'missing', 'deleted']);
      expect(await driver.select({ table: 'notes', columns: ['a', 'b'] })).toEqual([{ a: 'x', b: 1 }]);
    });

    /** A legacy ERP table: several NOT NULL columns without defaults that a CRM mapping never carries. */
    const createErpItems = async (name: string) => {
      await fx.schema.createTable(name, (t) => {
        t.string('code', 20).primary();
        t.string('name', 100).notNullable();
        t.string('region', 10).notNullable();
        t.string('created_by', 20).notNullable();
        t.integer('qty');
        t.string('email', 100).unique();
      });
      await fx(name).insert([
        { code: 'I1', name: 'One', region: 'N', created_by: 'erp', qty: 1, email: 'one@example.com' },
        { code: 'I2', name: 'Two', region: 'S', created_by: 'erp', qty: 2, email: 'two@example.com' },
        { code: 'I3', name: 'Three', region: 'E', created_by: 'erp', qty: 3, email: null },
        { code: 'I4', name: 'Four', region: 'W', created_by: 'erp', qty: 4, email: null },
      ]);
    };
    const erpItems = async (name: string) =>
      (await driver.select({ table: name, columns: ['code', 'name', 'region', 'created_by', 'qty', 'email'], orderBy: [{ column: 'code', direction: 'asc' }] })).map((r) => ({
        ...r,
        qty: r.qty === null ? null : Number(r.qty),
      }));

    when("mode 'update' writes only the given columns with UPDATE (NOT NULL columns it does not carry are left alone); a bad row is rejected alone", async () => {
      await createErpItems('erp_items_u');
      const statements: string[] = [];
      const off = driver.onQuery((sql) => statements.push(sql));
      const out = await driver.upsert(
        [
          { code: 'I1', qty: 10 },
          { code: 'I2', name: 'Two' },
          { code: 'I9', qty: 9 },
          { code: 'I3', name: null },
          { code: 'I4', email: 'one@example.com' },
          { code: 'I2', qty: 20, email: 'two+@example.com' },
        ],
        { table: 'erp_items_u', key: ['code'], mode: 'update', origin: CRMLINK_ORIGIN },
      );
      off();
      expect(out.map((o) => (o.status === 'error' ? `error ${o.error.code} ${String(o.key)}` : `${o.status} ${String(o.key)}`))).toEqual([
        'updated I1',
        'unchanged I2',
        'missing I9',
        'error ROW_REJECTED I3',
        'error ROW_REJECTED I4',
        'updated I2',
      ]);
      const notNull = out[3] as Extract<RowOutcome, { status: 'error' }>;
      expect(notNull.error.context).toMatchObject({ source: 'erp', table: 'erp_items_u', key: 'I3' });
      expect(notNull.error.message).toMatch(/null/i);
      const dup = out[4] as Extract<RowOutcome, { status: 'error' }>;
      expect(dup.error.context.key).toBe('I4');
      expect(dup.error.message).toMatch(/unique|duplicate/i);
      // No INSERT (ON CONFLICT / ON DUPLICATE KEY / MERGE) was sent: existing rows are UPDATEd.
      expect(statements.filter((s) => /^\s*(insert|merge)\b/i.test(s))).toEqual([]);
      expect(statements.some((s) => /^\s*(with\b.*\)\s*)?update\b/is.test(s))).toBe(true);
      expect(await erpItems('erp_items_u')).toEqual([
        { code: 'I1', name: 'One', region: 'N', created_by: 'erp', qty: 10, email: 'one@example.com' },
        { code: 'I2', name: 'Two', region: 'S', created_by: 'erp', qty: 20, email: 'two+@example.com' },
        { code: 'I3', name: 'Three', region: 'E', created_by: 'erp', qty: 3, email: null },
        { code: 'I4', name: 'Four', region: 'W', created_by: 'erp', qty: 4, email: null },
      ]);
    });

    when("mode 'upsert' updates existing keys without their NOT NULL columns and inserts new ones", async () => {
      await createErpItems('erp_items_m');
      const out = await driver.upsert(
        [
          { code: 'I1', qty: 11 },
          { code: 'I5', name: 'Five', region: 'C', created_by: 'crm', qty: 5 },
          { code: 'I2', qty: 2 },
          { code: 'I6', name: 'Six' },
          { code: 'I3', name: 'Three (renamed)', qty: 33 },
        ],
        { table: 'erp_items_m', key: ['code'] },
      );
      expect(out.map((o) => `${o.status} ${String(o.key)}`)).toEqual(['updated I1', 'inserted I5', 'unchanged I2', 'error I6', 'updated I3']);
      // A new row still needs every NOT NULL column: only it is rejected.
      expect((out[3] as Extract<RowOutcome, { status: 'error' }>).error.code).toBe('ROW_REJECTED');
      expect(await erpItems('erp_items_m')).toEqual([
        { code: 'I1', name: 'One', region: 'N', created_by: 'erp', qty: 11, email: 'one@example.com' },
        { code: 'I2', name: 'Two', region: 'S', created_by: 'erp', qty: 2, email: 'two@example.com' },
        { code: 'I3', name: 'Three (renamed)', region: 'E', created_by: 'erp', qty: 33, email: null },
        { code: 'I4', name: 'Four', region: 'W', created_by: 'erp', qty: 4, email: null },
        { code: 'I5', name: 'Five', region: 'C', created_by: 'crm', qty: 5, email: null },
      ]);
    });

    when("mode 'update' of many rows runs in one transaction in few statements per chunk (composite key)", async () => {
      await fx.schema.createTable('erp_lines_u', (t) => {
        t.string('order_code', 20).notNullable();
        t.integer('line_no').notNullable();
        t.string('item', 20).notNullable();
        t.integer('qty');
        t.primary(['order_code', 'line_no']);
      });
      const seed = Array.from({ length: 300 }, (_, i) => ({ order_code: `SO${i % 3}`, line_no: i, item: `P${i}`, qty: i }));
      await fx('erp_lines_u').insert(seed.slice(0, 150));
      await fx('erp_lines_u').insert(seed.slice(150));
      const statements: string[] = [];
      const off = driver.onQuery((sql) => statements.push(sql));
      const out = await driver.upsert(
        seed.map((r) => ({ order_code: r.order_code, line_no: r.line_no, qty: r.qty + 1000 })),
        { table: 'erp_lines_u', key: ['order_code', 'line_no'], mode: 'update' },
      );
      off();
      expect(out.every((o) => o.status === 'updated')).toBe(true);
      const updates = statements.filter((s) => /^\s*(with\b.*\)\s*)?update\b/is.test(s));
      // Every dialect: one UPDATE per chunk (PostgreSQL/SQLite UPDATE ... FROM, MySQL a joined UPDATE, SQL Server UPDATE ... JOIN).
      expect(updates.length).toBe(1);
      expect(statements.filter((s) => /^\s*(begin|start transaction|BEGIN TRANSACTION)/i.test(s)).length).toBeLessThanOrEqual(1);
      const rows = await driver.select({ table: 'erp_lines_u', columns: ['line_no', 'item', 'qty'], orderBy: [{ column: 'line_no', direction: 'asc' }] });
      expect(rows.map((r) => [Number(r.line_no), r.item, Number(r.qty)])).toEqual(seed.map((r) => [r.line_no, r.item, r.qty + 1000]));
    });

    when('large batches are chunked under the parameter limit', async () => {
      await fx.schema.createTable('bulk', (t) => {
        t.integer('id').primary();
        t.string('a', 20);
        t.string('b', 20);
      });
      const statements: string[] = [];
      const off = driver.onQuery((sql) => statements.push(sql));
      const rows = Array.from({ length: 1200 }, (_, i) => ({ id: i + 1, a: `a${i}`, b: `b${i}` }));
      const out = await driver.upsert(rows, { table: 'bulk', key: ['id'] });
      off();
      expect(out.every((o) => o.status === 'inserted')).toBe(true);
      const count = await driver.aggregate({ table: 'bulk', aggregates: [{ fn: 'count', as: 'n' }] });
      expect(Number(count[0].n)).toBe(1200);
      const writes = statements.filter((s) => /^(insert|merge)/i.test(s.trim()));
      const perStatement = Math.min(driver.capabilities.maxParameters - 16, dialect === 'sqlite' ? 500 * 3 : 1000 * 3) / 3;
      expect(writes.length).toBe(Math.ceil(1200 / Math.floor(perStatement)));
    });

    // ------------------------------------------------------------------ mappings on a real database

    when('decimal 12345678901234.5678 is exact through write and read; rounding is half-up', async () => {
      await fx.schema.createTable('credit', (t) => {
        t.string('code', 20).primary();
        decimalColumn(t, dialect, 'amount');
      });
      const m = new EntityMapping(
        'Customer',
        'erp',
        sourceFor(db),
        entitySourceSchema.parse({ table: 'credit', key: ['code'], write: ['insert', 'update'], fields: { code: 'code', creditLimit: { column: 'amount', scale: 4 } } }),
      );
      const rowOut = m.toRow({ code: 'K1', creditLimit: '12345678901234.5678' }, 'insert');
      expect(rowOut).toEqual({ code: 'K1', amount: '12345678901234.5678' });
      await driver.upsert([rowOut, m.toRow({ code: 'K2', creditLimit: '0.00005' }, 'insert'), m.toRow({ code: 'K3', creditLimit: '-2.50005' }, 'insert')], {
        ...m.table,
        key: m.key,
      });
      const rows = await driver.select({ ...m.table, columns: m.columns, orderBy: [{ column: 'code', direction: 'asc' }] });
      expect(rows.map((r) => m.toRecord(r).creditLimit)).toEqual(['12345678901234.5678', '0.0001', '-2.5001']);
      const sum = await driver.aggregate({ ...m.table, aggregates: [{ fn: 'max', column: 'amount', as: 'top' }] });
      if (dialect !== 'sqlite') expect(String(sum[0].top)).toMatch(/^12345678901234\.5678/);
    });

    when('two non-zero places are exact through write, read and every aggregate (1234.56; 0.01 + 0.02 = 0.03)', async () => {
      await fx.schema.createTable('so_money', (t) => {
        t.string('code', 20).primary();
        t.string('cust', 20);
        decimalColumn(t, dialect, 'amount');
      });
      const m = new EntityMapping(
        'SalesOrder',
        'erp',
        sourceFor(db),
        entitySourceSchema.parse({ table: 'so_money', key: ['code'], write: ['insert', 'update'], fields: { code: 'code', customerId: { column: 'cust', type: 'ref' }, totalAmount: 'amount' } }),
      );
      const orders = [
        { code: 'A1', customerId: 'CA', totalAmount: '0.01' },
        { code: 'A2', customerId: 'CA', totalAmount: '0.02' },
        { code: 'B1', customerId: 'CB', totalAmount: '1234.56' },
        { code: 'B2', customerId: 'CB', totalAmount: '-0.07' },
      ];
      await driver.upsert(orders.map((o) => m.toRow(o, 'insert')), { ...m.table, key: m.key });
      const rows = await driver.select({ ...m.table, columns: m.columns, orderBy: [{ column: 'code', direction: 'asc' }] });
      expect(rows.map((r) => m.toRecord(r).totalAmount)).toEqual(['0.01', '0.02', '1234.56', '-0.07']);

      const store = new SourceStore('SalesOrder', 'erp', driver, m, []);
      const specs = everyAggregate('totalAmount');
      const [all] = await store.aggregate({ const: true }, specs);
      expect(all).toEqual({ count: 4, sum: '1234.52', avg: '308.63', min: '-0.07', max: '1234.56' });
      const groups = await store.aggregate({ const: true }, specs, { field: 'customerId', values: ['CA', 'CB'] });
      expect(Object.fromEntries(groups.map(({ _g, ...g }) => [_g, g]))).toEqual({
        CA: { count: 2, sum: '0.03', avg: '0.015', min: '0.01', max: '0.02' },
        CB: { count: 2, sum: '1234.49', avg: '617.245', min: '-0.07', max: '1234.56' },
      });
    });

    when('every decimal the mapping produces is normalised, whatever the driver returns and wherever it comes from', async () => {
      await fx.schema.createTable('fin_terms', (t) => {
        t.string('code', 20).primary();
        decimalColumn(t, dialect, 'amount');
        t.string('tax_code', 2);
        decimalColumn(t, dialect, 'discount');
      });
      await fx('fin_terms').insert([
        { code: 'F1', amount: '1000.5', tax_code: 'A', discount: null },
        { code: 'F2', amount: '20', tax_code: 'B', discount: '0.25' },
        { code: 'F3', amount: '-0.0001', tax_code: 'Z', discount: '3' },
      ]);
      const cfg = entitySourceSchema.parse({
        table: 'fin_terms',
        key: ['code'],
        write: ['update'],
        fields: {
          code: 'code',
          creditLimit: { column: 'amount', scale: 4 },
          taxRate: { column: 'tax_code', map: { A: '0.130', B: 0.09, Z: '0.000' } },
          discount: { column: 'discount', default: '0.00' },
          fee: { constant: '5.000' },
        },
      });
      const decimal = { type: 'decimal' as const };
      const m = new EntityMapping('Customer', 'erp', sourceFor(db), cfg, { taxRate: decimal, discount: decimal, fee: decimal });
      const rows = await driver.select({ ...m.table, columns: m.columns, orderBy: [{ column: 'code', direction: 'asc' }] });
      const recs = rows.map((r) => m.toRecord(r));
      expect(recs.map((r) => [r.creditLimit, r.taxRate, r.discount, r.fee])).toEqual([
        ['1000.5', '0.13', '0', '5'],
        ['20', '0.09', '0.25', '5'],
        ['-0.0001', '0', '3', '5'],
      ]);
      for (const r of recs) for (const f of ['creditLimit', 'taxRate', 'discount', 'fee']) expect(r[f]).toBe(coreNormalizeDecimal(String(r[f])));
      // String equality is value equality (model/values.ts sameValue).
      expect(coreSameValue(recs[0].fee, '5.00')).toBe(false);
      expect(coreSameValue(recs[0].fee, coreNormalizeDecimal('5.00'))).toBe(true);
      // A record read back and written unchanged is unchanged in every database.
      const back = await driver.upsert(
        recs.map((r) => ({ code: r.code, ...m.toRow({ creditLimit: r.creditLimit, taxRate: r.taxRate }, 'update') })),
        { ...m.table, key: m.key, mode: 'update' },
      );
      expect(back.map((o) => o.status)).toEqual(['unchanged', 'unchanged', 'unchanged']);
    });

    when('refSource: a ref column holding another source\'s key (OA rows with the ERP customer code)', async () => {
      await fx.schema.createTable('formtable_main_12', (t) => {
        t.integer('requestid').primary();
        t.string('khbm', 50);
        t.string('requestname', 200);
        t.integer('creater');
      });
      await fx('formtable_main_12').insert([
        { requestid: 101, khbm: ' C0001 ', requestname: '信用额度申请', creater: 7 },
        { requestid: 102, khbm: null, requestname: '折扣申请', creater: 7 },
      ]);
      const parsed = entitySourceSchema.parse({
        table: 'formtable_main_12',
        key: ['requestid'],
        fields: {
          code: { column: 'requestid', type: 'string' },
          customerId: { column: 'khbm', type: 'ref', trim: true, refSource: 'erp' },
          title: 'requestname',
          requester: { column: 'creater', type: 'ref' },
        },
      });
      const m = new EntityMapping('ApprovalRequest', 'oa', sourceFor(db), parsed);
      expect(m.refSourceOf('customerId')).toBe('erp');
      expect(m.refSourceOf('requester')).toBe('oa');
      expect(m.refSourceOf('title')).toBe('oa');
      const rows = await driver.select({ ...m.table, columns: m.columns, orderBy: [{ column: 'requestid', direction: 'asc' }] });
      expect(rows.map((r) => m.toRecord(r)).map((r) => [r.code, r.customerId])).toEqual([
        ['101', 'C0001'],
        ['102', null],
      ]);
      expect(() => new EntityMapping('ApprovalRequest', 'oa', sourceFor(db), { ...parsed, fields: { ...parsed.fields, title: { column: 'requestname', refSource: 'erp' } } })).toThrow(
        /fields\.title\.refSource: only a ref field/,
      );
    });

    when('a naive datetime in Asia/Shanghai reads as the right UTC instant and writes back unchanged', async () => {
      await fx.schema.createTable('visits', (t) => {
        t.string('code', 20).primary();
        naiveDateTimeColumn(t, dialect, 'visited_at');
      });
      await fx('visits').insert({ code: 'V1', visited_at: '2024-03-01 08:30:00' });
      const source = sourceFor(db, { timezone: 'Asia/Shanghai' });
      const m = new EntityMapping(
        'Activity',
        'erp',
        source,
        entitySourceSchema.parse({ table: 'visits', key: ['code'], write: ['update'], fields: { subject: 'code', dueAt: 'visited_at' } }),
      );
      const [row] = await driver.select({ ...m.table, columns: m.columns });
      const rec = m.toRecord(row);
      expect(rec.dueAt).toBe('2024-03-01T00:30:00.000Z');
      const back = m.toRow({ dueAt: rec.dueAt }, 'update');
      expect(back).toEqual({ visited_at: '2024-03-01 08:30:00' });
      const out = await driver.upsert([{ code: 'V1', ...back }], { ...m.table, key: m.key, mode: 'update' });
      expect(out[0].status).toBe('unchanged');
      // Move it by one hour in UTC and write: the column's wall clock moves by one hour.
      await driver.upsert([{ code: 'V1', ...m.toRow({ dueAt: '2024-03-01T01:30:00.000Z' }, 'update') }], { ...m.table, key: m.key, mode: 'update' });
      const [after] = await fx('visits').select('visited_at');
      expect(toInstant(after.visited_at, 'UTC')).toBe(Date.UTC(2024, 2, 1, 9, 30));
    });

    // ------------------------------------------------------------------ change capture

    const drain = (spec: Parameters<Driver['changesSince']>[0], cp: Checkpoint | null, pageSize: number) => drainChanges(driver, spec, cp, pageSize);

    when('timestamp capture: ties across pages, look-back late commits, concurrent updates — none missed, none repeated', async () => {
      await fx.schema.createTable('ts_rows', (t) => {
        t.integer('id').primary();
        t.string('name', 50);
        naiveDateTimeColumn(t, dialect, 'modified_at');
      });
      const T = '2024-01-01 10:00:00';
      await fx('ts_rows').insert([1, 2, 3, 4, 5].map((id) => ({ id, name: `n${id}`, modified_at: T })));
      await fx('ts_rows').insert({ id: 6, name: 'n6', modified_at: '2024-01-01 10:00:01' });
      const spec = { table: 'ts_rows', key: ['id'], columns: ['id', 'name', 'modified_at'], strategy: 'timestamp' as const, column: 'modified_at', lookBackSeconds: 300 };

      const first = await drain(spec, null, 2);
      expect(first.batches.length).toBeGreaterThan(2);
      expect(first.changes.map((c) => Number(c.key[0]))).toEqual([1, 2, 3, 4, 5, 6]);
      expect(first.changes[0].changedAt?.toISOString()).toBe('2024-01-01T10:00:00.000Z');

      const idle = await drain(spec, first.checkpoint, 2);
      expect(idle.changes).toEqual([]);

      // A late commit: a row stamped before the high-water mark but inside the look-back window.
      await fx('ts_rows').insert({ id: 7, name: 'late', modified_at: '2024-01-01 09:58:00' });
      // Another row sharing the newest timestamp, committed after the first sweep saw that timestamp.
      await fx('ts_rows').insert({ id: 8, name: 'tie', modified_at: '2024-01-01 10:00:01' });
      const late = await drain(spec, idle.checkpoint, 2);
      expect(late.changes.map((c) => Number(c.key[0])).sort()).toEqual([7, 8]);

      // Concurrent updates between the pages of one sweep.
      await fx('ts_rows').where({ id: 2 }).update({ name: 'n2 edited', modified_at: '2024-01-01 10:00:02' });
      const b1 = await driver.changesSince(spec, late.checkpoint, { pageSize: 1 });
      expect(b1.hasMore).toBe(true);
      await fx('ts_rows').where({ id: 1 }).update({ name: 'n1 edited', modified_at: '2024-01-01 10:00:03' });
      await fx('ts_rows').insert({ id: 9, name: 'new', modified_at: '2024-01-01 10:00:03' });
      const rest = await drain(spec, b1.checkpoint, 1);
      const got = [...b1.changes, ...rest.changes].map((c) => `${c.key[0]}:${c.row?.name}`);
      expect(got.sort()).toEqual(['1:n1 edited', '2:n2 edited', '9:new']);
      expect((await drain(spec, rest.checkpoint, 3)).changes).toEqual([]);
    });

    /**
     * Drain changesSince, counting the statements sent and the work done on the checkpoint handed
     * in (every property read, key listing and ownership check, through a counting Proxy): a
     * checkpoint copied or rewritten entry by entry on every page shows up as work quadratic in
     * the rows. The checkpoint is JSON round-tripped between calls, as the hub stores it.
     */
    const measuredDrain = async (spec: Parameters<Driver['changesSince']>[0], cp: Checkpoint | null, pageSize: number) => {
      const counter = { n: 0, on: false };
      const handler: ProxyHandler<object> = {
        get: (t, p, r) => {
          if (counter.on) counter.n++;
          const v: unknown = Reflect.get(t, p, r);
          return v !== null && typeof v === 'object' ? new Proxy(v, handler) : v;
        },
        has: (t, p) => {
          if (counter.on) counter.n++;
          return Reflect.has(t, p);
        },
        ownKeys: (t) => {
          if (counter.on) counter.n++;
          return Reflect.ownKeys(t);
        },
        getOwnPropertyDescriptor: (t, p) => {
          if (counter.on) counter.n++;
          return Reflect.getOwnPropertyDescriptor(t, p);
        },
      };
      const statements: string[] = [];
      const off = driver.onQuery((sql) => statements.push(sql));
      const changes: Change[] = [];
      const sizes: number[] = [];
      let checkpoint = cp;
      try {
        for (let i = 0; i < 1000; i++) {
          const input = checkpoint ? (new Proxy(checkpoint, handler) as Checkpoint) : null;
          counter.on = true;
          const b = await driver.changesSince(spec, input, { pageSize });
          counter.on = false;
          changes.push(...b.changes);
          checkpoint = JSON.parse(JSON.stringify(b.checkpoint)) as Checkpoint;
          sizes.push(seenEntries(checkpoint));
          if (!b.hasMore) break;
        }
      } finally {
        counter.on = false;
        off();
      }
      return { changes, checkpoint: checkpoint as Checkpoint, statements, work: counter.n, sizes };
    };
    /** Rows a timestamp checkpoint remembers (completed sweeps + the sweep in progress). */
    const seenEntries = (cp: Checkpoint) => {
      const seen = cp.seen as Record<string, unknown>;
      const sweep = (cp.sweep ?? []) as [number, Record<string, unknown>][];
      return Object.keys(seen).length + sweep.reduce((n, b) => n + Object.keys(b[1]).length, 0);
    };
    const wallClock = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);

    // 5,000 rows in pages of 100: 50 pages, enough for a per-page copy of the checkpoint (~N²/pageSize
    // = 250,000 steps) to stand far above the linear bound (5N = 25,000).
    when('timestamp capture: a 5k-row bulk load pages in one statement a page and linear work; the checkpoint holds the window compactly', async () => {
      const N = 5_000;
      const pageSize = 100;
      await fx.schema.createTable('ts_bulk', (t) => {
        t.integer('id').primary();
        t.string('name', 30);
        naiveDateTimeColumn(t, dialect, 'modified_at');
      });
      // A bulk write: every row stamped with the same time.
      const T = Date.UTC(2024, 0, 1, 10, 0, 0);
      await fx.batchInsert('ts_bulk', Array.from({ length: N }, (_, i) => ({ id: i + 1, name: `n${i + 1}`, modified_at: wallClock(T) })), 500);
      const spec = { table: 'ts_bulk', key: ['id'], columns: ['id', 'name', 'modified_at'], strategy: 'timestamp' as const, column: 'modified_at', lookBackSeconds: 300 };

      const load = await measuredDrain(spec, null, pageSize);
      const ids = load.changes.map((c) => Number(c.key[0]));
      expect(ids.length).toBe(N);
      expect(new Set(ids).size).toBe(N);
      // One keyset SELECT a page, nothing else.
      expect(load.statements.length).toBe(N / pageSize);
      expect(load.statements.every((s) => /^\s*select\b/i.test(s))).toBe(true);
      // Work on the checkpoint is linear in the rows read (a per-page copy would be ~N²/pageSize).
      expect(load.work).toBeLessThan(5 * N);
      // Every row is inside the window: each is remembered, as key → short hash prefix.
      expect(seenEntries(load.checkpoint)).toBe(N);
      expect(JSON.stringify(load.checkpoint).length).toBeLessThan(N * (String(N).length + 26));

      // The next sweep re-reads the window (by design) and delivers nothing, still linearly.
      const idle = await measuredDrain(spec, load.checkpoint, pageSize);
      expect(idle.changes).toEqual([]);
      expect(idle.statements.length).toBe(N / pageSize);
      expect(idle.work).toBeLessThan(5 * N);
      expect(seenEntries(idle.checkpoint)).toBe(N);

      // A late commit inside the window and an edit that keeps the timestamp are both seen.
      await fx('ts_bulk').insert({ id: N + 1, name: 'late', modified_at: wallClock(T - 10_000) });
      await fx('ts_bulk').where({ id: 7 }).update({ name: 'edited' });
      const late = await measuredDrain(spec, idle.checkpoint, pageSize);
      expect(late.changes.map((c) => `${String(c.key[0])}:${String(c.row?.name)}`).sort()).toEqual([`${N + 1}:late`, '7:edited']);
      expect((await measuredDrain(spec, late.checkpoint, pageSize)).changes).toEqual([]);
    });

    when('timestamp capture: the checkpoint keeps only rows inside the look-back window while a spread-out load pages', async () => {
      const N = 5_000;
      // Larger than the window (301 rows), so the idle sweep re-reads it in one statement.
      const pageSize = 500;
      const lookBackSeconds = 300;
      await fx.schema.createTable('ts_spread', (t) => {
        t.integer('id').primary();
        naiveDateTimeColumn(t, dialect, 'modified_at');
      });
      // One row a second: the window holds lookBack + 1 of them.
      const T0 = Date.UTC(2024, 0, 1);
      await fx.batchInsert('ts_spread', Array.from({ length: N }, (_, i) => ({ id: i + 1, modified_at: wallClock(T0 + i * 1000) })), 500);
      const spec = { table: 'ts_spread', key: ['id'], columns: ['id', 'modified_at'], strategy: 'timestamp' as const, column: 'modified_at', lookBackSeconds };
      const load = await measuredDrain(spec, null, pageSize);
      expect(load.changes.length).toBe(N);
      expect(load.statements.length).toBe(N / pageSize);
      expect(load.work).toBeLessThan(5 * N);
      expect(Math.max(...load.sizes)).toBeLessThanOrEqual(lookBackSeconds + 1 + 2 * pageSize);
      expect(seenEntries(load.checkpoint)).toBe(lookBackSeconds + 1);
      const idle = await measuredDrain(spec, load.checkpoint, pageSize);
      expect(idle.changes).toEqual([]);
      expect(idle.statements.length).toBe(1);
      expect(seenEntries(idle.checkpoint)).toBe(lookBackSeconds + 1);
    });

    when('hash capture: full scan in pages as a snapshot; a hard delete shows as a known key absent', async () => {
      await fx.schema.createTable('hash_rows', (t) => {
        t.string('code', 10).primary();
        t.string('name', 50);
      });
      await fx('hash_rows').insert(['A', 'B', 'C', 'D', 'E'].map((code) => ({ code, name: code.toLowerCase() })));
      const spec = { table: 'hash_rows', key: ['code'], columns: ['code', 'name'], strategy: 'hash' as const, lookBackSeconds: 0 };
      const one = await drain(spec, null, 2);
      expect(one.batches.every((b) => b.snapshot)).toBe(true);
      expect(one.batches.length).toBe(3);
      const known = new Map(one.changes.map((c) => [encodeKey(c.key), c.hash]));
      expect([...known.keys()]).toEqual(['A', 'B', 'C', 'D', 'E']);

      await fx('hash_rows').where({ code: 'C' }).delete();
      await fx('hash_rows').where({ code: 'D' }).update({ name: 'changed' });
      const two = await drain(spec, one.checkpoint, 2);
      const seen = new Map(two.changes.map((c) => [encodeKey(c.key), c.hash]));
      expect([...known.keys()].filter((k) => !seen.has(k))).toEqual(['C']);
      expect([...seen].filter(([k, h]) => known.get(k) !== h).map(([k]) => k)).toEqual(['D']);
    });

    when('trigger capture: install, log external changes, join back, deletes, skip crmlink-origin writes', async () => {
      await fx.schema.createTable('trg_rows', (t) => {
        t.string('code', 10).primary();
        t.string('name', 50);
        t.integer('deleted').notNullable().defaultTo(0);
      });
      await fx('trg_rows').insert({ code: 'OLD', name: 'before install' });
      const target = { table: { table: 'trg_rows' }, key: ['code'] };
      const ddl = await installCapture(driver, target);
      expect(ddl.length).toBeGreaterThan(0);
      await installCapture(driver, target); // idempotent

      const spec = { table: 'trg_rows', key: ['code'], columns: ['code', 'name'], where: { column: 'deleted', op: 'eq' as const, value: 0 }, strategy: 'trigger' as const, lookBackSeconds: 0 };
      await fx('trg_rows').insert({ code: 'A', name: 'a' });
      await fx('trg_rows').insert({ code: 'B', name: 'b' });
      await fx('trg_rows').where({ code: 'A' }).update({ name: 'a2' });
      await fx('trg_rows').where({ code: 'B' }).delete();
      await fx('trg_rows').where({ code: 'OLD' }).update({ deleted: 1 });
      const out = await driver.upsert([{ code: 'MINE', name: 'written by crmlink' }], { table: 'trg_rows', key: ['code'], origin: CRMLINK_ORIGIN });
      expect(out[0].status).toBe('inserted');

      const first = await drain(spec, null, 2);
      // Paged: a key logged on two pages comes twice (at-least-once); the last change per key is the state.
      const last = new Map(first.changes.map((c) => [String(c.key[0]), c]));
      const summary = [...last.values()].map((c) => `${c.op}:${c.key[0]}${c.row ? `:${c.row.name}` : ''}`);
      const expected = ['upsert:A:a2', 'delete:B', 'delete:OLD'];
      if (gap(dialect, 'trigger origin skip')) expected.push('upsert:MINE:written by crmlink');
      expect(summary.sort()).toEqual(expected.sort());
      expect(first.changes.every((c) => c.changedAt instanceof Date)).toBe(true);

      expect((await drain(spec, first.checkpoint, 10)).changes).toEqual([]);
      await driver.upsert([{ code: 'A', name: 'echo' }], { table: 'trg_rows', key: ['code'], origin: CRMLINK_ORIGIN });
      await fx('trg_rows').insert({ code: 'C', name: 'c' });
      const second = await drain(spec, first.checkpoint, 10);
      const keys = second.changes.map((c) => String(c.key[0])).sort();
      expect(keys).toEqual(gap(dialect, 'trigger origin skip') ? ['A', 'C'] : ['C']);

      await uninstallCapture(driver, target);
      await fx('trg_rows').insert({ code: 'D', name: 'after uninstall' });
      expect((await drain(spec, second.checkpoint, 10)).changes).toEqual([]);
    });

    when('crmlink writes without an origin are not tagged (session tags do not leak across transactions)', async () => {
      if (!driver.capabilities.originTag) return;
      await fx.schema.createTable('leak_rows', (t) => {
        t.string('code', 10).primary();
        t.string('name', 50);
      });
      const target = { table: { table: 'leak_rows' }, key: ['code'] };
      await installCapture(driver, target);
      await driver.upsert([{ code: 'T', name: 'tagged' }], { table: 'leak_rows', key: ['code'], origin: CRMLINK_ORIGIN });
      await driver.upsert([{ code: 'U', name: 'untagged' }], { table: 'leak_rows', key: ['code'] });
      const spec = { table: 'leak_rows', key: ['code'], columns: ['code', 'name'], strategy: 'trigger' as const, lookBackSeconds: 0 };
      const got = await drain(spec, null, 10);
      expect(got.changes.map((c) => c.key[0])).toEqual(['U']);
    });

    when('rowversion / change tracking are SQL Server capabilities only', async () => {
      const spec = { table: 'hash_rows', key: ['code'], columns: ['code'], strategy: 'rowversion' as const, column: 'rv', lookBackSeconds: 0 };
      if (driver.capabilities.rowversion) return; // exercised against a real server by mssql-specific tests
      await expect(driver.changesSince(spec, null)).rejects.toMatchObject({ code: 'NOT_AVAILABLE' });
    });
  });
}
