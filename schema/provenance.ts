/**
 * Where a record's data came from: linked source records (crm_xref + crm_base), the source of
 * each field (crm_provenance) and the sync status. Each is one batched hub query per level.
 *
 * syncStatus of a golden record, first match wins:
 * - CONFLICT: an open crm_conflict row;
 * - ERROR: a parked record (crm_parked, status parked);
 * - PENDING: the record changed after a linked source's base was last synced (or a linked source
 *   has no base yet): sync has something to push;
 * - IN_SYNC otherwise. A federated record is read live, hence always IN_SYNC.
 */
import type { Knex } from 'knex';
import { SYSTEM_TABLES as T } from '../hub/tables.js';
import type { CrmValue } from '../model/entities.js';
import { isHidden } from './security.js';
import { HUB, type Rec } from './store.js';
import type { Scope } from './runtime.js';

export interface SourceRecordView {
  source: string;
  key: string;
  syncedAt: string | null;
  /** That system's values as last read by sync (crm_base), fields hidden from the viewer left out; null before the first sync. */
  values: Record<string, CrmValue> | null;
}
export interface FieldSourceView {
  field: string;
  source: string;
  changedAt: string | null;
}
export type SyncStatus = 'IN_SYNC' | 'PENDING' | 'CONFLICT' | 'ERROR';

const keyOf = (r: Rec) => `${r.entity}:${r.key}`;

/** A system's values without the fields the viewer's role hides (row rules apply to the record already). */
function visible(scope: Scope, entity: string, values: Readonly<Record<string, CrmValue | undefined>>): Record<string, CrmValue> {
  const out: Record<string, CrmValue> = {};
  for (const [f, v] of Object.entries(values)) if (v !== undefined && !isHidden(scope.viewer, entity, f)) out[f] = v;
  return out;
}

function groupByEntity(recs: readonly Rec[]): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const r of recs) m.set(r.entity, [...(m.get(r.entity) ?? []), r.key]);
  return m;
}

/**
 * A list of views for each hub record, loaded in one query per entity for all the records a
 * request asks about: `viewsOf` reads one entity's records and names the record of each view.
 */
function viewsPerRecord<V>(scope: Scope, name: string, rec: Rec, viewsOf: (knex: Knex, entity: string, gids: string[]) => Promise<{ gid: string; view: V }[]>): Promise<V[]> {
  return scope
    .loader<Rec, V[]>(
      name,
      async (recs) => {
        const knex = scope.app.hub.knex;
        const out = new Map<string, V[]>();
        for (const [entity, gids] of groupByEntity(recs)) {
          for (const { gid, view } of await viewsOf(knex, entity, gids)) {
            const k = `${entity}:${gid}`;
            out.set(k, [...(out.get(k) ?? []), view]);
          }
        }
        return recs.map((r) => out.get(keyOf(r)) ?? []);
      },
      keyOf,
    )
    .load(rec);
}

export function sourceRecords(scope: Scope, rec: Rec): Promise<SourceRecordView[]> {
  if (rec.space !== HUB) return Promise.resolve([{ source: rec.space, key: rec.key, syncedAt: null, values: visible(scope, rec.entity, rec.values) }]);
  return viewsPerRecord(scope, 'prov:sourceRecords', rec, async (knex, entity, gids) => {
    const rows = await knex(`${T.xref} as x`)
      .leftJoin(`${T.base} as b`, function on() {
        this.on('b.entity', '=', 'x.entity').andOn('b.source', '=', 'x.source').andOn('b.source_key', '=', 'x.source_key');
      })
      .select({ gid: 'x.gid', source: 'x.source', key: 'x.source_key', syncedAt: 'b.synced_at', values: 'b.values' })
      .where('x.entity', entity)
      .whereIn('x.gid', gids)
      .orderBy([{ column: 'x.source' }, { column: 'x.source_key' }]);
    return rows.map((r) => {
      const values = typeof r.values === 'string' ? visible(scope, entity, JSON.parse(r.values) as Record<string, CrmValue>) : null;
      return { gid: String(r.gid), view: { source: String(r.source), key: String(r.key), syncedAt: r.syncedAt ? String(r.syncedAt) : null, values } };
    });
  });
}

export function fieldSources(scope: Scope, rec: Rec): Promise<FieldSourceView[]> {
  if (rec.space !== HUB) {
    return Promise.resolve(Object.keys(rec.values).map((field) => ({ field, source: rec.space, changedAt: null })));
  }
  return viewsPerRecord(scope, 'prov:fieldSources', rec, async (knex, entity, gids) => {
    const rows = await knex(T.provenance).select('gid', 'field', 'source', 'changed_at').where('entity', entity).whereIn('gid', gids).orderBy('field');
    return rows.map((r) => ({ gid: String(r.gid), view: { field: String(r.field), source: String(r.source), changedAt: r.changed_at ? String(r.changed_at) : null } }));
  });
}

export function syncStatus(scope: Scope, rec: Rec): Promise<SyncStatus> {
  if (rec.space !== HUB) return Promise.resolve('IN_SYNC');
  return scope
    .loader<Rec, SyncStatus>(
      'prov:syncStatus',
      async (recs) => {
        const knex = scope.app.hub.knex;
        const conflict = new Set<string>();
        const parked = new Set<string>();
        const pending = new Set<string>();
        for (const [entity, gids] of groupByEntity(recs)) {
          for (const r of await knex(T.conflict).distinct('gid').where({ entity, status: 'open' }).whereIn('gid', gids)) conflict.add(`${entity}:${String(r.gid)}`);
          for (const r of await knex(T.parked).distinct('gid').where({ entity, status: 'parked' }).whereIn('gid', gids)) parked.add(`${entity}:${String(r.gid)}`);
          const bases = await knex(`${T.xref} as x`)
            .leftJoin(`${T.base} as b`, function on() {
              this.on('b.entity', '=', 'x.entity').andOn('b.source', '=', 'x.source').andOn('b.source_key', '=', 'x.source_key');
            })
            .select({ gid: 'x.gid', syncedAt: 'b.synced_at' })
            .where('x.entity', entity)
            .whereIn('x.gid', gids);
          const updated = new Map(recs.filter((r) => r.entity === entity).map((r) => [r.key, r.updatedAt ?? '']));
          for (const b of bases) {
            const u = updated.get(String(b.gid)) ?? '';
            if (!b.syncedAt || String(b.syncedAt) < u) pending.add(`${entity}:${String(b.gid)}`);
          }
        }
        return recs.map((r) => {
          const k = keyOf(r);
          return conflict.has(k) ? 'CONFLICT' : parked.has(k) ? 'ERROR' : pending.has(k) ? 'PENDING' : 'IN_SYNC';
        });
      },
      keyOf,
    )
    .load(rec);
}
