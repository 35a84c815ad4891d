/**
 * Federated entities: read live from the owner source through its driver and mapping. Filters and
 * sorts are translated field → column with the mapping's `fieldColumn`; a field the mapping
 * computes (concatenation, split, constant) cannot be pushed down and is refused with an error
 * naming the field and the source, rather than filtered in memory over a whole table.
 *
 * Nested connections fetch the whole level in one statement (`ref IN (...)`) and slice per parent
 * in memory: the Driver interface has no window functions, and a level is bounded by the parents'
 * page size times their children.
 */
import { createHmac } from 'node:crypto';
import type { Row, TableRef, Where } from '../connectors/driver.js';
import type { Connector } from '../connectors/connector.js';
import { EntityMapping } from '../connectors/mapping/entity-mapping.js';
import type { EntitySourceConfig, SourceConfig } from '../config/schema.js';
import { CrmlinkError } from '../core/errors.js';
import { stableStringify } from '../model/values.js';
import { fieldsOf, type CrmRecord, type CrmValue, type EntityName, type ModelField } from '../model/entities.js';
import { isConst, simplify, type Filter, type SortColumn } from './filters.js';
import { exposesField, keysMatching, recordsByKeys, withFieldGetters, type AggSpec, type EntityStore, type Rec, type StoreQuery } from './store.js';
import { federatedIds } from './ids.js';
import { decimalFromDb } from '../model/decimal.js';

/**
 * Mappings of a subset of an entity's fields, built from the same config as the full mapping, so
 * a page converts only the fields a query reads, each row in one call (a customer-360 page reads
 * 4 of 8 order-line fields; decimals and zoned date-times are the costly conversions). A record
 * read for a selection converts its fields together on first use; a record read whole converts
 * field by field (one-field subsets) or all at once (`values`).
 */
export class MappingSubsets {
  private readonly byKey = new Map<string, EntityMapping>();
  private readonly bySet = new WeakMap<ReadonlySet<string>, EntityMapping>();

  constructor(
    private readonly mapping: EntityMapping,
    private readonly source: SourceConfig,
    private readonly config: EntitySourceConfig,
    private readonly custom: readonly ModelField[],
  ) {}

  /** The mapping config of the entity in the source, when at hand (undefined: no subsets). */
  static of(mapping: EntityMapping, source: SourceConfig, config: EntitySourceConfig | undefined, custom: readonly ModelField[]): MappingSubsets | undefined {
    if (!config || mapping.fields.some((f) => !(f in config.fields))) return undefined;
    return new MappingSubsets(mapping, source, config, custom);
  }

  /** The mapping of `fields` (those mapped here); cached per set and per name list. */
  of(fields: ReadonlySet<string>): EntityMapping {
    let m = this.bySet.get(fields);
    if (m) return m;
    const names = [...fields].filter((f) => f in this.config.fields).sort();
    const key = names.join(',');
    m = this.byKey.get(key);
    if (!m) {
      m = new EntityMapping(this.mapping.entity, this.mapping.source, this.source, { ...this.config, fields: Object.fromEntries(names.map((f) => [f, this.config.fields[f]])) }, this.custom);
      // Selections come from documents: keep a bounded number of them.
      if (this.byKey.size >= 500) this.byKey.clear();
      this.byKey.set(key, m);
    }
    this.bySet.set(fields, m);
    return m;
  }

  /** One field's mapping. */
  one(field: string): EntityMapping {
    let set = this.singles.get(field);
    if (!set) this.singles.set(field, (set = new Set([field])));
    return this.of(set);
  }

  private readonly singles = new Map<string, ReadonlySet<string>>();
}

export class SourceStore implements EntityStore {
  readonly fields: ReadonlyMap<string, ModelField>;
  readonly nullsFirstAsc: boolean;
  private readonly refSpaces = new Map<string, string>();
  private readonly Rec: typeof SourceRec;
  private allColumns?: string[];
  /** Projections per selected field set (stable per document), by partition field and sort columns. */
  private readonly projections = new WeakMap<ReadonlySet<string>, Map<string, Projection>>();
  /** The Relay id of a record of this store from its key. */
  readonly idOf: (key: string) => string;

