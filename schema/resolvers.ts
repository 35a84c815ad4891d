/**
 * Read resolvers, generated per entity. Every list goes through connections.ts (planning,
 * batching, paging), every single record through the Scope's batched loaders. Plain fields have
 * no resolver: records expose them as properties (store.ts), which graphql-jit reads inline;
 * only fields some role hides get a resolver with the masking check, decided when the schema is
 * built.
 */
import type { GraphQLFieldResolver } from 'graphql';
import { CrmlinkError } from '../core/errors.js';
import { ENTITY_NAMES, MODEL, withDerivedHidden, type EntityName } from '../model/entities.js';
import { LIST_RELATIONS, REF_RELATIONS, singularName } from './relations.js';
import { nestedConnection, topLevelConnection, cursorOf, MAX_PAGE_SIZE, type ConnectionArgs, type ConnectionSource, type Page, type Plan } from './connections.js';
import type { CrmlinkConfig } from '../config/schema.js';
import { decodeId, federatedId } from './ids.js';
import { anonymousViewer, isHidden, isVisible, visibilityWorkForMissing, type Viewer } from './security.js';
import { scopeOf, type Runtime, type Scope } from './runtime.js';
import { HUB, exposesField, type Rec } from './store.js';
import { fieldSources, sourceRecords, syncStatus } from './provenance.js';
import { addDecimals } from '../model/decimal.js';
import { connectionFields } from './selection.js';

/** The GraphQL context: what use-auth puts there (yoga adds request and params). */
export interface CrmContext {
  viewer?: Viewer;
}

type Resolver = GraphQLFieldResolver<unknown, CrmContext, Record<string, unknown>>;
export type ResolverMap = Record<string, Record<string, Resolver | { __resolveType?: (v: unknown) => string } | unknown>>;

/** The request's scope; without use-auth (direct execution) the configured anonymous role applies. */
export function scope(rt: Runtime, ctx: CrmContext): Scope {
  const viewer = ctx.viewer ?? anonymousViewer(rt.app.config);
  return scopeOf(rt, ctx as object, viewer);
}

/** A record by global id, or null when unknown, deleted or invisible to the viewer. */
export async function resolveNode(s: Scope, id: string, expect?: EntityName): Promise<Rec | null> {
  const d = decodeId(id);
  if (!d || (expect && d.entity !== expect)) return null;
  const rec = d.kind === 'hub' ? await s.recordIn(d.entity, HUB, d.gid) : await s.recordIn(d.entity, d.source, d.sourceKey);
  if (!rec) {
    await visibilityWorkForMissing(s, d.entity);
    return null;
  }
  return (await isVisible(s, rec)) ? rec : null;
}

/** The space a record's ref field holds keys of (its store's `refSpace`). */
function refSpaceOf(s: Scope, rec: Rec, field: string): string {
  return s.rt.store(rec.entity).refSpace(field);
}

/** The record a ref field points at, read from the target's store (no row rule applied here). */
function refTarget(s: Scope, rec: Rec, field: string, target: EntityName): Promise<Rec | null> {
  const v = rec.get(field);
  if (v === null || v === undefined) return Promise.resolve(null);
  return s.recordIn(target, refSpaceOf(s, rec, field), String(v));
}

/** The invoice fields a receivable balance is computed from. */
const RECEIVABLE_FIELDS = ['customerId', 'balance', 'status'] as const;

/** Whether any source maps the invoice fields a receivable balance needs. */
function receivablesMapped(s: Scope): boolean {
  const sources = s.app.config.entities.Invoice?.sources ?? {};
  return Object.values(sources).some((m) => RECEIVABLE_FIELDS.every((f) => m !== undefined && Object.prototype.hasOwnProperty.call(m.fields, f)));
}

/**
 * Unknown is not zero: null when no source maps invoices with customer, balance and status, and
 * for a customer with no record in the invoices' system; 0 only when the invoices were looked at
 * and none is open.
 */
