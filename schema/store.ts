/**
 * Where an entity's records are read from. A replicated entity reads the hub's golden records; a
 * federated one reads live from its owner source. Both speak canonical fields in and `Rec`s out,
 * so resolvers, paging, batching and security never ask which kind they have.
 *
 * Keys live in a "space": `hub` (global ids) or a source name (source keys, see connectors/keys).
 * A ref field holds the referenced record's key in the referencing record's own space.
 */
import type { Row } from '../connectors/driver.js';
import type { CrmRecord, EntityName, ModelField } from './model.js';
import type { Filter, SortColumn } from './filters.js';

export const HUB = 'hub';

export interface Rec {
  entity: EntityName;
  /** Global id (Node.id). */
  readonly id: string;
  /** 'hub' or the source the record was read from. */
  space: string;
  /** Key within the space: the hub id or the source key. */
  key: string;
  values: CrmRecord;
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
