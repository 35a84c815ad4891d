/**
 * Relay connections over any store: where/orderBy/first/after/last/before → one store query, and
 * the page, cursors, totalCount and aggregates from it. Top-level lists query directly; nested
 * lists go through DataLoaders keyed by the arguments, one statement per level for every parent.
 *
 * Ordering is the requested fields then the record key (stable tie-break); `last/before` runs the
 * reversed order and flips the page back. Cursors hold the raw values of the sort columns.
 */
import type { Row } from '../connectors/driver.js';
import { CrmlinkError } from '../core/errors.js';
import { stableStringify } from '../model/values.js';
import { and, fieldsIn, keysetAfter, TRUE, whereToFilter, type Filter, type GqlWhere, type SortColumn } from './filters.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { decodeId } from './ids.js';
import type { EntityName, ModelField } from '../model/entities.js';
import type { Scope } from './runtime.js';
import { assertNotHidden, isHidden, visibilityFilter } from './security.js';
import type { AggSpec, EntityStore, Rec } from './store.js';
import { addDecimals } from '../model/decimal.js';
import type DataLoader from 'dataloader';
import { fieldsKey } from './selection.js';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 1000;

export interface ConnectionArgs {
  where?: GqlWhere | null;
  orderBy?: { field: string; direction?: 'ASC' | 'DESC' | null }[] | null;
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

export interface Plan {
  entity: EntityName;
  store: EntityStore;
  /** where + row rule + cursor bounds: what the page reads. */
  filter: Filter;
  /** where + row rule: what totalCount and aggregates cover (the whole set, not the page). */
  baseFilter: Filter;
  /** Query order (already reversed for `last`). */
  sort: SortColumn[];
  /** Forward order: cursors are made from it. */
  forwardSort: SortColumn[];
  signature: string;
  backward: boolean;
  limit: number;
  hasAfter: boolean;
  hasBefore: boolean;
}

export interface Page {
  recs: Rec[];
  hasNextPage: boolean;
  hasPreviousPage: boolean;
}

/** Ids and refs in `where` arrive as global ids and are turned into the store's keys. */
/** The keys in space `to` of the records these GraphQL ids name; ids of another entity name none. */
async function keysOfIds(scope: Scope, entity: EntityName, ids: readonly string[], to: string): Promise<string[]> {
  const keys: string[] = [];
  for (const id of ids) {
    const d = decodeId(id);
    if (!d || d.entity !== entity) continue;
    const space = d.kind === 'hub' ? 'hub' : d.source;
    const key = d.kind === 'hub' ? d.gid : d.sourceKey;
    keys.push(...((await scope.translate(entity, space, to, [key])).get(key) ?? []));
  }
  return keys;
}

async function filterFor(scope: Scope, entity: EntityName, where: GqlWhere | null | undefined): Promise<Filter> {
  const store = scope.rt.store(entity);
  const f = await whereToFilter(where, {
    fieldType: (field) => store.fields.get(field)?.type,
    idsToKeys: (ids) => keysOfIds(scope, entity, ids, store.space),
    refIdsToValues: async (field, ids) => {
      const target = store.fields.get(field)?.ref;
      if (!target) return [];
      // The column holds keys of its ref space: the entity's own, or the mapping's refSource.
      return keysOfIds(scope, target, ids, store.refSpace(field));
    },
  });
  const used = fieldsIn(f);
  assertNotHidden(scope.viewer, entity, used, 'filtering');
  for (const field of used) store.checkFilterable(field);
  return f;
}

function pageSize(n: number | null | undefined, arg: string): number {
  if (n === null || n === undefined) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(n) || n < 0 || n > MAX_PAGE_SIZE) {
    throw new CrmlinkError('VALIDATION_FAILED', `${arg}: expected an integer between 0 and ${MAX_PAGE_SIZE}, got ${n}`, { field: arg });
  }
  return n;
}

/**
 * Build the plan of one connection field. `rowRule`: apply the viewer's row rule (top-level
 * lists); nested lists under a visible parent need not.
 */
export async function planConnection(scope: Scope, entity: EntityName, args: ConnectionArgs, rowRule: boolean): Promise<Plan> {
  return planWith(scope, entity, args, async () => {
    const base: Filter[] = [await filterFor(scope, entity, args.where)];
    if (rowRule) base.push(await visibilityFilter(scope, entity));
    return base;
  });
}

