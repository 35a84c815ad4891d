/**
 * SQL Server Change Tracking strategy. The first sweep is a full scan (snapshot) remembering the
 * tracking version it started at; later calls read CHANGETABLE(CHANGES t, version) up to the
 * version current when the sweep began. When the checkpoint's version is older than
 * CHANGE_TRACKING_MIN_VALID_VERSION (the retention period passed), changes are lost and the only
 * safe answer is a full resync: an error says so.
 */
import type { CaptureSpec, Change, ChangeBatch, Checkpoint, Row } from '../driver.js';
import { DatabaseError, NotAvailableError } from '../../core/errors.js';
import { rawRows } from '../dialect-adapter.js';
import { keyHash, rowHash } from '../hash.js';
import { changeTableQuery, changeTrackingVersionQuery } from '../dialects/mssql/mssql-capture.js';
import { hashChanges } from './hash.js';
import { captureColumns, type CaptureHost } from './host.js';

export interface ChangeTrackingCheckpoint extends Checkpoint {
  strategy: 'change-tracking';
  phase: 'initial' | 'changes';
  /** Changes after this version are still to be read. */
  version: number;
  /** Upper bound of the sweep in progress. */
  until: number | null;
  /** Keyset position inside the sweep: initial → key; changes → [version, ...key]. */
  after: unknown[] | null;
}

export async function changeTrackingChanges(
  host: CaptureHost,
  spec: CaptureSpec,
  cp: ChangeTrackingCheckpoint | null,
  pageSize: number,
  signal?: AbortSignal,
): Promise<ChangeBatch> {
  if (!host.capabilities.changeTracking) throw new NotAvailableError(`change tracking on ${host.adapter.dialect}`);
  const ref = host.ref(spec);
  const versions = async () => {
    const row = rawRows(await host.run(changeTrackingVersionQuery(host.knex, ref), { op: 'read change tracking version', table: ref }))[0] ?? {};
    if (row.current_version === null || row.current_version === undefined) {
      throw new DatabaseError('DB_ERROR', `change tracking is not enabled on ${ref.table} (ALTER TABLE ... ENABLE CHANGE_TRACKING), or pick another changes.strategy`, {
        source: host.name,
        table: ref.table,
      });
    }
    return { current: Number(row.current_version), minValid: Number(row.min_valid_version) };
  };

  if (!cp || cp.phase === 'initial') {
    const version = cp?.version ?? (await versions()).current;
    const batch = await hashChanges(host, spec, cp ? { strategy: 'hash', after: cp.after } : null, pageSize, signal);
    const after = (batch.checkpoint.after as unknown[] | null) ?? null;
    const checkpoint: ChangeTrackingCheckpoint = batch.hasMore
      ? { strategy: 'change-tracking', phase: 'initial', version, until: null, after }
      : { strategy: 'change-tracking', phase: 'changes', version, until: null, after: null };
    return { changes: batch.changes, checkpoint, hasMore: batch.hasMore, snapshot: true };
  }

  const { current, minValid } = await versions();
  if (cp.version < minValid) {
    throw new DatabaseError(
      'VERSION_CONFLICT',
      `change tracking on ${ref.table} no longer holds changes since version ${cp.version} (minimum valid ${minValid}): run a full resync of this source (reset its checkpoint)`,
      { source: host.name, table: ref.table, resync: true },
    );
  }
  const until = cp.until ?? current;
  const types = await host.columnTypes(ref);
  const columns = captureColumns(spec.columns, spec.key);
  const qb = changeTableQuery(host.knex, { ...ref, key: spec.key, columns, since: cp.version, until, after: cp.after, limit: pageSize + 1, bind: host.binder(types) });
  signal?.throwIfAborted();
  const rows = host.readRows(await host.run<Row[]>(qb, { op: 'read change table', table: ref }), types);
  const hasMore = rows.length > pageSize;
  const page = hasMore ? rows.slice(0, pageSize) : rows;
  const changes: Change[] = page.map((r) => {
    const key = spec.key.map((k) => r[k]);
    if (Number(r.crmlink_exists) !== 1) return { key, op: 'delete', row: null, changedAt: null, hash: keyHash(key) };
    const row: Row = {};
    for (const c of columns) row[c] = r[c];
    return { key, op: 'upsert', row, changedAt: null, hash: rowHash(row, columns) };
  });
  const last = page[page.length - 1];
  const checkpoint: ChangeTrackingCheckpoint =
    hasMore && last
      ? { strategy: 'change-tracking', phase: 'changes', version: cp.version, until, after: [last.crmlink_version, ...spec.key.map((k) => last[k])] }
      : { strategy: 'change-tracking', phase: 'changes', version: until, until: null, after: null };
  return { changes, checkpoint, hasMore, snapshot: false };
}
