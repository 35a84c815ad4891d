/**
 * Rejects operations nested deeper than server.limits.depth before they run (QUERY_TOO_COMPLEX).
 * Depth counts fields with a selection set, through fragments; introspection (__schema, __type)
 * is not counted, since GraphiQL's own query is deep and it is switched off separately.
 */
import { GraphQLError, Kind, type ASTVisitor, type FragmentDefinitionNode, type SelectionSetNode, type ValidationContext } from '../../schema/graphql-runtime.js';
import type { Plugin } from 'graphql-yoga';
import { requestError } from './use-error-masking.js';

export function selectionDepth(set: SelectionSetNode | undefined, fragments: Record<string, FragmentDefinitionNode>, seen = new Set<string>()): number {
  if (!set) return 0;
  let max = 0;
  for (const sel of set.selections) {
    if (sel.kind === Kind.FIELD) {
      if (sel.name.value === '__schema' || sel.name.value === '__type') continue;
      max = Math.max(max, sel.selectionSet ? 1 + selectionDepth(sel.selectionSet, fragments, seen) : 0);
    } else if (sel.kind === Kind.INLINE_FRAGMENT) {
      max = Math.max(max, selectionDepth(sel.selectionSet, fragments, seen));
    } else {
      const name = sel.name.value;
      const frag = fragments[name];
      if (!frag || seen.has(name)) continue;
      max = Math.max(max, selectionDepth(frag.selectionSet, fragments, new Set([...seen, name])));
    }
  }
  return max;
}

export function depthLimitRule(maxDepth: number) {
  return (context: ValidationContext): ASTVisitor => ({
    OperationDefinition(node) {
      const fragments: Record<string, FragmentDefinitionNode> = {};
      for (const d of context.getDocument().definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments[d.name.value] = d;
      const depth = selectionDepth(node.selectionSet, fragments);
      if (depth > maxDepth) {
        const e = requestError('QUERY_TOO_COMPLEX', `the query is ${depth} levels deep; at most ${maxDepth} are allowed (server.limits.depth)`, {
          setting: 'server.limits.depth',
        });
        context.reportError(new GraphQLError(e.message, { nodes: [node], extensions: e.extensions }));
      }
    },
  });
}

export function useDepthLimit(opts: { maxDepth: number }): Plugin {
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(depthLimitRule(opts.maxDepth));
    },
  };
}
