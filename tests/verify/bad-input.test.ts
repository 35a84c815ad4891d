/**
 * Bad input: every kind gives a clear error naming what and where (asserted on the text), and
 * nothing else is lost.
 *
 * - Bad configs, a table: each is rejected at load time with the setting's dotted path, the line
 *   and what is wrong; a mapping naming a column the table lacks passes the load (the config does
 *   not know the tables) and fails the run with the source, table and column named, leaving the
 *   hub untouched.
 * - Bad rows, on real databases (ERP on PostgreSQL, finance on MariaDB, OA on SQLite): over-long
 *   strings, invalid dates, invalid credit codes, a required field empty, wrong types, broken encodings
 *   (bytes that are not UTF-8 in a MariaDB binary column and in SQLite text). Each bad row is parked
 *   (or, for an invalid credit code, reported and kept out of identity matching) with its error,
 *   and every other row syncs.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Knex } from 'knex';
import { parseConfig } from '../../config/load.js';
import { ConfigError } from '../../core/errors.js';
import { closeApp, openApp, type App } from '../../app/app.js';
import { makeCreditCode } from '../../identity/credit-code.js';
import { runJob } from '../../sync/engine.js';
import { listParked } from '../../sync/status.js';
import { createTestDatabase, fixtureKnex, requireDialect, type TestDatabase } from '../support/databases.js';
import { hubAndSources } from '../support/config.js';
import { TEST_ERP_CUSTOMERS } from '../support/test-erp.js';

// ------------------------------------------------------------------------------ configs

const BASE = `
hub:
  dialect: sqlite
  connection: { filename: ":memory:" }
sources:
  erp:
    kind: erp
    dialect: postgres
    connection: { host: 127.0.0.1, database: erp, user: crm, password: "\${ERP_PASSWORD}" }
  finance:
    kind: finance
    dialect: mysql
    connection: { host: 127.0.0.1, database: fin, user: crm }
${TEST_ERP_CUSTOMERS}
        write: [update]
        fields: { code: cust_code, name: cust_name, phone: phone }
      finance:
        table: fin_account
        key: [acct_no]
        fields: { code: acct_no, name: name, creditLimit: { column: credit_limit, type: decimal, scale: 2 } }
sync:
  jobs:
    customers:
      entity: Customer
      sources: [erp, finance]
      schedule: "*/5 * * * *"
      conflicts: { default: manual, fields: { creditLimit: "source:finance" } }
