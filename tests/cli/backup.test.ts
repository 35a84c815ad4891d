/**
 * The backup commands as an operator uses them: `crmlink hub backup | backups | verify | restore`
 * (and the short forms `backup`, `restore-backup`) with their exit codes and messages, and
 * `crmlink serve` taking backups on hub.backup.schedule with retention, stopping cleanly.
 */
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, test } from 'vitest';
import { main } from '../../cli/main.js';
import { defaultContext, type CliContext } from '../../cli/context.js';
import { loadConfigFile } from '../../config/load.js';
import { Hub } from '../../hub/hub.js';
import { tryLockJob } from '../../hub/locks.js';
import { listBackups, verifyBackup } from '../../hub/backup/index.js';
import { sqliteErpConfig } from '../support/config.js';

const BIN = resolve(import.meta.dirname, '../../bin/crmlink.mjs');
const dir = mkdtempSync(join(tmpdir(), 'crmlink-cli-backup-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function capture(): { ctx: CliContext; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { ctx: { ...defaultContext(), out: (t) => out.push(t), err: (t) => err.push(t) }, out, err };
}

function config(name: string, backup: string): string {
  const sub = join(dir, name);
  const file = join(sub, 'crmlink.yaml');
  mkdirSync(sub, { recursive: true });
  writeFileSync(file, sqliteErpConfig({ hub: './hub.db', erp: './erp.db', hubOptions: `backup: ${backup}`, pullJob: true }));
  return file;
}

describe('crmlink hub backup commands (in process)', () => {
  test('backup, list, verify, restore; a damaged backup fails verify naming its file', async () => {
    const file = config('cmds', '{ dir: ./backups, keep: 5 }');
    const backupsDir = join(dir, 'cmds', 'backups');
    let c = capture();
    expect(await main(['node', 'crmlink', 'hub', 'backup', '--config', file], c.ctx)).toBe(0);
    const written = /backup written: (\S+)/.exec(c.out.join('\n'))?.[1] as string;
    expect(written).toMatch(/hub-\d{8}T\d{9}Z-[0-9a-f]{4}\.db$/);
    expect(c.out.join('\n')).toMatch(/sha256 [0-9a-f]{64}/);

    c = capture();
    expect(await main(['node', 'crmlink', 'backup', '--config', file, '--json'], c.ctx)).toBe(0);
    const second = JSON.parse(c.out.join('\n')) as { path: string; manifest: { hubKind: string } };
    expect(second.manifest.hubKind).toBe('sqlite');

    c = capture();
    expect(await main(['node', 'crmlink', 'hub', 'backups', '--config', file], c.ctx)).toBe(0);
    const listing = c.out.join('\n').split('\n');
    expect(listing[0]).toMatch(/^FILE\s+TAKEN\s+KIND\s+LABEL\s+SIZE\s+ROWS\s+SHA256$/);
    expect(listing).toHaveLength(3);

    c = capture();
    expect(await main(['node', 'crmlink', 'hub', 'verify', written, '--config', file], c.ctx)).toBe(0);
    expect(c.out.join('\n')).toContain('verified: sha256 matches');

    c = capture();
    expect(await main(['node', 'crmlink', 'hub', 'restore', written.split('/').pop() as string, '--config', file], c.ctx)).toBe(0);
    expect(c.out.join('\n')).toMatch(/hub restored from .*\n {2}the hub it replaced is kept as .*before-restore\.db/);

    const fd = openSync(second.path, 'r+');
    writeSync(fd, Buffer.from([0xff ^ readFileSync(second.path)[100]]), 0, 1, 100);
    closeSync(fd);
    c = capture();
    expect(await main(['node', 'crmlink', 'hub', 'verify', second.path, '--config', file], c.ctx)).toBe(1);
    expect(c.out.join('\n')).toContain(`backup ${second.path} FAILED verification`);
    c = capture();
    expect(await main(['node', 'crmlink', 'restore-backup', second.path, '--config', file], c.ctx)).toBe(1);
    expect(c.err.join('\n')).toMatch(new RegExp(`error \\[VALIDATION_FAILED\\]: backup ${second.path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} failed verification`));
    expect((await listBackups(backupsDir)).length).toBe(3);
  });

  test('restore is refused while a sync run holds its lock', async () => {
    const file = config('locked', '{ dir: ./backups }');
    let c = capture();
    expect(await main(['node', 'crmlink', 'hub', 'backup', '--config', file], c.ctx)).toBe(0);
    const written = /backup written: (\S+)/.exec(c.out.join('\n'))?.[1] as string;
    const hub = await Hub.open(loadConfigFile(file));
    const lock = await tryLockJob(hub, 'customers');
    try {
      c = capture();
      expect(await main(['node', 'crmlink', 'hub', 'restore', written, '--config', file], c.ctx)).toBe(1);
      expect(c.err.join('\n')).toContain(`error [LOCKED]: sync job "customers" is running (it holds its lock): backup ${written} not restored`);
    } finally {
      await lock?.release();
      await hub.destroy();
    }
  });
});

describe('crmlink serve with hub.backup.schedule', () => {
  test('takes backups on the schedule, keeps the newest N, and stops cleanly', async () => {
    const file = config('serve', '{ dir: ./backups, schedule: "* * * * * *", keep: 2 }');
    const child = spawn(process.execPath, [BIN, 'serve', '--config', file, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const taken: string[] = [];
    createInterface({ input: child.stderr }).on('line', (line) => {
      if (line.includes('"msg":"hub backup taken"')) taken.push(line);
    });
    try {
      await expect.poll(() => taken.length, { timeout: 60_000, interval: 100 }).toBeGreaterThanOrEqual(3);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    const backups = await listBackups(join(dir, 'serve', 'backups'));
    expect(backups).toHaveLength(2);
    expect(backups.every((b) => b.manifest.label === 'scheduled')).toBe(true);
    for (const b of backups) expect((await verifyBackup(b.path, { dir: join(dir, 'serve', 'backups') })).ok).toBe(true);
  }, 90_000);
});
