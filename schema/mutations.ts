/**
 * create / update / delete per writable entity.
 *
 * - Replicated: the hub store writes the golden record in one transaction: new `_version`, a new
 *   `_seq` (what sync reads to push hub-side edits to the sources), provenance `hub` for the fields
 *   set, and the audit entry. Sync pushes the change to the sources later.
 * - Federated: written through to the owner source with driver.upsert/delete (one transaction
 *   there), only when the mapping allows the operation; the audit entry goes to the hub.
 *
 * `expectedVersion` (optimistic concurrency): hub records compare `_version` before the write, and
 * the store updates with `WHERE _version = ?`; federated records compare the hash of the row
 * re-read just before the write.
 */
import type { WriteOp } from '../config/schema.js';
import type { Row, RowOutcome } from '../connectors/driver.js';
import { encodeKey } from '../connectors/keys.js';
import { CrmlinkError } from '../core/errors.js';
import { nowIso, StaleRecordError, type GoldenWrite, type HubRecord } from '../hub/golden.js';
import { ENTITY_NAMES, type CrmRecord, type EntityName } from '../model/entities.js';
import { decodeId, federatedId } from './ids.js';
import { isHidden, requireWrite } from './security.js';
import type { Runtime, Scope } from './runtime.js';
import { SourceStore } from './source-store.js';
import { HubStore } from './hub-store.js';
import { HUB, type EntityStore, type Rec } from './store.js';
import { validateInput } from './validation.js';
import { checkTargetColumns, checkWritableFields } from './write-limits.js';
import { notFound, resolveNode, scope, type CrmContext } from './resolvers.js';
import type { GraphQLFieldResolver } from 'graphql';
import type { Knex } from 'knex';

type Resolver = GraphQLFieldResolver<unknown, CrmContext, Record<string, unknown>>;

const ACTOR_MAX = 120;

function versionConflict(entity: EntityName, id: string, current: number, expected: number): CrmlinkError {
  return new CrmlinkError(
    'VERSION_CONFLICT',
    `${entity} ${id} was changed by someone else: its version is ${current}, you expected ${expected}; reload it and apply your change again`,
    { entity, key: id, currentVersion: current, expectedVersion: expected },
  );
}

/**
 * Ref fields arrive as global ids; store them as the referenced record's key in the field's ref
 * space: the writing store's own (the hub, or the owner source), or the mapping's refSource.
 */
async function refsToSpace(s: Scope, entity: EntityName, values: CrmRecord, store: EntityStore): Promise<void> {
  for (const f of s.rt.fields(entity)) {
    if (f.type !== 'ref' || !f.ref || values[f.name] === undefined || values[f.name] === null) continue;
    const space = store.refSpace(f.name);
    const id = String(values[f.name]);
    const target = await resolveNode(s, id, f.ref);
    if (!target) {
      throw new CrmlinkError('VALIDATION_FAILED', `${entity}.${f.name}: ${f.ref} ${id} not found (or not visible to you)`, { entity, field: f.name });
    }
    const keys = (await s.translate(f.ref, target.space, space, [target.key])).get(target.key) ?? [];
    if (keys.length === 0) {
      throw new CrmlinkError('VALIDATION_FAILED', `${entity}.${f.name}: ${f.ref} ${id} has no record in "${space}" yet (run the ${f.ref} sync first)`, {
        entity,
        field: f.name,
        source: space,
      });
    }
    values[f.name] = keys[0];
  }
}

/**
 * Row rules on writes: a role can neither create a customer outside its rule nor move one out of
 * it. `own`: ownerId is the user, and ownerTeam is the user's team on create and stays what it is
 * on update (moving it would hand the customer, hidden fields and all, to that team's manager).
 * `team`: ownerTeam is the role's team, on create and update; ownerId may change within it.
 * `current` is the record being updated (null on create).
 */
