/**
 * The hub's statements, prepared once per table and kept: better-sqlite3 prepared statements on
 * SQLite (cached per connection and SQL text, run once per row inside the caller's transaction),
 * and named statements on PostgreSQL that take one array per column (`unnest`), so a whole page is
 * one statement whose text never changes with its size.
 *
 * Rows are arrays in column order (no object per row and field). Every statement runs on the
 * connection of the transaction it is given and is reported as a knex `query` event, so query
 * logging and the benchmarks' statement counts see it like any other.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Knex } from 'knex';

/** How a column's values travel as a PostgreSQL array parameter. */
export type ColumnType = 'text' | 'numeric' | 'bigint' | 'integer' | 'boolean' | 'real';

export interface Column {
  name: string;
  type: ColumnType;
}

export type HubDialect = 'sqlite' | 'postgres';

/** Columns by name, text unless given another type: `columns('entity', 'gid', { deleted: 'boolean' })`. */
export function columns(...names: (string | Record<string, ColumnType>)[]): Column[] {
  return names.flatMap((n) => (typeof n === 'string' ? [{ name: n, type: 'text' as const }] : Object.entries(n).map(([name, type]) => ({ name, type }))));
}

/** Values per statement of a lookup by a list of keys. */
const LOOKUP_CHUNK = 5000;
type Q = Knex | Knex.Transaction;
type Cell = string | number | bigint | boolean | null;

interface SqliteStatement {
  run(...params: unknown[]): { changes: number; lastInsertRowid: number | bigint };
  all(...params: unknown[]): unknown[];
}
interface SqliteDb {
  prepare(sql: string): SqliteStatement;
}
interface PgClient {
  query(config: { name: string; text: string; values: unknown[] }): Promise<{ rowCount: number | null; rows: Record<string, unknown>[] }>;
}

const quote = (id: string): string => `"${id.replace(/"/g, '""')}"`;
const prepared = new WeakMap<object, Map<string, SqliteStatement>>();

/** A statement's server-side name on PostgreSQL: stable for its text, under 63 characters. */
function pgName(sql: string): string {
  return `crm_${createHash('sha1').update(sql).digest('hex').slice(0, 24)}`;
}

function sqliteCell(v: Cell | undefined): unknown {
  if (v === undefined) return null;
  return typeof v === 'boolean' ? (v ? 1 : 0) : v;
}

/** Statements of one hub, by dialect. */
export class Statements {
  constructor(readonly dialect: HubDialect) {}

  /** Run `sql` once per parameter list (SQLite) or once with column arrays (PostgreSQL, `unnest`). */
  private async connection(q: Q): Promise<{ conn: unknown; release: () => Promise<void> }> {
    const client = q.client as { acquireConnection(): Promise<unknown>; releaseConnection(c: unknown): Promise<unknown>; transacting?: boolean };
    const conn = await client.acquireConnection();
    // Inside a transaction the connection is the transaction's; releasing it is a no-op there.
    return { conn, release: async () => void (client.transacting ? undefined : await client.releaseConnection(conn)) };
  }

  private report(q: Q, sql: string, rows: number): () => void {
    const client = q.client as { emit(event: string, ...args: unknown[]): void };
    const uid = randomUUID();
    const query = { sql, bindings: [], rows, prepared: true, __knexQueryUid: uid };
    client.emit('query', query);
    return () => client.emit('query-response', null, query);
  }

  private sqlite(conn: unknown, sql: string): SqliteStatement {
    const db = conn as SqliteDb;
    let cache = prepared.get(db);
    if (!cache) prepared.set(db, (cache = new Map()));
    let stmt = cache.get(sql);
    if (!stmt) cache.set(sql, (stmt = db.prepare(sql)));
    return stmt;
  }

  /**
   * Execute a statement over `rows`. SQLite: `sql` has one `?` per cell and runs per row; the
   * result is the changed-row count per row. PostgreSQL: `sql` takes `$n` arrays, one per column of
   * `columns`, and runs once; the result is the rows it returns (RETURNING) or its row count.
   */
  async execute(q: Q, sql: string, columns: readonly Column[], rows: readonly (readonly Cell[])[]): Promise<{ changes: number[]; returned: Record<string, unknown>[] }> {
    if (rows.length === 0) return { changes: [], returned: [] };
    const { conn, release } = await this.connection(q);
    const done = this.report(q, sql, rows.length);
    try {
      if (this.dialect === 'sqlite') {
        const stmt = this.sqlite(conn, sql);
        const changes = new Array<number>(rows.length);
        for (let i = 0; i < rows.length; i++) changes[i] = stmt.run(...rows[i].map(sqliteCell)).changes;
        return { changes, returned: [] };
      }
      const arrays = columns.map((_, c) => rows.map((r) => (r[c] === undefined ? null : typeof r[c] === 'bigint' ? String(r[c]) : r[c])));
      const res = await (conn as PgClient).query({ name: pgName(sql), text: sql, values: arrays });
      return { changes: [res.rowCount ?? 0], returned: res.rows };
    } finally {
      done();
      await release();
    }
  }

