/**
 * Scheduled hub backups for `crmlink serve`: one node-cron task on `hub.backup.schedule`; each tick
 * takes a backup and then applies retention. A tick that finds a backup still running is skipped
 * (noOverlap here, the backup lock across processes: with several instances on one PostgreSQL hub
 * one of them takes it). stop() waits for a running backup, whose partial file never looks complete
 * anyway.
 *
 * @example
 * const backups = startBackupScheduler(hub, settings, logger);
 * // ... on SIGTERM:
 * await backups.stop();
 */
import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from '../../core/logger.js';
import type { Hub } from '../hub.js';
import { pruneBackups, takeBackup } from './backup.js';
import type { BackupEntry } from './files.js';
import { keepOf } from './retention.js';
import type { BackupConfig } from '../../config/schema.js';
import { resolveConfigPath, type LoadedConfig } from '../../config/load.js';

export interface BackupSettings extends Omit<BackupConfig, 'schedule'> {
  schedule?: string;
  /** The backup directory resolved against the config file. */
  dir: string;
}

export interface BackupRunResult {
  backup: BackupEntry | null;
  deleted: BackupEntry[];
  error: Error | null;
}

/** `hub.backup` of a loaded config, its directory resolved against the config file. */
export function backupSettingsOf(loaded: LoadedConfig): BackupSettings {
  const b = loaded.config.hub.backup;
  return { ...b, dir: resolveConfigPath(loaded, b.dir) };
}

export class BackupScheduler {
  private task: ScheduledTask | null = null;
  private running: Promise<BackupRunResult> | null = null;

  constructor(
    private readonly hub: Hub,
    private readonly settings: BackupSettings,
    private readonly logger: Logger,
    private readonly opts: { timezone?: string; onRun?: (r: BackupRunResult) => void } = {},
  ) {}

  start(): this {
    if (!this.settings.schedule || this.task) return this;
    this.task = cron.schedule(this.settings.schedule, () => this.runNow().then(() => undefined), {
      name: 'crmlink:hub-backup',
      noOverlap: true,
      timezone: this.opts.timezone,
      unref: true,
    });
    this.logger.info({ schedule: this.settings.schedule, dir: this.settings.dir }, 'hub backups scheduled');
    return this;
  }

  nextRun(): Date | null {
    return this.task?.getNextRun() ?? null;
  }

  /** Take a backup and apply retention now, as a tick does. Never throws: the result carries the error. */
  runNow(): Promise<BackupRunResult> {
    if (this.running) return this.running;
    const p = (async (): Promise<BackupRunResult> => {
      let lastLog = 0;
      try {
        const backup = await takeBackup(this.hub, {
          dir: this.settings.dir,
          label: 'scheduled',
          pagesPerStep: this.settings.pagesPerStep,
          pgDump: this.settings.pgDump,
          pgRestore: this.settings.pgRestore,
          onProgress: (e) => {
            // A long backup says how far it is, at most every 10 seconds.
            if (Date.now() - lastLog < 10_000) return;
            lastLog = Date.now();
            this.logger.info({ phase: e.phase, done: e.done, total: e.total, unit: e.unit }, 'hub backup in progress');
          },
        });
        const { deleted } = await pruneBackups(this.settings.dir, keepOf(this.settings.keep));
        this.logger.info(
          { file: backup.path, sizeBytes: backup.manifest.sizeBytes, sha256: backup.manifest.sha256, durationMs: backup.manifest.durationMs, deleted: deleted.map((d) => d.manifest.file) },
          'hub backup taken',
        );
        const r = { backup, deleted, error: null };
        this.opts.onRun?.(r);
        return r;
      } catch (err) {
        const error = err instanceof Error ? err : new Error(String(err));
        this.logger.error({ err: error, dir: this.settings.dir }, 'scheduled hub backup failed');
        const r = { backup: null, deleted: [], error };
        this.opts.onRun?.(r);
        return r;
      }
    })();
    this.running = p;
    return p.finally(() => {
      this.running = null;
    });
  }

  async stop(): Promise<void> {
    if (this.task) {
      await this.task.stop();
      await this.task.destroy();
      this.task = null;
    }
    await this.running;
  }
}

export function startBackupScheduler(hub: Hub, settings: BackupSettings, logger: Logger, opts: { timezone?: string; onRun?: (r: BackupRunResult) => void } = {}): BackupScheduler {
  return new BackupScheduler(hub, settings, logger, opts).start();
}
