/**
 * Sync progress off a terminal (a scheduler's log, CI): a line at intervals, with the rate, the
 * rows left and the time left estimated from the source's count. On a terminal: one line redrawn
 * in place, with the same figures. The clock is moved by hand; through the real binary the
 * interval is 0 (`--progress-every 0`) so each page prints a line without waiting.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import knexFactory from 'knex';
import { describeProgress, formatDuration, syncProgress } from '../../cli/progress.js';
import type { ProgressEvent } from '../../sync/index.js';
import { CRMLINK_BIN, customerConfig, pullCustomersJob, tempDirForTests, writeConfig, writeCustomerErp } from '../support/cli.js';

const dir = tempDirForTests('progress');

const event = (done: number, estimated: number | null = 5000): ProgressEvent => ({ job: 'customers', phase: 'pull', source: 'erp', done, estimated });

describe('progress off a terminal', () => {
  test('a line every interval with rate, rows left and time left; nothing for a short run', () => {
    let t = 0;
    const out: string[] = [];
    const p = syncProgress({ tty: false, write: (s) => out.push(s), now: () => t, everyMs: 10_000 });
    p.update(event(100));
    t = 5_000;
    p.update(event(600));
    expect(out).toEqual([]);
    t = 10_000;
    p.update(event(1000));
    expect(out).toEqual(['progress: [####................] pull erp: 1000/5000 rows (20%), 100 rows/s, 4000 left, about 40 s left\n']);
    t = 15_000;
    p.update(event(1500));
    expect(out).toHaveLength(1);
    t = 20_000;
    p.update(event(3000));
    expect(out[1]).toBe('progress: [############........] pull erp: 3000/5000 rows (60%), 150 rows/s, 2000 left, about 14 s left\n');
    p.done();
    expect(out).toHaveLength(2);
  });

  test('without an estimate: the rate, and that the total is unknown', () => {
    expect(describeProgress(event(40, null), 8)).toBe('pull erp: 40 rows, 5.0 rows/s, total unknown');
  });

  test('durations read as a person would say them', () => {
    expect([formatDuration(12.2), formatDuration(245), formatDuration(7380)]).toEqual(['13 s', '4 min 05 s', '2 h 03 min']);
  });
});

describe('progress on a terminal', () => {
  test('one line redrawn in place with the ETA, cleared at the end', () => {
    let t = 0;
    const out: string[] = [];
    const p = syncProgress({ tty: true, write: (s) => out.push(s), now: () => t });
    p.update(event(0));
    t = 50;
    p.update(event(10));
    t = 2_000;
    p.update(event(1000));
    expect(out).toHaveLength(2);
    expect(out[1]).toBe('\r\x1b[2K[####................] pull erp: 1000/5000 rows (20%), 500 rows/s, 4000 left, about 8 s left');
    p.done();
    expect(out[2]).toBe('\r\x1b[2K');
  });
});

describe('crmlink sync run, not on a terminal', () => {
  beforeAll(async () => {
    await writeCustomerErp(dir, Array.from({ length: 250 }, (_, i) => ({ cCusCode: `C${String(i).padStart(4, '0')}`, cCusName: `客户${i}有限公司` })));
    const erp = knexFactory({ client: 'better-sqlite3', connection: { filename: join(dir, 'erp.db') }, useNullAsDefault: true });
    // The same customers with a modification time, for incremental runs (timestamp capture).
    await erp.schema.createTable('Stamped', (t) => {
      t.string('code').primary();
      t.string('name');
      t.string('modified');
    });
    // A day apart from 2024-01-01: the look-back window after the first load holds only the newest.
    await erp('Stamped').insert(Array.from({ length: 250 }, (_, i) => ({ code: `S${String(i).padStart(4, '0')}`, name: `客户${i}`, modified: new Date(Date.UTC(2024, 0, 1) + i * 86_400_000).toISOString().replace('T', ' ').slice(0, 19) })));
    await erp.destroy();
    writeConfig(
      dir,
      customerConfig({
        entities: ['  Contact:', '    sources:', '      erp: { table: Stamped, key: [code], changes: { strategy: timestamp, column: modified }, fields: { name: name } }'],
        rest: [...pullCustomersJob(', batchSize: 100'), '    stamped: { entity: Contact, sources: [erp], direction: pull, batchSize: 100 }'],
      }),
    );
  });

  test('prints progress lines with the count from the source, rows left and the rate', () => {
    const r = spawnSync(process.execPath, [CRMLINK_BIN, 'sync', 'run', 'customers', '--config', join(dir, 'crmlink.yaml'), '--progress-every', '0'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('progress: '));
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines[0]).toMatch(/^progress: \[#+\.*\] pull erp: 100\/250 rows \(40%\), (measuring rate|[\d.]+ rows\/s), 150 left/);
    expect(lines.at(-1)).toMatch(/pull erp: 250\/250 rows \(100%\), .*0 left/);
    expect(r.stderr).not.toContain('\r');
  });

  test('an incremental run (timestamp capture) counts the rows its sweep will read', async () => {
    const cli = (job: string) => spawnSync(process.execPath, [CRMLINK_BIN, 'sync', 'run', job, '--config', join(dir, 'crmlink.yaml'), '--progress-every', '0'], { encoding: 'utf8' });
    expect(cli('stamped').status).toBe(0);
    const erp = knexFactory({ client: 'better-sqlite3', connection: { filename: join(dir, 'erp.db') }, useNullAsDefault: true });
    await erp('Stamped').where('code', '<', 'S0120').update({ modified: '2026-01-01 00:00:00', name: erp.raw("name || '（改）'") });
    await erp.destroy();
    const r = cli('stamped');
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('progress: '));
    // 120 changed rows, and the newest unchanged one the look-back window reads again (and drops
    // as already delivered, so the first page carries 99 changes).
    expect(lines[0]).toMatch(/pull erp: \d+\/121 rows \(\d+%\)/);
    expect(lines.at(-1)).toMatch(/pull erp: \d+\/121 rows/);
    expect(r.stderr).not.toContain('total unknown');
  });
});