function receivableBalance(s: Scope, rec: Rec): Promise<string | null> {
  if (!receivablesMapped(s)) return Promise.resolve(null);
  const invoices = s.rt.store('Invoice');
  return s
    .loader<Rec, string | null>(
      'receivableBalance',
      async (customers) => {
        const bySpace = new Map<string, Rec[]>();
        for (const c of customers) {
          const list = bySpace.get(c.space);
          if (list) list.push(c);
          else bySpace.set(c.space, [c]);
        }
        // Customer keys → the keys invoices hold in customerId (finance's own, or its refSource's).
        const to = invoices.refSpace('customerId');
        const keysOf = new Map<Rec, string[]>();
        for (const [space, recs] of bySpace) {
          const m = await s.translate('Customer', space, to, recs.map((r) => r.key));
          for (const r of recs) keysOf.set(r, m.get(r.key) ?? []);
        }
        const all = [...new Set([...keysOf.values()].flat())];
        // Pushed down: SUM(balance) of open invoices GROUP BY customer, in the invoices' own store.
        const rows = all.length
          ? await invoices.aggregate({ field: 'status', op: 'in', value: ['OPEN', 'PARTIAL'] }, [{ fn: 'sum', field: 'balance', as: 'balance' }], {
              field: 'customerId',
              values: all,
            })
          : [];
        const byGroup = new Map(rows.map((r) => [String(r._g), r.balance === null || r.balance === undefined ? '0' : String(r.balance)]));
        return customers.map((c) => {
          const keys = keysOf.get(c) ?? [];
          return keys.length === 0 ? null : addDecimals(keys.map((k) => byGroup.get(k) ?? '0'));
        });
      },
      (r) => `${r.space}:${r.key}`,
    )
    .load(rec);
}

/**
 * Schema coordinates ("Customer.creditLimit") that some role of the config hides. Only these
 * fields pay for a masking check; every other field resolves straight from the record.
 */
export function hideableFields(config: CrmlinkConfig): Set<string> {
  const out = new Set<string>();
  for (const role of Object.values(config.server.auth.roles)) for (const c of role?.hide ?? []) out.add(c);
  return withDerivedHidden(out);
}

/**
 * A connection field resolves once its plan does: arguments the plan refuses (page size, first
 * with last, a cursor, an orderBy or filter on a hidden field) become this field's error even when
 * the selection reads nothing that awaits the plan (`{ customers(first: 5000) { __typename } }`).
 */
function planned(c: ConnectionSource): ConnectionSource | Promise<ConnectionSource> {
  return c.planNow ? c : c.plan.then(() => c);
}

/** An edge: the cursor is encoded only when the query asks for it. */
class Edge {
  constructor(
    private readonly plan: Plan,
    readonly node: Rec,
  ) {}

  get cursor(): string {
    return cursorOf(this.plan, this.node);
  }
}

/** PageInfo: start and end cursors likewise. */
class PageInfo {
  readonly hasNextPage: boolean;
  readonly hasPreviousPage: boolean;

  constructor(
    private readonly plan: Plan,
    private readonly page: Page,
  ) {
    this.hasNextPage = page.hasNextPage;
    this.hasPreviousPage = page.hasPreviousPage;
  }

  get startCursor(): string | null {
    const first = this.page.recs[0];
    return first ? cursorOf(this.plan, first) : null;
  }

  get endCursor(): string | null {
    const last = this.page.recs[this.page.recs.length - 1];
    return last ? cursorOf(this.plan, last) : null;
  }
}

