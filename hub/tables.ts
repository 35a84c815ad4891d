/**
 * The hub's own tables. Entity tables (one per canonical entity, columns = model fields + custom
 * fields, same names as the GraphQL fields) hold the golden records; the `crm_*` system tables hold
 * identity, sync state and history. Timestamps are ISO-8601 UTC strings so SQLite and PostgreSQL
 * store, compare and sort them the same way.
 */
import type { Knex } from 'knex';

export const SYSTEM_TABLES = {
  /** global id ↔ (source, source key) */
  xref: 'crm_xref',
  /** values last synced per record and source: the base of the three-way merge */
  base: 'crm_base',
  /** which source each golden field came from, and when */
  provenance: 'crm_provenance',
  /** capture position per job and source */
  checkpoint: 'crm_checkpoint',
  conflict: 'crm_conflict',
  /** records that failed permanently, with their error, until retried */
  parked: 'crm_parked',
  run: 'crm_run',
  audit: 'crm_audit',
  /** every version of every golden record: fields before and after, who, when */
  history: 'crm_history',
  lock: 'crm_lock',
  mergeCandidate: 'crm_merge_candidate',
  /** merges, with the snapshot needed to undo them */
  merge: 'crm_merge',
  counter: 'crm_counter',
  /** secrets of the hub itself (the key of federated record versions), created at random */
  secret: 'crm_secret',
} as const;

/** Tables of the sync engine's own bookkeeping (hub/sync-tables.ts), created when a job first runs. */
export const SYNC_TABLES = {
  seen: 'crm_sync_seen',
  intent: 'crm_sync_intent',
  tick: 'crm_sync_tick',
} as const;

/** System columns every entity table has besides its fields. */
export const ENTITY_SYSTEM_COLUMNS = {
  id: 'id',
  version: '_version',
  /** Hub-wide change sequence: what sync reads to find hub-side edits. */
  seq: '_seq',
  updatedAt: '_updated_at',
  deleted: '_deleted',
  /** Set when this record was merged into another (the survivor's id). */
  mergedInto: '_merged_into',
} as const;

/**
 * Identity's match keys of a customer, kept beside its fields so the sync can look up the hub
 * customers that share a key with a page's rows through indexes instead of holding every customer
 * in memory. The keys are the matcher's normalised blocking keys (identity/matcher.ts matchKeysOf);
 * `version` is the key derivation's version the row was keyed with (0: not keyed, or keyed by an
 * older derivation): the sync re-keys such rows before it matches against them.
 */
export const MATCH_KEY_ENTITY = 'Customer';
export const MATCH_KEY_COLUMNS = {
  creditCode: '_match_code',
  name: '_match_name',
  phone: '_match_phone',
  email: '_match_email',
  version: '_match_keys',
} as const;

/** Table name → how to create it (hub/migrate.ts creates the missing ones). */
export type TableDefinitions = Record<string, (t: Knex.CreateTableBuilder) => void>;
