export { BACKUP_LOCK, liveRowCounts, pruneBackups, restoreBackup, sqliteHubFile, takeBackup, verifyBackup } from './backup.js';
export type { BackupOptions, RestoreOptions, RestoreReport, VerifyReport } from './backup.js';
export { listBackups, resolveBackup, MANIFEST_SUFFIX, PARTIAL_SUFFIX } from './files.js';
export type { BackupEntry, BackupLabel, BackupManifest, HubKind } from './files.js';
export { BackupError } from './errors.js';
export { keepOf, retained, isoWeek, type Keep } from './retention.js';
export { BackupScheduler, backupSettingsOf, startBackupScheduler, type BackupRunResult, type BackupSettings } from './scheduler.js';
export type { BackupProgress } from './progress.js';
export { backupStatus, staleAfterHoursOf, DEFAULT_STALE_AFTER_HOURS, type BackupStatus } from './status.js';
