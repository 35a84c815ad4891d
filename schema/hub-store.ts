/**
 * Replicated entities: the hub's golden records (one table per entity, columns named like the
 * fields). Deleted and merged-away records are never returned.
 *
 * Filters compile to SQL text with bind parameters only; identifiers come from the model and are
 * quoted anyway. Nested connections limit per parent with ROW_NUMBER() OVER (PARTITION BY ref),
 * which SQLite (3.25+) and PostgreSQL both have, so one statement serves every parent of a level.
 */
import type { Knex } from 'knex';
import type { Row } from '../connectors/driver.js';
import type { Hub } from '../hub/hub.js';
import { ENTITY_SYSTEM_COLUMNS as C } from '../hub/tables.js';
import { CrmlinkError } from '../core/errors.js';
import { MODEL, type CrmRecord, type CrmValue, type EntityName, type ModelField } from '../model/entities.js';
import { isConst, simplify, type Filter, type SortColumn } from './filters.js';
import { HUB, keysMatching, recordsByKeys, withFieldGetters, type AggSpec, type EntityStore, type Rec, type StoreQuery } from './store.js';
import { decimalFromDb } from '../model/decimal.js';

interface Sql {
  sql: string;
  bindings: unknown[];
}

const q = (id: string): string => `"${id.replace(/"/g, '""')}"`;

export class HubStore implements EntityStore {
  readonly space = HUB;
  readonly fields: ReadonlyMap<string, ModelField>;
  readonly nullsFirstAsc: boolean;
  private readonly table: string;
  private readonly sqlite: boolean;
  private readonly Rec: typeof HubRec;

  constructor(
    readonly entity: EntityName,
    private readonly hub: Hub,
  ) {
    this.fields = new Map(hub.fields(entity).map((f) => [f.name, f]));
    this.table = MODEL[entity].table;
    this.sqlite = hub.dialect === 'sqlite';
    this.nullsFirstAsc = this.sqlite;
    this.Rec = withFieldGetters(HubRec, this.fields.keys());
  }

  private get knex(): Knex {
    return this.hub.knex;
  }

  /** Golden records hold refs as global ids. */
  refSpace(): string {
    return HUB;
  }

  keySort(): SortColumn[] {
    return [{ column: C.id, direction: 'asc' }];
  }

  sortColumn(field: string): string {
    if (!this.fields.has(field)) throw new CrmlinkError('VALIDATION_FAILED', `orderBy: unknown field "${field}" of ${this.entity}`, { field });
    return field;
  }

  checkFilterable(field: string): void {
    if (!this.fields.has(field)) throw new CrmlinkError('VALIDATION_FAILED', `where: unknown field "${field}" of ${this.entity}`, { field });
  }

  /** Column expression: SQLite keeps decimals as text, so they compare and sort as numbers via CAST. */
  private expr(column: string): string {
    const f = this.fields.get(column);
    return this.sqlite && f?.type === 'decimal' ? `CAST(${q(column)} AS REAL)` : q(column);
  }

  private param(column: string, v: unknown): unknown {
    const f = this.fields.get(column);
    if (v === null || v === undefined) return null;
    if (this.sqlite && f?.type === 'decimal') return Number(v);
    if (typeof v === 'boolean') return this.sqlite ? (v ? 1 : 0) : v;
    return v;
  }

  private compile(f: Filter): Sql {
    if ('const' in f) return { sql: f.const ? '1 = 1' : '1 = 0', bindings: [] };
    if ('and' in f || 'or' in f) {
      const list = 'and' in f ? f.and : f.or;
      if (list.length === 0) return { sql: 'and' in f ? '1 = 1' : '1 = 0', bindings: [] };
      const parts = list.map((p) => this.compile(p));
      return { sql: parts.map((p) => `(${p.sql})`).join('and' in f ? ' AND ' : ' OR '), bindings: parts.flatMap((p) => p.bindings) };
    }
    if ('not' in f) {
      const inner = this.compile(f.not);
      return { sql: `NOT (${inner.sql})`, bindings: inner.bindings };
    }
    if ('keyIn' in f) {
      if (f.keyIn.length === 0) return { sql: '1 = 0', bindings: [] };
      return { sql: `${q(C.id)} IN (${f.keyIn.map(() => '?').join(', ')})`, bindings: [...f.keyIn] };
    }
    const column = 'field' in f ? f.field : f.column;
    if ('field' in f) this.checkFilterable(f.field);
    const e = this.expr(column);
    const p = (v: unknown) => this.param(column, v);
    switch (f.op) {
      case 'eq':
        return f.value === null ? { sql: `${e} IS NULL`, bindings: [] } : { sql: `${e} = ?`, bindings: [p(f.value)] };
      case 'ne':
        return f.value === null ? { sql: `${e} IS NOT NULL`, bindings: [] } : { sql: `${e} <> ?`, bindings: [p(f.value)] };
      case 'in':
      case 'nin': {
        const list = (Array.isArray(f.value) ? f.value : [f.value]).map(p);
        if (list.length === 0) return { sql: f.op === 'in' ? '1 = 0' : '1 = 1', bindings: [] };
        return { sql: `${e} ${f.op === 'in' ? 'IN' : 'NOT IN'} (${list.map(() => '?').join(', ')})`, bindings: list };
      }
      case 'lt':
        return { sql: `${e} < ?`, bindings: [p(f.value)] };
      case 'lte':
        return { sql: `${e} <= ?`, bindings: [p(f.value)] };
      case 'gt':
        return { sql: `${e} > ?`, bindings: [p(f.value)] };
      case 'gte':
        return { sql: `${e} >= ?`, bindings: [p(f.value)] };
      case 'contains':
        // instr/strpos rather than LIKE: % and _ are plain characters. Case-insensitive, as the
        // sources evaluate it (docs/filters.md): both sides lowered.
        return {
          sql: this.sqlite ? `instr(lower(${q(column)}), lower(?)) > 0` : `strpos(lower(${q(column)}), lower(?)) > 0`,
          bindings: [String(f.value)],
        };
      case 'startsWith':
        return { sql: `substr(${q(column)}, 1, length(?)) = ?`, bindings: [String(f.value), String(f.value)] };
      case 'isNull':
        return { sql: `${e} IS ${f.value === false ? 'NOT ' : ''}NULL`, bindings: [] };
    }
  }

