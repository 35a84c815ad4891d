/**
 * The audit log (crm_audit): who changed what, with the values before and after. Written in the
 * transaction of the change it describes.
 */
import type { Knex } from 'knex';
import { SYSTEM_TABLES as T } from './tables.js';

type Q = Knex | Knex.Transaction;

export interface AuditEntry {
  actor: string;
  action: string;
  entity: string;
  gid?: string | null;
  before?: unknown;
  after?: unknown;
}

/** An audit entry as stored, JSON parsed. */
export interface AuditRecord extends AuditEntry {
  id: number;
  at: string;
}

interface AuditRow {
  id: number | string;
  at: string;
  actor: string;
  action: string;
  entity: string;
  gid: string | null;
  before: string | null;
  after: string | null;
}

const parse = (s: string | null): unknown => (s === null ? undefined : (JSON.parse(s) as unknown));

export class AuditLog {
  /** Entries of one action written at or after `since` (ISO-8601), oldest first. */
  async byAction(q: Q, action: string, since: string): Promise<AuditRecord[]> {
    const rows = (await q(T.audit).where({ action }).where('at', '>=', since).orderBy('id')) as AuditRow[];
    return rows.map((r) => ({ id: Number(r.id), at: r.at, actor: r.actor, action: r.action, entity: r.entity, gid: r.gid, before: parse(r.before), after: parse(r.after) }));
  }

  async record(q: Q, entry: AuditEntry): Promise<void> {
    await this.recordMany(q, [entry]);
  }

  async recordMany(q: Q, entries: readonly AuditEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const at = new Date().toISOString();
    // undefined (not null) before/after is stored as SQL NULL rather than the text "null".
    const json = (v: unknown) => (v === undefined ? null : JSON.stringify(v));
    for (let i = 0; i < entries.length; i += 200) {
      await q(T.audit).insert(
        entries.slice(i, i + 200).map((e) => ({ at, actor: e.actor, action: e.action, entity: e.entity, gid: e.gid ?? null, before: json(e.before), after: json(e.after) })),
      );
    }
  }
}
