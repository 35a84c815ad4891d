/**
 * Whether the hub's backups are recent enough (the console's backup panel): the newest complete
 * backup and whether it is stale. A backup is expected every `staleAfterHours` (default 26 when
 * `hub.backup.schedule` is set: a daily schedule plus two hours of slack); without a schedule or
 * the setting, backups are on demand and never stale.
 */
import type { BackupEntry } from './files.js';

/** The threshold when a schedule is set and `hub.backup.staleAfterHours` is not. */
export const DEFAULT_STALE_AFTER_HOURS = 26;

export interface BackupStatus {
  last: BackupEntry | null;
  count: number;
  /** Hours after which the newest backup counts as stale; null: never stale (no schedule, no setting). */
  staleAfterHours: number | null;
  /** No backup newer than staleAfterHours (none at all counts as stale when one is expected). */
  stale: boolean;
}

export function staleAfterHoursOf(settings: { schedule?: string; staleAfterHours?: number }): number | null {
  return settings.staleAfterHours ?? (settings.schedule ? DEFAULT_STALE_AFTER_HOURS : null);
}

/** `entries` newest first, as listBackups returns them. */
export function backupStatus(entries: readonly BackupEntry[], settings: { schedule?: string; staleAfterHours?: number }, now: Date = new Date()): BackupStatus {
  const last = entries[0] ?? null;
  const staleAfterHours = staleAfterHoursOf(settings);
  let stale = false;
  if (staleAfterHours !== null) {
    const at = last ? Date.parse(last.manifest.createdAt) : Number.NaN;
    // An unreadable time is as good as no backup: the warning shows rather than hides.
    stale = !Number.isFinite(at) || now.getTime() - at > staleAfterHours * 3_600_000;
  }
  return { last, count: entries.length, staleAfterHours, stale };
}
