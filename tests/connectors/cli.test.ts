/**
 * `crmlink sources ...` and `crmlink mapping scaffold` against a real SQLite file, plus the
 * registry's preset merge. Commands are registered on a bare commander program, as cli/main.ts does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Command } from 'commander';
import { parse } from 'yaml';
import { loadConfigFile, parseConfig } from '../../config/load.js';
import { register as registerSources } from '../../cli/commands/sources.js';
import { register as registerMapping } from '../../cli/commands/mapping.js';
import { normaliseColumn } from '../../cli/mapping-scaffold.js';
import { ExitCode } from '../../cli/exit-codes.js';
import { SourceSet, effectiveEntities } from '../../connectors/registry.js';
import { presetMappings, presetNames } from '../../connectors/presets/index.js';
import { entitySourceSchema } from '../../config/schema.js';
import { createDriver } from '../../connectors/registry.js';
import { weaverFormTable, weaverFormTables } from '../../connectors/presets/weaver-ecology/form-tables.js';

let dir: string;
let configFile: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'crmlink-cli-'));
  // u8 is read by the read-only commands; capture installs its triggers and changelog into a copy
  // of its own, so the commands see the same tables whatever order they run in.
  for (const file of ['u8.db', 'u8-capture.db']) {
    const db = new Database(join(dir, file));
    db.exec(`create table Customer (cCusCode varchar(20) primary key, cCusName nvarchar(98) not null, cCusAbbName varchar(60), cCusPhone varchar(100),
               cCusEmail varchar(100), iCusCreLine decimal(18,2), cCusAddress varchar(255), cMemo text, dModifyDate datetime, deleted integer default 0)`);
    db.exec(`create table Notes (a text, b text)`);
    db.close();
  }
  configFile = join(dir, 'crmlink.yaml');
  writeFileSync(
    configFile,
    `sources:
  u8:
    kind: erp
    dialect: sqlite
    connection: { filename: u8.db }
  u8capture:
    kind: erp
    dialect: sqlite
    connection: { filename: u8-capture.db }
  broken:
    kind: finance
    dialect: sqlite
    connection: { filename: missing.db }
entities:
  Customer:
    sources:
      u8:
        table: Customer
        key: [cCusCode]
        changes: { strategy: trigger }
        fields: { code: cCusCode, name: cCusName }
      u8capture:
        table: Customer
        key: [cCusCode]
        changes: { strategy: trigger }
        fields: { code: cCusCode, name: cCusName }
`,
  );
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const program = new Command('crmlink').exitOverride();
  const ctx = { loadConfig: async (o: { config?: string }) => loadConfigFile(o.config ?? configFile), out: (t: string) => out.push(t), err: (t: string) => err.push(t) };
  registerSources(program, ctx);
  registerMapping(program, ctx);
  for (const c of program.commands.flatMap((c) => [c, ...c.commands])) c.exitOverride().configureOutput({ writeErr: (t) => err.push(t), writeOut: (t) => out.push(t) });
  let code = 0;
  try {
    await program.parseAsync(['node', 'crmlink', ...args, '--config', configFile]);
  } catch (e) {
    if (e instanceof ExitCode) code = e.code;
    else if (e instanceof Error && 'exitCode' in e) code = 2;
    else throw e;
  }
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('crmlink sources', () => {
  it('test: reports each source; exit 1 when one fails, naming the setting', async () => {
    const all = await run('sources', 'test');
    expect(all.code).toBe(1);
    expect(all.out).toMatch(/^ok {4}u8 {2}sqlite {2}3\.\d+/m);
    expect(all.out).toMatch(/^FAIL {2}broken .*SOURCE_DATABASE_UNKNOWN.*sources\.broken\.connection\.filename/m);
    const one = await run('sources', 'test', 'u8');
    expect(one.code).toBe(0);
    const json = await run('sources', 'test', 'broken', '--json');
    expect(JSON.parse(json.out)[0]).toMatchObject({ name: 'broken', ok: false, error: { code: 'SOURCE_DATABASE_UNKNOWN' } });
    const unknown = await run('sources', 'test', 'nope');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('unknown source "nope"');
  });

  it('introspect: prints tables and columns, or JSON', async () => {
    const text = await run('sources', 'introspect', 'u8', '--table', 'Customer');
    expect(text.code).toBe(0);
    expect(text.out).toContain('Customer');
    expect(text.out).toMatch(/cCusCode\s+varchar\(20\)\s+PK, not null/);
    expect(text.out).toMatch(/iCusCreLine\s+decimal\(18,2\)\s+null/);
    const json = await run('sources', 'introspect', 'u8', '--json');
    expect(JSON.parse(json.out).map((t: { name: string }) => t.name)).toEqual(['Customer', 'Notes']);
    expect((await run('sources', 'introspect', 'u8', '--table', 'Nope')).code).toBe(2); // an unknown table is a usage error
  });

  it('install-capture: prints DDL on --dry-run, installs the triggers, and uninstalls them', async () => {
    const dry = await run('sources', 'install-capture', 'u8capture', '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.out).toContain('create table if not exists `crmlink_changelog`');
    const db = new Database(join(dir, 'u8-capture.db'));
    const triggers = () => (db.prepare(`select name from sqlite_master where type = 'trigger'`).all() as { name: string }[]).map((t) => t.name);
    expect(triggers()).toEqual([]);
    const ok = await run('sources', 'install-capture', 'u8capture');
    expect(ok.out).toContain('installed trigger capture for Customer on u8capture.Customer');
    expect(triggers()).toHaveLength(3);
    db.prepare(`insert into Customer (cCusCode, cCusName) values ('C1', '甲')`).run();
    expect(db.prepare('select table_name, key_json, op from crmlink_changelog').all()).toEqual([{ table_name: 'Customer', key_json: '["C1"]', op: 'I' }]);
    await run('sources', 'install-capture', 'u8capture', '--uninstall');
    expect(triggers()).toEqual([]);
    db.close();
  });
});

describe('crmlink mapping scaffold', () => {
  it('guesses fields from U8-style column names, the key, and a timestamp strategy', async () => {
    const r = await run('mapping', 'scaffold', 'u8', '--table', 'Customer', '--entity', 'Customer');
    expect(r.code).toBe(0);
    const doc = parse(r.out) as { entities: { Customer: { sources: { u8: unknown } } } };
    const m = entitySourceSchema.parse(doc.entities.Customer.sources.u8);
    expect(m.key).toEqual(['cCusCode']);
    expect(m.changes).toEqual({ strategy: 'timestamp', column: 'dModifyDate', lookBackSeconds: 300 });
    expect(m.fields).toEqual({
      code: 'cCusCode',
      name: 'cCusName',
      shortName: 'cCusAbbName',
      phone: 'cCusPhone',
      email: 'cCusEmail',
      creditLimit: { column: 'iCusCreLine', scale: 2 },
      address: 'cCusAddress',
      updatedAt: 'dModifyDate',
    });
    expect(r.out).toContain('# Columns not mapped: cMemo, deleted');
    const hash = await run('mapping', 'scaffold', 'u8', '--table', 'Notes', '--entity', 'Activity');
    expect(hash.out).toContain('strategy: hash');
    expect(hash.out).toContain('TODO: the table has no primary or unique key');
    expect((await run('mapping', 'scaffold', 'u8', '--table', 'Customer', '--entity', 'Nope')).code).toBe(2);
  });

  it('normalises Hungarian, Kingdee and snake_case names', () => {
    expect(normaliseColumn('cCusCode')).toBe('cuscode');
    expect(normaliseColumn('iCusCreLine')).toBe('cuscreline');
    expect(normaliseColumn('FNUMBER')).toBe('number');
    expect(normaliseColumn('company_name')).toBe('companyname');
  });
});

describe('presets and the source set', () => {
  it('ships the four presets, each valid against the config schema', () => {
    expect(presetNames()).toEqual(['kingdee-k3cloud', 'northwind', 'weaver-ecology', 'yonyou-u8']);
    expect(presetMappings('yonyou-u8').Customer).toMatchObject({ table: 'Customer', key: ['cCusCode'], changes: { strategy: 'hash' } });
    expect(presetMappings('kingdee-k3cloud', { organization: 100001 }).Customer.table).toBe('V_CRMLINK_CUSTOMER');
    expect(presetMappings('weaver-ecology').ApprovalRequest.table).toBe('workflow_requestbase');
    expect(() => presetMappings('sap')).toThrow(/unknown preset "sap"/);
  });

  it('finds e-cology form tables at run time', async () => {
    const file = join(dir, 'oa.db');
    const db = new Database(file);
    db.exec(`create table workflow_base (id integer primary key, workflowname text, formid integer, isbill char(1));
             insert into workflow_base values (7, '客户信用审批', -12, '1'), (8, '合同审批', -3, '1');
             create table workflow_bill (id integer primary key, tablename text);
             insert into workflow_bill values (-12, 'formtable_main_12'), (-3, 'formtable_main_3');
             create table formtable_main_12 (id integer primary key, requestid integer, amount text);
             create table formtable_main_3 (id integer primary key, requestid integer);
             create table formtable_main_12_dt1 (id integer primary key)`);
    db.close();
    const driver = createDriver('oa', { kind: 'oa', dialect: 'sqlite', connection: { filename: file }, timezone: 'Asia/Shanghai', readOnly: true });
    try {
      expect(await weaverFormTable(driver, 7)).toBe('formtable_main_12');
      expect(await weaverFormTable(driver, 99)).toBeNull();
      expect(await weaverFormTables(driver)).toEqual(['formtable_main_3', 'formtable_main_12']);
    } finally {
      await driver.destroy();
    }
  });

  it("merges a source's preset into entities, the config's own mapping winning", () => {
    const loaded = parseConfig(
      `sources:
  erp: { kind: erp, dialect: sqlite, preset: yonyou-u8, connection: { filename: ${join(dir, 'u8.db')} } }
  oa: { kind: oa, dialect: sqlite, preset: weaver-ecology, readOnly: true, connection: { filename: ${join(dir, 'u8.db')} } }
entities:
  Customer:
    sources:
      erp: { table: V_Customer, key: [cCusCode], fields: { code: cCusCode } }
`,
    );
    const merged = effectiveEntities(loaded.config);
    expect(merged.Customer.erp.table).toBe('V_Customer');
    expect(merged.Product.erp.table).toBe('Inventory');
    expect(merged.ApprovalRequest.oa.table).toBe('workflow_requestbase');
    const set = SourceSet.open(loaded);
    expect(set.names()).toEqual(['erp', 'oa']);
    expect(set.mappingsFor('Product').map((m) => m.source)).toEqual(['erp']);
    expect(set.mapping('ApprovalRequest', 'oa').canWrite('update')).toBe(false);
    expect(() => set.mapping('Invoice', 'oa')).toThrow(/no mapping for Invoice in source "oa"/);
    expect(() => SourceSet.open(loaded, { only: ['x'] })).toThrow(/unknown source "x"/);
    expect(SourceSet.open(loaded, { only: ['oa'] }).mappingsFor('Product')).toEqual([]);
  });
});
