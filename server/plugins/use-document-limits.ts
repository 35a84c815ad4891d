/**
 * Limits on the shape of one GraphQL document, checked before it runs (QUERY_TOO_COMPLEX, or
 * VALIDATION_FAILED for input values), each naming its setting under server.limits:
 *
 * - `tokens`: graphql-js's own parser option `maxTokens` stops parsing past the limit, so a 3 MB
 *   document of 300,000 fields costs a few thousand tokens of work, not 1.3 s. (graphql-armor's
 *   max-tokens does the same through a proxy on every token; the parser's option is built in.)
 * - `aliases`: graphql-armor's max-aliases rule (fragments counted once each and then reused).
 * - `fragmentSpreads`: spreads counted as executed, through fragments (each fragment's count
 *   computed once): `...F1 ...F1` in F0, `...F2 ...F2` in F1, … is 2^levels spreads.
 * - `filterDepth`: how deeply an input object may nest (where: and/or/not trees), in the
 *   document's literals and in the variables, before graphql-js coerces them recursively.
 */
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import type { Plugin } from 'graphql-yoga';
import {
  GraphQLError,
  Kind,
  Lexer,
  parse,
  Source,
  TokenKind,
  type ASTVisitor,
  type FragmentDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
  type ValueNode,
} from '../../schema/graphql-runtime.js';
import { requestError } from './use-error-masking.js';

export interface DocumentLimits {
  depth: number;
  tokens: number;
  aliases: number;
  fragmentSpreads: number;
  filterDepth: number;
}

function tooComplex(context: ValidationContext, message: string, setting: string): void {
  const e = requestError('QUERY_TOO_COMPLEX', message, { setting });
  context.reportError(new GraphQLError(e.message, { extensions: e.extensions }));
}

/** Fragment spreads as executed: each spread counts once, plus the spreads inside its fragment. */
export function expandedSpreads(set: SelectionSetNode, fragments: ReadonlyMap<string, FragmentDefinitionNode>, memo: Map<string, number>): number {
  let n = 0;
  for (const sel of set.selections) {
    if (sel.kind === Kind.FRAGMENT_SPREAD) {
      const name = sel.name.value;
      let inner = memo.get(name);
      if (inner === undefined) {
        memo.set(name, 0); // a cycle (refused by NoFragmentCycles) adds nothing
        const f = fragments.get(name);
        inner = f ? expandedSpreads(f.selectionSet, fragments, memo) : 0;
        memo.set(name, inner);
      }
      n += 1 + inner;
    } else if (sel.selectionSet) n += expandedSpreads(sel.selectionSet, fragments, memo);
  }
  return n;
}

function spreadsRule(max: number) {
  return (context: ValidationContext): ASTVisitor => {
    const memo = new Map<string, number>();
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const d of context.getDocument().definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
    return {
      OperationDefinition(node) {
        const n = expandedSpreads(node.selectionSet, fragments, memo);
        if (n > max) tooComplex(context, `the query spreads fragments ${n} times; at most ${max} are allowed (server.limits.fragmentSpreads)`, 'server.limits.fragmentSpreads');
      },
    };
  };
}

function aliasesRule(max: number) {
  return maxAliasesRule({
    n: max,
    allowList: [],
    propagateOnRejection: false,
    onReject: [
      (context, err) => {
        const found = /found (\d+)/.exec(err.message)?.[1];
        if (context) tooComplex(context, `the query uses ${found ?? 'too many'} aliases; at most ${max} are allowed (server.limits.aliases)`, 'server.limits.aliases');
      },
    ],
  });
}

const depthError = (max: number) =>
  requestError('VALIDATION_FAILED', `an input value nests objects more than ${max} levels deep (where filters: and/or/not); the limit is server.limits.filterDepth`, {
    setting: 'server.limits.filterDepth',
  });

/** Whether a literal nests input objects deeper than `max` (objects count, lists do not). */
function literalTooDeep(value: ValueNode, max: number): boolean {
  const stack: [ValueNode, number][] = [[value, 0]];
  while (stack.length) {
    const [v, depth] = stack.pop() as [ValueNode, number];
    if (v.kind === Kind.OBJECT) {
      if (depth + 1 > max) return true;
      for (const f of v.fields) stack.push([f.value, depth + 1]);
    } else if (v.kind === Kind.LIST) for (const x of v.values) stack.push([x, depth]);
  }
  return false;
}

