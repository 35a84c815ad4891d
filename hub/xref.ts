/**
 * The cross-reference (crm_xref): which golden record (global id) each source key belongs to.
 */
import type { Knex } from 'knex';
import { columns, type Column, type Statements } from './statements.js';
import { rowReader } from './rows.js';
import { SYSTEM_TABLES as T } from './tables.js';

type Q = Knex | Knex.Transaction;

export interface XrefEntry {
  gid: string;
  rule: string | null;
}

export interface XrefRow {
  entity: string;
  source: string;
  source_key: string;
  gid: string;
  rule: string | null;
  linked_at: string;
}

export interface XrefLink {
  entity: string;
  source: string;
  sourceKey: string;
  gid: string;
  rule: string | null;
}

/**
 * The rule of a key a merge moved to the survivor. Such a key is the merged record's row, which an
 * unmerge gives back: a reference to the survivor is written as the survivor's own key when it has
 * one, or an unmerge would hand the referring row to the merged record.
 */
export const MERGED_KEY_RULE = 'merge';

const COLUMNS: Column[] = columns('entity', 'source', 'source_key', 'gid', 'rule', 'linked_at');
const readXrefRow: (r: Record<string, unknown>) => XrefRow = rowReader({ entity: 'text', source: 'text', source_key: 'text', gid: 'text', rule: 'text?', linked_at: 'text' });

export class XrefStore {
  private readonly upsert: string;
  private readonly byKeys: string;
  private readonly byGids: string;

  constructor(private readonly statements: Statements) {
    this.upsert = statements.upsertSql(T.xref, COLUMNS, ['entity', 'source', 'source_key'], ['gid', 'rule', 'linked_at']);
    const p = (n: number) => statements.param(n, 'text');
    const where = `entity = ${p(1)} AND source = ${p(2)}`;
    this.byKeys = `SELECT source_key, gid, rule FROM ${T.xref} WHERE ${where} AND ${statements.inList('source_key', 'text', 3)}`;
    this.byGids = `SELECT gid, source_key FROM ${T.xref} WHERE ${where} AND ${statements.inList('gid', 'text', 3)} ORDER BY gid, CASE WHEN rule = '${MERGED_KEY_RULE}' THEN 1 ELSE 0 END, linked_at, source_key`;
  }

  /** The golden record of each of these source keys (keys without one are absent). */
  async load(q: Q, entity: string, source: string, keys: readonly string[]): Promise<Map<string, XrefEntry>> {
    const out = new Map<string, XrefEntry>();
    await this.statements.selectIn<{ source_key: string; gid: string; rule: string | null }>(q, this.byKeys, [entity, source], keys, (r) => out.set(r.source_key, { gid: r.gid, rule: r.rule }));
    return out;
  }

  /** Source keys of each gid in one source: its own first, oldest link first, then keys a merge moved to it. */
  async keysByGid(q: Q, entity: string, source: string, gids: readonly string[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    await this.statements.selectIn<{ gid: string; source_key: string }>(q, this.byGids, [entity, source], gids, (r) => {
      const list = out.get(r.gid);
      if (list) list.push(r.source_key);
      else out.set(r.gid, [r.source_key]);
    });
    return out;
  }

  /** Every xref row of one record, by source and key. */
  async ofRecord(q: Q, entity: string, gid: string): Promise<XrefRow[]> {
    const rows = (await q(T.xref).where({ entity, gid }).orderBy(['source', 'source_key'])) as Record<string, unknown>[];
    return rows.map(readXrefRow);
  }

  /** Link source keys to golden records (a key linked before moves to the new record). */
  async link(q: Q, links: readonly XrefLink[]): Promise<void> {
    const now = new Date().toISOString();
    const byKey = new Map(links.map((l) => [`${l.entity}\u0000${l.source}\u0000${l.sourceKey}`, l]));
    await this.statements.execute(
      q,
      this.upsert,
      COLUMNS,
      [...byKey.values()].map((l) => [l.entity, l.source, l.sourceKey, l.gid, l.rule, now]),
    );
  }

  /** Move every source key of `from` to `to` (a merge), marked as moved (an unmerge restores the rule). */
  async moveAll(q: Q, entity: string, from: string, to: string): Promise<void> {
    await q(T.xref).where({ entity, gid: from }).update({ gid: to, rule: MERGED_KEY_RULE });
  }

  /**
   * Put an xref row back as it was (an unmerge) when it still belongs to `expectedGid`. Returns
   * the gid it belongs to now when it does not (null: the row is gone).
   */
  async restore(q: Q, row: XrefRow, expectedGid: string): Promise<{ restored: true } | { restored: false; gid: string | null }> {
    const key = { entity: row.entity, source: row.source, source_key: row.source_key };
    const cur = (await q(T.xref).where(key).first()) as { gid: string } | undefined;
    if (!cur || cur.gid !== expectedGid) return { restored: false, gid: cur?.gid ?? null };
    await q(T.xref).where(key).update({ gid: row.gid, rule: row.rule, linked_at: row.linked_at });
    return { restored: true };
  }

  /** Drop the links of these source keys (an undelete whose rows are gone: the push links the rows it inserts again). */
  async unlink(q: Q, entity: string, source: string, keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 500) await q(T.xref).where({ entity, source }).whereIn('source_key', keys.slice(i, i + 500)).del();
  }

  /** Golden records (of `gids`) that already have a key of this source. */
  async gidsWithKeys(q: Q, entity: string, source: string, gids: readonly string[]): Promise<Set<string>> {
    return new Set((await this.keysByGid(q, entity, source, gids)).keys());
  }
}
