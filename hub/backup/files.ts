/**
 * Backup files and their manifests. A backup is two files in the backup directory:
 *
 *   hub-20261207T020000123Z.db                 the data (SQLite database, or a pg_dump custom archive: .dump)
 *   hub-20261207T020000123Z.db.manifest.json   what it is: time, hub kind, schema version, size, sha256, row counts
 *
 * Both are written under a `.partial` name and renamed when complete, the manifest last; only a
 * backup with a manifest is listed. A process killed mid-backup leaves at most `.partial` files
 * (with SQLite's `.partial-journal`), or a data file without its manifest, which the next backup
 * removes.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { BackupError } from './errors.js';

export const MANIFEST_SUFFIX = '.manifest.json';
export const PARTIAL_SUFFIX = '.partial';
const DATA_NAME = /^hub-\d{8}T\d{9}Z(-[a-z0-9-]+)?\.(db|dump)$/;

export type HubKind = 'sqlite' | 'postgres';
/** Why a backup was taken; `before-restore` backups are the hub a restore replaced, never pruned. */
export const BACKUP_LABELS = ['manual', 'scheduled', 'before-restore'] as const;
export type BackupLabel = (typeof BACKUP_LABELS)[number];

export interface BackupManifest {
  format: 'crmlink-hub-backup';
  formatVersion: 1;
  /** The data file's name, in the same directory. */
  file: string;
  createdAt: string;
  hubKind: HubKind;
  /** hub/migrate.ts HUB_SCHEMA_VERSION of the crmlink that took it. */
  schemaVersion: number;
  label: BackupLabel;
  sizeBytes: number;
  sha256: string;
  /** Rows per hub table at the moment the backup reflects. */
  rowCounts: Record<string, number>;
  durationMs: number;
}

export interface BackupEntry {
  /** Absolute path of the data file. */
  path: string;
  manifestPath: string;
  manifest: BackupManifest;
}

/** `hub-<UTC time to the millisecond>[-suffix].<ext>`: names sort by time. */
export function backupName(kind: HubKind, at: Date, suffix = ''): string {
  const stamp = at.toISOString().replace(/[-:]/g, '').replace('.', '');
  return `hub-${stamp}${suffix ? `-${suffix}` : ''}.${kind === 'sqlite' ? 'db' : 'dump'}`;
}

export function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

/** Flush a file to disk before it is renamed into place, so a power loss cannot leave a complete-looking name over missing data. */
export async function fsyncFile(path: string): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Write the manifest under a temporary name, then rename it: it appears complete or not at all. */
export async function writeManifest(dir: string, manifest: BackupManifest): Promise<string> {
  const path = join(dir, manifest.file + MANIFEST_SUFFIX);
  const partial = path + PARTIAL_SUFFIX;
  await writeFile(partial, `${JSON.stringify(manifest, null, 2)}\n`);
  await fsyncFile(partial);
  await rename(partial, path);
  return path;
}

export async function readManifest(manifestPath: string): Promise<BackupManifest> {
  let text: string;
  try {
    text = await readFile(manifestPath, 'utf8');
  } catch (err) {
    throw new BackupError('NOT_FOUND', `backup manifest ${manifestPath} cannot be read: ${(err as Error).message}`, { file: manifestPath }, { cause: err });
  }
  let m: Partial<BackupManifest>;
  try {
    m = JSON.parse(text) as Partial<BackupManifest>;
  } catch (err) {
    throw new BackupError('VALIDATION_FAILED', `backup manifest ${manifestPath} is not valid JSON`, { file: manifestPath }, { cause: err });
  }
  const ok =
    m.format === 'crmlink-hub-backup' &&
    m.formatVersion === 1 &&
    typeof m.file === 'string' &&
    basename(m.file) === m.file &&
    typeof m.createdAt === 'string' &&
    (m.hubKind === 'sqlite' || m.hubKind === 'postgres') &&
    Number.isInteger(m.schemaVersion) &&
    typeof m.sha256 === 'string' &&
    /^[0-9a-f]{64}$/.test(m.sha256) &&
    Number.isInteger(m.sizeBytes) &&
    typeof m.rowCounts === 'object' &&
    m.rowCounts !== null;
  if (!ok) throw new BackupError('VALIDATION_FAILED', `backup manifest ${manifestPath} is not a crmlink hub backup manifest`, { file: manifestPath });
  return m as BackupManifest;
}

/** The complete backups in `dir` (those with a readable manifest), newest first. */
export async function listBackups(dir: string): Promise<BackupEntry[]> {
  const names = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [] as string[];
    throw new BackupError('NOT_FOUND', `backup directory ${dir} cannot be read: ${err.message}`, { file: dir, setting: 'hub.backup.dir' }, { cause: err });
  });
  const out: BackupEntry[] = [];
  for (const name of names) {
    if (!name.endsWith(MANIFEST_SUFFIX)) continue;
    const manifestPath = join(dir, name);
    try {
      const manifest = await readManifest(manifestPath);
      out.push({ path: join(dir, manifest.file), manifestPath, manifest });
    } catch {
      // A foreign or damaged manifest is not a backup; `verify` on it says why.
    }
  }
  return out.sort((a, b) => (a.manifest.createdAt < b.manifest.createdAt ? 1 : a.manifest.createdAt > b.manifest.createdAt ? -1 : a.manifest.file < b.manifest.file ? 1 : -1));
}

/**
 * Remove what interrupted backups left: `.partial` files and data files without a manifest. Call
 * only while holding the backup lock, so no backup of this hub is being written meanwhile.
 */
export async function removeLeftovers(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const present = new Set(names);
  const removed: string[] = [];
  for (const name of names) {
    // SQLite may leave its rollback journal beside a partial copy: "<name>.partial-journal".
    const partial = /^(.*?)(\.manifest\.json)?\.partial(-journal|-wal|-shm)?$/.exec(name);
    const dataName = partial ? partial[1] : name;
    if (!DATA_NAME.test(dataName)) continue;
    const leftover = partial !== null || (!name.endsWith(MANIFEST_SUFFIX) && !present.has(name + MANIFEST_SUFFIX));
    if (!leftover) continue;
    await rm(join(dir, name), { force: true });
    removed.push(name);
  }
  return removed;
}

/** Find a backup by path (data file or manifest) or by name in the backup directory. */
export async function resolveBackup(ref: string, dir: string): Promise<BackupEntry> {
  const candidates = [ref, join(dir, ref)];
  for (const c of candidates) {
    const manifestPath = c.endsWith(MANIFEST_SUFFIX) ? c : c + MANIFEST_SUFFIX;
    const exists = await stat(manifestPath).then(
      () => true,
      () => false,
    );
    if (!exists) continue;
    const manifest = await readManifest(manifestPath);
    const path = join(manifestPath.slice(0, manifestPath.length - basename(manifestPath).length), manifest.file);
    return { path, manifestPath, manifest };
  }
  const dataExists = await stat(ref).then(
    () => true,
    () => false,
  );
  throw new BackupError(
    'NOT_FOUND',
    dataExists
      ? `${ref} has no manifest (${basename(ref)}${MANIFEST_SUFFIX}): it is not a complete crmlink backup`
      : `backup ${ref} not found (looked for it as a path and in ${dir}; \`crmlink hub backups\` lists them)`,
    { file: ref },
  );
}
