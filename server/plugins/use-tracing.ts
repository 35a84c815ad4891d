/**
 * One span per GraphQL operation ("query Customer360"), child of the HTTP request's span and
 * parent of every source statement the resolvers send (connectors/knex-driver.ts). The executor
 * is wrapped, so the span is active for the whole execution whichever executor runs (graphql-js
 * or the compiled one of use-jit.ts): register this plugin after useJit.
 */
import type { Plugin } from 'graphql-yoga';
import { getOperationAST, type ExecutionResult } from '../../schema/graphql-runtime.js';
import { inSpan } from '../../core/tracing.js';

export function useTracing(): Plugin {
  return {
    onExecute({ executeFn, setExecuteFn }) {
      const execute = executeFn;
      setExecuteFn((args) => {
        const op = getOperationAST(args.document, args.operationName);
        const type = op?.operation ?? 'query';
        const name = op?.name?.value;
        const attributes = { 'graphql.operation.type': type, ...(name ? { 'graphql.operation.name': name } : {}) };
        return inSpan(name ? `${type} ${name}` : type, attributes, async (span) => {
          const result = (await execute(args)) as ExecutionResult;
          const errors = 'errors' in result ? (result.errors?.length ?? 0) : 0;
          if (errors > 0) span.setAttribute('crmlink.graphql.errors', errors);
          return result;
        });
      });
    },
  };
}
