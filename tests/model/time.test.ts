/**
 * The time rules one value at a time (model/time.ts): which text is a naive wall clock, which
 * values a driver hands back are instants, and how a wall clock is written. values.test.ts and
 * time-zones.test.ts cover zone conversion.
 */
import { describe, expect, it } from 'vitest';
import { Temporal } from 'temporal-polyfill';
import { assertTimeZone, dateTimeHint, formatNaive, isIsoDate, normalizeDateTime, parseNaive, toInstant, utcToZoned, zonedToUtc } from '../../model/time.js';

/** Epoch ms of a UTC wall clock in any year (Date.UTC reads years 0–99 as 1900–1999). */
function utc(year: number, month: number, day: number, hour = 0, minute = 0, second = 0, ms = 0): number {
  const d = new Date(Date.UTC(2000, 0, 1, hour, minute, second, ms));
  d.setUTCFullYear(year, month - 1, day);
  return d.getTime();
}

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
    ['2024-02-29 ', Date.UTC(2024, 1, 29), ''],
    [' 2024-02-29', Date.UTC(2024, 1, 29), ''],
    ['\t2024-02-29 08:30\n', Date.UTC(2024, 1, 29, 8, 30), ''],
    ['2024-02-29 08:30:00.0', Date.UTC(2024, 1, 29, 8, 30), '0'],
    ['2024-02-29 08:30:00.000', Date.UTC(2024, 1, 29, 8, 30), '000'],
    ['2024-12-31 23:59:59.999', Date.UTC(2024, 11, 31, 23, 59, 59, 999), '999'],
    // Years below 100 are those years, not 1900–1999 (SQL Server's smallest date is 0001-01-01).
    ['0001-01-01', utc(1, 1, 1), ''],
    ['0099-12-31 23:59:59', utc(99, 12, 31, 23, 59, 59), ''],
    ['0000-02-29 12:00', utc(0, 2, 29, 12), ''],
    ['0004-02-29', utc(4, 2, 29), ''],
    ['9999-12-31 23:59:59.999', Date.UTC(9999, 11, 31, 23, 59, 59, 999), '999'],
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
    // Characters just below and above the digits, in each number.
    '/024-02-29',
    '2024-:2-29',
    '2024-02-2/',
    '2024-02-29 /8:30',
    '2024-02-29 08::0',
    '2024-02-29 08:30:/9',
    '2024-02-29 08:30:59./',
    '2024-13-01',
    '2024-02-00',
    '2023-02-29',
    '0001-02-29',
    '0100-02-29',
    '2024/02-29',
    'x024-01-15',
  ])('refuses %j', (text) => expect(parseNaive(text)).toBeNull());
});

describe('values pasted from spreadsheets and exports', () => {
  // Excel, Google Sheets and ERP exports edge cells with a no-break space (U+00A0), an ideographic
  // space (U+3000) or a byte-order mark as often as with a blank: each is white space, trimmed
  // like a blank, at either end, in naive and in zoned text alike.
  it.each([
    ['\u00A02024-02-29 08:30', Date.UTC(2024, 1, 29, 8, 30)],
    ['2024-02-29 08:30\u00A0', Date.UTC(2024, 1, 29, 8, 30)],
    ['\u00A0\u00A02024-02-29\u00A0', Date.UTC(2024, 1, 29)],
    ['\u30002024-02-29 08:30:15\u3000', Date.UTC(2024, 1, 29, 8, 30, 15)],
    ['\uFEFF2024-02-29', Date.UTC(2024, 1, 29)],
    [' \u00A0\t2024-02-29 08:30\r\n', Date.UTC(2024, 1, 29, 8, 30)],
  ])('%j is a wall clock', (text, ms) => {
    expect(parseNaive(text)).toEqual({ ms, fraction: '' });
    expect(toInstant(text, 'UTC')).toBe(ms);
    expect(normalizeDateTime(text)).toBe(new Date(ms).toISOString());
  });

  it('reads zoned text edged with a no-break space as the instant it names', () => {
    expect(toInstant('\u00A02024-01-02T03:04:05+08:00\u00A0', 'America/New_York')).toBe(Date.UTC(2024, 0, 1, 19, 4, 5));
  });

  it('still refuses white space inside the value, and a date that is not a calendar day', () => {
    expect(parseNaive('2024-02-29\u00A008:30')).toBeNull();
    expect(parseNaive('2024-02-\u00A029')).toBeNull();
    expect(parseNaive('\u00A02024-02-30\u00A0')).toBeNull();
    expect(parseNaive('\u00A0')).toBeNull();
  });

  // An offset counts only where it ends the value. Text after it is mostly a zone name that can
  // disagree with the offset ("+08:00[Europe/Berlin]"), and Date.parse reads such text differently
  // from one engine to another: refused, with a hint saying what to change.
  it.each([
    '2024-01-02T03:04:05+08:00[Asia/Shanghai]',
    '2024-01-02 03:04:05Z (UTC)',
    '2024-01-02T03:04:05.123-0500 EST',
    'Tue Jan 02 2024 03:04:05 GMT+0800 (China Standard Time)',
    '2024-01-02 03:04 UTC+08:00 Beijing',
  ])('%j: not an instant, and the refusal says the offset must end the value', (text) => {
    expect(toInstant(text, 'UTC')).toBeNull();
    expect(normalizeDateTime(text)).toBeNull();
    expect(dateTimeHint(text)).toBe(': text follows its UTC offset; the offset must end the value (as in "2024-01-02T03:04:05+08:00")');
  });

  it.each([
    '2024-01-02T03:04:05+08:00',
    '2024-01-02T03:04:05+08:00\u00A0',
    '2024-01-02 03:04:05',
    '2024-01-02T03:04:05 PST',
    'not a time',
    '',
  ])('%j: no hint (an offset at the end, or no offset at all)', (text) => expect(dateTimeHint(text)).toBe(''));

  it('gives no hint for a value that is not text', () => {
    expect(dateTimeHint(12)).toBe('');
    expect(dateTimeHint(null)).toBe('');
  });
});

