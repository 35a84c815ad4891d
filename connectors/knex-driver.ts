/**
 * The one Driver implementation: generic keyset reads, filters, batched writes with per-row
 * outcomes and error wrapping over knex. Everything that differs between engines comes from the
 * DialectAdapter (connectors/dialects/<dialect>/).
 */
import knexFactory, { type Knex } from 'knex';
import type { Dialect, SourceConfig } from '../config/schema.js';
import { inSpan, SpanKind } from '../core/tracing.js';
import {
  ConnectionError,
  CrmlinkError,
  DatabaseError,
  RowError,
  SchemaError,
  ValidationError,
  redact,
  type ErrorContext,
} from '../core/errors.js';
import type { AggregateSpec, CaptureSpec, ChangeBatch, Checkpoint, DialectCapabilities, Driver, HealthReport, KeyValues, OrderBy, ReadKeysOptions, ReadPagesOptions, Row, RowOutcome, SelectSpec, TableInfo, TableRef, WriteOptions } from './driver.js';
import { rawRows, tableBuilder, type AdapterOptions, type ColumnTypes, type DialectAdapter } from './dialect-adapter.js';
import { applyAfter, applyKeyIn, applyWhere, type Binder } from './where.js';
import { encodeKey } from './keys.js';
import { canonicalValue } from './hash.js';
import { normalizeDecimal, DECIMAL_RE } from '../model/decimal.js';
import { parseNaive } from '../model/time.js';
import { captureChanges } from './capture/index.js';
import { READ_KEYS_CHUNK } from './read-keys.js';
import { FILTER_OPS, type ConnectorCapabilities } from './connector.js';

/** Adds an aggregate to a select, by the aggregate's name (`arg` maps the output name to the column). */
const AGGREGATE_SELECT: Record<AggregateSpec['aggregates'][number]['fn'], (qb: Knex.QueryBuilder, arg: Record<string, string>) => void> = {
  count: (qb, arg) => qb.count(arg),
  sum: (qb, arg) => qb.sum(arg),
  min: (qb, arg) => qb.min(arg),
  max: (qb, arg) => qb.max(arg),
  avg: (qb, arg) => qb.avg(arg),
};

export interface KnexDriverOptions extends Omit<AdapterOptions, 'name'> {
  /** test(): give up after this long (default 10 s). */
  testTimeoutMs?: number;
}

interface StatementContext {
  op: string;
  table?: TableRef;
  sql?: string;
  key?: KeyValues;
  /** Rows a write sends, for the statement's span (what the driver answers is no count for inserts). */
  rows?: number;
}

/** One row planned for writing inside a chunk. */
interface PlannedRow {
  index: number;
  row: Row;
  key: KeyValues;
  status: 'inserted' | 'updated' | 'deleted';
}

export { rawRows };

/** What every SQL dialect offers as a connector; the engine differences are in DialectCapabilities. */
function sqlConnectorCapabilities(adapter: DialectAdapter): ConnectorCapabilities {
  const c = adapter.capabilities;
  return {
    write: true,
    transactions: true,
    filters: FILTER_OPS,
    capture: ['hash', 'timestamp', 'trigger', ...(c.rowversion ? (['rowversion'] as const) : []), ...(c.changeTracking ? (['change-tracking'] as const) : [])],
    aggregate: true,
    nullsAscending: adapter.dialect === 'postgres' ? 'last' : 'first',
  };
}

export class KnexDriver implements Driver {
  readonly name: string;
  readonly dialect: Dialect;
  readonly kind: string;
  readonly capabilities: DialectCapabilities & ConnectorCapabilities;
  readonly knex: Knex;
  readonly adapter: DialectAdapter;
  readonly source: SourceConfig;
  private readonly testTimeoutMs: number;
  private readonly columnCache = new Map<string, Promise<ColumnTypes>>();

  constructor(name: string, source: SourceConfig, adapter: DialectAdapter, opts: KnexDriverOptions = {}) {
    this.name = name;
    this.source = source;
    this.adapter = adapter;
    this.dialect = adapter.dialect;
    this.kind = adapter.dialect;
    this.capabilities = { ...adapter.capabilities, ...sqlConnectorCapabilities(adapter) };
    this.testTimeoutMs = opts.testTimeoutMs ?? 10_000;
    this.knex = knexFactory(adapter.knexConfig(source, { name, baseDir: opts.baseDir, create: opts.create }));
  }

