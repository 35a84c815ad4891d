/**
 * One CRM entity mapped onto one source table: which columns to read, how each field is
 * converted, the row filter, the capture spec, and what may be written. Built from the config
 * (entities.<Entity>.sources.<source>) and used by the sync and the resolvers alike.
 *
 * @example
 *   const m = new EntityMapping('Customer', 'erp', config.sources.erp, config.entities.Customer.sources.erp);
 *   for await (const rows of driver.readPages({ ...m.table, key: m.key, columns: m.columns, where: m.filter })) {
 *     for (const row of rows) records.set(m.sourceKey(row), m.toRecord(row));
 *   }
 */
import type { EntitySourceConfig, FieldMapping, SourceConfig, WriteOp } from '../../config/schema.js';
import { MappingError } from '../../core/errors.js';
import { fieldsOf, isEntityName, type CrmRecord, type CrmValue, type FieldType, type ModelField } from '../../model/entities.js';
import type { CaptureSpec, KeyValues, Row, TableRef, Where } from '../driver.js';
import { decodeKey, encodeKey, encodeSingleKey } from '../keys.js';
import {
  TransformError,
  asText,
  cleanText,
  concatParts,
  mapCode,
  readBoolean,
  readDate,
  readDateTime,
  negateNumber,
  readDecimal,
  readInt,
  rowMatches,
  splitPart,
  splitParts,
  toDecimalString,
  unmapCode,
  writeBoolean,
  writeDate,
  writeDateTime,
  writeDecimal,
} from './transforms.js';
import { assertTimeZone } from '../../model/time.js';

/** Custom fields as declared under entities.<Entity>.fields. */
export type CustomFields = Record<string, { type: ModelField['type']; scale?: number; description?: string }>;

type FieldKind = 'column' | 'concat' | 'split' | 'constant' | 'cases';

interface FieldPlan {
  field: string;
  type: FieldType;
  scale?: number;
  kind: FieldKind;
  /** column: [column]; concat: the columns; split: [column]; constant: []; cases: every tested column. */
  columns: string[];
  /** Further columns read for the field (the `negate` condition's). */
  extraColumns: string[];
  separator: string;
  splitIndex: number;
  mapping: FieldMapping;
  timeZone: string;
  writable: boolean;
}

export class EntityMapping {
  readonly entity: string;
  readonly source: string;
  readonly table: TableRef;
  readonly key: string[];
  readonly fields: string[];
  readonly columns: string[];
  readonly filter?: Where;
  readonly capture: CaptureSpec;
  readonly identity: boolean;
  readonly deleteMode: 'hard' | 'soft';
  readonly readOnly: boolean;
  private readonly config: EntitySourceConfig;
  private readonly plans = new Map<string, FieldPlan>();

  constructor(entity: string, source: string, sourceConfig: SourceConfig, config: EntitySourceConfig, custom: CustomFields | readonly ModelField[] = {}) {
    this.entity = entity;
    this.source = source;
    this.config = config;
    this.readOnly = sourceConfig.readOnly;
    const schema = config.schema ?? sourceConfig.connection.schema;
    this.table = schema ? { table: config.table, schema } : { table: config.table };
    this.key = [...config.key];
    this.identity = config.identity;
    this.deleteMode = config.delete.mode;

    const model = new Map(modelFields(entity, custom).map((f) => [f.name, f]));
    const at = `entities.${entity}.sources.${source}`;
    const zone = sourceConfig.timezone ?? 'UTC';
    for (const [field, raw] of Object.entries(config.fields)) {
      const fm: FieldMapping = typeof raw === 'string' ? { column: raw } : raw;
      const declared = model.get(field);
      const plan = planField(field, fm, declared, zone, at);
      // The database generates identity keys: never write them.
      if (config.identity && plan.kind === 'column' && this.key.includes(plan.columns[0])) plan.writable = false;
      this.plans.set(field, plan);
    }
    this.fields = [...this.plans.keys()];
    const cols = new Set<string>(this.key);
    for (const p of this.plans.values()) for (const c of [...p.columns, ...p.extraColumns]) cols.add(c);
    if (config.changes.column) cols.add(config.changes.column);
    this.columns = [...cols];
    this.filter = filterToWhere(config.filter);
    this.capture = {
      ...this.table,
      key: this.key,
      columns: this.columns,
      ...(this.filter ? { where: this.filter } : {}),
      strategy: config.changes.strategy,
      ...(config.changes.column ? { column: config.changes.column } : {}),
      lookBackSeconds: config.changes.lookBackSeconds,
    };
  }

