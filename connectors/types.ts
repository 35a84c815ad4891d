/**
 * The data the connector interface speaks in: tables and columns, filters, pages, changes,
 * write outcomes, health. Shared by every connector (connector.ts) and the SQL drivers (driver.ts).
 */
import type { Dialect } from '../config/schema.js';
import type { CrmlinkError } from '../core/errors.js';

export interface DialectCapabilities {
  /** How a batched upsert is written. */
  upsert: 'on-conflict' | 'on-duplicate-key' | 'merge';
  /** Bind parameters one statement may carry (SQL Server 2100, SQLite 32766, pg/mysql 65535). */
  maxParameters: number;
  /** INSERT ... RETURNING / OUTPUT gives generated keys back. */
  returning: boolean;
  /** A transaction can be tagged as crmlink's own write (pg set_config, mssql SESSION_CONTEXT). */
  originTag: boolean;
  /** rowversion columns and MIN_ACTIVE_ROWVERSION() (SQL Server). */
  rowversion: boolean;
  /** SQL Server Change Tracking (CHANGETABLE). */
  changeTracking: boolean;
  /** Savepoints, so one bad row in a batch can be rolled back alone. */
  savepoints: boolean;
  /** Temporal columns without a zone come back as wall-clock strings in the source's time zone. */
  naiveDateTimes: boolean;
}

export interface ColumnInfo {
  name: string;
  /** The database's own type name, e.g. nvarchar, numeric, timestamp without time zone. */
  type: string;
  nullable: boolean;
  maxLength: number | null;
  precision: number | null;
  scale: number | null;
  autoIncrement: boolean;
  defaultValue: string | null;
  comment: string | null;
  /** File and plugin connectors: the crmlink type the column's values map to. */
  crmType?: 'string' | 'text' | 'int' | 'decimal' | 'boolean' | 'date' | 'datetime';
}

export interface TableInfo {
  schema: string | null;
  name: string;
  columns: ColumnInfo[];
  primaryKey: string[];
  uniqueKeys: string[][];
  comment: string | null;
  /** Foreign keys of the table, where the source declares them (SQL dialects). */
  foreignKeys?: ForeignKeyInfo[];
  /** What the connector left out or could not read, e.g. an Access attachment column (skipped). */
  notices?: string[];
}

/** `columns` of a table refer to `referencedColumns` of `referencedTable`, in order. */
export interface ForeignKeyInfo {
  name: string | null;
  columns: string[];
  referencedSchema: string | null;
  referencedTable: string;
  referencedColumns: string[];
}

export type Row = Record<string, unknown>;
/** Values of the key columns, in key order. */
export type KeyValues = readonly unknown[];

export interface TableRef {
  table: string;
  schema?: string;
}

export type FilterOp = 'eq' | 'ne' | 'in' | 'nin' | 'lt' | 'lte' | 'gt' | 'gte' | 'contains' | 'startsWith' | 'isNull';

/** A column-level filter; always compiled to parameterised SQL. */
export type Where =
  | { and: Where[] }
  | { or: Where[] }
  | { not: Where }
  | { column: string; op: FilterOp; value: unknown };

export interface OrderBy {
  column: string;
  direction: 'asc' | 'desc';
}

export interface SelectSpec extends TableRef {
  columns: string[];
  where?: Where;
  orderBy?: OrderBy[];
  limit?: number;
  offset?: number;
  /**
   * Keyset: rows strictly after these values of the orderBy columns (same directions), as the
   * dialect's ORDER BY sorts NULLs (PostgreSQL: last ascending; the others: first).
   */
  after?: unknown[];
  /**
   * The orderBy columns hold no NULLs (key columns, or filtered IS NOT NULL): `after` may use a
   * plain or row-value comparison instead of the NULL-aware form, which indexes serve best.
   */
  keysetNotNull?: boolean;
  signal?: AbortSignal;
}

export interface AggregateSpec extends TableRef {
  where?: Where;
  groupBy?: string[];
  aggregates: { fn: 'count' | 'sum' | 'min' | 'max' | 'avg'; column?: string; as: string }[];
  signal?: AbortSignal;
}

export interface ReadPagesOptions extends TableRef {
  key: string[];
  columns?: string[];
  where?: Where;
  pageSize?: number;
  /** Resume after this key (exclusive). */
  after?: KeyValues;
  signal?: AbortSignal;
}

/** Which of a list of keys still have a row: what a key reconcile asks a source. */
export interface ReadKeysOptions extends TableRef {
  key: string[];
  /** The keys to look for, in key column order. */
  keys: readonly KeyValues[];
  /** Only rows matching this count as present (a mapping's row filter, e.g. not soft-deleted). */
  where?: Where;
  signal?: AbortSignal;
}

/** What a change-capture strategy needs to know about one mapped table. */
export interface CaptureSpec extends TableRef {
  key: string[];
  columns: string[];
  where?: Where;
  strategy: 'timestamp' | 'rowversion' | 'change-tracking' | 'trigger' | 'hash';
  /** timestamp / rowversion column. */
  column?: string;
  lookBackSeconds: number;
}

/** Opaque, JSON-serialisable position of a capture strategy. */
export type Checkpoint = { strategy: CaptureSpec['strategy'] } & Record<string, unknown>;

export interface Change {
  key: KeyValues;
  op: 'upsert' | 'delete';
  /** The current row (selected columns); null for a delete. */
  row: Row | null;
  /** When the source says the row changed, if it knows. */
  changedAt: Date | null;
  /** Stable hash of the row's selected columns (deletes: of the key). */
  hash: string;
}

export interface ChangeBatch {
  changes: Change[];
  /** Position after this batch; store it only once the batch is durably applied. */
  checkpoint: Checkpoint;
  /** More changes are waiting: call again with `checkpoint`. */
  hasMore: boolean;
  /**
   * Set by full-scan strategies (hash): the batches up to `hasMore: false` are the whole table, so
   * a key the consumer knows and no batch contained has been deleted at the source.
   */
  snapshot: boolean;
}

export interface WriteOptions extends TableRef {
  key: string[];
  /** The key is generated by the database (identity / auto-increment) on insert. */
  identity?: boolean;
  /** upsert: insert or update; insert: only new rows; update: only existing rows. */
  mode?: 'upsert' | 'insert' | 'update';
  /** Tag the transaction as crmlink's own write, where the dialect can (capabilities.originTag). */
  origin?: string;
  signal?: AbortSignal;
}

export type RowOutcome =
  | { index: number; key: KeyValues; status: 'inserted' | 'updated' | 'deleted' | 'unchanged' | 'missing' }
  | { index: number; key: KeyValues; status: 'error'; error: CrmlinkError };

export interface HealthReport {
  ok: boolean;
  /** The engine or format: a SQL dialect, access, xlsx, csv, or a plugin's package name. */
  dialect: string;
  /** Server version string, when reachable. */
  version?: string;
  latencyMs: number;
  /** What to fix, when not ok. */
  error?: CrmlinkError;
}
