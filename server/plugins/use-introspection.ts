/**
 * Turns schema introspection off (server.introspection: false), e.g. in production. A federation
 * subgraph's `_service { sdl }` tells the same as introspection, so it is refused with it.
 */
import { GraphQLError, NoSchemaIntrospectionCustomRule, type ValidationRule } from '../../schema/graphql-runtime.js';
import type { Plugin } from 'graphql-yoga';

/** Refuses `_service` on the query root (federation's schema field). */
const NoFederationServiceRule: ValidationRule = (context) => ({
  Field(node) {
    if (node.name.value === '_service' && context.getParentType() === context.getSchema().getQueryType()) {
      context.reportError(new GraphQLError('GraphQL introspection has been disabled, and _service { sdl } with it (server.introspection).', { nodes: node }));
    }
  },
});

export function useDisableIntrospection(): Plugin {
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(NoSchemaIntrospectionCustomRule);
      addValidationRule(NoFederationServiceRule);
    },
  };
}
