/**
 * Warnings in the response, under `extensions.warnings`: what the request read that may not be
 * what the caller thinks. Today one kind: a replicated entity that no sync job fills (it answers
 * 0 rows however much the source holds; config/coverage.ts).
 *
 * @example
 *   { "data": { "contacts": { "nodes": [] } },
 *     "extensions": { "warnings": [{ "code": "ENTITY_NOT_SYNCED", "entity": "Contact", "message": "Contact is replicated ..." }] } }
 */
import type { Plugin } from 'graphql-yoga';
import { responseWarnings } from '../../schema/index.js';

export function useResponseWarnings(): Plugin {
  return {
    onExecute() {
      return {
        onExecuteDone({ args, result, setResult }) {
          // Streams (subscriptions, @defer) carry no single response to annotate.
          if (Symbol.asyncIterator in result) return;
          const warnings = responseWarnings(args.contextValue as object);
          if (warnings.length === 0) return;
          setResult({
            ...result,
            extensions: { ...result.extensions, warnings: warnings.map(({ code, entity, message }) => ({ code, entity, message })) },
          });
        },
      };
    },
  };
}
