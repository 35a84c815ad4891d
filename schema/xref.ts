/**
 * Crossing key spaces through the hub's cross-reference (crm_xref: entity, source, source_key ↔
 * gid). A ref field holds the referenced record's key in the referencing record's own space, so
 * joining a hub customer to ERP orders means hub gid → ERP source key, and joining ERP orders to
 * finance invoices means ERP key → gid → finance key (one self-join, one statement).
 */
import type { Knex } from 'knex';
import { SYSTEM_TABLES as T } from '../hub/tables.js';
import type { EntityName } from '../model/entities.js';
import { HUB } from './store.js';

const CHUNK = 500;

/** Keys of `entity` in space `from` → its keys in space `to` (a key may have several, or none). */
export async function translateKeys(
  knex: Knex,
  entity: EntityName,
  from: string,
  to: string,
  keys: readonly string[],
): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  const unique = [...new Set(keys)];
  if (from === to) {
    for (const k of unique) out.set(k, [k]);
    return out;
  }
  const add = (a: unknown, b: unknown) => {
    const k = String(a);
    const list = out.get(k) ?? [];
    if (!list.includes(String(b))) list.push(String(b));
    out.set(k, list);
  };
  for (let i = 0; i < unique.length; i += CHUNK) {
    const chunk = unique.slice(i, i + CHUNK);
    if (from === HUB) {
      const rows = await knex(T.xref).select('gid', 'source_key').where({ entity, source: to }).whereIn('gid', chunk);
      for (const r of rows) add(r.gid, r.source_key);
    } else if (to === HUB) {
      const rows = await knex(T.xref).select('source_key', 'gid').where({ entity, source: from }).whereIn('source_key', chunk);
      for (const r of rows) add(r.source_key, r.gid);
    } else {
      const rows = await knex(`${T.xref} as a`)
        .join(`${T.xref} as b`, function on() {
          this.on('a.entity', '=', 'b.entity').andOn('a.gid', '=', 'b.gid');
        })
        .select({ f: 'a.source_key', t: 'b.source_key' })
        .where('a.entity', entity)
        .where('a.source', from)
        .where('b.source', to)
        .whereIn('a.source_key', chunk);
      for (const r of rows) add(r.f, r.t);
    }
  }
  return out;
}

/**
 * Hub ids of `entity` → their keys in every source at once (gid → source → keys): one statement
 * serves every target space of a level (customer-360 reads ERP, finance and OA keys of one page).
 */
export async function keysInAllSources(knex: Knex, entity: EntityName, gids: readonly string[]): Promise<Map<string, Map<string, string[]>>> {
  const out = new Map<string, Map<string, string[]>>();
  const unique = [...new Set(gids)];
  for (let i = 0; i < unique.length; i += CHUNK) {
    const rows = (await knex(T.xref)
      .select('gid', 'source', 'source_key')
      .where({ entity })
      .whereIn('gid', unique.slice(i, i + CHUNK))) as { gid: unknown; source: unknown; source_key: unknown }[];
    for (const r of rows) {
      const gid = String(r.gid);
      let bySource = out.get(gid);
      if (!bySource) out.set(gid, (bySource = new Map()));
      const source = String(r.source);
      const key = String(r.source_key);
      const list = bySource.get(source);
      if (!list) bySource.set(source, [key]);
      else if (!list.includes(key)) list.push(key);
    }
  }
  return out;
}
