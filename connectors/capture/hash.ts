/**
 * Hash strategy: a full scan in key order, one page a call, every row with its hash. Needs no
 * schema change and finds hard deletes: the batches up to `hasMore: false` are the whole table
 * (`snapshot: true`), so a key the consumer knows and no batch held was deleted.
 */
import type { CaptureSpec, Change, ChangeBatch, Checkpoint } from '../driver.js';
import { rowHash } from '../hash.js';
import { captureColumns, type CaptureHost } from './host.js';

export interface HashCheckpoint extends Checkpoint {
  strategy: 'hash';
  /** Key of the last row of the scan in progress; null: the next call starts a new scan. */
  after: unknown[] | null;
}

export async function hashChanges(host: Pick<CaptureHost, 'select'>, spec: CaptureSpec, cp: HashCheckpoint | null, pageSize: number, signal?: AbortSignal): Promise<ChangeBatch> {
  const columns = captureColumns(spec.columns, spec.key);
  const rows = await host.select({
    table: spec.table,
    schema: spec.schema,
    columns,
    where: spec.where,
    orderBy: spec.key.map((column) => ({ column, direction: 'asc' })),
    after: cp?.after ?? undefined,
    // Stryker disable next-line BooleanLiteral: equivalent: key columns hold no NULLs, so the NULL-aware keyset comparison selects the same rows
    keysetNotNull: true,
    limit: pageSize + 1,
    signal,
  });
  const hasMore = rows.length > pageSize;
  const page = hasMore ? rows.slice(0, pageSize) : rows;
  const changes: Change[] = page.map((row) => ({
    key: spec.key.map((k) => row[k]),
    op: 'upsert',
    row,
    changedAt: null,
    hash: rowHash(row, columns),
  }));
  const last = page[page.length - 1];
  const checkpoint: HashCheckpoint = { strategy: 'hash', after: hasMore && last ? spec.key.map((k) => last[k]) : null };
  return { changes, checkpoint, hasMore, snapshot: true };
}
