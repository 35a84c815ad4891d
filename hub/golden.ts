/**
 * Golden records: the ONE versioned write of the hub. Every caller that changes a golden record
 * (the pull, a mutation, a conflict resolution, a merge, an unmerge) hands its changes here:
 *
 *   validate against the model → reserve change sequence numbers → insert new records / update
 *   read ones where `_version` is still the one read → provenance → audit → onChange
 *
 * An insert writes every column; an update writes the fields it changes plus the system columns,
 * so what it does not change stays exactly as stored. Statements are kept per table and column
 * set: prepared once on SQLite, one `unnest` statement per page and column set on PostgreSQL.
 * Only the fields a write changes are checked against the model, so a value stored before a rule
 * existed never blocks an edit of another field.
 */
import type { Knex } from 'knex';
import { CrmlinkError, ValidationError } from '../core/errors.js';
import type { CrmRecord, CrmValue, EntityName, ModelField } from '../model/entities.js';
import { normalizeDecimal } from '../model/decimal.js';
import { valueProblem } from '../model/validation.js';
import { sameValue } from '../model/values.js';
import type { AuditLog } from './audit.js';
import type { HistoryStore, HistoryWrite } from './history.js';
import type { FieldProvenance, ProvenanceStore } from './provenance.js';
import { MATCH_KEY_RULES, MATCH_KEY_WRITE_COLUMNS, matchKeyCells, type MatchKeyDeriver } from './match-keys.js';
import type { Column, ColumnType, Statements } from './statements.js';
import { ENTITY_SYSTEM_COLUMNS as C, MATCH_KEY_ENTITY, SYSTEM_TABLES as T } from './tables.js';

type Q = Knex | Knex.Transaction;

/** A golden record as stored: fields plus system columns. */
export interface HubRecord {
  id: string;
  version: number;
  seq: number;
  updatedAt: string;
  deleted: boolean;
  mergedInto: string | null;
  values: CrmRecord;
}

/** One record to write. */
export interface GoldenWrite {
  gid: string;
  /** The record as the caller read it in this transaction; null creates it. */
  current: HubRecord | null;
  /** Fields to set; on create, the record (missing fields are null). An empty patch only moves the version. */
  patch: CrmRecord;
  deleted?: boolean;
  mergedInto?: string | null;
  /** Provenance per field; null removes the field's provenance. */
  provenance?: Readonly<Record<string, FieldProvenance | null>>;
  /** This record's own audit entry, under the call's actor and action. */
  audit?: { before?: unknown; after?: unknown };
}

/** Who writes and why: the audit entries of a call carry these. */
export interface WriteMeta {
  actor: string;
  action: string;
  /** One audit entry for the whole call (e.g. a page of a sync run), besides each record's own. */
  summary?: unknown;
  /** The sync run writing (crm_run id), kept in each version's history. */
  run?: number | null;
  /** The source a sync run read the records from, kept in each version's history. */
  source?: string | null;
}

/** The record as written. */
export interface WrittenRecord extends HubRecord {
  created: boolean;
  /** Fields the write set. */
  changed: string[];
}

/** Hub change event (one per golden write call): the single place propagation will hook into. */
export interface HubChange {
  entity: EntityName;
  actor: string;
  action: string;
  records: readonly WrittenRecord[];
  /**
   * Settles when the write's transaction ends: true once committed, false when rolled back (a dry
   * run, a failed page). A listener that reads the hub back waits for it.
   */
  committed: Promise<boolean>;
}

/** A write lost the race: the record's `_version` moved between the caller's read and its write. */
export class StaleRecordError extends CrmlinkError {
  constructor(entity: EntityName, gid: string, readVersion: number) {
    super('VERSION_CONFLICT', `${entity} ${gid} changed after it was read (version ${readVersion}); read it again and repeat the change`, {
      entity,
      key: gid,
      expectedVersion: readVersion,
    });
  }
}

export function nowIso(): string {
  return new Date().toISOString();
}

