/**
 * hubBackups over HTTP: the newest backup in hub.backup.dir as its manifest says, and whether it is
 * stale. One real backup is taken once; each test lays out the backup directory it needs (that
 * backup as it is, or its manifest dated back), so the tests hold in any order.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { backupStatus, MANIFEST_SUFFIX, takeBackup, type BackupEntry, type BackupManifest } from '../../hub/backup/index.js';
import { SERVER_AUTH } from './fixture.js';
import { startSecurityServer, type SecurityServer } from '../security/support.js';

const ADMIN = { 'x-api-key': 'admin-key-0123456789' };
const SALES = { 'x-api-key': 'alice-key-0123456789' };
const QUERY = '{ hubBackups { last { file at size label hubKind sha256 } count stale staleAfterHours schedule } }';
const HOUR = 3_600_000;

describe('hubBackups over HTTP (schedule set, default threshold)', () => {
  let s: SecurityServer;
  let scratch: string;
  let dir: string;
  let taken: BackupEntry;

  /** The backup directory holding the backup taken, its manifest dated `ageHours` back. */
  function layout(ageHours: number | null): BackupManifest | null {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    if (ageHours === null) return null;
    const manifest: BackupManifest = { ...taken.manifest, createdAt: new Date(Date.now() - ageHours * HOUR).toISOString() };
    copyFileSync(taken.path, join(dir, manifest.file));
    writeFileSync(join(dir, manifest.file + MANIFEST_SUFFIX), JSON.stringify(manifest));
    return manifest;
  }

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'crmlink-hub-backups-'));
    dir = join(scratch, 'backups');
    s = await startSecurityServer({
      customers: 2,
      server: SERVER_AUTH,
      hub: `  backup:\n    dir: ${JSON.stringify(dir)}\n    schedule: "0 2 * * *"`,
    });
    taken = await takeBackup(s.fixture.app.hub, { dir: join(scratch, 'origin'), label: 'scheduled' });
  });
  afterAll(async () => {
    await s?.close();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  test('a fresh backup is shown and is not stale', async () => {
    const m = layout(1)!;
    const r = await s.gql(QUERY, {}, ADMIN);
    expect(r.errors).toBeUndefined();
    expect(r.data.hubBackups).toEqual({
      last: { file: m.file, at: m.createdAt, size: m.sizeBytes, label: 'SCHEDULED', hubKind: 'SQLITE', sha256: m.sha256 },
      count: 1,
      stale: false,
      staleAfterHours: 26,
      schedule: '0 2 * * *',
    });
    expect(m.sizeBytes).toBeGreaterThan(0);
    expect(JSON.parse(readFileSync(taken.manifestPath, 'utf8')).sha256).toBe(m.sha256);
  });

  test('a backup older than 26 hours is stale', async () => {
    const m = layout(30)!;
    const r = await s.gql(QUERY, {}, ADMIN);
    expect(r.errors).toBeUndefined();
    expect(r.data.hubBackups).toMatchObject({ last: { file: m.file, at: m.createdAt }, count: 1, stale: true, staleAfterHours: 26 });
  });

  test('no backup at all with a schedule configured is stale', async () => {
    layout(null);
    const r = await s.gql(QUERY, {}, ADMIN);
    expect(r.errors).toBeUndefined();
    expect(r.data.hubBackups).toMatchObject({ last: null, count: 0, stale: true });
  });

  test('a role without admin is refused and sees nothing', async () => {
    const m = layout(1)!;
    const r = await s.gql(QUERY, {}, SALES);
    expect(r.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(r.errors?.[0]?.message).toContain('read hub backups');
    expect(JSON.stringify(r)).not.toContain(m.file);
  });
});

describe('backupStatus thresholds', () => {
  const entry = (createdAt: string) => ({ path: '', manifestPath: '', manifest: { createdAt } as BackupManifest });
  const now = new Date('2026-12-07T12:00:00.000Z');

  test('without a schedule or staleAfterHours nothing is expected: never stale', () => {
    expect(backupStatus([], {}, now)).toMatchObject({ stale: false, staleAfterHours: null, count: 0 });
    expect(backupStatus([entry('2020-01-01T00:00:00.000Z')], {}, now).stale).toBe(false);
  });

  test('staleAfterHours applies with or without a schedule and overrides the default', () => {
    const old = [entry('2026-12-07T06:00:00.000Z')]; // 6 hours before now
    expect(backupStatus(old, { staleAfterHours: 5 }, now)).toMatchObject({ stale: true, staleAfterHours: 5 });
    expect(backupStatus(old, { staleAfterHours: 7, schedule: '0 * * * *' }, now).stale).toBe(false);
    expect(backupStatus(old, { schedule: '0 2 * * *' }, now)).toMatchObject({ stale: false, staleAfterHours: 26 });
  });
});
