/**
 * The CRM hub: crmlink's own database (SQLite embedded, or PostgreSQL for several instances): its
 * connection, its schema, the golden records read back in canonical form, and `store`, the only
 * code that writes it (hub/store.ts).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import knexFactory, { type Knex } from 'knex';
import type { LoadedConfig } from '../config/load.js';
import { resolveConfigPath } from '../config/load.js';
import type { CrmlinkConfig } from '../config/schema.js';
import { fieldsOf, MODEL, type CrmRecord, type EntityName, type ModelField } from '../model/entities.js';
import { canonicalFieldValue } from '../model/values.js';
import { migrateHub, type CustomFields } from './migrate.js';
import { HubStore } from './store.js';
import type { HubRecord } from './golden.js';
import { ENTITY_SYSTEM_COLUMNS as C, MATCH_KEY_COLUMNS, MATCH_KEY_ENTITY, SYSTEM_TABLES } from './tables.js';

export { nowIso, type HubRecord } from './golden.js';
export type { AuditEntry } from './audit.js';

/**
 * The knex of a SQLite hub file: one connection, in WAL mode so that GraphQL reads go on while a
 * sync transaction writes, waiting `busyTimeoutMs` for another process's write lock.
 */
export function sqliteHubKnex(filename: string, busyTimeoutMs = 5000): Knex {
  return knexFactory({
    client: 'better-sqlite3',
    connection: { filename },
    useNullAsDefault: true,
    pool: {
      min: 1,
      max: 1,
      afterCreate: (conn: { pragma(s: string): unknown }, done: (err: Error | null, conn: unknown) => void) => {
        conn.pragma('journal_mode = WAL');
        conn.pragma(`busy_timeout = ${busyTimeoutMs}`);
        conn.pragma('foreign_keys = ON');
        done(null, conn);
      },
    },
  });
}

export class Hub {
  readonly dialect: 'sqlite' | 'postgres';
  readonly custom: CustomFields;
  /** The only writer of the hub. */
  readonly store: HubStore;
  /** Key of the version of a federated record (a keyed MAC of its values): see hub/secrets.ts. */
  versionKey: Buffer = Buffer.alloc(0);

  private constructor(
    readonly knex: Knex,
    config: CrmlinkConfig,
  ) {
    this.dialect = config.hub.dialect;
    this.custom = customFieldsOf(config);
    this.store = new HubStore(
      knex,
      this.dialect,
      (e) => this.fields(e),
      (e) => this.table(e),
    );
  }

  /**
   * Open the hub and bring its schema up to date. `readOnly` (dry runs) creates and migrates
   * nothing: an existing hub is opened as it is, and a hub that does not exist yet (no SQLite file,
   * no crmlink tables in PostgreSQL) is stood in for by an empty one in memory.
   */
  static async open(loaded: LoadedConfig, opts: { readOnly?: boolean } = {}): Promise<Hub> {
    const { hub } = loaded.config;
    if (opts.readOnly) {
      if (hub.dialect === 'sqlite') {
        const filename = resolveConfigPath(loaded, hub.connection.filename ?? './.crmlink/hub.db');
        if (filename !== ':memory:' && !existsSync(filename)) return Hub.scratch(loaded.config);
      }
      const h = await Hub.connect(loaded);
      if (await h.knex.schema.hasTable(SYSTEM_TABLES.xref)) {
        // A hub from before identity's match keys, not migrated here: matched in memory instead.
        h.store.matchKeyColumns = await h.knex.schema.hasColumn(MODEL[MATCH_KEY_ENTITY].table, MATCH_KEY_COLUMNS.version);
        return h;
      }
      await h.knex.destroy();
      return Hub.scratch(loaded.config);
    }
    const h = await Hub.connect(loaded);
    await migrateHub(h.knex, h.custom);
    // A read-only (dry-run) hub serves no GraphQL, so it needs no version key (and may predate its table).
    h.versionKey = await h.store.secret(h.knex, 'record-version');
    return h;
  }

