import { describe, expect, it } from 'vitest';
import { DatabaseError, RowError } from '../../core/errors.js';
import { isTransient, withRetry } from '../../sync/retry.js';

describe('isTransient', () => {
  it.each([
    ['a DB_TRANSIENT error', new DatabaseError('DB_TRANSIENT', 'x')],
    ['a PostgreSQL serialization failure', Object.assign(new Error('could not serialize'), { code: '40001' })],
    ['a PostgreSQL deadlock', Object.assign(new Error('deadlock detected'), { code: '40P01' })],
    ['a MariaDB deadlock', Object.assign(new Error('Deadlock found'), { errno: 1213 })],
    ['a MariaDB lock wait timeout', Object.assign(new Error('Lock wait timeout'), { errno: 1205 })],
    ['a reset connection', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })],
    ['a busy SQLite', Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' })],
    ['a wrapped one', new Error('outer', { cause: Object.assign(new Error('inner'), { code: '40001' }) })],
  ])('retries %s', (_what, err) => expect(isTransient(err)).toBe(true));

  it.each([
    ['a constraint violation', Object.assign(new Error('duplicate key'), { code: '23505' })],
    ['a rejected row', new RowError('ROW_REJECTED', 'too long')],
    ['a DB_ERROR', new DatabaseError('DB_ERROR', 'syntax')],
    ['a bug', new TypeError('x is undefined')],
  ])('does not retry %s', (_what, err) => expect(isTransient(err)).toBe(false));
});

describe('withRetry', () => {
  it('retries transient failures with backoff, telling the attempt number', async () => {
    const attempts: number[] = [];
    const out = await withRetry(
      async (attempt) => {
        attempts.push(attempt);
        if (attempt < 3) throw new DatabaseError('DB_TRANSIENT', 'deadlock');
        return 'done';
      },
      { minTimeout: 1 },
    );
    expect(out).toBe('done');
    expect(attempts).toEqual([1, 2, 3]);
  });

  it('gives up on a permanent failure at once, with the original error', async () => {
    let calls = 0;
    const err = new RowError('ROW_REJECTED', 'bad row');
    await expect(
      withRetry(async () => {
        calls++;
        throw err;
      }),
    ).rejects.toBe(err);
    expect(calls).toBe(1);
  });

  it('gives up after the configured retries', async () => {
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw new DatabaseError('DB_TRANSIENT', 'still down');
        },
        { retries: 2, minTimeout: 1 },
      ),
    ).rejects.toThrow('still down');
    expect(calls).toBe(3);
  });

  it('stops retrying when aborted', async () => {
    const c = new AbortController();
    let calls = 0;
    const p = withRetry(
      async () => {
        calls++;
        c.abort(new Error('stopping'));
        throw new DatabaseError('DB_TRANSIENT', 'x');
      },
      { signal: c.signal, minTimeout: 50 },
    );
    await expect(p).rejects.toThrow('stopping');
    expect(calls).toBe(1);
  });
});
