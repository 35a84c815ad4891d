/**
 * Conflict records (crm_conflict): open ones wait for a person, decided ones record what a policy
 * chose. An open conflict on a field that already has one is folded into it (the new side's value
 * added, the reason updated) rather than piling up one row per run. One whose sides have come to
 * hold one value is closed (`agreed`): nothing is left for a person to choose.
 */
import type { Knex } from 'knex';
import type { CrmValue } from '../model/entities.js';
import { rowReader } from './rows.js';
import { SYSTEM_TABLES as T } from './tables.js';

type Q = Knex | Knex.Transaction;

export interface OpenConflict {
  id: number;
  field: string;
  values: Record<string, CrmValue>;
}

/** Open conflicts by gid, then field. */
export type OpenConflicts = Map<string, Map<string, OpenConflict>>;

/** What a merge decided about one field (the shape of sync's FieldConflict). */
export interface ConflictDecision {
  field: string;
  /** The base value; undefined when there was no base. */
  base: CrmValue | undefined;
  values: Record<string, CrmValue>;
  rule: string;
  winner: string | null;
  reason: string;
  /**
   * open: waits for a person (folded into an open one on the field); auto: a policy decided;
   * agreed: every side of the field's open conflict now holds `value`, so it is closed, its values
   * kept as they competed and `winner` the side whose change made them agree.
   */
  status: 'open' | 'auto' | 'agreed';
  /** The value every side holds (`agreed` only). */
  value?: CrmValue;
  /** Who decided an `auto` one (default `policy:<rule>`), e.g. the person who chose it when merging. */
  decidedBy?: string;
}

export interface ConflictWrite {
  gid: string;
  conflict: ConflictDecision;
}

export interface ConflictRecord {
  id: number;
  job: string;
  entity: string;
  gid: string;
  field: string;
  /** The value both sides started from; undefined when there was no base (first sync). */
  base: CrmValue | undefined;
  /** The competing values by side: "hub" and source names. */
  values: Record<string, CrmValue>;
  rule: string;
  reason: string;
  status: 'open' | 'resolved';
  /** auto: a policy decided; edit: a person decided by editing the field while the conflict was open. */
  /** agreed: closed by a sync because every side came to hold `value`. */
  resolution: { keep: string | null; value: CrmValue; auto?: boolean; edit?: boolean; agreed?: boolean } | null;
  resolvedBy: string | null;
  createdAt: string;
  resolvedAt: string | null;
}

export interface ConflictFilter {
  /** Default open. */
  status?: 'open' | 'resolved' | 'all';
  entity?: string;
  gid?: string;
  job?: string;
  field?: string;
  limit?: number;
  offset?: number;
}

const readConflictRow = rowReader({
  id: 'number',
  job: 'text',
  entity: 'text',
  gid: 'text',
  field: 'text',
  values: 'json',
  rule: 'text',
  reason: 'text',
  resolution: 'json?',
  resolvedBy: ['resolved_by', 'text?'],
  createdAt: ['created_at', 'text'],
  resolvedAt: ['resolved_at', 'text?'],
});

function toRecord(r: Record<string, unknown>): ConflictRecord {
  // No base (first sync) is undefined, not null: null is a base value.
  const base = typeof r.base === 'string' ? (JSON.parse(r.base) as CrmValue) : undefined;
  return { ...(readConflictRow(r) as Omit<ConflictRecord, 'base' | 'status'>), base, status: r.status === 'resolved' ? 'resolved' : 'open' };
}

const idOf = (v: unknown): number => Number(typeof v === 'object' && v !== null ? (v as { id: unknown }).id : v);

/** Told of the open conflicts a write created, once its transaction committed. */
export type ConflictListener = (opened: ConflictRecord[]) => void;

export class ConflictStore {
  private readonly listeners = new Set<ConflictListener>();

  /**
   * Listen to new open conflicts (not ones folded into a conflict already open), after their
   * transaction committed; returns the unsubscribe. A listener that throws is ignored.
   */
  onOpened(listener: ConflictListener): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  /** Open conflicts of these records, by gid then field. */
  async loadOpen(q: Q, entity: string, gids: readonly string[]): Promise<OpenConflicts> {
    const out: OpenConflicts = new Map();
    const unique = [...new Set(gids)];
    for (let i = 0; i < unique.length; i += 500) {
      const rows = (await q(T.conflict)
        .where({ entity, status: 'open' })
        .whereIn('gid', unique.slice(i, i + 500))
        .select('id', 'gid', 'field', 'values')) as { id: number; gid: string; field: string; values: string }[];
      for (const r of rows) {
        let m = out.get(r.gid);
        if (!m) out.set(r.gid, (m = new Map()));
        m.set(r.field, { id: Number(r.id), field: r.field, values: JSON.parse(r.values) as Record<string, CrmValue> });
      }
    }
    return out;
  }