  /** Live golden records only, plus the filter. */
  private base(where: Filter): Sql {
    const w = this.compile(where);
    return { sql: `NOT ${q(C.deleted)} AND ${q(C.mergedInto)} IS NULL AND (${w.sql})`, bindings: w.bindings };
  }

  private orderSql(sort: readonly SortColumn[]): string {
    return sort.map((s) => `${this.expr(s.column)} ${s.direction === 'desc' ? 'DESC' : 'ASC'}`).join(', ');
  }

  private raw<T>(sql: string, bindings: unknown[]): Promise<T[]> {
    return this.knex.raw(sql, bindings as Knex.RawBinding[]).then((r: unknown) => (this.sqlite ? (r as T[]) : (r as { rows: T[] }).rows));
  }

  async select(query: StoreQuery): Promise<Rec[]> {
    const where = simplify(query.partition ? { and: [query.where, { field: query.partition.field, op: 'in', value: query.partition.values }] } : query.where);
    if (isConst(where, false)) return [];
    const b = this.base(where);
    const order = this.orderSql(query.sort);
    let sql: string;
    const bindings = [...b.bindings];
    if (query.partition && query.limit !== undefined) {
      const part = q(query.partition.field);
      sql =
        // One table in each FROM, so the column expressions need no qualifier (a qualifier in front of
        // the decimal CAST of a SQLite hub would not be SQL).
        `SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY ${part} ORDER BY ${order}) AS "_rn" ` +
        `FROM ${q(this.table)} WHERE ${b.sql}) p WHERE "_rn" <= ? ORDER BY ${order}`;
      bindings.push(query.limit);
    } else {
      sql = `SELECT * FROM ${q(this.table)} WHERE ${b.sql} ORDER BY ${order}`;
      if (query.limit !== undefined) {
        sql += ' LIMIT ?';
        bindings.push(query.limit);
      }
    }
    const rows = await this.raw<Row>(sql, bindings);
    return rows.map((r) => this.toRec(r));
  }

  /** A record as a hub write reported it (subscriptions), without reading it again. */
  fromWritten(r: { id: string; values: CrmRecord; version: number; updatedAt: string }): Rec {
    return new this.Rec(this.entity, r.id, r.values, r.version, r.updatedAt, {});
  }

  toRec(row: Row): Rec {
    const h = this.hub.fromRow(this.entity, row);
    return new this.Rec(this.entity, h.id, h.values, h.version, h.updatedAt, row);
  }

  async aggregate(where: Filter, aggs: AggSpec[], groupBy?: { field: string; values: string[] }): Promise<Row[]> {
    const w = simplify(groupBy ? { and: [where, { field: groupBy.field, op: 'in', value: groupBy.values }] } : where);
    if (isConst(w, false)) return [];
    const b = this.base(w);
    const cols = aggs.map((a) => {
      if (a.fn === 'count') return `COUNT(*) AS ${q(a.as)}`;
      const field = a.field as string;
      this.checkFilterable(field);
      return `${a.fn.toUpperCase()}(${this.expr(field)}) AS ${q(a.as)}`;
    });
    const g = groupBy ? `${q(groupBy.field)} AS "_g", ` : '';
    const sql = `SELECT ${g}${cols.join(', ')} FROM ${q(this.table)} WHERE ${b.sql}${groupBy ? ` GROUP BY ${q(groupBy.field)}` : ''}`;
    const rows = await this.raw<Row>(sql, b.bindings);
    // Decimals summed by SQLite come back as REAL: round to the field's scale to get them exact again.
    for (const r of rows) {
      for (const a of aggs) {
        if (a.fn === 'count') r[a.as] = Number(r[a.as]);
        else {
          const f = this.fields.get(a.field as string);
          if (f?.type === 'decimal' || a.fn === 'sum' || a.fn === 'avg') {
            const scale = f?.type === 'decimal' ? (f.scale ?? 4) + (a.fn === 'avg' ? 4 : 0) : a.fn === 'avg' ? 4 : 0;
            r[a.as] = decimalFromDb(r[a.as], scale);
          } else if (f?.type === 'int') r[a.as] = r[a.as] === null ? null : Number(r[a.as]);
        }
      }
    }
    return rows;
  }

  byKeys(keys: readonly string[]): Promise<Map<string, Rec>> {
    return recordsByKeys(this, keys);
  }

  keys(where: Filter): Promise<string[]> {
    return keysMatching(where, async (w) => {
      const b = this.base(w);
      const rows = await this.raw<Row>(`SELECT ${q(C.id)} AS "k" FROM ${q(this.table)} WHERE ${b.sql}`, b.bindings);
      return rows.map((r) => String(r.k));
    });
  }
}

/** A golden record: its values are converted with the row (the hub stores canonical values). */
class HubRec implements Rec {
  readonly space = HUB;

  constructor(
    readonly entity: EntityName,
    readonly id: string,
    readonly values: CrmRecord,
    readonly version: number,
    readonly updatedAt: string | null,
    readonly raw: Row,
  ) {}

  get key(): string {
    return this.id;
  }

  get(field: string): CrmValue {
    return this.values[field] ?? null;
  }
}