function columnType(f: ModelField): ColumnType {
  return f.type === 'int' ? 'bigint' : f.type === 'decimal' ? 'numeric' : f.type === 'boolean' ? 'boolean' : 'text';
}

const SYSTEM: Column[] = [
  { name: C.version, type: 'integer' },
  { name: C.seq, type: 'bigint' },
  { name: C.updatedAt, type: 'text' },
  { name: C.deleted, type: 'boolean' },
  { name: C.mergedInto, type: 'text' },
];

interface TableStatements {
  table: string;
  fields: ModelField[];
  byName: Map<string, ModelField>;
  columns: Column[];
  insert: string;
  /** The entity's rows carry identity's match keys (hub/match-keys.ts), written with its fields. */
  keyed: boolean;
  /** By the sorted names of the fields an update sets. */
  updates: Map<string, UpdateStatement>;
}

interface UpdateStatement {
  sql: string;
  columns: Column[];
  fields: string[];
  /** The update sets a field the match keys come from, so it sets the keys too. */
  rekey: boolean;
}

const MATCH_FIELDS: ReadonlySet<string> = new Set(MATCH_KEY_RULES);

/** Distinct update column sets kept per table before the cache starts over. */
const MAX_UPDATE_SHAPES = 256;
/** Merges of merges followed before giving up (as the pull's link stage does). */
const MAX_MERGE_CHAIN = 5;
const WHERE: Column[] = [
  { name: C.id, type: 'text' },
  { name: C.version, type: 'integer' },
];

export interface GoldenContext {
  statements: Statements;
  fields(entity: EntityName): ModelField[];
  table(entity: EntityName): string;
  audit: AuditLog;
  history: HistoryStore;
  provenance: ProvenanceStore;
  changed(event: HubChange): void;
  /** How customers' match keys are derived (null: stored unkeyed), and whether the hub has their columns. */
  matchKeys(): { deriver: MatchKeyDeriver | null; columns: boolean };
}

export class GoldenRecords {
  private readonly tables = new Map<EntityName, TableStatements>();

  constructor(private readonly ctx: GoldenContext) {}

  private statementsOf(entity: EntityName): TableStatements {
    let t = this.tables.get(entity);
    if (!t) {
      const fields = this.ctx.fields(entity);
      const table = this.ctx.table(entity);
      const st = this.ctx.statements;
      const keyed = entity === MATCH_KEY_ENTITY && this.ctx.matchKeys().columns;
      const columns = [{ name: C.id, type: 'text' as const }, ...fields.map((f) => ({ name: f.name, type: columnType(f) })), ...SYSTEM, ...(keyed ? MATCH_KEY_WRITE_COLUMNS : [])];
      t = { table, fields, byName: new Map(fields.map((f) => [f.name, f])), columns, insert: st.insertSql(table, columns), keyed, updates: new Map() };
      this.tables.set(entity, t);
    }
    return t;
  }

  private updateOf(t: TableStatements, changed: readonly string[]): UpdateStatement {
    const fields = [...changed].sort();
    const key = fields.join(',');
    let u = t.updates.get(key);
    if (!u) {
      const rekey = t.keyed && fields.some((f) => MATCH_FIELDS.has(f));
      const set = [...fields.map((f) => ({ name: f, type: columnType(t.byName.get(f)!) })), ...SYSTEM, ...(rekey ? MATCH_KEY_WRITE_COLUMNS : [])];
      if (t.updates.size >= MAX_UPDATE_SHAPES) t.updates.clear();
      u = { sql: this.ctx.statements.updateSql(t.table, set, WHERE, C.id), columns: [...set, ...WHERE], fields, rekey };
      t.updates.set(key, u);
    }
    return u;
  }

