/**
 * `crmlink mapping scaffold` prefers no guess to a wrong one, on a real PostgreSQL table: a name in
 * two columns is not mapped to the first, an enum is never guessed from a free-text "state", a
 * total maps the amount, each guess is marked for review, and the Customer skeleton names the
 * match rules in effect.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { parse } from 'yaml';
import type { Knex } from 'knex';
import { loadConfigFile } from '../../config/load.js';
import { register as registerMapping } from '../../cli/commands/mapping.js';
import { createTestDatabase, fixtureKnex, requireDialect, type TestDatabase } from '../support/databases.js';

let db: TestDatabase | null = null;
let k: Knex | null = null;
let dir = '';

beforeAll(async () => {
  if (!(await requireDialect('postgres'))) return;
  db = await createTestDatabase('postgres', 'scaf');
  k = fixtureKnex(db);
  await k.schema.createTable('client', (t) => {
    t.integer('id').primary();
    t.string('first_name', 40);
    t.string('last_name', 40);
    t.string('state', 40);
    t.string('email', 80);
  });
  await k.schema.createTable('invoice', (t) => {
    t.integer('id').primary();
    t.string('code', 20);
    t.decimal('total', 12, 2);
    t.string('state', 40);
    t.date('invoice_date');
  });
  dir = mkdtempSync(join(tmpdir(), 'crmlink-scaf-'));
  writeFileSync(join(dir, 'crmlink.yaml'), `sources:\n  shop: { kind: erp, dialect: postgres, connection: ${JSON.stringify(db.connection)} }\n`);
});

afterAll(async () => {
  await k?.destroy();
  await db?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function scaffold(table: string, entity: string): Promise<string> {
  const out: string[] = [];
  const program = new Command('crmlink').exitOverride();
  registerMapping(program, { loadConfig: async (o: { config?: string }) => loadConfigFile(o.config ?? join(dir, 'crmlink.yaml')), out: (t: string) => out.push(t), err: (t: string) => out.push(t) });
  await program.parseAsync(['node', 'crmlink', 'mapping', 'scaffold', 'shop', '--table', table, '--entity', entity, '--config', join(dir, 'crmlink.yaml')]);
  return out.join('\n');
}

describe('mapping scaffold', () => {
  it('does not map a two-column name to one of them, nor guess an enum from "state"; says why', async () => {
    if (!db) return;
    const text = await scaffold('client', 'Customer');
    const fields = (parse(text) as { entities: { Customer: { sources: { shop: { fields: Record<string, unknown> } } } } }).entities.Customer.sources.shop.fields;
    // A "state" may be a province (guessed, marked); it is never the status enum.
    expect(fields).toEqual({ code: 'id', email: 'email', province: 'state' });
    expect(text).toContain('email: email # same name');
    expect(text).toContain('province: state # guessed from the column name: review');
    expect(text).toContain('# Not guessed: name could be first_name or last_name (several columns? use { columns: [first_name, last_name], separator: " " })');
    expect(text).toContain('# Identity: without entities.Customer.match the default rules apply: creditCode 1 (sure), name 0.9, phone 0.6, email 0.7');
  });

  it('maps total to the amount, marks the guess for review, and leaves status alone', async () => {
    if (!db) return;
    const text = await scaffold('invoice', 'Invoice');
    const fields = (parse(text) as { entities: { Invoice: { sources: { shop: { fields: Record<string, unknown> } } } } }).entities.Invoice.sources.shop.fields;
    expect(fields).toEqual({ code: 'code', amount: { column: 'total', scale: 2 }, invoiceDate: 'invoice_date' });
    expect(text).toMatch(/column: total[\s\S]*# guessed from the column name: review/);
    expect(text).not.toMatch(/status:/);
  });
});
