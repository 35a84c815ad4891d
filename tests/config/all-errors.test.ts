/**
 * `config check` reports every problem of the file in one pass, in the order of the file: a
 * schema error does not hide the cross-reference errors, nor a duplicate key the rest.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/load.js';
import { ConfigError, type ConfigIssue } from '../../core/errors.js';

function issuesOf(text: string, env: Record<string, string> = {}): ConfigIssue[] {
  try {
    parseConfig(text, { env });
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  throw new Error('expected the config to be rejected');
}

const FILE = `sources:
  erp:
    kind: erp
    dialect: oracle
    connection: { filename: ./erp.db }
  fin:
    kind: finance
    dialect: sqlite
    connection: { filename: ./fin.db, password: "\${FIN_PASSWORD}" }
entities:
  Customer:
    sources:
      erp: { table: c, key: [id], fields: { code: id } }
      fin: { table: c, key: [id], fields: { kode: id } }
sync:
  jobs:
    customers: { entity: Customer, sources: [erp, fin, oa], schedule: "every 5" }
    orders: { entity: SalesOrder, sources: [fin] }
server: { port: "x" }
hub: { backup: { schedule: "daily" } }
`;

describe('config check reports every error in one pass', () => {
  it('schema, environment and cross-reference errors together, sorted by line, each with path and line', () => {
    const issues = issuesOf(FILE);
    expect(issues.map((i) => `${i.line} ${i.path}: ${i.message}`)).toEqual([
      '4 sources.erp.dialect: expected one of mssql|postgres|mysql|sqlite',
      '9 sources.fin.connection.password: environment variable FIN_PASSWORD is not set',
      '14 entities.Customer.sources.fin.fields.kode: unknown field "kode" of Customer (declare custom fields under entities.Customer.fields)',
      '17 sync.jobs.customers.sources.2: unknown source "oa"',
      '17 sync.jobs.customers.schedule: invalid cron expression "every 5"',
      '18 sync.jobs.orders.entity: entity SalesOrder has no mapping under entities',
      '19 server.port: expected number',
      '20 hub.backup.schedule: invalid cron expression "daily"',
    ]);
  });

  it('a source the schema refuses still counts as declared: no "unknown source" for the jobs naming it', () => {
    const issues = issuesOf(FILE);
    expect(issues.filter((i) => i.message.includes('"erp"'))).toEqual([]);
  });

  it('a duplicate key does not hide the other problems', () => {
    const issues = issuesOf(`sources:
  erp: { kind: erp, dialect: sqlite, connection: { filename: a.db } }
  erp: { kind: erp, dialect: sqlite, connection: { filename: b.db } }
sync:
  jobs:
    customers: { entity: Customer, sources: [erp], schedule: "often" }
`);
    expect(issues.map((i) => `${i.line} ${i.message}`)).toEqual([
      '3 duplicate key "erp" (each name may appear once)',
      '6 entity Customer has no mapping under entities',
      '6 invalid cron expression "often"',
    ]);
  });
});