function checkOwnership(s: Scope, entity: EntityName, values: CrmRecord, current: Rec | null): void {
  const v = s.viewer;
  if (entity !== 'Customer' || v.customers === 'all') return;
  const op = current ? 'update' : 'create';
  if (v.customers === 'own') {
    if (op === 'create' && (values.ownerId === undefined || values.ownerId === null)) values.ownerId = v.user;
    if (values.ownerId !== undefined && values.ownerId !== v.user) {
      throw new CrmlinkError('FORBIDDEN', `role "${v.role}" may only own customers itself (ownerId must be "${v.user}")`, { entity, field: 'ownerId' });
    }
    if (op === 'create' && values.ownerTeam === undefined && v.team) values.ownerTeam = v.team;
    const team = current ? (current.get('ownerTeam') ?? null) : (v.team ?? null);
    if (values.ownerTeam !== undefined && (values.ownerTeam ?? null) !== team) {
      throw new CrmlinkError(
        'FORBIDDEN',
        `role "${v.role}" may not move a customer to another team (ownerTeam ${team === null ? 'stays empty' : `stays "${String(team)}"`}; ask a role with customers: team or all)`,
        { entity, field: 'ownerTeam' },
      );
    }
  } else if (v.customers === 'team') {
    if (op === 'create' && (values.ownerTeam === undefined || values.ownerTeam === null) && v.team) values.ownerTeam = v.team;
    if (values.ownerTeam !== undefined && values.ownerTeam !== v.team) {
      throw new CrmlinkError('FORBIDDEN', `role "${v.role}" may only assign customers to its team ("${v.team ?? ''}")`, { entity, field: 'ownerTeam' });
    }
  } else {
    throw new CrmlinkError('FORBIDDEN', `role "${v.role}" may not write customers (unknown row rule)`, { entity });
  }
}

function checkHiddenInput(s: Scope, entity: EntityName, values: CrmRecord): void {
  for (const f of Object.keys(values)) {
    if (isHidden(s.viewer, entity, f)) throw new CrmlinkError('FORBIDDEN', `${entity}.${f} is hidden from role "${s.viewer.role}" and cannot be written by it`, { entity, field: f });
  }
}

function actor(s: Scope): string {
  return `${s.viewer.user} (${s.viewer.role})`.slice(0, ACTOR_MAX);
}

// ---------------------------------------------------------------- hub (replicated)

/** The write of one golden record through the hub store; a lost race is the caller's version conflict. */
async function writeGolden(s: Scope, entity: EntityName, write: GoldenWrite, action: string, expected: number | null, also?: (trx: Knex.Transaction) => Promise<void>): Promise<number> {
  const store = s.app.hub.store;
  try {
    return await store.transaction(async (trx) => {
      const [written] = await store.golden.write(trx, entity, [write], { actor: actor(s), action });
      await also?.(trx);
      return written.version;
    });
  } catch (err) {
    if (err instanceof StaleRecordError && write.current) throw versionConflict(entity, write.gid, write.current.version + 1, expected ?? write.current.version);
    throw err;
  }
}

function hubProvenance(fields: readonly string[]): Record<string, { source: string; changedAt: string }> {
  const at = nowIso();
  return Object.fromEntries(fields.map((f) => [f, { source: HUB, changedAt: at }]));
}

async function hubCreate(s: Scope, entity: EntityName, values: CrmRecord): Promise<{ key: string; version: number }> {
  const id = s.app.hub.newId(entity);
  const set = Object.keys(values).filter((k) => values[k] !== null);
  const version = await writeGolden(s, entity, { gid: id, current: null, patch: values, provenance: hubProvenance(set), audit: { after: values } }, 'create', null);
  return { key: id, version };
}

/** The golden record to change, checked against the version the caller expects. */
async function currentRecord(s: Scope, rec: Rec, expected: number | null, op: 'update' | 'delete'): Promise<HubRecord> {
  const current = await s.app.hub.get(rec.entity, rec.key);
  if (!current || current.deleted || (op === 'update' && current.mergedInto)) throw notFound(rec.entity, rec.id);
  if (expected !== null && current.version !== expected) throw versionConflict(rec.entity, rec.id, current.version, expected);
  return current;
}