  /** An empty hub in memory with the config's custom fields: what a dry run plans against before the first run. */
  private static async scratch(config: CrmlinkConfig): Promise<Hub> {
    const knex = knexFactory({ client: 'better-sqlite3', connection: { filename: ':memory:' }, useNullAsDefault: true, pool: { min: 1, max: 1 } });
    const h = new Hub(knex, { ...config, hub: { ...config.hub, dialect: 'sqlite', connection: { filename: ':memory:' } } });
    await migrateHub(knex, h.custom);
    return h;
  }

  private static async connect(loaded: LoadedConfig): Promise<Hub> {
    const { hub } = loaded.config;
    let knex: Knex;
    if (hub.dialect === 'sqlite') {
      const filename = resolveConfigPath(loaded, hub.connection.filename ?? './.crmlink/hub.db');
      if (filename !== ':memory:') mkdirSync(dirname(filename), { recursive: true });
      knex = sqliteHubKnex(filename);
    } else {
      const c = hub.connection;
      knex = knexFactory({
        client: 'pg',
        connection: c.url ?? { host: c.host, port: c.port, user: c.user, password: c.password, database: c.database },
        pool: { min: 0, max: 10 },
        searchPath: c.schema ? [c.schema] : undefined,
      });
    }
    return new Hub(knex, loaded.config);
  }

  fields(entity: EntityName): ModelField[] {
    return fieldsOf(entity, this.custom[entity] ?? []);
  }

  table(entity: EntityName): string {
    return MODEL[entity].table;
  }

  /** A new global id, e.g. `cus_01j...`: time-ordered, so ids sort by creation. */
  newId(entity: EntityName): string {
    const time = Date.now().toString(36).padStart(9, '0');
    return `${MODEL[entity].idPrefix}_${time}${randomBytes(6).toString('hex')}`;
  }

  /** Reserve `n` consecutive change sequence numbers; returns the first. Call inside the write's transaction. */
  nextSeq(trx: Knex.Transaction | Knex, n = 1): Promise<number> {
    return this.store.golden.nextSeq(trx, n);
  }

  /** Turn a stored row into a HubRecord with canonical values. */
  fromRow(entity: EntityName, row: Record<string, unknown>): HubRecord {
    const values: CrmRecord = {};
    for (const f of this.fields(entity)) values[f.name] = canonicalFieldValue(f, row[f.name]);
    return {
      id: String(row[C.id]),
      version: Number(row[C.version]),
      seq: Number(row[C.seq]),
      updatedAt: String(row[C.updatedAt]),
      deleted: Boolean(row[C.deleted]),
      mergedInto: (row[C.mergedInto] as string | null) ?? null,
      values,
    };
  }

  /** Canonical values → columns of the entity table. */
  toRow(entity: EntityName, values: Partial<CrmRecord>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const f of this.fields(entity)) {
      if (!(f.name in values)) continue;
      const v = values[f.name];
      out[f.name] = v === undefined ? null : f.type === 'boolean' && v !== null && this.dialect === 'sqlite' ? (v ? 1 : 0) : v;
    }
    return out;
  }

  async get(entity: EntityName, id: string, trx: Knex | Knex.Transaction = this.knex): Promise<HubRecord | null> {
    const row = await trx(this.table(entity)).where(C.id, id).first();
    return row ? this.fromRow(entity, row) : null;
  }

  async getMany(entity: EntityName, ids: readonly string[], trx: Knex | Knex.Transaction = this.knex): Promise<Map<string, HubRecord>> {
    const out = new Map<string, HubRecord>();
    for (let i = 0; i < ids.length; i += 500) {
      const rows = await trx(this.table(entity)).whereIn(C.id, ids.slice(i, i + 500));
      for (const r of rows) out.set(String(r[C.id]), this.fromRow(entity, r));
    }
    return out;
  }

  async destroy(): Promise<void> {
    await this.knex.destroy();
  }
}

function customFieldsOf(config: CrmlinkConfig): CustomFields {
  const out: CustomFields = {};
  for (const [entity, ec] of Object.entries(config.entities)) {
    if (!ec) continue;
    out[entity as EntityName] = Object.entries(ec.fields).map(([name, f]) => ({ name, type: f.type, scale: f.scale, description: f.description, custom: true }));
  }
  return out;
}
