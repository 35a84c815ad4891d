/**
 * Record history in GraphQL: `history(entity, id)` pages a golden record's versions, newest first.
 * A viewer sees the history of the records its row rules let it see (a deleted record by its last
 * values), and a field hidden from its role is left out of every version: neither its values nor
 * the fact that it changed show.
 *
 * Restores (restoreRecord, undeleteRecord, restoreChanges, restoreRun) need the steward capability
 * or an admin role, act only on records the viewer sees, and never set a field hidden from it; they
 * delegate to sync/restore.ts, as conflict resolution delegates to sync/conflicts.ts.
 * Entity types get a `history` field too (`Customer.history`).
 */
import { CrmlinkError } from '../core/errors.js';
import { ownValue } from '../core/own.js';
import { restoreChanges, restoreRecord, restoreRun, undeleteRecord, type RecordRestore, type RestoreBy, type RestorePlan } from '../sync/restore.js';
import type { HistoryEntry } from '../hub/history.js';
import type { HubRecord } from '../hub/golden.js';
import { ENTITY_NAMES, isEntityName, type EntityName } from '../model/entities.js';
import { decodeNumberCursor, encodeCursor } from '../schema/cursor.js';
import { expectId } from '../schema/ids.js';
import { HubStore } from '../schema/hub-store.js';
import type { ExtraTypeDefs, ModuleResolvers, Resolver, SchemaModule } from '../schema/module.js';
import { notFound, scope } from '../schema/resolvers.js';
import type { Runtime, Scope } from '../schema/runtime.js';
import { isHidden, isVisible } from '../schema/security.js';
import { HUB, type Rec } from '../schema/store.js';
import { codeEnum, enumResolvers } from '../schema/enums.js';

const SOURCE_RESTORE_STATUS = codeEnum(
  'SourceRestoreStatus',
  ['restored', 'planned', 'changed-since', 'gone', 'recreated-by-undelete'],
  'What became of a source row a restore writes back: RESTORED; PLANNED (dry run); CHANGED_SINCE (the source changed it again: left alone); GONE (the row no longer exists); RECREATED_BY_UNDELETE.',
);

/**
 * `history` on every entity type. A federated entity lives in its source only: its records have no
 * hub history, so the field is an empty list there.
 */
const ENTITY_HISTORY = ENTITY_NAMES.map(
  (e) => `extend type ${e} {\n  "Every version of this record, newest first (记录历史); empty for a federated entity."\n  history(first: Int = 20, after: String): RecordVersionConnection!\n}`,
).join('\n');