/**
 * An edit of a field with an open conflict is a person's choice: the conflict is resolved with the
 * value written (resolution `{ keep: 'value', edit: true }`, by the editor, in the same
 * transaction), so the field is no longer held back and the next run pushes it everywhere. Setting
 * the value the hub already holds settles the conflict the same way.
 */
async function hubUpdate(s: Scope, rec: Rec, values: CrmRecord, expected: number | null): Promise<number> {
  const current = await currentRecord(s, rec, expected, 'update');
  const changed = Object.keys(values).filter((k) => String(values[k]) !== String(current.values[k]));
  const open = (await s.app.hub.store.conflicts.loadOpen(s.app.hub.knex, rec.entity, [rec.key])).get(rec.key);
  const settled = Object.keys(values).filter((k) => open?.has(k));
  if (changed.length === 0 && settled.length === 0) return current.version;
  const audit = { before: current.values, after: { ...current.values, ...values } };
  const provenance = hubProvenance([...new Set([...changed, ...settled])]);
  const resolve = async (trx: Knex.Transaction) => {
    const now = nowIso();
    const still = (await s.app.hub.store.conflicts.loadOpen(trx, rec.entity, [rec.key])).get(rec.key);
    for (const field of settled) {
      const c = still?.get(field);
      if (!c) continue;
      const value = values[field] ?? null;
      await s.app.hub.store.conflicts.resolve(trx, c.id, { keep: 'value', value, edit: true }, actor(s), now);
      await s.app.hub.store.audit.record(trx, {
        actor: actor(s),
        action: 'resolve-conflict',
        entity: rec.entity,
        gid: rec.key,
        before: { conflict: c.id, field, values: c.values },
        after: { conflict: c.id, field, value, keep: 'value', reason: `${rec.entity}.${field} edited while conflict ${c.id} was open: the edit is the person's choice` },
      });
    }
  };
  return writeGolden(s, rec.entity, { gid: rec.key, current, patch: values, provenance, audit }, 'update', expected, resolve);
}

const WAIT_MAX_MS = 60_000;

/**
 * `propagate: WAIT`: hold the answer until event-driven propagation has pushed this version to
 * every other system, or the timeout passes; `propagation` on the answer then tells each
 * system's outcome. Without a running propagation (not `crmlink serve`, or `propagate: schedule`)
 * there is nothing to wait for: the answer says PENDING with the job that will push it.
 */
async function awaitPropagation(s: Scope, entity: EntityName, gid: string, version: number, args: Record<string, unknown>): Promise<void> {
  if (args.propagate !== 'WAIT' || !s.app.propagation) return;
  const given = args.timeoutMs as number | null | undefined;
  if (given !== null && given !== undefined && (!Number.isInteger(given) || given < 0 || given > WAIT_MAX_MS)) {
    throw new CrmlinkError('VALIDATION_FAILED', `timeoutMs: ${String(given)} is not a whole number of milliseconds between 0 and ${WAIT_MAX_MS}`, { entity, field: 'timeoutMs' });
  }
  await s.app.propagation.waitFor(entity, gid, version, { timeoutMs: given ?? 5000 });
}

async function hubDelete(s: Scope, rec: Rec, expected: number | null): Promise<void> {
  const current = await currentRecord(s, rec, expected, 'delete');
  await writeGolden(s, rec.entity, { gid: rec.key, current, patch: {}, deleted: true, audit: { before: current.values } }, 'delete', expected);
}

// ---------------------------------------------------------------- sources (federated)

