/**
 * Live operations over server-sent events (as schema/subscriptions.ts serves record changes):
 * - `syncRunProgress(job)`: the progress of every sync run of this process (rows done, the
 *   estimate, phase, source, rows/s, seconds left) and, when a run ends, a final event with its
 *   status. Runs publish into sync/run-events.ts's bus, whoever started them (the scheduler, the
 *   runSyncJob mutation, the CLI in the same process).
 * - `conflictOpened`: each new open conflict, once the write that raised it committed
 *   (hub/conflicts.ts onOpened). Values of a field hidden from the viewer are null.
 * Both need an admin role, as the operations queries do (deny by default).
 *
 * @example
 *   curl -N -H 'accept: text/event-stream' -H 'x-api-key: …' \
 *     'http://localhost:4000/graphql?query=subscription{syncRunProgress(job:"customers"){job phase source done estimated etaSeconds final status}}'
 */
import { runEvents, type RunProgress } from '../sync/run-events.js';
import type { ConflictRecord } from '../hub/conflicts.js';
import type { SchemaModule, SubscriptionField } from '../schema/module.js';
import type { Runtime } from '../schema/runtime.js';
import { scope } from '../schema/resolvers.js';
import { isHidden, requireAdmin } from '../schema/security.js';
import type { Viewer } from '../schema/viewer.js';
import { codeEnum, enumResolvers } from '../schema/enums.js';
import { recordView } from './sync-ops.js';

const SYNC_PHASE = codeEnum('SyncPhase', ['pull', 'push', 'reconcile'], 'PULL reads sources into the hub, PUSH writes the hub out, RECONCILE compares keys.');

const TYPES = /* GraphQL */ `
${SYNC_PHASE.sdl}
"""An event of a sync run as it goes: its progress, or (final) its end."""
type SyncRunProgress {
  "Null for a run that was not recorded."
  runId: ID
  job: String!
  "The phase and source of the latest progress (null on the final event of a run that reported none)."
  phase: SyncPhase
  source: String
  "Rows (keys, for a reconcile) done in this phase on this source."
  done: Int!
  "The source's estimate of its rows, when known."
  estimated: Int
  "Rows per second since this phase on this source began."
  rowsPerSecond: Float
  "Seconds left at that rate, when the estimate is known; 0 on the final event."
  etaSeconds: Float
  at: DateTime!
  "The run ended; status says how."
  final: Boolean!
  status: SyncRunStatus
}
`;

/** How many events a slow subscriber may fall behind before the oldest are dropped. */
const BUFFER = 1000;

/**
 * Events pushed from a listener attached now (so nothing published after subscribe returns is
 * missed), read as an async iterator; return() detaches it.
 */
class EventQueue<T> implements AsyncIterableIterator<T> {
  private items: T[] = [];
  private waiting: ((r: IteratorResult<T>) => void) | null = null;
  private closed = false;
  private readonly detach: () => void;

  constructor(attach: (push: (v: T) => void) => () => void) {
    this.detach = attach((v) => this.push(v));
  }

  private push(v: T): void {
    if (this.closed) return;
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = null;
      w({ value: v, done: false });
      return;
    }
    this.items.push(v);
    if (this.items.length > BUFFER) this.items.shift();
  }

  next(): Promise<IteratorResult<T>> {
    const v = this.items.shift();
    if (v !== undefined) return Promise.resolve({ value: v, done: false });
    if (this.closed) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.waiting = resolve));
  }

  return(): Promise<IteratorResult<T>> {
    if (!this.closed) {
      this.closed = true;
      this.detach();
      this.items = [];
      this.waiting?.({ value: undefined, done: true });
      this.waiting = null;
    }
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

function progressField(rt: Runtime): SubscriptionField {
  return {
    subscribe: (_p, args, ctx) => {
      requireAdmin(scope(rt, ctx).viewer, 'follow sync runs');
      const job = typeof args.job === 'string' ? args.job : null;
      return new EventQueue<RunProgress>((push) => runEvents(rt.app.hub).listen((e) => {
        if (job === null || e.job === job) push(e);
      }));
    },
    resolve: (e) => {
      const p = e as RunProgress;
      return { ...p, runId: p.runId === null ? null : String(p.runId) };
    },
  };
}

/** The conflict as the viewer may see it: a hidden field's values are null. */
function visibleConflict(viewer: Viewer, c: ConflictRecord) {
  const view = recordView(c);
  if (!isHidden(viewer, c.entity, c.field)) return view;
  return { ...view, base: null, values: view.values.map((v) => ({ side: v.side, value: null })) };
}

function conflictField(rt: Runtime): SubscriptionField {
  return {
    subscribe: (_p, _args, ctx) => {
      const viewer = scope(rt, ctx).viewer;
      requireAdmin(viewer, 'follow conflicts');
      return new EventQueue<unknown>((push) =>
        rt.app.hub.store.conflicts.onOpened((opened) => {
          for (const c of opened) push(visibleConflict(viewer, c));
        }),
      );
    },
    resolve: (c) => c,
  };
}

export const syncSubscriptionsModule: SchemaModule = {
  typeDefs: {
    types: TYPES,
    query: [],
    mutation: [],
    subscription: [
      '  "Progress of the sync runs of this process (of one job with job), live; a final event when each run ends. Admin only."\n  syncRunProgress(job: String): SyncRunProgress!',
      '  "Each new open conflict, as the write that raised it commits. Admin only."\n  conflictOpened: Conflict!',
    ],
  },
  resolvers: (rt) => ({ subscription: { syncRunProgress: progressField(rt), conflictOpened: conflictField(rt) } }),
  enums: enumResolvers([SYNC_PHASE]),
};