  constructor(
    readonly entity: EntityName,
    readonly space: string,
    readonly driver: Connector,
    readonly mapping: EntityMapping,
    custom: readonly ModelField[],
    /** Conversion of some fields only; without it a record converts all its fields at once. */
    readonly subsets?: MappingSubsets,
    /** Key of record versions (the hub's `record-version` secret). */
    readonly versionKey: Buffer = Buffer.alloc(0),
  ) {
    this.fields = new Map(fieldsOf(entity, custom).map((f) => [f.name, f]));
    this.nullsFirstAsc = driver.capabilities.nullsAscending === 'first';
    for (const f of this.fields.values()) if (f.type === 'ref') this.refSpaces.set(f.name, mapping.refSourceOf(f.name));
    this.Rec = withFieldGetters(SourceRec, this.fields.keys());
    this.idOf = federatedIds(entity, space);
  }

  refSpace(field: string): string {
    return this.refSpaces.get(field) ?? this.space;
  }

  private column(field: string, purpose: 'filter' | 'sort' | 'aggregate'): { column: string; toSource(v: CrmValue): unknown } {
    if (!this.fields.has(field)) throw new CrmlinkError('VALIDATION_FAILED', `unknown field "${field}" of ${this.entity}`, { field, entity: this.entity });
    const fc = this.mapping.fieldColumn(field);
    if (!fc) {
      throw new CrmlinkError(
        'VALIDATION_FAILED',
        `cannot ${purpose} on ${this.entity}.${field}: source "${this.space}" computes it (no single column), so it cannot be pushed down to SQL; ` +
          `${purpose} on another field or map ${field} to one column`,
        { field, entity: this.entity, source: this.space },
      );
    }
    return fc;
  }

  keySort(): SortColumn[] {
    return this.mapping.key.map((column) => ({ column, direction: 'asc' as const }));
  }

  sortColumn(field: string): string {
    return this.column(field, 'sort').column;
  }

  checkFilterable(field: string): void {
    this.column(field, 'filter');
  }

  private ref(): TableRef {
    return this.mapping.table;
  }

  /** Filter → driver Where (column level). Constants are folded away beforehand. */
  private compile(f: Filter): Where | undefined {
    if ('const' in f) {
      if (f.const) return undefined;
      return { or: [] };
    }
    if ('and' in f) return { and: f.and.map((p) => this.compile(p)).filter((w): w is Where => !!w) };
    if ('or' in f) return { or: f.or.map((p) => this.compile(p) ?? { and: [] }) };
    if ('not' in f) {
      const inner = this.compile(f.not);
      return inner ? { not: inner } : { or: [] };
    }
    if ('keyIn' in f) return this.keyWhere(f.keyIn);
    if ('column' in f) return { column: f.column, op: f.op, value: f.value };
    const { column, toSource } = this.column(f.field, 'filter');
    const conv = (v: unknown) => (v === null || v === undefined ? null : toSource(v as CrmValue));
    switch (f.op) {
      case 'isNull':
        return { column, op: 'isNull', value: f.value };
      case 'in':
      case 'nin':
        return { column, op: f.op, value: (f.value as unknown[]).map(conv) };
      case 'contains':
      case 'startsWith':
        // A substring is not a value of the field: code maps and scales do not apply to it.
        return { column, op: f.op, value: String(f.value) };
      default:
        return { column, op: f.op, value: conv(f.value) };
    }
  }

  private keyWhere(keys: readonly string[]): Where {
    const cols = this.mapping.key;
    const values = keys.map((k) => this.mapping.keyValues(k));
    if (cols.length === 1) return { column: cols[0], op: 'in', value: values.map((v) => v[0]) };
    return { or: values.map((v) => ({ and: cols.map((c, i) => ({ column: c, op: 'eq' as const, value: v[i] })) })) };
  }

  private fullWhere(f: Filter): Where | undefined {
    const w = this.compile(f);
    const parts = [this.mapping.filter, w].filter((x): x is Where => !!x);
    return parts.length === 0 ? undefined : parts.length === 1 ? parts[0] : { and: parts };
  }

