/**
 * What the resolvers share: the stores of every entity (built once per schema) and, per request,
 * a Scope holding the viewer and the request's DataLoaders, so every level of a query is one
 * batched statement per source, whatever the number of rows.
 */
import DataLoader from 'dataloader';
import type { SchemaApp } from './schema-app.js';
import type { EntityConfig } from '../config/schema.js';
import { unsyncedEntities, type UnsyncedEntity } from '../config/coverage.js';
import { CrmlinkError } from '../core/errors.js';
import { ENTITY_NAMES, MODEL, type EntityName, type ModelField } from '../model/entities.js';
import { HubStore } from './hub-store.js';
import { MappingSubsets, SourceStore } from './source-store.js';
import { effectiveEntities } from '../connectors/registry.js';
import { HUB, type EntityStore, type Rec } from './store.js';
import { keysInAllSources, translateKeys } from './xref.js';
import type { Viewer } from './viewer.js';

export class Runtime {
  readonly stores: Record<EntityName, EntityStore>;
  /** Replicated entities no sync job fills: a read of one is answered with a warning (config/coverage.ts). */
  readonly unsynced: ReadonlyMap<string, UnsyncedEntity>;

  constructor(readonly app: SchemaApp) {
    const stores = {} as Record<EntityName, EntityStore>;
    for (const entity of ENTITY_NAMES) stores[entity] = this.makeStore(entity);
    this.stores = stores;
    this.unsynced = new Map(unsyncedEntities(app.config).map((u) => [u.entity, u]));
  }

  entityConfig(entity: EntityName): EntityConfig | undefined {
    return this.app.config.entities[entity];
  }

  /** Federated entities are read from their owner; everything else (configured or not) from the hub. */
  isFederated(entity: EntityName): boolean {
    return this.entityConfig(entity)?.mode === 'federated';
  }

  ownerOf(entity: EntityName): string | undefined {
    const ec = this.entityConfig(entity);
    if (!ec) return undefined;
    return ec.owner ?? Object.keys(ec.sources)[0];
  }

  fields(entity: EntityName): ModelField[] {
    return this.app.hub.fields(entity);
  }

  private makeStore(entity: EntityName): EntityStore {
    if (!this.isFederated(entity)) return new HubStore(entity, this.app.hub);
    const owner = this.ownerOf(entity);
    if (!owner) {
      throw new CrmlinkError('CONFIG_INVALID', `entities.${entity}: a federated entity needs at least one source`, { path: `entities.${entity}.sources`, entity });
    }
    const custom = this.fields(entity).filter((f) => f.custom);
    const mapping = this.app.sources.mapping(entity, owner);
    const subsets = MappingSubsets.of(mapping, this.app.sources.config(owner), effectiveEntities(this.app.config)[entity]?.[owner], custom);
    return new SourceStore(entity, owner, this.app.sources.connector(owner), mapping, custom, subsets, this.app.hub.versionKey);
  }

  store(entity: EntityName): EntityStore {
    return this.stores[entity];
  }
}

const NO_KEYS: ReadonlyMap<string, string[]> = new Map();

/** Loads are collected until every pending promise of the current level has settled. */
const schedule = (cb: () => void) => setImmediate(cb);

export class Scope {
  private readonly loaders = new Map<string, DataLoader<unknown, unknown, string>>();
  private readonly owned: DataLoader<unknown, unknown, string>[] = [];
  private readonly memos = new Map<string, unknown>();
  /** What the response should warn about: replicated entities read here that no sync job fills. */
  readonly warnings = new Map<string, UnsyncedEntity>();

  constructor(
    readonly rt: Runtime,
    readonly viewer: Viewer,
  ) {}

  get app(): SchemaApp {
    return this.rt.app;
  }

  loader<K, V>(name: string, batch: (keys: readonly K[]) => Promise<(V | Error)[]>, cacheKey: (k: K) => string = (k) => String(k)): DataLoader<K, V, string> {
    let l = this.loaders.get(name) as DataLoader<K, V, string> | undefined;
    if (!l) {
      l = this.newLoader(batch, cacheKey);
      this.loaders.set(name, l as unknown as DataLoader<unknown, unknown, string>);
    }
    return l;
  }