`;
const ENV = { ERP_PASSWORD: 'secret' };

const CONFIGS: [string, (t: string) => string, RegExp][] = [
  ['unknown dialect', (t) => t.replace('dialect: mysql', 'dialect: oracle'), /sources\.finance\.dialect: expected one of mssql\|postgres\|mysql\|sqlite \(line 12\)/],
  ['missing key', (t) => t.replace('        key: [acct_no]\n', ''), /entities\.Customer\.sources\.finance\.key: required/],
  ['unknown model field', (t) => t.replace('phone: phone }', 'fone: phone }'), /entities\.Customer\.sources\.erp\.fields\.fone: unknown field "fone" of Customer/],
  ['bad cron', (t) => t.replace('"*/5 * * * *"', '"every five minutes"'), /sync\.jobs\.customers\.schedule: invalid cron expression "every five minutes" \(line 31\)/],
  ['bad policy', (t) => t.replace('default: manual', 'default: loudest'), /sync\.jobs\.customers\.conflicts\.default: expected manual \| hub \| newest \| source:<name>/],
  ['policy naming a source outside the job', (t) => t.replace('"source:finance"', '"source:oa"'), /sync\.jobs\.customers\.conflicts\.fields\.creditLimit: "source:oa" names a source that is not in this job \(erp, finance\)/],
  ['missing env var', (t) => t.replace('${ERP_PASSWORD}', '${CRMLINK_VERIFY_UNSET}'), /sources\.erp\.connection\.password: environment variable CRMLINK_VERIFY_UNSET is not set \(line 9\)/],
  ['duplicate source names', (t) => t.replace('  finance:\n    kind: finance', '  erp:\n    kind: finance'), /duplicate key "erp" \(each name may appear once\) \(line 10\)/],
  ['job on an unknown source', (t) => t.replace('sources: [erp, finance]', 'sources: [erp, billing]'), /sync\.jobs\.customers\.sources\.1: unknown source "billing"/],
  ['bad reconcile cron', (t) => t.replace('schedule: "*/5 * * * *"', 'schedule: "*/5 * * * *"\n      reconcile: { schedule: "nightly" }'), /sync\.jobs\.customers\.reconcile\.schedule: invalid cron expression "nightly"/],
  ['wrong type', (t) => t.replace('schedule: "*/5 * * * *"', 'schedule: "*/5 * * * *"\n      batchSize: lots'), /sync\.jobs\.customers\.batchSize: expected number/],
];

describe('bad configs', () => {
  it('the base config loads', () => {
    expect(() => parseConfig(BASE, { env: ENV })).not.toThrow();
  });

  it.each(CONFIGS)('%s: rejected, naming the setting, its line and what is wrong', (_what, edit, message) => {
    let err: unknown;
    try {
      parseConfig(edit(BASE), { env: ENV });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(message);
  });
});

// ------------------------------------------------------------------------------ rows

describe('bad rows on real databases', () => {
  let dbs: TestDatabase[] = [];
  let k: { erp: Knex; fin: Knex; oa: Knex };
  let yaml = '';
  const apps: App[] = [];
  const logs: string[] = [];
  let ready = false;

  beforeAll(async () => {
    for (const d of ['postgres', 'mysql'] as const) if (!(await requireDialect(d))) return;
    const [hub, erpDb, finDb, oaDb] = (dbs = await Promise.all([
      createTestDatabase('sqlite', 'bihub'),
      createTestDatabase('postgres', 'bierp'),
      createTestDatabase('mysql', 'bifin'),
      createTestDatabase('sqlite', 'bioa'),
    ]));
    k = { erp: fixtureKnex(erpDb), fin: fixtureKnex(finDb), oa: fixtureKnex(oaDb) };
    await k.erp.schema.createTable('erp_customer', (t) => {
      t.string('cust_code', 20).primary();
      t.string('cust_name', 200).notNullable();
      t.string('credit_code', 18);
      t.string('phone', 30);
    });
    await k.fin.schema.createTable('fin_account', (t) => {
      t.string('acct_no', 20).primary();
      t.string('name', 40).notNullable(); // short: a long OA title does not fit
      t.string('phone', 30);
      t.specificType('remark', 'varbinary(200)'); // bytes, read as text
    });
    await k.oa.schema.createTable('oa_customer', (t) => {
      t.increments('id');
      t.string('cust_code', 20);
      t.string('title', 200); // nullable here, NOT NULL in ERP and finance
      t.string('tel', 30);
      t.specificType('limit_amt', 'any'); // SQLite keeps whatever it is given
      t.string('since', 30);
    });
    await k.erp('erp_customer').insert([
      { cust_code: 'E1', cust_name: 'Good ERP customer', credit_code: makeCreditCode('91110000MA01AAAA0'), phone: '010-1' },
      { cust_code: 'E2', cust_name: 'Bad credit code', credit_code: '91110000MA01AAAA0X', phone: '010-2' },
    ]);
    await k.fin.raw(`insert into fin_account (acct_no, name, phone, remark) values ('F1', 'Good finance customer', '021-1', X'E5A5BD'), ('F2', 'Broken bytes', '021-2', X'C328A0FF')`);
    await k.oa('oa_customer').insert([
      { cust_code: 'O1', title: 'Good OA customer', tel: '0755-1', limit_amt: '10.5', since: '2024-01-02' },
      { cust_code: 'O2', title: 'An OA title far too long for the finance system, which allows forty characters', tel: '0755-2' },
      { cust_code: 'O3', title: 'Bad date', since: '2024-13-45' },
      { cust_code: 'O4', title: null, tel: '0755-4' },
      { cust_code: 'O5', title: 'Wrong type', limit_amt: 'about ten thousand' },
    ]);
    await k.oa.raw(`insert into oa_customer (cust_code, title, tel) values ('O6', 'Broken text', CAST(X'C328A0FF' AS TEXT))`);
    yaml = `
${hubAndSources(hub, { erp: erpDb, finance: finDb, oa: oaDb })}
entities:
  Customer:
    fields: { since: { type: date } }
    sources:
      erp: { table: erp_customer, key: [cust_code], write: [insert, update], fields: { code: cust_code, name: cust_name, creditCode: credit_code, phone: phone } }
      finance: { table: fin_account, key: [acct_no], write: [insert, update], fields: { code: acct_no, name: name, phone: phone, address: remark } }
      oa:
        table: oa_customer
        key: [id]
        identity: true
        write: [insert, update]
        fields: { code: cust_code, name: title, phone: tel, creditLimit: { column: limit_amt, type: decimal, scale: 2 }, since: { column: since, type: date } }
