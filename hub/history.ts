/**
 * Record history (crm_history): one row per version of every golden record, written by the golden
 * record write (hub/golden.ts) in the same transaction, so no write path can skip it. A row holds
 * the fields the version changed with their values before and after, the record's deleted and
 * merged state after it, who or what wrote it (actor and action: a user, `sync:<job>` with its run
 * and source, a merge, a conflict resolution, a restore) and when.
 *
 * Only changed fields are kept, so a version's full state is rebuilt from the current record by
 * undoing the newer versions one by one (`stateAt`).
 */
import type { Knex } from 'knex';
import { CrmlinkError } from '../core/errors.js';
import type { CrmRecord, CrmValue, EntityName } from '../model/entities.js';
import { isTrue } from './bases.js';
import { columns, type Column, type Statements } from './statements.js';
import { SYSTEM_TABLES as T } from './tables.js';

type Q = Knex | Knex.Transaction;

/** What is recorded of every version of a record, whoever reads or writes it. */
interface VersionFacts {
  gid: string;
  version: number;
  at: string;
  actor: string;
  action: string;
  /** The sync run that wrote it (crm_run id); null for other writers. */
  run: number | null;
  /** The source a sync run read it from; null for other writers. */
  source: string | null;
  /** The record's state after this version. */
  deleted: boolean;
  mergedInto: string | null;
  /** The record's state before it. */
  deletedBefore: boolean;
  mergedIntoBefore: string | null;
}

/** One version of a record as recorded. */
export interface HistoryEntry extends VersionFacts {
  /** crm_history id: names this change for restoreChanges. */
  id: number;
  entity: string;
  /** Fields this version changed, with their values before and after. */
  changes: { field: string; before: CrmValue; after: CrmValue }[];
}

/** What the golden write hands over for each record it wrote. */
export interface HistoryWrite extends VersionFacts {
  entity: EntityName;
  before: CrmRecord;
  after: CrmRecord;
}

/** A record as it was after a version. */
export interface RecordState {
  version: number;
  values: CrmRecord;
  deleted: boolean;
  mergedInto: string | null;
}

interface HistoryRow {
  id: number | string;
  entity: string;
  gid: string;
  version: number | string;
  at: string;
  actor: string;
  action: string;
  run_id: number | string | null;
  source: string | null;
  before: string;
  after: string;
  deleted: unknown;
  merged_into: string | null;
  deleted_before: unknown;
  merged_into_before: string | null;
}

/** The version asked for is not (or no longer) kept. */
export class VersionNotKeptError extends CrmlinkError {
  constructor(entity: string, gid: string, version: number) {
    super('NOT_FOUND', `${entity} ${gid} has no recorded version ${version} (history keeps the versions written since it was enabled)`, { entity, key: gid, version });
  }
}

function toEntry(r: HistoryRow): HistoryEntry {
  const before = JSON.parse(r.before) as CrmRecord;
  const after = JSON.parse(r.after) as CrmRecord;
  const fields = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  return {
    id: Number(r.id),
    entity: r.entity,
    gid: r.gid,
    version: Number(r.version),
    at: r.at,
    actor: r.actor,
    action: r.action,
    run: r.run_id === null ? null : Number(r.run_id),
    source: r.source,
    changes: fields.map((field) => ({ field, before: before[field] ?? null, after: after[field] ?? null })),
    deleted: isTrue(r.deleted),
    mergedInto: r.merged_into,
    deletedBefore: isTrue(r.deleted_before),
    mergedIntoBefore: r.merged_into_before,
  };
}

const COLUMNS: Column[] = columns(
  'entity',
  'gid',
  { version: 'integer' },
  'at',
  'actor',
  'action',
  { run_id: 'integer' },
  'source',
  'before',
  'after',
  { deleted: 'boolean' },
  'merged_into',
  { deleted_before: 'boolean' },
  'merged_into_before',
);

export class HistoryStore {
  private readonly insert: string;

  constructor(private readonly statements: Statements) {
    this.insert = statements.insertSql(T.history, COLUMNS);
  }

  /**
   * Called by the golden write only, in its transaction: one prepared statement whatever the
   * page's size (run per row on SQLite, one `unnest` per page on PostgreSQL).
   */
  async record(q: Q, writes: readonly HistoryWrite[]): Promise<void> {
    await this.statements.execute(
      q,
      this.insert,
      COLUMNS,
      writes.map((w) => [
        w.entity,
        w.gid,
        w.version,
        w.at,
        w.actor,
        w.action,
        w.run,
        w.source,
        JSON.stringify(w.before),
        JSON.stringify(w.after),
        w.deleted,
        w.mergedInto,
        w.deletedBefore,
        w.mergedIntoBefore,
      ]),
    );
  }

  /** A record's versions, newest first; `beforeVersion` pages on. */
  async list(q: Q, entity: EntityName, gid: string, opts: { first: number; beforeVersion?: number }): Promise<HistoryEntry[]> {
    const rows = (await q(T.history)
      .where({ entity, gid })
      .modify((b) => {
        if (opts.beforeVersion !== undefined) b.where('version', '<', opts.beforeVersion);
      })
      .orderBy('version', 'desc')
      .orderBy('id', 'desc')
      .limit(opts.first)) as HistoryRow[];
    return rows.map(toEntry);
  }

  async count(q: Q, entity: EntityName, gid: string): Promise<number> {
    const r = (await q(T.history).where({ entity, gid }).count({ n: '*' })) as { n: unknown }[];
    return Number(r[0]?.n ?? 0);
  }

  /** Entries by crm_history id (restoring selected changes). */
  async byIds(q: Q, ids: readonly number[]): Promise<HistoryEntry[]> {
    const rows = (await q(T.history).whereIn('id', [...ids]).orderBy('id')) as HistoryRow[];
    return rows.map(toEntry);
  }

  /** Every version a sync run wrote, oldest first. */
  async ofRun(q: Q, run: number): Promise<HistoryEntry[]> {
    const rows = (await q(T.history).where({ run_id: run }).orderBy('id')) as HistoryRow[];
    return rows.map(toEntry);
  }

  /** Versions of a record newer than `version`, newest first. */
  async since(q: Q, entity: EntityName, gid: string, version: number): Promise<HistoryEntry[]> {
    const rows = (await q(T.history).where({ entity, gid }).where('version', '>', version).orderBy('version', 'desc')) as HistoryRow[];
    return rows.map(toEntry);
  }

  /**
   * The record as it was after `version`, rebuilt from its current state by undoing each newer
   * version (so a version written before history was kept can still be reached, as long as every
   * later one is recorded). Throws VersionNotKeptError otherwise.
   */
  async stateAt(q: Q, entity: EntityName, current: RecordState & { id: string }, version: number): Promise<RecordState> {
    if (version === current.version) return { version, values: { ...current.values }, deleted: current.deleted, mergedInto: current.mergedInto };
    if (version < 1 || version > current.version) throw new VersionNotKeptError(entity, current.id, version);
    const newer = await this.since(q, entity, current.id, version);
    const versions = new Set(newer.map((e) => e.version));
    for (let v = version + 1; v <= current.version; v++) if (!versions.has(v)) throw new VersionNotKeptError(entity, current.id, version);
    const values: CrmRecord = { ...current.values };
    for (const e of newer) for (const c of e.changes) values[c.field] = c.before;
    const next = newer[newer.length - 1];
    return { version, values, deleted: next.deletedBefore, mergedInto: next.mergedIntoBefore };
  }
}
