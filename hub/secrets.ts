/**
 * Secrets the hub keeps for itself, e.g. the key of the version of a federated record (a keyed MAC
 * of its values, so the version says nothing about values a role cannot see). Created once per
 * hub, at random, the first time one is asked for; every process on the same hub reads the same.
 * Not credentials: they never leave the hub and the server, and replacing one only makes the
 * versions clients hold stale.
 */
import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { SYSTEM_TABLES as T } from './tables.js';

/** The secret called `name` (32 random bytes), created when the hub has none yet. */
export async function hubSecret(knex: Knex | Knex.Transaction, name: string): Promise<Buffer> {
  const read = async () => ((await knex(T.secret).where({ name }).first()) as { value: string } | undefined)?.value;
  let value = await read();
  if (value === undefined) {
    // Two processes starting together: the first insert wins, both read it back.
    await knex(T.secret).insert({ name, value: randomBytes(32).toString('base64') }).onConflict('name').ignore();
    value = await read();
  }
  if (value === undefined) throw new Error(`hub secret ${name} could not be stored`);
  return Buffer.from(value, 'base64');
}