  /** Whether crmlink may perform `op` on this table (never on a read-only source). */
  canWrite(op: WriteOp): boolean {
    return !this.readOnly && this.config.write.includes(op);
  }

  /** Fields written back on insert/update (not computed, not `write: false`, not an identity key). */
  writableFields(): string[] {
    return [...this.plans.values()].filter((p) => p.writable).map((p) => p.field);
  }

  /** A source row → the CRM record (every mapped field). */
  toRecord(row: Row): CrmRecord {
    const build = (this.recordBuilder ??= compileRecord([...this.plans.values()]));
    if (build) {
      try {
        return build(row);
      } catch {
        // Read again field by field: the same values, and the error names the field that failed.
      }
    }
    const out: CrmRecord = {};
    for (const p of this.plans.values()) {
      try {
        out[p.field] = readField(p, row);
      } catch (err) {
        throw this.transformError(p, row, err);
      }
    }
    return out;
  }

  private recordBuilder?: ((row: Row) => CrmRecord) | null;

  /**
   * Each mapped field's read conversion, in the mapping's order, for callers that keep the
   * converted values somewhere other than a record. A value that does not convert throws a plain
   * error: `toRecord` on the same row gives the error naming the field.
   */
  fieldReaders(): { field: string; read(row: Row): CrmValue }[] {
    return [...this.plans.values()].map((p) => ({ field: p.field, read: readerOf(p) }));
  }

  sourceKey(row: Row): string {
    const key = this.key;
    return key.length === 1 ? encodeSingleKey(row[key[0]]) : encodeKey(key.map((k) => row[k]));
  }

  keyValues(sourceKey: string): KeyValues {
    return decodeKey(sourceKey, this.key.length);
  }

  /** The key columns of a row identified by `sourceKey`, e.g. to complete an update row. */
  keyRow(sourceKey: string): Row {
    const values = this.keyValues(sourceKey);
    const row: Row = {};
    this.key.forEach((k, i) => (row[k] = values[i]));
    return row;
  }

  /**
   * CRM values → the columns to write (writable fields present in `record` only). Throws
   * WRITE_FORBIDDEN when the mapping does not allow `op`.
   */
  toRow(record: Partial<CrmRecord>, op: 'insert' | 'update'): Row {
    if (!this.canWrite(op)) {
      const why = this.readOnly ? `source "${this.source}" is read-only (sources.${this.source}.readOnly)` : `add "${op}" to entities.${this.entity}.sources.${this.source}.write`;
      throw new MappingError('WRITE_FORBIDDEN', `${this.entity} may not be ${op === 'insert' ? 'inserted into' : 'updated in'} ${this.source}.${this.table.table}: ${why}`, {
        source: this.source,
        entity: this.entity,
        table: this.table.table,
        path: `entities.${this.entity}.sources.${this.source}.write`,
      });
    }
    const row: Row = {};
    for (const p of this.plans.values()) {
      if (!p.writable || !Object.prototype.hasOwnProperty.call(record, p.field)) continue;
      const value = record[p.field];
      if (value === undefined) continue;
      try {
        if (p.kind === 'concat') {
          splitParts(writeValue(p, value) as CrmValue, p.separator, p.columns.length).forEach((part, i) => (row[p.columns[i]] = part));
        } else row[p.columns[0]] = writeValue(p, value);
      } catch (err) {
        throw this.transformError(p, row, err, value);
      }
    }
    return row;
  }

  /**
   * The column behind a field and its write conversion, for pushing filters down to SQL; null
   * for computed fields (concat, split, constant, cases, negated), which must be filtered after mapping.
   */
  fieldColumn(field: string): { column: string; toSource(v: CrmValue): unknown } | null {
    const p = this.plans.get(field);
    if (!p || p.kind !== 'column' || p.mapping.negate) return null;
    return {
      column: p.columns[0],
      toSource: (v: CrmValue) => {
        try {
          return writeValue(p, v);
        } catch (err) {
          throw this.transformError(p, {}, err, v);
        }
      },
    };
  }

