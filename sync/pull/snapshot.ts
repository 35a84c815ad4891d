/**
 * Stage 3, snapshot deletes: a full-scan (hash) snapshot spans pages and commits, so the keys it
 * has seen are kept in the hub (the store's sync journal), and when it ends, a key with a live base
 * that was not seen is a delete — even when the snapshot was resumed after a crash. Pages of other
 * capture strategies pass through untouched.
 */
import type { Knex } from 'knex';
import type { HubStore } from '../../hub/store.js';
import type { DecodedPage, PageContext, PageItem } from './types.js';

export interface SnapshotPosition {
  /** The page is part of a full-scan snapshot. */
  snapshot: boolean;
  /** The first page of the snapshot: forget the keys the previous one saw. */
  starts: boolean;
  /** The last page of the snapshot. */
  ends: boolean;
}

export async function addSnapshotDeletes(
  page: DecodedPage,
  ctx: PageContext,
  at: SnapshotPosition,
  trx: Knex.Transaction,
  store: HubStore,
): Promise<Map<string, PageItem>> {
  if (!at.snapshot) return page.items;
  const { job, entity, source } = ctx;
  if (at.starts) await store.journal.forgetSeen(trx, job, source);
  await store.journal.markSeen(trx, job, source, page.seenKeys);
  if (!at.ends) return page.items;
  const items = new Map(page.items);
  const gone = await store.bases.unseenKeys(trx, entity, source, (keys) => store.journal.seen(trx, job, source, keys));
  for (const sourceKey of gone) if (!items.has(sourceKey)) items.set(sourceKey, { kind: 'delete', sourceKey, changedAt: null });
  await store.journal.forgetSeen(trx, job, source);
  return items;
}
