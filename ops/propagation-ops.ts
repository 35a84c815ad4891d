/**
 * `propagation` on every replicated record: per system its jobs push to, the key there, or why it
 * is parked or pending (sync/propagation-status.ts). A mutation with `propagate: WAIT` answers
 * once the push is done, so this field then tells each system's outcome; read later, it is the
 * record's per-system sync status. One status computation per entity per request level.
 */
import { ENTITY_NAMES, type EntityName } from '../model/entities.js';
import type { Resolver, SchemaModule } from '../schema/module.js';
import type { Runtime } from '../schema/runtime.js';
import { scope } from '../schema/resolvers.js';
import { HUB, type Rec } from '../schema/store.js';
import { Propagator } from '../sync/propagation.js';
import { propagationStatus, type TargetStatus } from '../sync/propagation-status.js';
import type { SyncApp } from '../sync/context.js';

const TYPES = /* GraphQL */ `
"""Where a record stands in one system a sync job writes it to (各系统同步状态)."""
enum PropagationState {
  "In the system, and nothing left to write."
  SYNCED
  "Still to be written: queued, waiting for a retry, or for the job's next run (see reason)."
  PENDING
  "Writing it failed and it was parked (see reason; retry with retryParked)."
  PARKED
  "An open conflict holds a field back until someone decides."
  CONFLICT
  "Not in the system, which takes no inserts of this entity."
  NOT_WRITTEN
}
"""One system a record is propagated to."""
type PropagationTarget {
  job: String!
  source: String!
  "The record's key in that system, once it has one."
  key: String
  status: PropagationState!
  "Why it is not SYNCED."
  reason: String
}
${ENTITY_NAMES.map((e) => `extend type ${e} {\n  "Per system the sync jobs write this record to: its key there, or why it is not there yet. Empty for federated records."\n  propagation: [PropagationTarget!]!\n}`).join('\n')}
`;

function propagationField(rt: Runtime, entity: EntityName): Resolver {
  return (parent, _args, ctx) => {
    const rec = parent as Rec;
    if (rec.space !== HUB) return Promise.resolve([]);
    const s = scope(rt, ctx);
    return s
      .loader<string, TargetStatus[]>(`propagation:${entity}`, async (gids) => {
        // SchemaApp is the slice the schema reads; the application behind it is also a SyncApp.
        const app = rt.app as SyncApp;
        const propagator = rt.app.propagation instanceof Propagator ? rt.app.propagation : null;
        const byGid = await propagationStatus(app, entity, gids, propagator);
        return gids.map((g) => byGid.get(g) ?? []);
      })
      .load(rec.key);
  };
}

export const propagationModule: SchemaModule = {
  typeDefs: { types: TYPES, query: [], mutation: [] },
  resolvers: (rt) => ({
    types: Object.fromEntries(ENTITY_NAMES.map((e) => [e, { propagation: propagationField(rt, e) }])),
  }),
};
