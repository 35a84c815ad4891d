/**
 * `mapping scaffold` writes one valid, commented config: the file's own sources kept as written
 * (${VAR}s and comments), one `entities:` block with a `mode` per entity, a pull job each, and it
 * passes `config check` (live schema included) as it stands.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { runCli as cli, usePostgresForCli } from '../support/cli.js';

const pg = usePostgresForCli('scafcfg', async (k) => {
  await k.schema.createTable('clients', (t) => {
    t.string('client_code', 10).primary();
    t.string('client_name', 80);
    t.string('phone', 24);
    t.decimal('credit_limit', 18, 2);
    t.timestamp('modified_at');
  });
  await k.schema.createTable('sales_orders', (t) => {
    t.integer('order_no').primary();
    t.string('client_code', 10).references('client_code').inTable('clients');
    t.date('order_date');
    t.decimal('total', 18, 2);
  });
  await k.schema.createTable('notes', (t) => {
    t.text('a');
    t.text('b');
  });
});
const dir = pg.dir;

beforeAll(() => {
  if (!pg.ready) return;
  const { database, ...conn } = pg.connection();
  writeFileSync(
    join(dir, 'crmlink.yaml'),
    `# the shop's ERP
hub: { dialect: sqlite, connection: { filename: ./hub.db } }
sources:
  shop:
    kind: erp
    dialect: postgres
    connection: { host: ${conn.host}, port: ${conn.port}, user: ${conn.user}, database: "\${SHOP_DB:-${database}}" }   # database from the environment
`,
  );
});

describe('mapping scaffold writes a config that passes config check', () => {
  it('several tables: one entities block, a mode and a job per entity, and config check passes against the live database', async (ctx) => {
    if (!pg.ready) return ctx.skip();
    const file = join(dir, 'scaffolded.yaml');
    const s = await cli('mapping', 'scaffold', 'shop', '-t', 'clients', '-e', 'Customer', '-t', 'sales_orders', '-e', 'SalesOrder', '-t', 'notes', '-e', 'Activity', '-c', join(dir, 'crmlink.yaml'), '-o', file);
    expect(s.code, s.err).toBe(0);
    const text = readFileSync(file, 'utf8');
    expect(text.match(/^entities:/gm)).toHaveLength(1);
    expect(text).toContain('# the shop\'s ERP');
    expect(text).toContain('"${SHOP_DB:-');
    expect(text).toContain('# database from the environment');
    expect(text).toContain('TODO: the table has no primary or unique key');
    const doc = parse(text) as { entities: Record<string, { mode: string }>; sync: { jobs: Record<string, { entity: string; direction: string }> } };
    expect(Object.keys(doc.entities)).toEqual(['Customer', 'SalesOrder', 'Activity']);
    for (const e of Object.values(doc.entities)) expect(e.mode).toBe('replicated');
    expect(Object.values(doc.sync.jobs).map((j) => `${j.entity}:${j.direction}`)).toEqual(['Customer:pull', 'SalesOrder:pull', 'Activity:pull']);
    expect(text).toMatch(/mode: replicated # replicated: a hub copy kept in step by the sync job \| federated: read live from the source/);

    const check = await cli('config', 'check', '--config', file);
    expect(check.err).toBe('');
    expect(check.code).toBe(0);
    expect(check.out).toContain('live: 3 mapped tables checked against their sources');
  });

  it('printed without --out, the config is the same document', async (ctx) => {
    if (!pg.ready) return ctx.skip();
    const s = await cli('mapping', 'scaffold', 'shop', '--table', 'clients', '--entity', 'Customer', '-c', join(dir, 'crmlink.yaml'));
    expect(s.code).toBe(0);
    const doc = parse(s.out) as { sources: Record<string, unknown>; entities: { Customer: { sources: { shop: { key: string[] } } } } };
    expect(Object.keys(doc.sources)).toEqual(['shop']);
    expect(doc.entities.Customer.sources.shop.key).toEqual(['client_code']);
  });

  it('an unknown table and unpaired --table/--entity are usage errors', async (ctx) => {
    if (!pg.ready) return ctx.skip();
    expect((await cli('mapping', 'scaffold', 'shop', '-t', 'nope', '-e', 'Customer', '-c', join(dir, 'crmlink.yaml'))).code).toBe(2);
    expect((await cli('mapping', 'scaffold', 'shop', '-t', 'clients', '-t', 'notes', '-e', 'Customer', '-c', join(dir, 'crmlink.yaml'))).code).toBe(2);
  });
});
