/**
 * A job never overlaps itself, in this process or another one sharing the hub.
 *
 * - PostgreSQL hub: a session advisory lock, `pg_try_advisory_lock(hashtext('crmlink:job:<name>'))`,
 *   held on one connection set aside for the whole run. If the process dies the server closes the
 *   session and the lock goes with it: nothing to expire.
 * - SQLite hub: a crm_lock row with an expiry, renewed while the run lasts, plus a process-local
 *   mutex (the row alone would let two runs in one process race on the same check). A row left by
 *   a process that no longer exists on this machine is taken over at once rather than waiting for
 *   the expiry, so a crashed run can be resumed right away.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { SYSTEM_TABLES as T } from './tables.js';

export interface JobLock {
  readonly name: string;
  /** host:pid:random, also stored in crm_lock on SQLite. */
  readonly holder: string;
  release(): Promise<void>;
}

export interface LockOptions {
  /** SQLite: how long a lock row lives without renewal. Default 120 s. */
  ttlSeconds?: number;
}

const local = new Set<string>();

export function lockName(job: string): string {
  return `crmlink:job:${job}`;
}

export function newHolder(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

/** What taking a lock needs of the hub (the Hub class has it; a type of its own keeps hub.ts ↔ locks.ts acyclic). */
export interface LockingHub {
  readonly dialect: 'sqlite' | 'postgres';
  readonly knex: Knex;
}

/** Take the job's lock, or null when another run holds it. */
export async function tryLockJob(hub: LockingHub, job: string, opts: LockOptions = {}): Promise<JobLock | null> {
  return tryLockNamed(hub, lockName(job), opts);
}

export function entityLockName(entity: string): string {
  return `crmlink:entity:${entity}`;
}

/**
 * Take an entity's lock, or null when a run of some job on that entity holds it. Pulls of two jobs
 * on one entity must not interleave: each links new source rows against the hub's records as its
 * run saw them, so both would create the same new customer.
 */
export async function tryLockEntity(hub: LockingHub, entity: string, opts: LockOptions = {}): Promise<JobLock | null> {
  return tryLockNamed(hub, entityLockName(entity), opts);
}

function tryLockNamed(hub: LockingHub, name: string, opts: LockOptions): Promise<JobLock | null> {
  return hub.dialect === 'postgres' ? tryPgLock(hub.knex, name) : trySqliteLock(hub.knex, name, opts.ttlSeconds ?? 120);
}

async function tryPgLock(knex: Knex, name: string): Promise<JobLock | null> {
  const holder = newHolder();
  // A dedicated connection: advisory locks belong to the session, and the pool would otherwise
  // hand this connection to someone else (or unlock on a different one).
  const conn: unknown = await knex.client.acquireConnection();
  let kept = false;
  try {
    const res = await knex.raw('select pg_try_advisory_lock(hashtext(?)) as ok', [name]).connection(conn);
    const ok = Boolean((res as { rows: { ok: boolean }[] }).rows[0]?.ok);
    if (!ok) return null;
    kept = true;
  } finally {
    if (!kept) await knex.client.releaseConnection(conn);
  }
  return lockHandle(name, holder, async () => {
    try {
      await knex.raw('select pg_advisory_unlock(hashtext(?))', [name]).connection(conn);
    } finally {
      await knex.client.releaseConnection(conn);
    }
  });
}

async function trySqliteLock(knex: Knex, name: string, ttlSeconds: number): Promise<JobLock | null> {
  const localKey = `${knexId(knex)}:${name}`;
  if (local.has(localKey)) return null;
  local.add(localKey);
  const holder = newHolder();
  try {
    const taken = await knex.transaction(async (trx) => {
      // Write first, so the transaction takes SQLite's write lock at once (waiting busy_timeout for
      // another process's writer) instead of reading and then failing to upgrade (SQLITE_BUSY).
      await trx.raw(`update ${T.lock} set expires_at = expires_at where 1 = 0`);
      const row = (await trx(T.lock).where({ name }).first()) as { holder: string; expires_at: string } | undefined;
      const now = new Date();
      if (row && row.expires_at > now.toISOString() && !holderIsGone(row.holder)) return false;
      const values = { holder, acquired_at: now.toISOString(), expires_at: new Date(now.getTime() + ttlSeconds * 1000).toISOString() };
      if (row) await trx(T.lock).where({ name }).update(values);
      else await trx(T.lock).insert({ name, ...values });
      return true;
    });
    if (!taken) {
      local.delete(localKey);
      return null;
    }
  } catch (err) {
    local.delete(localKey);
    throw err;
  }
  // Renew well before expiry; unref so a forgotten lock never keeps the process alive.
  const timer = setInterval(() => {
    const expires = new Date(Date.now() + ttlSeconds * 1000).toISOString();
    knex(T.lock)
      .where({ name, holder })
      .update({ expires_at: expires })
      .catch(() => undefined);
  }, Math.max(1000, (ttlSeconds * 1000) / 3));
  timer.unref();
  return lockHandle(name, holder, async () => {
    clearInterval(timer);
    try {
      await knex(T.lock).where({ name, holder }).delete();
    } finally {
      local.delete(localKey);
    }
  });
}

/** A held lock whose release runs `free` once, however often it is called. */
function lockHandle(name: string, holder: string, free: () => Promise<void>): JobLock {
  let released = false;
  return {
    name,
    holder,
    release: async () => {
      if (released) return;
      released = true;
      await free();
    },
  };
}

/** A holder on this host whose process is gone (crashed run). */
function holderIsGone(holder: string): boolean {
  const [host, pid] = holder.split(':');
  if (host !== hostname() || !pid) return false;
  const n = Number(pid);
  if (!Number.isInteger(n) || n <= 0) return false;
  // This process, and the local mutex (checked first) says no run here holds it: a leftover.
  if (n === process.pid) return true;
  try {
    process.kill(n, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

const ids = new WeakMap<Knex, number>();
let nextId = 1;
function knexId(knex: Knex): string {
  // Two App instances on the same SQLite file are two knex instances: key the mutex by the file.
  const conn = knex.client.config?.connection as { filename?: string } | undefined;
  if (conn?.filename && conn.filename !== ':memory:') return conn.filename;
  let id = ids.get(knex);
  if (id === undefined) {
    id = nextId++;
    ids.set(knex, id);
  }
  return `knex${id}`;
}
