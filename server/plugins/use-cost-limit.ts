/**
 * Rejects operations that could return more than server.limits.cost records, before any SQL runs
 * (QUERY_TOO_COMPLEX). The cost is the number of records the operation may produce: a connection
 * field costs its page size (first/last, default page size otherwise) times the cost of one of
 * its parents; any other object field costs 1 per parent. `customers(first: 50) { salesOrders
 * (first: 10) { lines } }` costs 50 + 50·10 + 50·10·50 = 25 550 with the default page of 50.
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
  type GraphQLSchema,
  type SelectionSetNode,
} from '../../schema/graphql-runtime.js';
import type { Plugin } from 'graphql-yoga';
import { requestError } from './use-error-masking.js';
import { DEFAULT_PAGE_SIZE } from '../../schema/connections.js';

function pageArg(field: FieldNode, variables: Record<string, unknown>): number {
  for (const a of field.arguments ?? []) {
    if (a.name.value !== 'first' && a.name.value !== 'last') continue;
    const v = valueFromASTUntyped(a.value, variables);
    if (typeof v === 'number') return Math.max(v, 0);
  }
  return DEFAULT_PAGE_SIZE;
}

export function operationCost(schema: GraphQLSchema, document: DocumentNode, variables: Record<string, unknown> = {}, operationName?: string | null): number {
  const fragments: Record<string, FragmentDefinitionNode> = {};
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments[d.name.value] = d;
  const op = document.definitions.find(
    (d) => d.kind === Kind.OPERATION_DEFINITION && (!operationName || d.name?.value === operationName),
  );
  if (!op || op.kind !== Kind.OPERATION_DEFINITION) return 0;
  const root = op.operation === 'mutation' ? schema.getMutationType() : op.operation === 'subscription' ? schema.getSubscriptionType() : schema.getQueryType();
  if (!root) return 0;

  const walk = (set: SelectionSetNode, type: GraphQLCompositeType, seen: Set<string>): number => {
    let total = 0;
    for (const sel of set.selections) {
      if (sel.kind === Kind.INLINE_FRAGMENT) {
        const t = sel.typeCondition ? (schema.getType(sel.typeCondition.name.value) as GraphQLCompositeType | undefined) : type;
        if (t) total += walk(sel.selectionSet, t, seen);
        continue;
      }
      if (sel.kind === Kind.FRAGMENT_SPREAD) {
        const f = fragments[sel.name.value];
        if (!f || seen.has(f.name.value)) continue;
        const t = schema.getType(f.typeCondition.name.value) as GraphQLCompositeType | undefined;
        if (t) total += walk(f.selectionSet, t, new Set([...seen, f.name.value]));
        continue;
      }
      if (!sel.selectionSet || sel.name.value.startsWith('__')) continue;
      if (!isObjectType(type) && !isInterfaceType(type)) continue;
      const def = type.getFields()[sel.name.value];
      if (!def) continue;
      const named = getNamedType(def.type);
      if (!isCompositeType(named)) continue;
      const inner = walk(sel.selectionSet, named, seen);
      if (named.name.endsWith('Connection')) {
        const n = pageArg(sel, variables);
        total += n + n * inner;
      } else if (named.name === 'PageInfo' || named.name.endsWith('Aggregate') || named.name.endsWith('Fields')) {
        total += inner;
      } else if (named.name.endsWith('Edge') || isListType(isNonNullType(def.type) ? def.type.ofType : def.type)) {
        // edges / nodes of a connection: already counted by the connection's page size
        total += inner;
      } else if (type.name.endsWith('Edge') && sel.name.value === 'node') {
        total += inner;
      } else {
        total += 1 + inner;
      }
    }
    return total;
  };
  return walk(op.selectionSet, root, new Set());
}

export function useCostLimit(opts: { maxCost: number }): Plugin {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const cost = operationCost(args.schema, args.document, (args.variableValues ?? {}) as Record<string, unknown>, args.operationName);
      if (cost > opts.maxCost) {
        const e = requestError('QUERY_TOO_COMPLEX', `the query may return ${cost} records; at most ${opts.maxCost} are allowed (server.limits.cost): ask for smaller pages`, {
          setting: 'server.limits.cost',
        });
        setResultAndStopExecution({ errors: [new GraphQLError(e.message, { extensions: e.extensions })] });
      }
    },
  };
}
