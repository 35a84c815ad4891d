/**
 * Real third-party databases from tests/fixtures, loaded unchanged: Northwind into PostgreSQL,
 * read and written back through the `northwind` preset; the yudao system tables into MariaDB,
 * read as an OA organisation directory (who is in which department, soft-deleted rows hidden).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import type { Knex } from 'knex';
import { createTestDatabase, fixtureKnex, requireDialect, type TestDatabase } from '../support/databases.js';
import { parseConfig } from '../../config/load.js';
import { SourceSet } from '../../connectors/registry.js';
import { EntityMapping } from '../../connectors/mapping/entity-mapping.js';
import { entitySourceSchema } from '../../config/schema.js';
import type { Driver, Row } from '../../connectors/driver.js';
import type { CrmRecord } from '../../model/entities.js';
import { sourceFor } from '../contract/support.js';
import { loadSqlFile } from '../support/preset-harness.js';
import { createDriver } from '../../connectors/registry.js';

/** Third-party dumps vendored in the repository with their licences (tests/fixtures/README.md). */
const TESTDATA = join(dirname(fileURLToPath(import.meta.url)), '../fixtures');

describe('Northwind (PostgreSQL) through the northwind preset', () => {
  let ready = false;
  let db: TestDatabase;
  let sources: SourceSet;

  beforeAll(async () => {
    ready = await requireDialect('postgres');
    if (!ready) return;
    db = await createTestDatabase('postgres', 'nw');
    // The dump is plain SQL (SET ..., CREATE TABLE, INSERT): the simple query protocol runs it as it is.
    await loadSqlFile(db, join(TESTDATA, 'third_party/postgres/northwind.sql'));
    const c = db.connection;
    const loaded = parseConfig(
      `sources:
  nw:
    kind: erp
    dialect: postgres
    preset: northwind
    connection: { host: ${c.host}, port: ${c.port}, user: ${c.user}, database: ${db.database} }
`,
    );
    sources = SourceSet.open(loaded);
  });

  afterAll(async () => {
    if (!ready) return;
    await sources?.destroy();
    await db?.drop();
  });

  it('reads customers, changes one, writes it back and reads it again', async (ctx) => {
    if (!ready) return ctx.skip();
    const driver = sources.driver('nw');
    const m = sources.mapping('Customer', 'nw');
    expect(m.table).toEqual({ table: 'customers' });

    const records = new Map<string, CrmRecord>();
    for await (const page of driver.readPages({ ...m.table, key: m.key, columns: m.columns, where: m.filter, pageSize: 25 })) {
      for (const row of page) records.set(m.sourceKey(row), m.toRecord(row));
    }
    expect(records.size).toBe(91);
    expect(records.get('ALFKI')).toMatchObject({ code: 'ALFKI', name: 'Alfreds Futterkiste', city: 'Berlin', phone: '030-0074321' });

    const changed = { name: 'Alfreds Futterkiste GmbH', phone: '030-0074399' };
    const outcome = await driver.upsert([{ ...m.keyRow('ALFKI'), ...m.toRow(changed, 'update') }], { ...m.table, key: m.key, mode: 'update' });
    expect(outcome.map((o) => o.status)).toEqual(['updated']);

    const [again] = await driver.select({ ...m.table, columns: m.columns, where: { column: 'customer_id', op: 'eq', value: 'ALFKI' } });
    expect(m.toRecord(again)).toMatchObject({ code: 'ALFKI', ...changed, city: 'Berlin' });
    // Writing the same values again changes nothing.
    const same = await driver.upsert([{ ...m.keyRow('ALFKI'), ...m.toRow(changed, 'update') }], { ...m.table, key: m.key, mode: 'update' });
    expect(same[0].status).toBe('unchanged');
    expect(() => sources.mapping('Product', 'nw').toRow({ name: 'x' }, 'update')).toThrow(/may not be updated/);
  });

  it('reads products, orders and composite-key order lines through the preset', async (ctx) => {
    if (!ready) return ctx.skip();
    const driver = sources.driver('nw');
    const products = sources.mapping('Product', 'nw');
    const [chai] = await driver.select({ ...products.table, columns: products.columns, where: { column: 'product_id', op: 'eq', value: 1 } });
    expect(products.toRecord(chai)).toMatchObject({ code: '1', name: 'Chai', price: '18', status: 'INACTIVE' });

    const lines = sources.mapping('SalesOrderLine', 'nw');
    let count = 0;
    let first: CrmRecord | undefined;
    for await (const page of driver.readPages({ ...lines.table, key: lines.key, columns: lines.columns, pageSize: 500 })) {
      first ??= lines.toRecord(page[0]);
      count += page.length;
    }
    expect(count).toBe(2155);
    expect(first).toMatchObject({ orderId: '10248', productId: '11', quantity: '12', unitPrice: '14' });
    const orders = sources.mapping('SalesOrder', 'nw');
    const agg = await driver.aggregate({ ...orders.table, where: { column: 'customer_id', op: 'eq', value: 'ALFKI' }, aggregates: [{ fn: 'count', as: 'n' }] });
    expect(Number(agg[0].n)).toBe(6);
  });
});

