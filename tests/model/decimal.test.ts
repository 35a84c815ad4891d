/**
 * The decimal rules one value at a time (model/decimal.ts): which text is a decimal, its canonical
 * form, rounding, the digits a column must hold, and values an engine hands back. The property
 * tests in values.test.ts check the same rules against decimal.js over generated values.
 */
import { describe, expect, it } from 'vitest';
import { decimalFromDb, decimalPlaces, integerDigits, isPlainDecimal, normalizeDecimal, roundDecimal, toDecimalString } from '../../model/decimal.js';

describe('isPlainDecimal', () => {
  it.each(['1', '12', '-1.5', '+3.', '.5', '.55', '12.50', ' 2 ', '007'])('accepts %j', (s) => expect(isPlainDecimal(s)).toBe(true));
  it.each(['', '-', '.', '+.', '1e3', '1,000', 'abc', '.a', 'a.5', '1.2.3', '1.5x', '--1'])('refuses %j', (s) => expect(isPlainDecimal(s)).toBe(false));
});

describe('normalizeDecimal', () => {
  it.each([
    ['1.50', '1.5'],
    ['007', '7'],
    ['-0.0', '0'],
    ['+3', '3'],
    ['-.50', '-0.5'],
    ['0.010', '0.01'],
    ['100', '100'],
    ['1e3', '1000'],
    ['12E-3', '0.012'],
    ['.55e2', '55'],
    ['-1.5e+1', '-15'],
    ['0e5', '0'],
  ])('%j → %j', (input, out) => expect(normalizeDecimal(input)).toBe(out));

  it.each(['1.a1', '0.x1', '-1.b2', 'x1e3', '1e3x', '1e', 'e3', '1.5x', ''])('refuses %j with a RangeError naming it', (s) => {
    expect(() => normalizeDecimal(s)).toThrow(RangeError);
    expect(() => normalizeDecimal(s)).toThrow(`not a decimal: ${s}`);
  });

  it('takes numbers and bigints', () => {
    expect(normalizeDecimal(1.25)).toBe('1.25');
    expect(normalizeDecimal(12345678901234567890n)).toBe('12345678901234567890');
    expect(() => normalizeDecimal(Number.NaN)).toThrow(RangeError);
  });
});

describe('toDecimalString (values read from a source)', () => {
  it.each([
    [' 1,234.50 ', '1234.5'],
    ['1,234', '1234'],
    [2.5, '2.5'],
    [10n, '10'],
  ])('%s → %s', (input, out) => expect(toDecimalString(input)).toBe(out));
  it.each([['x'], [true], [null], [{}], ['1,2x']])('%j is not a decimal', (input) => expect(toDecimalString(input)).toBeNull());
});

describe('roundDecimal', () => {
  it.each([
    ['12', 2, '12'],
    ['1.5', 2, '1.5'],
    ['1.25', 2, '1.25'],
    ['1.255', 2, '1.26'],
    ['1.254', 2, '1.25'],
    ['-1.255', 2, '-1.26'],
    ['0.005', 2, '0.01'],
    ['0.004', 2, '0'],
    ['9.995', 2, '10'],
    ['1.5', 0, '2'],
    ['12.345', 1, '12.3'],
  ])('%s to %i places → %s', (s, scale, out) => expect(roundDecimal(s, scale)).toBe(out));
});

describe('digits a column must hold', () => {
  it.each([
    ['1.25', 2],
    ['10', 0],
    ['-0.5', 1],
    ['1234.5678', 4],
  ])('%s has %i decimal places', (d, n) => expect(decimalPlaces(d)).toBe(n));

  it.each([
    ['-123.4', 3],
    ['0.5', 0],
    ['-0.5', 0],
    ['10', 2],
    ['1234.5678', 4],
    ['-7', 1],
  ])('%s has %i digits before the point', (d, n) => expect(integerDigits(d)).toBe(n));
});

describe('decimalFromDb (what an engine computed)', () => {
  it.each([
    [null, 2, null],
    [undefined, 2, null],
    [0.030000000000000002, 2, '0.03'],
    [1234.4900000000002, 2, '1234.49'],
    [0.1 + 0.2, undefined, '0.30000000000000004'],
    [Number.POSITIVE_INFINITY, 2, null],
    [Number.NaN, 2, null],
    [12n, 2, '12'],
    ['1234.560', 2, '1234.56'],
    [' 2.50 ', 2, '2.5'],
    ['1.5e2', 2, '150'],
    ['3.0000000000000001E-2', 2, '0.03'],
  ])('%s (scale %s) → %s', (v, scale, out) => expect(decimalFromDb(v, scale)).toBe(out));

  it('keeps a decimal the engine hands back as text exact, beyond what a double holds', () => {
    // PostgreSQL and MariaDB return numeric sums as text: rounding it through a JS number would
    // change the cents of a large total.
    expect(decimalFromDb('12345678901234567.89', 2)).toBe('12345678901234567.89');
    expect(decimalFromDb('-98765432109876543.21', 2)).toBe('-98765432109876543.21');
  });
});
