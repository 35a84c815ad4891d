/**
 * SQLite hub: the online backup API (better-sqlite3 `backup()`, i.e. sqlite3_backup_*). It copies
 * the database page by page from a connection of its own while the hub keeps serving and syncing
 * (WAL mode: readers never block the writer). When another connection writes between two steps,
 * SQLite restarts the copy so the result is always one consistent state; after a restart the rest
 * is copied in one step (a single read transaction, which in WAL mode does not hold writers up), so
 * a busy hub cannot keep a backup from ever finishing.
 */
import Database from 'better-sqlite3';
import { BackupError } from './errors.js';
import type { BackupProgress } from './progress.js';

const ALL_PAGES = 0x7fffffff;

export async function copySqlite(source: string, dest: string, pagesPerStep: number, onProgress?: (p: BackupProgress) => void): Promise<void> {
  let db: Database.Database;
  try {
    db = new Database(source, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw new BackupError('NOT_FOUND', `hub file ${source} cannot be opened for backup: ${(err as Error).message}`, { file: source }, { cause: err });
  }
  try {
    db.pragma('busy_timeout = 5000');
    let lastRemaining = Number.POSITIVE_INFINITY;
    let restarted = false;
    await db.backup(dest, {
      progress: ({ totalPages, remainingPages }) => {
        if (remainingPages > lastRemaining) restarted = true;
        lastRemaining = remainingPages;
        onProgress?.({ phase: 'copy', done: totalPages - remainingPages, total: totalPages, unit: 'pages' });
        return restarted ? ALL_PAGES : pagesPerStep;
      },
    });
  } catch (err) {
    throw new BackupError('DB_ERROR', `backup of hub file ${source} to ${dest} failed: ${(err as Error).message}`, { file: dest }, { cause: err });
  } finally {
    db.close();
  }
  // A standalone file: no -wal/-shm beside it, so reading or checksumming it never changes it.
  const out = new Database(dest);
  try {
    out.pragma('journal_mode = DELETE');
  } finally {
    out.close();
  }
}

/** Rows per table of a SQLite database file (opened read-only). */
export function sqliteRowCounts(db: Database.Database): Record<string, number> {
  const tables = db
    .prepare("select name from sqlite_master where type = 'table' and name not like 'sqlite_%' order by name")
    .pluck()
    .all() as string[];
  const out: Record<string, number> = {};
  for (const t of tables) out[t] = Number(db.prepare(`select count(*) from "${t.replaceAll('"', '""')}"`).pluck().get());
  return out;
}

/** Open a backup file read-only, check its integrity and count its rows. */
export function inspectSqliteFile(path: string): { integrity: string[]; rowCounts: Record<string, number> } {
  let db: Database.Database;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw new BackupError('VALIDATION_FAILED', `backup ${path} cannot be opened as a SQLite database: ${(err as Error).message}`, { file: path }, { cause: err });
  }
  try {
    const integrity = db.pragma('integrity_check', { simple: false }) as { integrity_check: string }[];
    const problems = integrity.map((r) => r.integrity_check).filter((s) => s !== 'ok');
    return { integrity: problems, rowCounts: problems.length ? {} : sqliteRowCounts(db) };
  } catch (err) {
    throw new BackupError('VALIDATION_FAILED', `backup ${path} is not a readable SQLite database: ${(err as Error).message}`, { file: path }, { cause: err });
  } finally {
    db.close();
  }
}

/**
 * Replace the hub file's content with `prepared` (a copy of the backup, already adjusted) in one
 * step of the backup API: one write transaction on the hub, so other connections see the old hub or
 * the restored one, never a mix.
 */
export async function replaceSqlite(prepared: string, hubFile: string): Promise<void> {
  const db = new Database(prepared, { readonly: true, fileMustExist: true });
  try {
    await db.backup(hubFile, { progress: () => ALL_PAGES });
  } catch (err) {
    throw new BackupError('DB_ERROR', `restoring into hub file ${hubFile} failed: ${(err as Error).message}`, { file: hubFile }, { cause: err });
  } finally {
    db.close();
  }
}