  // ---------------------------------------------------------------- health and introspection

  async test(signal?: AbortSignal): Promise<HealthReport> {
    const started = performance.now();
    const latencyMs = () => Math.round(performance.now() - started);
    try {
      const result = await withTimeout(this.knex.raw(this.adapter.versionQuery), this.testTimeoutMs, signal);
      const first = rawRows(result)[0];
      const version = first ? String(Object.values(first)[0]) : undefined;
      return { ok: true, dialect: this.dialect, version, latencyMs: latencyMs() };
    } catch (err) {
      const error =
        err instanceof TimeoutError
          ? new ConnectionError(
              'SOURCE_UNREACHABLE',
              `source "${this.name}" did not answer within ${this.testTimeoutMs / 1000}s: check sources.${this.name}.connection.host and sources.${this.name}.connection.port (and any firewall between)`,
              { source: this.name, setting: `sources.${this.name}.connection.host` },
            )
          : this.wrapError(err, { op: 'test', sql: this.adapter.versionQuery });
      return { ok: false, dialect: this.dialect, latencyMs: latencyMs(), error };
    }
  }

  async introspect(opts: { table?: string; schema?: string; signal?: AbortSignal } = {}): Promise<TableInfo[]> {
    opts.signal?.throwIfAborted();
    try {
      return await this.adapter.introspect(this.knex, { schema: opts.schema ?? this.adapter.defaultSchema(this.source), table: opts.table });
    } catch (err) {
      throw this.wrapError(err, { op: 'introspect', table: opts.table ? { table: opts.table, schema: opts.schema } : undefined });
    }
  }

  // ---------------------------------------------------------------- reads

  async *readPages(opts: ReadPagesOptions): AsyncIterable<Row[]> {
    const pageSize = opts.pageSize ?? 1000;
    const orderBy: OrderBy[] = opts.key.map((column) => ({ column, direction: 'asc' }));
    let after: unknown[] | undefined = opts.after ? [...opts.after] : undefined;
    for (;;) {
      opts.signal?.throwIfAborted();
      const rows = await this.select({
        table: opts.table,
        schema: opts.schema,
        columns: opts.columns ?? [],
        where: opts.where,
        orderBy,
        limit: pageSize,
        after,
        keysetNotNull: true,
        signal: opts.signal,
      });
      if (rows.length > 0) yield rows;
      if (rows.length < pageSize) return;
      const last = rows[rows.length - 1];
      after = opts.key.map((k) => last[k]);
    }
  }

  /**
   * Which of these keys have a row (matching `where`): `SELECT <key columns> ... WHERE <filter> AND
   * key IN (...)`, the keys split into as few statements as the dialect's parameter limit allows
   * (at most READ_KEYS_CHUNK keys each).
   */
  async readKeys(opts: ReadKeysOptions): Promise<KeyValues[]> {
    const ref = this.ref(opts);
    const types = await this.columnTypes(ref);
    const chunk = this.readKeysChunk(opts.key.length);
    const out: KeyValues[] = [];
    for (let i = 0; i < opts.keys.length; i += chunk) {
      opts.signal?.throwIfAborted();
      const qb = this.readKeysQuery({ ...opts, keys: opts.keys.slice(i, i + chunk) }, types);
      const rows = this.readRows(await this.run<Row[]>(qb, { op: 'read keys', table: ref }), types);
      for (const r of rows) out.push(opts.key.map((k) => r[k]));
    }
    return out;
  }

  /** Keys per readKeys statement: room for the filter's parameters, then as many keys as fit. */
  readKeysChunk(keyWidth: number): number {
    return Math.max(1, Math.min(READ_KEYS_CHUNK, Math.floor((this.capabilities.maxParameters - 100) / keyWidth)));
  }

  /** One readKeys statement (exposed so compiled SQL can be asserted without a server). */
  readKeysQuery(opts: Omit<ReadKeysOptions, 'signal'>, types?: ColumnTypes): Knex.QueryBuilder {
    const bind = this.binder(types);
    const qb = this.table(this.ref(opts)).select(opts.key);
    applyWhere(qb, opts.where, bind);
    return applyKeyIn(qb, opts.key, opts.keys, { rowValues: this.adapter.rowValues, bind });
  }

  async select(spec: SelectSpec): Promise<Row[]> {
    spec.signal?.throwIfAborted();
    const ref = this.ref(spec);
    const types = await this.columnTypes(ref);
    const qb = this.selectQuery(spec, types);
    const rows = await this.run<Row[]>(qb, { op: 'select', table: ref });
    return this.readRows(rows, types);
  }

