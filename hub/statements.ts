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

function sqliteRow(row: readonly Cell[]): unknown[] {
  const out = new Array<unknown>(row.length);
  for (let c = 0; c < row.length; c++) out[c] = sqliteCell(row[c]);
  return out;
}

/** Rows per SQLite multi-row INSERT, largest first; the last (1) takes whatever is left. */
const INSERT_ROWS = [100, 10, 1];
/** Parameters one SQLite statement may take (SQLITE_MAX_VARIABLE_NUMBER's default since 3.32). */
const SQLITE_MAX_PARAMS = 32766;
const isInsert = (sql: string): boolean => sql.startsWith('INSERT INTO ');
const multiRowTexts = new Map<string, string>();

/** `INSERT … VALUES (?, …) tail` with the tuple repeated `rows` times. */
function multiRow(sql: string, width: number, rows: number): string {
  if (rows === 1) return sql;
  const key = `${rows}\u0000${sql}`;
  let text = multiRowTexts.get(key);
  if (text === undefined) {
    const tuple = `(${new Array(width).fill('?').join(', ')})`;
    const at = sql.indexOf(`VALUES ${tuple}`);
    if (at < 0) throw new Error(`not a single-row INSERT … VALUES: ${sql}`);
    text = `${sql.slice(0, at)}VALUES ${new Array(rows).fill(tuple).join(', ')}${sql.slice(at + 7 + tuple.length)}`;
    if (multiRowTexts.size > 1000) multiRowTexts.clear();
    multiRowTexts.set(key, text);
  }
  return text;
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

  /**
   * A SQLite INSERT over many rows: multi-row `VALUES` statements of a few fixed sizes (each
   * prepared once per connection, whatever the page's size), the rest row by row. Returns the
   * number of rows changed.
   */
  private sqliteInsert(conn: unknown, sql: string, rows: readonly (readonly Cell[])[]): number {
    const width = rows[0].length;
    let changes = 0;
    let i = 0;
    for (const size of INSERT_ROWS) {
      if (size * width > SQLITE_MAX_PARAMS) continue;
      if (rows.length - i < size) continue;
      const stmt = this.sqlite(conn, multiRow(sql, width, size));
      const params = new Array<unknown>(size * width);
      for (; rows.length - i >= size; i += size) {
        let p = 0;
        for (let r = i; r < i + size; r++) {
          const row = rows[r];
          for (let c = 0; c < width; c++) params[p++] = sqliteCell(row[c]);
        }
        changes += stmt.run(params).changes;
      }
    }
    return changes;
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
   * Execute a statement over `rows`. SQLite: `sql` has one `?` per cell and runs per row (an
   * INSERT: per 100 rows, as one multi-row statement); the result is the changed-row count per
   * row (an INSERT: one count for all rows, as on PostgreSQL). PostgreSQL: `sql` takes `$n` arrays, one per column of
   * `columns`, and runs once; the result is the rows it returns (RETURNING) or its row count.
   */
  async execute(q: Q, sql: string, columns: readonly Column[], rows: readonly (readonly Cell[])[]): Promise<{ changes: number[]; returned: Record<string, unknown>[] }> {
    if (rows.length === 0) return { changes: [], returned: [] };
    const { conn, release } = await this.connection(q);
    const done = this.report(q, sql, rows.length);
    try {
      if (this.dialect === 'sqlite') {
        if (isInsert(sql)) return { changes: [this.sqliteInsert(conn, sql, rows)], returned: [] };
        const stmt = this.sqlite(conn, sql);
        const changes = new Array<number>(rows.length);
        for (let i = 0; i < rows.length; i++) changes[i] = stmt.run(sqliteRow(rows[i])).changes;
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

  /** A write with a fixed text, run once with these parameters; returns the changed-row count. */
  async run(q: Q, sql: string, params: readonly unknown[]): Promise<number> {
    const { conn, release } = await this.connection(q);
    const done = this.report(q, sql, 1);
    try {
      if (this.dialect === 'sqlite') return this.sqlite(conn, sql).run(params.map((p) => sqliteCell(p as Cell))).changes;
      const res = await (conn as PgClient).query({ name: pgName(sql), text: sql, values: [...params] });
      return res.rowCount ?? 0;
    } finally {
      done();
      await release();
    }
  }

  /**
   * Insert rows and return each one's generated `id`, in the rows' order: SQLite runs the
   * prepared single-row INSERT per row and takes its row id; PostgreSQL inserts the `unnest` of
   * the columns in order (`WITH ORDINALITY … ORDER BY`) and returns the ids in that order.
   */
  async insertIds(q: Q, table: string, cols: readonly Column[], rows: readonly (readonly Cell[])[]): Promise<number[]> {
    if (rows.length === 0) return [];
    const names = cols.map((c) => quote(c.name)).join(', ');
    const sql =
      this.dialect === 'sqlite'
        ? `INSERT INTO ${quote(table)} (${names}) VALUES (${cols.map(() => '?').join(', ')})`
        : `INSERT INTO ${quote(table)} (${names}) SELECT ${names} FROM unnest(${cols.map((c, i) => `$${i + 1}::${c.type}[]`).join(', ')}) WITH ORDINALITY AS v(${names}, ord) ORDER BY ord RETURNING id`;
    const { conn, release } = await this.connection(q);
    const done = this.report(q, sql, rows.length);
    try {
      if (this.dialect === 'sqlite') {
        const stmt = this.sqlite(conn, sql);
        return rows.map((r) => Number(stmt.run(sqliteRow(r)).lastInsertRowid));
      }
      const arrays = cols.map((_, c) => rows.map((r) => (r[c] === undefined ? null : typeof r[c] === 'bigint' ? String(r[c]) : r[c])));
      const res = await (conn as PgClient).query({ name: pgName(sql), text: sql, values: arrays });
      const ids = res.rows.map((r) => Number(r.id));
      // RETURNING follows the insertion order in practice; sorted, the ids of one statement's
      // serial are in that order whatever it returns.
      return ids.sort((a, b) => a - b);
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
