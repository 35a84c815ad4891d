/**
 * Creates and evolves the hub schema. Idempotent: run at every start; new model or custom fields
 * become new columns, nothing is dropped.
 */
import type { Knex } from 'knex';
import { ENTITY_NAMES, fieldsOf, MODEL, type EntityName, type ModelField } from '../model/entities.js';
import { ENTITY_SYSTEM_COLUMNS as C, MATCH_KEY_COLUMNS as K, MATCH_KEY_ENTITY, SYNC_TABLES, SYSTEM_TABLES as T } from './tables.js';
import { ANALYSIS_TABLE_DEFINITIONS } from './analysis.js';

/**
 * The hub's schema version, recorded in every backup's manifest. Raise it when a migration makes a
 * hub that an older crmlink cannot use; a backup from a newer version is never restored.
 */
export const HUB_SCHEMA_VERSION = 1;

export type CustomFields = Partial<Record<(typeof ENTITY_NAMES)[number], ModelField[]>>;

import type { TableDefinitions } from './tables.js';

export type { TableDefinitions };

/** The hub's system tables, each created once (nothing is dropped or changed later). */
const SYSTEM_TABLE_DEFINITIONS: TableDefinitions = {
  [T.counter]: (t) => {
    t.string('name', 64).primary();
    t.bigInteger('value').notNullable();
  },
  [T.secret]: (t) => {
    t.string('name', 64).primary();
    t.text('value').notNullable();
  },
  [T.xref]: (t) => {
    t.string('entity', 40).notNullable();
    t.string('source', 64).notNullable();
    t.string('source_key', 400).notNullable();
    t.string('gid', 40).notNullable();
    t.string('rule', 40).nullable();
    t.string('linked_at', 30).notNullable();
    t.primary(['entity', 'source', 'source_key']);
    t.index(['entity', 'gid']);
  },
  [T.base]: (t) => {
    t.string('entity', 40).notNullable();
    t.string('source', 64).notNullable();
    t.string('source_key', 400).notNullable();
    t.text('values').notNullable();
    t.string('hash', 64).notNullable();
    t.boolean('deleted').notNullable().defaultTo(false);
    t.string('changed_at', 30).nullable();
    t.string('synced_at', 30).notNullable();
    t.primary(['entity', 'source', 'source_key']);
  },
  [T.provenance]: (t) => {
    t.string('entity', 40).notNullable();
    t.string('gid', 40).notNullable();
    t.string('field', 64).notNullable();
    t.string('source', 64).notNullable();
    t.string('changed_at', 30).notNullable();
    t.primary(['entity', 'gid', 'field']);
  },
  [T.checkpoint]: (t) => {
    t.string('job', 64).notNullable();
    t.string('source', 64).notNullable();
    t.text('value').notNullable();
    t.string('updated_at', 30).notNullable();
    t.primary(['job', 'source']);
  },
  [T.conflict]: (t) => {
    t.increments('id');
    t.string('job', 64).notNullable();
    t.string('entity', 40).notNullable();
    t.string('gid', 40).notNullable();
    t.string('field', 64).notNullable();
    t.text('base').nullable();
    /** JSON: { "<side>": value } where side is "hub" or a source name */
    t.text('values').notNullable();
    t.string('rule', 80).notNullable();
    t.text('reason').notNullable();
    t.string('status', 16).notNullable().defaultTo('open');
    t.text('resolution').nullable();
    t.string('resolved_by', 120).nullable();
    t.string('created_at', 30).notNullable();
    t.string('resolved_at', 30).nullable();
    t.index(['status', 'entity']);
    t.index(['entity', 'gid']);
  },
  [T.parked]: (t) => {
    t.increments('id');
    t.string('job', 64).notNullable();
    t.string('entity', 40).notNullable();
    t.string('source', 64).notNullable();
    t.string('source_key', 400).nullable();
    t.string('gid', 40).nullable();
    t.string('direction', 8).notNullable();
    t.string('code', 40).notNullable();
    t.text('message').notNullable();
    t.text('payload').nullable();
    t.integer('attempts').notNullable().defaultTo(1);
    t.string('status', 16).notNullable().defaultTo('parked');
    t.string('created_at', 30).notNullable();
    t.string('updated_at', 30).notNullable();
    t.index(['status', 'job']);
  },
  [T.run]: (t) => {
    t.increments('id');
    t.string('job', 64).notNullable();
    t.string('status', 16).notNullable();
    t.boolean('dry_run').notNullable().defaultTo(false);
    t.string('started_at', 30).notNullable();
    t.string('ended_at', 30).nullable();
    t.text('stats').nullable();
    t.text('error').nullable();
    t.index(['job', 'id']);
  },
  [T.audit]: (t) => {
    t.increments('id');
    t.string('at', 30).notNullable();
    t.string('actor', 120).notNullable();
    t.string('action', 40).notNullable();
    t.string('entity', 40).notNullable();
    t.string('gid', 40).nullable();
    t.text('before').nullable();
    t.text('after').nullable();
    t.index(['entity', 'gid']);
  },
  [T.history]: (t) => {
    t.increments('id');
    t.string('entity', 40).notNullable();
    t.string('gid', 40).notNullable();
    t.integer('version').notNullable();
    t.string('at', 30).notNullable();
    t.string('actor', 120).notNullable();
    t.string('action', 40).notNullable();
    t.integer('run_id').nullable();
    t.string('source', 64).nullable();
    /** JSON: field → value before this version, for the fields it changed */
    t.text('before').notNullable();
    /** JSON: field → value after this version, for the fields it changed */
    t.text('after').notNullable();
    t.boolean('deleted').notNullable();
    t.string('merged_into', 40).nullable();
    t.boolean('deleted_before').notNullable();
    t.string('merged_into_before', 40).nullable();
    t.index(['entity', 'gid', 'version']);
    t.index(['run_id']);
  },
  [T.lock]: (t) => {
    t.string('name', 120).primary();
    t.string('holder', 120).notNullable();
    t.string('acquired_at', 30).notNullable();
    t.string('expires_at', 30).notNullable();
  },
  [T.mergeCandidate]: (t) => {
    t.increments('id');
    t.string('entity', 40).notNullable();
    t.string('gid_a', 40).notNullable();
    t.string('gid_b', 40).notNullable();
    t.float('score').notNullable();
    t.string('rule', 40).notNullable();
    t.text('reason').notNullable();
    t.string('status', 16).notNullable().defaultTo('open');
    t.string('created_at', 30).notNullable();
    t.string('decided_at', 30).nullable();
    t.string('decided_by', 120).nullable();
    t.unique(['entity', 'gid_a', 'gid_b']);
  },
  [T.merge]: (t) => {
    t.increments('id');
    t.string('entity', 40).notNullable();
    t.string('survivor', 40).notNullable();
    t.string('merged', 40).notNullable();
    /** JSON snapshot of everything the merge changed, so unmerge restores it exactly */
    t.text('snapshot').notNullable();
    t.string('at', 30).notNullable();
    t.string('by', 120).notNullable();
    t.string('undone_at', 30).nullable();
  },
};

