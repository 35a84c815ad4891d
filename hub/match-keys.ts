/**
 * Identity's match keys of the hub's customers (hub/tables.ts MATCH_KEY_COLUMNS): the live rows
 * that share a key with a page's rows, read through the keys' indexes in one statement, and the
 * keying of rows stored without keys (written by a process that derives none, inserted by hand, or
 * keyed by an older derivation). The keys themselves are derived above the hub (identity/), which
 * hands its derivation in as a MatchKeyDeriver.
 */
import type { Knex } from 'knex';
import type { Column, Statements } from './statements.js';
import { quoteIdentifier as quote } from './statements.js';
import { ENTITY_SYSTEM_COLUMNS as C, MATCH_KEY_COLUMNS as K } from './tables.js';

type Q = Knex | Knex.Transaction;

export type MatchKeyRule = 'creditCode' | 'name' | 'phone' | 'email';
export const MATCH_KEY_RULES: readonly MatchKeyRule[] = ['creditCode', 'name', 'phone', 'email'];
/** Rules whose keys a switchboard or a shared mailbox can make non-identifying. */
const CONTACT_RULES: readonly MatchKeyRule[] = ['phone', 'email'];

export type MatchKeys = Record<MatchKeyRule, string | null>;

/** How a record's values become its match keys; `version` changes whenever the derivation does. */
export interface MatchKeyDeriver {
  version: number;
  keys(values: Readonly<Record<string, unknown>>): MatchKeys;
}

/** A live customer as matching needs it: its id and the stored values its keys come from. */
export type MatchKeyRow = {
  id: string;
  name: string | null;
  creditCode: string | null;
  phone: string | null;
  email: string | null;
};

export interface MatchKeyLookup {
  rows: MatchKeyRow[];
  /** Contact keys (phone, e-mail) shared by more live rows than allowed: their rows are not read. */
  shared: { rule: MatchKeyRule; key: string }[];
}

/** The key columns an insert or update writes, in this order (see cellsOf). */
export const MATCH_KEY_WRITE_COLUMNS: Column[] = [
  ...MATCH_KEY_RULES.map((r) => ({ name: K[r], type: 'text' as const })),
  { name: K.version, type: 'integer' },
];

/** The cells of MATCH_KEY_WRITE_COLUMNS for `values`: unkeyed (version 0) without a deriver. */
export function matchKeyCells(deriver: MatchKeyDeriver | null, values: Readonly<Record<string, unknown>>): (string | number | null)[] {
  if (!deriver) return [null, null, null, null, 0];
  const keys = deriver.keys(values);
  return [keys.creditCode, keys.name, keys.phone, keys.email, deriver.version];
}

const VALUE_COLUMNS = `${quote(C.id)}, ${quote('name')}, ${quote('creditCode')}, ${quote('phone')}, ${quote('email')}`;

export class MatchKeyStore {
  private readonly lookups = new Map<string, string>();
  private readonly staleSql: string;
  private readonly rekeySql: string;
  private readonly rekeyColumns: Column[];

  constructor(
    private readonly statements: Statements,
    private readonly table: string,
  ) {
    this.staleSql = `SELECT ${VALUE_COLUMNS}, ${quote(C.version)} FROM ${quote(table)} WHERE ${quote(K.version)} < ${statements.param(1, 'integer')} LIMIT ${statements.param(2, 'integer')}`;
    const where: Column[] = [
      { name: C.id, type: 'text' },
      { name: C.version, type: 'integer' },
    ];
    this.rekeySql = statements.updateSql(table, MATCH_KEY_WRITE_COLUMNS, where, C.id);
    this.rekeyColumns = [...MATCH_KEY_WRITE_COLUMNS, ...where];
  }

  /**
   * Key up to `limit` rows keyed by an older derivation than the deriver's (or never); returns how
   * many were read. A row whose `_version` moved meanwhile is left for the next call.
   */
  async rekey(q: Q, deriver: MatchKeyDeriver, limit: number): Promise<number> {
    const rows = await this.statements.select<MatchKeyRow & Record<string, unknown>>(q, this.staleSql, [deriver.version, limit]);
    const cells = rows.map((r) => [...matchKeyCells(deriver, r), String(r[C.id]), Number(r[C.version])]);
    await this.statements.execute(q, this.rekeySql, this.rekeyColumns, cells);
    return rows.length;
  }

  /**
   * The live rows sharing at least one key of `keys` with them, in one statement (each rule's
   * branch through its column's index). A phone or e-mail key held by more than `maxShared` live
   * rows is reported in `shared` and its rows are not read (the matcher ignores such keys).
   */
  async lookup(q: Q, rules: readonly MatchKeyRule[], keys: Readonly<Record<MatchKeyRule, readonly string[]>>, maxShared: number): Promise<MatchKeyLookup> {
    const used = MATCH_KEY_RULES.filter((r) => rules.includes(r));
    const contact = used.filter((r) => CONTACT_RULES.includes(r));
    const params: unknown[] = [];
    for (const r of contact) params.push(this.statements.listParam(keys[r]), maxShared);
    for (const r of used) params.push(this.statements.listParam(keys[r]));
    const raw = await this.statements.select<Record<string, unknown>>(q, this.lookupSql(used, contact), params);
    const out: MatchKeyLookup = { rows: [], shared: [] };
    for (const r of raw) {
      if (r.shared_rule !== null && r.shared_rule !== undefined) out.shared.push({ rule: r.shared_rule as MatchKeyRule, key: String(r.shared_key) });
      else out.rows.push({ id: String(r[C.id]), name: text(r.name), creditCode: text(r.creditCode), phone: text(r.phone), email: text(r.email) });
    }
    return out;
  }

  /**
   * `WITH shared AS (contact keys over the limit) SELECT rows by key UNION … UNION ALL shared`:
   * one text per configured rule set, whatever the number of keys (list parameters).
   */
  private lookupSql(used: readonly MatchKeyRule[], contact: readonly MatchKeyRule[]): string {
    const cacheKey = used.join(',');
    const cached = this.lookups.get(cacheKey);
    if (cached) return cached;
    const st = this.statements;
    const t = quote(this.table);
    const live = `NOT ${quote(C.deleted)} AND ${quote(C.mergedInto)} IS NULL`;
    let n = 0;
    const sharedBranches = contact.map((r) => {
      const col = quote(K[r]);
      const inList = st.inList(K[r], 'text', ++n);
      return `SELECT '${r}' AS contact_rule, ${col} AS contact_key FROM ${t} WHERE ${live} AND ${inList} GROUP BY ${col} HAVING count(*) > ${st.param(++n, 'integer')}`;
    });
    const rowBranches = used.map((r) => {
      const col = quote(K[r]);
      const notShared = contact.includes(r) ? ` AND ${col} NOT IN (SELECT contact_key FROM shared WHERE contact_rule = '${r}')` : '';
      return `SELECT NULL AS shared_rule, NULL AS shared_key, ${VALUE_COLUMNS} FROM ${t} WHERE ${live} AND ${st.inList(K[r], 'text', ++n)}${notShared}`;
    });
    const sql =
      contact.length > 0
        ? `WITH shared AS (${sharedBranches.join(' UNION ALL ')}) ${rowBranches.join(' UNION ')} UNION ALL SELECT contact_rule, contact_key, NULL, NULL, NULL, NULL, NULL FROM shared`
        : rowBranches.join(' UNION ');
    this.lookups.set(cacheKey, sql);
    return sql;
  }
}

function text(v: unknown): string | null {
  return v === null || v === undefined ? null : String(v);
}
