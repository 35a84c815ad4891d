/**
 * The public connector interface: what crmlink needs of any source, database or not. SQL dialects
 * (KnexDriver), Access files, Excel workbooks, CSV files and third-party npm packages implement it,
 * and all pass the exported contract suite (`connectors/contract/`).
 *
 * A connector works in tables, columns and raw rows; turning rows into CRM records is the
 * mapping's job. What a connector can do is declared as data in `capabilities`, never tested by
 * callers with `if (kind === ...)`.
 *
 * @example A plugin package (`@acme/crmlink-connector-foo`, named in crmlink.yaml as
 *   `connector: "@acme/crmlink-connector-foo"`):
 *
 *   import type { ConnectorPlugin } from 'crmlink/connectors';
 *   const plugin: ConnectorPlugin = {
 *     apiVersion: 1,
 *     create: ({ name, source }) => new FooConnector(name, source.settings),
 *   };
 *   export default plugin;
 */
import type { SourceConfig } from '../config/schema.js';
import type { AggregateSpec, CaptureSpec, ChangeBatch, Checkpoint, FilterOp, HealthReport, KeyValues, ReadKeysOptions, ReadPagesOptions, Row, RowOutcome, SelectSpec, TableInfo, WriteOptions } from './types.js';

/** Every filter operator a Where tree may use. */
export const FILTER_OPS: readonly FilterOp[] = ['eq', 'ne', 'in', 'nin', 'lt', 'lte', 'gt', 'gte', 'contains', 'startsWith', 'isNull'];

export interface ConnectorCapabilities {
  /** upsert / delete work. false: a read-only source; they throw WRITE_FORBIDDEN naming the source. */
  write: boolean;
  /** A batch of writes commits or fails as one (per-row outcomes still reported). */
  transactions: boolean;
  /**
   * The filter operators `select`, `readPages` and `aggregate` evaluate themselves. A Where using
   * any other operator is refused by the connector; `selectFiltered` (connectors/filter.ts) sends
   * the supported part and filters the rest in crmlink.
   */
  filters: readonly FilterOp[];
  /** The change-capture strategies `changesSince` implements. */
  capture: readonly CaptureSpec['strategy'][];
  /** `aggregate` works (count/sum/min/max/avg, grouped). */
  aggregate: boolean;
  /** Where NULLs sort in ascending order (keyset `after` follows the same order). */
  nullsAscending: 'first' | 'last';
}

/**
 * One source. Every method may be called concurrently; nothing connects (or opens the file)
 * before the first call.
 */
export interface Connector {
  /** The source's name in the config. */
  readonly name: string;
  /** What implements it: a dialect (postgres, sqlite, …), access, xlsx, csv, or a plugin's package name. */
  readonly kind: string;
  readonly capabilities: ConnectorCapabilities;

  /** Reachability and credentials; never throws for a source that is down, reports it. */
  test(signal?: AbortSignal): Promise<HealthReport>;
  /** Tables, their columns (types as the source names them), primary and unique keys. */
  introspect(opts?: { table?: string; schema?: string; signal?: AbortSignal }): Promise<TableInfo[]>;
  /** Keyset-paged read by key, ascending; memory stays bounded by pageSize. */
  readPages(opts: ReadPagesOptions): AsyncIterable<Row[]>;
  /**
   * Which of `opts.keys` have a row (matching `opts.where`): the key values of those rows, in any
   * order. Reads the key columns only, a bounded number of statements per call (never one per
   * key). What a key reconcile (`crmlink sync reconcile`) needs to see hard deletes a timestamp or
   * rowversion capture cannot see. Optional: a connector without it is reported as not
   * reconcilable; `readKeysBySelect` (connectors/read-keys.ts) implements it over `select`.
   */
  readKeys?(opts: ReadKeysOptions): Promise<KeyValues[]>;
  /** Rows by filter, order, keyset position and limit. */
  select(spec: SelectSpec): Promise<Row[]>;
  /** Grouped aggregates (capabilities.aggregate). */
  aggregate(spec: AggregateSpec): Promise<Row[]>;
  /** Changes since a checkpoint (one of capabilities.capture). */
  changesSince(spec: CaptureSpec, checkpoint: Checkpoint | null, opts?: { pageSize?: number; signal?: AbortSignal }): Promise<ChangeBatch>;
  /** Batched upsert; a bad row is reported in its outcome and the others go on. */
  upsert(rows: Row[], opts: WriteOptions): Promise<RowOutcome[]>;
  /** Batched delete by key. */
  delete(keys: KeyValues[], opts: WriteOptions): Promise<RowOutcome[]>;
  destroy(): Promise<void>;
}

/** What a plugin's factory is given. */
export interface ConnectorContext {
  /** The source's name in the config. */
  name: string;
  /** The source's config (`settings` holds the plugin's own keys, `${VAR}`s already expanded). */
  source: SourceConfig;
  /** The config file's directory: relative paths in the source's settings resolve against it. */
  baseDir: string;
}

/**
 * What a connector package exports, as its default export or as `crmlinkConnector`. `apiVersion`
 * is the version of this interface the plugin was written for; crmlink refuses one it does not know.
 */
export interface ConnectorPlugin {
  apiVersion: 1;
  create(ctx: ConnectorContext): Connector;
}

export const CONNECTOR_API_VERSION = 1;