export function buildResolvers(rt: Runtime): ResolverMap {
  const map: ResolverMap = {};
  const query: Record<string, Resolver> = {};

  map.Node = { __resolveType: (v: unknown) => (v as Rec).entity };
  map.PageInfo = {};

  query.node = async (_p, args, ctx) => resolveNode(scope(rt, ctx), String(args.id));
  query.nodes = async (_p, args, ctx) => {
    const s = scope(rt, ctx);
    const ids = args.ids as string[];
    if (ids.length > MAX_PAGE_SIZE) throw new CrmlinkError('VALIDATION_FAILED', `ids: ${ids.length} ids; at most ${MAX_PAGE_SIZE} per request`, { field: 'ids' });
    return Promise.all(ids.map((id) => resolveNode(s, id)));
  };

  const hideable = hideableFields(rt.app.config);
  for (const entity of ENTITY_NAMES) {
    const t: Record<string, Resolver> = {};
    /**
     * Masking: a hidden field resolves to null for the viewer's role. Decided once per field at
     * build time: a field no role hides gets no check at all.
     */
    const masked = (field: string, r: Resolver): Resolver =>
      hideable.has(`${entity}.${field}`) ? (p, a, ctx, info) => (isHidden(scope(rt, ctx).viewer, entity, field) ? null : r(p, a, ctx, info)) : r;

    // id and every field no role hides are properties of the record (store.ts withFieldGetters):
    // the default resolver reads them, with no resolver call per field and row. The version reads
    // every field of a source record, and may meet one that does not convert: through a resolver,
    // whose error graphql-jit catches (a getter read inline that throws leaves the request unanswered).
    t.version = (r) => (r as Rec).version;
    const store = rt.store(entity);
    for (const f of rt.fields(entity)) {
      const name = f.name;
      if (f.type === 'ref' && f.ref) {
        const target = f.ref;
        const targetSpace = rt.store(target).space;
        // The ref as a global id: free when the field holds keys of the target's own space, else one batched lookup.
        const direct = store.refSpace(name) === targetSpace;
        t[name] = masked(name, (r, _a, ctx) => {
          const rec = r as Rec;
          const v = rec.get(name);
          if (v === null || v === undefined) return null;
          if (direct) return targetSpace === HUB ? String(v) : federatedId(target, targetSpace, String(v));
          return refTarget(scope(rt, ctx), rec, name, target).then((x) => x?.id ?? null);
        });
      } else if (hideable.has(`${entity}.${name}`) || !exposesField(name)) {
        t[name] = masked(name, (r) => (r as Rec).get(name));
      }
    }
    for (const rel of REF_RELATIONS.filter((x) => x.entity === entity)) {
      t[rel.name] = masked(rel.name, async (r, _a, ctx) => {
        const s = scope(rt, ctx);
        const target = await refTarget(s, r as Rec, rel.field, rel.target);
        return target && (await isVisible(s, target)) ? target : null;
      });
    }
    for (const rel of LIST_RELATIONS.filter((x) => x.parent === entity)) {
      const key = `${entity}.${rel.name}`;
      const childStore = rt.store(rel.child);
      t[rel.name] = masked(rel.name, (r, args, ctx, info) =>
        planned(nestedConnection(scope(rt, ctx), key, { parent: r as Rec, child: rel.child, via: rel.via }, args as ConnectionArgs, connectionFields(info, rel.child, childStore), info?.fieldNodes?.[0])),
      );
    }
    if (entity === 'Customer') t.receivableBalance = masked('receivableBalance', (r, _a, ctx) => receivableBalance(scope(rt, ctx), r as Rec));
    t.sourceRecords = masked('sourceRecords', (r, _a, ctx) => sourceRecords(scope(rt, ctx), r as Rec));
    t.fieldSources = masked('fieldSources', async (r, _a, ctx) => {
      const s = scope(rt, ctx);
      return (await fieldSources(s, r as Rec)).filter((fs) => !isHidden(s.viewer, entity, fs.field));
    });
    t.syncStatus = (r, _a, ctx) => syncStatus(scope(rt, ctx), r as Rec);
    map[entity] = t;

    map[`${entity}Connection`] = {
      edges: (c: ConnectionSource) => Promise.all([c.plan, c.page()]).then(([plan, page]) => page.recs.map((node) => new Edge(plan, node))),
      nodes: (c: ConnectionSource) => c.nodes(),
      pageInfo: (c: ConnectionSource) => Promise.all([c.plan, c.page()]).then(([plan, page]) => new PageInfo(plan, page)),
      totalCount: (c: ConnectionSource) => c.totalCount(),
      aggregate: (c: ConnectionSource) => c.aggregate(),
    };

    query[singularName(entity)] = (_p, args, ctx) => resolveNode(scope(rt, ctx), String(args.id), entity);
    query[MODEL[entity].plural] = (_p, args, ctx, info) => planned(topLevelConnection(scope(rt, ctx), entity, args as ConnectionArgs, connectionFields(info, entity, store)));
  }
  map.Query = query;
  return map;
}

export function notFound(entity: EntityName, id: string): CrmlinkError {
  return new CrmlinkError('NOT_FOUND', `${entity} ${id} not found (or not visible to you)`, { entity, key: id });
}
