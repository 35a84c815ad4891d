/**
 * Rejects operations that would cost more than server.limits.cost before any SQL runs
 * (QUERY_TOO_COMPLEX). The cost estimates the records read and the statements run:
 *
 * - every field at the root, and every aliased field, costs at least 1 (ten thousand aliases of a
 *   cheap field are ten thousand resolutions);
 * - an object field costs 1 plus its selection; a connection costs 1, plus for `nodes` / `edges`
 *   its page size (first/last, else the default page) times 1 plus the cost of one record;
 * - `totalCount` and `aggregate` cost server.limits.aggregateCost each: each is a COUNT or SUM
 *   over the whole filtered set, whatever the page size (`first: 0` does not make them free);
 * - a list field costs its requested length times its items: `nodes(ids:)` the number of ids
 *   (`_entities(representations:)` the number of references),
 *   a list with `first` (syncRuns, parkedRecords) that number;
 * - everything is multiplied by the number of parents: `customers(first: 50) { nodes {
 *   salesOrders(first: 10) { totalCount } } }` costs 1 + 50·(1 + 1 + aggregateCost).
 *
 * Each fragment's cost is computed once per operation (per page size it is spread under), so
 * fragments that spread each other twice cost linear time to price, not exponential.
 */
import {
  getNamedType,
  GraphQLError,
  isCompositeType,
  isListType,
  isNonNullType,
  isObjectType,
  isInterfaceType,
  Kind,
  valueFromASTUntyped,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLSchema,
  type SelectionSetNode,
} from '../../schema/graphql-runtime.js';
import type { Plugin } from 'graphql-yoga';
import { requestError } from './use-error-masking.js';
import { DEFAULT_PAGE_SIZE } from '../../schema/connections.js';

export interface CostWeights {
  /** Charged per totalCount and per aggregate (server.limits.aggregateCost). */
  aggregate: number;
}

export const DEFAULT_COST_WEIGHTS: CostWeights = { aggregate: 10 };

type Vars = Record<string, unknown>;

function argValue(field: FieldNode, name: string, variables: Vars): unknown {
  const a = field.arguments?.find((x) => x.name.value === name);
  return a ? valueFromASTUntyped(a.value, variables) : undefined;
}

/** The page a connection or list field asks for: first/last, else the argument's default, else the default page. */
function pageSize(field: FieldNode, def: GraphQLField<unknown, unknown>, variables: Vars): number {
  for (const name of ['first', 'last']) {
    const v = argValue(field, name, variables);
    if (typeof v === 'number') return Math.max(v, 0);
  }
  const d = def.args.find((x) => x.name === 'first')?.defaultValue;
  return typeof d === 'number' ? Math.max(d, 0) : DEFAULT_PAGE_SIZE;
}

const isConnection = (t: { name: string }) => t.name.endsWith('Connection');

export function operationCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Vars = {},
  operationName?: string | null,
  weights: CostWeights = DEFAULT_COST_WEIGHTS,
): number {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const op = document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION && (!operationName || d.name?.value === operationName));
  if (!op || op.kind !== Kind.OPERATION_DEFINITION) return 0;
  const root = op.operation === 'mutation' ? schema.getMutationType() : op.operation === 'subscription' ? schema.getSubscriptionType() : schema.getQueryType();
  if (!root) return 0;
  const memo = new Map<string, number>();

  /** The cost of `set` for one parent of `type`; `page`: the page size when `type` is a connection. */
  const walk = (set: SelectionSetNode, type: GraphQLCompositeType, atRoot: boolean, page: number): number => {
    let total = 0;
    for (const sel of set.selections) {
      if (sel.kind === Kind.INLINE_FRAGMENT) {
        const t = sel.typeCondition ? (schema.getType(sel.typeCondition.name.value) as GraphQLCompositeType | undefined) : type;
        if (t) total += walk(sel.selectionSet, t, atRoot, page);
        continue;
      }
      if (sel.kind === Kind.FRAGMENT_SPREAD) {
        const key = `${sel.name.value}:${atRoot}:${page}`;
        let cost = memo.get(key);
        if (cost === undefined) {
          memo.set(key, 0); // a cycle (refused by validation) adds nothing
          const f = fragments.get(sel.name.value);
          const t = f ? (schema.getType(f.typeCondition.name.value) as GraphQLCompositeType | undefined) : undefined;
          cost = f && t ? walk(f.selectionSet, t, atRoot, page) : 0;
          memo.set(key, cost);
        }
        total += cost;
        continue;
      }
      // At least 1 for a root or aliased field, whatever it selects.
      const floor = atRoot || sel.alias ? 1 : 0;
      const def = isObjectType(type) || isInterfaceType(type) ? type.getFields()[sel.name.value] : undefined;
      if (!def) {
        total += floor;
        continue;
      }
      const named = getNamedType(def.type);
      const fee = isConnection(type) && (sel.name.value === 'totalCount' || sel.name.value === 'aggregate') ? weights.aggregate : 0;
      if (!isCompositeType(named) || !sel.selectionSet) {
        total += Math.max(floor, fee);
        continue;
      }
      const unwrapped = isNonNullType(def.type) ? def.type.ofType : def.type;
      let cost: number;
      if (fee > 0) {
        // aggregate { sum { … } }: one statement, whatever it selects (aliases inside still count).
        cost = fee + walk(sel.selectionSet, named, false, 0);
      } else if (isConnection(type) && (sel.name.value === 'nodes' || sel.name.value === 'edges')) {
        cost = page * (1 + walk(sel.selectionSet, named, false, 0));
      } else if (isConnection(named)) {
        cost = 1 + walk(sel.selectionSet, named, false, pageSize(sel, def, variables));
      } else if (type.name.endsWith('Edge') && sel.name.value === 'node') {
        cost = walk(sel.selectionSet, named, false, 0);
      } else if (isListType(unwrapped)) {
        // nodes(ids:) and the federation's _entities(representations:) fetch one record per item.
        const ids = argValue(sel, 'ids', variables) ?? argValue(sel, 'representations', variables);
        const n = Array.isArray(ids) ? ids.length : def.args.some((a) => a.name === 'first') ? pageSize(sel, def, variables) : 1;
        cost = 1 + n * (1 + walk(sel.selectionSet, named, false, 0));
      } else {
        cost = 1 + walk(sel.selectionSet, named, false, 0);
      }
      total += Math.max(floor, cost);
    }
    return total;
  };
  return walk(op.selectionSet, root, true, 0);
}

export function useCostLimit(opts: { maxCost: number; weights?: CostWeights }): Plugin {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const cost = operationCost(args.schema, args.document, (args.variableValues ?? {}) as Vars, args.operationName, opts.weights);
      if (cost > opts.maxCost) {
        const e = requestError('QUERY_TOO_COMPLEX', `the query costs ${cost}; at most ${opts.maxCost} is allowed (server.limits.cost): ask for smaller pages, fewer aliases or fewer totals`, {
          setting: 'server.limits.cost',
        });
        setResultAndStopExecution({ errors: [new GraphQLError(e.message, { extensions: e.extensions })] });
      }
    },
  };
}