/** The sync engine's tables, created the first time a job runs. */
export const SYNC_TABLE_DEFINITIONS: TableDefinitions = {
  [SYNC_TABLES.seen]: (t) => {
    t.string('job', 64).notNullable();
    t.string('source', 64).notNullable();
    t.string('source_key', 400).notNullable();
    t.primary(['job', 'source', 'source_key']);
  },
  [SYNC_TABLES.intent]: (t) => {
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
  },
  [SYNC_TABLES.tick]: (t) => {
    t.string('job', 64).notNullable();
    t.string('tick', 30).notNullable();
    t.string('holder', 120).notNullable();
    t.string('claimed_at', 30).notNullable();
    t.primary(['job', 'tick']);
  },
};

export async function migrateHub(knex: Knex, custom: CustomFields = {}): Promise<void> {
  const pg = knex.client.config.client === 'pg';
  const migrate = async () => {
    await createMissingTables(knex, SYSTEM_TABLE_DEFINITIONS);
    await createMissingTables(knex, ANALYSIS_TABLE_DEFINITIONS);
    for (const entity of ENTITY_NAMES) await migrateEntityTable(knex, entity, fieldsOf(entity, custom[entity] ?? []), pg);
  };
  // Several crmlink processes starting together on one PostgreSQL hub would otherwise create (or
  // add columns to) the same table at once, and all but one fail with "already exists". SQLite
  // serialises DDL itself (one writer).
  if (pg) await withPgMigrationLock(knex, migrate);
  else await migrate();
}