  private columns(): string[] {
    return (this.allColumns ??= [...new Set([...this.mapping.columns, ...this.mapping.key])]);
  }

  /**
   * The columns a query reads: key, sort and partition columns and those of `fields`, or every
   * mapped column (with `loaded` undefined) when no field set is given or one of the fields is
   * computed from several columns.
   */
  private projection(query: StoreQuery): Projection {
    const subsets = this.subsets;
    if (!query.fields || !subsets) return { columns: this.columns() };
    let bySig = this.projections.get(query.fields);
    if (!bySig) this.projections.set(query.fields, (bySig = new Map()));
    let sig = query.partition?.field ?? '';
    for (const s of query.sort) sig += `\u0000${s.column}`;
    let p = bySig.get(sig);
    if (!p) {
      p = this.project(query, query.fields, subsets);
      if (p.loaded) p.Values = valuesRecClass(this, p.loaded);
      bySig.set(sig, p);
    }
    return p;
  }

  private project(query: StoreQuery, fields: ReadonlySet<string>, subsets: MappingSubsets): Projection {
    const loaded = new Set(fields);
    if (query.partition) loaded.add(query.partition.field);
    const cols = new Set<string>(this.mapping.key);
    for (const s of query.sort) cols.add(s.column);
    for (const f of loaded) {
      if (!this.mapping.fields.includes(f)) continue; // not mapped here: reads as null
      const fc = this.mapping.fieldColumn(f);
      if (!fc) return { columns: this.columns() };
      cols.add(fc.column);
    }
    return { columns: [...cols], loaded: { fields: loaded, mapping: subsets.of(loaded) } };
  }

  async select(query: StoreQuery): Promise<Rec[]> {
    const part = query.partition;
    const where = simplify(part ? { and: [query.where, { field: part.field, op: 'in', value: part.values }] } : query.where);
    if (isConst(where, false)) return [];
    const { columns, loaded, Values } = this.projection(query);
    const rows = await this.driver.select({
      ...this.ref(),
      columns,
      where: this.fullWhere(where),
      orderBy: query.sort.map((s) => ({ column: s.column, direction: s.direction })),
      // Per-parent limits are applied by the caller's slicing; only a top-level page is limited here.
      ...(part || query.limit === undefined ? {} : { limit: query.limit }),
    });
    const RecOfStore = this.Rec;
    const recs: Rec[] = new Array(rows.length);
    if (Values && loaded) {
      for (let i = 0; i < rows.length; i++) {
        try {
          recs[i] = new Values(this, rows[i], loaded);
        } catch {
          // A row with a value that does not convert is read lazily: that field answers with its
          // error (naming field, column and key), the row's other fields and the other rows as usual.
          recs[i] = new RecOfStore(this, rows[i], loaded);
        }
      }
    } else for (let i = 0; i < rows.length; i++) recs[i] = new RecOfStore(this, rows[i], loaded);
    if (part && query.limit !== undefined) {
      const seen = new Map<string, number>();
      return recs.filter((r) => {
        const k = String(r.get(part.field));
        const n = (seen.get(k) ?? 0) + 1;
        seen.set(k, n);
        return n <= (query.limit as number);
      });
    }
    return recs;
  }

  toRec(row: Row): Rec {
    return new this.Rec(this, row);
  }

