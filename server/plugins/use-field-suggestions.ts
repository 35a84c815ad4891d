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

/**
 * The message without its "Did you mean …?" suggestions and the spaces before them. indexOf
 * rather than a pattern: `\s*Did you mean [^?]*\?` rescans the text from every space and every
 * suggestion that has no "?" after it.
 */
function withoutSuggestions(message: string): string {
  let out = '';
  let from = 0;
  for (let i = message.indexOf('Did you mean ', from); i >= 0; i = message.indexOf('Did you mean ', from)) {
    const q = message.indexOf('?', i);
    if (q < 0) break;
    let start = i;
    while (start > from && /\s/.test(message[start - 1])) start--;
    out += message.slice(from, start);
    from = q + 1;
  }
  return out + message.slice(from);
}

function hideSuggestion<E extends Error>(error: E): E | GraphQLError {
  if (!error.message.includes('Did you mean')) return error;
  if (!(error instanceof GraphQLError)) return Object.assign(error, { message: withoutSuggestions(error.message) });
  return new GraphQLError(withoutSuggestions(error.message), {
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