  /**
   * The source whose key a ref field's value is: the field mapping's `refSource` (e.g. OA approval
   * rows holding the ERP customer code in the column mapped to customerId), else this mapping's
   * own source (also for fields that are not mapped here).
   */
  refSourceOf(field: string): string {
    return this.plans.get(field)?.mapping.refSource ?? this.source;
  }

  /** The field's declared type after the mapping's override. */
  fieldType(field: string): FieldType | undefined {
    return this.plans.get(field)?.type;
  }

  /** soft delete: the columns that mark a row deleted. */
  softDeleteRow(): Row {
    const d = this.config.delete;
    if (d.mode !== 'soft' || !d.column) {
      throw new MappingError('MAPPING_INVALID', `${this.entity} in ${this.source} has no soft delete (entities.${this.entity}.sources.${this.source}.delete)`, {
        source: this.source,
        entity: this.entity,
        path: `entities.${this.entity}.sources.${this.source}.delete`,
      });
    }
    return { [d.column]: d.value ?? 1 };
  }

  /**
   * soft delete: the columns that make a row live again (an undelete), from the row filter's value
   * for the flag column (`filter: { deleted: 0 }`, `{ eq: 0 }`, or `{ ne: 1, orNull: true }` → NULL);
   * null when the filter does not name one.
   */
  softUndeleteRow(): Row | null {
    const d = this.config.delete;
    if (d.mode !== 'soft' || !d.column) return null;
    const f = this.config.filter?.[d.column];
    if (f === undefined) return null;
    if (f === null || typeof f !== 'object') return { [d.column]: f };
    if (f.eq !== undefined) return { [d.column]: f.eq };
    if (f.orNull) return { [d.column]: null };
    return null;
  }

  private transformError(p: FieldPlan, row: Row, err: unknown, value?: unknown): MappingError {
    if (err instanceof MappingError) return err;
    const column = p.columns.join('+') || undefined;
    const bad = value !== undefined ? value : p.columns.length === 1 ? row[p.columns[0]] : p.columns.map((c) => row[c]);
    const hasKey = this.key.every((k) => row[k] !== undefined);
    const key = hasKey ? this.sourceKey(row) : undefined;
    const reason = err instanceof Error ? err.message : String(err);
    return new MappingError(
      'TRANSFORM_FAILED',
      `${this.entity}.${p.field} ${value !== undefined ? 'to' : 'from'} ${this.source}.${this.table.table}${column ? `.${column}` : ''}${key !== undefined ? ` (key ${key})` : ''}: ${reason}; value ${safeJson(bad)}`,
      { source: this.source, entity: this.entity, table: this.table.table, key, field: p.field, column, value: safeJson(bad), path: `entities.${this.entity}.sources.${this.source}.fields.${p.field}` },
      { cause: err },
    );
  }
}

function modelFields(entity: string, custom: CustomFields | readonly ModelField[]): ModelField[] {
  const extra: ModelField[] = Array.isArray(custom)
    ? [...(custom as readonly ModelField[])]
    : Object.entries(custom as CustomFields).map(([name, f]) => ({ name, type: f.type, scale: f.scale, description: f.description, custom: true }));
  return isEntityName(entity) ? fieldsOf(entity, extra) : extra;
}

function planField(field: string, fm: FieldMapping, declared: ModelField | undefined, defaultZone: string, at: string): FieldPlan {
  const type: FieldType = fm.type ?? declared?.type ?? 'string';
  const scale = fm.scale ?? declared?.scale;
  const timeZone = fm.timezone ?? defaultZone;
  try {
    assertTimeZone(timeZone);
  } catch {
    throw new MappingError('MAPPING_INVALID', `unknown time zone "${timeZone}" for ${at}.fields.${field}`, { field, path: `${at}.fields.${field}.timezone` });
  }
  if (fm.refSource !== undefined) {
    const path = `${at}.fields.${field}.refSource`;
    if (typeof fm.refSource !== 'string' || fm.refSource.trim() === '') {
      throw new MappingError('MAPPING_INVALID', `${path} must name a source`, { field, path });
    }
    if (type !== 'ref') {
      throw new MappingError('MAPPING_INVALID', `${path}: only a ref field holds another source's key (${field} is ${type})`, { field, path });
    }
  }
  // A negated number is computed from two columns: it is never written back.
  const extraColumns = fm.negate ? Object.keys(fm.negate) : [];
  const base = { field, type, scale, mapping: fm, timeZone, separator: fm.separator ?? ' ', splitIndex: 0, extraColumns };
  if (fm.column !== undefined) return { ...base, kind: 'column', columns: [fm.column], writable: fm.write !== false && !fm.negate };
  if (fm.columns !== undefined) return { ...base, kind: 'concat', columns: [...fm.columns], writable: fm.write !== false };
  if (fm.split !== undefined) return { ...base, kind: 'split', columns: [fm.split.column], separator: fm.split.separator, splitIndex: fm.split.index, writable: false };
  if (fm.constant !== undefined) return { ...base, kind: 'constant', columns: [], writable: false };
  if (fm.cases !== undefined) return { ...base, kind: 'cases', columns: [...new Set(fm.cases.flatMap((c) => Object.keys(c.when)))], writable: false };
  throw new MappingError('MAPPING_INVALID', `${at}.fields.${field} needs one of column, columns, split, constant, cases`, { field, path: `${at}.fields.${field}` });
}