function checkCanWrite(store: SourceStore, op: WriteOp, values: CrmRecord): void {
  const where = `entities.${store.entity}.sources.${store.space}.write`;
  if (!store.driver.capabilities.write) {
    // The connector cannot write at all (an Access file): say so rather than point at the mapping.
    throw new CrmlinkError('WRITE_FORBIDDEN', `source "${store.space}" is read-only (${store.driver.kind}: crmlink can read it but not write it): ${op} on ${store.entity} refused; change the value in ${store.driver.kind === 'access' ? 'Access' : 'the source'} itself`, {
      source: store.space,
      entity: store.entity,
      operation: op,
    });
  }
  if (!store.mapping.canWrite(op)) {
    throw new CrmlinkError(
      'WRITE_FORBIDDEN',
      `source "${store.space}" does not allow ${op} on ${store.entity} (${where} does not list "${op}", or the source is readOnly)`,
      { source: store.space, entity: store.entity, setting: where, operation: op },
    );
  }
  if (op !== 'delete') {
    const writable = new Set(store.mapping.writableFields());
    for (const f of Object.keys(values)) {
      if (!writable.has(f)) {
        throw new CrmlinkError('WRITE_FORBIDDEN', `source "${store.space}" cannot write ${store.entity}.${f} (computed or write: false in its mapping)`, {
          source: store.space,
          entity: store.entity,
          field: f,
          setting: `entities.${store.entity}.sources.${store.space}.fields.${f}`,
        });
      }
    }
  }
}

function outcomeOrThrow(outcomes: RowOutcome[], store: SourceStore, rec: Rec | null): RowOutcome {
  const o = outcomes[0];
  if (!o) throw new CrmlinkError('INTERNAL', `source "${store.space}" reported no outcome for the write`, { source: store.space, entity: store.entity });
  if (o.status === 'error') throw o.error;
  if (o.status === 'missing') throw notFound(store.entity, rec?.id ?? '?');
  return o;
}

function keyRow(store: SourceStore, key: string): Row {
  return store.mapping.keyRow(key);
}

async function auditSource(s: Scope, action: string, store: SourceStore, key: string, before: CrmRecord | null, after: CrmRecord | null): Promise<void> {
  // crm_audit.gid is varchar(40) and federated global ids are longer (base64 of entity, source,
  // key): the column stays NULL and the record is named in the JSON (global id, source, key).
  const ref = { id: federatedId(store.entity, store.space, key), source: store.space, key };
  await s.app.hub.store.audit.record(s.app.hub.knex, {
    actor: actor(s),
    action,
    entity: store.entity,
    gid: null,
    // undefined (not null) so crm_audit stores SQL NULL rather than the text "null"
    before: before ? { ...ref, values: before } : undefined,
    after: after ? { ...ref, values: after } : undefined,
  });
}

async function freshVersion(store: SourceStore, rec: Rec, expected: number | null): Promise<Rec> {
  const fresh = (await store.byKeys([rec.key])).get(rec.key);
  if (!fresh) throw notFound(store.entity, rec.id);
  if (expected !== null && fresh.version !== expected) throw versionConflict(store.entity, rec.id, fresh.version, expected);
  return fresh;
}

function writeOpts(store: SourceStore, mode: 'insert' | 'update') {
  return {
    ...store.mapping.table,
    key: [...store.mapping.key],
    identity: store.mapping.identity,
    mode,
    origin: 'crmlink',
  };
}

async function sourceCreate(s: Scope, store: SourceStore, values: CrmRecord): Promise<string> {
  checkCanWrite(store, 'insert', values);
  const row = store.mapping.toRow(values, 'insert');
  const o = outcomeOrThrow(await store.driver.upsert([row], writeOpts(store, 'insert')), store, null);
  const key = encodeKey(o.key);
  await auditSource(s, 'create', store, key, null, values);
  return key;
}

async function sourceUpdate(s: Scope, store: SourceStore, rec: Rec, values: CrmRecord, expected: number | null): Promise<void> {
  checkCanWrite(store, 'update', values);
  const fresh = await freshVersion(store, rec, expected);
  const row = { ...store.mapping.toRow(values, 'update'), ...keyRow(store, rec.key) };
  outcomeOrThrow(await store.driver.upsert([row], writeOpts(store, 'update')), store, rec);
  await auditSource(s, 'update', store, rec.key, fresh.values, { ...fresh.values, ...values });
}