/**
 * The plan of a nested connection without `where` (no row rule under a visible parent), made
 * without waiting: nothing in it reads the hub or a source. undefined when it needs planConnection.
 * A customer-360 page resolves 650 nested connections; one known at once is handed to GraphQL as
 * it is, not through a promise per parent.
 */
export function planNestedNow(scope: Scope, entity: EntityName, args: ConnectionArgs): Plan | undefined {
  if (args.where) return undefined;
  return planWith(scope, entity, args, () => [TRUE]);
}

/** planConnection's steps, in its order; `baseFilters` gives where + row rule, waited on when a promise. */
function planWith(scope: Scope, entity: EntityName, args: ConnectionArgs, baseFilters: () => Filter[]): Plan;
function planWith(scope: Scope, entity: EntityName, args: ConnectionArgs, baseFilters: () => Promise<Filter[]>): Promise<Plan>;
function planWith(scope: Scope, entity: EntityName, args: ConnectionArgs, baseFilters: () => Filter[] | Promise<Filter[]>): Plan | Promise<Plan> {
  const store = scope.rt.store(entity);
  scope.noteListRead(entity);
  if (args.first != null && args.last != null) {
    throw new CrmlinkError('VALIDATION_FAILED', 'pass either first or last, not both', { field: 'first' });
  }
  const backward = args.last != null || (args.before != null && args.first == null);
  const limit = backward ? pageSize(args.last, 'last') : pageSize(args.first, 'first');

  const order = args.orderBy ?? [];
  assertNotHidden(scope.viewer, entity, order.map((o) => o.field), 'sorting');
  const forwardSort: SortColumn[] = [];
  for (const o of order) {
    const column = store.sortColumn(o.field);
    if (!forwardSort.some((s) => s.column === column)) forwardSort.push({ column, direction: o.direction === 'DESC' ? 'desc' : 'asc' });
  }
  for (const k of store.keySort()) if (!forwardSort.some((s) => s.column === k.column)) forwardSort.push(k);
  const signature = `${entity}:${forwardSort.map((s) => `${s.column}:${s.direction}`).join(',')}`;
  const reversed = forwardSort.map((s) => ({ column: s.column, direction: s.direction === 'asc' ? ('desc' as const) : ('asc' as const) }));

  const finish = (base: Filter[]): Plan => {
    const parts = [...base];
    if (args.after) parts.push(keysetAfter(forwardSort, decodeCursor(args.after, signature, 'after', forwardSort.length), store.nullsFirstAsc));
    if (args.before) parts.push(keysetAfter(reversed, decodeCursor(args.before, signature, 'before', forwardSort.length), store.nullsFirstAsc));
    return {
      entity,
      store,
      filter: and(...parts),
      baseFilter: and(...base),
      sort: backward ? reversed : forwardSort,
      forwardSort,
      signature,
      backward,
      limit,
      hasAfter: !!args.after,
      hasBefore: !!args.before,
    };
  };
  const base = baseFilters();
  return base instanceof Promise ? base.then(finish) : finish(base);
}

export function toPage(plan: Plan, fetched: Rec[]): Page {
  const more = fetched.length > plan.limit;
  const recs = fetched.slice(0, plan.limit);
  if (plan.backward) recs.reverse();
  return {
    recs,
    hasNextPage: plan.backward ? plan.hasBefore : more,
    hasPreviousPage: plan.backward ? more : plan.hasAfter,
  };
}

export function cursorOf(plan: Plan, rec: Rec): string {
  return encodeCursor(
    plan.signature,
    plan.forwardSort.map((s) => rec.raw[s.column]),
  );
}

/**
 * A plan is awaited by the connection field's resolver (resolvers.ts), which reports its refusal;
 * the no-op handler only keeps a plan that nothing else awaits from being an unhandled rejection,
 * which would end the process. Every awaiter still gets the rejection.
 */
function settled(plan: Promise<Plan>): Promise<Plan> {
  plan.catch(() => undefined);
  return plan;
}

/** What a Connection type's resolvers read. */
export interface ConnectionSource {
  plan: Promise<Plan>;
  /** The plan, when known without waiting (a nested connection without where). */
  readonly planNow?: Plan;
  page(): Promise<Page>;
  /** The page's records (page().recs, with one promise less per parent of a nested level). */
  nodes(): Promise<Rec[]>;
  totalCount(): Promise<number>;
  aggregate(): Promise<AggregateResult>;
}

export interface AggregateResult {
  count: number;
  sum: Record<string, unknown> | null;
  avg: Record<string, unknown> | null;
  min: Record<string, unknown> | null;
  max: Record<string, unknown> | null;
}