/**
 * A function making a mapping's record as one object literal, its fields in the mapping's order:
 * records of one mapping share one shape (no property-by-property growth), and row mapping makes
 * one object per row. null (field by field) when a field name could not be a literal's key.
 */
function compileRecord(plans: FieldPlan[]): ((row: Row) => CrmRecord) | null {
  if (plans.some((p) => p.field === '__proto__')) return null;
  const props = plans.map((p, i) => `${JSON.stringify(p.field)}: reads[${i}](row)`).join(', ');
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- built from field names only, each a JSON string literal
  const make = new Function('reads', `return function record(row) { return { ${props} }; };`) as (reads: ((row: Row) => CrmValue)[]) => (row: Row) => CrmRecord;
  return make(plans.map(readerOf));
}

/** The read conversion of one field: readField, or its plain-column shortcut (columnReader). */
function readerOf(p: FieldPlan): (row: Row) => CrmValue {
  return columnReader(p) ?? ((row: Row) => readField(p, row));
}

/**
 * readField of a field read from one column with no code map, default, negation or text option
 * (most fields): the same values and errors, without the general path's checks for each value.
 */
function columnReader(p: FieldPlan): ((row: Row) => CrmValue) | null {
  const fm = p.mapping;
  if (p.kind !== 'column' || fm.negate || fm.map || (fm.default !== undefined && fm.default !== null)) return null;
  if (fm.trim !== undefined || fm.case !== undefined || fm.halfWidth !== undefined) return null;
  const column = p.columns[0];
  const zone = p.timeZone;
  /** An empty text is no value, except for text fields. */
  const present = (v: unknown) => v !== null && v !== undefined && v !== '';
  switch (p.type) {
    case 'string':
    case 'text':
      return (row) => {
        const v = row[column];
        return v === null || v === undefined ? null : asText(v);
      };
    case 'enum':
    case 'ref':
      return (row) => (present(row[column]) ? asText(row[column]) : null);
    case 'int':
      return (row) => (present(row[column]) ? readInt(row[column]) : null);
    case 'decimal':
      return (row) => (present(row[column]) ? readDecimal(row[column]) : null);
    case 'boolean':
      return (row) => (present(row[column]) ? readBoolean(row[column]) : null);
    case 'date':
      return (row) => (present(row[column]) ? readDate(row[column]) : null);
    case 'datetime':
      return (row) => (present(row[column]) ? readDateTime(row[column], zone) : null);
    default:
      return null;
  }
}

function readField(p: FieldPlan, row: Row): CrmValue {
  const value = readValue(p, row);
  return p.mapping.negate && value !== null && rowMatches(row, p.mapping.negate) ? negateNumber(value) : value;
}

function readValue(p: FieldPlan, row: Row): CrmValue {
  const fm = p.mapping;
  let raw: unknown;
  switch (p.kind) {
    case 'constant':
      return canonicalDecimal(p, fm.constant ?? null);
    case 'cases': {
      const hit = fm.cases?.find((c) => rowMatches(row, c.when));
      const v = hit ? hit.value : (fm.default ?? null);
      return v === null ? null : convertRead(p, v);
    }
    case 'concat':
      raw = concatParts(
        p.columns.map((c) => (typeof row[c] === 'string' ? cleanText(row[c] as string, fm) : row[c])),
        p.separator,
      );
      break;
    case 'split':
      raw = splitPart(row[p.columns[0]], p.separator, p.splitIndex);
      break;
    case 'column':
      raw = row[p.columns[0]];
      break;
  }
  if (typeof raw === 'string' && p.kind !== 'concat') raw = cleanText(raw, fm);
  if (raw === null || raw === undefined || (raw === '' && p.type !== 'string' && p.type !== 'text')) {
    if (fm.default === undefined || fm.default === null) return null;
    raw = fm.default;
  }
  if (fm.map) return canonicalDecimal(p, mapCode(raw, fm.map));
  return convertRead(p, raw);
}

