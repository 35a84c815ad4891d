/**
 * Trigger capture for PostgreSQL: one plpgsql function and one row trigger per table. The function
 * reads `crmlink.origin`, set with set_config(..., true) inside crmlink's write transactions, so
 * crmlink's own writes are logged with origin 'crmlink' and skipped on read (no echo).
 */
import type { Knex } from 'knex';
import type { TableRef } from '../../driver.js';
import { CHANGELOG_TABLE, qualified, type ChangelogDdl } from '../../dialect-adapter.js';
import { captureObjectName, changelogIn, inlineSql } from '../shared.js';

/** The channel the capture triggers NOTIFY with the table's name (connectors/capture/listen.ts listens). */
export const CHANGE_CHANNEL = 'crmlink_changes';

export function postgresChangelog(knex: Knex): ChangelogDdl {
  const sql = inlineSql(knex);
  return {
    createLog: (schema?: string) => [
      sql(
        `create table if not exists ?? (id bigserial primary key, table_name text not null, key_json text not null, op char(1) not null, changed_at timestamptz not null default now(), origin text)`,
        [changelogIn(schema)],
      ),
      sql('create index if not exists ?? on ?? (table_name, id)', [`${CHANGELOG_TABLE}_table_id`, changelogIn(schema)]),
    ],
    createTriggers(table: TableRef, key: string[]): string[] {
      const fn = qualified({ table: captureObjectName(table, 'fn'), schema: table.schema });
      const keyOf = (alias: 'NEW' | 'OLD') => `json_build_array(${key.map(() => `${alias}.??`).join(', ')})::text`;
      const insert = (alias: 'NEW' | 'OLD', op: string) =>
        `insert into ?? (table_name, key_json, op, origin) values (TG_ARGV[0], ${keyOf(alias)}, ${op}, nullif(current_setting('crmlink.origin', true), ''));`;
      return [
        sql(
          // NOTIFY (delivered at commit, once per transaction and table) wakes a listening crmlink
          // for a pull within a second; crmlink's own writes do not wake it.
          `create or replace function ??() returns trigger language plpgsql as $crmlink$
begin
  if coalesce(current_setting('crmlink.origin', true), '') <> 'crmlink' then
    perform pg_notify('${CHANGE_CHANNEL}', TG_ARGV[0]);
  end if;
  if TG_OP = 'DELETE' then
    ${insert('OLD', `'D'`)}
    return OLD;
  end if;
  ${insert('NEW', `substr(TG_OP, 1, 1)`)}
  return NEW;
end
$crmlink$`,
          [fn, changelogIn(table.schema), ...key, changelogIn(table.schema), ...key],
        ),
        sql('drop trigger if exists ?? on ??', [captureObjectName(table, 'tr'), qualified(table)]),
        sql(`create trigger ?? after insert or update or delete on ?? for each row execute function ??(?)`, [
          captureObjectName(table, 'tr'),
          qualified(table),
          fn,
          table.table,
        ]),
      ];
    },
    dropTriggers(table: TableRef): string[] {
      return [
        sql('drop trigger if exists ?? on ??', [captureObjectName(table, 'tr'), qualified(table)]),
        sql('drop function if exists ??()', [qualified({ table: captureObjectName(table, 'fn'), schema: table.schema })]),
      ];
    },
  };
}