export function isNumeric(f: ModelField): boolean {
  return f.type === 'int' || f.type === 'decimal';
}

export function isOrdered(f: ModelField): boolean {
  return isNumeric(f) || f.type === 'date' || f.type === 'datetime';
}

/** Every aggregate the schema offers for the entity, minus hidden fields and fields the store cannot push down. */
function aggSpecs(scope: Scope, store: EntityStore): AggSpec[] {
  const specs: AggSpec[] = [{ fn: 'count', as: 'count' }];
  for (const f of store.fields.values()) {
    if (!isOrdered(f) || isHidden(scope.viewer, store.entity, f.name)) continue;
    try {
      store.checkFilterable(f.name);
    } catch {
      continue;
    }
    if (isNumeric(f)) specs.push({ fn: 'sum', field: f.name, as: `sum__${f.name}` }, { fn: 'avg', field: f.name, as: `avg__${f.name}` });
    specs.push({ fn: 'min', field: f.name, as: `min__${f.name}` }, { fn: 'max', field: f.name, as: `max__${f.name}` });
  }
  return specs;
}

function shapeAggregate(row: Row | undefined, specs: AggSpec[]): AggregateResult {
  const out: AggregateResult = { count: Number(row?.count ?? 0), sum: {}, avg: {}, min: {}, max: {} };
  for (const s of specs) {
    if (s.fn === 'count' || !s.field) continue;
    (out[s.fn] as Record<string, unknown>)[s.field] = row ? (row[s.as] ?? null) : null;
  }
  return out;
}

/** Combine the groups of one parent that has several keys in the child's space. */
function combine(rows: Row[], specs: AggSpec[]): Row | undefined {
  if (rows.length <= 1) return rows[0];
  const out: Row = { count: rows.reduce((n, r) => n + Number(r.count ?? 0), 0) };
  for (const s of specs) {
    if (s.fn === 'count') continue;
    const vals = rows.map((r) => r[s.as]).filter((v) => v !== null && v !== undefined);
    if (vals.length === 0) out[s.as] = null;
    else if (s.fn === 'sum') out[s.as] = addDecimals(vals.map(String));
    else if (s.fn === 'avg') out[s.as] = null; // an average of averages would be wrong: unknown rather than wrong
    else {
      const cmp = (a: unknown, b: unknown) => (typeof a === 'number' && typeof b === 'number' ? a - b : Number(a) - Number(b) || String(a).localeCompare(String(b)));
      out[s.as] = vals.reduce((a, b) => ((s.fn === 'min' ? cmp(b, a) < 0 : cmp(b, a) > 0) ? b : a));
    }
  }
  return out;
}

/**
 * A top-level list: queries go straight to the store (each at most once). `fields`: what the query
 * reads of the records (schema/selection.ts); undefined: everything.
 */
export function topLevelConnection(scope: Scope, entity: EntityName, args: ConnectionArgs, fields?: ReadonlySet<string>): ConnectionSource {
  const plan = settled(planConnection(scope, entity, args, true));
  let page: Promise<Page> | undefined;
  let agg: Promise<Row | undefined> | undefined;
  const specsOf = (p: Plan) => aggSpecs(scope, p.store);
  const aggregateRow = () =>
    (agg ??= plan.then(async (p) => (await p.store.aggregate(p.baseFilter, specsOf(p)))[0]));
  const pageOf = () => (page ??= plan.then(async (p) => toPage(p, await p.store.select({ where: p.filter, sort: p.sort, limit: p.limit + 1, ...(fields ? { fields } : {}) }))));
  return {
    plan,
    page: pageOf,
    nodes: () => pageOf().then((p) => p.recs),
    totalCount: async () => Number((await aggregateRow())?.count ?? 0),
    aggregate: async () => shapeAggregate(await aggregateRow(), specsOf(await plan)),
  };
}


export interface ParentLink {
  /** The parent record. */
  parent: Rec;
  /** Child entity and its ref field pointing at the parent's entity. */
  child: EntityName;
  via: string;
}

/** What every parent of one nested connection field (same relation, same arguments) shares in a request. */
interface NestedLevel {
  plan: Promise<Plan>;
  /** The plan, when it was made without waiting (planNestedNow). */
  planNow?: Plan;
  pages: LevelPages;
  aggregates: DataLoader<Rec, Row | undefined, string>;
}