/**
 * Every decimal a mapping produces is in normal form (readDecimal: "1.50" → "1.5"), whatever its
 * origin (column, default, code map, constant), so comparing decimals as strings (model/values.ts
 * sameValue, the hub, the merge) compares their values.
 */
function canonicalDecimal(p: FieldPlan, value: CrmValue): CrmValue {
  return p.type === 'decimal' && value !== null ? readDecimal(value) : value;
}

function convertRead(p: FieldPlan, raw: unknown): CrmValue {
  switch (p.type) {
    case 'string':
    case 'text':
    case 'enum':
    case 'ref':
      return asText(raw);
    case 'int':
      return readInt(raw);
    case 'decimal':
      return readDecimal(raw);
    case 'boolean':
      return readBoolean(raw);
    case 'date':
      return readDate(raw);
    case 'datetime':
      return readDateTime(raw, p.timeZone);
  }
}

function writeValue(p: FieldPlan, value: CrmValue): unknown {
  if (value === null) return null;
  const fm = p.mapping;
  if (fm.map) return p.type === 'decimal' ? unmapDecimal(value, fm.map) : unmapCode(value, fm.map);
  switch (p.type) {
    case 'string':
    case 'text':
    case 'enum':
    case 'ref':
      return cleanText(String(value), fm);
    case 'int':
      return readInt(value);
    case 'decimal':
      return writeDecimal(value, p.scale);
    case 'boolean':
      return writeBoolean(value);
    case 'date':
      return writeDate(value);
    case 'datetime':
      return writeDateTime(value, p.timeZone);
  }
}

/** The code of a decimal by value: the map may spell it "0.130" where the record holds "0.13". */
function unmapDecimal(value: CrmValue, map: Record<string, string | number | boolean | null>): unknown {
  const want = toDecimalString(value);
  if (want !== null) {
    for (const [code, v] of Object.entries(map)) {
      if (v !== null && typeof v !== 'boolean' && toDecimalString(v) === want) return code;
    }
  }
  return unmapCode(value, map);
}

/** entities.*.sources.*.filter → Where: `{ deleted: 0 }`, `{ status: { in: [1, 2] } }`, `{ x: null }`. */
export function filterToWhere(filter: EntitySourceConfig['filter']): Where | undefined {
  if (!filter) return undefined;
  const parts: Where[] = [];
  for (const [column, v] of Object.entries(filter)) {
    if (v === null) parts.push({ column, op: 'isNull', value: true });
    else if (typeof v !== 'object') parts.push({ column, op: 'eq', value: v });
    else {
      const own: Where[] = [];
      if (v.eq !== undefined) own.push(v.eq === null ? { column, op: 'isNull', value: true } : { column, op: 'eq', value: v.eq });
      if (v.ne !== undefined) own.push(v.ne === null ? { column, op: 'isNull', value: false } : { column, op: 'ne', value: v.ne });
      if (v.in !== undefined) own.push({ column, op: 'in', value: v.in });
      if (v.nin !== undefined) own.push({ column, op: 'nin', value: v.nin });
      if (v.isNull !== undefined) own.push({ column, op: 'isNull', value: v.isNull });
      // SQL comparisons drop NULLs; orNull keeps them (a flag column nobody set).
      if (v.orNull && own.length > 0) parts.push({ or: [own.length === 1 ? own[0] : { and: own }, { column, op: 'isNull', value: true }] });
      else parts.push(...own);
    }
  }
  if (parts.length === 0) return undefined;
  return parts.length === 1 ? parts[0] : { and: parts };
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v instanceof Date ? v.toISOString() : typeof v === 'bigint' ? v.toString() : v) ?? String(v);
  } catch {
    return String(v);
  }
}

export { TransformError };
