/**
 * Decimal text to whole units on a SQLite hub: short values go through a double, long ones are read
 * digit by digit; both give the exact count, digits past the scale dropped.
 */
import Database from 'better-sqlite3';
import { expect, test } from 'vitest';
import { productCents, units } from '../../analysis/sql.js';

const db = new Database(':memory:');
/** units() of one value: the expression names it as a column, so it is bound once. */
const at = (sql: string, v: unknown) => (db.prepare(`SELECT ${sql} AS n FROM (SELECT ? AS v)`).safeIntegers(true).get(v) as { n: bigint | null }).n;

test('units: exact for short and long text, negative values, whole numbers and extra digits', () => {
  const cases: [string | null, number, bigint | null][] = [
    [null, 2, null],
    ['0', 2, 0n],
    ['-12.5', 2, -1250n],
    ['99.99', 2, 9999n],
    ['0.07', 2, 7n],
    ['1234567.891', 4, 12345678910n],
    ['-7.3333', 4, -73333n],
    // Long: past the double's exact range at this scale.
    ['123456789012345.67', 2, 12345678901234567n],
    ['-98765432109876.54', 2, -9876543210987654n],
    // More decimals than the scale: dropped, as the digit reading does (not rounded).
    ['1.239', 2, 123n],
    ['-0.0099', 2, 0n],
  ];
  for (const [text, scale, expected] of cases) expect([text, at(units('sqlite', 'v', scale), text)]).toEqual([text, expected]);
});

test('productCents: quantity × unit amount rounded half away from zero', () => {
  db.exec('CREATE TABLE line (q TEXT, a TEXT)');
  const cents = (quantity: string, amount: string) => {
    db.prepare('DELETE FROM line').run();
    db.prepare('INSERT INTO line VALUES (?, ?)').run(quantity, amount);
    return (db.prepare(`SELECT ${productCents('sqlite', 'q', 'a')} AS n FROM line`).safeIntegers(true).get() as { n: bigint }).n;
  };
  expect(cents('10', '7.3333')).toBe(7333n);
  expect(cents('3', '2.5')).toBe(750n);
  expect(cents('1', '0.005')).toBe(1n);
  expect(cents('-1', '0.005')).toBe(-1n);
  expect(cents('12345678.1234', '2')).toBe(2469135625n);
});