/** Run `fn` holding the hub's migration lock (a session advisory lock on a connection set aside for it). */
async function withPgMigrationLock(knex: Knex, fn: () => Promise<void>): Promise<void> {
  const conn: unknown = await knex.client.acquireConnection();
  try {
    await knex.raw('select pg_advisory_lock(hashtext(?))', [MIGRATION_LOCK]).connection(conn);
    try {
      await fn();
    } finally {
      await knex.raw('select pg_advisory_unlock(hashtext(?))', [MIGRATION_LOCK]).connection(conn);
    }
  } finally {
    await knex.client.releaseConnection(conn);
  }
}

const MIGRATION_LOCK = 'crmlink:migrate';

/** Create the tables that do not exist yet, in order; one another process creates meanwhile is fine. */
export async function createMissingTables(knex: Knex, definitions: TableDefinitions): Promise<void> {
  for (const [name, build] of Object.entries(definitions)) {
    if (await knex.schema.hasTable(name)) continue;
    try {
      await knex.schema.createTable(name, build);
    } catch (err) {
      if (!(await knex.schema.hasTable(name))) throw err;
    }
  }
}

/** One entity table: created with its fields and system columns, or given the fields it lacks. */
async function migrateEntityTable(knex: Knex, entity: EntityName, fields: ModelField[], pg: boolean): Promise<void> {
  const model = MODEL[entity];
  if (!(await knex.schema.hasTable(model.table))) {
    await knex.schema.createTable(model.table, (t) => {
      t.string(C.id, 40).primary();
      for (const f of fields) addColumn(t, f, pg);
      t.integer(C.version).notNullable().defaultTo(1);
      t.bigInteger(C.seq).notNullable();
      t.string(C.updatedAt, 30).notNullable();
      t.boolean(C.deleted).notNullable().defaultTo(false);
      t.string(C.mergedInto, 40).nullable();
      t.index([C.seq]);
      for (const f of fields) if (f.type === 'ref' || f.name === 'code' || f.name === 'ownerId') t.index([f.name]);
      if (entity === MATCH_KEY_ENTITY) addMatchKeyColumns(t);
    });
    return;
  }
  const columns = await knex(model.table).columnInfo();
  const missing = fields.filter((f) => !(f.name in columns));
  if (missing.length) await knex.schema.alterTable(model.table, (t) => missing.forEach((f) => addColumn(t, f, pg)));
  // A hub from before the match keys: the columns come unkeyed (version 0); the sync keys the rows.
  if (entity === MATCH_KEY_ENTITY && !(K.version in columns)) await knex.schema.alterTable(model.table, addMatchKeyColumns);
}

/** Identity's match keys (hub/tables.ts MATCH_KEY_COLUMNS), each indexed for the per-page lookup. */
function addMatchKeyColumns(t: Knex.CreateTableBuilder | Knex.AlterTableBuilder): void {
  for (const column of [K.creditCode, K.name, K.phone, K.email]) {
    t.text(column).nullable();
    t.index([column]);
  }
  t.integer(K.version).notNullable().defaultTo(0);
  t.index([K.version]);
}

function addColumn(t: Knex.CreateTableBuilder | Knex.AlterTableBuilder, f: ModelField, pg: boolean): void {
  switch (f.type) {
    case 'string':
    case 'enum':
      t.string(f.name, f.maxLength ?? 255).nullable();
      return;
    case 'ref':
      t.string(f.name, 40).nullable();
      return;
    case 'text':
      t.text(f.name).nullable();
      return;
    case 'int':
      t.bigInteger(f.name).nullable();
      return;
    case 'decimal':
      // Exact on PostgreSQL; on SQLite a NUMERIC column would turn 19 significant digits into a
      // float, so the hub keeps decimals as text there.
      t.specificType(f.name, pg ? `numeric(30,${f.scale ?? 4})` : 'text').nullable();
      return;
    case 'boolean':
      t.boolean(f.name).nullable();
      return;
    case 'date':
      t.string(f.name, 10).nullable();
      return;
    case 'datetime':
      t.string(f.name, 30).nullable();
      return;
  }
}