  /** The statement select() sends (exposed so compiled SQL can be asserted without a server). */
  selectQuery(spec: SelectSpec, types?: ColumnTypes): Knex.QueryBuilder {
    const ref = this.ref(spec);
    const bind = this.binder(types);
    const qb = this.table(ref).select(spec.columns.length > 0 ? spec.columns : ['*']);
    applyWhere(qb, spec.where, bind);
    if (spec.after) {
      if (!spec.orderBy || spec.orderBy.length === 0) throw new ValidationError('select: `after` needs `orderBy`', { table: ref.table });
      applyAfter(qb, spec.orderBy, spec.after, { rowValues: this.adapter.rowValues, bind, nulls: this.adapter.nullOrder, notNull: spec.keysetNotNull === true });
    }
    for (const o of spec.orderBy ?? []) qb.orderBy(o.column, o.direction);
    if (spec.limit !== undefined) qb.limit(spec.limit);
    if (spec.offset !== undefined) qb.offset(spec.offset);
    return qb;
  }

  async aggregate(spec: AggregateSpec): Promise<Row[]> {
    spec.signal?.throwIfAborted();
    const ref = this.ref(spec);
    const types = await this.columnTypes(ref);
    const qb = this.table(ref);
    applyWhere(qb, spec.where, this.binder(types));
    if (spec.groupBy && spec.groupBy.length > 0) qb.select(spec.groupBy).groupBy(spec.groupBy);
    for (const a of spec.aggregates) {
      if (a.fn !== 'count' && !a.column) throw new ValidationError(`aggregate ${a.fn} needs a column`, { table: ref.table });
      const arg = { [a.as]: a.column ?? '*' };
      AGGREGATE_SELECT[a.fn](qb, arg);
    }
    return this.run<Row[]>(qb, { op: 'aggregate', table: ref });
  }

  changesSince(spec: CaptureSpec, checkpoint: Checkpoint | null, opts: { pageSize?: number; signal?: AbortSignal } = {}): Promise<ChangeBatch> {
    return captureChanges(this, spec, checkpoint, opts);
  }

  // ---------------------------------------------------------------- writes

