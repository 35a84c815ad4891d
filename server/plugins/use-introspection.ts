/** Turns schema introspection off (server.introspection: false), e.g. in production. */
import { NoSchemaIntrospectionCustomRule } from '../../schema/graphql-runtime.js';
import type { Plugin } from 'graphql-yoga';

export function useDisableIntrospection(): Plugin {
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(NoSchemaIntrospectionCustomRule);
    },
  };
}
