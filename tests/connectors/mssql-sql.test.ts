/**
 * SQL Server without a server: the statements the mssql driver sends, as knex compiles them for
 * the `mssql` client (toSQL().toNative()). With MSSQL_URL set, the contract suite also runs them.
 */
import { afterAll, describe, expect, it } from 'vitest';
import knexFactory from 'knex';
import { TYPES } from 'tedious';
import { KnexDriver, chunkRowCount } from '../../connectors/knex-driver.js';
import {
  MSSQL_CAPABILITIES,
  MssqlAdapter,
  VarCharParam,
  identityInsertQuery,
  mapBinding,
  mergeStatement,
  sessionContextStatement,
  updateJoinStatement,
} from '../../connectors/dialects/mssql/mssql-dialect.js';
import { changeTableQuery, changeTrackingVersionQuery, rowversionQuery } from '../../connectors/dialects/mssql/mssql-capture.js';
import { introspectMssqlQueries } from '../../connectors/dialects/mssql/mssql-introspector.js';
import type { ColumnInfo } from '../../connectors/driver.js';
import type { SourceConfig } from '../../config/schema.js';

const knex = knexFactory({ client: 'mssql' });
const adapter = new MssqlAdapter();
const source: SourceConfig = {
  kind: 'erp',
  dialect: 'mssql',
  connection: { host: 'erp.example', port: 1433, database: 'UFDATA_001_2024', user: 'crm', password: 'secret', schema: 'dbo' },
  timezone: 'Asia/Shanghai',
  readOnly: false,
};
const driver = new KnexDriver('u8', source, adapter);

afterAll(async () => {
  await driver.destroy();
  await knex.destroy();
});

const col = (name: string, type: string): ColumnInfo => ({
  name,
  type,
  nullable: true,
  maxLength: 20,
  precision: null,
  scale: null,
  autoIncrement: false,
  defaultValue: null,
  comment: null,
});
const types = new Map([
  ['cCusCode', col('cCusCode', 'varchar')],
  ['cCusName', col('cCusName', 'nvarchar')],
  ['dModifyDate', col('dModifyDate', 'datetime')],
]);

describe('mssql connection config', () => {
  it('uses tedious with encrypt on by default, useUTC, and the VarChar binding hook', () => {
    const cfg = adapter.knexConfig(source, { name: 'u8' });
    expect(cfg.client).toBe('mssql');
    const conn = cfg.connection as { server: string; port: number; database: string; options: Record<string, unknown> };
    expect(conn).toMatchObject({ server: 'erp.example', port: 1433, database: 'UFDATA_001_2024' });
    expect(conn.options).toMatchObject({ encrypt: true, trustServerCertificate: false, useUTC: true });
    expect(conn.options.mapBinding).toBe(mapBinding);
    const url = adapter.knexConfig({ ...source, connection: { url: 'mssql://sa:p%40ss@db.local:14330/Northwind', trustServerCertificate: true } }, { name: 'x' });
    expect(url.connection).toMatchObject({ server: 'db.local', port: 14330, database: 'Northwind', user: 'sa', password: 'p@ss', options: { trustServerCertificate: true } });
  });

  it('binds strings for varchar columns as VarChar and others as NVarChar', () => {
    const v = adapter.bindValue('C001', types.get('cCusCode'));
    expect(v).toBeInstanceOf(VarCharParam);
    expect(mapBinding(v)).toEqual({ value: 'C001', type: TYPES.VarChar });
    expect(adapter.bindValue('北京', types.get('cCusName'))).toBe('北京');
    expect(mapBinding('北京')).toBeUndefined(); // knex's default: NVarChar
    expect(adapter.bindValue(5, types.get('cCusCode'))).toBe(5);
  });

  it('reads zone-less datetimes back as the wall clock the server holds', () => {
    expect(adapter.readValue(new Date('2024-03-01T08:30:00.000Z'), types.get('dModifyDate'))).toBe('2024-03-01 08:30:00.000');
    expect(adapter.readValue(new Date('2024-03-01T00:00:00.000Z'), col('d', 'date'))).toBe('2024-03-01');
    const instant = new Date('2024-03-01T08:30:00.000Z');
    expect(adapter.readValue(instant, col('d', 'datetimeoffset'))).toBe(instant);
  });

  it('classifies tedious errors by how to react', () => {
    expect(adapter.classifyError({ code: 'ELOGIN', number: 18456, message: "Login failed for user 'crm'." })).toBe('auth');
    expect(adapter.classifyError({ code: 'ELOGIN', number: 4060, message: 'Cannot open database "X" requested by the login.' })).toBe('database-unknown');
    expect(adapter.classifyError({ code: 'ESOCKET', message: 'Failed to connect to erp:1433 - connect ECONNREFUSED' })).toBe('unreachable');
    expect(adapter.classifyError({ code: 'ETIMEOUT', message: 'Timeout: Request failed to complete in 15000ms' })).toBe('transient');
    expect(adapter.classifyError({ number: 1205, message: 'deadlock victim' })).toBe('transient');
    expect(adapter.classifyError({ number: 2627, message: 'Violation of PRIMARY KEY constraint' })).toBe('constraint');
  });
});

