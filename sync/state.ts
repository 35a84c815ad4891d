/**
 * Batched access to the hub's sync state: cross-references, bases, provenance and conflicts. Every
 * function takes the query handle to run on, so a page's reads and writes share its transaction,
 * and works on whole pages (IN lists, multi-row upserts), never one statement per row.
 */
import type { Knex } from 'knex';
import { hashRecord } from '../model/values.js';
import { SYSTEM_TABLES as T } from '../hub/tables.js';
import type { CrmRecord, CrmValue } from '../model/entities.js';
import type { FieldConflict } from './three-way-merge.js';

type Q = Knex | Knex.Transaction;

/** IN lists stay well under every engine's parameter limit. */
const IN_CHUNK = 500;

export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Rows per multi-row insert for a table of `columns` columns. SQLite allows 32766 parameters and
 * knex writes a multi-row insert there as a compound SELECT, capped at 500 terms; PostgreSQL takes
 * 65535 parameters, and fewer, larger statements save round trips.
 */
export function rowsPerInsert(columns: number, q?: Knex | Knex.Transaction): number {
  const pg = (q?.client as { config?: { client?: unknown } } | undefined)?.config?.client === 'pg';
  return pg ? Math.max(1, Math.min(5000, Math.floor(60_000 / columns))) : Math.max(1, Math.min(500, Math.floor(30_000 / columns)));
}

// ------------------------------------------------------------------------------------ xref

export interface XrefEntry {
  gid: string;
  rule: string | null;
}

export async function loadXref(q: Q, entity: string, source: string, keys: readonly string[]): Promise<Map<string, XrefEntry>> {
  const out = new Map<string, XrefEntry>();
  for (const part of chunks([...new Set(keys)], IN_CHUNK)) {
    const rows = (await q(T.xref).where({ entity, source }).whereIn('source_key', part).select('source_key', 'gid', 'rule')) as {
      source_key: string;
      gid: string;
      rule: string | null;
    }[];
    for (const r of rows) out.set(r.source_key, { gid: r.gid, rule: r.rule });
  }
  return out;
}

/** Source keys of each gid in one source, oldest link first. */
export async function loadKeysByGid(q: Q, entity: string, source: string, gids: readonly string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const part of chunks([...new Set(gids)], IN_CHUNK)) {
    const rows = (await q(T.xref)
      .where({ entity, source })
      .whereIn('gid', part)
      .orderBy(['gid', 'linked_at', 'source_key'])
      .select('gid', 'source_key')) as { gid: string; source_key: string }[];
    for (const r of rows) {
      const list = out.get(r.gid);
      if (list) list.push(r.source_key);
      else out.set(r.gid, [r.source_key]);
    }
  }
  return out;
}

export async function insertXrefs(q: Q, rows: { entity: string; source: string; sourceKey: string; gid: string; rule: string | null }[]): Promise<void> {
  const now = new Date().toISOString();
  for (const part of chunks(rows, rowsPerInsert(6, q))) {
    await q(T.xref)
      .insert(part.map((r) => ({ entity: r.entity, source: r.source, source_key: r.sourceKey, gid: r.gid, rule: r.rule, linked_at: now })))
      .onConflict(['entity', 'source', 'source_key'])
      .merge(['gid', 'rule', 'linked_at']);
  }
}

// ------------------------------------------------------------------------------------ base

export interface BaseEntry {
  sourceKey: string;
  values: CrmRecord;
  hash: string;
  deleted: boolean;
  changedAt: string | null;
}

export async function loadBases(q: Q, entity: string, source: string, keys: readonly string[]): Promise<Map<string, BaseEntry>> {
  const out = new Map<string, BaseEntry>();
  for (const part of chunks([...new Set(keys)], IN_CHUNK)) {
    const rows = (await q(T.base).where({ entity, source }).whereIn('source_key', part)) as Record<string, unknown>[];
    for (const r of rows) out.set(String(r.source_key), baseOf(r));
  }
  return out;
}

function baseOf(r: Record<string, unknown>): BaseEntry {
  return {
    sourceKey: String(r.source_key),
    values: JSON.parse(String(r.values)) as CrmRecord,
    hash: String(r.hash),
    deleted: r.deleted === true || r.deleted === 1 || r.deleted === '1',
    changedAt: (r.changed_at as string | null) ?? null,
  };
}

export interface BaseWrite {
  sourceKey: string;
  values: CrmRecord;
  deleted: boolean;
  changedAt: string | null;
}

export async function upsertBases(q: Q, entity: string, source: string, rows: readonly BaseWrite[]): Promise<void> {
  const now = new Date().toISOString();
  // Last write per key wins within one call (a page may touch a key twice).
  const byKey = new Map(rows.map((r) => [r.sourceKey, r]));
  for (const part of chunks([...byKey.values()], rowsPerInsert(8, q))) {
    await q(T.base)
      .insert(
        part.map((r) => ({
          entity,
          source,
          source_key: r.sourceKey,
          values: JSON.stringify(r.values),
          hash: hashRecord(r.values),
          deleted: r.deleted,
          changed_at: r.changedAt,
          synced_at: now,
        })),
      )
      .onConflict(['entity', 'source', 'source_key'])
      .merge(['values', 'hash', 'deleted', 'changed_at', 'synced_at']);
  }
}

/**
 * Keys of live (not tombstoned) bases of a source that are missing from the snapshot's seen set.
 * Walked in key order a page at a time, each page checked against the seen set by primary key: a
 * single NOT EXISTS over tables filled in the same transaction (no statistics yet) can make
 * PostgreSQL pick a quadratic plan.
 */
