/**
 * Hub backups on a real SQLite file and a real PostgreSQL database: a backup verifies against its
 * manifest (sha256, size, row counts, schema version, hub kind); a damaged one is refused by verify
 * and restore, naming the file; a restore puts the hub back, keeps the replaced hub as a backup of
 * its own, and is refused while a sync job holds its lock; retention keeps the newest backups.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, openSync, writeSync, closeSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/load.js';
import { Hub } from '../../hub/hub.js';
import { HUB_SCHEMA_VERSION } from '../../hub/migrate.js';
import { tryLockJob } from '../../hub/locks.js';
import {
  BackupError,
  listBackups,
  liveRowCounts,
  pruneBackups,
  restoreBackup,
  takeBackup,
  verifyBackup,
  type BackupManifest,
} from '../../hub/backup/index.js';
import { createTestDatabase, requireDialect, type TestDatabase } from '../support/databases.js';

const now = () => new Date().toISOString();

async function audit(hub: Hub, actor: string): Promise<void> {
  // Tests may write the hub directly; the product goes through the store.
  await hub.knex('crm_audit').insert({ at: now(), actor, action: 'test', entity: 'Customer', gid: null, before: null, after: 'x'.repeat(200) });
}

async function actors(hub: Hub): Promise<string[]> {
  return (await hub.knex('crm_audit').orderBy('id').pluck('actor')) as string[];
}

describe.each(['sqlite', 'postgres'] as const)('hub backups on a %s hub', (dialect) => {
  let db: TestDatabase | null = null;
  let hub: Hub | null = null;
  let dir = '';

  beforeAll(async () => {
    if (!(await requireDialect(dialect))) return;
    db = await createTestDatabase(dialect, 'backup');
    hub = await Hub.open(parseConfig(JSON.stringify({ hub: { dialect, connection: db.connection }, sources: {} })));
    dir = mkdtempSync(join(tmpdir(), `crmlink-backups-${dialect}-`));
    for (let i = 0; i < 30; i++) await audit(hub, `seed-${i}`);
  });
  afterAll(async () => {
    await hub?.destroy();
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('takes a backup whose manifest matches the hub and which verifies', async (t) => {
    if (!hub) return t.skip();
    const live = await liveRowCounts(hub);
    const entry = await takeBackup(hub, { dir, pagesPerStep: 3 });
    const m = entry.manifest;
    expect(m).toMatchObject({ format: 'crmlink-hub-backup', hubKind: dialect, schemaVersion: HUB_SCHEMA_VERSION, label: 'manual' });
    expect(m.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(m.sizeBytes).toBe(readFileSync(entry.path).length);
    // Every hub table is counted; only the backup's own lock row differs from the live hub.
    expect(Object.keys(m.rowCounts).sort()).toEqual(Object.keys(live).sort());
    expect(m.rowCounts.crm_audit).toBe(live.crm_audit);
    expect(m.rowCounts.crm_audit).toBeGreaterThanOrEqual(30);
    const report = await verifyBackup(entry.path, { dir });
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.rowCounts.crm_audit).toBe(live.crm_audit);
    expect((await listBackups(dir)).map((b) => b.path)).toContain(entry.path);
  });

  it('finds a damaged backup, and refuses to restore it, naming the file', async (t) => {
    if (!hub) return t.skip();
    const before = await actors(hub);
    const entry = await takeBackup(hub, { dir });
    const fd = openSync(entry.path, 'r+');
    writeSync(fd, Buffer.from([0xff ^ readFileSync(entry.path)[2000]]), 0, 1, 2000);
    closeSync(fd);
    const report = await verifyBackup(entry.path, { dir });
    expect(report.ok).toBe(false);
    expect(report.problems.join()).toMatch(/sha256 .* does not match/);
    const err = await restoreBackup(hub, entry.path, { dir, jobs: [] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackupError);
    expect((err as BackupError).code).toBe('VALIDATION_FAILED');
    expect((err as BackupError).message).toContain(entry.path);
    expect((err as BackupError).context.file).toBe(entry.path);
    expect(await actors(hub)).toEqual(before);
  });

  it('refuses a backup from a newer schema version or another hub kind', async (t) => {
    if (!hub) return t.skip();
    const entry = await takeBackup(hub, { dir });
    const manifest = JSON.parse(readFileSync(entry.manifestPath, 'utf8')) as BackupManifest;
    writeFileSync(entry.manifestPath, JSON.stringify({ ...manifest, schemaVersion: HUB_SCHEMA_VERSION + 1 }));
    await expect(restoreBackup(hub, entry.path, { dir, jobs: [] })).rejects.toThrow(/schema version .* newer than/);
    writeFileSync(entry.manifestPath, JSON.stringify({ ...manifest, hubKind: dialect === 'sqlite' ? 'postgres' : 'sqlite' }));
    await expect(restoreBackup(hub, entry.path, { dir, jobs: [] })).rejects.toThrow(/is of a (postgres|sqlite) hub; this hub is/);
  });

  it('refuses to restore while a sync job holds its lock, and leaves the hub as it was', async (t) => {
    if (!hub) return t.skip();
    const entry = await takeBackup(hub, { dir });
    await audit(hub, 'after-locked-backup');
    const lock = await tryLockJob(hub, 'customers');
    expect(lock).not.toBeNull();
    try {
      const err = await restoreBackup(hub, entry.path, { dir, jobs: ['customers'] }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BackupError);
      expect((err as BackupError).code).toBe('LOCKED');
      expect((err as BackupError).message).toMatch(/sync job "customers" is running/);
      expect((err as BackupError).message).toContain(entry.path);
    } finally {
      await lock?.release();
    }
    expect(await actors(hub)).toContain('after-locked-backup');
  });

  it('restores a backup and keeps the replaced hub as a before-restore backup', async (t) => {
    if (!hub) return t.skip();
    const before = await actors(hub);
    const entry = await takeBackup(hub, { dir });
    await audit(hub, 'written-after-backup');
    const report = await restoreBackup(hub, entry.path, { dir, jobs: ['customers'] });
    // The hub is the backed-up one, through the same open connection.
    expect(await actors(hub)).toEqual(before);
    expect(report.rowCounts.crm_audit).toBe(entry.manifest.rowCounts.crm_audit);
    // No lock is left behind: the restore's own locks are released, the backup's are not restored.
    const locks = dialect === 'sqlite' ? await hub.knex('crm_lock').count({ n: '*' }) : [{ n: 0 }];
    expect(Number(locks[0].n)).toBe(0);
    expect(await tryLockJob(hub, 'customers').then(async (l) => (await l?.release(), l !== null))).toBe(true);
    // The replaced hub is a verified backup of its own that holds what the restore removed.
    expect(report.replaced.manifest.label).toBe('before-restore');
    expect((await verifyBackup(report.replaced.path, { dir })).ok).toBe(true);
    expect(report.replaced.manifest.rowCounts.crm_audit).toBe(before.length + 1);
    const back = await restoreBackup(hub, report.replaced.path, { dir, jobs: [] });
    expect(await actors(hub)).toEqual([...before, 'written-after-backup']);
    expect(back.restored.path).toBe(report.replaced.path);
  });

  it('applies retention: the newest N, never the before-restore backups', async (t) => {
    if (!hub) return t.skip();
    const own = mkdtempSync(join(tmpdir(), `crmlink-retention-${dialect}-`));
    try {
      let clock = Date.parse('2026-01-05T02:00:00Z');
      const taken = [];
      for (let i = 0; i < 4; i++) {
        taken.push(await takeBackup(hub, { dir: own, now: () => new Date(clock) }));
        clock += 86_400_000;
      }
      const aside = await takeBackup(hub, { dir: own, label: 'before-restore', now: () => new Date(Date.parse('2026-01-01T00:00:00Z')) });
      const { deleted, kept } = await pruneBackups(own, { last: 2, daily: 0, weekly: 0 });
      expect(deleted.map((d) => d.path).sort()).toEqual([taken[0].path, taken[1].path].sort());
      expect(kept.map((k) => k.path)).toEqual([taken[3].path, taken[2].path, aside.path]);
      expect(readdirSync(own).sort()).toEqual(kept.flatMap((k) => [k.manifest.file, `${k.manifest.file}.manifest.json`]).sort());
    } finally {
      rmSync(own, { recursive: true, force: true });
    }
  });
});

describe('a PostgreSQL hub without pg_dump', () => {
  it('says pg_dump is missing, which setting to change, and where the backup was to go', async (t) => {
    if (!(await requireDialect('postgres'))) return t.skip();
    const db = await createTestDatabase('postgres', 'nodump');
    const hub = await Hub.open(parseConfig(JSON.stringify({ hub: { dialect: 'postgres', connection: db.connection }, sources: {} })));
    const dir = mkdtempSync(join(tmpdir(), 'crmlink-nodump-'));
    try {
      const err = await takeBackup(hub, { dir, pgDump: '/nonexistent/bin/pg_dump' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BackupError);
      expect((err as BackupError).code).toBe('NOT_AVAILABLE');
      expect((err as BackupError).message).toMatch(/\/nonexistent\/bin\/pg_dump was not found/);
      expect((err as BackupError).message).toContain('hub.backup.pgDump');
      expect((err as BackupError).message).toContain(dir);
      // Nothing that looks like a backup is left.
      expect(await listBackups(dir)).toEqual([]);
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      await hub.destroy();
      await db.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
