/**
 * Change capture: `changesSince` dispatches on the strategy; `installCapture` /
 * `uninstallCapture` create and drop the trigger + change-log objects — only ever called
 * explicitly (`crmlink sources install-capture NAME`), because many ERP vendors forbid schema changes.
 */
import type { CaptureSpec, ChangeBatch, Checkpoint, Driver, TableRef } from '../driver.js';
import { NotAvailableError, ValidationError } from '../../core/errors.js';
import { hashChanges, type HashCheckpoint } from './hash.js';
import { timestampChanges, type TimestampCheckpoint } from './timestamp.js';
import { triggerChanges, type TriggerCheckpoint } from './trigger.js';
import { rowversionChanges, type RowversionCheckpoint } from './rowversion.js';
import { changeTrackingChanges, type ChangeTrackingCheckpoint } from './change-tracking.js';
import { isCaptureHost, type CaptureHost } from './host.js';

export { CRMLINK_ORIGIN } from './trigger.js';
export { listenChanges, CHANGE_CHANNEL, type ChangeListener, type ChangeHandlers } from './listen.js';
export { shiftTs, tsOrder } from './timestamp.js';
export { canProbe, caughtUp, changeProbe, pendingChange, PROBED_STRATEGIES, type ChangeMark } from './probe.js';
export type { HashCheckpoint, TimestampCheckpoint, TriggerCheckpoint, RowversionCheckpoint, ChangeTrackingCheckpoint };

export const DEFAULT_CAPTURE_PAGE_SIZE = 1000;

export async function captureChanges(
  host: CaptureHost,
  spec: CaptureSpec,
  checkpoint: Checkpoint | null,
  opts: { pageSize?: number; signal?: AbortSignal } = {},
): Promise<ChangeBatch> {
  if (checkpoint && checkpoint.strategy !== spec.strategy) {
    throw new ValidationError(
      `checkpoint is for the ${checkpoint.strategy} strategy but ${spec.table} now uses ${spec.strategy}: reset the checkpoint to resync`,
      { source: host.name, table: spec.table },
    );
  }
  const pageSize = opts.pageSize ?? DEFAULT_CAPTURE_PAGE_SIZE;
  switch (spec.strategy) {
    case 'hash':
      return hashChanges(host, spec, checkpoint as HashCheckpoint | null, pageSize, opts.signal);
    case 'timestamp':
      return timestampChanges(host, spec, checkpoint as TimestampCheckpoint | null, pageSize, opts.signal);
    case 'trigger':
      return triggerChanges(host, spec, checkpoint as TriggerCheckpoint | null, pageSize, opts.signal);
    case 'rowversion':
      return rowversionChanges(host, spec, checkpoint as RowversionCheckpoint | null, pageSize, opts.signal);
    case 'change-tracking':
      return changeTrackingChanges(host, spec, checkpoint as ChangeTrackingCheckpoint | null, pageSize, opts.signal);
  }
}

/** What installCapture needs of a mapping (an EntityMapping fits). */
export interface CaptureTarget {
  table: TableRef;
  key: string[];
}

/** The DDL installCapture would run, for review before running it. */
export function captureDdl(driver: Driver, target: CaptureTarget): { install: string[]; uninstall: string[] } {
  const host = hostOf(driver);
  const ddl = host.adapter.changelog(host.knex);
  if (!ddl) throw new NotAvailableError(`trigger capture on ${driver.dialect}`);
  const ref = host.ref(target.table);
  return { install: [...ddl.createLog(ref.schema), ...ddl.createTriggers(ref, target.key)], uninstall: ddl.dropTriggers(ref) };
}

/** Create crmlink_changelog (when missing) and the triggers feeding it for one table. */
export async function installCapture(driver: Driver, target: CaptureTarget): Promise<string[]> {
  const host = hostOf(driver);
  const { install } = captureDdl(driver, target);
  for (const sql of install) await host.run(host.knex.raw(sql), { op: 'install capture', table: target.table, sql });
  return install;
}

/** Drop the table's capture triggers (the change log stays: other tables may use it). */
export async function uninstallCapture(driver: Driver, target: CaptureTarget): Promise<string[]> {
  const host = hostOf(driver);
  const { uninstall } = captureDdl(driver, target);
  for (const sql of uninstall) await host.run(host.knex.raw(sql), { op: 'uninstall capture', table: target.table, sql });
  return uninstall;
}

function hostOf(driver: Driver): CaptureHost {
  if (!isCaptureHost(driver)) throw new NotAvailableError(`trigger capture for driver ${driver.name}`);
  return driver;
}
