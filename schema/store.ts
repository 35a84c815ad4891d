/**
 * Where an entity's records are read from. A replicated entity reads the hub's golden records; a
 * federated one reads live from its owner source. Both speak canonical fields in and `Rec`s out,
 * so resolvers, paging, batching and security never ask which kind they have.
 *
 * Keys live in a "space": `hub` (global ids) or a source name (source keys, see connectors/keys).
 * A ref field holds the referenced record's key in its ref space (`EntityStore.refSpace`): the
 * referencing record's own space, unless the source mapping names another with `refSource` (an OA
 * form holding ERP customer codes).
 */
import type { Row } from '../connectors/driver.js';
import type { CrmRecord, CrmValue, EntityName, ModelField } from '../model/entities.js';
import { isConst, simplify, type Filter, type SortColumn } from './filters.js';

export const HUB = 'hub';

export interface Rec {
  entity: EntityName;
  /** Global id (Node.id). */
  readonly id: string;
  /** 'hub' or the source the record was read from. */
  space: string;
  /** Key within the space: the hub id or the source key. */
  key: string;
  /** Every field, converted. Federated records convert on first use: prefer `get` for a few fields. */
  readonly values: CrmRecord;
  /** One field's value (null when absent), converting only that field. */
  get(field: string): CrmValue;
  /** Hub: `_version`; federated: a hash of the row, for optimistic concurrency. */
  readonly version: number;
  updatedAt: string | null;
  /** The row as the store returned it (cursor values come from here). */
  raw: Row;
}

export interface StoreQuery {
  where: Filter;
  /** Resolved sort columns, the record key last. */
  sort: SortColumn[];
  limit?: number;
  /**
   * Nested batch: only rows whose `field` is one of `values`; `limit` then applies per value
   * (the hub uses ROW_NUMBER() OVER (PARTITION BY ...); sources fetch the batch and slice).
   */
  partition?: { field: string; values: string[] };
  /**
   * The fields the caller will read (`get`); a store may then read only their columns (plus key,
   * sort and partition columns). Records read so cannot give `values` or other fields.
   * Undefined: every field.
   */
  fields?: ReadonlySet<string>;
}

export type AggFn = 'count' | 'sum' | 'min' | 'max' | 'avg';
export interface AggSpec {
  fn: AggFn;
  field?: string;
  as: string;
}

export interface EntityStore {
  readonly entity: EntityName;
  readonly space: string;
  /** Fields of the entity, custom fields included. */
  readonly fields: ReadonlyMap<string, ModelField>;
  /** Where the engine's default ORDER BY puts NULLs in ascending order. */
  readonly nullsFirstAsc: boolean;
  /** The space the values of ref field `field` are keys of: `space`, or the mapping's `refSource`. */
  refSpace(field: string): string;
  /** The record key as sort columns (the stable tie-break). */
  keySort(): SortColumn[];
  /** The store column a field sorts by; throws naming field and source when it cannot be pushed down. */
  sortColumn(field: string): string;
  /** Throws naming field and source when a filter on `field` cannot be pushed down. */
  checkFilterable(field: string): void;
  select(q: StoreQuery): Promise<Rec[]>;
  /** One row per group (`_g` holds the group value when groupBy is given), aggregates under `as`. */
  aggregate(where: Filter, aggs: AggSpec[], groupBy?: { field: string; values: string[] }): Promise<Row[]>;
  byKeys(keys: readonly string[]): Promise<Map<string, Rec>>;
  /** Keys that exist and match `where` (used for row rules): selects only key columns. */
  keys(where: Filter): Promise<string[]>;
}

/**
 * Names every record has as members (or internal state): a field with one of these names is read
 * through `get` by a resolver; every other field is a getter on the record's class, so GraphQL's
 * default resolver (inlined by graphql-jit) reads it without a resolver call per field and row.
 */
const REC_MEMBERS = new Set([
  'entity',
  'id',
  'space',
  'key',
  'values',
  'get',
  'version',
  'updatedAt',
  'raw',
  'store',
  'constructor',
  'toJSON',
  'keyCache',
  'idCache',
  'versionCache',
  'valuesCache',
  'lastField',
  'lastValue',
  'loaded',
  'partial',
  '__proto__',
]);

/** Whether records expose `field` as a property (see REC_MEMBERS). */
export function exposesField(field: string): boolean {
  // Names every object has (toString, valueOf, ...) would be read, or called, instead of the field.
  return !REC_MEMBERS.has(field) && !(field in Object.prototype);
}

/** EntityStore.keys: the filter simplified, and no query at all for one that can match nothing. */
export async function keysMatching(where: Filter, read: (simplified: Filter) => Promise<string[]>): Promise<string[]> {
  const w = simplify(where);
  return isConst(w, false) ? [] : read(w);
}

/** EntityStore.byKeys through the store's own select: each distinct key once, in key order, keyed by `key`. */
export async function recordsByKeys(store: Pick<EntityStore, 'select' | 'keySort'>, keys: readonly string[]): Promise<Map<string, Rec>> {
  const out = new Map<string, Rec>();
  if (keys.length === 0) return out;
  for (const r of await store.select({ where: { keyIn: [...new Set(keys)] }, sort: store.keySort() })) out.set(r.key, r);
  return out;
}

/** A subclass of a record class whose instances expose each field as a getter over `get(field)`. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any constructor signature
export function withFieldGetters<C extends new (...args: any[]) => Rec>(base: C, fields: Iterable<string>): C {
  const sub = class extends base {};
  for (const field of fields) {
    if (!exposesField(field) || field in base.prototype) continue;
    Object.defineProperty(sub.prototype, field, {
      get(this: Rec) {
        // A value that does not convert is returned as its error, not thrown: graphql-jit reads
        // plain fields inline, and a getter that throws escapes it as an unhandled rejection, the
        // request never answered. A returned Error is that field's error (in graphql-js as well).
        try {
          return this.get(field);
        } catch (err) {
          return err instanceof Error ? err : new Error(String(err));
        }
      },
      enumerable: false,
      configurable: true,
    });
  }
  return sub;
}
