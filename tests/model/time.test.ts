/**
 * The time rules one value at a time (model/time.ts): which text is a naive wall clock, which
 * values a driver hands back are instants, and how a wall clock is written. values.test.ts and
 * time-zones.test.ts cover zone conversion.
 */
import { describe, expect, it } from 'vitest';
import { formatNaive, parseNaive, toInstant } from '../../model/time.js';

describe('parseNaive', () => {
  it.each([
    ['2024-02-29', Date.UTC(2024, 1, 29), ''],
    [' 2024-02-29 ', Date.UTC(2024, 1, 29), ''],
    ['2024-02-29 08:30', Date.UTC(2024, 1, 29, 8, 30), ''],
    ['2024-02-29T23:59:59', Date.UTC(2024, 1, 29, 23, 59, 59), ''],
    ['2024-02-29 23:59:59.5', Date.UTC(2024, 1, 29, 23, 59, 59, 500), '5'],
    ['2024-02-29 23:59:59.12', Date.UTC(2024, 1, 29, 23, 59, 59, 120), '12'],
    ['2024-02-29 23:59:59.123456789', Date.UTC(2024, 1, 29, 23, 59, 59, 123), '123456789'],
    ['1999-12-31 00:00:00', Date.UTC(1999, 11, 31), ''],
  ])('%j is the wall clock %i (fraction %j)', (text, ms, fraction) => expect(parseNaive(text)).toEqual({ ms, fraction }));

  it.each([
    '',
    '2024-02-2',
    '2024/02/29',
    '2024-02/29',
    'x024-02-29',
    '2024-x2-29',
    '2024-02-x9',
    '2024-02-30',
    '2024-04-31',
    '2024-00-10',
    '2024-02-29x08:30',
    '2024-02-29 08:3',
    '2024-02-29 08-30',
    '2024-02-29 x8:30',
    '2024-02-29 08:x0',
    '2024-02-29 08:30x',
    '2024-02-29 08:30:5',
    '2024-02-29 08:30-59',
    '2024-02-29 08:30:x9',
    '2024-02-29 08:30:59x1',
    '2024-02-29 08:30:59.',
    '2024-02-29 08:30:59.1234567890',
    '2024-02-29 08:30:59.12x',
  ])('refuses %j', (text) => expect(parseNaive(text)).toBeNull());
});

describe('toInstant (what a driver returns)', () => {
  it.each([
    [new Date(Date.UTC(2024, 0, 2, 3)), Date.UTC(2024, 0, 2, 3)],
    [new Date(Number.NaN), null],
    [1_700_000_000, 1_700_000_000_000],
    [-1_700_000_000, -1_700_000_000_000],
    [1_700_000_000_123, 1_700_000_000_123],
    [-1_700_000_000_123, -1_700_000_000_123],
    [Number.POSITIVE_INFINITY, null],
    [Number.NaN, null],
    ['2024-01-02 03:04:05Z', Date.UTC(2024, 0, 2, 3, 4, 5)],
    ['2024-01-02T03:04:05-0130', Date.UTC(2024, 0, 2, 4, 34, 5)],
    ['2024-01-02T03:04:05z', Date.UTC(2024, 0, 2, 3, 4, 5)],
    ['2024-01-32T03:04:05Z', null],
    ['tomorrow Z', null],
    ['+08:00', null],
    [true, null],
    [null, null],
  ])('%j → %j', (value, out) => expect(toInstant(value, 'Asia/Shanghai')).toBe(out));

  it('reads a naive text as a wall clock in the zone given', () => {
    expect(toInstant('2024-07-01 12:00', 'America/New_York')).toBe(Date.UTC(2024, 6, 1, 16));
    expect(toInstant('2024-07-01 12:00', 'UTC')).toBe(Date.UTC(2024, 6, 1, 12));
    expect(toInstant('2024-07-01 12:00', 'Etc/UTC')).toBe(Date.UTC(2024, 6, 1, 12));
  });
});

describe('formatNaive', () => {
  it.each([
    [Date.UTC(2024, 1, 29, 8, 30), '2024-02-29 08:30:00'],
    [Date.UTC(2024, 1, 29, 8, 30, 1, 5), '2024-02-29 08:30:01.005'],
  ])('%i → %j', (ms, out) => expect(formatNaive(ms)).toBe(out));
});
