/** Shared by the randomized backup test and its writer process: a seeded PRNG and table checksums. */
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';

/** The tables the writer changes, with their keys. */
export const WRITTEN_TABLES: Record<string, string[]> = {
  crm_audit: ['id'],
  crm_xref: ['entity', 'source', 'source_key'],
  crm_counter: ['name'],
};

export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
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