  async upsert(rows: Row[], opts: WriteOptions): Promise<RowOutcome[]> {
    if (rows.length === 0) return [];
    const ref = this.ref(opts);
    const mode = opts.mode ?? 'upsert';
    const key = opts.key;
    if (key.length === 0) throw new ValidationError('upsert needs key columns', { source: this.name, table: ref.table });
    const types = await this.columnTypes(ref);
    const outcomes: RowOutcome[] = new Array(rows.length);
    const width = Math.max(key.length, ...rows.map((r) => Object.keys(r).length));
    const chunkRows = this.chunkRows(width);

    const identityRows: number[] = [];
    const keyed: number[] = [];
    rows.forEach((row, index) => {
      const kv = key.map((k) => row[k]);
      const missing = key.filter((_k, i) => kv[i] === null || kv[i] === undefined);
      if (missing.length === 0) keyed.push(index);
      else if (opts.identity && mode !== 'update' && missing.length === key.length) identityRows.push(index);
      else
        outcomes[index] = {
          index,
          key: kv,
          status: 'error',
          error: this.rowError(ref, kv, `key column ${missing.join(', ')} has no value`, { column: missing[0] }),
        };
    });

    await this.inTransaction(opts, ref, async (trx) => {
      for (const chunk of keyChunks(keyed, (i) => encodeKey(key.map((k) => rows[i][k])), chunkRows)) {
        opts.signal?.throwIfAborted();
        const keys = chunk.map((i) => key.map((k) => rows[i][k]));
        const columns = unionColumns(chunk.map((i) => rows[i]));
        const existing = await this.fetchExisting(trx, ref, key, keys, columns, types);
        const planned: PlannedRow[] = [];
        chunk.forEach((index, j) => {
          const row = rows[index];
          const kv = keys[j];
          const current = existing.get(lookupKey(kv));
          if (!current) {
            if (mode === 'update') outcomes[index] = { index, key: kv, status: 'missing' };
            else planned.push({ index, row, key: kv, status: 'inserted' });
          } else if (mode === 'insert') {
            outcomes[index] = { index, key: kv, status: 'error', error: this.rowError(ref, kv, 'a row with this key already exists') };
          } else if (sameRow(current, row)) {
            outcomes[index] = { index, key: kv, status: 'unchanged' };
          } else planned.push({ index, row, key: kv, status: 'updated' });
        });
        await this.writeIsolated(trx, ref, planned, outcomes, async (sp, items) => {
          for (const group of groupByColumns(items)) {
            const rowsOf = () => group.items.map((p) => this.bindRow(p.row, group.columns, types));
            if (group.items[0].status === 'updated') {
              // Existing rows: UPDATE only the columns given. An INSERT ... ON CONFLICT would
              // build the whole row first and fail on NOT NULL columns the row does not carry.
              const set = group.columns.filter((c) => !key.includes(c));
              if (set.length === 0) continue;
              for (const stmt of this.adapter.update(sp, { table: ref, rows: rowsOf(), key, set }, types)) {
                await this.run(stmt, { op: 'update', table: ref });
              }
              continue;
            }
            if (this.adapter.upsertMatchesAnyUniqueKey && group.items.every((p) => p.status === 'inserted')) {
              await this.run(this.adapter.insert(sp, ref, rowsOf(), types), { op: 'insert', table: ref, rows: group.items.length });
              continue;
            }
            // Only rows found new reach here. They go through the upsert statement all the same,
            // so a key another writer inserted since is updated instead of failing.
            const explicitIdentity = !!opts.identity;
            const stmt = this.adapter.upsert(
              sp,
              {
                table: ref,
                rows: rowsOf(),
                columns: group.columns,
                key,
                update: group.columns.filter((c) => !key.includes(c)),
                explicitIdentity,
              },
              types,
            );
            await this.run(stmt, { op: 'upsert', table: ref, rows: group.items.length });
          }
        });
      }

      const perStatement = this.capabilities.returning ? chunkRows : 1;
      for (let start = 0; start < identityRows.length; start += perStatement) {
        opts.signal?.throwIfAborted();
        const planned: PlannedRow[] = identityRows.slice(start, start + perStatement).map((index) => ({
          index,
          row: withoutColumns(rows[index], key),
          key: [],
          status: 'inserted',
        }));
        await this.writeIsolated(trx, ref, planned, outcomes, async (sp, items) => {
          for (const group of groupByColumns(items)) {
            const generated = await this.adapter
              .insertReturning(
                sp,
                ref,
                group.items.map((p) => this.bindRow(p.row, group.columns, types)),
                key,
                types,
              )
              .catch((err: unknown) => {
                throw this.wrapError(err, { op: 'insert', table: ref });
              });
            group.items.forEach((p, j) => {
              const g = generated[j];
              p.key = g ? key.map((k) => g[k]) : [];
            });
          }
        });
      }
    });
    return outcomes;
  }

  async delete(keys: KeyValues[], opts: WriteOptions): Promise<RowOutcome[]> {
    if (keys.length === 0) return [];
    const ref = this.ref(opts);
    const key = opts.key;
    const types = await this.columnTypes(ref);
    const outcomes: RowOutcome[] = new Array(keys.length);
    const chunkRows = this.chunkRows(key.length);
    const indexes = keys.map((_k, i) => i);
    await this.inTransaction(opts, ref, async (trx) => {
      for (const chunk of keyChunks(indexes, (i) => encodeKey(keys[i]), chunkRows)) {
        opts.signal?.throwIfAborted();
        const chunkKeys = chunk.map((i) => keys[i]);
        const existing = await this.fetchExisting(trx, ref, key, chunkKeys, [], types);
        const planned: PlannedRow[] = [];
        chunk.forEach((index, j) => {
          const kv = chunkKeys[j];
          if (existing.has(lookupKey(kv))) planned.push({ index, row: {}, key: kv, status: 'deleted' });
          else outcomes[index] = { index, key: kv, status: 'missing' };
        });
        await this.writeIsolated(trx, ref, planned, outcomes, async (sp, items) => {
          const qb = applyKeyIn(
            this.table(ref, sp),
            key,
            items.map((p) => p.key),
            { rowValues: this.adapter.rowValues, bind: this.binder(types) },
          ).delete();
          await this.run(qb, { op: 'delete', table: ref });
        });
      }
    });
    return outcomes;
  }

  onQuery(listener: (sql: string) => void): () => void {
    const fn = (q: { sql?: string }) => {
      if (q.sql) listener(q.sql);
    };
    this.knex.on('query', fn);
    return () => {
      this.knex.removeListener('query', fn);
    };
  }

