/**
 * A golden customer written straight into a hub as a sync would leave it (record row, xref, base
 * rows, then survivorship and provenance through recomputeGolden): the starting point of the merge
 * tests, without running a sync.
 */
import { hashRecord } from '../../model/values.js';
import type { CrmRecord } from '../../model/entities.js';
import { nowIso, type Hub } from '../../hub/hub.js';
import { SYSTEM_TABLES as T } from '../../hub/tables.js';
import { recomputeGolden, type SurvivorshipRules } from '../../identity/index.js';

/** A source row linked to the customer: its key, its own change time (null when the source gives none) and values. */
export interface SeedLink {
  source: string;
  key: string;
  changedAt: string | null;
  values: CrmRecord;
}

export interface SeedOptions {
  rules: SurvivorshipRules;
  /** Values the hub record holds beyond the first link's name. */
  hubValues?: CrmRecord;
  /** When every link was made and last synced; by default each link's own change time. */
  syncedAt?: string;
}

/** The new customer's id. */
export async function seedGoldenCustomer(hub: Hub, links: SeedLink[], opts: SeedOptions): Promise<string> {
  const gid = hub.newId('Customer');
  await hub.knex.transaction(async (trx) => {
    await trx('crm_customer').insert({
      id: gid,
      ...hub.toRow('Customer', { name: links[0]?.values.name ?? null, ...opts.hubValues }),
      _version: 1,
      _seq: await hub.nextSeq(trx),
      _updated_at: nowIso(),
      _deleted: false,
    });
    for (const l of links) {
      const syncedAt = opts.syncedAt ?? l.changedAt;
      if (syncedAt === null) throw new Error(`link ${l.source}/${l.key} has no change time and no syncedAt was given`);
      await trx(T.xref).insert({ entity: 'Customer', source: l.source, source_key: l.key, gid, rule: 'new', linked_at: syncedAt });
      await trx(T.base).insert({
        entity: 'Customer',
        source: l.source,
        source_key: l.key,
        values: JSON.stringify(l.values),
        hash: hashRecord(l.values),
        deleted: false,
        changed_at: l.changedAt,
        synced_at: syncedAt,
      });
    }
    await recomputeGolden(hub, trx, 'Customer', gid, opts.rules);
  });
  return gid;
}