  /**
   * Of these ids, the records merged away, each to the record that stands for it now (following
   * merges of merges); an id not merged is absent. Reads only the ids and merge links, so it is
   * cheap where almost nothing was merged.
   */
  async survivors(q: Q, entity: EntityName, ids: readonly string[]): Promise<Map<string, string>> {
    const st = this.ctx.statements;
    const sql = `SELECT ${C.id}, ${C.mergedInto} FROM ${this.ctx.table(entity)} WHERE ${C.mergedInto} IS NOT NULL AND ${st.inList(C.id, 'text', 1)}`;
    const out = new Map<string, string>();
    // Each id asked for, by the id its chain has reached.
    let pending = new Map(ids.map((id) => [id, [id]]));
    for (let depth = 0; depth < MAX_MERGE_CHAIN && pending.size > 0; depth++) {
      const next = new Map<string, string[]>();
      await st.selectIn<Record<string, unknown>>(q, sql, [], [...pending.keys()], (r) => {
        const into = String(r[C.mergedInto]);
        for (const origin of pending.get(String(r[C.id])) ?? []) {
          out.set(origin, into);
          next.set(into, [...(next.get(into) ?? []), origin]);
        }
      });
      pending = next;
    }
    return out;
  }

  /** Reserve `n` consecutive change sequence numbers; returns the first. Call inside the write's transaction. */
  async nextSeq(q: Q, n = 1): Promise<number> {
    const row = (await q(T.counter).where({ name: 'seq' }).first()) as { value: unknown } | undefined;
    if (!row) {
      await q(T.counter).insert({ name: 'seq', value: n });
      return 1;
    }
    const current = Number(row.value);
    await q(T.counter).where({ name: 'seq' }).update({ value: current + n });
    return current + 1;
  }

  /**
   * Write golden records in the caller's transaction. Throws ValidationError for a value the model
   * refuses (naming the entity, record and field) and StaleRecordError when a record changed after
   * the caller read it; either way nothing of the call is kept once the transaction rolls back.
   */
  async write(trx: Knex.Transaction, entity: EntityName, writes: readonly GoldenWrite[], meta: WriteMeta): Promise<WrittenRecord[]> {
    if (writes.length === 0 && meta.summary === undefined) return [];
    const t = this.statementsOf(entity);
    const patches = writes.map((w) => this.checked(entity, t, w));
    const now = nowIso();
    let seq = writes.length > 0 ? await this.nextSeq(trx, writes.length) : 0;
    const written = writes.map((w, i) => toWritten(w, patches[i], t.fields, seq++, now));
    await this.store(trx, entity, t, written);
    await this.ctx.history.record(trx, written.map((w, i) => historyOf(entity, writes[i].current, w, meta)));
    await this.ctx.provenance.apply(trx, entity, writes.map((w) => ({ gid: w.gid, fields: w.provenance ?? {} })));
    await this.ctx.audit.recordMany(trx, [
      ...writes.flatMap((w) => (w.audit ? [{ actor: meta.actor, action: meta.action, entity, gid: w.gid, before: w.audit.before, after: w.audit.after }] : [])),
      ...(meta.summary === undefined ? [] : [{ actor: meta.actor, action: meta.action, entity, gid: null, after: meta.summary }]),
    ]);
    if (written.length > 0) {
      // executionPromise is the outermost transaction's; a savepoint has its own, which resolves at release.
      // (A caller handing a plain connection has no transaction to wait for: its write is committed.)
      const ended = trx.executionPromise as Promise<unknown> | undefined;
      const committed = ended ? ended.then(() => true, () => false) : Promise.resolve(true);
      this.ctx.changed({ entity, actor: meta.actor, action: meta.action, records: written, committed });
    }
    return written;
  }

  /** The patch checked against the model, decimals in canonical form ("1.50" → "1.5"). */
  private checked(entity: EntityName, t: TableStatements, w: GoldenWrite): CrmRecord {
    const out: CrmRecord = {};
    for (const [name, given] of Object.entries(w.patch)) {
      const field = t.byName.get(name);
      if (!field) throw new ValidationError(`${entity} has no field ${name}`, { entity, key: w.gid, field: name });
      const value = field.type === 'decimal' ? canonicalDecimal(given) : given;
      const problem = valueProblem(field, value);
      if (problem !== null) {
        throw new ValidationError(`${entity}.${name} of ${w.gid}: ${JSON.stringify(given)} ${problem}`, { entity, key: w.gid, field: name, value: given as CrmValue });
      }
      out[name] = value;
    }
    return out;
  }