  async destroy(): Promise<void> {
    await this.knex.destroy();
  }

  // ---------------------------------------------------------------- helpers shared with capture strategies

  /** The table reference with the source's default schema applied. */
  ref(t: TableRef): TableRef {
    const schema = t.schema ?? this.adapter.defaultSchema(this.source);
    return schema ? { table: t.table, schema } : { table: t.table };
  }

  table(ref: TableRef, knex: Knex | Knex.Transaction = this.knex): Knex.QueryBuilder {
    return tableBuilder(knex, ref);
  }

  /** Column types of a table, when the dialect binds by column type (otherwise undefined, at no cost). */
  async columnTypes(ref: TableRef): Promise<ColumnTypes | undefined> {
    if (!this.adapter.typedParameters) return undefined;
    const id = this.cacheKey(ref);
    let p = this.columnCache.get(id);
    if (!p) {
      p = this.introspect({ table: ref.table, schema: ref.schema }).then(
        (tables) => new Map((tables[0]?.columns ?? []).map((c) => [c.name, c])),
      );
      p.catch(() => this.columnCache.delete(id));
      this.columnCache.set(id, p);
    }
    return p;
  }

  private cacheKey(ref: TableRef): string {
    return `${ref.schema ?? ''}.${ref.table}`;
  }

  binder(types: ColumnTypes | undefined): Binder {
    if (!types) return (_c, v) => v;
    return (column, value) => this.adapter.bindValue(value, types.get(column));
  }

  readRows(rows: Row[], types: ColumnTypes | undefined): Row[] {
    if (!types) return rows;
    for (const row of rows) {
      for (const [c, v] of Object.entries(row)) row[c] = this.adapter.readValue(v, types.get(c));
    }
    return rows;
  }

  /** Run a statement; failures come back as CrmlinkErrors carrying the (redacted) SQL. */
  async run<T = unknown>(stmt: Knex.QueryBuilder | Knex.Raw, ctx: StatementContext): Promise<T> {
    // One span per statement: which source, table and operation, and how many rows came back or
    // were touched. The SQL is not an attribute: spans leave the process, and values are bound.
    const attributes = {
      'crmlink.source': this.name,
      'db.system.name': this.dialect,
      'db.operation.name': ctx.op,
      ...(ctx.table ? { 'db.collection.name': ctx.table.schema ? `${ctx.table.schema}.${ctx.table.table}` : ctx.table.table } : {}),
    };
    return inSpan(`${ctx.op} ${attributes['db.collection.name'] ?? this.name}`, attributes, async (span) => {
      try {
        const result = (await stmt) as T;
        // A raw statement's result, and an insert's, is the driver's own shape (pg: { rows },
        // mysql2: [rows, fields], SQLite: [lastId]): only reads and counts are row counts.
        const rows = ctx.rows ?? ('isRawInstance' in stmt || ctx.op === 'insert' || ctx.op === 'upsert' ? undefined : rowCount(result));
        if (rows !== undefined) span.setAttribute('crmlink.rows', rows);
        return result;
      } catch (err) {
        throw this.wrapError(err, { ...ctx, sql: ctx.sql ?? sqlOf(stmt) });
      }
    }, SpanKind.CLIENT);
  }