  async aggregate(where: Filter, aggs: AggSpec[], groupBy?: { field: string; values: string[] }): Promise<Row[]> {
    const w = simplify(groupBy ? { and: [where, { field: groupBy.field, op: 'in', value: groupBy.values }] } : where);
    if (isConst(w, false)) return [];
    const groupCol = groupBy ? this.column(groupBy.field, 'aggregate').column : undefined;
    const rows = await this.driver.aggregate({
      ...this.ref(),
      where: this.fullWhere(w),
      ...(groupCol ? { groupBy: [groupCol] } : {}),
      aggregates: aggs.map((a) => ({ fn: a.fn, as: a.as, ...(a.field ? { column: this.column(a.field, 'aggregate').column } : {}) })),
    });
    return rows.map((r) => {
      const out: Row = {};
      // The group value is a raw column value; ref fields are keyed by their canonical (string) form.
      if (groupCol) out._g = r[groupCol] === null || r[groupCol] === undefined ? null : String(r[groupCol]);
      for (const a of aggs) {
        const v = r[a.as];
        if (a.fn === 'count') out[a.as] = Number(v);
        else {
          const f = this.fields.get(a.field as string);
          if (f?.type === 'decimal' || f?.type === 'int' || a.fn === 'sum' || a.fn === 'avg') {
            const scale = f?.type === 'decimal' ? (f.scale ?? 4) + (a.fn === 'avg' ? 4 : 0) : a.fn === 'avg' ? 4 : 0;
            const d = decimalFromDb(v, scale);
            out[a.as] = f?.type === 'int' && (a.fn === 'min' || a.fn === 'max') && d !== null ? Number(d) : d;
          } else out[a.as] = v instanceof Date ? v.toISOString() : v;
        }
      }
      return out;
    });
  }

  byKeys(keys: readonly string[]): Promise<Map<string, Rec>> {
    return recordsByKeys(this, keys);
  }

  keys(where: Filter): Promise<string[]> {
    return keysMatching(where, async (w) => {
      const rows = await this.driver.select({ ...this.ref(), columns: [...this.mapping.key], where: this.fullWhere(w) });
      return rows.map((r) => this.mapping.sourceKey(r));
    });
  }
}

/** The fields a page was read for, and the mapping converting just those (MappingSubsets). */
interface LoadedFields {
  fields: ReadonlySet<string>;
  mapping: EntityMapping;
}

/** The columns a query reads, and the records made of its rows when it reads a field set. */
interface Projection {
  columns: string[];
  loaded?: LoadedFields;
  /** Records with the converted values as own properties (valuesRecClass); unset: SourceRec. */
  Values?: ValuesRecClass | null;
}

type ValuesRecClass = new (store: SourceStore, raw: Row, loaded: LoadedFields) => Rec;

function partialRead(rec: Rec, loaded: LoadedFields | undefined, what: string): CrmlinkError {
  return new CrmlinkError('INTERNAL', `${rec.entity} ${rec.key} was read with the columns of ${[...(loaded?.fields ?? [])].join(', ')} only; ${what} needs more`, {
    entity: rec.entity,
    source: rec.space,
  });
}

/** What every record read from a source row has: its store and row, key and id computed when asked for. */
abstract class SourceRowRec {
  private keyCache?: string;
  private idCache?: string;

  constructor(
    protected readonly store: SourceStore,
    readonly raw: Row,
  ) {}

  /** A source row has no hub timestamp (on the prototype: one slot less per row). */
  get updatedAt(): null {
    return null;
  }

  get entity(): EntityName {
    return this.store.entity;
  }

  get space(): string {
    return this.store.space;
  }

  get key(): string {
    return (this.keyCache ??= this.store.mapping.sourceKey(this.raw));
  }

  get id(): string {
    return (this.idCache ??= this.store.idOf(this.key));
  }
}

/**
 * A record of a page read for a field set, converted when made: the selected fields' values are
 * its own properties, so GraphQL's default resolver reads them directly (no getter, no `get`, no
 * second object per row). Key and id are computed when asked for, as SourceRec's.
 */
class ValuesRec extends SourceRowRec implements Rec {
  constructor(
    store: SourceStore,
    raw: Row,
    private readonly loaded: LoadedFields,
  ) {
    super(store, raw);
  }

  get values(): CrmRecord {
    throw partialRead(this, this.loaded, 'reading every field');
  }

  get(field: string): CrmValue {
    if (this.loaded.fields.has(field)) return (this as unknown as Record<string, CrmValue>)[field];
    throw partialRead(this, this.loaded, `field ${field}`);
  }

  get version(): number {
    return rowVersion(this.values, this.store.versionKey);
  }
}

/**
 * The record class of pages read for `loaded`: a constructor assigning each selected field in one
 * order (one shape for every record of the set), fields not selected kept as getters that refuse.
 * A value that does not convert throws from the constructor. null when a selected field is a
 * record member (resolvers read those through `get`), so SourceRec serves that set.
 */
