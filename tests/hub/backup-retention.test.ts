/** Retention (keep N daily, M weekly, the newest `last`) on literal dates. */
import { describe, expect, it } from 'vitest';
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
