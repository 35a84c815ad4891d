/**
 * Record history in GraphQL: `history(entity, id)` pages a golden record's versions, newest first.
 * A viewer sees the history of the records its row rules let it see (a deleted record by its last
 * values), and a field hidden from its role is left out of every version: neither its values nor
 * the fact that it changed show.
 */
import type { GraphQLFieldResolver } from 'graphql';
import { CrmlinkError } from '../core/errors.js';
import type { HistoryEntry } from '../hub/history.js';
import type { HubRecord } from '../hub/golden.js';
import { isEntityName, type EntityName } from '../model/entities.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { expectId } from './ids.js';
import { HubStore } from './hub-store.js';
import { notFound, scope, type CrmContext } from './resolvers.js';
import type { Runtime, Scope } from './runtime.js';
import { isHidden, isVisible } from './security.js';
import { HUB, type Rec } from './store.js';
import type { ExtraTypeDefs } from './typedefs.js';

type Resolver = GraphQLFieldResolver<unknown, CrmContext, Record<string, unknown>>;

export const HISTORY_TYPEDEFS: ExtraTypeDefs = {
  types: /* GraphQL */ `
type FieldChange {
  field: String!
  before: JSON
  after: JSON
}
"One version of a golden record (记录历史的一个版本)."
type RecordVersion {
  "The change's id: pass it to restoreChanges."
  id: ID!
  version: Int!
  at: DateTime!
  "A user (name and role), sync:<job> for a sync run, or the operation's actor."
  actor: String!
  "create, update, delete, sync, merge, unmerge, resolve-conflict, restore, undelete, ..."
  action: String!
  "The sync run that wrote this version."
  run: ID
  "The source a sync run read it from."
  source: String
  changes: [FieldChange!]!
  "The record's state after this version."
  deleted: Boolean!
  mergedInto: ID
}
type RecordVersionEdge {
  cursor: String!
  node: RecordVersion!
}
type RecordVersionConnection {
  edges: [RecordVersionEdge!]!
  nodes: [RecordVersion!]!
  pageInfo: PageInfo!
  totalCount: Int!
}
`,
  query: ['  "Every version of a golden record, newest first (deleted records too)."\n  history(entity: String!, id: ID!, first: Int = 20, after: String): RecordVersionConnection!'],
  mutation: [],
};

const SIG = 'history:version';

/** A golden record as a Rec, for the row rules (it may be deleted, which the entity store hides). */
function asRec(entity: EntityName, r: HubRecord): Rec {
  return { entity, id: r.id, space: HUB, key: r.id, values: r.values, get: (f) => r.values[f] ?? null, version: r.version, updatedAt: r.updatedAt, raw: {} };
}

/** The golden record `id` of `entity` if the viewer may see it (deleted ones included); NOT_FOUND otherwise. */
export async function visibleGolden(s: Scope, entityArg: string, id: string): Promise<{ entity: EntityName; record: HubRecord }> {
  if (!isEntityName(entityArg)) throw new CrmlinkError('VALIDATION_FAILED', `entity: unknown entity "${entityArg}"`, { field: 'entity' });
  const entity = entityArg;
  if (!(s.rt.store(entity) instanceof HubStore)) {
    throw new CrmlinkError('VALIDATION_FAILED', `${entity} is federated (it lives in its source only): the hub keeps no history of it`, { entity, setting: `entities.${entity}.mode` });
  }
  const d = expectId(id, entity);
  if (d.kind !== 'hub') throw notFound(entity, id);
  const record = await s.app.hub.get(entity, d.gid);
  if (!record || !(await isVisible(s, asRec(entity, record)))) throw notFound(entity, id);
  return { entity, record };
}

function versionView(s: Scope, e: HistoryEntry) {
  return {
    id: String(e.id),
    version: e.version,
    at: e.at,
    actor: e.actor,
    action: e.action,
    run: e.run === null ? null : String(e.run),
    source: e.source,
    changes: e.changes.filter((c) => !isHidden(s.viewer, e.entity, c.field)),
    deleted: e.deleted,
    mergedInto: e.mergedInto,
  };
}

export function historyResolvers(rt: Runtime): { query: Record<string, Resolver>; mutation: Record<string, Resolver> } {
  const query: Record<string, Resolver> = {
    history: async (_p, a, ctx) => {
      const s = scope(rt, ctx);
      const { entity, record } = await visibleGolden(s, String(a.entity), String(a.id));
      const first = Math.min(Math.max(Number(a.first ?? 20), 0), 500);
      const before = a.after ? Number(decodeCursor(String(a.after), SIG, 'after')[0]) : undefined;
      const store = s.app.hub.store.history;
      const entries = await store.list(s.app.hub.knex, entity, record.id, { first: first + 1, ...(before !== undefined ? { beforeVersion: before } : {}) });
      const nodes = entries.slice(0, first).map((e) => versionView(s, e));
      const cursor = (v: number) => encodeCursor(SIG, [v]);
      return {
        edges: nodes.map((n) => ({ cursor: cursor(n.version), node: n })),
        nodes,
        totalCount: await store.count(s.app.hub.knex, entity, record.id),
        pageInfo: {
          hasNextPage: entries.length > first,
          hasPreviousPage: before !== undefined,
          startCursor: nodes[0] ? cursor(nodes[0].version) : null,
          endCursor: nodes.length ? cursor(nodes[nodes.length - 1].version) : null,
        },
      };
    },
  };
  return { query, mutation: {} };
}
