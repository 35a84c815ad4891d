/**
 * `sources introspect` shows foreign keys and the table they reference, on the column and as a
 * key line; an unknown table is a usage error (exit 2, cli/exit-codes.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../cli/main.js';
import { defaultContext } from '../../cli/context.js';
import { EXIT } from '../../cli/exit-codes.js';
import { createTestDatabase, fixtureKnex, requireDialect, type TestDatabase } from '../support/databases.js';

let ready = false;
let db: TestDatabase;
let dir: string;

beforeAll(async () => {
  ready = await requireDialect('postgres');
  if (!ready) return;
  db = await createTestDatabase('postgres', 'introfk');
  const k = fixtureKnex(db);
  try {
    await k.schema.createTable('customers', (t) => t.string('customer_id', 10).primary());
    await k.schema.createTable('orders', (t) => {
      t.integer('order_id').primary();
      t.string('customer_id', 10).references('customer_id').inTable('customers').withKeyName('orders_customer_fk');
    });
  } finally {
    await k.destroy();
  }
  dir = mkdtempSync(join(tmpdir(), 'crmlink-introfk-'));
  writeFileSync(join(dir, 'crmlink.yaml'), `sources:\n  erp: { kind: erp, dialect: postgres, connection: ${JSON.stringify({ ...db.connection, database: db.database })} }\n`);
}, 60_000);

afterAll(async () => {
  if (!ready) return;
  await db.drop();
  rmSync(dir, { recursive: true, force: true });
});

async function introspect(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['node', 'crmlink', 'sources', 'introspect', 'erp', ...args, '-c', join(dir, 'crmlink.yaml')], {
    ...defaultContext(),
    out: (t) => out.push(t),
    err: (t) => err.push(t),
  });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('sources introspect', () => {
  it('shows each foreign key with the table and columns it references', async (ctx) => {
    if (!ready) return ctx.skip();
    const r = await introspect('--table', 'orders');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/customer_id +character varying\(10\) +null, FK → customers\.customer_id/);
    expect(r.out).toContain('  foreign key (customer_id) references customers (customer_id)  -- orders_customer_fk');
  });

  it('--json carries the foreign keys', async (ctx) => {
    if (!ready) return ctx.skip();
    const r = await introspect('--table', 'orders', '--json');
    const [orders] = JSON.parse(r.out) as { foreignKeys: unknown[] }[];
    expect(orders.foreignKeys).toEqual([{ name: 'orders_customer_fk', columns: ['customer_id'], referencedSchema: 'public', referencedTable: 'customers', referencedColumns: ['customer_id'] }]);
  });

  it('an unknown table exits 2 (usage error) and names the near ones', async (ctx) => {
    if (!ready) return ctx.skip();
    const r = await introspect('--table', 'order');
    expect(r.code).toBe(EXIT.usage);
    expect(r.err).toContain('table "order" not found in source "erp"; did you mean "orders"?');
  });
});
