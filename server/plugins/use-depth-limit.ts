/**
 * Rejects operations nested deeper than server.limits.depth before they run (QUERY_TOO_COMPLEX),
 * with graphql-armor's max-depth rule. Depth counts the fields that have a selection set, through
 * fragments (a spread is not a level of its own: flattenFragments); armor counts the leaf field as
 * one more level, so it is given the limit + 1. Introspection under __schema is not counted, since
 * GraphiQL's own query is deep and it is switched off separately.
 *
 * Armor computes the depth of each fragment once per document: fragments that each spread the
 * next one twice cost linear time, not 2^levels (tests/security/fragments.test.ts).
 */
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import type { Plugin } from 'graphql-yoga';
import { GraphQLError, type ValidationRule } from '../../schema/graphql-runtime.js';
import { requestError } from './use-error-masking.js';

export function depthLimitRule(maxDepth: number): ValidationRule {
  return maxDepthRule({
    n: maxDepth + 1,
    flattenFragments: true,
    ignoreIntrospection: true,
    propagateOnRejection: false,
    onReject: [
      (context, err) => {
        const found = Number(/found (\d+)/.exec(err.message)?.[1]);
        const depth = Number.isFinite(found) ? `${found - 1} levels` : 'too';
        const e = requestError('QUERY_TOO_COMPLEX', `the query is ${depth} deep; at most ${maxDepth} are allowed (server.limits.depth)`, {
          setting: 'server.limits.depth',
        });
        context?.reportError(new GraphQLError(e.message, { extensions: e.extensions }));
      },
    ],
  });
}

export function useDepthLimit(opts: { maxDepth: number }): Plugin {
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(depthLimitRule(opts.maxDepth));
    },
  };
}