sync:
  jobs:
    all: { entity: Customer, sources: [erp, finance, oa] }
log: { level: silent }
`;
    ready = true;
  }, 120_000);
  afterAll(async () => {
    await Promise.allSettled(apps.map((a) => closeApp(a)));
    if (k) await Promise.allSettled(Object.values(k).map((x) => x.destroy()));
    await Promise.allSettled(dbs.map((d) => d.drop()));
  });

  const open = async (text: string) => {
    const app = await openApp(parseConfig(text), { logger: pino({ level: 'warn' }, { write: (l: string) => void logs.push(l) }) });
    apps.push(app);
    return app;
  };

  it('a mapping naming a column the table lacks: the run fails naming source, table and column; the hub is untouched', async (t) => {
    if (!ready) return t.skip();
    const app = await open(yaml.replace('phone: tel,', 'phone: tel_no,').replace(/"filename":"[^"]+"/, `"filename":"${dbs[0].database}.unknown-column"`));
    const r = await runJob(app, 'all');
    expect(r.status).toBe('failed');
    expect(r.error?.code).toBe('SCHEMA_CHANGED');
    expect(r.error?.message).toMatch(/source "oa": oa_customer has no column tel_no \(dropped, or misspelt in the mapping; select: no such column: tel_no\)/);
    // The run stopped at the first page of oa: nothing half done (erp and finance went in first,
    // in their own committed pages; oa's pages never touched the hub).
    expect(await app.hub.knex('crm_xref').where({ source: 'oa' })).toEqual([]);
  });

  describe('a run over the bad rows', () => {
    let app: App;
    let parked: Awaited<ReturnType<typeof listParked>>;
    const parkedFor = (source: string, key: string, direction: 'pull' | 'push') => parked.filter((p) => p.source === source && p.direction === direction && p.sourceKey === key);

    beforeAll(async () => {
      if (!ready) return;
      app = await open(yaml);
      const r = await runJob(app, 'all');
      expect(r.status, JSON.stringify(r.error)).toBe('partial');
      parked = await listParked(app);
    });

    const oaKey = async (code: string) => String(((await k.oa('oa_customer').where({ cust_code: code }).first('id')) as { id: number }).id);

    it('invalid date: parked on pull, naming field, table, column, key and value', async (t) => {
      if (!ready) return t.skip();
      const [p] = parkedFor('oa', await oaKey('O3'), 'pull');
      expect(p?.message).toMatch(/Customer\.since from oa\.oa_customer\.since \(key \d+\): not a date \(YYYY-MM-DD\); value "2024-13-45"/);
    });

    it('wrong type: parked on pull, naming field, column, key and value', async (t) => {
      if (!ready) return t.skip();
      const [p] = parkedFor('oa', await oaKey('O5'), 'pull');
      expect(p?.message).toMatch(/Customer\.creditLimit from oa\.oa_customer\.limit_amt \(key \d+\): not a decimal number; value "about ten thousand"/);
    });

    it('broken encoding in SQLite text: parked on pull, naming field, column and key', async (t) => {
      if (!ready) return t.skip();
      const [p] = parkedFor('oa', await oaKey('O6'), 'pull');
      expect(p?.message).toMatch(/Customer\.phone from oa\.oa_customer\.tel \(key \d+\): not valid UTF-8 text/);
      expect(await app.hub.knex('crm_customer').where({ code: 'O6' })).toEqual([]);
    });

    it('broken encoding in a MariaDB binary column: parked on pull, naming field, column, key and bytes', async (t) => {
      if (!ready) return t.skip();
      const [p] = parkedFor('finance', 'F2', 'pull');
      expect(p?.message).toMatch(/Customer\.address from finance\.fin_account\.remark \(key "?F2"?\): not valid UTF-8 text \(bytes 0xc328a0ff\)/);
      expect(await app.hub.knex('crm_customer').where({ code: 'F2' })).toEqual([]);
    });

    it('over-long string: parked on push to the system it does not fit, naming table, row and column', async (t) => {
      if (!ready) return t.skip();
      const ps = parked.filter((p) => p.source === 'finance' && p.direction === 'push' && /O2/.test(p.message));
      expect(ps).toHaveLength(1);
      expect(ps[0].message).toMatch(/fin_account row "?O2"? rejected: column name cannot hold "An OA title far too long[^"]*": over its length or precision \(Data too long for column 'name'/);
      // It reached everywhere else.
      expect(await k.erp('erp_customer').where({ cust_code: 'O2' })).toHaveLength(1);
    });

    it('a required field empty: parked on pull before the hub, naming field, column and key (never pushed as NULL)', async (t) => {
      if (!ready) return t.skip();
      const oa = parked.filter((p) => p.source === 'oa' && p.direction === 'pull' && /\.title /.test(p.message));
      expect(oa[0]?.message).toMatch(/Customer\.name from oa\.oa_customer\.title \(key 4\): null is required but empty/);
      expect(parked.filter((p) => p.direction === 'push' && /O4/.test(p.message))).toEqual([]);
      expect(await app.hub.knex('crm_customer').where({ code: 'O4' })).toHaveLength(0);
    });

    it('invalid credit code: reported with source, key, code and why; kept out of matching; the row syncs', async (t) => {
      if (!ready) return t.skip();
      const warn = logs.map((l) => JSON.parse(l) as { msg: string; source?: string; key?: string }).find((l) => /invalid credit code/.test(l.msg));
      expect(warn).toMatchObject({ source: 'erp', key: 'E2' });
      expect(warn?.msg).toMatch(/invalid credit code 91110000MA01AAAA0X: check digit should be '.' but is 'X'/);
      expect(await k.fin('fin_account').where({ acct_no: 'E2' })).toHaveLength(1);
    });

    it('nothing else is lost: every good row is everywhere, and exactly the bad ones are parked', async (t) => {
      if (!ready) return t.skip();
      const good = ['E1', 'E2', 'F1', 'O1'];
      for (const code of good) {
        expect(await app.hub.knex('crm_customer').where({ code, _deleted: false }), `hub ${code}`).toHaveLength(1);
        expect(await k.erp('erp_customer').where({ cust_code: code }), `erp ${code}`).toHaveLength(1);
        expect(await k.fin('fin_account').where({ acct_no: code }), `finance ${code}`).toHaveLength(1);
        expect(await k.oa('oa_customer').where({ cust_code: code }), `oa ${code}`).toHaveLength(1);
      }
      // Pulled: O3, O4, O5, O6 (oa), F2 (finance). Pushed: O2 → finance.
      expect(parked.map((p) => `${p.direction}:${p.source}`).sort()).toEqual(['pull:finance', 'pull:oa', 'pull:oa', 'pull:oa', 'pull:oa', 'push:finance']);
      // And they stay parked, not re-reported as new failures, on the next run.
      const again = await runJob(app, 'all');
      expect(again.totals.written).toBe(0);
      expect((await listParked(app)).length).toBe(parked.length);
    });
  });
});

// ------------------------------------------------------------------------------ edges

/**
 * Bad input at the edges (issue 24.5): the source's shape changing under a job, text a target
 * column's character set cannot hold, numbers over a target column's precision, the crmlink
 * host's clock jumping back. Each stops or parks with a clear error, and nothing is lost.
 * ERP and a legacy table on PostgreSQL (timestamp capture), finance on MariaDB with a GBK column.
 */
describe('bad input at the edges', { shuffle: false }, () => {
  let dbs: TestDatabase[] = [];
  let erp: Knex;
  let fin: Knex;
  let app: App;
  let ready = false;
  let clock = 0;
  const stamp = () => new Date(Date.parse('2030-01-01T00:00:00Z') + ++clock * 1000).toISOString();

  beforeAll(async () => {
    for (const d of ['postgres', 'mysql'] as const) if (!(await requireDialect(d))) return;
    const [hub, erpDb, finDb] = (dbs = await Promise.all([createTestDatabase('sqlite', 'edgehub'), createTestDatabase('postgres', 'edgeerp'), createTestDatabase('mysql', 'edgefin')]));
    erp = fixtureKnex(erpDb);
    fin = fixtureKnex(finDb);
    await erp.schema.createTable('edge_customer', (t) => {
      t.string('cust_code', 20).primary();
      t.string('cust_name', 200).notNullable();
      t.string('phone', 30);
      t.decimal('credit_limit', 14, 2);
      t.string('updated_at', 30);
    });
    await erp.schema.createTable('pk_customer', (t) => {
      t.integer('id').primary();
      t.string('name', 60).notNullable();
      t.string('updated_at', 30);
    });
    await fin.raw(
      'CREATE TABLE fin_edge (acct_no varchar(20) NOT NULL PRIMARY KEY, name varchar(60) CHARACTER SET gbk NOT NULL, phone varchar(30), credit_limit decimal(8,2)) DEFAULT CHARSET=utf8mb4',
    );
    const yaml = `
