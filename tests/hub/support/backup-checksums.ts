/** Shared by the randomized backup test and its writer process: a seeded PRNG and table checksums. */
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { Random } from '../../../demo/random.js';

/** The tables the writer changes, with their keys. */
export const WRITTEN_TABLES: Record<string, string[]> = {
  crm_audit: ['id'],
  crm_xref: ['entity', 'source', 'source_key'],
  crm_counter: ['name'],
};

/** A seeded stream of floats in [0, 1): the demo's mulberry32 (demo/random.ts). */
export function prng(seed: number): () => number {
  const random = new Random(seed);
  return () => random.next();
}

export interface TableSum {
  rows: number;
  sha256: string;
}

/** Row count and sha256 of every written table's rows in key order. */
export async function tableChecksums(knex: Knex | Knex.Transaction): Promise<Record<string, TableSum>> {
  const out: Record<string, TableSum> = {};
  for (const [table, key] of Object.entries(WRITTEN_TABLES)) {
    const rows = (await knex(table).orderBy(key.map((column) => ({ column })))) as Record<string, unknown>[];
    const hash = createHash('sha256');
    for (const r of rows) hash.update(JSON.stringify(Object.keys(r).sort().map((k) => [k, r[k] === null ? null : String(r[k])])) + '\n');
    out[table] = { rows: rows.length, sha256: hash.digest('hex') };
  }
  return out;
}