const HISTORY_TYPEDEFS: ExtraTypeDefs = {
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
type NotRecreated {
  source: String!
  key: String!
  reason: String!
}
"What a restore did (or, in a dry run, would do) to one record (恢复结果)."
type RestoreResult {
  entity: String!
  recordId: ID!
  "The new version; null when nothing needed changing or in a dry run."
  version: Int
  "Fields set back."
  fields: [String!]!
  undeleted: Boolean!
  "Sources the next push re-creates or rewrites the record in."
  recreateIn: [String!]!
  notRecreated: [NotRecreated!]!
  "Fields left alone because they changed after the change being undone."
  changedSince: [String!]!
  "Why the record was left alone."
  skipped: String
}
type SourceRestore {
  source: String!
  entity: String!
  key: String!
  recordId: ID
  fields: [String!]!
  status: SourceRestoreStatus!
}
${SOURCE_RESTORE_STATUS.sdl}
type RestorePlan {
  dryRun: Boolean!
  records: [RestoreResult!]!
  sources: [SourceRestore!]!
}
${ENTITY_HISTORY}
`,
  query: ['  "Every version of a golden record, newest first (deleted records too)."\n  history(entity: String!, id: ID!, first: Int = 20, after: String): RecordVersionConnection!'],
  mutation: [
    '  "Restore a record, or the fields given, to what they were after a version (steward or admin). Pushed to the sources like an edit."\n  restoreRecord(entity: String!, id: ID!, version: Int!, fields: [String!]): RestoreResult!',
    '  "Bring a deleted record back; it is re-created in the sources that lost it (steward or admin)."\n  undeleteRecord(entity: String!, id: ID!): RestoreResult!',
    '  "Undo recorded changes (RecordVersion ids) where the record still holds what they wrote (steward or admin)."\n  restoreChanges(changes: [ID!]!, dryRun: Boolean = false): RestorePlan!',
    '  "Undo everything a sync run changed, in the hub and in the sources its push overwrote (steward seeing every customer, or admin)."\n  restoreRun(run: ID!, dryRun: Boolean = false, sources: Boolean = true): RestorePlan!',
  ],
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

const EMPTY_PAGE = { edges: [], nodes: [], totalCount: 0, pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null } };

/** One page of a record's versions, newest first. */
async function historyPage(s: Scope, entity: EntityName, gid: string, a: Record<string, unknown>) {
  const first = Math.min(Math.max(Number(a.first ?? 20), 0), 500);
  const before = a.after ? decodeNumberCursor(String(a.after), SIG, 'after') : undefined;
  const store = s.app.hub.store.history;
  const entries = await store.list(s.app.hub.knex, entity, gid, { first: first + 1, ...(before !== undefined ? { beforeVersion: before } : {}) });
  const nodes = entries.slice(0, first).map((e) => versionView(s, e));
  const cursor = (v: number) => encodeCursor(SIG, [v]);
  return {
    edges: nodes.map((n) => ({ cursor: cursor(n.version), node: n })),
    nodes,
    totalCount: await store.count(s.app.hub.knex, entity, gid),
    pageInfo: {
      hasNextPage: entries.length > first,
      hasPreviousPage: before !== undefined,
      startCursor: nodes[0] ? cursor(nodes[0].version) : null,
      endCursor: nodes.length ? cursor(nodes[nodes.length - 1].version) : null,
    },
  };
}

function historyResolvers(rt: Runtime): ModuleResolvers {
  const query: Record<string, Resolver> = {
    history: async (_p, a, ctx) => {
      const s = scope(rt, ctx);
      const { entity, record } = await visibleGolden(s, String(a.entity), String(a.id));
      return historyPage(s, entity, record.id, a);
    },
  };
  // The parent record was read under the viewer's row rules already.
  const types: Record<string, Record<string, Resolver>> = {};
  for (const entity of ENTITY_NAMES) {
    types[entity] = { history: (rec, a, ctx) => (rt.isFederated(entity) ? EMPTY_PAGE : historyPage(scope(rt, ctx), entity, (rec as Rec).key, a)) };
  }
  const mutation: Record<string, Resolver> = {
    restoreRecord: async (_p, a, ctx) => {
      const s = scope(rt, ctx);
      requireSteward(s, 'restore records');
      const { entity, record } = await visibleGolden(s, String(a.entity), String(a.id));
      const fields = Array.isArray(a.fields) ? a.fields.map(String) : undefined;
      return resultView(await restoreRecord(s.app, entity, record.id, { ...restorer(s), version: Number(a.version), ...(fields ? { fields } : {}) }));
    },
    undeleteRecord: async (_p, a, ctx) => {
      const s = scope(rt, ctx);
      requireSteward(s, 'undelete records');
      const { entity, record } = await visibleGolden(s, String(a.entity), String(a.id));
      return resultView(await undeleteRecord(s.app, entity, record.id, restorer(s)));
    },
    restoreChanges: async (_p, a, ctx) => {
      const s = scope(rt, ctx);
      requireSteward(s, 'restore changes');
      const ids = (Array.isArray(a.changes) ? a.changes : []).map((v) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1) throw new CrmlinkError('VALIDATION_FAILED', `changes: "${String(v)}" is not a change id (RecordVersion.id)`, { field: 'changes' });
        return n;
      });
      const plan = await restoreChanges(s.app, ids, { ...restorer(s), dryRun: Boolean(a.dryRun), allow: (entity, record) => isVisible(s, asRec(entity, record)) });
      return planView(plan);
    },
    restoreRun: async (_p, a, ctx) => {
      const s = scope(rt, ctx);
      requireSteward(s, 'undo sync runs');
      if (s.viewer.customers !== 'all' || s.viewer.hidden.size > 0) {
        throw new CrmlinkError('FORBIDDEN', `role "${s.viewer.role}" may not undo sync runs: a run changes records of every owner, so it needs customers: all and no hide`, { setting: `server.auth.roles.${s.viewer.role}` });
      }
      const run = Number(a.run);
      if (!Number.isInteger(run) || run < 1) throw new CrmlinkError('VALIDATION_FAILED', `run: "${String(a.run)}" is not a sync run id`, { field: 'run' });
      return planView(await restoreRun(s.app, run, { ...restorer(s), dryRun: Boolean(a.dryRun), sources: a.sources !== false }));
    },
  };
  return { types, query, mutation };
}

/**
 * Restoring is the steward's (数据管理员) capability, or an admin's: deny by default
 * (server.auth.roles.<role>.steward).
 */
function requireSteward(s: Scope, what: string): void {
  const rule = ownValue(s.app.config.server.auth.roles, s.viewer.role);
  if (s.viewer.admin || rule?.steward === true) return;
  throw new CrmlinkError('FORBIDDEN', `role "${s.viewer.role}" may not ${what} (needs steward or admin)`, { setting: `server.auth.roles.${s.viewer.role}.steward` });
}

function restorer(s: Scope): RestoreBy {
  return { actor: `${s.viewer.user} (${s.viewer.role})`.slice(0, 120), hidden: (entity, field) => isHidden(s.viewer, entity, field) };
}

function resultView(r: RecordRestore) {
  return { ...r, recordId: r.id, skipped: r.skipped ?? null };
}

function planView(p: RestorePlan) {
  return { dryRun: p.dryRun, records: p.records.map(resultView), sources: p.sources.map((x) => ({ ...x, recordId: x.id })) };
}

/** Record history and restores as a part of the API. */
export const historyModule: SchemaModule = { typeDefs: HISTORY_TYPEDEFS, resolvers: historyResolvers, enums: enumResolvers([SOURCE_RESTORE_STATUS]) };
