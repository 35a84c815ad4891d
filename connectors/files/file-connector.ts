/**
 * What every file connector (Access, xlsx, csv) shares: the file is parsed into tables of rows once
 * per version of the file, and reads, filters, keyset pages, aggregates and hash capture run over
 * those rows in memory.
 *
 * A version of the file is its size and mtime, then its content hash: a touched but unchanged
 * file is not parsed again, and `changesSince` answers "nothing changed" without a scan when the
 * content hash is the one the last complete scan saw. Memory holds one parsed copy of the file.
 */
import { createHash } from 'node:crypto';
import { copyFile, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { Decimal } from 'decimal.js';
import type { SourceConfig } from '../../config/schema.js';
import { CrmlinkError, type ErrorCode } from '../../core/errors.js';
import { hashChanges, type HashCheckpoint } from '../capture/hash.js';
import { FILTER_OPS, type Connector, type ConnectorCapabilities } from '../connector.js';
import type { AggregateSpec, CaptureSpec, ChangeBatch, Checkpoint, HealthReport, KeyValues, ReadKeysOptions, ReadPagesOptions, Row, RowOutcome, SelectSpec, TableInfo, WriteOptions } from '../driver.js';
import { assertPushable, compareValues, isAfter, matchesWhere, rowComparator } from '../filter.js';
import { readKeysBySelect } from '../read-keys.js';

/** One table of a parsed file. */
export interface LoadedTable {
  info: TableInfo;
  rows: Row[];
}

/** A parsed version of the file. */
export interface ParsedFile {
  tables: Map<string, LoadedTable>;
  /** Shown by test(): the format and what the file holds, e.g. "Access 2010 (ACE), 3 tables". */
  description: string;
}

interface FileVersion {
  size: number;
  mtimeMs: number;
  sha256: string;
}

/** What a write changes in one table: rows by key (canonical key text → row). */
export interface WritePlan {
  table: LoadedTable;
  key: string[];
  updates: Map<string, Row>;
  inserts: Row[];
  deletes: Set<string>;
}

/** A key's canonical text, the same for 1 and "1" (cells and parameters differ in type). */
export function keyText(values: readonly unknown[]): string {
  return JSON.stringify(values.map((v) => (v === null || v === undefined ? null : v instanceof Date ? v.toISOString() : String(v))));
}

/** Checkpoint of the hash strategy over a file: the content hash the scan is reading (or has read). */
export interface FileHashCheckpoint extends HashCheckpoint {
  file?: string;
}

export const DEFAULT_PAGE_SIZE = 1000;

export abstract class FileConnector implements Connector {
  readonly capabilities: ConnectorCapabilities;
  /** The file, resolved against the config's directory. */
  readonly file: string;
  private cached?: { version: FileVersion; parsed: ParsedFile };
  private loading?: Promise<{ version: FileVersion; parsed: ParsedFile }>;

  constructor(
    readonly name: string,
    readonly kind: string,
    readonly source: SourceConfig,
    baseDir: string,
    write = false,
  ) {
    const filename = source.connection.filename;
    if (!filename) {
      throw new CrmlinkError('CONFIG_INVALID', `sources.${name}.connection.filename is required: the ${kind} file to read`, { source: name, setting: `sources.${name}.connection.filename` });
    }
    this.file = isAbsolute(filename) ? filename : resolve(baseDir, filename);
    this.capabilities = { write, transactions: write, filters: FILTER_OPS, capture: ['hash'], aggregate: true, nullsAscending: 'first' };
  }

  /** Parse one version of the file. Errors name the file (and table, row, column where they apply). */
  protected abstract parse(content: Buffer): Promise<ParsedFile>;

  /**
   * The file's new content with `plan` applied (connectors that can write back). Called with the
   * content the plan was made from; other sheets, formulas and formatting are the subclass's to keep.
   */
  protected rewrite?(content: Buffer, plan: WritePlan): Promise<Buffer>;

  /** Why this source cannot be written, for WRITE_FORBIDDEN. */
  protected readOnlyReason(): string {
    return `${this.kind} sources are read-only`;
  }

  /** An error about this source's file, naming it and the setting that points at it. */
  protected fileError(code: ErrorCode, message: string, context: Record<string, unknown> = {}, cause?: unknown): CrmlinkError {
    return new CrmlinkError(code, `source "${this.name}": ${message} (file ${this.file}, sources.${this.name}.connection.filename)`, { source: this.name, file: this.file, setting: `sources.${this.name}.connection.filename`, ...context }, { cause });
  }

  /** The current version of the file, parsed (from the cache when size and mtime, or else content, are unchanged). */
  protected async load(signal?: AbortSignal): Promise<{ version: FileVersion; parsed: ParsedFile }> {
    signal?.throwIfAborted();
    // One load at a time: concurrent reads of one source share it.
    while (this.loading) await this.loading.catch(() => undefined);
    const p = this.reload();
    this.loading = p;
    try {
      return await p;
    } finally {
      this.loading = undefined;
    }
  }

  private async reload(): Promise<{ version: FileVersion; parsed: ParsedFile }> {
    let st;
    try {
      st = await stat(this.file);
    } catch (err) {
      throw this.ioError(err);
    }
    if (!st.isFile()) throw this.fileError('SOURCE_DATABASE_UNKNOWN', 'is not a file');
    const cached = this.cached;
    if (cached && cached.version.size === st.size && cached.version.mtimeMs === st.mtimeMs) return cached;
    let content: Buffer;
    try {
      content = await readFile(this.file);
    } catch (err) {
      throw this.ioError(err);
    }
    const version = { size: content.length, mtimeMs: st.mtimeMs, sha256: createHash('sha256').update(content).digest('hex') };
    if (cached && cached.version.sha256 === version.sha256) {
      this.cached = { version, parsed: cached.parsed };
      return this.cached;
    }
    const parsed = await this.parse(content);
    this.cached = { version, parsed };
    return this.cached;
  }

  private ioError(err: unknown): CrmlinkError {
    const code = (err as { code?: unknown }).code;
    if (code === 'ENOENT') return this.fileError('SOURCE_DATABASE_UNKNOWN', 'the file does not exist', {}, err);
    // EBUSY: a Windows sharing violation (the file open exclusively); ETXTBSY/EAGAIN: the same through a share or a lease.
    if (code === 'EBUSY' || code === 'EAGAIN' || code === 'ETXTBSY') return this.fileError('LOCKED', 'the file is locked by another program: close it and retry', {}, err);
    if (code === 'EACCES' || code === 'EPERM') return this.fileError('SOURCE_AUTH_FAILED', 'crmlink may not read the file: check its permissions', {}, err);
    return this.fileError('SOURCE_UNREACHABLE', `cannot read the file: ${err instanceof Error ? err.message : String(err)}`, {}, err);
  }

  /** One table by name; an unknown one names the file and the tables it has. */
  protected async table(name: string, signal?: AbortSignal): Promise<LoadedTable> {
    const { parsed } = await this.load(signal);
    const t = parsed.tables.get(name);
    if (!t) {
      throw this.fileError('MAPPING_INVALID', `no table "${name}" (tables: ${[...parsed.tables.keys()].join(', ') || 'none'})`, { table: name });
    }
    return t;
  }

  private checkColumns(t: LoadedTable, columns: readonly string[]): void {
    const known = new Set(t.info.columns.map((c) => c.name));
    const missing = columns.filter((c) => !known.has(c));
    if (missing.length > 0) {
      throw this.fileError('MAPPING_INVALID', `table "${t.info.name}" has no column ${missing.map((c) => `"${c}"`).join(', ')} (columns: ${[...known].join(', ')})`, {
        table: t.info.name,
        column: missing[0],
      });
    }
  }

  // ---------------------------------------------------------------- Connector

  async test(signal?: AbortSignal): Promise<HealthReport> {
    const started = performance.now();
    try {
      const { parsed } = await this.load(signal);
      return { ok: true, dialect: this.kind, version: parsed.description, latencyMs: Math.round(performance.now() - started) };
    } catch (err) {
      const error = err instanceof CrmlinkError ? err : this.fileError('SOURCE_UNREACHABLE', err instanceof Error ? err.message : String(err), {}, err);
      return { ok: false, dialect: this.kind, latencyMs: Math.round(performance.now() - started), error };
    }
  }

  async introspect(opts: { table?: string; schema?: string; signal?: AbortSignal } = {}): Promise<TableInfo[]> {
    if (opts.table !== undefined) return [(await this.table(opts.table, opts.signal)).info];
    const { parsed } = await this.load(opts.signal);
    return [...parsed.tables.values()].map((t) => t.info);
  }

  async select(spec: SelectSpec): Promise<Row[]> {
    assertPushable(this, spec.where);
    const t = await this.table(spec.table, spec.signal);
    const order = spec.orderBy ?? [];
    this.checkColumns(t, [...spec.columns, ...order.map((o) => o.column), ...whereColumns(spec.where)]);
    let rows = spec.where ? t.rows.filter((r) => matchesWhere(r, spec.where)) : t.rows;
    if (order.length > 0) {
      rows = [...rows].sort(rowComparator(order, this.capabilities.nullsAscending));
      const after = spec.after;
      if (after) rows = rows.filter((r) => isAfter(r, order, after, this.capabilities.nullsAscending));
    }
    const start = spec.offset ?? 0;
    const end = spec.limit === undefined ? undefined : start + spec.limit;
    return rows.slice(start, end).map((r) => {
      const out: Row = {};
      for (const c of spec.columns) out[c] = r[c];
      return out;
    });
  }

  /** The file is in memory: each chunk of keys is one filter over the parsed rows. */
  readKeys(opts: ReadKeysOptions): Promise<KeyValues[]> {
    return readKeysBySelect(this, opts);
  }

  async *readPages(opts: ReadPagesOptions): AsyncIterable<Row[]> {
    const pageSize = opts.pageSize ?? DEFAULT_PAGE_SIZE;
    const t = await this.table(opts.table, opts.signal);
    const columns = opts.columns ?? t.info.columns.map((c) => c.name);
    let after: unknown[] | undefined = opts.after ? [...opts.after] : undefined;
    for (;;) {
      opts.signal?.throwIfAborted();
      const page = await this.select({
        table: opts.table,
        columns: [...new Set([...columns, ...opts.key])],
        where: opts.where,
        orderBy: opts.key.map((column) => ({ column, direction: 'asc' as const })),
        after,
        limit: pageSize,
        signal: opts.signal,
      });
      if (page.length === 0) return;
      const last = page[page.length - 1];
      after = opts.key.map((k) => last[k]);
      yield page;
      if (page.length < pageSize) return;
    }
  }

  async aggregate(spec: AggregateSpec): Promise<Row[]> {
    assertPushable(this, spec.where);
    const t = await this.table(spec.table, spec.signal);
    const groupBy = spec.groupBy ?? [];
    this.checkColumns(t, [...groupBy, ...spec.aggregates.flatMap((a) => (a.column ? [a.column] : [])), ...whereColumns(spec.where)]);
    const groups = new Map<string, Row[]>();
    for (const r of t.rows) {
      if (!matchesWhere(r, spec.where)) continue;
      const k = JSON.stringify(groupBy.map((g) => String(r[g] ?? '\u0000null')));
      const g = groups.get(k);
      if (g) g.push(r);
      else groups.set(k, [r]);
    }
    if (groups.size === 0 && groupBy.length === 0) groups.set('[]', []);
    return [...groups.values()].map((rows) => {
      const out: Row = {};
      for (const g of groupBy) out[g] = rows[0]?.[g] ?? null;
      for (const a of spec.aggregates) out[a.as] = aggregateOf(a.fn, a.column, rows);
      return out;
    });
  }

  async changesSince(spec: CaptureSpec, checkpoint: Checkpoint | null, opts: { pageSize?: number; signal?: AbortSignal } = {}): Promise<ChangeBatch> {
    if (spec.strategy !== 'hash') {
      throw new CrmlinkError('NOT_AVAILABLE', `source "${this.name}" (${this.kind}) captures changes by row hash only: set changes.strategy: hash for table "${spec.table}"`, {
        source: this.name,
        table: spec.table,
      });
    }
    const cp = checkpoint as FileHashCheckpoint | null;
    const { version } = await this.load(opts.signal);
    if (cp && cp.after === null && cp.file === version.sha256) {
      // The last scan read this very content: nothing changed, no scan.
      return { changes: [], checkpoint: cp, hasMore: false, snapshot: false };
    }
    // A scan that sees the file change under it starts over on the new content.
    const resume = cp && cp.after !== null && cp.file === version.sha256 ? cp : null;
    const batch = await hashChanges(this, spec, resume, opts.pageSize ?? DEFAULT_PAGE_SIZE, opts.signal);
    const next: FileHashCheckpoint = { ...(batch.checkpoint as HashCheckpoint), file: version.sha256 };
    return { ...batch, checkpoint: next };
  }

  async upsert(rows: Row[], opts: WriteOptions): Promise<RowOutcome[]> {
    if (!this.capabilities.write || !this.rewrite) throw this.readOnly('write to', opts.table);
    return this.write(opts, (t, plan) => {
      const existing = new Map<string, Row | null>(t.rows.map((r) => [keyText(opts.key.map((k) => r[k])), r]));
      return rows.map((row, index): RowOutcome => {
        const key = opts.key.map((k) => row[k]);
        const id = keyText(key);
        const current = existing.get(id);
        const exists = current !== undefined;
        if (exists && opts.mode === 'insert') {
          return { index, key, status: 'error', error: new CrmlinkError('ROW_REJECTED', `source "${this.name}": table "${opts.table}" already has key ${id}`, { source: this.name, table: opts.table, key: id }) };
        }
        if (!exists && opts.mode === 'update') return { index, key, status: 'missing' };
        if (current && Object.entries(row).every(([c, v]) => keyText([current[c]]) === keyText([v]))) return { index, key, status: 'unchanged' };
        if (exists) plan.updates.set(id, { ...plan.updates.get(id), ...row });
        else {
          plan.inserts.push(row);
          existing.set(id, null);
        }
        return { index, key, status: exists ? 'updated' : 'inserted' };
      });
    });
  }

  async delete(keys: KeyValues[], opts: WriteOptions): Promise<RowOutcome[]> {
    if (!this.capabilities.write || !this.rewrite) throw this.readOnly('delete from', opts.table);
    return this.write(opts, (t, plan) => {
      const existing = new Set(t.rows.map((r) => keyText(opts.key.map((k) => r[k]))));
      return keys.map((key, index): RowOutcome => {
        const id = keyText(key);
        if (!existing.has(id)) return { index, key, status: 'missing' };
        plan.deletes.add(id);
        return { index, key, status: 'deleted' };
      });
    });
  }

  /** The lock file Excel (and WPS) keep beside a workbook they have open: `~$name.xlsx`. */
  lockFile(): string {
    return join(dirname(this.file), `~$${basename(this.file)}`);
  }

  /**
   * Plan a write against the current file, render its new version, and put it in place
   * atomically: the new content goes to a temporary file in the same directory (flushed to disk),
   * the current file is kept as `<file>.bak`, and a rename replaces it, so a crash at any moment
   * leaves either the old file or the new one. While the file is open in Excel (a `~$` lock file
   * beside it) nothing is written: LOCKED, which the sync retries later.
   */
  private async write(opts: WriteOptions, plan: (t: LoadedTable, p: WritePlan) => RowOutcome[]): Promise<RowOutcome[]> {
    opts.signal?.throwIfAborted();
    if (existsSync(this.lockFile())) {
      throw this.fileError('LOCKED', `the file is open in Excel (lock file ${basename(this.lockFile())}): not written; the change is retried once it is closed`, { table: opts.table });
    }
    const t = await this.table(opts.table, opts.signal);
    const missing = opts.key.filter((k) => !t.info.columns.some((c) => c.name === k));
    if (missing.length) throw this.fileError('MAPPING_INVALID', `table "${opts.table}" has no key column ${missing.map((k) => `"${k}"`).join(', ')}`, { table: opts.table, column: missing[0] });
    const p: WritePlan = { table: t, key: opts.key, updates: new Map(), inserts: [], deletes: new Set() };
    const outcomes = plan(t, p);
    if (p.updates.size === 0 && p.inserts.length === 0 && p.deletes.size === 0) return outcomes;
    let content: Buffer;
    try {
      content = await readFile(this.file);
    } catch (err) {
      throw this.ioError(err);
    }
    const next = await (this.rewrite as NonNullable<FileConnector['rewrite']>).call(this, content, p);
    await this.replaceFile(next);
    return outcomes;
  }

  private async replaceFile(next: Buffer): Promise<void> {
    const temp = join(dirname(this.file), `.${basename(this.file)}.crmlink-${process.pid}-${Date.now()}.tmp`);
    try {
      const fh = await open(temp, 'wx');
      try {
        await fh.writeFile(next);
        await fh.sync();
      } finally {
        await fh.close();
      }
      // The previous version, kept as the backup (itself replaced by rename, never half-written).
      const bak = `${this.file}.bak`;
      const bakTemp = `${temp}.bak`;
      await copyFile(this.file, bakTemp);
      await rename(bakTemp, bak);
      await rename(temp, this.file);
    } catch (err) {
      throw this.fileError('SOURCE_UNREACHABLE', `the new version could not be written (${err instanceof Error ? err.message : String(err)}); the file is unchanged`, {}, err);
    } finally {
      await rm(temp, { force: true });
      await rm(`${temp}.bak`, { force: true });
    }
    this.cached = undefined;
  }

  private readOnly(what: string, table: string): CrmlinkError {
    return new CrmlinkError(
      'WRITE_FORBIDDEN',
      `source "${this.name}" is read-only: crmlink cannot ${what} table "${table}" of ${basename(this.file)} (${this.readOnlyReason()}); the hub keeps the value`,
      { source: this.name, table, file: this.file },
    );
  }

  async destroy(): Promise<void> {
    this.cached = undefined;
  }
}

function whereColumns(where: SelectSpec['where']): string[] {
  if (!where) return [];
  if ('and' in where) return where.and.flatMap(whereColumns);
  if ('or' in where) return where.or.flatMap(whereColumns);
  if ('not' in where) return whereColumns(where.not);
  return [where.column];
}

function aggregateOf(fn: AggregateSpec['aggregates'][number]['fn'], column: string | undefined, rows: Row[]): unknown {
  const values = column === undefined ? rows.map(() => 1) : rows.map((r) => r[column]).filter((v) => v !== null && v !== undefined);
  switch (fn) {
    case 'count':
      return values.length;
    case 'min':
    case 'max': {
      if (values.length === 0) return null;
      return values.reduce((m, v) => ((fn === 'min' ? compareValues(v, m) < 0 : compareValues(v, m) > 0) ? v : m));
    }
    case 'sum':
    case 'avg': {
      if (values.length === 0) return null;
      // Exact: currency and decimal columns are text, and float sums would drift.
      const sum = values.reduce<Decimal>((s, v) => s.plus(new Decimal(typeof v === 'bigint' ? v.toString() : String(v))), new Decimal(0));
      return (fn === 'sum' ? sum : sum.div(values.length)).toString();
    }
  }
}
