/**
 * `config check` connects, when it can, and checks every mapped table and column against the live
 * schema, naming the nearest name; `--offline` skips that; a source it cannot reach is a warning.
 */
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, usePostgresForCli } from '../support/cli.js';

const pg = usePostgresForCli('cfglive', async (k) => {
  await k.schema.createTable('customers', (t) => {
    t.string('customer_id', 10).primary();
    t.string('company_name', 80);
    t.string('phone', 24);
    t.timestamp('modified_at');
  });
});

function configFile(name: string, connection: object, fields: string, extra = ''): string {
  const file = join(pg.dir, `${name}.yaml`);
  writeFileSync(
    file,
    `sources:
  erp:
    kind: erp
    dialect: postgres
    connection: ${JSON.stringify(connection)}
entities:
  Customer:
    mode: replicated
    sources:
      erp:
        table: customers
        key: [customer_id]
        changes: { strategy: timestamp, column: modifed_at }
        fields:
${fields}
sync:
  jobs:
    customers: { entity: Customer, sources: [erp], direction: pull${extra} }
`,
  );
  return file;
}

const check = (...args: string[]) => runCli('config', 'check', ...args);

const conn = () => pg.connection();

describe('config check against the live schema', () => {
  it('a misspelled column is an error at its line, with the nearest name; every one is reported', async (ctx) => {
    if (!pg.ready) return ctx.skip();
    const file = configFile('typo', conn(), '          code: customer_id\n          name: { column: comapny_name, trim: true }\n          phone: phone');
    const r = await check('--config', file);
    expect(r.code).toBe(2);
    expect(r.err).toContain('entities.Customer.sources.erp.changes.column: column "modifed_at" not found in erp.customers; did you mean "modified_at"? (line 13)');
    expect(r.err).toContain('entities.Customer.sources.erp.fields.name.column: column "comapny_name" not found in erp.customers; did you mean "company_name"? (line 16)');
  });

  it('a table that is not there is named with the nearest table', async (ctx) => {
    if (!pg.ready) return ctx.skip();
    const file = configFile('table', conn(), '          code: customer_id');
    writeFileSync(file, `${String(await import('node:fs').then((f) => f.readFileSync(file, 'utf8'))).replace('table: customers', 'table: customer')}`);
    const r = await check('--config', file);
    expect(r.code).toBe(2);
    expect(r.err).toContain('entities.Customer.sources.erp.table: table "customer" not found in source "erp"; did you mean "customers"? (line 11)');
  });

  it('live problems and problems of the file come in one report, sorted by line', async (ctx) => {
    if (!pg.ready) return ctx.skip();
    const file = configFile('both', conn(), '          code: customer_id\n          name: company_nam', ', schedule: "hourly"');
    const r = await check('--config', file);
    expect(r.code).toBe(2);
    const lines = r.err.split('\n').filter((l) => l.startsWith('  '));
    expect(lines.map((l) => /\(line (\d+)\)$/.exec(l)?.[1])).toEqual(['13', '16', '19']);
    expect(lines[2]).toContain('invalid cron expression "hourly"');
  });

  it('--offline does not connect: the same file passes', async (ctx) => {
    if (!pg.ready) return ctx.skip();
    const file = configFile('offline', conn(), '          code: customer_id\n          name: comapny_name');
    const r = await check('--offline', '--config', file);
    expect(r.code).toBe(0);
    expect(r.out).toContain('live: not checked (--offline)');
  });

  it('a correct mapping passes and says what it checked', async (ctx) => {
    if (!pg.ready) return ctx.skip();
    const file = configFile('good', conn(), '          code: customer_id\n          name: company_name');
    writeFileSync(file, (await import('node:fs')).readFileSync(file, 'utf8').replace('modifed_at', 'modified_at'));
    const r = await check('--config', file);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('live: 1 mapped tables checked against their sources (erp.customers)');
  });

  it('a source that cannot be reached is a warning, not a failure', async () => {
    const file = configFile('down', { host: '127.0.0.1', port: 1, user: 'postgres', database: 'nowhere' }, '          code: customer_id');
    const r = await check('--config', file);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/^warning: source "erp" not reached \(.+\): its mapped tables and columns were not checked \(--offline skips this check\)$/);
    expect(r.out).toContain('config ok');
  });
});