describe('yudao system tables (MariaDB) as an OA organisation directory', () => {
  let ready = false;
  let db: TestDatabase;
  let fx: Knex;
  let driver: Driver;

  const custom = {
    username: { type: 'string' as const },
    nickname: { type: 'string' as const },
    deptId: { type: 'string' as const },
    mobile: { type: 'string' as const },
    active: { type: 'boolean' as const },
    createdAt: { type: 'datetime' as const },
  };

  beforeAll(async () => {
    ready = await requireDialect('mysql');
    if (!ready) return;
    db = await createTestDatabase('mysql', 'yudao');
    await loadSqlFile(db, join(TESTDATA, 'mysql/yudao-system.sql'));
    fx = fixtureKnex(db);
    driver = createDriver('oa', { ...sourceFor(db), kind: 'oa', timezone: 'Asia/Shanghai' });
  });

  afterAll(async () => {
    if (!ready) return;
    await driver?.destroy();
    await fx?.destroy();
    await db?.drop();
  });

  it("reads users with their department's name, Chinese rows intact, soft-deleted rows filtered", async (ctx) => {
    if (!ready) return ctx.skip();
    const source = { ...sourceFor(db), kind: 'oa' as const, timezone: 'Asia/Shanghai' };
    const users = new EntityMapping(
      'OrgUser',
      'oa',
      source,
      entitySourceSchema.parse({
        table: 'system_users',
        key: ['id'],
        filter: { deleted: 0 },
        fields: {
          username: 'username',
          nickname: { column: 'nickname', trim: true },
          deptId: 'dept_id',
          mobile: 'mobile',
          active: { column: 'status', map: { '0': true, '1': false } },
          createdAt: 'create_time',
        },
      }),
      custom,
    );
    const depts = new EntityMapping(
      'OrgDept',
      'oa',
      source,
      entitySourceSchema.parse({ table: 'system_dept', key: ['id'], filter: { deleted: 0 }, fields: { nickname: 'name' } }),
      custom,
    );
    // A user soft-deleted in the OA must not appear.
    await fx('system_users').where({ id: 100 }).update({ deleted: fx.raw("b'1'") });

    const statements: string[] = [];
    const off = driver.onQuery((sql) => statements.push(sql));
    const directory: (CrmRecord & { dept: string | null })[] = [];
    for await (const page of driver.readPages({ ...users.table, key: users.key, columns: users.columns, where: users.filter, pageSize: 50 })) {
      const records = page.map((r: Row) => users.toRecord(r));
      const deptIds = [...new Set(records.map((r) => r.deptId).filter((d): d is string => d !== null))];
      // One statement per page for the departments, never one per user.
      const deptRows = await driver.select({ ...depts.table, columns: depts.columns, where: { and: [depts.filter!, { column: 'id', op: 'in', value: deptIds }] } });
      const names = new Map(deptRows.map((d) => [depts.sourceKey(d), depts.toRecord(d).nickname as string]));
      for (const r of records) directory.push({ ...r, dept: r.deptId !== null ? (names.get(String(r.deptId)) ?? null) : null });
    }
    off();
    expect(statements.filter((s) => /system_dept/.test(s))).toHaveLength(1);

    expect(directory).toHaveLength(19);
    expect(directory.find((u) => u.username === 'yudao')).toBeUndefined();
    const admin = directory.find((u) => u.username === 'admin');
    expect(admin).toMatchObject({ nickname: '芋道源码', deptId: '103', dept: '研发部门', active: true, createdAt: '2021-01-05T09:03:47.000Z' });
    const yuanma = directory.find((u) => u.username === 'yuanma');
    expect(yuanma).toMatchObject({ nickname: '源码', dept: '财务部门' });
    expect(directory.every((u) => typeof u.nickname === 'string' && u.nickname.length > 0)).toBe(true);
  });

  it('introspects the Chinese column comments', async (ctx) => {
    if (!ready) return ctx.skip();
    const [t] = await driver.introspect({ table: 'system_users' });
    expect(t.comment).toBe('用户信息表');
    expect(t.columns.find((c) => c.name === 'nickname')).toMatchObject({ comment: '用户昵称', nullable: false, maxLength: 30 });
    expect(t.columns.find((c) => c.name === 'id')?.autoIncrement).toBe(true);
    expect(t.primaryKey).toEqual(['id']);
  });
});
