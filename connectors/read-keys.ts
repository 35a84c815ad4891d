/**
 * Which of a list of keys still have a row, over any connector's `select`: the key columns only,
 * one statement per chunk of keys. File connectors use it as their `readKeys`; a plugin may too.
 * SQL drivers have their own (KnexDriver.readKeys: chunks sized to the dialect's parameter limit).
 */
import type { Connector } from './connector.js';
import type { KeyValues, ReadKeysOptions, Where } from './types.js';
import { selectFiltered } from './filter.js';

/** Keys per statement when the connector states no limit. */
export const READ_KEYS_CHUNK = 1000;

/** The Where selecting exactly these keys: `key IN (...)`, or an OR of ANDs for a composite key. */
export function whereKeys(key: readonly string[], keys: readonly KeyValues[]): Where {
  if (key.length === 1) return { column: key[0], op: 'in', value: keys.map((k) => k[0]) };
  return { or: keys.map((k) => ({ and: key.map((column, i) => ({ column, op: 'eq' as const, value: k[i] })) })) };
}

export async function readKeysBySelect(connector: Connector, opts: ReadKeysOptions, chunk = READ_KEYS_CHUNK): Promise<KeyValues[]> {
  const out: KeyValues[] = [];
  for (let i = 0; i < opts.keys.length; i += chunk) {
    opts.signal?.throwIfAborted();
    const byKey = whereKeys(opts.key, opts.keys.slice(i, i + chunk));
    const rows = await selectFiltered(connector, { table: opts.table, schema: opts.schema, columns: opts.key, where: opts.where ? { and: [opts.where, byKey] } : byKey, signal: opts.signal });
    for (const r of rows) out.push(opts.key.map((k) => r[k]));
  }
  return out;
}
