/**
 * A backup killed mid-way (SIGKILL of a real `crmlink hub backup` process while it copies) leaves
 * the earlier backups intact and verifiable, and nothing listed or named like a complete backup:
 * only a `.partial` file, which the next backup removes.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../config/load.js';
import { Hub } from '../../hub/hub.js';
import { listBackups, PARTIAL_SUFFIX, takeBackup, verifyBackup, MANIFEST_SUFFIX } from '../../hub/backup/index.js';
import { main } from '../../cli/main.js';
import { defaultContext } from '../../cli/context.js';

const BIN = resolve(import.meta.dirname, '../../bin/crmlink.mjs');
const dir = mkdtempSync(join(tmpdir(), 'crmlink-backup-kill-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a backup killed mid-way', () => {
  it('leaves the previous backups intact and no half-written file listed as a backup', async () => {
    const config = join(dir, 'crmlink.yaml');
    const backups = join(dir, 'backups');
    // One page per step: the copy of a ~50 MB hub takes thousands of steps, so the kill lands in it.
    writeFileSync(config, 'hub: { dialect: sqlite, connection: { filename: ./hub.db }, backup: { dir: ./backups, pagesPerStep: 1 } }\nsources: {}\n');
    const loaded = loadConfigFile(config);
    const hub = await Hub.open(loaded);
    const raw = new Database(join(dir, 'hub.db'));
    const insert = raw.prepare("insert into crm_audit (at, actor, action, entity, after) values ('2026-01-01T00:00:00Z', ?, 'seed', 'Customer', ?)");
    raw.transaction(() => {
      for (let i = 0; i < 50_000; i++) insert.run(`seed-${i}`, 'x'.repeat(1000));
    })();
    raw.close();
    const previous = await takeBackup(hub, { dir: backups, pagesPerStep: 100_000 });
    await hub.destroy();

    const child = spawn(process.execPath, [BIN, 'hub', 'backup', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_code, signal) => r(signal)));
    const stdout: string[] = [];
    createInterface({ input: child.stdout }).on('line', (l) => stdout.push(l));
    // Killed as soon as it reports having copied a tenth of the pages.
    createInterface({ input: child.stderr }).on('line', (line) => {
      if (/backup progress: copy [1-9]\d%/.test(line)) child.kill('SIGKILL');
    });
    expect(await exited).toBe('SIGKILL');
    expect(stdout.join('\n')).not.toContain('backup written');

    const files = readdirSync(backups);
    // It was interrupted while writing: its data is there, under a name no one takes for a backup.
    expect(files.filter((f) => f.endsWith(PARTIAL_SUFFIX))).toHaveLength(1);
    // Every file not partial (nor its journal) belongs to the previous backup.
    expect(files.filter((f) => !f.includes(PARTIAL_SUFFIX)).sort()).toEqual([previous.manifest.file, previous.manifest.file + MANIFEST_SUFFIX].sort());
    expect((await listBackups(backups)).map((b) => b.path)).toEqual([previous.path]);
    expect((await verifyBackup(previous.path, { dir: backups })).ok).toBe(true);

    const out: string[] = [];
    expect(await main(['node', 'crmlink', 'hub', 'backups', '--config', config], { ...defaultContext(), out: (t) => out.push(t), err: () => undefined })).toBe(0);
    expect(out.join('\n').split('\n')).toHaveLength(2); // the header and the previous backup
    expect(out.join('\n')).toContain(previous.manifest.file);

    // The next backup clears what the killed one left and completes.
    const again = await Hub.open(loaded);
    try {
      const next = await takeBackup(again, { dir: backups, pagesPerStep: 100_000 });
      expect(readdirSync(backups).filter((f) => f.includes(PARTIAL_SUFFIX))).toEqual([]);
      expect((await verifyBackup(next.path, { dir: backups })).ok).toBe(true);
      expect((await listBackups(backups)).map((b) => b.path)).toEqual([next.path, previous.path]);
    } finally {
      await again.destroy();
    }
  }, 120_000);
});