function valuesRecClass(store: SourceStore, loaded: LoadedFields): ValuesRecClass | null {
  const names = [...loaded.fields];
  if (names.some((n) => !exposesField(n) || n === '__proto__')) return null;
  const readers = new Map(loaded.mapping.fieldReaders().map((r) => [r.field, r.read]));
  // A selected field not mapped in this source reads as null.
  const reads = names.map((n) => readers.get(n) ?? (() => null));
  const Base = withFieldGetters(
    ValuesRec,
    [...store.fields.keys()].filter((f) => !loaded.fields.has(f)),
  );
  const body = names.map((n, i) => `this[${JSON.stringify(n)}] = reads[${i}](row) ?? null;`).join('\n');
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- built from field names only, each a JSON string literal
  const make = new Function('Base', 'reads', `return class extends Base { constructor(store, row, loaded) { super(store, row, loaded);\n${body}\n} };`) as (
    base: typeof ValuesRec,
    reads: ((row: Row) => CrmValue)[],
  ) => ValuesRecClass;
  return make(Base, reads);
}

/**
 * A record read from a source. Key, id, version and values are computed only when asked for, and
 * `get` converts only the fields the query selected (or the one field asked for): a page of a few
 * thousand rows would otherwise convert and hash every column of every row whether or not the
 * query reads it.
 */
class SourceRec extends SourceRowRec implements Rec {
  private versionCache?: number;
  private valuesCache?: CrmRecord;
  private lastField?: string;
  private lastValue?: CrmValue;

  constructor(
    store: SourceStore,
    raw: Row,
    /** Read with only these fields' columns (StoreQuery.fields); undefined: every column. */
    private readonly loaded?: LoadedFields,
  ) {
    super(store, raw);
  }

  /** Every field (a record read for a selection has only the selected ones: asking is a bug). */
  get values(): CrmRecord {
    if (this.loaded) throw partialRead(this, this.loaded, 'reading every field');
    return (this.valuesCache ??= this.store.mapping.toRecord(this.raw));
  }

  get(field: string): CrmValue {
    // Converted already (a record's values are never undefined): the common case, one lookup.
    const converted = this.valuesCache?.[field];
    if (converted !== undefined) return converted;
    const loaded = this.loaded;
    if (loaded) {
      if (!loaded.fields.has(field)) throw partialRead(this, this.loaded, `field ${field}`);
      // The row's selected fields, converted together the first time one is read; if one of them
      // does not convert, each field on its own, so that only the bad one answers with its error.
      if (this.valuesCache === undefined) {
        try {
          this.valuesCache = loaded.mapping.toRecord(this.raw);
        } catch {
          return (this.store.subsets as MappingSubsets).one(field).toRecord(this.raw)[field] ?? null;
        }
      }
      return this.valuesCache[field] ?? null;
    }
    if (this.valuesCache) return this.valuesCache[field] ?? null;
    const subsets = this.store.subsets;
    if (!subsets) return this.values[field] ?? null;
    // The field read last is kept: paging and grouping a level read the ref field back to back.
    if (field === this.lastField) return this.lastValue as CrmValue;
    const v = subsets.one(field).toRecord(this.raw)[field] ?? null;
    this.lastField = field;
    this.lastValue = v;
    return v;
  }

  get version(): number {
    return (this.versionCache ??= rowVersion(this.values, this.store.versionKey));
  }
}

/**
 * A federated record has no stored version: a keyed MAC of its values stands in for
 * expectedVersion. Keyed, because the values include fields a role may not see: a plain hash
 * would let it find a hidden value by hashing candidates until one gives the version it was shown.
 * Without the key the version tells only whether the record changed.
 */
export function rowVersion(values: Record<string, unknown>, key: Buffer): number {
  if (key.length === 0) throw new CrmlinkError('INTERNAL', 'record versions need the hub key (hub/secrets.ts), which was not loaded');
  return createHmac('sha256', key).update(stableStringify(values)).digest().readUInt32BE(0) & 0x7fffffff;
}
