/**
 * Conflict records: listing and resolving them (CLI `crmlink conflicts`, GraphQL `conflicts` /
 * `resolveConflict`).
 *
 * Resolving writes the chosen value to the golden record and gives it a new `_version` and `_seq`,
 * so the next run of the job pushes it to every source whose base differs; the conflict is marked
 * resolved and the decision goes to the audit log. An open conflict only holds back its own field
 * (the push leaves that field alone); every other field of the record keeps syncing.
 *
 * @example
 * const [c] = await listConflicts(app, { entity: 'Customer' });
 * await resolveConflict(app, c.id, { keep: 'finance', actor: 'alice' });
 */
import type { Knex } from 'knex';
import type { App } from '../app/app.js';
import { CrmlinkError, ValidationError } from '../core/errors.js';
import { coerceValue, ValueError } from '../model/validation.js';
import { nowIso } from '../hub/hub.js';
import { ENTITY_SYSTEM_COLUMNS as C, SYSTEM_TABLES as T } from '../hub/tables.js';
import { isEntityName, type CrmValue, type ModelField } from '../model/entities.js';

export interface ConflictRecord {
  id: number;
  job: string;
  entity: string;
  gid: string;
  field: string;
  /** The value both sides started from; undefined when there was no base (first sync). */
  base: CrmValue | undefined;
  /** The competing values by side: "hub" and source names. */
  values: Record<string, CrmValue>;
  rule: string;
  reason: string;
  status: 'open' | 'resolved';
  resolution: { keep: string | null; value: CrmValue; auto?: boolean } | null;
  resolvedBy: string | null;
  createdAt: string;
  resolvedAt: string | null;
}

export interface ConflictFilter {
  /** Default open. */
  status?: 'open' | 'resolved' | 'all';
  entity?: string;
  gid?: string;
  job?: string;
  field?: string;
  limit?: number;
  offset?: number;
}

export async function listConflicts(app: App, filter: ConflictFilter = {}): Promise<ConflictRecord[]> {
  const rows = (await app.hub
    .knex(T.conflict)
    .modify((q) => {
      const status = filter.status ?? 'open';
      if (status !== 'all') q.where({ status });
      if (filter.entity) q.where({ entity: filter.entity });
      if (filter.gid) q.where({ gid: filter.gid });
      if (filter.job) q.where({ job: filter.job });
      if (filter.field) q.where({ field: filter.field });
    })
    .orderBy('id')
    .limit(filter.limit ?? 1000)
    .offset(filter.offset ?? 0)) as Record<string, unknown>[];
  return rows.map(toRecord);
}

export async function getConflict(app: App, id: number): Promise<ConflictRecord | null> {
  const row = (await app.hub.knex(T.conflict).where({ id }).first()) as Record<string, unknown> | undefined;
  return row ? toRecord(row) : null;
}

export interface ResolveOptions {
  /** 'hub' keeps the golden value, a source name takes that source's value, 'value' takes `value`. */
  keep: string;
  value?: CrmValue;
  /** Who decided (audit log). */
  actor: string;
}

