/**
 * Trigger capture for SQLite. SQLite has no session variables a trigger could read, so rows are
 * never tagged with an origin here (a declared gap: the consumer de-duplicates by row hash).
 */
import type { Knex } from 'knex';
import type { TableRef } from '../../driver.js';
import { CHANGELOG_TABLE, type ChangelogDdl } from '../../dialect-adapter.js';
import { captureObjectName, inlineSql } from '../shared.js';

export function sqliteChangelog(knex: Knex): ChangelogDdl {
  const sql = inlineSql(knex);
  return {
    createLog: () => [
      sql(
        `create table if not exists ?? (id integer primary key autoincrement, table_name text not null, key_json text not null, op text not null, changed_at text not null default (strftime('%Y-%m-%d %H:%M:%f', 'now')), origin text)`,
        [CHANGELOG_TABLE],
      ),
      sql('create index if not exists ?? on ?? (table_name, id)', [`${CHANGELOG_TABLE}_table_id`, CHANGELOG_TABLE]),
    ],
    createTriggers(table: TableRef, key: string[]): string[] {
      const keyOf = (alias: 'NEW' | 'OLD') => key.map(() => `${alias}.??`).join(', ');
      const one = (suffix: string, event: string, alias: 'NEW' | 'OLD', op: string) =>
        sql(
          `create trigger if not exists ?? after ${event} on ?? for each row begin insert into ?? (table_name, key_json, op) values (?, json_array(${keyOf(alias)}), '${op}'); end`,
          [captureObjectName(table, suffix), table.table, CHANGELOG_TABLE, table.table, ...key],
        );
      return [one('i', 'insert', 'NEW', 'I'), one('u', 'update', 'NEW', 'U'), one('d', 'delete', 'OLD', 'D')];
    },
    dropTriggers(table: TableRef): string[] {
      return ['i', 'u', 'd'].map((s) => sql('drop trigger if exists ??', [captureObjectName(table, s)]));
    },
  };
}
