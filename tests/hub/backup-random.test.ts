/**
 * Randomized: a writer process commits random transactions on the hub while a backup is taken;
 * the backup is restored, and the restored hub equals the hub right after one of the writer's
 * commits (row counts and checksums of the written tables), one made while the backup ran. On a
 * SQLite hub (online backup API) and a PostgreSQL hub (pg_dump). BACKUP_SEED=<n> replays a run.
 */
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/load.js';
import { Hub } from '../../hub/hub.js';
import { restoreBackup, takeBackup, verifyBackup } from '../../hub/backup/index.js';
import { createTestDatabase, requireDialect, type TestDatabase } from '../support/databases.js';
import { tableChecksums, type TableSum } from './support/backup-checksums.js';

const WRITER = resolve(import.meta.dirname, 'support/backup-writer.ts');
const ROOT = resolve(import.meta.dirname, '../..');
const dirs: string[] = [];
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
});

interface LogLine {
  op: number;
  sums: Record<string, TableSum>;
}

function readLog(path: string): LogLine[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.endsWith('}'))
    .map((l) => JSON.parse(l) as LogLine);
}

describe.each(['sqlite', 'postgres'] as const)('a backup of a %s hub taken during random writes', (dialect) => {
  it('restores to the state right after one of the commits made while it ran', async (t) => {
    if (!(await requireDialect(dialect))) return t.skip();
    const seed = Number(process.env.BACKUP_SEED ?? Math.floor(Math.random() * 2 ** 31));
    const dir = mkdtempSync(join(tmpdir(), `crmlink-backup-random-${dialect}-`));
    dirs.push(dir);
    const db: TestDatabase = await createTestDatabase(dialect, 'bkrand');
    const hub = await Hub.open(parseConfig(JSON.stringify({ hub: { dialect, connection: db.connection }, sources: {} })));
    try {
      // Bulk the hub up (merge snapshots the writer never touches) so the backup takes many steps.
      const pad = 'p'.repeat(2000);
      for (let i = 0; i < 40; i++) {
        await hub.knex('crm_merge').insert(Array.from({ length: 250 }, (_, j) => ({ entity: 'Customer', survivor: `s${i}-${j}`, merged: `m${i}-${j}`, snapshot: pad, at: 'x', by: 'seed' })));
      }
      for (let i = 0; i < 200; i++) await hub.knex('crm_audit').insert({ at: 'seed', actor: `seed-${i}`, action: 'seed', entity: 'Customer', after: pad.slice(0, 100) });

      const log = join(dir, 'writer.log');
      const child = spawn(process.execPath, ['--import', 'tsx', WRITER, JSON.stringify({ dialect, connection: db.connection, seed, log })], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
      children.push(child);
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      try {
        await expect.poll(() => readLog(log).length, { timeout: 30_000, interval: 20 }).toBeGreaterThan(10);
        const opsAtStart = readLog(log).length;
        const entry = await takeBackup(hub, { dir: join(dir, 'backups'), pagesPerStep: 20 });
        const opsAtEnd = readLog(log).length;
        // Writes went on while the backup ran.
        expect(opsAtEnd, `seed ${seed}`).toBeGreaterThan(opsAtStart);
        await expect.poll(() => readLog(log).length, { timeout: 30_000, interval: 20 }).toBeGreaterThan(opsAtEnd + 5);
        child.kill('SIGTERM');
        expect(await exited, stderr).toBe(0);
        expect((await verifyBackup(entry.path, { dir: join(dir, 'backups') })).ok).toBe(true);
        await restoreBackup(hub, entry.path, { dir: join(dir, 'backups'), jobs: [] });
        const op = Number((await hub.knex('crm_counter').where({ name: 'writer' }).first())?.value);
        const lines = readLog(log);
        // A commit the backup could have seen: one made before it ended, and not before it started.
        expect(op, `seed ${seed}`).toBeGreaterThanOrEqual(opsAtStart);
        expect(op, `seed ${seed}`).toBeLessThanOrEqual(opsAtEnd);
        expect(await tableChecksums(hub.knex), `seed ${seed}, op ${op}`).toEqual(lines[op - 1].sums);
        expect(Number((await hub.knex('crm_merge').count({ n: '*' }))[0].n)).toBe(10_000);
      } finally {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
    } finally {
      await hub.destroy();
      await db.drop();
    }
  }, 120_000);
});