/** Apply a decision to the golden record and close the conflict. */
export async function resolveConflict(app: App, id: number, opts: ResolveOptions): Promise<ConflictRecord> {
  const hub = app.hub;
  const resolved = await hub.knex.transaction(async (trx) => {
    const row = (await trx(T.conflict).where({ id }).first()) as Record<string, unknown> | undefined;
    if (!row) throw new CrmlinkError('NOT_FOUND', `conflict ${id} does not exist`, { id });
    const c = toRecord(row);
    if (c.status !== 'open') throw new ValidationError(`conflict ${id} is already resolved`, { id });
    if (!isEntityName(c.entity)) throw new ValidationError(`conflict ${id} is about unknown entity ${c.entity}`, { id });
    const entity = c.entity;
    const now = nowIso();

    let value: CrmValue;
    if (c.field === '_deleted') {
      // A delete that could not be propagated, or an edit that arrived after a delete: the record
      // stays deleted; resolving acknowledges it.
      if (opts.keep !== 'hub') {
        throw new ValidationError(`conflict ${id} is about a deleted record: resolve it with keep "hub" (the record stays deleted; restore it through the API if it should come back)`, { id });
      }
      value = null;
    } else {
      const field = hub.fields(entity).find((f) => f.name === c.field);
      if (!field) throw new ValidationError(`conflict ${id}: ${entity} has no field ${c.field}`, { id, field: c.field });
      const current = await hub.get(entity, c.gid, trx);
      if (!current) throw new CrmlinkError('NOT_FOUND', `${entity} ${c.gid} of conflict ${id} no longer exists`, { id, entity });
      if (opts.keep === 'hub') value = current.values[c.field] ?? null;
      else if (opts.keep === 'value') {
        if (opts.value === undefined) throw new ValidationError('keep "value" needs a value', { id, field: c.field });
        value = coerce(field, opts.value, id);
      } else {
        if (!Object.prototype.hasOwnProperty.call(c.values, opts.keep)) {
          throw new ValidationError(`conflict ${id} has no value from "${opts.keep}" (sides: ${Object.keys(c.values).join(', ')}, or "value")`, { id, field: c.field });
        }
        value = coerce(field, c.values[opts.keep], id);
      }
      // New version and sequence even when the value stays: the next push must carry it out now
      // that the field is no longer held back.
      const seq = await hub.nextSeq(trx);
      const n = await trx(hub.table(entity))
        .where({ [C.id]: c.gid, [C.version]: current.version })
        .update({ ...hub.toRow(entity, { [c.field]: value }), [C.version]: current.version + 1, [C.seq]: seq, [C.updatedAt]: now });
      if (n !== 1) throw new CrmlinkError('VERSION_CONFLICT', `${entity} ${c.gid} changed while resolving conflict ${id}; try again`, { id, entity });
      await trx(T.provenance)
        .insert({ entity, gid: c.gid, field: c.field, source: opts.keep === 'hub' ? (await provenanceSource(trx, entity, c.gid, c.field)) ?? 'hub' : opts.keep === 'value' ? 'manual' : opts.keep, changed_at: now })
        .onConflict(['entity', 'gid', 'field'])
        .merge(['source', 'changed_at']);
      await hub.audit(trx, { actor: opts.actor, action: 'resolve-conflict', entity, gid: c.gid, before: { [c.field]: current.values[c.field] ?? null, conflict: id }, after: { [c.field]: value, keep: opts.keep } });
    }
    const resolution = { keep: opts.keep, value };
    await trx(T.conflict).where({ id }).update({ status: 'resolved', resolution: JSON.stringify(resolution), resolved_by: opts.actor, resolved_at: now });
    if (c.field === '_deleted') await hub.audit(trx, { actor: opts.actor, action: 'resolve-conflict', entity, gid: c.gid, after: { conflict: id, keep: 'hub' } });
    return { ...c, status: 'resolved' as const, resolution, resolvedBy: opts.actor, resolvedAt: now };
  });
  return resolved;
}

async function provenanceSource(trx: Knex.Transaction, entity: string, gid: string, field: string): Promise<string | null> {
  const row = (await trx(T.provenance).where({ entity, gid, field }).first()) as { source: string } | undefined;
  return row?.source ?? null;
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

function toRecord(r: Record<string, unknown>): ConflictRecord {
  return {
    id: Number(r.id),
    job: String(r.job),
    entity: String(r.entity),
    gid: String(r.gid),
    field: String(r.field),
    base: typeof r.base === 'string' ? (JSON.parse(r.base) as CrmValue) : undefined,
    values: JSON.parse(String(r.values)) as Record<string, CrmValue>,
    rule: String(r.rule),
    reason: String(r.reason),
    status: r.status === 'resolved' ? 'resolved' : 'open',
    resolution: typeof r.resolution === 'string' ? (JSON.parse(r.resolution) as ConflictRecord['resolution']) : null,
    resolvedBy: (r.resolved_by as string | null) ?? null,
    createdAt: String(r.created_at),
    resolvedAt: (r.resolved_at as string | null) ?? null,
  };
}
