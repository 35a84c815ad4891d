/** Retention (keep N daily, M weekly, the newest `last`) on literal dates; leftovers of interrupted backups. */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { removeLeftovers } from '../../hub/backup/files.js';
import { isoWeek, keepOf, retained } from '../../hub/backup/index.js';

const at = (iso: string) => ({ name: iso, createdAt: iso });

describe('backup retention', () => {
  it('keeps the newest of each of the last N days and M ISO weeks, plus the newest `last`', () => {
    const backups = [
      at('2026-11-20T02:00:00.000Z'), // Friday, week 47
      at('2026-11-27T02:00:00.000Z'), // Friday, week 48
      at('2026-11-30T02:00:00.000Z'), // Monday, week 49
      at('2026-12-03T02:00:00.000Z'), // Thursday, week 49
      at('2026-12-05T02:00:00.000Z'), // Saturday, week 49
      at('2026-12-06T02:00:00.000Z'), // Sunday, week 49
      at('2026-12-06T14:00:00.000Z'), // Sunday again
      at('2026-12-07T02:00:00.000Z'), // Monday, week 50
    ];
    expect([...retained(backups, { last: 1, daily: 3, weekly: 3 })].sort()).toEqual([
      '2026-11-27T02:00:00.000Z', // newest of week 48
      '2026-12-05T02:00:00.000Z', // 3rd day
      '2026-12-06T14:00:00.000Z', // newest of the 6th, and of week 49
      '2026-12-07T02:00:00.000Z', // newest, newest of its day and week
    ]);
    expect([...retained(backups, { last: 2, daily: 0, weekly: 0 })].sort()).toEqual(['2026-12-06T14:00:00.000Z', '2026-12-07T02:00:00.000Z']);
  });

  it('always keeps the newest backup, and reads a number as "the newest N"', () => {
    expect([...retained([at('2026-01-01T00:00:00.000Z'), at('2026-01-02T00:00:00.000Z')], { last: 0, daily: 0, weekly: 0 })]).toEqual(['2026-01-02T00:00:00.000Z']);
    expect(keepOf(3)).toEqual({ last: 3, daily: 0, weekly: 0 });
  });

  it('numbers ISO weeks across a year boundary', () => {
    expect(isoWeek(new Date('2026-12-31T12:00:00Z'))).toBe('2026-W53');
    expect(isoWeek(new Date('2027-01-03T12:00:00Z'))).toBe('2026-W53');
    expect(isoWeek(new Date('2027-01-04T12:00:00Z'))).toBe('2027-W01');
    expect(isoWeek(new Date('2025-12-29T12:00:00Z'))).toBe('2026-W01');
  });
});

describe('leftovers of interrupted backups', () => {
  it('are removed: partial data, journals and manifests, and data without a manifest; complete backups and foreign files stay', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crmlink-leftovers-'));
    try {
      const files = [
        'hub-20261207T020000123Z-3f9a.db',
        'hub-20261207T020000123Z-3f9a.db.manifest.json',
        'hub-20261207T030000123Z-before-restore.db.partial',
        'hub-20261207T030000123Z-before-restore.db.partial-journal',
        'hub-20261207T040000123Z-aaaa.dump.partial',
        'hub-20261207T050000123Z-bbbb.db',
        'hub-20261207T050000123Z-bbbb.db.manifest.json.partial',
        'notes.txt',
      ];
      for (const f of files) writeFileSync(join(dir, f), 'x');
      expect((await removeLeftovers(dir)).sort()).toEqual(files.slice(2, 7).sort());
      expect(readdirSync(dir).sort()).toEqual([files[0], files[1], 'notes.txt'].sort());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
