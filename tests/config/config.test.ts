import { describe, expect, test } from 'vitest';
import { parseConfig } from '../../config/load.js';
import { configJsonSchema } from '../../config/json-schema.js';
import { configErrorOf } from '../support/config.js';
import { updatedByTimestamp } from '../../demo/mappings.js';

const GOOD = `
hub: { dialect: sqlite, connection: { filename: ./.crmlink/hub.db } }
sources:
  erp:
    kind: erp
    dialect: mssql
    connection: { host: "\${ERP_HOST}", database: UFDATA_001, user: "\${ERP_USER}", password: "\${ERP_PASSWORD}" }
    timezone: Asia/Shanghai
  finance:
    kind: finance
    dialect: postgres
    connection: { url: "\${FIN_URL:-postgres://postgres@127.0.0.1/fin}" }
entities:
  Customer:
    mode: replicated
    sources:
      erp:
${updatedByTimestamp('Customer', 'cCusCode', 'dModifyDate')}
          code: cCusCode
          name: { column: cCusName, trim: true, halfWidth: true }
          creditLimit: { column: iCusCreLine, type: decimal, scale: 2 }
          status: { column: cCusState, map: { "1": ACTIVE, "0": INACTIVE } }
      finance:
        table: fin_customer
        key: [acct_no]
        fields: { name: cust_name, creditLimit: credit_limit }
sync:
  jobs:
    customers:
      entity: Customer
      sources: [erp, finance]
      schedule: "*/5 * * * *"
      direction: both
      conflicts: { default: manual, fields: { creditLimit: "source:finance" } }
server: { port: 4000 }
`;

const ENV = { ERP_HOST: 'erp.example.internal', ERP_USER: 'crm', ERP_PASSWORD: 's3cret' };

const errorOf = (text: string, env: Record<string, string> = ENV) => configErrorOf(text, env);