  wrapError(err: unknown, ctx: StatementContext): CrmlinkError {
    if (err instanceof CrmlinkError) return err;
    const s = `sources.${this.name}`;
    // Driver messages can quote a connection string; keep its credentials out of every error.
    const message = redact(dbMessage(err, ctx.sql));
    const context: ErrorContext = { source: this.name };
    if (ctx.table) context.table = ctx.table.schema ? `${ctx.table.schema}.${ctx.table.table}` : ctx.table.table;
    if (ctx.key) context.key = encodeKey(ctx.key);
    if (ctx.sql) context.sql = redact(ctx.sql);
    const options = { cause: err };
    switch (this.adapter.classifyError(err)) {
      case 'unreachable':
        return new ConnectionError(
          'SOURCE_UNREACHABLE',
          `source "${this.name}" is unreachable (${message}): check ${s}.connection.host and ${s}.connection.port`,
          { ...context, setting: `${s}.connection.host` },
          options,
        );
      case 'auth':
        return new ConnectionError(
          'SOURCE_AUTH_FAILED',
          `source "${this.name}" refused the login (${message}): check ${s}.connection.user and ${s}.connection.password`,
          { ...context, setting: `${s}.connection.password` },
          options,
        );
      case 'database-unknown': {
        const setting = this.dialect === 'sqlite' ? `${s}.connection.filename` : `${s}.connection.database`;
        return new ConnectionError(
          'SOURCE_DATABASE_UNKNOWN',
          `source "${this.name}": the database does not exist (${message}): check ${setting}`,
          { ...context, setting },
          options,
        );
      }
      case 'missing-column': {
        // The table changed under us: forget its cached column types, name the column.
        if (ctx.table) this.columnCache.delete(this.cacheKey(this.ref(ctx.table)));
        const column = missingColumn(message);
        return new SchemaError(
          `source "${this.name}": ${context.table ?? 'the table'} has no column ${column ?? '(see below)'} (dropped, or misspelt in the mapping; ${ctx.op}: ${message}): restore the column in the source, or remove it from the mapping (entities.<entity>.sources.${this.name}.fields); rows read so far are kept and the run resumes from its last checkpoint`,
          { ...context, ...(column ? { column } : {}) },
          options,
        );
      }
      case 'transient':
        return new DatabaseError('DB_TRANSIENT', `source "${this.name}" ${ctx.op} failed transiently (${message}); retry`, context, options);
      case 'constraint':
      case 'other':
        return new DatabaseError('DB_ERROR', `source "${this.name}" ${ctx.op}${context.table ? ` on ${context.table}` : ''} failed: ${message}`, context, options);
    }
  }

  private rowError(ref: TableRef, key: KeyValues, message: string, extra: ErrorContext = {}, cause?: unknown): RowError {
    const table = ref.schema ? `${ref.schema}.${ref.table}` : ref.table;
    return new RowError(
      'ROW_REJECTED',
      `${table} row ${encodeKey(key)} rejected: ${message}`,
      { source: this.name, table, key: encodeKey(key), ...extra },
      cause === undefined ? {} : { cause },
    );
  }

  private chunkRows(width: number): number {
    return chunkRowCount(this.capabilities.maxParameters, this.adapter.maxRowsPerStatement, width);
  }

  private bindRow(row: Row, columns: string[], types: ColumnTypes | undefined): Row {
    const out: Row = {};
    for (const c of columns) {
      const v = row[c] === undefined ? null : row[c];
      out[c] = types ? this.adapter.bindValue(v, types.get(c)) : v;
    }
    return out;
  }

  private async fetchExisting(
    trx: Knex.Transaction,
    ref: TableRef,
    key: string[],
    keys: KeyValues[],
    columns: string[],
    types: ColumnTypes | undefined,
  ): Promise<Map<string, Row>> {
    const cols = [...new Set([...key, ...columns])];
    const qb = applyKeyIn(this.table(ref, trx).select(cols), key, keys, { rowValues: this.adapter.rowValues, bind: this.binder(types) });
    const rows = this.readRows(await this.run<Row[]>(qb, { op: 'read existing rows', table: ref }), types);
    // Keys are compared as text: a driver may hand back 42 for a key given as '42'.
    return new Map(rows.map((r) => [lookupKey(key.map((k) => r[k])), r]));
  }

  /**
   * Write `items` as one statement inside a savepoint; when that fails permanently, retry row by
   * row, each in its own savepoint, so one bad row is reported and the others commit. Transient
   * failures abort the whole call (the caller retries it).
   */
  private async writeIsolated(
    trx: Knex.Transaction,
    ref: TableRef,
    items: PlannedRow[],
    outcomes: RowOutcome[],
    exec: (sp: Knex.Transaction, items: PlannedRow[]) => Promise<void>,
  ): Promise<void> {
    if (items.length === 0) return;
    const ok = (p: PlannedRow) => {
      outcomes[p.index] = { index: p.index, key: p.key, status: p.status };
    };
    const fail = (p: PlannedRow, err: CrmlinkError) => {
      const pg = err.cause as { column?: unknown } | undefined;
      const column = typeof pg?.column === 'string' ? pg.column : columnFromMessage(err.message);
      const message = explainRowMessage(dbMessage(err.cause ?? err, undefined), column, column ? p.row[column] : undefined);
      outcomes[p.index] = {
        index: p.index,
        key: p.key,
        status: 'error',
        error: this.rowError(ref, p.key, message, { ...(column ? { column } : {}), sql: err.context.sql }, err.cause ?? err),
      };
    };
    const attempt = async (subset: PlannedRow[]): Promise<CrmlinkError | null> => {
      try {
        if (this.capabilities.savepoints) await trx.transaction((sp) => exec(sp, subset));
        else await exec(trx, subset);
        return null;
      } catch (err) {
        const e = this.wrapError(err, { op: 'write', table: ref });
        if (e.transient || !this.capabilities.savepoints) throw e;
        return e;
      }
    };
    const whole = await attempt(items);
    if (!whole) return items.forEach(ok);
    if (items.length === 1) return fail(items[0], whole);
    for (const p of items) {
      const e = await attempt([p]);
      if (e) fail(p, e);
      else ok(p);
    }
  }

