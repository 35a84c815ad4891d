/**
 * Executes queries with graphql-jit: each document is compiled once into a function that walks the
 * selection with the schema's resolvers, instead of graphql-js interpreting the document for
 * every field of every row (customer-360 resolves ~13,000 fields per request).
 *
 * graphql-jit is used only where it behaves like graphql-js; everything else keeps the standard
 * executor, so the API answers the same either way:
 * - queries only (mutations run in order and are not where the time goes);
 * - no introspection (`__schema`, `__type` at the root: GraphiQL, codegen);
 * - no variable whose input type is recursive: graphql-jit 0.8 generates variable coercion by
 *   inlining input types, which never ends for CustomerWhere { and: [CustomerWhere!] }
 *   (graphql-jit issue 81). Such filters passed inline in the document are fine;
 * - a document graphql-jit cannot compile runs on the standard executor (logged once);
 * - variable values that do not coerce are answered by the standard executor, so the messages and
 *   the HTTP status are graphql-js's.
 * Compiled documents are cached per parsed document (yoga's parse cache hands back the same
 * DocumentNode for the same text), per operation name.
 */
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';
import type { Plugin } from 'graphql-yoga';
import {
  getLocation,
  getNamedType,
  getVariableValues,
  GraphQLError,
  visit,
  isInputObjectType,
  Kind,
  typeFromAST,
  type ASTNode,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type GraphQLInputObjectType,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from '../../schema/graphql-runtime.js';
import type { Logger } from '../../core/logger.js';

export interface JitOptions {
  logger?: Logger;
}

/** Input object types that can contain themselves, per schema. */
const recursiveInputs = new WeakMap<GraphQLSchema, Set<string>>();

function recursiveInputTypes(schema: GraphQLSchema): Set<string> {
  let out = recursiveInputs.get(schema);
  if (out) return out;
  out = new Set();
  const reaches = (from: GraphQLInputObjectType, target: string, seen: Set<string>): boolean => {
    for (const f of Object.values(from.getFields())) {
      const t = getNamedType(f.type);
      if (!isInputObjectType(t)) continue;
      if (t.name === target) return true;
      if (seen.has(t.name)) continue;
      seen.add(t.name);
      if (reaches(t, target, seen)) return true;
    }
    return false;
  };
  const all = Object.values(schema.getTypeMap()).filter(isInputObjectType);
  for (const t of all) if (reaches(t, t.name, new Set())) out.add(t.name);
  // A type that reaches a recursive one is unsafe too.
  for (const t of all) {
    if (out.has(t.name)) continue;
    const seen = new Set<string>();
    const stack = [t];
    while (stack.length) {
      const cur = stack.pop() as GraphQLInputObjectType;
      for (const f of Object.values(cur.getFields())) {
        const n = getNamedType(f.type);
        if (!isInputObjectType(n) || seen.has(n.name)) continue;
        seen.add(n.name);
        if (out.has(n.name)) {
          out.add(t.name);
          stack.length = 0;
          break;
        }
        stack.push(n);
      }
    }
  }
  recursiveInputs.set(schema, out);
  return out;
}

function operationOf(document: DocumentNode, operationName: string | null | undefined): OperationDefinitionNode | undefined {
  const ops = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  if (operationName) return ops.find((o) => o.name?.value === operationName);
  return ops.length === 1 ? ops[0] : undefined;
}

/** Whether graphql-jit may run this operation (see the file comment). */
export function jitEligible(schema: GraphQLSchema, document: DocumentNode, operationName?: string | null): boolean {
  const op = operationOf(document, operationName);
  if (!op || op.operation !== 'query') return false;
  for (const sel of op.selectionSet.selections) {
    if (sel.kind === Kind.FIELD && (sel.name.value === '__schema' || sel.name.value === '__type')) return false;
  }
  const recursive = recursiveInputTypes(schema);
  for (const v of op.variableDefinitions ?? []) {
    const t = typeFromAST(schema, v.type as Parameters<typeof typeFromAST>[1]);
    if (!t) return false;
    const named = getNamedType(t);
    if (isInputObjectType(named) && recursive.has(named.name)) return false;
  }
  return true;
}

type Entry = CompiledQuery | null;

const isPromise = <T>(v: T | Promise<T>): v is Promise<T> => typeof (v as { then?: unknown })?.then === 'function';

/**
 * graphql-jit's errors carry locations but not the AST nodes they came from; yoga rebuilds every
 * error from its nodes, which would drop the locations. Give them back their nodes, found by
 * location in the document (only when there are errors).
 */
function withNodes(result: ExecutionResult, document: DocumentNode): ExecutionResult {
  if (!result.errors?.length || result.errors.every((e) => e.nodes?.length || !e.locations?.length)) return result;
  const byLocation = new Map<string, ASTNode>();
  visit(document, {
    enter(node) {
      if (!node.loc) return;
      const l = getLocation(node.loc.source, node.loc.start);
      const k = `${l.line}:${l.column}`;
      if (!byLocation.has(k)) byLocation.set(k, node);
    },
  });
  const errors = result.errors.map((e) => {
    if (e.nodes?.length || !e.locations?.length) return e;
    const nodes = e.locations.map((l) => byLocation.get(`${l.line}:${l.column}`)).filter((n): n is ASTNode => !!n);
    if (nodes.length !== e.locations.length) return e;
    return new GraphQLError(e.message, { nodes, path: e.path, originalError: e.originalError ?? undefined, extensions: e.extensions });
  });
  return { ...result, errors };
}

export function useJit(opts: JitOptions = {}): Plugin {
  const cache = new WeakMap<DocumentNode, Map<string, Entry>>();
  const compiled = (args: ExecutionArgs): Entry => {
    let byOp = cache.get(args.document);
    if (!byOp) {
      byOp = new Map();
      cache.set(args.document, byOp);
    }
    const name = args.operationName ?? '';
    let entry = byOp.get(name);
    if (entry === undefined) {
      entry = null;
      if (jitEligible(args.schema, args.document, args.operationName)) {
        try {
          const c = compileQuery(args.schema, args.document, args.operationName ?? undefined, { disablingCapturingStackErrors: true });
          if (isCompiledQuery(c)) entry = c;
          else opts.logger?.warn({ errors: c.errors?.map((e) => e.message) }, 'graphql-jit could not compile a query; it runs on the standard executor');
        } catch (err) {
          opts.logger?.warn({ err }, 'graphql-jit could not compile a query; it runs on the standard executor');
        }
      }
      byOp.set(name, entry);
    }
    return entry;
  };
  return {
    onExecute({ args, executeFn, setExecuteFn }) {
      const c = compiled(args);
      if (!c) return;
      const standard = executeFn;
      setExecuteFn((a) => {
        // Bad variable values are answered by graphql-js, word for word (and with its HTTP status).
        const op = operationOf(a.document, a.operationName);
        if (op?.variableDefinitions?.length && getVariableValues(a.schema, op.variableDefinitions, (a.variableValues ?? {}) as Record<string, unknown>).errors) {
          return standard(a);
        }
        const r = c.query(a.rootValue, a.contextValue, a.variableValues);
        return isPromise(r) ? r.then((x) => withNodes(x, a.document)) : withNodes(r, a.document);
      });
    },
  };
}