  private async store(trx: Knex.Transaction, entity: EntityName, t: TableStatements, written: readonly WrittenRecord[]): Promise<void> {
    const st = this.ctx.statements;
    const { deriver } = this.ctx.matchKeys();
    const keys = (w: WrittenRecord) => matchKeyCells(deriver, w.values);
    const inserts = written.filter((w) => w.created);
    const updates = written.filter((w) => !w.created);
    await st.execute(
      trx,
      t.insert,
      t.columns,
      inserts.map((w) => [w.id, ...t.fields.map((f) => w.values[f.name] ?? null), w.version, w.seq, w.updatedAt, w.deleted, w.mergedInto, ...(t.keyed ? keys(w) : [])]),
    );
    const byShape = new Map<string, WrittenRecord[]>();
    for (const w of updates) {
      const u = this.updateOf(t, w.changed);
      const list = byShape.get(u.sql);
      if (list) list.push(w);
      else byShape.set(u.sql, [w]);
    }
    for (const group of byShape.values()) {
      const u = this.updateOf(t, group[0].changed);
      const rows = group.map((w) => [...u.fields.map((f) => w.values[f] ?? null), w.version, w.seq, w.updatedAt, w.deleted, w.mergedInto, ...(u.rekey ? keys(w) : []), w.id, w.version - 1]);
      const res = await st.execute(trx, u.sql, u.columns, rows);
      const done = st.dialect === 'sqlite' ? null : new Set(res.returned.map((r) => String(r[C.id])));
      const stale = group.find((w, i) => (done ? !done.has(w.id) : res.changes[i] !== 1));
      if (stale) throw new StaleRecordError(entity, stale.id, stale.version - 1);
    }
  }
}

/** A decimal in any notation in canonical form; anything else as given, for the model check to name. */
function canonicalDecimal(v: CrmValue): CrmValue {
  if (typeof v !== 'string' && typeof v !== 'number') return v;
  try {
    return normalizeDecimal(v);
  } catch {
    return v;
  }
}

/** The version's history row: the fields whose value moved, before and after (all set ones on create). */
function historyOf(entity: EntityName, current: HubRecord | null, w: WrittenRecord, meta: WriteMeta): HistoryWrite {
  const before: CrmRecord = {};
  const after: CrmRecord = {};
  for (const f of current ? w.changed : Object.keys(w.values)) {
    const old = current?.values[f] ?? null;
    const now = w.values[f] ?? null;
    if (current ? sameValue(old, now) : now === null) continue;
    if (current) before[f] = old;
    after[f] = now;
  }
  return { entity, gid: w.id, version: w.version, at: w.updatedAt, actor: meta.actor, action: meta.action, run: meta.run ?? null, source: meta.source ?? null, before, after, deleted: w.deleted, mergedInto: w.mergedInto, deletedBefore: current?.deleted ?? false, mergedIntoBefore: current?.mergedInto ?? null };
}

function toWritten(w: GoldenWrite, patch: CrmRecord, fields: readonly ModelField[], seq: number, now: string): WrittenRecord {
  const base = w.current;
  const values: CrmRecord = {};
  for (const f of fields) values[f.name] = Object.prototype.hasOwnProperty.call(patch, f.name) ? (patch[f.name] ?? null) : (base?.values[f.name] ?? null);
  return {
    id: w.gid,
    version: base ? base.version + 1 : 1,
    seq,
    updatedAt: now,
    deleted: w.deleted ?? base?.deleted ?? false,
    mergedInto: w.mergedInto !== undefined ? w.mergedInto : (base?.mergedInto ?? null),
    values,
    created: base === null,
    changed: Object.keys(patch),
  };
}
