/**
 * Stage 4, link identity: which golden record each item belongs to, and the hub's side of those
 * records. Ref fields turn from source keys into global ids (a reference to a record the hub does
 * not have yet is rejected), known keys follow the cross-reference, unknown ones go to identity
 * matching; then the golden records (following merges to their survivor), their provenance, open
 * conflicts and the items' bases are read, all inside the page's transaction.
 */
import type { Knex } from 'knex';
import { RowError } from '../../core/errors.js';
import type { BaseEntry } from '../../hub/bases.js';
import type { Hub, HubRecord } from '../../hub/hub.js';
import type { IdentityLinker } from '../identity.js';
import type { LinkedPage, PageContext, PageItem, Rejected, UpsertItem } from './types.js';

export interface LinkDeps {
  hub: Hub;
  linker: IdentityLinker;
}

export async function linkPage(items: Map<string, PageItem>, ctx: PageContext, trx: Knex.Transaction, deps: LinkDeps): Promise<LinkedPage> {
  const { store } = deps.hub;
  const rejected: Rejected[] = [];
  const linked = await translateRefs(items, ctx, trx, deps.hub, rejected);
  const keys = [...linked.keys()];
  const xref = await store.xref.load(trx, ctx.entity, ctx.source, keys);
  const bases = await baseRefsToSurvivors(await store.bases.load(trx, ctx.entity, ctx.source, keys), ctx, trx, deps.hub);
  const unknown = [...linked.values()].filter((i): i is UpsertItem => i.kind === 'upsert' && !xref.has(i.sourceKey));
  const decisions = await deps.linker.link(
    trx,
    ctx.source,
    unknown.map((i) => ({ sourceKey: i.sourceKey, record: i.record })),
  );
  const known = new Set<string>();
  for (const k of keys) {
    const gid = xref.get(k)?.gid ?? (decisions.get(k)?.isNew === false ? decisions.get(k)?.gid : undefined);
    if (gid) known.add(gid);
  }
  const records = await followMerges(deps.hub, ctx, trx, [...known]);
  const gids = [...new Set([...records.values()].map((r) => r.id))];
  const provenance = await store.provenance.load(trx, ctx.entity, gids);
  const open = await store.conflicts.loadOpen(trx, ctx.entity, gids);
  return { items: linked, rejected, xref, decisions, bases, records, provenance, open };
}

/** Ref fields hold source keys in the source and global ids in the hub. */
async function translateRefs(items: Map<string, PageItem>, ctx: PageContext, trx: Knex.Transaction, hub: Hub, rejected: Rejected[]): Promise<Map<string, PageItem>> {
  const out = new Map(items);
  for (const name of ctx.fields) {
    const f = ctx.model.get(name);
    if (f?.type !== 'ref' || !f.ref) continue;
    const target = f.ref;
    const wanted = new Set<string>();
    for (const i of out.values()) if (i.kind === 'upsert' && i.record[name] !== null && i.record[name] !== undefined) wanted.add(String(i.record[name]));
    if (wanted.size === 0) continue;
    const space = ctx.refSources?.get(name) ?? ctx.source;
    const found = await hub.store.xref.load(trx, target, space, [...wanted]);
    for (const [key, i] of out) {
      if (i.kind !== 'upsert' || i.record[name] === null || i.record[name] === undefined) continue;
      const x = found.get(String(i.record[name]));
      if (x) {
        out.set(key, { ...i, record: { ...i.record, [name]: x.gid } });
        continue;
      }
      out.delete(key);
      const error = new RowError(
        'ROW_REJECTED',
        `${ctx.entity}.${name} refers to ${target} ${String(i.record[name])} of ${space}, which is not in the hub yet: sync ${target} first, then retry the parked rows`,
        { source: ctx.source, entity: ctx.entity, key, field: name },
      );
      rejected.push({ sourceKey: key, error, payload: i.record });
    }
  }
  return out;
}

/**
 * A base records a reference as the global id its row's key stood for when it was synced. When that
 * record has since been merged, the row's key now stands for the survivor (the merge moved it), so
 * the base's reference is read as the survivor too: otherwise the unchanged row reads as a change
 * to the survivor, and a hub edit of the reference made since the merge becomes a false conflict.
 */
async function baseRefsToSurvivors(bases: Map<string, BaseEntry>, ctx: PageContext, trx: Knex.Transaction, hub: Hub): Promise<Map<string, BaseEntry>> {
  for (const name of ctx.fields) {
    const target = ctx.model.get(name)?.ref;
    if (ctx.model.get(name)?.type !== 'ref' || !target) continue;
    const gids = new Set<string>();
    for (const b of bases.values()) {
      const v = b.values[name];
      if (v !== null && v !== undefined) gids.add(String(v));
    }
    if (gids.size === 0) continue;
    const survivors = await hub.store.golden.survivors(trx, target, [...gids]);
    if (survivors.size === 0) continue;
    for (const [key, b] of bases) {
      const v = b.values[name];
      const survivor = v === null || v === undefined ? undefined : survivors.get(String(v));
      if (survivor !== undefined) bases.set(key, { ...b, values: { ...b.values, [name]: survivor } });
    }
  }
  return bases;
}

/** Hub records by gid, following `_merged_into` to the survivor (keyed by the gid asked for). */
async function followMerges(hub: Hub, ctx: PageContext, trx: Knex.Transaction, gids: string[]): Promise<Map<string, HubRecord>> {
  const out = new Map<string, HubRecord>();
  let pending = gids;
  const asked = new Map<string, string>(gids.map((g) => [g, g]));
  for (let depth = 0; depth < 5 && pending.length > 0; depth++) {
    const found = await hub.getMany(ctx.entity, pending, trx);
    const next: string[] = [];
    for (const g of pending) {
      const rec = found.get(g);
      if (!rec) continue;
      const origin = asked.get(g) ?? g;
      if (rec.mergedInto) {
        asked.set(rec.mergedInto, origin);
        next.push(rec.mergedInto);
      } else out.set(origin, rec);
    }
    pending = next;
  }
  return out;
}
