/**
 * Trigger capture for SQL Server: one AFTER INSERT, UPDATE, DELETE trigger per table writing the
 * key (a JSON array of strings) and SESSION_CONTEXT('crmlink.origin') into crmlink_changelog.
 */
import type { Knex } from 'knex';
import type { TableRef } from '../../driver.js';
import { CHANGELOG_TABLE, qualified, type ChangelogDdl } from '../../dialect-adapter.js';
import { captureObjectName, changelogIn, inlineSql } from '../shared.js';

export function mssqlChangelog(knex: Knex): ChangelogDdl {
  const sql = inlineSql(knex);
  return {
    createLog: (schema?: string) => [
      sql(
        `IF OBJECT_ID(?, N'U') IS NULL CREATE TABLE ?? (id bigint IDENTITY(1,1) NOT NULL PRIMARY KEY, table_name nvarchar(256) NOT NULL, key_json nvarchar(max) NOT NULL, op char(1) NOT NULL, changed_at datetime2(3) NOT NULL DEFAULT SYSUTCDATETIME(), origin nvarchar(100) NULL)`,
        [changelogIn(schema), changelogIn(schema)],
      ),
      sql(`IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = ? AND object_id = OBJECT_ID(?)) CREATE INDEX ?? ON ?? (table_name, id)`, [
        `${CHANGELOG_TABLE}_table_id`,
        changelogIn(schema),
        `${CHANGELOG_TABLE}_table_id`,
        changelogIn(schema),
      ]),
    ],
    createTriggers(table: TableRef, key: string[]): string[] {
      const keyJson = (alias: string) =>
        `N'[' + ${key.map(() => `N'"' + STRING_ESCAPE(CAST(${alias}.?? AS nvarchar(4000)), 'json') + N'"'`).join(` + N',' + `)} + N']'`;
      const name = qualified({ table: captureObjectName(table, 'tr'), schema: table.schema });
      return [
        sql(`IF OBJECT_ID(?, N'TR') IS NOT NULL DROP TRIGGER ??`, [name, name]),
        // CREATE TRIGGER must start its own batch: this string is sent alone.
        sql(
          `CREATE TRIGGER ?? ON ?? AFTER INSERT, UPDATE, DELETE AS
BEGIN
  SET NOCOUNT ON;
  DECLARE @origin nvarchar(100) = CAST(SESSION_CONTEXT(N'crmlink.origin') AS nvarchar(100));
  INSERT INTO ?? (table_name, key_json, op, origin)
    SELECT ?, ${keyJson('i')}, CASE WHEN EXISTS (SELECT 1 FROM deleted) THEN 'U' ELSE 'I' END, @origin FROM inserted AS i;
  INSERT INTO ?? (table_name, key_json, op, origin)
    SELECT ?, ${keyJson('d')}, 'D', @origin FROM deleted AS d WHERE NOT EXISTS (SELECT 1 FROM inserted);
END`,
          [name, qualified(table), changelogIn(table.schema), table.table, ...key, changelogIn(table.schema), table.table, ...key],
        ),
      ];
    },
    dropTriggers(table: TableRef): string[] {
      const name = qualified({ table: captureObjectName(table, 'tr'), schema: table.schema });
      return [sql(`IF OBJECT_ID(?, N'TR') IS NOT NULL DROP TRIGGER ??`, [name, name])];
    },
  };
}