${hubAndSources(hub, { erp: erpDb, legacy: ['erp', erpDb], finance: finDb })}
entities:
  Customer:
    sources:
      erp:
        table: edge_customer
        key: [cust_code]
        changes: { strategy: timestamp, column: updated_at, lookBackSeconds: 60 }
        fields: { code: cust_code, name: cust_name, phone: phone, creditLimit: { column: credit_limit, type: decimal, scale: 2 } }
      legacy:
        table: pk_customer
        key: [id]
        changes: { strategy: timestamp, column: updated_at, lookBackSeconds: 60 }
        fields: { name: name }
      finance:
        table: fin_edge
        key: [acct_no]
        write: [insert, update]
        fields: { code: acct_no, name: name, phone: phone, creditLimit: { column: credit_limit, type: decimal, scale: 2 } }
sync:
  jobs:
    edge: { entity: Customer, sources: [erp, finance], batchSize: 1, conflicts: { default: manual } }
    pk: { entity: Customer, sources: [legacy], direction: pull }
log: { level: silent }
`;
    app = await openApp(parseConfig(yaml), { logger: pino({ level: 'silent' }) });
    ready = true;
  }, 120_000);
  afterAll(async () => {
    if (app) await closeApp(app);
    await Promise.allSettled([erp?.destroy(), fin?.destroy()]);
    await Promise.allSettled(dbs.map((d) => d.drop()));
  });

  const hubCodes = async () => ((await app.hub.knex('crm_customer').where({ _deleted: false }).whereNotNull('code').orderBy('code').pluck('code')) as string[]);

  it('text the target column cannot encode (emoji into GBK) and a number over its precision: parked with the reason, the rest applied, the value kept in the hub', async (t) => {
    if (!ready) return t.skip();
    await erp('edge_customer').insert([
      { cust_code: 'G1', cust_name: '上海锦江贸易有限公司', credit_limit: '100.00', updated_at: stamp() },
      { cust_code: 'U1', cust_name: 'Smile 😀 Trading', credit_limit: '5.00', updated_at: stamp() },
      { cust_code: 'P1', cust_name: 'Precise Ltd', credit_limit: '123456789.00', updated_at: stamp() },
    ]);
    const r = await runJob(app, 'edge');
    expect(r.status, JSON.stringify(r.error)).toBe('partial');
    const parked = (await listParked(app)).filter((p) => p.source === 'finance' && p.direction === 'push');
    const u1 = parked.find((p) => /U1/.test(p.message));
    expect(u1?.message).toMatch(/fin_edge row "?U1"? rejected: column name cannot hold "😀[^"]*" \(bytes \\xF0\\x9F\\x98\\x80.*outside the column's character set/);
    const p1 = parked.find((p) => /P1/.test(p.message));
    expect(p1?.message).toMatch(/fin_edge row "?P1"? rejected: column credit_limit cannot hold "?123456789(\.00)?"?: over its length or precision \(Out of range value for column 'credit_limit'/);
    expect(parked).toHaveLength(2);
    expect(await fin('fin_edge').pluck('acct_no')).toEqual(['G1']);
    expect(await fin('fin_edge').where({ acct_no: 'G1' }).first('name')).toEqual({ name: '上海锦江贸易有限公司' });
    // Nothing lost: the hub has both, exactly as the ERP holds them.
    expect(await app.hub.knex('crm_customer').where({ code: 'U1' }).first('name')).toEqual({ name: 'Smile 😀 Trading' });
    expect(await hubCodes()).toEqual(['G1', 'P1', 'U1']);
  });

  it('a column dropped while the job runs: the run stops naming source, table and column; the pages before are kept, and it resumes once the column is back', async (t) => {
    if (!ready) return t.skip();
    await erp('edge_customer').insert(['D1', 'D2', 'D3'].map((code) => ({ cust_code: code, cust_name: `Dropped ${code}`, phone: `0-${code}`, updated_at: stamp() })));
    let dropped = false;
    const r = await runJob(app, 'edge', {
      faults: {
        at: async (point, info) => {
          // The first page that carries a change (the look-back window's re-reads come first).
          if (point === 'after-read' && info.source === 'erp' && info.rows > 0 && !dropped) {
            dropped = true;
            await erp.schema.alterTable('edge_customer', (tb) => tb.dropColumn('phone'));
          }
        },
      },
    });
    expect(r.status).toBe('failed');
    expect(r.error?.code).toBe('SCHEMA_CHANGED');
    expect(r.error?.message).toMatch(/source "erp": edge_customer has no column phone \(dropped.*restore the column in the source, or remove it from the mapping \(entities\.<entity>\.sources\.erp\.fields\)/);
    expect(await hubCodes()).toEqual(['D1', 'G1', 'P1', 'U1']);
    await erp.schema.alterTable('edge_customer', (tb) => tb.string('phone', 30));
    const again = await runJob(app, 'edge');
    expect(again.status).toBe('ok'); // U1 and P1 stay parked, not re-reported
    expect(await hubCodes()).toEqual(['D1', 'D2', 'D3', 'G1', 'P1', 'U1']);
    expect(await fin('fin_edge').orderBy('acct_no').pluck('acct_no')).toEqual(['D1', 'D2', 'D3', 'G1']);
  });

  it('the crmlink host clock jumping back: capture positions follow the source, no row is skipped or read twice', async (t) => {
    if (!ready) return t.skip();
    let host = Date.parse('2031-06-01T12:00:00Z');
    const at = () => new Date(host);
    await erp('edge_customer').insert({ cust_code: 'K1', cust_name: 'Before the jump', updated_at: stamp() });
    expect((await runJob(app, 'edge', { clock: at })).totals.parked).toBe(0);
    host -= 6 * 3600_000; // six hours back
    await erp('edge_customer').insert({ cust_code: 'K2', cust_name: 'After the jump', updated_at: stamp() });
    const r = await runJob(app, 'edge', { clock: at });
    expect(r.sources.erp.hubInserted).toBe(1);
    host -= 24 * 3600_000; // a day further back
    await erp('edge_customer').where({ cust_code: 'K1' }).update({ cust_name: 'Edited after the second jump', updated_at: stamp() });
    const r2 = await runJob(app, 'edge', { clock: at });
    expect(r2.sources.erp.hubUpdated).toBe(1);
    expect(await fin('fin_edge').where({ acct_no: 'K1' }).first('name')).toEqual({ name: 'Edited after the second jump' });
    expect(await fin('fin_edge').whereIn('acct_no', ['K1', 'K2']).count({ n: '*' })).toEqual([{ n: 2 }]);
    expect((await runJob(app, 'edge', { clock: at })).totals.written).toBe(0);
  });

  it("a source table whose key changes type (integer → varchar): the pull stops before reading, naming source, table, column and both types; accepting it loses and duplicates nothing", async (t) => {
    if (!ready) return t.skip();
    await erp('pk_customer').insert([1, 2, 3].map((id) => ({ id, name: `Legacy ${id}`, updated_at: stamp() })));
    expect((await runJob(app, 'pk')).status).toBe('ok');
    const links = async () => ((await app.hub.knex('crm_xref').where({ source: 'legacy' }).orderBy('source_key').pluck('source_key')) as string[]);
    expect(await links()).toEqual(['1', '2', '3']);
    await erp.raw('ALTER TABLE pk_customer ALTER COLUMN id TYPE varchar(20) USING id::text');
    await erp('pk_customer').insert({ id: '4', name: 'Legacy 4', updated_at: stamp() });
    const r = await runJob(app, 'pk');
    expect(r.status).toBe('failed');
    expect(r.error?.code).toBe('SCHEMA_CHANGED');
    expect(r.error?.message).toMatch(/source "legacy": the key column pk_customer\.id changed type from integer to character varying since the last run of job pk\. Nothing was read/);
    expect(await links()).toEqual(['1', '2', '3']);
    const accepted = await runJob(app, 'pk', { acceptKeyChange: ['legacy'] });
    expect(accepted.status).toBe('ok');
    expect(accepted.sources.legacy.hubInserted).toBe(1);
    expect(await links()).toEqual(['1', '2', '3', '4']);
    expect(await app.hub.knex('crm_xref').where({ source: 'legacy' }).countDistinct({ n: 'gid' })).toEqual([{ n: 4 }]);
    expect((await runJob(app, 'pk')).status).toBe('ok');
  });
});