const recCacheKey = (r: Rec) => `${r.space}:${r.key}`;

/** Parents per statement of a nested level (as Scope's loaders: maxBatchSize). */
const MAX_PARENTS_PER_BATCH = 1000;

interface PageBatch {
  parents: Rec[];
  keys: string[];
  pages: Promise<Map<string, Page>>;
}

/**
 * The pages of one nested level, batched as the Scope's DataLoaders batch: parents asked for until
 * the level's pending promises have settled (setImmediate), at most MAX_PARENTS_PER_BATCH per
 * statement, each parent (space and key) fetched once per request and again only after a failed
 * batch. One promise per batch instead of a promise, its resolvers and a callback per parent: a
 * customer-360 page asks for 650 nested pages.
 */
class LevelPages {
  private readonly byParent = new Map<string, PageBatch>();
  private current?: PageBatch;

  constructor(private readonly fetch: (parents: readonly Rec[]) => Promise<Page[]>) {}

  load(parent: Rec): Promise<Page> {
    const key = this.enqueue(parent);
    return (this.byParent.get(key) as PageBatch).pages.then((pages) => pages.get(key) as Page);
  }

  /** The parent's page's records: one promise per parent, not a page promise and a records one. */
  loadRecs(parent: Rec): Promise<Rec[]> {
    const key = this.enqueue(parent);
    return (this.byParent.get(key) as PageBatch).pages.then((pages) => (pages.get(key) as Page).recs);
  }

  /** The parent in a batch (the open one, or a new one); its cache key. */
  private enqueue(parent: Rec): string {
    const key = recCacheKey(parent);
    let batch = this.byParent.get(key);
    if (!batch) {
      batch = this.current && this.current.parents.length < MAX_PARENTS_PER_BATCH ? this.current : this.open();
      batch.parents.push(parent);
      batch.keys.push(key);
      this.byParent.set(key, batch);
    }
    return key;
  }

  private open(): PageBatch {
    const batch = { parents: [], keys: [] } as unknown as PageBatch;
    batch.pages = new Promise((resolve) =>
      setImmediate(() => {
        if (this.current === batch) this.current = undefined;
        resolve(this.run(batch));
      }),
    );
    this.current = batch;
    return batch;
  }

  private async run(batch: PageBatch): Promise<Map<string, Page>> {
    try {
      const pages = await this.fetch(batch.parents);
      const out = new Map<string, Page>();
      batch.keys.forEach((k, i) => out.set(k, pages[i]));
      return out;
    } catch (err) {
      // As a DataLoader forgets failed keys: a later load of the same parent tries again.
      for (const k of batch.keys) if (this.byParent.get(k) === batch) this.byParent.delete(k);
      throw err;
    }
  }
}

function hasArgs(args: ConnectionArgs): boolean {
  for (const k in args) if ((args as Record<string, unknown>)[k] !== undefined && (args as Record<string, unknown>)[k] !== null) return true;
  return false;
}