  /** A loader of this request that the caller keeps (e.g. in a `memo` entry); `clear` empties it too. */
  newLoader<K, V>(batch: (keys: readonly K[]) => Promise<(V | Error)[]>, cacheKey: (k: K) => string = (k) => String(k)): DataLoader<K, V, string> {
    const l = new DataLoader<K, V, string>(batch, { batchScheduleFn: schedule, cacheKeyFn: cacheKey, maxBatchSize: 1000 });
    this.owned.push(l as unknown as DataLoader<unknown, unknown, string>);
    return l;
  }

  once<T>(name: string, fn: () => Promise<T>): Promise<T> {
    return this.memo(name, fn);
  }

  /** `fn()` computed once per request under `name`. */
  memo<T>(name: string, fn: () => T): T {
    if (this.memos.has(name)) return this.memos.get(name) as T;
    const v = fn();
    this.memos.set(name, v);
    return v;
  }

  /** Forget everything read so far (after a mutation, so its result is read fresh). */
  clear(): void {
    for (const l of this.owned) l.clearAll();
    this.loaders.clear();
    this.owned.length = 0;
    this.memos.clear();
  }

  /** Keys of `entity` from one space to another, batched per (entity, from, to). */
  async translate(entity: EntityName, from: string, to: string, keys: readonly string[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    if (from === to) {
      for (const k of keys) out.set(k, [k]);
      return out;
    }
    const unique = [...new Set(keys)];
    if (from === HUB) {
      // Hub ids → every source's keys in one statement, shared by the level's target spaces.
      const all = this.loader<string, ReadonlyMap<string, string[]>>(`xref:${entity}:hub:*`, async (gids) => {
        const m = await keysInAllSources(this.app.hub.knex, entity, gids);
        return gids.map((g) => m.get(g) ?? NO_KEYS);
      });
      const results = await all.loadMany(unique);
      unique.forEach((k, i) => {
        const r = results[i];
        if (r instanceof Error) throw r;
        out.set(k, r.get(to) ?? []);
      });
      return out;
    }
    const l = this.loader<string, string[]>(`xref:${entity}:${from}:${to}`, async (ks) => {
      const m = await translateKeys(this.app.hub.knex, entity, from, to, ks);
      return ks.map((k) => m.get(k) ?? []);
    });
    const results = await l.loadMany(unique);
    unique.forEach((k, i) => {
      const r = results[i];
      if (r instanceof Error) throw r;
      out.set(k, r);
    });
    return out;
  }

  /** A list of `entity` is being read: warn when no sync job fills it. */
  noteListRead(entity: EntityName): void {
    const u = this.rt.unsynced.get(entity);
    if (u) this.warnings.set(entity, u);
  }

  /** Records by key in their store's space, batched per entity. */
  byKey(entity: EntityName, key: string): Promise<Rec | null> {
    const store = this.rt.store(entity);
    return this.loader<string, Rec | null>(`byKey:${entity}`, async (ks) => {
      const m = await store.byKeys(ks);
      return ks.map((k) => m.get(k) ?? null);
    }).load(key);
  }

  /** A record of `entity` known by its key in `space`, read from the entity's store. */
  async recordIn(entity: EntityName, space: string, key: string): Promise<Rec | null> {
    const store = this.rt.store(entity);
    const keys = (await this.translate(entity, space, store.space, [key])).get(key) ?? [];
    for (const k of keys) {
      const r = await this.byKey(entity, k);
      if (r) return r;
    }
    return null;
  }
}

const scopes = new WeakMap<object, Scope>();

/** The warnings a request's scope collected (none when it read nothing through a scope). */
export function responseWarnings(context: object): UnsyncedEntity[] {
  return [...(scopes.get(context)?.warnings.values() ?? [])];
}

/** The request's scope, created on first use (the GraphQL context object is per request). */
export function scopeOf(rt: Runtime, context: object, viewer: Viewer): Scope {
  let s = scopes.get(context);
  if (!s) {
    s = new Scope(rt, viewer);
    scopes.set(context, s);
  }
  return s;
}

export { HUB, MODEL };
