/**
 * Subscriptions (实时订阅) over server-sent events, through yoga's built-in SSE support: for each
 * entity `<entity>Changed(id: ID)`, one event per golden record written (create, update, delete,
 * merge, a sync run, a conflict resolution), after its transaction committed.
 *
 *   hub store event → (committed) → one pub/sub (yoga's createPubSub) → per subscriber: the
 *   entity and id asked for → the viewer's row rules on the values written → the event
 *
 * Row rules and field masks are the queries' own: a record outside the viewer's rows is never
 * delivered (checked on the values the change wrote, so a customer handed to someone else stops
 * reaching its former owner), a hidden field resolves to null in `node` and is left out of
 * `changedFields`. Authentication is the request's (use-auth runs before the subscription is
 * parsed), as for any query.
 *
 * @example
 *   curl -N -H 'accept: text/event-stream' -H 'x-api-key: …' \
 *     'http://localhost:4000/graphql?query=subscription{customerChanged{id action changedFields node{name phone}}}'
 */
import { createPubSub, Repeater } from 'graphql-yoga';
import type { HubChange, WrittenRecord } from '../hub/golden.js';
import { ENTITY_NAMES, type EntityName } from '../model/entities.js';
import type { ModuleResolvers, SchemaModule, SubscriptionField } from './module.js';
import { singularName } from './relations.js';
import { scope } from './resolvers.js';
import { Scope, type Runtime } from './runtime.js';
import { isHidden, isVisible } from './security.js';
import { HubStore } from './hub-store.js';
import type { Rec } from './store.js';
import { decodeId } from './ids.js';
import type { Viewer } from './viewer.js';

const TYPES = /* GraphQL */ `
${ENTITY_NAMES.map(
  (e) => `"""A ${e} written in the hub, as the change left it."""
type ${e}Change {
  id: ID!
  "create, update, delete, sync, merge, resolve-conflict, ... (the write's action)."
  action: String!
  version: Int!
  deleted: Boolean!
  "The fields the write set (hidden ones left out)."
  changedFields: [String!]!
  node: ${e}!
}`,
).join('\n')}
`;

/** The payload of one event: the record as written, for the entity's type resolvers. */
interface ChangeEvent {
  id: string;
  action: string;
  version: number;
  deleted: boolean;
  changedFields: string[];
  node: Rec;
}

/**
 * One listener on the hub store per schema, shared by every subscriber, attached while anyone
 * listens. One pub/sub event per golden write call (a page of a sync run is one event, not 500).
 */
class HubEvents {
  private readonly pubsub = createPubSub<{ change: [HubChange] }>();
  private users = 0;
  private detach: (() => void) | null = null;

  constructor(private readonly rt: Runtime) {}

  /** The changes from now on; the listener is in place when this returns (nothing is missed). */
  open(): AsyncIterableIterator<HubChange> {
    if (this.users++ === 0) {
      this.detach = this.rt.app.hub.store.subscribe((c) => {
        void c.committed.then((ok) => {
          if (ok) this.pubsub.publish('change', c);
        });
      });
    }
    const source = this.pubsub.subscribe('change')[Symbol.asyncIterator]();
    // A Repeater starts listening on its first next(): ask for the first value now.
    let first: Promise<IteratorResult<HubChange>> | null = source.next();
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      if (--this.users === 0) {
        this.detach?.();
        this.detach = null;
      }
    };
    return {
      next: () => {
        const p = first ?? source.next();
        first = null;
        return p;
      },
      return: async (value?: unknown) => {
        close();
        await source.return?.(value);
        return { done: true, value: undefined };
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }
}

/** The record as the change wrote it, in the shape the entity's resolvers read; null for a federated entity. */
function eventRec(rt: Runtime, entity: EntityName, r: WrittenRecord): Rec | null {
  const store = rt.store(entity);
  return store instanceof HubStore ? store.fromWritten(r) : null;
}

/** The events of `source` this viewer may see, for `entity` (and one record when `gid` is given). */
function eventsFor(rt: Runtime, viewer: Viewer, entity: EntityName, gid: string | null, source: AsyncIterableIterator<HubChange>, before: () => void): Repeater<ChangeEvent> {
  return new Repeater<ChangeEvent>(async (push, stop) => {
    void stop.then(() => source.return?.());
    for (let next = await source.next(); !next.done; next = await source.next()) {
      const change = next.value;
      if (change.entity !== entity) continue;
      // A fresh scope per event: visibility of parents is read as of now, not cached.
      const s = new Scope(rt, viewer);
      for (const r of change.records) {
        if (gid !== null && r.id !== gid) continue;
        const rec = eventRec(rt, entity, r);
        if (!rec || !(await isVisible(s, rec))) continue;
        before();
        await push({
          id: r.id,
          action: change.action,
          version: r.version,
          deleted: r.deleted,
          changedFields: r.changed.filter((f) => !isHidden(viewer, entity, f)),
          node: rec,
        });
      }
    }
    stop();
  });
}

function changedField(rt: Runtime, events: () => HubEvents, entity: EntityName): SubscriptionField {
  return {
    subscribe: (_p, args, ctx) => {
      const s = scope(rt, ctx);
      let gid: string | null = null;
      if (typeof args.id === 'string') {
        const d = decodeId(args.id);
        // A federated record is not written in the hub: nothing to listen to.
        gid = d && d.kind === 'hub' && d.entity === entity ? d.gid : '\0none';
      }
      // Relations of `node` are read through the request's scope: empty it for each event.
      return eventsFor(rt, s.viewer, entity, gid, events().open(), () => s.clear());
    },
    resolve: (event: unknown) => event,
  };
}

export const subscriptionModule: SchemaModule = {
  typeDefs: {
    types: TYPES,
    query: [],
    mutation: [],
    subscription: ENTITY_NAMES.map((e) => `  "Every write of a ${e} you may see (of one record with id), as it commits."\n  ${singularName(e)}Changed(id: ID): ${e}Change!`),
  },
  resolvers: (rt): ModuleResolvers => {
    let bus: HubEvents | null = null;
    const events = () => (bus ??= new HubEvents(rt));
    return { subscription: Object.fromEntries(ENTITY_NAMES.map((e) => [`${singularName(e)}Changed`, changedField(rt, events, e)])) };
  },
};
