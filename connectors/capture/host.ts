/**
 * What a capture strategy needs from the driver. KnexDriver is the one implementation; the
 * strategies depend on this shape only (no import cycle with knex-driver.ts).
 */
import type { Knex } from 'knex';
import type { SourceConfig } from '../../config/schema.js';
import type { CrmlinkError } from '../../core/errors.js';
import type { DialectCapabilities, Row, SelectSpec, TableRef } from '../driver.js';
import type { ColumnTypes, DialectAdapter } from '../dialect-adapter.js';
import type { Binder } from '../where.js';

export interface CaptureHost {
  readonly name: string;
  readonly knex: Knex;
  readonly adapter: DialectAdapter;
  readonly capabilities: DialectCapabilities;
  readonly source: SourceConfig;
  ref(t: TableRef): TableRef;
  table(ref: TableRef, knex?: Knex | Knex.Transaction): Knex.QueryBuilder;
  columnTypes(ref: TableRef): Promise<ColumnTypes | undefined>;
  binder(types: ColumnTypes | undefined): Binder;
  readRows(rows: Row[], types: ColumnTypes | undefined): Row[];
  run<T = unknown>(stmt: Knex.QueryBuilder | Knex.Raw, ctx: { op: string; table?: TableRef; sql?: string }): Promise<T>;
  wrapError(err: unknown, ctx: { op: string; table?: TableRef; sql?: string }): CrmlinkError;
  select(spec: SelectSpec): Promise<Row[]>;
  /** The statement select() sends. */
  selectQuery(spec: SelectSpec, types?: ColumnTypes): Knex.QueryBuilder;
}

export function isCaptureHost(x: unknown): x is CaptureHost {
  return typeof x === 'object' && x !== null && 'adapter' in x && 'knex' in x && 'run' in x;
}

/** Selected columns plus the key (and any extra), without repeats. */
export function captureColumns(columns: readonly string[], ...extra: (readonly string[] | string | undefined)[]): string[] {
  const out = new Set(columns);
  for (const e of extra) {
    if (e === undefined) continue;
    for (const c of typeof e === 'string' ? [e] : e) out.add(c);
  }
  return [...out];
}