describe('config validation', () => {
  test('a good config loads with defaults filled in', () => {
    const { config } = parseConfig(GOOD, { env: ENV });
    expect(config.sources.erp.connection.host).toBe('erp.example.internal');
    expect(config.sources.erp.connection.password).toBe('s3cret');
    expect(config.sources.finance.connection.url).toBe('postgres://postgres@127.0.0.1/fin');
    expect(config.sources.finance.timezone).toBe('UTC');
    expect(config.entities.Customer?.sources.finance.changes.strategy).toBe('hash');
    expect(config.entities.Customer?.sources.erp.changes.lookBackSeconds).toBe(300);
    expect(config.sync.jobs.customers.conflicts.fields.creditLimit).toBe('source:finance');
    expect(config.sync.jobs.customers.batchSize).toBe(500);
    expect(config.server.auth.mode).toBe('none');
    // Nothing is granted by default: no role is declared and no one is served anonymously.
    expect(config.server.auth.roles).toEqual({});
    expect(config.server.auth.anonymousRole).toBeUndefined();
  });

  test('${VAR:-default} falls back, a set variable wins', () => {
    const { config } = parseConfig(GOOD, { env: { ...ENV, FIN_URL: 'postgres://u@db/finance' } });
    expect(config.sources.finance.connection.url).toBe('postgres://u@db/finance');
  });

  test('a missing environment variable is named with its path and line', () => {
    const err = errorOf(GOOD, { ERP_HOST: 'h', ERP_USER: 'u' });
    expect(err.code).toBe('CONFIG_ENV_MISSING');
    expect(err.message).toContain('sources.erp.connection.password: environment variable ERP_PASSWORD is not set (line 7)');
  });

  const cases: [string, (t: string) => string, string][] = [
    ['unknown dialect', (t) => t.replace('dialect: mssql', 'dialect: oracle'), 'sources.erp.dialect: expected one of mssql|postgres|mysql|sqlite (line 6)'],
    ['unknown source kind', (t) => t.replace('kind: finance', 'kind: hr'), 'sources.finance.kind: expected one of erp|finance|oa|crm (line 10)'],
    ['missing key', (t) => t.replace('        key: [acct_no]\n', ''), 'entities.Customer.sources.finance.key: required'],
    ['empty key', (t) => t.replace('key: [acct_no]', 'key: []'), 'entities.Customer.sources.finance.key:'],
    ['unknown field of the model', (t) => t.replace('code: cCusCode', 'kode: cCusCode'), 'entities.Customer.sources.erp.fields.kode: unknown field "kode" of Customer'],
    ['unknown config key', (t) => t.replace('timezone: Asia/Shanghai', 'timezone: Asia/Shanghai\n    colour: blue'), 'sources.erp: unknown key "colour" (line 9)'],
    ['bad cron', (t) => t.replace('"*/5 * * * *"', '"every five minutes"'), 'sync.jobs.customers.schedule: invalid cron expression "every five minutes" (line 36)'],
    ['bad conflict policy', (t) => t.replace('default: manual', 'default: loudest'), 'sync.jobs.customers.conflicts.default: expected manual | hub | newest | source:<name> (line 38)'],
    ['policy naming a source outside the job', (t) => t.replace('"source:finance"', '"source:oa"'), 'sync.jobs.customers.conflicts.fields.creditLimit: "source:oa" names a source that is not in this job'],
    ['job on an unknown source', (t) => t.replace('sources: [erp, finance]', 'sources: [erp, crm2]'), 'sync.jobs.customers.sources.1: unknown source "crm2"'],
    ['mapping on an undeclared source', (t) => t.replace('      finance:\n        table', '      billing:\n        table'), 'entities.Customer.sources.billing: unknown source "billing"'],
    ['duplicate source names', (t) => t.replace('  finance:\n    kind: finance', '  erp:\n    kind: finance'), 'duplicate key "erp" (each name may appear once) (line 9)'],
    ['timestamp strategy without a column', (t) => t.replace('{ strategy: timestamp, column: dModifyDate }', '{ strategy: timestamp }'), 'entities.Customer.sources.erp.changes.column: required for the timestamp strategy'],
    ['rowversion on a non-SQL Server source', (t) => t.replace('fields: { name: cust_name', 'changes: { strategy: rowversion, column: rv }\n        fields: { name: cust_name'), 'entities.Customer.sources.finance.changes.strategy: rowversion needs a SQL Server source'],
    ['refSource on a field that is not a ref', (t) => t.replace('fields: { name: cust_name, creditLimit: credit_limit }', 'fields: { name: cust_name, creditLimit: credit_limit, ownerId: { column: owner, refSource: erp } }'), 'entities.Customer.sources.finance.fields.ownerId.refSource: refSource applies to ref fields only (Customer.ownerId is string)'],
    ['wrong type', (t) => t.replace('server: { port: 4000 }', 'server: { port: "four thousand" }'), 'server.port: expected number'],
    ['unknown entity', (t) => t.replace('  Customer:\n    mode', '  Klant:\n    mode'), 'entities: unknown key "Klant" (entities are Customer, Contact,'],
    ['YAML syntax error', (t) => t.replace('hub: {', 'hub: {{'), '(line'],
    ['poll interval below 100 ms', (t) => t.replace('direction: both', 'direction: both\n      pollIntervalMs: 10'), 'sync.jobs.customers.pollIntervalMs: at least 100 (milliseconds)'],
    ['poll interval that is not whole ms', (t) => t.replace('direction: both', 'direction: both\n      pollIntervalMs: 2s'), 'sync.jobs.customers.pollIntervalMs: expected number'],
    ['poll on a push-only job', (t) => t.replace('direction: both', 'direction: push\n      pollIntervalMs: 2000'), 'sync.jobs.customers.pollIntervalMs: a push-only job pulls nothing to poll for'],
    ['poll with propagate: schedule', (t) => t.replace('direction: both', 'direction: both\n      propagate: schedule\n      pollIntervalMs: 2000'), 'sync.jobs.customers.pollIntervalMs: propagate: schedule runs this job only on its schedule'],
    [
      'poll where no source can be polled',
      (t) => t.replace('{ strategy: timestamp, column: dModifyDate }', '{ strategy: hash }').replace('fields: { name: cust_name', 'changes: { strategy: trigger }\n        fields: { name: cust_name').replace('direction: both', 'direction: both\n      pollIntervalMs: 2000'),
      'sync.jobs.customers.pollIntervalMs: no source of this job can be polled (erp: hash, finance: trigger on PostgreSQL, which notifies at once)',
    ],
  ];

  test.each(cases)('%s', (_name, mutate, expected) => {
    const mutated = mutate(GOOD);
    expect(mutated).not.toBe(GOOD);
    const err = errorOf(mutated);
    expect(err.message).toContain(expected);
    expect(err.issues.length).toBeGreaterThan(0);
  });

  test('a poll interval on a job with a timestamp-captured source is accepted (off when absent)', () => {
    expect(parseConfig(GOOD, { env: ENV }).config.sync.jobs.customers.pollIntervalMs).toBeUndefined();
    const { config } = parseConfig(GOOD.replace('direction: both', 'direction: both\n      pollIntervalMs: 2000'), { env: ENV });
    expect(config.sync.jobs.customers.pollIntervalMs).toBe(2000);
  });

  test('every problem is reported, not just the first', () => {
    const err = errorOf(GOOD.replace('dialect: mssql', 'dialect: oracle').replace('kind: finance', 'kind: hr'));
    expect(err.issues.map((i) => i.path)).toEqual(expect.arrayContaining(['sources.erp.dialect', 'sources.finance.kind']));
  });

  test('the JSON Schema describes the top-level keys and the dialect enum', () => {
    const schema = configJsonSchema() as { properties: Record<string, unknown> };
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['hub', 'sources', 'entities', 'sync', 'server']));
    expect(JSON.stringify(schema)).toContain('"mssql","postgres","mysql","sqlite"');
  });
});
