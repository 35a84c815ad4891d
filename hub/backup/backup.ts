/**
 * Hub backups (备份) and restores (恢复): take one now, list them, verify one, apply retention,
 * restore one. See docs/backups.md.
 *
 * @example
 * const entry = await takeBackup(hub, { dir: '/var/backups/crmlink' });
 * await verifyBackup(entry.path, { dir: '/var/backups/crmlink' });
 * await restoreBackup(hub, entry.path, { dir: '/var/backups/crmlink', jobs: ['customers'] });
 */
import { copyFile, mkdir, rename, rm, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import type { Hub } from '../hub.js';
import { HUB_SCHEMA_VERSION, migrateHub } from '../migrate.js';
import { tryLockJob, type JobLock } from '../locks.js';
import { SYSTEM_TABLES as T } from '../tables.js';
import { BackupError } from './errors.js';
import {
  backupName,
  fsyncFile,
  listBackups,
  MANIFEST_SUFFIX,
  PARTIAL_SUFFIX,
  removeLeftovers,
  resolveBackup,
  sha256File,
  writeManifest,
  type BackupEntry,
  type BackupLabel,
  type BackupManifest,
  type HubKind,
} from './files.js';
import { retained, type Keep } from './retention.js';
import { copySqlite, inspectSqliteFile, replaceSqlite, sqliteRowCounts } from './sqlite.js';
import { dumpPostgres, inspectPgDump, restorePostgres, type PgTools } from './postgres.js';
import type { BackupProgress } from './progress.js';

/** The lock a backup or restore holds, so two never overlap on one hub (same mechanism as sync jobs). */
export const BACKUP_LOCK = 'hub-backup';

export interface BackupOptions extends Partial<PgTools> {
  /** Backup directory (absolute, or relative to the working directory). */
  dir: string;
  label?: BackupLabel;
  /** SQLite: pages per step of the online backup (default 1000). */
  pagesPerStep?: number;
  onProgress?: (p: BackupProgress) => void;
  /** The clock (tests inject one). */
  now?: () => Date;
}

export function hubKind(hub: Hub): HubKind {
  return hub.dialect;
}

/** The SQLite hub's file, from the open connection's settings. */
export function sqliteHubFile(hub: Hub): string {
  const conn = hub.knex.client.config.connection as { filename?: string } | undefined;
  const file = conn?.filename;
  if (!file || file === ':memory:') throw new BackupError('NOT_AVAILABLE', 'an in-memory SQLite hub cannot be backed up: set hub.connection.filename', { setting: 'hub.connection.filename' });
  return file;
}

function tools(opts: Partial<PgTools>): PgTools {
  return { pgDump: opts.pgDump ?? 'pg_dump', pgRestore: opts.pgRestore ?? 'pg_restore' };
}

/** Take a backup now: under the backup lock, so it never overlaps another backup or a restore of this hub. */
export async function takeBackup(hub: Hub, opts: BackupOptions): Promise<BackupEntry> {
  const lock = await tryLockJob(hub, BACKUP_LOCK);
  if (!lock) throw new BackupError('LOCKED', `another backup or restore of this hub is running; backup to ${opts.dir} not started`, { file: opts.dir });
  try {
    return await writeBackup(hub, opts);
  } finally {
    await lock.release();
  }
}

async function writeBackup(hub: Hub, opts: BackupOptions): Promise<BackupEntry> {
  const now = opts.now ?? (() => new Date());
  const started = now();
  const kind = hubKind(hub);
  await mkdir(opts.dir, { recursive: true }).catch((err: Error) => {
    throw new BackupError('NOT_FOUND', `backup directory ${opts.dir} cannot be created: ${err.message}`, { file: opts.dir, setting: 'hub.backup.dir' }, { cause: err });
  });
  await removeLeftovers(opts.dir);
  const name = backupName(kind, started, opts.label === 'before-restore' ? 'before-restore' : randomBytes(2).toString('hex'));
  const path = join(opts.dir, name);
  const partial = path + PARTIAL_SUFFIX;
  const t0 = Date.now();
  try {
    let rowCounts: Record<string, number>;
    if (kind === 'sqlite') {
      await copySqlite(sqliteHubFile(hub), partial, opts.pagesPerStep ?? 1000, opts.onProgress);
      const db = new Database(partial, { readonly: true, fileMustExist: true });
      try {
        rowCounts = sqliteRowCounts(db);
      } finally {
        db.close();
      }
    } else {
      rowCounts = await dumpPostgres(hub.knex, partial, tools(opts), opts.onProgress);
    }
    await fsyncFile(partial);
    const { size } = await stat(partial);
    opts.onProgress?.({ phase: 'checksum', done: 0, total: size, unit: 'bytes' });
    const sha256 = await sha256File(partial);
    await rename(partial, path);
    const manifest: BackupManifest = {
      format: 'crmlink-hub-backup',
      formatVersion: 1,
      file: name,
      createdAt: started.toISOString(),
      hubKind: kind,
      schemaVersion: HUB_SCHEMA_VERSION,
      label: opts.label ?? 'manual',
      sizeBytes: size,
      sha256,
      rowCounts,
      durationMs: Date.now() - t0,
    };
    const manifestPath = await writeManifest(opts.dir, manifest);
    return { path, manifestPath, manifest };
  } catch (err) {
    await rm(partial, { force: true });
    if (err instanceof BackupError) throw err;
    throw new BackupError('DB_ERROR', `backup to ${path} failed: ${(err as Error).message}`, { file: path }, { cause: err });
  }
}

export interface VerifyReport {
  path: string;
  manifest: BackupManifest;
  ok: boolean;
  problems: string[];
  /** Rows per table found in the backup itself. */
  rowCounts: Record<string, number>;
}

/**
 * Verify a backup: its checksum and size against the manifest, then open it (SQLite: integrity
 * check; PostgreSQL: pg_restore reads the archive) and compare its row counts with the manifest's.
 */
export async function verifyBackup(ref: string, opts: { dir: string; onProgress?: (p: BackupProgress) => void } & Partial<PgTools>): Promise<VerifyReport> {
  const entry = await resolveBackup(ref, opts.dir);
  const { manifest, path } = entry;
  const problems: string[] = [];
  const size = await stat(path).then(
    (s) => s.size,
    () => null,
  );
  if (size === null) return { path, manifest, ok: false, problems: [`data file ${path} is missing`], rowCounts: {} };
  if (size !== manifest.sizeBytes) problems.push(`size ${size} bytes, the manifest says ${manifest.sizeBytes}`);
  opts.onProgress?.({ phase: 'checksum', done: 0, total: size, unit: 'bytes' });
  const sha = await sha256File(path);
  if (sha !== manifest.sha256) problems.push(`sha256 ${sha} does not match the manifest's ${manifest.sha256}`);
  if (problems.length) return { path, manifest, ok: false, problems, rowCounts: {} };
  opts.onProgress?.({ phase: 'verify', done: 0, total: null, unit: 'tables' });
  let rowCounts: Record<string, number>;
  if (manifest.hubKind === 'sqlite') {
    const inspected = inspectSqliteFile(path);
    problems.push(...inspected.integrity.map((p) => `integrity check: ${p}`));
    rowCounts = inspected.rowCounts;
  } else {
    rowCounts = await inspectPgDump(path, tools(opts));
  }
  if (problems.length === 0) {
    for (const t of new Set([...Object.keys(manifest.rowCounts), ...Object.keys(rowCounts)])) {
      // A dump may hold no COPY block for an empty table: missing counts as 0 there.
      const absent = manifest.hubKind === 'postgres' ? 0 : undefined;
      const want = manifest.rowCounts[t] ?? absent;
      const got = rowCounts[t] ?? absent;
      if (want !== got) problems.push(`table ${t}: ${got ?? 'missing'} rows, the manifest says ${want ?? 'missing'}`);
    }
  }
  return { path, manifest, ok: problems.length === 0, problems, rowCounts };
}

/** Apply retention in `dir`: delete the backups `keep` does not keep (never those taken before a restore). */
export async function pruneBackups(dir: string, keep: Keep): Promise<{ kept: BackupEntry[]; deleted: BackupEntry[] }> {
  const all = await listBackups(dir);
  const candidates = all.filter((b) => b.manifest.label !== 'before-restore');
  const keepNames = retained(
    candidates.map((b) => ({ name: b.manifest.file, createdAt: b.manifest.createdAt })),
    keep,
  );
  const deleted: BackupEntry[] = [];
  for (const b of candidates) {
    if (keepNames.has(b.manifest.file)) continue;
    // Manifest first: from then on it is no longer listed; a leftover data file is removed by the next backup.
    await rm(b.manifestPath, { force: true });
    await rm(b.path, { force: true });
    deleted.push(b);
  }
  const gone = new Set(deleted.map((d) => d.manifest.file));
  return { kept: all.filter((b) => !gone.has(b.manifest.file)), deleted };
}

export interface RestoreOptions extends Partial<PgTools> {
  /** Backup directory: where to find `ref` by name and where the replaced hub is kept. */
  dir: string;
  /** Sync jobs whose lock must be free (every configured job). */
  jobs: readonly string[];
  pagesPerStep?: number;
  onProgress?: (p: BackupProgress) => void;
  now?: () => Date;
}

export interface RestoreReport {
  restored: BackupEntry;
  /** The hub as it was before the restore, kept as a backup of its own. */
  replaced: BackupEntry;
  /** Rows per table of the hub after the restore. */
  rowCounts: Record<string, number>;
}

/**
 * Restore a backup over the hub. Refused when the backup fails verification, comes from another
 * hub kind or a newer schema, or while a sync run (or another backup) holds its lock; the locks are
 * held for the whole restore so no run starts meanwhile. The hub being replaced is first kept as a
 * `before-restore` backup in `dir`.
 */
export async function restoreBackup(hub: Hub, ref: string, opts: RestoreOptions): Promise<RestoreReport> {
  const { manifest, path } = await resolveBackup(ref, opts.dir);
  if (manifest.hubKind !== hubKind(hub))
    throw new BackupError('VALIDATION_FAILED', `backup ${path} is of a ${manifest.hubKind} hub; this hub is ${hubKind(hub)}`, { file: path, setting: 'hub.dialect' });
  if (manifest.schemaVersion > HUB_SCHEMA_VERSION)
    throw new BackupError(
      'VALIDATION_FAILED',
      `backup ${path} has hub schema version ${manifest.schemaVersion}, newer than this crmlink's ${HUB_SCHEMA_VERSION}: restore it with the crmlink version that took it`,
      { file: path },
    );
  const verified = await verifyBackup(path, opts);
  if (!verified.ok) throw new BackupError('VALIDATION_FAILED', `backup ${path} failed verification, not restored: ${verified.problems.join('; ')}`, { file: path });

  const locks: JobLock[] = [];
  try {
    for (const job of [BACKUP_LOCK, ...opts.jobs]) {
      const lock = await tryLockJob(hub, job);
      if (!lock) {
        const what = job === BACKUP_LOCK ? 'a backup or another restore is running' : `sync job "${job}" is running (it holds its lock)`;
        throw new BackupError('LOCKED', `${what}: backup ${path} not restored; try again when it has finished`, { file: path, job });
      }
      locks.push(lock);
    }
    const replaced = await writeBackup(hub, { ...opts, label: 'before-restore' });
    opts.onProgress?.({ phase: 'restore', done: 0, total: null, unit: 'pages' });
    if (manifest.hubKind === 'sqlite') await restoreSqlite(hub, path, locks);
    else await restorePostgres(hub.knex, path, tools(opts));
    // An older backup gets the columns and tables this version adds.
    await migrateHub(hub.knex, hub.custom);
    const rowCounts = await liveRowCounts(hub);
    return { restored: { path, manifestPath: path + MANIFEST_SUFFIX, manifest }, replaced, rowCounts };
  } finally {
    for (const l of locks.reverse()) await l.release().catch(() => undefined);
  }
}

/**
 * The backup is copied beside the hub first; in that copy the lock rows it carries (runs that were
 * going on when it was taken) are replaced by the locks this restore holds, so no run can start
 * between the restore and the release. Then the copy replaces the hub in one transaction.
 */
async function restoreSqlite(hub: Hub, backupPath: string, locks: readonly JobLock[]): Promise<void> {
  const hubFile = sqliteHubFile(hub);
  const prepared = join(dirname(hubFile), `.${basename(hubFile)}.restore-${randomBytes(4).toString('hex')}`);
  try {
    await copyFile(backupPath, prepared);
    const db = new Database(prepared);
    try {
      const now = new Date();
      const expires = new Date(now.getTime() + 120_000).toISOString();
      db.transaction(() => {
        db.prepare(`delete from ${T.lock}`).run();
        const insert = db.prepare(`insert into ${T.lock} (name, holder, acquired_at, expires_at) values (?, ?, ?, ?)`);
        for (const l of locks) insert.run(l.name, l.holder, now.toISOString(), expires);
      })();
    } finally {
      db.close();
    }
    await replaceSqlite(prepared, hubFile);
  } finally {
    await rm(prepared, { force: true });
  }
}

/** Rows per table of the live hub. */
export async function liveRowCounts(hub: Hub): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  if (hub.dialect === 'sqlite') {
    const rows = (await hub.knex.raw("select name from sqlite_master where type = 'table' and name not like 'sqlite_%' order by name")) as { name: string }[];
    for (const { name } of rows) {
      const r = (await hub.knex.raw('select count(*) as n from ??', [name])) as { n: number }[];
      out[name] = Number(r[0]?.n ?? 0);
    }
    return out;
  }
  const res = (await hub.knex.raw("select table_name as t from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE' order by 1")) as {
    rows: { t: string }[];
  };
  for (const { t } of res.rows) {
    const r = (await hub.knex.raw('select count(*)::bigint as n from ??', [t])) as { rows: { n: string }[] };
    out[t] = Number(r.rows[0]?.n ?? 0);
  }
  return out;
}
