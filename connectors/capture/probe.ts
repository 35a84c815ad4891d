/**
 * Change probes: one small indexed read telling whether a captured table may have changed since a
 * pull, for engines that cannot notify (sync/source-poller.ts asks it every `pollIntervalMs`).
 *
 * - trigger: `max(id)` of crmlink_changelog for the table — an index-only read of the
 *   (table_name, id) index every change log has; crmlink's own writes move it too (a pull then
 *   reads them, skips them and moves the checkpoint past them);
 * - timestamp: the newest modification time, `ORDER BY column DESC LIMIT 1` under the mapping's
 *   filter — one index step when the column is indexed (index it: the timestamp sweep wants it
 *   too). Read through the same path as the sweep, so the mark has the checkpoint's form.
 *
 * `caughtUp` compares a mark with a stored checkpoint: whether a pull since has read everything up
 * to it (then another process, or the schedule, already did the work). `pendingChange` adds, for
 * the change log, whether anything between the checkpoint and the mark is someone else's write:
 * entries of crmlink's own writes alone (a push to this source) start no pull, as PostgreSQL's
 * triggers do not notify for them.
 */
import type { Knex } from 'knex';
import type { CaptureSpec, Checkpoint, Row } from '../driver.js';
import type { ColumnTypes } from '../dialect-adapter.js';
import { CHANGELOG_TABLE, rawRows } from '../dialect-adapter.js';
import { isCaptureHost, type CaptureHost } from './host.js';
import { tsOrder, tsValue, type TimestampCheckpoint, type TsValue } from './timestamp.js';
import { CRMLINK_ORIGIN, type TriggerCheckpoint } from './trigger.js';

/** The strategies a probe can watch. */
export const PROBED_STRATEGIES = ['trigger', 'timestamp'] as const;

/** What the probe saw: the newest change-log id (as text) or timestamp; null: nothing yet. */
export type ChangeMark = TsValue | null;

/** Whether `changeProbe` can watch this source and mapping. */
export function canProbe(driver: unknown, spec: CaptureSpec): driver is CaptureHost {
  if (!isCaptureHost(driver)) return false;
  if (spec.strategy === 'timestamp') return spec.column !== undefined;
  return spec.strategy === 'trigger' && driver.adapter.changelog(driver.knex) !== null;
}

/** The change log beside a captured table (same schema). */
function changelogOf(ref: { schema?: string }): { table: string; schema?: string } {
  return { table: CHANGELOG_TABLE, schema: ref.schema };
}

/**
 * One statement a call: the newest change the source holds for the table (see the module
 * comment). The statement is built once, on the first call, and then only sent (a poll asks every
 * interval; building it each time would double its cost in the process).
 */
export function changeProbe(host: CaptureHost, spec: CaptureSpec): (signal?: AbortSignal) => Promise<ChangeMark> {
  let built: Promise<{ sql: string; bindings: readonly Knex.Value[]; types: ColumnTypes | undefined; read: (row: Row | undefined) => ChangeMark }> | null = null;
  const ref = host.ref(spec);
  const probed = spec.strategy === 'trigger' ? changelogOf(ref) : ref;
  const build = async () => {
    if (spec.strategy === 'trigger') {
      const { sql, bindings } = host.table(probed).max({ m: 'id' }).where('table_name', ref.table).toSQL();
      return { sql, bindings, types: undefined, read: (row: Row | undefined) => (row?.m === null || row?.m === undefined ? null : String(row.m)) };
    }
    if (spec.strategy === 'timestamp') {
      const column = spec.column;
      if (!column) throw new TypeError('timestamp capture needs `column`');
      const notNull = { column, op: 'isNull' as const, value: false };
      const types = await host.columnTypes(ref);
      const qb = host.selectQuery(
        { table: spec.table, schema: spec.schema, columns: [column], where: spec.where ? { and: [spec.where, notNull] } : notNull, orderBy: [{ column, direction: 'desc' }], limit: 1 },
        types,
      );
      const { sql, bindings } = qb.toSQL();
      return { sql, bindings, types, read: (row: Row | undefined) => (row?.[column] === null || row?.[column] === undefined ? null : tsValue(row[column])) };
    }
    throw new TypeError(`no change probe for the ${spec.strategy} strategy`);
  };
  return async (signal) => {
    signal?.throwIfAborted();
    built ??= build();
    built.catch(() => (built = null));
    const b = await built;
    const result = await host.run<unknown>(host.knex.raw(b.sql, b.bindings), { op: 'probe changes', table: probed });
    const rows = host.readRows(rawRows(result), b.types);
    return b.read(rows[0]);
  };
}

/** Whether `cp` (a stored capture position) already covers what `mark` saw. */
export function caughtUp(mark: ChangeMark, cp: Checkpoint | null): boolean {
  if (mark === null) return true;
  if (!cp) return false;
  if (cp.strategy === 'trigger') {
    const last = (cp as TriggerCheckpoint).lastId;
    return last !== null && last !== undefined && BigInt(String(last)) >= BigInt(String(mark));
  }
  if (cp.strategy === 'timestamp') {
    const t = cp as Partial<TimestampCheckpoint>;
    // A sweep in progress has not read everything yet.
    if (t.cursor || t.hwm === null || t.hwm === undefined) return false;
    return tsOrder(t.hwm) >= tsOrder(mark);
  }
  return false;
}

/**
 * Whether a pull has something to take in up to `mark`: the checkpoint is behind it and, for the
 * change log, an entry after the checkpoint up to the mark was not written by crmlink (a range of
 * the (table_name, id) index: the entries the pull would read anyway). One statement at most.
 */
export async function pendingChange(host: CaptureHost, spec: CaptureSpec, mark: ChangeMark, cp: Checkpoint | null): Promise<boolean> {
  if (caughtUp(mark, cp)) return false;
  if (spec.strategy !== 'trigger' || mark === null) return true;
  const ref = host.ref(spec);
  const logRef = changelogOf(ref);
  const last = cp?.strategy === 'trigger' ? (cp as TriggerCheckpoint).lastId : null;
  const q = host
    .table(logRef)
    .select('id')
    .where('table_name', ref.table)
    .andWhere('id', '<=', String(mark))
    .andWhere((w) => void w.whereNull('origin').orWhereNot('origin', CRMLINK_ORIGIN))
    .limit(1);
  if (last !== null && last !== undefined) q.andWhere('id', '>', String(last));
  const rows = await host.run<unknown[]>(q, { op: 'probe change log', table: logRef });
  return rows.length > 0;
}
