import { afterEach, describe, expect, it, vi } from 'vitest';
import { DatabaseError, RowError } from '../../core/errors.js';
import { hubError, isTransient, withRetry } from '../../sync/retry.js';

/** A task for withRetry that throws `err` every time, counting its calls. */
function alwaysThrowing(err: Error): { run: () => Promise<never>; calls: number } {
  const task = {
    calls: 0,
    async run(): Promise<never> {
      task.calls++;
      throw err;
    },
  };
  return task;
}

describe('isTransient', () => {
  // Written out, not imported: removing a code from sync/retry.ts must fail here.
  it.each(['40001', '40P01', '55P03', '57P01', '57P02', '57P03', '53300', '08000', '08001', '08003', '08004', '08006', '57014'])(
    'retries PostgreSQL SQLSTATE %s',
    (code) => expect(isTransient(Object.assign(new Error('pg'), { code }))).toBe(true),
  );

  it.each([1213, 1205, 2006, 2013, 1040, 1053])('retries MariaDB errno %s', (errno) => expect(isTransient(Object.assign(new Error('mysql'), { errno }))).toBe(true));

  it.each([
    'ECONNRESET',
    'ECONNREFUSED',
    'ETIMEDOUT',
    'EPIPE',
    'EAI_AGAIN',
    'ESOCKET',
    'ETIMEOUT',
    'PROTOCOL_CONNECTION_LOST',
    'ER_LOCK_DEADLOCK',
    'ER_LOCK_WAIT_TIMEOUT',
    'SQLITE_BUSY',
    'SQLITE_LOCKED',
  ])('retries driver / Node code %s', (code) => expect(isTransient(Object.assign(new Error(code), { code }))).toBe(true));

  it.each([1205, 1222])('retries SQL Server number %s', (number) => expect(isTransient(Object.assign(new Error('mssql'), { number }))).toBe(true));

  it('retries a pool that timed out acquiring a connection', () => {
    expect(isTransient(Object.assign(new Error('Knex: Timeout acquiring a connection'), { name: 'KnexTimeoutError' }))).toBe(true);
  });

  it('follows causes up to five levels deep, not further', () => {
    const wrap = (e: unknown, n: number): unknown => (n === 0 ? e : wrap(new Error(`level ${n}`, { cause: e }), n - 1));
    const inner = Object.assign(new Error('deadlock'), { code: '40P01' });
    expect(isTransient(wrap(inner, 4))).toBe(true);
    expect(isTransient(wrap(inner, 5))).toBe(false);
  });

  it('takes a CrmlinkError at its word, even around a transient cause', () => {
    const permanent = new DatabaseError('DB_ERROR', 'x', {}, { cause: Object.assign(new Error('deadlock'), { code: '40P01' }) });
    expect(isTransient(permanent)).toBe(false);
  });

  it.each([
    ['a string', 'ECONNRESET'],
    ['null', null],
    ['a numeric code', Object.assign(new Error('x'), { code: 40001 })],
    ['a string errno', Object.assign(new Error('x'), { errno: '1213' })],
    ['a string SQL Server number', Object.assign(new Error('x'), { number: '1205' })],
    ['another SQL Server number', Object.assign(new Error('x'), { number: 2627 })],
  ])('does not retry %s', (_what, err) => expect(isTransient(err)).toBe(false));

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
    const err = new RowError('ROW_REJECTED', 'bad row');
    const task = alwaysThrowing(err);
    await expect(withRetry(task.run)).rejects.toBe(err);
    expect(task.calls).toBe(1);
  });

  it('gives up after the configured retries', async () => {
    const task = alwaysThrowing(new DatabaseError('DB_TRANSIENT', 'still down'));
    await expect(withRetry(task.run, { retries: 2, minTimeout: 1 })).rejects.toThrow('still down');
    expect(task.calls).toBe(3);
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

describe('withRetry backoff', () => {
  afterEach(() => vi.restoreAllMocks());

  /** Run with every backoff delay recorded and not waited for (the callback runs at once). */
  async function delaysOf(random: number, opts: Parameters<typeof withRetry>[1]) {
    const delays: number[] = [];
    const realSetTimeout = globalThis.setTimeout;
    vi.spyOn(Math, 'random').mockReturnValue(random);
    vi.spyOn(globalThis, 'setTimeout').mockImplementation(((fn: () => void, ms?: number) => {
      delays.push(ms ?? 0);
      return realSetTimeout(fn, 0);
    }) as typeof setTimeout);
    const retried: number[] = [];
    const task = alwaysThrowing(new DatabaseError('DB_TRANSIENT', 'down'));
    await expect(withRetry(task.run, { ...opts, onRetry: (_err, attempt) => retried.push(attempt) })).rejects.toThrow('down');
    return { delays, retried, calls: task.calls };
  }

  it('retries four times by default, from 100 ms, doubling each time', async () => {
    const r = await delaysOf(0, {});
    expect(r.calls).toBe(5);
    expect(r.delays).toEqual([100, 200, 400, 800]);
    // Told about each failure that is retried, not about the last one.
    expect(r.retried).toEqual([1, 2, 3, 4]);
  });

  it('spreads the delays (up to twice as long) so retrying workers do not collide', async () => {
    expect((await delaysOf(0.5, { retries: 2 })).delays).toEqual([150, 300]);
  });

  it('never waits more than 5 s between attempts', async () => {
    expect((await delaysOf(0, { retries: 8, minTimeout: 1000 })).delays).toEqual([1000, 2000, 4000, 5000, 5000, 5000, 5000, 5000]);
  });
});

describe('hubError', () => {
  it('says where a hub fault happened, keeps the cause, and says whether it is worth retrying', () => {
    const deadlock = Object.assign(new Error('deadlock detected'), { code: '40P01' });
    const t = hubError(deadlock, 'write golden records', { entity: 'Customer' });
    expect(t).toBeInstanceOf(DatabaseError);
    expect(t).toMatchObject({ code: 'DB_TRANSIENT', message: 'hub: write golden records: deadlock detected', context: { entity: 'Customer' } });
    expect(t.cause).toBe(deadlock);
    expect(t.transient).toBe(true);

    const p = hubError('disk full', 'save bases');
    expect(p).toMatchObject({ code: 'DB_ERROR', message: 'hub: save bases: disk full', context: {} });
    expect(p.transient).toBe(false);
  });

  it('passes a CrmlinkError through unchanged', () => {
    const e = new RowError('ROW_REJECTED', 'bad row');
    expect(hubError(e, 'anything')).toBe(e);
  });
});