  private async inTransaction(opts: WriteOptions, ref: TableRef, fn: (trx: Knex.Transaction) => Promise<void>): Promise<void> {
    const tag = opts.origin !== undefined && this.capabilities.originTag;
    try {
      await this.knex.transaction(async (trx) => {
        if (tag) for (const stmt of this.adapter.originStatements(trx, opts.origin as string)) await this.run(stmt, { op: 'tag origin' });
        try {
          await fn(trx);
        } finally {
          // Session-scoped tags (mysql user variables) must not outlive this transaction.
          if (tag) for (const stmt of this.adapter.clearOriginStatements(trx)) await Promise.resolve(stmt).catch(() => undefined);
        }
      });
    } catch (err) {
      throw this.wrapError(err, { op: 'write', table: ref });
    }
  }
}

// ------------------------------------------------------------------ module helpers

/** Rows per statement so `width` parameters a row stay under the limit (with room for a few of the statement's own). */
export function chunkRowCount(maxParameters: number, maxRows: number, width: number): number {
  const byParams = Math.floor((maxParameters - 16) / Math.max(1, width));
  return Math.max(1, Math.min(maxRows, byParams));
}

/** Rows a statement returned (a select) or touched (knex answers an update or delete with a count). */
function rowCount(result: unknown): number | undefined {
  if (Array.isArray(result)) return result.length;
  if (typeof result === 'number') return result;
  return undefined;
}

class TimeoutError extends Error {}

