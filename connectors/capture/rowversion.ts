/**
 * SQL Server rowversion strategy: rows above the checkpoint's rowversion and below
 * MIN_ACTIVE_ROWVERSION(), so a row written by a transaction still open is not skipped past.
 * Finds inserts and updates, not deletes (pair it with a periodic hash scan for those).
 */
import type { CaptureSpec, Change, ChangeBatch, Checkpoint, Row } from '../driver.js';
import { NotAvailableError } from '../../core/errors.js';
import { rowHash } from '../hash.js';
import { rowversionQuery } from '../dialects/mssql/mssql-capture.js';
import { captureColumns, type CaptureHost } from './host.js';

export interface RowversionCheckpoint extends Checkpoint {
  strategy: 'rowversion';
  /** Last rowversion delivered, as 0x-prefixed hex. */
  after: string | null;
}

export async function rowversionChanges(host: CaptureHost, spec: CaptureSpec, cp: RowversionCheckpoint | null, pageSize: number, signal?: AbortSignal): Promise<ChangeBatch> {
  if (!host.capabilities.rowversion) throw new NotAvailableError(`rowversion capture on ${host.adapter.dialect}`);
  if (!spec.column) throw new TypeError('rowversion capture needs `column`');
  signal?.throwIfAborted();
  const ref = host.ref(spec);
  const types = await host.columnTypes(ref);
  const columns = captureColumns(spec.columns, spec.key);
  const qb = rowversionQuery(host.knex, { ...ref, columns, column: spec.column, after: cp?.after ?? null, where: spec.where, limit: pageSize + 1, bind: host.binder(types) });
  const rows = host.readRows(await host.run<Row[]>(qb, { op: 'read rowversion changes', table: ref }), types);
  const hasMore = rows.length > pageSize;
  const page = hasMore ? rows.slice(0, pageSize) : rows;
  let after = cp?.after ?? null;
  const changes: Change[] = page.map((r) => {
    const { crmlink_rv: rv, ...row } = r;
    after = String(rv);
    return { key: spec.key.map((k) => row[k]), op: 'upsert', row, changedAt: null, hash: rowHash(row, columns) };
  });
  return { changes, checkpoint: { strategy: 'rowversion', after } satisfies RowversionCheckpoint, hasMore, snapshot: false };
}
