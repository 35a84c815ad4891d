/**
 * Read resolvers, generated per entity. Every list goes through connections.ts (planning,
 * batching, paging), every single record through the Scope's batched loaders, and every field of
 * an entity type through the masking check.
 */
import type { GraphQLFieldResolver } from 'graphql';
import { CrmlinkError } from '../core/errors.js';
import { ENTITY_NAMES, MODEL, type EntityName } from './model.js';
import { LIST_RELATIONS, REF_RELATIONS, singularName } from './relations.js';
import { nestedConnection, topLevelConnection, cursorOf, type ConnectionArgs, type ConnectionSource } from './connections.js';
import { decodeId, federatedId } from './ids.js';
import { isHidden, isVisible, viewerFor, type Viewer } from './security.js';
import { scopeOf, type Runtime, type Scope } from './runtime.js';
import { HUB, type Rec } from './store.js';
import { fieldSources, sourceRecords, syncStatus } from './provenance.js';
import { addDecimals } from './decimal.js';
import { consoleResolvers } from './console-ops.js';

/** The GraphQL context: what use-auth puts there (yoga adds request and params). */
export interface CrmContext {
  viewer?: Viewer;
}

type Resolver = GraphQLFieldResolver<unknown, CrmContext, Record<string, unknown>>;
export type ResolverMap = Record<string, Record<string, Resolver | { __resolveType?: (v: unknown) => string } | unknown>>;

/** The request's scope; without use-auth (direct execution) the configured anonymous role applies. */
export function scope(rt: Runtime, ctx: CrmContext): Scope {
  const viewer = ctx.viewer ?? viewerFor(rt.app.config, { user: 'anonymous', role: rt.app.config.server.auth.anonymousRole });
  return scopeOf(rt, ctx as object, viewer);
}

/** A record by global id, or null when unknown, deleted or invisible to the viewer. */
export async function resolveNode(s: Scope, id: string, expect?: EntityName): Promise<Rec | null> {
  const d = decodeId(id);
  if (!d || (expect && d.entity !== expect)) return null;
  const rec = d.kind === 'hub' ? await s.recordIn(d.entity, HUB, d.gid) : await s.recordIn(d.entity, d.source, d.sourceKey);
  if (!rec) return null;
  return (await isVisible(s, rec)) ? rec : null;
}

/** The record a ref field points at, read from the target's store (no row rule applied here). */
function refTarget(s: Scope, rec: Rec, field: string, target: EntityName): Promise<Rec | null> {
  const v = rec.values[field];
  if (v === null || v === undefined) return Promise.resolve(null);
  return s.recordIn(target, rec.space, String(v));
}

function receivableBalance(s: Scope, rec: Rec): Promise<string> {
  const invoices = s.rt.store('Invoice');
  return s
    .loader<Rec, string>(
      'receivableBalance',
      async (customers) => {
        const bySpace = new Map<string, Rec[]>();
        for (const c of customers) {
          const list = bySpace.get(c.space);
          if (list) list.push(c);
          else bySpace.set(c.space, [c]);
        }
        const keysOf = new Map<Rec, string[]>();
        for (const [space, recs] of bySpace) {
          const m = await s.translate('Customer', space, invoices.space, recs.map((r) => r.key));
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
        return customers.map((c) => addDecimals((keysOf.get(c) ?? []).map((k) => byGroup.get(k) ?? '0')));
      },
      (r) => `${r.space}:${r.key}`,
    )
    .load(rec);
}

export function buildResolvers(rt: Runtime): ResolverMap {
  const map: ResolverMap = {};
  const query: Record<string, Resolver> = {};

  map.Node = { __resolveType: (v: unknown) => (v as Rec).entity };
  map.PageInfo = {};

  query.node = async (_p, args, ctx) => resolveNode(scope(rt, ctx), String(args.id));
  query.nodes = async (_p, args, ctx) => {
    const s = scope(rt, ctx);
    return Promise.all((args.ids as string[]).map((id) => resolveNode(s, id)));
  };

  for (const entity of ENTITY_NAMES) {
    const t: Record<string, Resolver> = {};
    /** Masking: a hidden field resolves to null for the viewer's role. */
    const masked =
      (field: string, r: Resolver): Resolver =>
      (p, a, ctx, info) =>
        isHidden(scope(rt, ctx).viewer, entity, field) ? null : r(p, a, ctx, info);

    t.id = (r) => (r as Rec).id;
    t.version = (r) => (r as Rec).version;
    for (const f of rt.fields(entity)) {
      if (f.type === 'ref' && f.ref) {
        const target = f.ref;
        // The ref as a global id: free when the target lives in the same space, else one batched lookup.
        t[f.name] = masked(f.name, async (r, _a, ctx) => {
          const rec = r as Rec;
          const v = rec.values[f.name];
          if (v === null || v === undefined) return null;
          const targetSpace = rt.store(target).space;
          if (targetSpace === rec.space) return targetSpace === HUB ? String(v) : federatedId(target, targetSpace, String(v));
          return (await refTarget(scope(rt, ctx), rec, f.name, target))?.id ?? null;
        });
      } else {
        t[f.name] = masked(f.name, (r) => (r as Rec).values[f.name] ?? null);
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
      t[rel.name] = masked(rel.name, (r, args, ctx) =>
        nestedConnection(scope(rt, ctx), `${entity}.${rel.name}`, { parent: r as Rec, child: rel.child, via: rel.via }, args as ConnectionArgs),
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
      edges: async (c: ConnectionSource) => {
        const [plan, page] = await Promise.all([c.plan, c.page()]);
        return page.recs.map((node) => ({ cursor: cursorOf(plan, node), node }));
      },
      nodes: async (c: ConnectionSource) => (await c.page()).recs,
      pageInfo: async (c: ConnectionSource) => {
        const [plan, page] = await Promise.all([c.plan, c.page()]);
        const first = page.recs[0];
        const last = page.recs[page.recs.length - 1];
        return {
          hasNextPage: page.hasNextPage,
          hasPreviousPage: page.hasPreviousPage,
          startCursor: first ? cursorOf(plan, first) : null,
          endCursor: last ? cursorOf(plan, last) : null,
        };
      },
      totalCount: (c: ConnectionSource) => c.totalCount(),
      aggregate: (c: ConnectionSource) => c.aggregate(),
    };

    query[singularName(entity)] = (_p, args, ctx) => resolveNode(scope(rt, ctx), String(args.id), entity);
    query[MODEL[entity].plural] = (_p, args, ctx) => topLevelConnection(scope(rt, ctx), entity, args as ConnectionArgs);
  }
  // The operations console's fields (schema/console-ops.ts); its mutations join the others in index.ts.
  const consoleOps = consoleResolvers(rt);
  map.Query = { ...query, ...consoleOps.query };
  map.Mutation = consoleOps.mutation;
  return map;
}

export function notFound(entity: EntityName, id: string): CrmlinkError {
  return new CrmlinkError('NOT_FOUND', `${entity} ${id} not found (or not visible to you)`, { entity, key: id });
}
