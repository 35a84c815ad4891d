/**
 * Conflict records: listing and resolving them (CLI `crmlink conflicts`, GraphQL `conflicts` /
 * `resolveConflict`).
 *
 * Resolving writes the chosen value through the hub store's golden record write, so it gets a new
 * `_version` and `_seq` (the next run of the job pushes it to every source whose base differs),
 * provenance and an audit entry; the conflict is marked resolved in the same transaction. An open
 * conflict only holds back its own field (the push leaves that field alone); every other field of
 * the record keeps syncing.
 *
 * @example
 * const [c] = await listConflicts(app, { entity: 'Customer' });
 * await resolveConflict(app, c.id, { keep: 'finance', actor: 'alice' });
 */
import type { Knex } from 'knex';
import type { SyncApp } from './context.js';
import { CrmlinkError, ValidationError } from '../core/errors.js';
import type { ConflictFilter, ConflictRecord } from '../hub/conflicts.js';
import { nowIso } from '../hub/golden.js';
import type { Hub } from '../hub/hub.js';
import { isEntityName, type CrmValue, type EntityName, type ModelField } from '../model/entities.js';
import { coerceValue, ValueError } from '../model/validation.js';

export type { ConflictFilter, ConflictRecord } from '../hub/conflicts.js';

export async function listConflicts(app: SyncApp, filter: ConflictFilter = {}): Promise<ConflictRecord[]> {
  return app.hub.store.conflicts.list(app.hub.knex, filter);
}

export async function getConflict(app: SyncApp, id: number): Promise<ConflictRecord | null> {
  return app.hub.store.conflicts.get(app.hub.knex, id);
}

export interface ResolveOptions {
  /** 'hub' keeps the golden value, a source name takes that source's value, 'value' takes `value`. */
  keep: string;
  value?: CrmValue;
  /** Who decided (audit log). */
  actor: string;
}

/** Apply a decision to the golden record and close the conflict. */
export async function resolveConflict(app: SyncApp, id: number, opts: ResolveOptions): Promise<ConflictRecord> {
  const { store } = app.hub;
  return store.transaction(async (trx) => {
    const c = await store.conflicts.get(trx, id);
    if (!c) throw new CrmlinkError('NOT_FOUND', `conflict ${id} does not exist`, { id });
    if (c.status !== 'open') throw new ValidationError(`conflict ${id} is already resolved`, { id });
    if (!isEntityName(c.entity)) throw new ValidationError(`conflict ${id} is about unknown entity ${c.entity}`, { id });
    const now = nowIso();
    let value: CrmValue = null;
    if (c.field === '_deleted') {
      // A delete that could not be propagated, or an edit that arrived after a delete: the record
      // stays deleted; resolving acknowledges it.
      if (opts.keep !== 'hub') {
        throw new ValidationError(`conflict ${id} is about a deleted record: resolve it with keep "hub" (the record stays deleted; restore it through the API if it should come back)`, { id });
      }
      await store.audit.record(trx, { actor: opts.actor, action: 'resolve-conflict', entity: c.entity, gid: c.gid, after: { conflict: id, keep: 'hub' } });
    } else {
      value = await writeDecision(app.hub, trx, c.entity, c, opts);
    }
    const resolution = { keep: opts.keep, value };
    await store.conflicts.resolve(trx, id, resolution, opts.actor, now);
    return { ...c, status: 'resolved' as const, resolution, resolvedBy: opts.actor, resolvedAt: now };
  });
}

/** The chosen value of a field conflict, written to its golden record; returns the value. */
async function writeDecision(hub: Hub, trx: Knex.Transaction, entity: EntityName, c: ConflictRecord, opts: ResolveOptions): Promise<CrmValue> {
  const field = hub.fields(entity).find((f) => f.name === c.field);
  if (!field) throw new ValidationError(`conflict ${c.id}: ${entity} has no field ${c.field}`, { id: c.id, field: c.field });
  const current = await hub.get(entity, c.gid, trx);
  if (!current) throw new CrmlinkError('NOT_FOUND', `${entity} ${c.gid} of conflict ${c.id} no longer exists`, { id: c.id, entity });
  let value: CrmValue;
  if (opts.keep === 'hub') value = current.values[c.field] ?? null;
  else if (opts.keep === 'value') {
    if (opts.value === undefined) throw new ValidationError('keep "value" needs a value', { id: c.id, field: c.field });
    value = coerce(field, opts.value, c.id);
  } else {
    if (!Object.prototype.hasOwnProperty.call(c.values, opts.keep)) {
      throw new ValidationError(`conflict ${c.id} has no value from "${opts.keep}" (sides: ${Object.keys(c.values).join(', ')}, or "value")`, { id: c.id, field: c.field });
    }
    value = coerce(field, c.values[opts.keep], c.id);
  }
  const kept = opts.keep === 'hub' ? ((await hub.store.provenance.ofRecord(trx, entity, c.gid))[c.field]?.source ?? 'hub') : opts.keep === 'value' ? 'manual' : opts.keep;
  // A new version and sequence even when the value stays: the next push must carry it out now
  // that the field is no longer held back.
  await hub.store.golden.write(
    trx,
    entity,
    [
      {
        gid: c.gid,
        current,
        patch: { [c.field]: value },
        provenance: { [c.field]: { source: kept, changedAt: nowIso() } },
        audit: { before: { [c.field]: current.values[c.field] ?? null, conflict: c.id }, after: { [c.field]: value, keep: opts.keep } },
      },
    ],
    { actor: opts.actor, action: 'resolve-conflict' },
  );
  return value;
}

/** A value given by a person → the field's canonical form, or a ValidationError saying why not. */
function coerce(field: ModelField, v: CrmValue, id: number): CrmValue {
  try {
    return coerceValue(field, v);
  } catch (err) {
    if (err instanceof ValueError) throw new ValidationError(err.message, { id, field: field.name });
    throw err;
  }
}
