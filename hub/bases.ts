/**
 * Merge bases (crm_base): the values last synced per record and source, the base of the
 * three-way merge and what makes a read of crmlink's own write a no-op.
 */
import type { Knex } from 'knex';
import { CrmlinkError } from '../core/errors.js';
import type { CrmRecord, EntityName } from '../model/entities.js';
import { hashRecord } from '../model/values.js';
import { columns, type Column, type Statements } from './statements.js';
import { SYSTEM_TABLES as T } from './tables.js';

type Q = Knex | Knex.Transaction;

export interface BaseEntry {
  sourceKey: string;
  values: CrmRecord;
  hash: string;
  deleted: boolean;
  changedAt: string | null;
}

export interface BaseWrite {
  sourceKey: string;
  values: CrmRecord;
  deleted: boolean;
  changedAt: string | null;
}

/** One source's version of a golden record (its base), for survivorship. */
export interface SourceVersion {
  source: string;
  key: string;
  values: CrmRecord;
  /** When the source last changed it (ISO-8601), else when it was last synced. */
  changedAt: string;
  /** When the source itself says it changed it; null when the source gives no time (a hub read time is no evidence). */
  sourceChangedAt: string | null;
}

const COLUMNS: Column[] = columns('entity', 'source', 'source_key', 'values', 'hash', { deleted: 'boolean' }, 'changed_at', 'synced_at');

export const isTrue = (v: unknown): boolean => v === true || v === 1 || v === '1';

function entryOf(r: Record<string, unknown>): BaseEntry {
  return {
    sourceKey: String(r.source_key),
    values: JSON.parse(String(r.values)) as CrmRecord,
    hash: String(r.hash),
    deleted: isTrue(r.deleted),
    changedAt: (r.changed_at as string | null) ?? null,
  };
}

export class BaseStore {
  private readonly upsert: string;
  private readonly byKeys: string;

  constructor(private readonly statements: Statements) {
    this.upsert = statements.upsertSql(T.base, COLUMNS, ['entity', 'source', 'source_key'], ['values', 'hash', 'deleted', 'changed_at', 'synced_at']);
    const p = (n: number) => statements.param(n, 'text');
    this.byKeys = `SELECT source_key, "values", hash, deleted, changed_at FROM ${T.base} WHERE entity = ${p(1)} AND source = ${p(2)} AND ${statements.inList('source_key', 'text', 3)}`;
  }

  async load(q: Q, entity: string, source: string, keys: readonly string[]): Promise<Map<string, BaseEntry>> {
    const out = new Map<string, BaseEntry>();
    await this.statements.selectIn<Record<string, unknown>>(q, this.byKeys, [entity, source], keys, (r) => out.set(String(r.source_key), entryOf(r)));
    return out;
  }

  /** Forget the bases of these source keys (rows to be inserted again). */
  async remove(q: Q, entity: string, source: string, keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 500) await q(T.base).where({ entity, source }).whereIn('source_key', keys.slice(i, i + 500)).del();
  }

  /** Store new bases; the last write per key wins within one call (a page may touch a key twice). */
  async save(q: Q, entity: string, source: string, writes: readonly BaseWrite[]): Promise<void> {
    const now = new Date().toISOString();
    const byKey = new Map(writes.map((w) => [w.sourceKey, w]));
    await this.statements.execute(
      q,
      this.upsert,
      COLUMNS,
      [...byKey.values()].map((w) => [entity, source, w.sourceKey, JSON.stringify(w.values), hashRecord(w.values), w.deleted, w.changedAt, now]),
    );
  }

  /**
   * Keys of live (not tombstoned) bases of a source that are missing from a snapshot's seen set.
   * Walked in key order a page at a time, each page checked against the seen set by primary key: a
   * single NOT EXISTS over tables filled in the same transaction (no statistics yet) can make
   * PostgreSQL pick a quadratic plan.
   */
  async unseenKeys(q: Q, entity: string, source: string, isSeen: (keys: string[]) => Promise<Set<string>>): Promise<string[]> {
    const out: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page = (await q(T.base)
        .where({ entity, source })
        .modify((b) => {
          if (after !== null) b.where('source_key', '>', after);
        })
        .orderBy('source_key')
        .limit(1000)
        .select('source_key', 'deleted')) as { source_key: string; deleted: unknown }[];
      if (page.length === 0) break;
      after = page[page.length - 1].source_key;
      const live = page.filter((r) => !isTrue(r.deleted)).map((r) => r.source_key);
      if (live.length > 0) {
        const seen = await isSeen(live);
        for (const k of live) if (!seen.has(k)) out.push(k);
      }
      if (page.length < 1000) break;
    }
    return out;
  }

  /**
   * One keyset page of the source keys the hub holds a live (not tombstoned) base for: the rows it
   * believes the source has. Ordered by key text, after `after` (exclusive); key columns only.
   */
  async liveKeysPage(q: Q, entity: string, source: string, after: string | null, limit: number): Promise<{ keys: string[]; next: string | null }> {
    const page = (await q(T.base)
      .where({ entity, source })
      .modify((b) => {
        if (after !== null) b.where('source_key', '>', after);
      })
      .orderBy('source_key')
      .limit(limit)
      .select('source_key', 'deleted')) as { source_key: string; deleted: unknown }[];
    const last = page[page.length - 1];
    return { keys: page.filter((r) => !isTrue(r.deleted)).map((r) => r.source_key), next: page.length < limit || !last ? null : last.source_key };
  }

  /** The live bases of every source key cross-referenced to `gid`: each source's version of the record. */
  async versionsOf(q: Q, entity: EntityName, gid: string): Promise<SourceVersion[]> {
    const xrefs = (await q(T.xref).where({ entity, gid }).select('source', 'source_key')) as { source: string; source_key: string }[];
    const bySource = new Map<string, string[]>();
    for (const x of xrefs) bySource.set(x.source, [...(bySource.get(x.source) ?? []), x.source_key]);
    const out: SourceVersion[] = [];
    for (const [source, keys] of bySource) {
      for (let i = 0; i < keys.length; i += 500) {
        const rows = (await q(T.base)
          .where({ entity, source })
          .whereIn('source_key', keys.slice(i, i + 500))) as { source_key: string; values: string; deleted: unknown; changed_at: string | null; synced_at: string }[];
        for (const r of rows) {
          if (isTrue(r.deleted)) continue;
          let values: CrmRecord;
          try {
            values = JSON.parse(r.values) as CrmRecord;
          } catch (err) {
            throw new CrmlinkError('INTERNAL', `crm_base row of ${entity} ${source}:${r.source_key} holds invalid JSON`, { entity, source, key: r.source_key, table: T.base }, { cause: err });
          }
          out.push({ source, key: r.source_key, values, changedAt: r.changed_at ?? r.synced_at, sourceChangedAt: r.changed_at });
        }
      }
    }
    return out;
  }
}
