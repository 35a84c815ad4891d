/**
 * Tables private to the sync engine, created next to the hub's own (hub/migrate.ts) the first time
 * a job runs. Idempotent.
 *
 * - crm_sync_seen: keys seen so far in a full-scan (hash) snapshot that spans several pages and
 *   commits; what is in crm_base but not here once the snapshot ends was deleted at the source.
 *   Kept in the hub, not in memory, so a snapshot resumed after a crash does not mistake the
 *   pages read before the crash for deletes.
 * - crm_sync_intent: inserts into a source whose outcome is not yet recorded in the hub. Written
 *   before the insert, removed in the transaction that stores the new key; one left over after a
 *   crash is checked by reading the source back, so the insert is never made twice.
 * - crm_sync_tick: scheduled ticks already claimed, so two crmlink processes on one hub run each
 *   tick once even if the first finished before the second tried the lock.
 */
import type { Knex } from 'knex';

export const SYNC_TABLES = {
  seen: 'crm_sync_seen',
  intent: 'crm_sync_intent',
  tick: 'crm_sync_tick',
} as const;

const migrated = new WeakMap<Knex, Promise<void>>();

export function ensureSyncTables(knex: Knex): Promise<void> {
  let p = migrated.get(knex);
  if (!p) {
    p = migrate(knex);
    migrated.set(knex, p);
    p.catch(() => migrated.delete(knex));
  }
  return p;
}

async function migrate(knex: Knex): Promise<void> {
  const create = async (name: string, build: (t: Knex.CreateTableBuilder) => void) => {
    if (await knex.schema.hasTable(name)) return;
    try {
      await knex.schema.createTable(name, build);
    } catch (err) {
      // Another process created it between the check and the create.
      if (!(await knex.schema.hasTable(name))) throw err;
    }
  };
  await create(SYNC_TABLES.seen, (t) => {
    t.string('job', 64).notNullable();
    t.string('source', 64).notNullable();
    t.string('source_key', 400).notNullable();
    t.primary(['job', 'source', 'source_key']);
  });
  await create(SYNC_TABLES.intent, (t) => {
    t.increments('id');
    t.string('job', 64).notNullable();
    t.string('entity', 40).notNullable();
    t.string('source', 64).notNullable();
    t.string('gid', 40).notNullable();
    /** JSON: the canonical values being inserted. */
    t.text('values').notNullable();
    /** JSON: the row as written (column → value). */
    t.text('row').notNullable();
    t.string('created_at', 30).notNullable();
    t.index(['job', 'source']);
  });
  await create(SYNC_TABLES.tick, (t) => {
    t.string('job', 64).notNullable();
    t.string('tick', 30).notNullable();
    t.string('holder', 120).notNullable();
    t.string('claimed_at', 30).notNullable();
    t.primary(['job', 'tick']);
  });
}
