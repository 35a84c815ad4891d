/** model/: the one rule per value type (decimals, times, field checks), with literals and properties. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Decimal } from 'decimal.js';
import {
  addDecimals,
  canonicalFieldValue,
  coerceValue,
  decimalFromDb,
  fixedDecimal,
  isIsoDate,
  isPlainDecimal,
  normalizeDateTime,
  normalizeDecimal,
  parseNaive,
  roundDecimal,
  sameValue,
  toDecimalString,
  toInstant,
  valueProblem,
  zonedToUtc,
  zoneOffsetMs,
  ValueError,
  type ModelField,
} from '../../model/index.js';

describe('decimals: one canonical form', () => {
  it('normalises plain and exponent notation, numbers and bigints alike', () => {
    const cases: [string | number | bigint, string][] = [
      ['1500.00', '1500'],
      [' +007.50 ', '7.5'],
      ['-0.000', '0'],
      ['.5', '0.5'],
      ['5.', '5'],
      ['1.5e-7', '0.00000015'],
      [1e21, '1000000000000000000000'],
      [-12n, '-12'],
    ];
    for (const [input, canonical] of cases) expect(normalizeDecimal(input), String(input)).toBe(canonical);
    for (const bad of ['', '.', '1,5', '0x1F', 'Infinity', 'NaN', '1.2.3', '--1']) expect(() => normalizeDecimal(bad), bad).toThrow(RangeError);
    expect(() => normalizeDecimal(Number.NaN)).toThrow(RangeError);
  });

  it('reads source text leniently (separators, spaces) into the same form', () => {
    expect(toDecimalString(' 1,234.50 ')).toBe('1234.5');
    expect(toDecimalString('12abc')).toBeNull();
    expect(toDecimalString(true)).toBeNull();
    expect(isPlainDecimal('1e5')).toBe(false);
    expect(isPlainDecimal(' -1.50 ')).toBe(true);
  });

  it('agrees with decimal.js on the value of any spelling, and equal values are equal strings', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 28n), max: 10n ** 28n }), fc.integer({ min: 0, max: 12 }), fc.nat(3), fc.nat(3), (n, scale, lead, trail) => {
        const digits = (n < 0n ? -n : n).toString().padStart(scale + 1, '0');
        const body = scale ? `${digits.slice(0, -scale)}.${digits.slice(-scale)}` : digits;
        const text = `${n < 0n ? '-' : ''}${'0'.repeat(lead)}${body}${scale && trail ? '0'.repeat(trail) : ''}`;
        const canonical = normalizeDecimal(text);
        expect(new Decimal(canonical).equals(new Decimal(text))).toBe(true);
        expect(normalizeDecimal(canonical)).toBe(canonical);
        expect(normalizeDecimal(new Decimal(text).toExponential())).toBe(canonical);
        expect(sameValue(canonical, normalizeDecimal(new Decimal(text).toFixed(scale + trail)))).toBe(true);
      }),
    );
  });

  it('rounds half away from zero, pads, adds exactly and reads engine numbers back', () => {
    for (const [text, rounded] of [['2.345', '2.35'], ['-2.345', '-2.35'], ['9.995', '10'], ['-0.004', '0']]) expect(roundDecimal(text, 2)).toBe(rounded);
    expect([fixedDecimal('1.5', 2), fixedDecimal('2', 0)]).toEqual(['1.50', '2']);
    expect(addDecimals(['0.1', '0.2', '12345678901234567890.12'])).toBe('12345678901234567890.42');
    expect(addDecimals([])).toBe('0');
    expect(decimalFromDb(0.1 + 0.2, 2)).toBe('0.3');
    expect(decimalFromDb('1500.00')).toBe('1500');
    expect(decimalFromDb(null)).toBeNull();
  });
});

describe('times: one rule, offsets cached per zone and day', () => {
  const intlOffset = (ms: number, zone: string): number => {
    const parts = Object.fromEntries(
      new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' })
        .formatToParts(new Date(ms))
        .map((p) => [p.type, Number(p.value)]),
    );
    const whole = Math.floor(ms / 1000) * 1000;
    return Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second) - whole;
  };

  it('gives the offset Intl gives, including on transition days', () => {
    const zones = ['Asia/Shanghai', 'Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kathmandu', 'America/Sao_Paulo'];
    // 2024-03-31 01:00 UTC: Berlin springs forward; 2024-11-03 06:00 UTC: New York falls back.
    const fixed = [Date.UTC(2024, 2, 31, 0, 59, 59), Date.UTC(2024, 2, 31, 1, 0, 0), Date.UTC(2024, 10, 3, 5, 59, 59), Date.UTC(2024, 10, 3, 6, 0, 0)];
    for (const t of fixed) for (const z of zones) expect(zoneOffsetMs(t, z), `${z} ${new Date(t).toISOString()}`).toBe(intlOffset(t, z));
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(1990, 0, 1), max: Date.UTC(2040, 0, 1) }), fc.constantFrom(...zones), (t, z) => {
        expect(zoneOffsetMs(t, z)).toBe(intlOffset(t, z));
      }),
      { numRuns: 500 },
    );
  });

  it('turns wall clocks into instants; a gap moves forward, an overlap is its earlier instant (east and west alike)', () => {
    expect(zonedToUtc(Date.UTC(2024, 0, 2, 8, 0, 0), 'Asia/Shanghai')).toBe(Date.UTC(2024, 0, 2, 0, 0, 0));
    // 02:30 on 2024-03-31 does not exist in Berlin (→ 03:30 CEST); 02:30 on 2024-10-27 exists twice (→ the CEST one).
    expect(zonedToUtc(Date.UTC(2024, 2, 31, 2, 30), 'Europe/Berlin')).toBe(Date.UTC(2024, 2, 31, 1, 30));
    expect(zonedToUtc(Date.UTC(2024, 9, 27, 2, 30), 'Europe/Berlin')).toBe(Date.UTC(2024, 9, 27, 0, 30));
    // New York, west of Greenwich, by the same rule: 02:30 on 2024-03-10 → 03:30 EDT; 01:30 on 2024-11-03 → the EDT one.
    expect(zonedToUtc(Date.UTC(2024, 2, 10, 2, 30), 'America/New_York')).toBe(Date.UTC(2024, 2, 10, 7, 30));
    expect(zonedToUtc(Date.UTC(2024, 10, 3, 1, 30), 'America/New_York')).toBe(Date.UTC(2024, 10, 3, 5, 30));
    expect(toInstant('2024-01-02 08:00:00', 'Asia/Shanghai')).toBe(Date.UTC(2024, 0, 2, 0, 0, 0));
    expect(toInstant('2024-01-02T08:00:00+08:00', 'UTC')).toBe(Date.UTC(2024, 0, 2, 0, 0, 0));
    expect(toInstant(' 2024-01-02T00:00:00.5Z', 'UTC')).toBe(Date.UTC(2024, 0, 2, 0, 0, 0, 500));
  });

  it('parses naive wall clocks by shape and calendar', () => {
    expect(parseNaive('2024-02-29 23:59:59.1234')).toEqual({ ms: Date.UTC(2024, 1, 29, 23, 59, 59, 123), fraction: '1234' });
    expect(parseNaive('2024-02-29T08:30')?.ms).toBe(Date.UTC(2024, 1, 29, 8, 30));
    for (const bad of ['2023-02-29', '2024-13-01', '2024-1-01', '2024-01-01 8:00', '2024-01-01 08:00:0', '2024-01-01 08:00:00.', '2024-01-01 08:00:00Z', 'x']) {
      expect(parseNaive(bad), bad).toBeNull();
    }
    expect(isIsoDate('2024-02-29')).toBe(true);
    expect(isIsoDate('2023-02-29')).toBe(false);
    expect(normalizeDateTime('2024-01-02T03:04:05+01:00')).toBe('2024-01-02T02:04:05.000Z');
    expect(normalizeDateTime('yesterday')).toBeNull();
  });
});

describe('fields: what the hub accepts', () => {
  const status: ModelField = { name: 'status', type: 'enum', values: ['ACTIVE', 'INACTIVE'] };
  const limit: ModelField = { name: 'creditLimit', type: 'decimal', scale: 2 };
  const name: ModelField = { name: 'name', type: 'string', maxLength: 5, required: true };

  it('names the problem of a value that does not fit', () => {
    expect(valueProblem(status, 'ACTIVE')).toBeNull();
    expect(valueProblem(status, 'GONE')).toBe('is not one of ACTIVE, INACTIVE');
    expect(valueProblem(limit, '1.50')).toBe('is not a decimal in canonical form');
    expect(valueProblem(limit, '1'.repeat(29))).toBe('has more than 28 digits before the point');
    expect(valueProblem(name, '客户名称五')).toBeNull();
    expect(valueProblem(name, '客户名称六个')).toBe('is longer than 5 characters');
    expect(valueProblem({ name: 'n', type: 'int' }, 1.5)).toBe('is not an integer');
    expect(valueProblem({ name: 'd', type: 'date' }, '2024-02-30')).toBe('is not a date (YYYY-MM-DD)');
    expect(valueProblem({ name: 'b', type: 'boolean' }, 'yes')).toBe('is not true or false');
    expect(valueProblem(status, null)).toBeNull();
    expect(valueProblem({ name: 'at', type: 'datetime' }, 'soon')).toBe('is not a date-time');
    expect(valueProblem({ name: 'at', type: 'datetime' }, '2024-01-02T03:04:05+08:00[Asia/Shanghai]')).toBe(
      'is not a date-time: text follows its UTC offset; the offset must end the value (as in "2024-01-02T03:04:05+08:00")',
    );
  });

  it('coerces what a person typed, or says why not', () => {
    expect(() => coerceValue(limit, '1,000')).toThrow(/is not a decimal number/);
    expect(coerceValue(limit, '0100.50')).toBe('100.5');
    expect(coerceValue({ name: 'n', type: 'int' }, ' 42 ')).toBe(42);
    expect(coerceValue({ name: 'b', type: 'boolean' }, 'TRUE')).toBe(true);
    expect(coerceValue({ name: 'at', type: 'datetime' }, '2024-01-02 03:04:05')).toBe('2024-01-02T03:04:05.000Z');
    expect(coerceValue({ name: 'at', type: 'datetime' }, '\u00A02024-01-02 03:04:05\u00A0')).toBe('2024-01-02T03:04:05.000Z');
    expect(() => coerceValue({ name: 'at', type: 'datetime' }, '2024-01-02 03:04:05 GMT+0800 (CST)')).toThrow(/at: .* is not a date-time: text follows its UTC offset/);
    expect(() => coerceValue(name, null)).toThrow(ValueError);
    expect(() => coerceValue(status, 'GONE')).toThrow(/status: "GONE" is not one of/);
    expect(() => coerceValue(limit, 'lots')).toThrow(/is not a decimal number/);
  });

  it('reads stored values back in canonical form', () => {
    expect(canonicalFieldValue(limit, '1500.00')).toBe('1500');
    expect(canonicalFieldValue({ type: 'boolean' }, 1)).toBe(true);
    expect(canonicalFieldValue({ type: 'int' }, '7')).toBe(7);
    expect(canonicalFieldValue({ type: 'string' }, undefined)).toBeNull();
  });
});