/** The same for a variable's JSON value, iteratively (a deep value must not overflow the stack here either). */
export function valueTooDeep(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (v === null || typeof v !== 'object') continue;
    if (Array.isArray(v)) {
      for (const x of v) stack.push([x, depth]);
      continue;
    }
    if (depth + 1 > max) return true;
    for (const x of Object.values(v)) stack.push([x, depth + 1]);
  }
  return false;
}

function inputDepthRule(max: number) {
  return (context: ValidationContext): ASTVisitor => ({
    Argument(node) {
      if (literalTooDeep(node.value, max)) {
        const e = depthError(max);
        context.reportError(new GraphQLError(e.message, { nodes: [node], extensions: e.extensions }));
      }
      // Its value was checked as a whole: no need to visit inside.
      return false;
    },
  });
}

/**
 * One pass of graphql-js's lexer over the document before the parser sees it: the token count, and
 * how deeply brackets nest. The parser descends recursively into every `{`, `[` and `(`, so a
 * literal nested a few thousand levels overflows the stack inside parse() (an INTERNAL error)
 * long before the token limit; here it is refused by counting. An input object `{` (after `:`
 * or `=`, or inside a list) counts against filterDepth; all brackets together may nest
 * 2 × (depth + filterDepth) + 16 levels, room for selections, lists and inline fragments.
 */
export function scanDocument(source: Source, limits: Pick<DocumentLimits, 'tokens' | 'filterDepth'> & { depth: number }): void {
  const lexer = new Lexer(source);
  const maxNesting = 2 * (limits.depth + limits.filterDepth) + 16;
  const stack: ('input' | TokenKind)[] = [];
  let inputDepth = 0;
  let tokens = 0;
  let prev: TokenKind = TokenKind.SOF;
  for (let t = lexer.advance(); t.kind !== TokenKind.EOF; t = lexer.advance()) {
    if (++tokens > limits.tokens) {
      throw requestError('QUERY_TOO_COMPLEX', `the document has more than ${limits.tokens} tokens (server.limits.tokens)`, { setting: 'server.limits.tokens' });
    }
    if (t.kind === TokenKind.BRACE_L || t.kind === TokenKind.BRACKET_L || t.kind === TokenKind.PAREN_L) {
      const input = t.kind === TokenKind.BRACE_L && (prev === TokenKind.COLON || prev === TokenKind.EQUALS || stack[stack.length - 1] === TokenKind.BRACKET_L);
      stack.push(input ? 'input' : t.kind);
      if (input && ++inputDepth > limits.filterDepth) throw depthError(limits.filterDepth);
      if (stack.length > maxNesting) {
        throw requestError('QUERY_TOO_COMPLEX', `the document nests brackets more than ${maxNesting} levels deep (server.limits.depth, server.limits.filterDepth)`, {
          setting: 'server.limits.depth',
        });
      }
    } else if (t.kind === TokenKind.BRACE_R || t.kind === TokenKind.BRACKET_R || t.kind === TokenKind.PAREN_R) {
      if (stack.pop() === 'input') inputDepth--;
    }
    prev = t.kind;
  }
}

export function useDocumentLimits(limits: DocumentLimits): Plugin {
  return {
    onParse({ setParseFn }) {
      setParseFn((source, options) => {
        scanDocument(typeof source === 'string' ? new Source(source) : source, limits);
        return parse(source, { ...options, maxTokens: limits.tokens });
      });
    },
    onValidate({ addValidationRule }) {
      addValidationRule(spreadsRule(limits.fragmentSpreads));
      addValidationRule(aliasesRule(limits.aliases));
      addValidationRule(inputDepthRule(limits.filterDepth));
    },
    onExecute({ args, setResultAndStopExecution }) {
      if (args.variableValues && valueTooDeep(args.variableValues, limits.filterDepth + 1)) {
        const e = depthError(limits.filterDepth);
        setResultAndStopExecution({ errors: [new GraphQLError(e.message, { extensions: e.extensions })] });
      }
    },
  };
}
