/**
 * What the systems behind a mutation will take, checked before the mutation is accepted:
 *
 * - Fields no mapping may write: a field some mapping maps but marks `write: false`, computes, or
 *   holds in a key column (an update never changes a source key), and that no mapping may write,
 *   is refused. Accepting it would leave the hub and that system disagreeing for good (the record
 *   would stop matching its source).
 * - Column limits: each value a writing mapping would send is checked against the column it goes
 *   to, as the source describes it (introspected once per table): length of text, digits and
 *   places of decimals, NOT NULL. The error names the field, the source, the column and the
 *   limit, instead of the row being parked by the next push in every system that refuses it.
 *
 * A source that cannot be introspected (down, or the table is not there yet) is not checked here;
 * the push parks what it refuses, as before.
 */
import type { ColumnInfo } from '../connectors/driver.js';
import type { EntityMapping } from '../connectors/mapping/entity-mapping.js';
import { CrmlinkError, ValidationError } from '../core/errors.js';
import { decimalPlaces, integerDigits, toDecimalString } from '../model/decimal.js';
import type { CrmRecord, EntityName } from '../model/entities.js';
import { longerThan } from '../model/validation.js';
import type { Runtime } from './runtime.js';

type Op = 'insert' | 'update';

/** The mappings a mutation's values reach: the owner's for a federated entity, every source's for a replicated one. */
function mappingsOf(rt: Runtime, entity: EntityName): EntityMapping[] {
  const ec = rt.entityConfig(entity);
  if (!ec) return [];
  if (rt.isFederated(entity)) {
    const owner = rt.ownerOf(entity);
    return owner ? [rt.app.sources.mapping(entity, owner)] : [];
  }
  return Object.keys(ec.sources).map((s) => rt.app.sources.mapping(entity, s));
}

function isKeyField(m: EntityMapping, field: string): boolean {
  const col = m.fieldColumn(field)?.column;
  return col !== undefined && m.key.includes(col);
}

/** Whether `m` writes `field` on `op` (the mapping allows op, the field is writable, and not a key on update). */
function writes(m: EntityMapping, field: string, op: Op): boolean {
  return m.canWrite(op) && m.writableFields().includes(field) && !(op === 'update' && isKeyField(m, field));
}

/** Refuse fields some mapping holds read-only and none may write (see the module comment). */
export function checkWritableFields(rt: Runtime, entity: EntityName, values: CrmRecord, op: Op): void {
  const mappings = mappingsOf(rt, entity);
  // A federated owner that may not write at all says so itself (WRITE_FORBIDDEN, in the mutation).
  if (rt.isFederated(entity) && !mappings.some((m) => m.canWrite(op))) return;
  for (const field of Object.keys(values)) {
    const mapped = mappings.filter((m) => m.fields.includes(field));
    if (mapped.length === 0 || mapped.some((m) => writes(m, field, op))) continue;
    const holder = mapped.find((m) => !m.writableFields().includes(field) || (op === 'update' && isKeyField(m, field)));
    if (!holder) continue;
    const why = op === 'update' && isKeyField(holder, field) ? `it is the key of ${holder.source}.${holder.table.table}` : `the mapping computes it or marks it write: false`;
    throw new CrmlinkError('VALIDATION_FAILED', `${entity}.${field} is read-only: no source may write it (${why}, entities.${entity}.sources.${holder.source}.fields.${field})`, {
      entity,
      field,
      source: holder.source,
      reason: 'READ_ONLY',
      setting: `entities.${entity}.sources.${holder.source}.fields.${field}`,
    });
  }
}

const columnCache = new WeakMap<Runtime, Map<string, Promise<Map<string, ColumnInfo> | null>>>();

/** The columns of a mapping's table as its source describes them; null when it cannot say. */
function columnsOf(rt: Runtime, m: EntityMapping): Promise<Map<string, ColumnInfo> | null> {
  let cache = columnCache.get(rt);
  if (!cache) columnCache.set(rt, (cache = new Map()));
  const id = `${m.source}\u0000${m.table.schema ?? ''}\u0000${m.table.table}`;
  let p = cache.get(id);
  if (!p) {
    p = rt.app.sources
      .driver(m.source)
      .introspect({ table: m.table.table, ...(m.table.schema ? { schema: m.table.schema } : {}) })
      .then((tables) => {
        const t = tables.find((x) => x.name === m.table.table) ?? tables[0];
        return t ? new Map(t.columns.map((c) => [c.name, c])) : null;
      });
    // Only an answer is kept: a source that was down is asked again next time.
    const kept = cache;
    p = p.catch(() => {
      kept.delete(id);
      return null;
    });
    cache.set(id, p);
  }
  return p;
}

function refuse(entity: EntityName, field: string, m: EntityMapping, col: ColumnInfo, limit: string): never {
  throw new ValidationError(`${entity}.${field}: ${limit} in source "${m.source}" (column ${m.table.table}.${col.name}, ${col.type})`, {
    entity,
    field,
    source: m.source,
    table: m.table.table,
    column: col.name,
  });
}

function checkColumn(entity: EntityName, field: string, m: EntityMapping, col: ColumnInfo, v: unknown): void {
  if (v === null || v === undefined) {
    if (!col.nullable && col.defaultValue === null && !col.autoIncrement) refuse(entity, field, m, col, 'cannot be empty: the column is NOT NULL');
    return;
  }
  if (typeof v === 'string' && col.maxLength !== null && col.maxLength > 0 && longerThan(v, col.maxLength)) {
    refuse(entity, field, m, col, `is longer than ${col.maxLength} characters (${[...v].length} given)`);
  }
  if (col.precision !== null && (typeof v === 'string' || typeof v === 'number')) {
    const d = toDecimalString(v);
    if (d === null) return;
    const scale = col.scale ?? 0;
    if (integerDigits(d) > col.precision - scale) refuse(entity, field, m, col, `has ${integerDigits(d)} digits before the point; at most ${col.precision - scale} fit`);
    if (decimalPlaces(d) > scale) refuse(entity, field, m, col, `has ${decimalPlaces(d)} decimal places; at most ${scale} fit`);
  }
}

/** Refuse values a writing mapping's columns cannot hold (see the module comment). */
export async function checkTargetColumns(rt: Runtime, entity: EntityName, values: CrmRecord, op: Op): Promise<void> {
  const fields = rt.fields(entity);
  for (const m of mappingsOf(rt, entity)) {
    if (!m.canWrite(op)) continue;
    const mine = Object.keys(values).filter((f) => writes(m, f, op) && fields.find((x) => x.name === f)?.type !== 'ref');
    if (mine.length === 0) continue;
    const columns = await columnsOf(rt, m);
    if (!columns) continue;
    for (const f of mine) {
      let row: Record<string, unknown>;
      try {
        row = m.toRow({ [f]: values[f] ?? null }, op);
      } catch (err) {
        throw new ValidationError(`${entity}.${f}: source "${m.source}" cannot take the value (${err instanceof Error ? err.message : String(err)})`, { entity, field: f, source: m.source });
      }
      for (const [column, v] of Object.entries(row)) {
        const col = columns.get(column);
        if (col) checkColumn(entity, f, m, col, v);
      }
    }
  }
}