async function sourceDelete(s: Scope, store: SourceStore, rec: Rec, expected: number | null): Promise<void> {
  checkCanWrite(store, 'delete', {});
  const fresh = await freshVersion(store, rec, expected);
  if (store.mapping.deleteMode === 'soft') {
    // A soft delete marks the row; the mapping's row filter then hides it.
    const row = { ...keyRow(store, rec.key), ...store.mapping.softDeleteRow() };
    outcomeOrThrow(await store.driver.upsert([row], writeOpts(store, 'update')), store, rec);
  } else {
    outcomeOrThrow(await store.driver.delete([store.mapping.keyValues(rec.key)], writeOpts(store, 'update')), store, rec);
  }
  await auditSource(s, 'delete', store, rec.key, fresh.values, null);
}

// ---------------------------------------------------------------- resolvers

async function loadForWrite(s: Scope, entity: EntityName, id: string): Promise<Rec> {
  const d = decodeId(id);
  if (!d || d.entity !== entity) throw new CrmlinkError('VALIDATION_FAILED', `id: "${id}" is not the id of a ${entity}`, { entity, field: 'id' });
  const rec = await resolveNode(s, id, entity);
  if (!rec) throw notFound(entity, id);
  return rec;
}

export function buildMutations(rt: Runtime): Record<string, Resolver> {
  const out: Record<string, Resolver> = {};
  for (const entity of ENTITY_NAMES) {
    const ec = rt.entityConfig(entity);
    if (!ec) continue;
    const store = rt.store(entity);
    const fields = rt.fields(entity);

    const read = async (s: Scope, key: string): Promise<Rec> => {
      s.clear();
      const rec = await s.byKey(entity, key);
      if (!rec) throw new CrmlinkError('INTERNAL', `${entity} ${key} was written but cannot be read back`, { entity, key });
      return rec;
    };

    /** The request's scope and the input's values, once the viewer may write and the input is valid and sets no field hidden from them. */
    const checkedInput = (ctx: Parameters<typeof scope>[1], input: unknown, op: 'create' | 'update') => {
      const s = scope(rt, ctx);
      requireWrite(s.viewer, `${op} ${entity}`);
      const values = validateInput(entity, fields, input as Record<string, unknown>, op);
      checkHiddenInput(s, entity, values);
      return { s, values };
    };

    if (ec.writable.includes('insert')) {
      out[`create${entity}`] = async (_p, args, ctx) => {
        const { s, values } = checkedInput(ctx, args.input, 'create');
        checkOwnership(s, entity, values, null);
        checkWritableFields(rt, entity, values, 'insert');
        await checkTargetColumns(rt, entity, values, 'insert');
        await refsToSpace(s, entity, values, store);
        if (store instanceof SourceStore) return read(s, await sourceCreate(s, store, values));
        const created = await hubCreate(s, entity, values);
        await awaitPropagation(s, entity, created.key, created.version, args);
        return read(s, created.key);
      };
    }
    if (ec.writable.includes('update')) {
      out[`update${entity}`] = async (_p, args, ctx) => {
        const { s, values } = checkedInput(ctx, args.input, 'update');
        const rec = await loadForWrite(s, entity, String(args.id));
        checkOwnership(s, entity, values, rec);
        checkWritableFields(rt, entity, values, 'update');
        await checkTargetColumns(rt, entity, values, 'update');
        const expected = (args.expectedVersion as number | null | undefined) ?? null;
        await refsToSpace(s, entity, values, store);
        if (store instanceof SourceStore) await sourceUpdate(s, store, rec, values, expected);
        else await awaitPropagation(s, entity, rec.key, await hubUpdate(s, rec, values, expected), args);
        return read(s, rec.key);
      };
    }
    if (ec.writable.includes('delete')) {
      out[`delete${entity}`] = async (_p, args, ctx) => {
        const s = scope(rt, ctx);
        requireWrite(s.viewer, `delete ${entity}`);
        const rec = await loadForWrite(s, entity, String(args.id));
        const expected = (args.expectedVersion as number | null | undefined) ?? null;
        if (store instanceof SourceStore) await sourceDelete(s, store, rec, expected);
        else if (store instanceof HubStore) await hubDelete(s, rec, expected);
        s.clear();
        return { id: rec.id, deleted: true };
      };
    }
  }
  return out;
}
