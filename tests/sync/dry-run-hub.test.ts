/**
 * `sync run --dry-run` writes nothing, the hub's schema included: before the first real run there
 * is no hub file (SQLite) and no crmlink table (PostgreSQL) afterwards, yet the plan is printed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import knexFactory from 'knex';
import { main } from '../../cli/main.js';
import { defaultContext, type CliContext } from '../../cli/context.js';
import { createTestDatabase, fixtureKnex, requireDialect, type TestDatabase } from '../support/databases.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

function capture(): { ctx: CliContext; out: string[] } {
  const out: string[] = [];
  return { ctx: { ...defaultContext(), out: (t) => out.push(t), err: (t) => out.push(t) }, out };
}

/** A directory with an ERP (SQLite) of two customers and a config whose hub is `hub`. */
async function project(hub: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'crmlink-dry-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  const erp = knexFactory({ client: 'better-sqlite3', connection: { filename: join(dir, 'erp.db') }, useNullAsDefault: true });
  await erp.schema.createTable('customer', (t) => {
    t.string('code', 20).primary();
    t.string('name', 100);
  });
  await erp('customer').insert([
    { code: 'C1', name: 'Acme' },
    { code: 'C2', name: 'Beta' },
  ]);
  await erp.destroy();
  writeFileSync(
    join(dir, 'crmlink.yaml'),
    `hub: ${hub}
sources:
  erp: { kind: erp, dialect: sqlite, connection: { filename: ./erp.db } }
entities:
  Customer:
    sources:
      erp: { table: customer, key: [code], fields: { code: code, name: name } }
sync:
  jobs:
    customers: { entity: Customer, sources: [erp] }
log: { level: silent }
`,
  );
  return join(dir, 'crmlink.yaml');
}

describe('sync run --dry-run', () => {
  it('creates no SQLite hub file, yet plans every row', async () => {
    const file = await project(`{ dialect: sqlite, connection: { filename: ./state/hub.db } }`);
    const hubFile = join(file, '..', 'state', 'hub.db');
    const c = capture();
    expect(await main(['node', 'crmlink', 'sync', 'run', 'customers', '--dry-run', '--json', '-c', file], c.ctx)).toBe(0);
    const report = JSON.parse(c.out.join('\n')) as { dryRun: boolean; sources: Record<string, { read: number }> };
    expect(report.dryRun).toBe(true);
    expect(report.sources.erp.read).toBe(2);
    expect(existsSync(hubFile)).toBe(false);
    expect(existsSync(join(file, '..', 'state'))).toBe(false);

    // A real run then creates it, and a dry run on the existing hub leaves its tables alone.
    expect(await main(['node', 'crmlink', 'sync', 'run', 'customers', '-c', file], capture().ctx)).toBe(0);
    expect(existsSync(hubFile)).toBe(true);
  });

  it('creates no table in a PostgreSQL hub database', async () => {
    if (!(await requireDialect('postgres'))) return;
    const db: TestDatabase = await createTestDatabase('postgres', 'dryhub');
    cleanup.push(() => db.drop());
    const file = await project(`{ dialect: postgres, connection: ${JSON.stringify(db.connection)} }`);
    const c = capture();
    expect(await main(['node', 'crmlink', 'sync', 'run', 'customers', '--dry-run', '-c', file], c.ctx)).toBe(0);
    expect(c.out.join('\n')).toContain('dry run of customers');
    const k = fixtureKnex(db);
    try {
      const tables = (await k('information_schema.tables').where({ table_schema: 'public' }).select('table_name')) as unknown[];
      expect(tables).toEqual([]);
    } finally {
      await k.destroy();
    }
  });
});
