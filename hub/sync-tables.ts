/**
 * The sync engine's own bookkeeping in the hub: tables defined in hub/migrate.ts and created the
 * first time a job runs (idempotent), and the store's module that reads and writes them.
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
import { createMissingTables, SYNC_TABLE_DEFINITIONS } from './migrate.js';
import { SYNC_TABLES } from './tables.js';
import { columns, type Column, type Statements } from './statements.js';

export { SYNC_TABLES } from './tables.js';

const migrated = new WeakMap<Knex, Promise<void>>();

export function ensureSyncTables(knex: Knex): Promise<void> {
  let p = migrated.get(knex);
  if (!p) {
    p = createMissingTables(knex, SYNC_TABLE_DEFINITIONS);
    migrated.set(knex, p);
    p.catch(() => migrated.delete(knex));
  }
  return p;
}

type Q = Knex | Knex.Transaction;

/** A planned insert into a source, recorded before it is made (crm_sync_intent). */
export interface InsertIntent {
  id: number;
  gid: string;
  /** The canonical values being inserted. */
  values: string;
  /** The row as written, column → value (JSON). */
  row: string;
}

/** The sync engine's own bookkeeping in the hub: snapshot keys seen, insert intents, claimed ticks. */
export class SyncJournal {
  private readonly markSeenSql: string;
  private readonly seenSql: string;
  private readonly seenColumns: Column[] = columns('job', 'source', 'source_key');
  private readonly intentColumns: Column[] = columns('job', 'entity', 'source', 'gid', 'values', 'row', 'created_at');
  private readonly dropIntentsSql: string;

  constructor(private readonly statements: Statements) {
    this.markSeenSql = statements.upsertSql(SYNC_TABLES.seen, this.seenColumns, ['job', 'source', 'source_key'], []);
    const p = (n: number) => statements.param(n, 'text');
    this.dropIntentsSql = `DELETE FROM ${SYNC_TABLES.intent} WHERE ${statements.inList('id', 'bigint', 1)}`;
    this.seenSql = `SELECT source_key FROM ${SYNC_TABLES.seen} WHERE job = ${p(1)} AND source = ${p(2)} AND ${statements.inList('source_key', 'text', 3)}`;
  }

  /** Keys seen so far by a full-scan snapshot of `source` in `job`. */
  async markSeen(q: Q, job: string, source: string, keys: readonly string[]): Promise<void> {
    await this.statements.execute(
      q,
      this.markSeenSql,
      this.seenColumns,
      [...new Set(keys)].map((k) => [job, source, k]),
    );
  }

  async seen(q: Q, job: string, source: string, keys: readonly string[]): Promise<Set<string>> {
    const out = new Set<string>();
    await this.statements.selectIn<{ source_key: string }>(q, this.seenSql, [job, source], keys, (r) => out.add(r.source_key));
    return out;
  }

  async forgetSeen(q: Q, job: string, source: string): Promise<void> {
    await q(SYNC_TABLES.seen).where({ job, source }).delete();
  }

  /** Record intents; returns their ids in order (one prepared statement whatever the count). */
  async recordIntents(q: Q, job: string, entity: string, source: string, intents: readonly { gid: string; values: unknown; row: unknown }[]): Promise<number[]> {
    const now = new Date().toISOString();
    return this.statements.insertIds(
      q,
      SYNC_TABLES.intent,
      this.intentColumns,
      intents.map((x) => [job, entity, source, x.gid, JSON.stringify(x.values), JSON.stringify(x.row), now]),
    );
  }

  async intents(q: Q, job: string, source: string): Promise<InsertIntent[]> {
    const rows = (await q(SYNC_TABLES.intent).where({ job, source }).orderBy('id')) as InsertIntent[];
    return rows.map((r) => ({ id: Number(r.id), gid: r.gid, values: r.values, row: r.row }));
  }

  async dropIntents(q: Q, ids: readonly number[]): Promise<void> {
    for (let i = 0; i < ids.length; i += 5000) await this.statements.run(q, this.dropIntentsSql, [this.statements.listParam(ids.slice(i, i + 5000))]);
  }

  /** First claim of a scheduled tick wins; false when another process claimed it. */
  async claimTick(q: Q, job: string, tick: string, holder: string): Promise<boolean> {
    try {
      await q(SYNC_TABLES.tick).insert({ job, tick, holder, claimed_at: new Date().toISOString() });
      return true;
    } catch (err) {
      const existing = await q(SYNC_TABLES.tick).where({ job, tick }).first();
      if (existing) return false;
      throw err;
    }
  }
}
