/**
 * `sources introspect` shows foreign keys and the table they reference, on the column and as a
 * key line; an unknown table is a usage error (exit 2, cli/exit-codes.ts).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXIT } from '../../cli/exit-codes.js';
import { runCli, usePostgresForCli } from '../support/cli.js';

const pg = usePostgresForCli('introfk', async (k) => {
  await k.schema.createTable('customers', (t) => t.string('customer_id', 10).primary());
  await k.schema.createTable('orders', (t) => {
    t.integer('order_id').primary();
    t.string('customer_id', 10).references('customer_id').inTable('customers').withKeyName('orders_customer_fk');
  });
});

beforeAll(() => {
  if (pg.ready) writeFileSync(join(pg.dir, 'crmlink.yaml'), `sources:\n  erp: { kind: erp, dialect: postgres, connection: ${JSON.stringify(pg.connection())} }\n`);
});

const introspect = (...args: string[]) => runCli('sources', 'introspect', 'erp', ...args, '-c', join(pg.dir, 'crmlink.yaml'));

describe('sources introspect', () => {
  it('shows each foreign key with the table and columns it references', async (ctx) => {
    if (!pg.ready) return ctx.skip();
    const r = await introspect('--table', 'orders');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/customer_id +character varying\(10\) +null, FK → customers\.customer_id/);
    expect(r.out).toContain('  foreign key (customer_id) references customers (customer_id)  -- orders_customer_fk');
  });

  it('--json carries the foreign keys', async (ctx) => {
    if (!pg.ready) return ctx.skip();
    const r = await introspect('--table', 'orders', '--json');
    const [orders] = JSON.parse(r.out) as { foreignKeys: unknown[] }[];
    expect(orders.foreignKeys).toEqual([{ name: 'orders_customer_fk', columns: ['customer_id'], referencedSchema: 'public', referencedTable: 'customers', referencedColumns: ['customer_id'] }]);
  });

  it('an unknown table exits 2 (usage error) and names the near ones', async (ctx) => {
    if (!pg.ready) return ctx.skip();
    const r = await introspect('--table', 'order');
    expect(r.code).toBe(EXIT.usage);
    expect(r.err).toContain('table "order" not found in source "erp"; did you mean "orders"?');
  });
});
