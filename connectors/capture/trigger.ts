/**
 * Trigger strategy: reads crmlink_changelog (filled by triggers that `installCapture` creates) by
 * id, joins the logged keys back to the current rows (no row, or a row outside the mapping's
 * filter → a delete), and skips entries whose origin is crmlink's own (no echo).
 */
import type { CaptureSpec, Change, ChangeBatch, Checkpoint, Row } from '../driver.js';
import { CHANGELOG_TABLE } from '../dialect-adapter.js';
import { encodeKey } from '../keys.js';
import { keyHash, rowHash } from '../hash.js';
import { applyKeyIn, applyWhere } from '../where.js';
import { toInstant } from '../../model/time.js';
import { captureColumns, type CaptureHost } from './host.js';

export const CRMLINK_ORIGIN = 'crmlink';

export interface TriggerCheckpoint extends Checkpoint {
  strategy: 'trigger';
  /** Last change-log id consumed. */
  lastId: string | null;
}

export async function triggerChanges(host: CaptureHost, spec: CaptureSpec, cp: TriggerCheckpoint | null, pageSize: number, signal?: AbortSignal): Promise<ChangeBatch> {
  signal?.throwIfAborted();
  const ref = host.ref(spec);
  const logRef = { table: CHANGELOG_TABLE, schema: ref.schema };
  const q = host
    .table(logRef)
    .select('id', 'key_json', 'op', 'changed_at', 'origin')
    .where('table_name', ref.table)
    .orderBy('id', 'asc')
    .limit(pageSize + 1);
  if (cp?.lastId !== null && cp?.lastId !== undefined) q.where('id', '>', cp.lastId);
  const entries = await host.run<Row[]>(q, { op: 'read change log', table: logRef });
  const hasMore = entries.length > pageSize;
  const page = hasMore ? entries.slice(0, pageSize) : entries;
  const lastId = page.length > 0 ? String(page[page.length - 1].id) : (cp?.lastId ?? null);

  // Latest entry per key wins; crmlink's own writes are skipped.
  const latest = new Map<string, { key: unknown[]; changedAt: Date | null; order: number }>();
  page.forEach((e, order) => {
    if (e.origin === CRMLINK_ORIGIN) return;
    const key = parseKey(String(e.key_json));
    const id = encodeKey(key.map(String));
    latest.delete(id);
    // Change-log times are UTC (trigger default / utc_timestamp).
    const t = toInstant(e.changed_at, 'UTC');
    latest.set(id, { key, changedAt: t === null ? null : new Date(t), order });
  });

  const columns = captureColumns(spec.columns, spec.key);
  const current = new Map<string, Row>();
  if (latest.size > 0) {
    const types = await host.columnTypes(ref);
    const bind = host.binder(types);
    const qb = host.table(ref).select(columns);
    applyKeyIn(
      qb,
      spec.key,
      [...latest.values()].map((l) => l.key),
      { rowValues: host.adapter.rowValues, bind },
    );
    applyWhere(qb, spec.where, bind);
    const rows = host.readRows(await host.run<Row[]>(qb, { op: 'read changed rows', table: ref }), types);
    for (const r of rows) current.set(encodeKey(spec.key.map((k) => String(r[k]))), r);
  }
  const changes: Change[] = [];
  for (const [id, l] of latest) {
    const row = current.get(id);
    if (row) changes.push({ key: spec.key.map((k) => row[k]), op: 'upsert', row, changedAt: l.changedAt, hash: rowHash(row, columns) });
    else changes.push({ key: l.key, op: 'delete', row: null, changedAt: l.changedAt, hash: keyHash(l.key) });
  }
  const checkpoint: TriggerCheckpoint = { strategy: 'trigger', lastId };
  return { changes, checkpoint, hasMore, snapshot: false };
}

function parseKey(json: string): unknown[] {
  const v: unknown = JSON.parse(json);
  return Array.isArray(v) ? v : [v];
}
