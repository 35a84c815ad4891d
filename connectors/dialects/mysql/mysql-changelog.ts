/**
 * Trigger capture for MySQL / MariaDB: three row triggers per table writing JSON_ARRAY(key) and
 * the session's @crmlink_origin (set by crmlink's write transactions) into crmlink_changelog.
 */
import type { Knex } from 'knex';
import type { TableRef } from '../../driver.js';
import { CHANGELOG_TABLE, qualified, type ChangelogDdl } from '../../dialect-adapter.js';
import { captureObjectName, changelogIn, inlineSql } from '../shared.js';

export function mysqlChangelog(knex: Knex): ChangelogDdl {
  const sql = inlineSql(knex);
  return {
    createLog: (schema?: string) => [
      sql(
        `create table if not exists ?? (id bigint not null auto_increment primary key, table_name varchar(255) not null, key_json text not null, op char(1) not null, changed_at datetime(6) not null default current_timestamp(6), origin varchar(100) null, key ?? (table_name, id)) character set utf8mb4`,
        [changelogIn(schema), `${CHANGELOG_TABLE}_table_id`],
      ),
    ],
    createTriggers(table: TableRef, key: string[]): string[] {
      const keyOf = (alias: 'NEW' | 'OLD') => key.map(() => `${alias}.??`).join(', ');
      const one = (suffix: string, event: string, alias: 'NEW' | 'OLD', op: string) => [
        sql('drop trigger if exists ??', [qualified({ table: captureObjectName(table, suffix), schema: table.schema })]),
        sql(
          `create trigger ?? after ${event} on ?? for each row insert into ?? (table_name, key_json, op, changed_at, origin) values (?, json_array(${keyOf(alias)}), '${op}', utc_timestamp(6), @crmlink_origin)`,
          [qualified({ table: captureObjectName(table, suffix), schema: table.schema }), qualified(table), changelogIn(table.schema), table.table, ...key],
        ),
      ];
      return [...one('i', 'insert', 'NEW', 'I'), ...one('u', 'update', 'NEW', 'U'), ...one('d', 'delete', 'OLD', 'D')];
    },
    dropTriggers(table: TableRef): string[] {
      return ['i', 'u', 'd'].map((s) => sql('drop trigger if exists ??', [qualified({ table: captureObjectName(table, s), schema: table.schema })]));
    },
  };
}