  /**
   * Store conflicts. Open ones fold into an open conflict of the same field (`open`, which this
   * call keeps up to date, so a later write in the same page folds into one it created); decided
   * ones are kept as resolved records, so what a policy decided stays visible.
   */
  async save(q: Q, job: string, entity: string, writes: readonly ConflictWrite[], open: OpenConflicts): Promise<void> {
    const now = new Date().toISOString();
    const opened: ConflictRecord[] = [];
    for (const { gid, conflict: c } of writes) {
      if (c.status === 'agreed') {
        await this.closeAgreed(q, job, gid, c, open, now);
        continue;
      }
      const existing = c.status === 'open' ? open.get(gid)?.get(c.field) : undefined;
      if (existing) {
        existing.values = { ...existing.values, ...c.values };
        await q(T.conflict)
          .where({ id: existing.id })
          .update({ values: JSON.stringify(existing.values), rule: c.rule, reason: c.reason });
        continue;
      }
      const row = {
        job,
        entity,
        gid,
        field: c.field,
        base: c.base === undefined ? null : JSON.stringify(c.base),
        values: JSON.stringify(c.values),
        rule: c.rule,
        reason: c.reason,
        created_at: now,
        ...(c.status === 'open'
          ? { status: 'open' }
          : {
              status: 'resolved',
              resolution: JSON.stringify({ auto: true, keep: c.winner, value: c.winner ? (c.values[c.winner] ?? null) : null }),
              resolved_by: c.decidedBy ?? `policy:${c.rule}`,
              resolved_at: now,
            }),
      };
      const [id] = (await q(T.conflict).insert(row, ['id'])) as unknown[];
      if (c.status !== 'open') continue;
      let m = open.get(gid);
      if (!m) open.set(gid, (m = new Map()));
      m.set(c.field, { id: idOf(id), field: c.field, values: { ...c.values } });
      if (this.listeners.size > 0) {
        opened.push({ id: idOf(id), job, entity, gid, field: c.field, base: c.base, values: { ...c.values }, rule: c.rule, reason: c.reason, status: 'open', resolution: null, resolvedBy: null, createdAt: now, resolvedAt: null });
      }
    }
    if (opened.length > 0) this.announce(q, opened);
  }

  /** Close the field's open conflict (if it is still open) as agreed on; it leaves `open`. */
  private async closeAgreed(q: Q, job: string, gid: string, c: ConflictDecision, open: OpenConflicts, now: string): Promise<void> {
    const existing = open.get(gid)?.get(c.field);
    if (!existing) return;
    const resolution = { auto: true, agreed: true, keep: c.winner, value: c.value ?? null };
    await q(T.conflict)
      .where({ id: existing.id })
      .update({ values: JSON.stringify(c.values), reason: c.reason, status: 'resolved', resolution: JSON.stringify(resolution), resolved_by: `sync:${job}`, resolved_at: now });
    open.get(gid)!.delete(c.field);
  }

  /** Tell the listeners once `q`'s outermost transaction committed (at once for a plain connection). */
  private announce(q: Q, opened: ConflictRecord[]): void {
    const ended = (q as Partial<Knex.Transaction>).executionPromise as Promise<unknown> | undefined;
    const committed = ended ? ended.then(() => true, () => false) : Promise.resolve(true);
    void committed.then((ok) => {
      if (!ok) return;
      for (const l of this.listeners) {
        try {
          l(opened);
        } catch {
          // A write never fails for a listener.
        }
      }
    });
  }

  async list(q: Q, filter: ConflictFilter = {}): Promise<ConflictRecord[]> {
    const rows = (await q(T.conflict)
      .modify((b) => {
        const status = filter.status ?? 'open';
        if (status !== 'all') b.where({ status });
        if (filter.entity) b.where({ entity: filter.entity });
        if (filter.gid) b.where({ gid: filter.gid });
        if (filter.job) b.where({ job: filter.job });
        if (filter.field) b.where({ field: filter.field });
      })
      .orderBy('id')
      .limit(filter.limit ?? 1000)
      .offset(filter.offset ?? 0)) as Record<string, unknown>[];
    return rows.map(toRecord);
  }

  async get(q: Q, id: number): Promise<ConflictRecord | null> {
    const row = (await q(T.conflict).where({ id }).first()) as Record<string, unknown> | undefined;
    return row ? toRecord(row) : null;
  }

  /** Close a conflict with the decision taken. */
  async resolve(q: Q, id: number, resolution: { keep: string; value: CrmValue; edit?: boolean }, actor: string, at: string): Promise<void> {
    await q(T.conflict).where({ id }).update({ status: 'resolved', resolution: JSON.stringify(resolution), resolved_by: actor, resolved_at: at });
  }
}
