/**
 * Hides GraphQL's "Did you mean …" hints (server.fieldSuggestions: false, the production
 * default): with introspection off they would still spell out field, argument, type and enum
 * names to anyone who guesses near one.
 *
 * graphql-armor's block-field-suggestions plugin only matches `Did you mean "x"?`, which misses
 * graphql-js's enum form (`Did you mean the enum value "ALL"?`) and the variable-coercion errors
 * raised while executing; this plugin covers validation and execution results alike.
 */
import type { Plugin } from 'graphql-yoga';
import type { ExecutionResult } from 'graphql';
import { GraphQLError } from '../../schema/graphql-runtime.js';

const SUGGESTION = /\s*Did you mean [^?]*\?/g;

function hideSuggestion<E extends Error>(error: E): E | GraphQLError {
  if (!error.message.includes('Did you mean')) return error;
  if (!(error instanceof GraphQLError)) return Object.assign(error, { message: error.message.replace(SUGGESTION, '') });
  return new GraphQLError(error.message.replace(SUGGESTION, ''), {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions: error.extensions,
  });
}

export function useHideFieldSuggestions(): Plugin {
  return {
    onValidate() {
      return ({ valid, result, setResult }) => {
        if (!valid) setResult(result.map((e) => hideSuggestion(e)));
      };
    },
    onExecute() {
      return {
        onExecuteDone({ result, setResult }) {
          const r = result as ExecutionResult;
          if (r.errors?.some((e) => e.message.includes('Did you mean'))) setResult({ ...r, errors: r.errors.map((e) => hideSuggestion(e)) });
        },
      };
    },
  };
}