describe('toInstant (what a driver returns)', () => {
  it.each([
    [new Date(Date.UTC(2024, 0, 2, 3)), Date.UTC(2024, 0, 2, 3)],
    [new Date(Number.NaN), null],
    [1_700_000_000, 1_700_000_000_000],
    [-1_700_000_000, -1_700_000_000_000],
    [1_700_000_000_123, 1_700_000_000_123],
    [-1_700_000_000_123, -1_700_000_000_123],
    // Below 1e11 a number is seconds, from 1e11 on milliseconds (1e11 s would be the year 5138).
    [99_999_999_999, 99_999_999_999_000],
    [100_000_000_000, 100_000_000_000],
    [-99_999_999_999, -99_999_999_999_000],
    [-100_000_000_000, -100_000_000_000],
    [0, 0],
    [Number.POSITIVE_INFINITY, null],
    [Number.NaN, null],
    ['2024-01-02 03:04:05Z', Date.UTC(2024, 0, 2, 3, 4, 5)],
    ['2024-01-02T03:04:05-0130', Date.UTC(2024, 0, 2, 4, 34, 5)],
    ['2024-01-02T03:04:05z', Date.UTC(2024, 0, 2, 3, 4, 5)],
    ['2024-01-02T03:04:05+08:00', Date.UTC(2024, 0, 1, 19, 4, 5)],
    ['2024-01-02T03:04:05.250-05:00', Date.UTC(2024, 0, 2, 8, 4, 5, 250)],
    [' 2024-01-02 03:04:05+0800 ', Date.UTC(2024, 0, 1, 19, 4, 5)],
    ['2024-01-02T03:04:05+08:00 ', Date.UTC(2024, 0, 1, 19, 4, 5)],
    ['2024-01-02T03:04:05+8:00', null],
    ['2024-01-02T03:04:05 PST', null],
    ['2024-01-02T03:04:05Z+1', null],
    // Text Date.parse would read in the machine's own zone: not an instant.
    ['Tue, 02 Jan 2024 03:04:05', null],
    ['January 2, 2024', null],
    ['2024-01-02', Date.UTC(2024, 0, 1, 16)],
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

describe('zone conversion outside the usual years', () => {
  const offset = (ms: number, timeZone: string) => Temporal.Instant.fromEpochMilliseconds(ms).toZonedDateTimeISO(timeZone).offsetNanoseconds / 1e6;

  it.each([
    [0, 'Asia/Shanghai'],
    [1, 'Asia/Shanghai'],
    [1, 'America/New_York'],
    [99, 'Europe/Berlin'],
    [100, 'Australia/Lord_Howe'],
    [1899, 'Asia/Kolkata'],
  ])('year %i in %s: the zone’s local mean time both ways, as Temporal has it', (year, timeZone) => {
    for (const t of [utc(year, 1, 1), utc(year, 6, 30, 12, 30, 15, 250), utc(year, 12, 31, 23, 59, 59, 999)]) {
      const off = offset(t, timeZone);
      expect(utcToZoned(t, timeZone) - t).toBe(off);
      expect(zonedToUtc(t + off, timeZone)).toBe(t);
    }
  });

  it('reads a naive text of year 1 in a zone as that year', () => {
    expect(new Date(toInstant('0001-01-01 08:05:43', 'Asia/Shanghai')!).toISOString()).toBe('0001-01-01T00:00:00.000Z');
    expect(normalizeDateTime('0001-01-01 00:00:00')).toBe('0001-01-01T00:00:00.000Z');
  });
});

describe('assertTimeZone', () => {
  it('accepts an IANA zone and refuses an unknown one with a RangeError', () => {
    expect(() => assertTimeZone('Asia/Shanghai')).not.toThrow();
    expect(() => assertTimeZone('Mars/Olympus_Mons')).toThrow(RangeError);
    expect(() => toInstant('2024-01-02 03:04:05', 'Mars/Olympus_Mons')).toThrow(RangeError);
  });
});

describe('UTC and zones without a change of offset', () => {
  it.each(['UTC', 'Etc/UTC', 'Etc/GMT', 'Asia/Shanghai', 'Etc/GMT-8'])('%s: the same offset every day of a year, both ways', (timeZone) => {
    const fixed = timeZone.endsWith('UTC') || timeZone === 'Etc/GMT' ? 0 : 8 * 3_600_000;
    for (let t = Date.UTC(2024, 0, 1, 0, 30); t < Date.UTC(2025, 0, 1); t += 86_400_000 + 3_600_000) {
      expect(utcToZoned(t, timeZone)).toBe(t + fixed);
      expect(zonedToUtc(t + fixed, timeZone)).toBe(t);
    }
  });
});

describe('isIsoDate and normalizeDateTime', () => {
  it.each([
    ['2024-02-29', true],
    ['0001-01-01', true],
    ['2023-02-29', false],
    ['2024-02-29 00:00', false],
    ['2024-02-29T00:00:00Z', false],
    [' 2024-02-29', false],
    ['2024-2-29', false],
    ['24-02-29', false],
    ['20240-02-29', false],
    ['2024-02-290', false],
    ['２０２４-02-29', false],
  ])('isIsoDate(%j) is %s', (text, out) => expect(isIsoDate(text)).toBe(out));

  it('isIsoDate agrees with a regex and parseNaive on every day of 0000–0400 and 1899–2101, and on near misses', () => {
    const byRegex = (t: string) => /^\d{4}-\d{2}-\d{2}$/.test(t) && parseNaive(t) !== null;
    const texts: string[] = [];
    const years = [...Array.from({ length: 401 }, (_, i) => i), ...Array.from({ length: 203 }, (_, i) => 1899 + i)];
    for (const y of years) {
      for (let m = 0; m <= 13; m++) {
        for (let d = 0; d <= 32; d++) texts.push(`${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`);
      }
    }
    texts.push('2024-01-0a', '2024-0a-01', '202a-01-01', '2024/01/01', '2024-01-01\n', '2024-01-1 ', '+024-01-01', '2024-01-+1', '2024--1-01');
    for (const t of texts) expect(isIsoDate(t), t).toBe(byRegex(t));
  });

  it.each([
    ['2024-01-02 03:04:05', '2024-01-02T03:04:05.000Z'],
    ['2024-01-02', '2024-01-02T00:00:00.000Z'],
    [new Date(Date.UTC(2024, 0, 2)), '2024-01-02T00:00:00.000Z'],
    [1_700_000_000, '2023-11-14T22:13:20.000Z'],
    ['not a time', null],
    ['', null],
    [null, null],
    [{}, null],
  ])('normalizeDateTime(%j) is %j', (value, out) => expect(normalizeDateTime(value)).toBe(out));
});

describe('formatNaive', () => {
  it.each([
    [Date.UTC(2024, 1, 29, 8, 30), '2024-02-29 08:30:00'],
    [Date.UTC(2024, 1, 29, 8, 30, 1, 5), '2024-02-29 08:30:01.005'],
    [Date.UTC(2024, 1, 29, 8, 30, 1, 500), '2024-02-29 08:30:01.500'],
    [utc(1, 1, 1, 0, 0, 1), '0001-01-01 00:00:01'],
  ])('%i → %j', (ms, out) => expect(formatNaive(ms)).toBe(out));
});
