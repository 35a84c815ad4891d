/**
 * Provenance (crm_provenance): which source each field of a golden record came from, and when.
 * Written only by the golden record write (hub/golden.ts) and by survivorship through it.
 */
import type { Knex } from 'knex';
import type { EntityName } from '../model/entities.js';
import { columns, type Column, type Statements } from './statements.js';
import { rowReader } from './rows.js';
import { SYSTEM_TABLES as T } from './tables.js';

type Q = Knex | Knex.Transaction;

export interface FieldProvenance {
  source: string;
  /** When the source changed the field (ISO-8601); null when unknown. */
  changedAt: string | null;
}

/** Provenance of a page's records: field → time and field → source, by gid. */
export interface Provenance {
  changedAt: Record<string, string>;
  source: Record<string, string>;
}

export interface ProvenanceRow {
  entity: string;
  gid: string;
  field: string;
  source: string;
  changed_at: string;
}

const COLUMNS: Column[] = columns('entity', 'gid', 'field', 'source', 'changed_at');
const KEY: Column[] = COLUMNS.slice(0, 3);
const readProvenanceRow: (r: Record<string, unknown>) => ProvenanceRow = rowReader({ entity: 'text', gid: 'text', field: 'text', source: 'text', changed_at: 'text' });

export class ProvenanceStore {
  private readonly upsert: string;
  private readonly remove: string;
  private readonly byGids: string;

  constructor(private readonly statements: Statements) {
    this.upsert = statements.upsertSql(T.provenance, COLUMNS, ['entity', 'gid', 'field'], ['source', 'changed_at']);
    const p = (n: number) => statements.param(n, 'text');
    this.remove =
      statements.dialect === 'sqlite'
        ? `DELETE FROM ${T.provenance} WHERE entity = ? AND gid = ? AND field = ?`
        : `DELETE FROM ${T.provenance} AS t USING unnest($1::text[], $2::text[], $3::text[]) AS v(entity, gid, field) WHERE t.entity = v.entity AND t.gid = v.gid AND t.field = v.field`;
    this.byGids = `SELECT gid, field, source, changed_at FROM ${T.provenance} WHERE entity = ${p(1)} AND ${statements.inList('gid', 'text', 2)}`;
  }

  /** Provenance of these records, by gid. */
  async load(q: Q, entity: EntityName, gids: readonly string[]): Promise<Map<string, Provenance>> {
    const out = new Map<string, Provenance>();
    await this.statements.selectIn<Omit<ProvenanceRow, 'entity'>>(q, this.byGids, [entity], gids, (r) => {
      let p = out.get(r.gid);
      if (!p) out.set(r.gid, (p = { changedAt: {}, source: {} }));
      p.changedAt[r.field] = r.changed_at;
      p.source[r.field] = r.source;
    });
    return out;
  }

  /** One record's provenance as field → provenance. */
  async ofRecord(q: Q, entity: EntityName, gid: string): Promise<Record<string, FieldProvenance>> {
    const out: Record<string, FieldProvenance> = {};
    for (const r of await this.rows(q, entity, gid)) out[r.field] = { source: r.source, changedAt: r.changed_at };
    return out;
  }

  /** One record's provenance rows, by field name. */
  async rows(q: Q, entity: EntityName, gid: string): Promise<ProvenanceRow[]> {
    const rows = (await q(T.provenance).where({ entity, gid }).orderBy('field')) as Record<string, unknown>[];
    return rows.map(readProvenanceRow);
  }

  /** Set (or, for null, remove) the provenance of fields; a time of null is recorded as now. */
  async apply(q: Q, entity: EntityName, changes: readonly { gid: string; fields: Readonly<Record<string, FieldProvenance | null>> }[]): Promise<void> {
    const now = new Date().toISOString();
    const set = new Map<string, [string, string, string, string, string]>();
    const removed = new Map<string, [string, string, string]>();
    for (const c of changes) {
      for (const [field, p] of Object.entries(c.fields)) {
        const key = `${c.gid}\u0000${field}`;
        if (p === null) {
          set.delete(key);
          removed.set(key, [entity, c.gid, field]);
        } else {
          removed.delete(key);
          set.set(key, [entity, c.gid, field, p.source, p.changedAt ?? now]);
        }
      }
    }
    await this.statements.execute(q, this.remove, KEY, [...removed.values()]);
    await this.statements.execute(q, this.upsert, COLUMNS, [...set.values()]);
  }
}