export async function unseenBaseKeys(q: Q, entity: string, source: string, job: string, seenTable: string): Promise<string[]> {
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
    const live = page.filter((r) => !(r.deleted === true || r.deleted === 1 || r.deleted === '1')).map((r) => r.source_key);
    if (live.length > 0) {
      const seen = new Set<string>();
      for (const part of chunks(live, IN_CHUNK)) {
        const rows = (await q(seenTable).where({ job, source }).whereIn('source_key', part).select('source_key')) as { source_key: string }[];
        for (const r of rows) seen.add(r.source_key);
      }
      for (const k of live) if (!seen.has(k)) out.push(k);
    }
    if (page.length < 1000) break;
  }
  return out;
}

// ------------------------------------------------------------------------------------ provenance

export interface Provenance {
  changedAt: Record<string, string>;
  source: Record<string, string>;
}

export async function loadProvenance(q: Q, entity: string, gids: readonly string[]): Promise<Map<string, Provenance>> {
  const out = new Map<string, Provenance>();
  for (const part of chunks([...new Set(gids)], IN_CHUNK)) {
    const rows = (await q(T.provenance).where({ entity }).whereIn('gid', part).select('gid', 'field', 'source', 'changed_at')) as {
      gid: string;
      field: string;
      source: string;
      changed_at: string;
    }[];
    for (const r of rows) {
      let p = out.get(r.gid);
      if (!p) out.set(r.gid, (p = { changedAt: {}, source: {} }));
      p.changedAt[r.field] = r.changed_at;
      p.source[r.field] = r.source;
    }
  }
  return out;
}

export async function upsertProvenance(q: Q, entity: string, rows: readonly { gid: string; field: string; source: string; changedAt: string }[]): Promise<void> {
  const byKey = new Map(rows.map((r) => [`${r.gid}\u0000${r.field}`, r]));
  for (const part of chunks([...byKey.values()], rowsPerInsert(5, q))) {
    await q(T.provenance)
      .insert(part.map((r) => ({ entity, gid: r.gid, field: r.field, source: r.source, changed_at: r.changedAt })))
      .onConflict(['entity', 'gid', 'field'])
      .merge(['source', 'changed_at']);
  }
}

// ------------------------------------------------------------------------------------ conflicts

export interface OpenConflict {
  id: number;
  field: string;
  values: Record<string, CrmValue>;
}

/** Open conflicts of these records, by gid then field. */
export async function loadOpenConflicts(q: Q, entity: string, gids: readonly string[]): Promise<Map<string, Map<string, OpenConflict>>> {
  const out = new Map<string, Map<string, OpenConflict>>();
  for (const part of chunks([...new Set(gids)], IN_CHUNK)) {
    const rows = (await q(T.conflict).where({ entity, status: 'open' }).whereIn('gid', part).select('id', 'gid', 'field', 'values')) as {
      id: number;
      gid: string;
      field: string;
      values: string;
    }[];
    for (const r of rows) {
      let m = out.get(r.gid);
      if (!m) out.set(r.gid, (m = new Map()));
      m.set(r.field, { id: Number(r.id), field: r.field, values: JSON.parse(r.values) as Record<string, CrmValue> });
    }
  }
  return out;
}

export interface ConflictWrite {
  gid: string;
  conflict: FieldConflict;
}

/**
 * Store conflicts. An open conflict on a field that already has one is folded into it (the new
 * side's value added, the reason updated) rather than piling up one row per run; decided ones are
 * kept as resolved records, so what a policy decided stays visible.
 */
export async function writeConflicts(
  q: Q,
  job: string,
  entity: string,
  writes: readonly ConflictWrite[],
  open: Map<string, Map<string, OpenConflict>>,
): Promise<void> {
  const now = new Date().toISOString();
  const inserts: Record<string, unknown>[] = [];
  for (const { gid, conflict: c } of writes) {
    const base = c.base === undefined ? null : JSON.stringify(c.base);
    if (c.status === 'open') {
      const existing = open.get(gid)?.get(c.field);
      if (existing) {
        existing.values = { ...existing.values, ...c.values };
        await q(T.conflict)
          .where({ id: existing.id })
          .update({ values: JSON.stringify(existing.values), rule: c.rule, reason: c.reason });
        continue;
      }
      inserts.push({ job, entity, gid, field: c.field, base, values: JSON.stringify(c.values), rule: c.rule, reason: c.reason, status: 'open', created_at: now });
    } else {
      inserts.push({
        job,
        entity,
        gid,
        field: c.field,
        base,
        values: JSON.stringify(c.values),
        rule: c.rule,
        reason: c.reason,
        status: 'resolved',
        resolution: JSON.stringify({ auto: true, keep: c.winner, value: c.winner ? (c.values[c.winner] ?? null) : null }),
        resolved_by: `policy:${c.rule}`,
        created_at: now,
        resolved_at: now,
      });
    }
  }
  for (const part of chunks(inserts, rowsPerInsert(14, q))) {
    const ids = (await q(T.conflict).insert(part, ['id', 'gid', 'field', 'status'])) as unknown[];
    // Register new open conflicts so a later write in the same page folds into them.
    part.forEach((row, i) => {
      if (row.status !== 'open') return;
      const id = ids[i];
      const gid = String(row.gid);
      let m = open.get(gid);
      if (!m) open.set(gid, (m = new Map()));
      m.set(String(row.field), {
        id: typeof id === 'object' && id !== null ? Number((id as { id: unknown }).id) : Number(id),
        field: String(row.field),
        values: JSON.parse(String(row.values)) as Record<string, CrmValue>,
      });
    });
  }
}