  /** A read with a fixed text: one prepared statement whatever the parameters. */
  async select<T>(q: Q, sql: string, params: readonly unknown[]): Promise<T[]> {
    const { conn, release } = await this.connection(q);
    const done = this.report(q, sql, 1);
    try {
      if (this.dialect === 'sqlite') return this.sqlite(conn, sql).all(...params.map((p) => sqliteCell(p as Cell))) as T[];
      const res = await (conn as PgClient).query({ name: pgName(sql), text: sql, values: [...params] });
      return res.rows as T[];
    } finally {
      done();
      await release();
    }
  }

  /**
   * Rows of `sql` for every value of `values` (deduplicated, in chunks), `sql` taking `fixed` and
   * then the list as its last parameter (see inList).
   */
  async selectIn<T>(q: Q, sql: string, fixed: readonly unknown[], values: readonly (string | number)[], each: (row: T) => void): Promise<void> {
    const unique = [...new Set(values)];
    for (let i = 0; i < unique.length; i += LOOKUP_CHUNK) {
      for (const row of await this.select<T>(q, sql, [...fixed, this.listParam(unique.slice(i, i + LOOKUP_CHUNK))])) each(row);
    }
  }

  /** `column IN <list>` for one list parameter: a JSON array on SQLite, an array on PostgreSQL. */
  inList(column: string, type: ColumnType, param: number): string {
    return this.dialect === 'sqlite' ? `${quote(column)} IN (SELECT value FROM json_each(?))` : `${quote(column)} = ANY($${param}::${type}[])`;
  }

  /** The parameter value for `inList`. */
  listParam(values: readonly (string | number)[]): unknown {
    return this.dialect === 'sqlite' ? JSON.stringify(values) : values;
  }

  /** A positional parameter: `?` on SQLite, `$n` on PostgreSQL. */
  param(n: number, type?: ColumnType): string {
    return this.dialect === 'sqlite' ? '?' : type ? `$${n}::${type}` : `$${n}`;
  }

  /** INSERT of `columns`, with an optional ON CONFLICT clause and RETURNING list. */
  insertSql(table: string, columns: readonly Column[], tail = ''): string {
    const names = columns.map((c) => quote(c.name)).join(', ');
    const values =
      this.dialect === 'sqlite'
        ? `VALUES (${columns.map(() => '?').join(', ')})`
        : `SELECT * FROM unnest(${columns.map((c, i) => `$${i + 1}::${c.type}[]`).join(', ')})`;
    return `INSERT INTO ${quote(table)} (${names}) ${values}${tail ? ` ${tail}` : ''}`;
  }

  /** ON CONFLICT (key) DO UPDATE SET each of `update` to the new row's value. */
  upsertSql(table: string, columns: readonly Column[], key: readonly string[], update: readonly string[]): string {
    const set = update.map((c) => `${quote(c)} = excluded.${quote(c)}`).join(', ');
    return this.insertSql(table, columns, `ON CONFLICT (${key.map(quote).join(', ')}) DO ${update.length ? `UPDATE SET ${set}` : 'NOTHING'}`);
  }

  /**
   * UPDATE `set` columns of the rows matching `where` columns: rows are the `set` values followed
   * by the `where` values. PostgreSQL returns the matched rows' `returning` column.
   */
  updateSql(table: string, set: readonly Column[], where: readonly Column[], returning: string): string {
    if (this.dialect === 'sqlite') {
      return `UPDATE ${quote(table)} SET ${set.map((c) => `${quote(c.name)} = ?`).join(', ')} WHERE ${where.map((c) => `${quote(c.name)} = ?`).join(' AND ')}`;
    }
    const all = [...set, ...where.map((c) => ({ ...c, name: `where_${c.name}` }))];
    const args = all.map((c, i) => `$${i + 1}::${c.type}[]`).join(', ');
    return (
      `UPDATE ${quote(table)} AS t SET ${set.map((c) => `${quote(c.name)} = v.${quote(c.name)}`).join(', ')} ` +
      `FROM unnest(${args}) AS v(${all.map((c) => quote(c.name)).join(', ')}) ` +
      `WHERE ${where.map((c) => `t.${quote(c.name)} = v.${quote(`where_${c.name}`)}`).join(' AND ')} RETURNING t.${quote(returning)}`
    );
  }
}

export { quote as quoteIdentifier };