function withTimeout<T>(p: PromiseLike<T>, ms: number, signal?: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new TimeoutError(`timed out after ${ms} ms`)), ms);
    const onAbort = () => reject(signal?.reason ?? new Error('aborted'));
    signal?.addEventListener('abort', onAbort, { once: true });
    Promise.resolve(p).then(
      (v) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

function sqlOf(stmt: Knex.QueryBuilder | Knex.Raw): string | undefined {
  try {
    return stmt.toSQL().sql;
  } catch {
    return undefined;
  }
}

/** The database's own message, without the SQL knex prefixes to it. */
export function dbMessage(err: unknown, sql: string | undefined): string {
  const raw = err instanceof Error ? err.message : String(err);
  const dash = raw.lastIndexOf(' - ');
  if (sql && raw.startsWith(sql)) return raw.slice(sql.length).replace(/^ - /, '');
  // knex formats errors as "<sql> - <message>"; keep the message when the SQL is unknown.
  if (dash > 0 && /^(select|insert|update|delete|merge|with|set|exec)\b/i.test(raw)) return raw.slice(dash + 3);
  return raw;
}

function columnFromMessage(message: string): string | undefined {
  // MariaDB qualifies it: column `db`.`table`.`name`.
  const qualified = /column (?:`[^`]+`\.)+`([^`]+)`/i.exec(message);
  if (qualified) return qualified[1];
  const m = /column ['"`]([^'"`]+)['"`]/i.exec(message) ?? /Column '([^']+)'/.exec(message) ?? /NOT NULL constraint failed: [^.]+\.(\S+)/.exec(message);
  return m?.[1];
}

/**
 * A database's refusal of one row, said plainly where the database's own words are obscure:
 * MariaDB/MySQL "Incorrect string value: '\xF0\x9F\x98\x80...'" is text the column's character set
 * cannot hold (an emoji in a GBK or latin1 column), shown with the characters themselves.
 */
export function explainRowMessage(message: string, column: string | undefined, value?: unknown): string {
  const bad = /Incorrect string value: '((?:\\x[0-9A-Fa-f]{2})+)/.exec(message);
  if (bad) {
    const bytes = Buffer.from(bad[1].replace(/\\x/g, ''), 'hex');
    // The message cuts the value short: show the whole characters among the bytes it quotes.
    const chars = bytes.toString('utf8').replace(/\uFFFD/g, '');
    return `column ${column ?? '(unknown)'} cannot hold "${chars}" (bytes ${bad[1]}): a character outside the column's character set (e.g. an emoji in a GBK or latin1 column); widen the column to utf8mb4 or change the text in the system it came from (${message})`;
  }
  // Over the column's length or precision: name the value, which the database does not.
  if (column && value !== undefined && value !== null && /Out of range value|Data too long|value too long|numeric field overflow|String or binary data would be truncated/i.test(message)) {
    return `column ${column} cannot hold ${JSON.stringify(typeof value === 'string' || typeof value === 'number' ? value : String(value))}: over its length or precision (${message})`;
  }
  return message;
}

function lookupKey(kv: KeyValues): string {
  return encodeKey(kv.map((v) => (typeof v === 'number' || typeof v === 'bigint' ? String(v) : v)));
}

function unionColumns(rows: Row[]): string[] {
  const set = new Set<string>();
  for (const r of rows) for (const c of Object.keys(r)) set.add(c);
  return [...set];
}

function withoutColumns(row: Row, drop: string[]): Row {
  const out: Row = {};
  for (const [c, v] of Object.entries(row)) if (!drop.includes(c)) out[c] = v;
  return out;
}

/** Rows with the same column set go in one statement (multi-row VALUES needs one shape). */
function groupByColumns(items: PlannedRow[]): { columns: string[]; items: PlannedRow[] }[] {
  const groups = new Map<string, { columns: string[]; items: PlannedRow[] }>();
  for (const p of items) {
    const columns = Object.keys(p.row).filter((c) => p.row[c] !== undefined);
    // New and existing rows go in separate statements (a plain INSERT for new rows where needed).
    const id = JSON.stringify([p.status === 'inserted', ...[...columns].sort()]);
    let g = groups.get(id);
    if (!g) groups.set(id, (g = { columns, items: [] }));
    g.items.push(p);
  }
  return [...groups.values()];
}

/**
 * Chunks of at most `size` indexes in which no key repeats: a statement cannot insert and then
 * update the same key, so a repeated key starts the next chunk (and sees the first write).
 */
function* keyChunks(indexes: number[], keyOf: (i: number) => string, size: number): Generator<number[]> {
  let chunk: number[] = [];
  let seen = new Set<string>();
  for (const i of indexes) {
    const k = keyOf(i);
    if (chunk.length >= size || seen.has(k)) {
      yield chunk;
      chunk = [];
      seen = new Set();
    }
    chunk.push(i);
    seen.add(k);
  }
  if (chunk.length > 0) yield chunk;
}

/** Whether writing `row` over `current` would change nothing (driver-independent value forms). */
export function sameRow(current: Row, row: Row): boolean {
  for (const [c, v] of Object.entries(row)) {
    if (v === undefined) continue;
    if (!sameValue(current[c], v)) return false;
  }
  return true;
}

export function sameValue(a: unknown, b: unknown): boolean {
  let x = canonicalValue(a);
  let y = canonicalValue(b);
  if (x === null || y === null) return x === null && y === null;
  if (typeof x === 'boolean') x = x ? 1 : 0;
  if (typeof y === 'boolean') y = y ? 1 : 0;
  const sx = String(x);
  const sy = String(y);
  if (sx === sy) return true;
  if (DECIMAL_RE.test(sx) && DECIMAL_RE.test(sy)) return normalizeDecimal(sx) === normalizeDecimal(sy);
  // The same wall clock written with and without fraction digits ('08:30:00' vs '08:30:00.000').
  const nx = parseNaive(sx);
  const ny = nx ? parseNaive(sy) : null;
  return nx !== null && ny !== null && nx.ms === ny.ms;
}

/** The column a "no such column" message names, on each engine's wording. */
export function missingColumn(message: string): string | null {
  const m =
    /column "?([^"\s]+?)"? does not exist/i.exec(message) ?? // PostgreSQL
    /Unknown column '([^']+)'/i.exec(message) ?? // MySQL / MariaDB
    /no such column: ([^\s,)]+)/i.exec(message) ?? // SQLite
    /Invalid column name '([^']+)'/i.exec(message); // SQL Server
  if (!m) return null;
  const name = m[1];
  // PostgreSQL and MySQL may qualify it (t.col, `t`.`col`).
  return name.split('.').pop()!.replace(/[`"]/g, '');
}