function nestedLevel(scope: Scope, relationKey: string, parentEntity: EntityName, child: EntityName, via: string, args: ConnectionArgs, fields: ReadonlySet<string> | undefined): NestedLevel {
  const argKey = hasArgs(args) ? `${relationKey}:${stableStringify(args)}` : relationKey;
  // Parents asking for other fields of the children get their own level: a page read for one
  // selection must not answer another (it may lack columns).
  return scope.memo(`nested:${argKey}:${fieldsKey(fields)}`, () => {
    let planNow: Plan | undefined;
    let plan: Promise<Plan>;
    try {
      planNow = planNestedNow(scope, child, args);
      plan = planNow ? Promise.resolve(planNow) : settled(planConnection(scope, child, args, false));
    } catch (err) {
      // Refused arguments: the connection field's error, as planConnection's rejection would be.
      plan = settled(Promise.reject(err as Error));
    }

    /** Parent records → their keys in the space of the child's ref field, one translation per level. */
    const childKeys = async (parents: readonly Rec[], p: Plan): Promise<Map<Rec, string[]>> => {
      const to = p.store.refSpace(via);
      const bySpace = new Map<string, Rec[]>();
      for (const r of parents) {
        const list = bySpace.get(r.space);
        if (list) list.push(r);
        else bySpace.set(r.space, [r]);
      }
      const out = new Map<Rec, string[]>();
      for (const [space, recs] of bySpace) {
        const m = await scope.translate(parentEntity, space, to, recs.map((r) => r.key));
        for (const r of recs) out.set(r, m.get(r.key) ?? []);
      }
      return out;
    };

    const pages = new LevelPages(async (parents) => {
      const p = await plan;
      const keys = await childKeys(parents, p);
      const all = [...new Set([...keys.values()].flat())];
      const recs = all.length
        ? await p.store.select({ where: p.filter, sort: p.sort, limit: p.limit + 1, partition: { field: via, values: all }, ...(fields ? { fields } : {}) })
        : [];
      const byRef = new Map<string, Rec[]>();
      for (const r of recs) {
        const k = String(r.get(via));
        const list = byRef.get(k);
        if (list) list.push(r);
        else byRef.set(k, [r]);
      }
      return parents.map((parent) => {
        const mine = keys.get(parent) ?? [];
        return toPage(p, mine.length === 1 ? (byRef.get(mine[0]) ?? []) : mine.flatMap((k) => byRef.get(k) ?? []));
      });
    });

    const aggregates = scope.newLoader<Rec, Row | undefined>(async (parents) => {
      const p = await plan;
      const specs = aggSpecs(scope, p.store);
      const keys = await childKeys(parents, p);
      const all = [...new Set([...keys.values()].flat())];
      const rows = all.length ? await p.store.aggregate(p.baseFilter, specs, { field: via, values: all }) : [];
      const byGroup = new Map<string, Row>();
      for (const r of rows) byGroup.set(String(r._g), r);
      return parents.map((parent) => combine((keys.get(parent) ?? []).map((k) => byGroup.get(k)).filter((r): r is Row => !!r), specs));
    }, recCacheKey);

    return { plan, planNow, pages, aggregates };
  });
}

/** One parent's nested connection: its page and aggregates come from the level's loaders. */
class NestedConnection implements ConnectionSource {
  constructor(
    private readonly scope: Scope,
    private readonly level: NestedLevel,
    private readonly parent: Rec,
  ) {}

  get plan(): Promise<Plan> {
    return this.level.plan;
  }

  /** The plan if made already: the connection needs no wait before its fields resolve. */
  get planNow(): Plan | undefined {
    return this.level.planNow;
  }

  page(): Promise<Page> {
    return this.level.pages.load(this.parent);
  }

  nodes(): Promise<Rec[]> {
    return this.level.pages.loadRecs(this.parent);
  }

  async totalCount(): Promise<number> {
    return Number((await this.level.aggregates.load(this.parent))?.count ?? 0);
  }

  async aggregate(): Promise<AggregateResult> {
    return shapeAggregate(await this.level.aggregates.load(this.parent), aggSpecs(this.scope, (await this.level.plan).store));
  }
}

/**
 * A nested list: parent records of one level are batched by DataLoaders keyed by the field's
 * arguments, so `customers(first: 50) { salesOrders { lines } }` is one statement per level. The
 * parents' keys are translated into the space of the child's ref field (`refSpace`), which is the
 * child's own source unless its mapping says `refSource`.
 */
export function nestedConnection(scope: Scope, relationKey: string, link: ParentLink, args: ConnectionArgs, fields?: ReadonlySet<string>, fieldNode?: object): ConnectionSource {
  let level = fieldNode ? levelOfNode(scope, fieldNode, relationKey) : undefined;
  if (!level) {
    level = nestedLevel(scope, relationKey, link.parent.entity, link.child, link.via, args, fields);
    if (fieldNode) keepLevelOfNode(scope, fieldNode, relationKey, level);
  }
  return new NestedConnection(scope, level, link.parent);
}

/**
 * The level of a connection field node in this request: a field node's arguments and selection
 * are the same for every parent of a request (its variables do not change), so the level found
 * for the first parent serves the others without building and hashing its memo key per parent.
 */
function levelsByNode(scope: Scope): WeakMap<object, Map<string, NestedLevel>> {
  return scope.memo('nested-by-node', newLevelsByNode);
}

const newLevelsByNode = () => new WeakMap<object, Map<string, NestedLevel>>();

function levelOfNode(scope: Scope, fieldNode: object, relationKey: string): NestedLevel | undefined {
  return levelsByNode(scope).get(fieldNode)?.get(relationKey);
}

function keepLevelOfNode(scope: Scope, fieldNode: object, relationKey: string, level: NestedLevel): void {
  const byNode = levelsByNode(scope);
  let byRelation = byNode.get(fieldNode);
  if (!byRelation) byNode.set(fieldNode, (byRelation = new Map()));
  byRelation.set(relationKey, level);
}