describe('mssql statements', () => {
  it('select / keyset page: TOP, bracket quoting of legacy names, expanded keyset form, typed parameters', () => {
    const q = driver
      .selectQuery(
        {
          table: '客户 Order',
          columns: ['cCusCode', 'cCusName', 'select'],
          where: { and: [{ column: 'cCusName', op: 'contains', value: '50%_[x]' }, { column: 'cCusCode', op: 'in', value: ['A', 'B'] }] },
          orderBy: [
            { column: 'cCusCode', direction: 'asc' },
            { column: 'select', direction: 'desc' },
          ],
          after: ['C001', 7],
          limit: 500,
        },
        types,
      )
      .toSQL()
      .toNative();
    expect(q.sql).toBe(
      // SQL Server sorts NULLs first: descending [select] has them last, after every value.
      'select top (@p0) [cCusCode], [cCusName], [select] from [dbo].[客户 Order] where ((lower([cCusName]) like lower(@p1) escape \'!\') and ([cCusCode] in (@p2, @p3))) and (([cCusCode] > @p4) or ([cCusCode] = @p5 and ([select] < @p6 or [select] is null))) order by [cCusCode] asc, [select] desc',
    );
    expect(q.bindings[0]).toBe(500);
    expect(q.bindings[1]).toBe('%50!%!_![x]%');
    expect(q.bindings[2]).toBeInstanceOf(VarCharParam);
    expect(q.bindings[4]).toBeInstanceOf(VarCharParam);
    expect((q.bindings[4] as unknown as VarCharParam).value).toBe('C001');
    expect(q.bindings[6]).toBe(7);
  });

  it('keyset `after` is NULL-aware (SQL Server sorts NULLs first); key columns keep the plain form', () => {
    const order = [
      { column: 'cCusName', direction: 'asc' as const },
      { column: 'cCusCode', direction: 'asc' as const },
    ];
    const sql = (after: unknown[], keysetNotNull?: boolean) =>
      driver.selectQuery({ table: 'Customer', columns: ['cCusCode'], orderBy: order, after, keysetNotNull, limit: 10 }, types).toSQL().toNative();
    // After a NULL name: the other NULL names with a greater code, then every non-NULL name.
    const afterNull = sql([null, 'C5']);
    expect(afterNull.sql).toBe(
      'select top (@p0) [cCusCode] from [dbo].[Customer] where (([cCusName] is not null) or ([cCusName] is null and [cCusCode] > @p1)) order by [cCusName] asc, [cCusCode] asc',
    );
    expect((afterNull.bindings[1] as unknown as VarCharParam).value).toBe('C5');
    // After a value: NULLs (first) are behind, so no IS NULL branch for ascending columns.
    expect(sql(['甲', 'C5']).sql).toBe(
      'select top (@p0) [cCusCode] from [dbo].[Customer] where (([cCusName] > @p1) or ([cCusName] = @p2 and [cCusCode] > @p3)) order by [cCusName] asc, [cCusCode] asc',
    );
    expect(sql(['甲', 'C5'], true).sql).toBe(
      'select top (@p0) [cCusCode] from [dbo].[Customer] where (([cCusName] > @p1) or ([cCusName] = @p2 and [cCusCode] > @p3)) order by [cCusName] asc, [cCusCode] asc',
    );
    // Descending with NULLs at the end: after the last NULL nothing follows in that column.
    const desc = driver
      .selectQuery({ table: 'Customer', columns: ['cCusCode'], orderBy: [{ column: 'cCusName', direction: 'desc' }], after: [null], limit: 10 }, types)
      .toSQL().sql;
    expect(desc).toBe('select top (?) [cCusCode] from [dbo].[Customer] where (1 = 0) order by [cCusName] desc');
  });

  it('MERGE upsert batch with HOLDLOCK, VALUES source, update of non-key columns', () => {
    const q = mergeStatement(knex, {
      table: { table: 'Customer', schema: 'dbo' },
      rows: [
        { cCusCode: new VarCharParam('C1'), cCusName: '甲' },
        { cCusCode: new VarCharParam('C2'), cCusName: '乙' },
      ],
      columns: ['cCusCode', 'cCusName'],
      key: ['cCusCode'],
      update: ['cCusName'],
      explicitIdentity: false,
    })
      .toSQL()
      .toNative();
    expect(q.sql).toBe(
      'MERGE INTO [dbo].[Customer] WITH (HOLDLOCK) AS [t] USING (VALUES (@p0, @p1), (@p2, @p3)) AS [s] ([cCusCode], [cCusName]) ON [t].[cCusCode] = [s].[cCusCode] WHEN MATCHED THEN UPDATE SET [t].[cCusName] = [s].[cCusName] WHEN NOT MATCHED THEN INSERT ([cCusCode], [cCusName]) VALUES ([s].[cCusCode], [s].[cCusName]);',
    );
    expect(q.bindings).toHaveLength(4);
    expect(q.bindings[1]).toBe('甲');
  });

  it("mode 'update' writes existing rows with one UPDATE ... FROM ... JOIN (VALUES ...) per chunk: only the given columns, no INSERT", () => {
    const stmts = adapter.update(knex, {
      table: { table: 'SO_SODetails', schema: 'dbo' },
      rows: [
        { cSOCode: new VarCharParam('SO1'), iRowNo: 1, iQuantity: 5, cMemo: '加急' },
        { cSOCode: new VarCharParam('SO1'), iRowNo: 2, iQuantity: 7, cMemo: null },
      ],
      key: ['cSOCode', 'iRowNo'],
      set: ['iQuantity', 'cMemo'],
    });
    expect(stmts).toHaveLength(1);
    const q = stmts[0].toSQL().toNative();
    expect(q.sql).toBe(
      'UPDATE [t] SET [t].[iQuantity] = [s].[iQuantity], [t].[cMemo] = [s].[cMemo] FROM [dbo].[SO_SODetails] AS [t] INNER JOIN (VALUES (@p0, @p1, @p2, @p3), (@p4, @p5, @p6, @p7)) AS [s] ([cSOCode], [iRowNo], [iQuantity], [cMemo]) ON [t].[cSOCode] = [s].[cSOCode] AND [t].[iRowNo] = [s].[iRowNo];',
    );
    expect(q.sql).not.toMatch(/INSERT|MERGE/i);
    expect(q.bindings).toHaveLength(8);
    expect(q.bindings[0]).toBeInstanceOf(VarCharParam);
    expect(q.bindings.slice(1, 4)).toEqual([1, 5, '加急']);
    expect(q.bindings[7]).toBeNull();
    expect(updateJoinStatement(knex, { table: { table: 'Customer' }, rows: [{ cCusCode: 'C1', cCusName: '甲' }], key: ['cCusCode'], set: ['cCusName'] }).toSQL().sql).toBe(
      'UPDATE [t] SET [t].[cCusName] = [s].[cCusName] FROM [Customer] AS [t] INNER JOIN (VALUES (?, ?)) AS [s] ([cCusCode], [cCusName]) ON [t].[cCusCode] = [s].[cCusCode];',
    );
  });

  it('MERGE with explicit identity keys switches IDENTITY_INSERT on for the batch only', () => {
    const q = mergeStatement(knex, {
      table: { table: 'tickets' },
      rows: [{ id: 5, title: 'x' }],
      columns: ['id', 'title'],
      key: ['id'],
      update: ['title'],
      explicitIdentity: true,
    }).toSQL().sql;
    expect(q).toMatch(/^SET IDENTITY_INSERT \[tickets\] ON; MERGE INTO \[tickets\] WITH \(HOLDLOCK\)/);
    expect(q).toMatch(/; SET IDENTITY_INSERT \[tickets\] OFF;$/);
  });

  it('chunks a batch so a MERGE stays under 2100 parameters', () => {
    const width = 7;
    const rows = chunkRowCount(MSSQL_CAPABILITIES.maxParameters, adapter.maxRowsPerStatement, width);
    expect(rows).toBe(297);
    const columns = Array.from({ length: width }, (_, i) => `c${i}`);
    const batch = Array.from({ length: rows }, (_, r) => Object.fromEntries(columns.map((c, i) => [c, r * 10 + i])));
    const q = mergeStatement(knex, { table: { table: 't' }, rows: batch, columns, key: ['c0'], update: columns.slice(1), explicitIdentity: false })
      .toSQL()
      .toNative();
    expect(q.bindings.length).toBe(rows * width);
    expect(q.bindings.length).toBeLessThan(2100);
    expect(chunkRowCount(2100, 1000, 1)).toBe(1000);
    expect(chunkRowCount(2100, 1000, 3000)).toBe(1);
  });

  it('identity insert returns generated keys through OUTPUT into a table variable (works with triggers)', () => {
    const q = identityInsertQuery(knex, { table: 'tickets', schema: 'dbo' }, [{ title: 'a' }], ['id']).toSQL().sql;
    expect(q).toContain('output inserted.[id] into #out');
    expect(q).toContain('insert into [dbo].[tickets] ([title])');
  });

  it('tags the session as crmlink and clears the tag', () => {
    const set = sessionContextStatement(knex, 'crmlink').toSQL().toNative();
    expect(set.sql).toBe("EXEC sp_set_session_context @key = N'crmlink.origin', @value = @p0");
    expect(set.bindings).toEqual(['crmlink']);
    expect(adapter.clearOriginStatements(knex)[0].toSQL().toNative().bindings).toEqual([null]);
  });

  it('rowversion changes are bounded by MIN_ACTIVE_ROWVERSION()', () => {
    const q = rowversionQuery(knex, { table: 'Customer', schema: 'dbo', columns: ['cCusCode', 'cCusName'], column: 'rv', after: '0x00000000000007D1', limit: 1001 })
      .toSQL()
      .toNative();
    expect(q.sql).toBe(
      'select top (@p0) [cCusCode], [cCusName], CONVERT(varchar(18), CAST([rv] AS binary(8)), 1) AS [crmlink_rv] from [dbo].[Customer] where [rv] < MIN_ACTIVE_ROWVERSION() and [rv] > CONVERT(binary(8), @p1, 1) order by [rv] asc',
    );
    expect(q.bindings).toEqual([1001, '0x00000000000007D1']);
  });

  it('Change Tracking: version check and CHANGETABLE joined back to current rows, keyset-paged', () => {
    const v = changeTrackingVersionQuery(knex, { table: 'Customer', schema: 'dbo' }).toSQL().toNative();
    expect(v.sql).toBe(
      'SELECT CHANGE_TRACKING_CURRENT_VERSION() AS [current_version], CHANGE_TRACKING_MIN_VALID_VERSION(OBJECT_ID(@p0)) AS [min_valid_version]',
    );
    expect(v.bindings).toEqual(['dbo.Customer']);
    const q = changeTableQuery(knex, {
      table: 'Customer',
      schema: 'dbo',
      key: ['cCusCode'],
      columns: ['cCusCode', 'cCusName'],
      since: 41,
      until: 57,
      after: [45, 'C9'],
      limit: 101,
    })
      .toSQL()
      .toNative();
    expect(q.sql).toBe(
      'select top (@p0) [ct].[SYS_CHANGE_VERSION] AS [crmlink_version], [ct].[SYS_CHANGE_OPERATION] AS [crmlink_op], [ct].[cCusCode], CASE WHEN [t].[cCusCode] IS NULL THEN 0 ELSE 1 END AS [crmlink_exists], [t].[cCusName] from CHANGETABLE(CHANGES [dbo].[Customer], @p1) AS [ct] left join [dbo].[Customer] as [t] on [t].[cCusCode] = [ct].[cCusCode] where [ct].[SYS_CHANGE_VERSION] <= @p2 and (([ct].[SYS_CHANGE_VERSION] > @p3) or ([ct].[SYS_CHANGE_VERSION] = @p4 and [ct].[cCusCode] > @p5)) order by [ct].[SYS_CHANGE_VERSION] asc, [ct].[cCusCode] asc',
    );
    expect(q.bindings).toEqual([101, 41, 57, 45, 45, 'C9']);
  });

  it('change-log DDL and the capture trigger (SESSION_CONTEXT origin, JSON key)', () => {
    const ddl = adapter.changelog(knex);
    const [create, index] = ddl.createLog('dbo');
    expect(create).toBe(
      "IF OBJECT_ID('dbo.crmlink_changelog', N'U') IS NULL CREATE TABLE [dbo].[crmlink_changelog] (id bigint IDENTITY(1,1) NOT NULL PRIMARY KEY, table_name nvarchar(256) NOT NULL, key_json nvarchar(max) NOT NULL, op char(1) NOT NULL, changed_at datetime2(3) NOT NULL DEFAULT SYSUTCDATETIME(), origin nvarchar(100) NULL)",
    );
    expect(index).toContain('CREATE INDEX [crmlink_changelog_table_id] ON [dbo].[crmlink_changelog] (table_name, id)');
    const [drop, trigger] = ddl.createTriggers({ table: 'SO_SODetails', schema: 'dbo' }, ['cSOCode', 'iRowNo']);
    expect(drop).toMatch(/^IF OBJECT_ID\('dbo\.crmlink_so_sodetails_[0-9a-f]{8}_tr', N'TR'\) IS NOT NULL DROP TRIGGER \[dbo\]\.\[crmlink_so_sodetails_[0-9a-f]{8}_tr\]$/);
    expect(trigger).toMatch(/^CREATE TRIGGER \[dbo\]\.\[crmlink_so_sodetails_[0-9a-f]{8}_tr\] ON \[dbo\]\.\[SO_SODetails\] AFTER INSERT, UPDATE, DELETE AS/);
    expect(trigger).toContain("CAST(SESSION_CONTEXT(N'crmlink.origin') AS nvarchar(100))");
    expect(trigger).toContain(
      `N'[' + N'"' + STRING_ESCAPE(CAST(i.[cSOCode] AS nvarchar(4000)), 'json') + N'"' + N',' + N'"' + STRING_ESCAPE(CAST(i.[iRowNo] AS nvarchar(4000)), 'json') + N'"' + N']'`,
    );
    expect(trigger).toContain("SELECT 'SO_SODetails',");
    expect(trigger).toContain("'D', @origin FROM deleted AS d WHERE NOT EXISTS (SELECT 1 FROM inserted)");
    expect(ddl.dropTriggers({ table: 'SO_SODetails', schema: 'dbo' })[0]).toMatch(/DROP TRIGGER \[dbo\]\.\[crmlink_so_sodetails_/);
  });

  it('introspection reads sys.* catalog views', () => {
    const q = introspectMssqlQueries(knex, { schema: 'dbo', table: 'Customer' });
    const cols = q.columns.toSQL().toNative();
    expect(cols.sql).toContain('from sys.columns c');
    expect(cols.sql).toContain("ep.name = 'MS_Description'");
    expect(cols.bindings).toEqual(['dbo', 'Customer']);
    expect(q.keys.toSQL().sql).toContain('sys.index_columns');
    expect(q.tables.toSQL().sql).toContain("o.type in ('U', 'V')");
    // Foreign keys: each column with the referenced table and column, in key order.
    const fks = q.foreignKeys.toSQL().toNative();
    expect(fks.sql).toContain('from sys.foreign_keys fk');
    expect(fks.sql).toContain('order by o.name, fk.name, fkc.constraint_column_id');
    expect(fks.bindings).toEqual(['dbo', 'Customer']);
  });

  it('declares what SQL Server can do as capabilities', () => {
    expect(driver.capabilities).toMatchObject({
      upsert: 'merge',
      maxParameters: 2100,
      returning: true,
      originTag: true,
      rowversion: true,
      changeTracking: true,
      savepoints: true,
      naiveDateTimes: true,
    });
  });
});

describe('mssql readKeys (key reconcile)', () => {
  it('selects the key column only, the filter and the keys as parameters, at most 1,000 keys a statement under the 2,100-parameter limit', () => {
    const keys = ['C001', 'C002'].map((k) => [k]);
    const q = driver.readKeysQuery({ table: 'Customer', key: ['cCusCode'], keys, where: { column: 'cCusName', op: 'ne', value: '作废' } }, types).toSQL().toNative();
    expect(q.sql).toBe('select [cCusCode] from [dbo].[Customer] where ([cCusName] <> @p0) and [cCusCode] in (@p1, @p2)');
    expect(q.bindings.map((b) => (b instanceof VarCharParam ? b.value : b))).toEqual(['作废', 'C001', 'C002']);
    expect(driver.readKeysChunk(1)).toBe(1000);
    expect(driver.readKeysChunk(2)).toBe(1000);
    expect(driver.readKeysChunk(3)).toBe(666);
  });

  it('a composite key: (a = ? and b = ?) or ..., SQL Server having no row values', () => {
    const q = driver.readKeysQuery({ table: 'SO_SODetails', key: ['cSOCode', 'iRowNo'], keys: [['SO1', 1], ['SO1', 2]] }).toSQL().toNative();
    expect(q.sql).toBe('select [cSOCode], [iRowNo] from [dbo].[SO_SODetails] where (([cSOCode] = @p0 and [iRowNo] = @p1) or ([cSOCode] = @p2 and [iRowNo] = @p3))');
  });
});
