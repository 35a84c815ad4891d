/**
 * Rejects operations nested deeper than server.limits.depth before they run (QUERY_TOO_COMPLEX).
 * Depth counts fields with a selection set, through fragments; introspection (__schema, __type)
 * is not counted, since GraphiQL's own query is deep and it is switched off separately.
 *
 * The depth of each fragment is computed once per document: fragments that each spread the next
 * one twice would otherwise be walked 2^levels times (a 1 KB document, tens of seconds of CPU).
 */
import { GraphQLError, Kind, type ASTVisitor, type FragmentDefinitionNode, type SelectionSetNode, type ValidationContext } from '../../schema/graphql-runtime.js';
import type { Plugin } from 'graphql-yoga';
import { requestError } from './use-error-masking.js';

/** The depth of `set`; `memo` holds each fragment's depth (a fragment in a cycle counts 0 inside itself). */
export function selectionDepth(set: SelectionSetNode | undefined, fragments: Record<string, FragmentDefinitionNode>, memo = new Map<string, number>()): number {
  if (!set) return 0;
  let max = 0;
  for (const sel of set.selections) {
    if (sel.kind === Kind.FIELD) {
      if (sel.name.value === '__schema' || sel.name.value === '__type') continue;
      max = Math.max(max, sel.selectionSet ? 1 + selectionDepth(sel.selectionSet, fragments, memo) : 0);
    } else if (sel.kind === Kind.INLINE_FRAGMENT) {
      max = Math.max(max, selectionDepth(sel.selectionSet, fragments, memo));
    } else {
      const name = sel.name.value;
      let depth = memo.get(name);
      if (depth === undefined) {
        const frag = Object.hasOwn(fragments, name) ? fragments[name] : undefined;
        // In progress: a cycle (refused by graphql's NoFragmentCycles) adds nothing.
        memo.set(name, 0);
        depth = frag ? selectionDepth(frag.selectionSet, fragments, memo) : 0;
        memo.set(name, depth);
      }
      max = Math.max(max, depth);
    }
  }
  return max;
}

export function depthLimitRule(maxDepth: number) {
  return (context: ValidationContext): ASTVisitor => {
    const memo = new Map<string, number>();
    return {
      OperationDefinition(node) {
        const fragments: Record<string, FragmentDefinitionNode> = {};
        for (const d of context.getDocument().definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments[d.name.value] = d;
        const depth = selectionDepth(node.selectionSet, fragments, memo);
        if (depth > maxDepth) {
          const e = requestError('QUERY_TOO_COMPLEX', `the query is ${depth} levels deep; at most ${maxDepth} are allowed (server.limits.depth)`, {
            setting: 'server.limits.depth',
          });
          context.reportError(new GraphQLError(e.message, { nodes: [node], extensions: e.extensions }));
        }
      },
    };
  };
}

export function useDepthLimit(opts: { maxDepth: number }): Plugin {
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(depthLimitRule(opts.maxDepth));
    },
  };
}
