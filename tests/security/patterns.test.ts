/**
 * Every regular expression literal of the layers that see input (model, core, config, identity,
 * schema, server) against pathological input: long runs of each character the pattern names, of
 * pairs of them, and of common separators, ending on a character that makes the match fail. A
 * pattern that backtracks (quadratic or worse) takes hundreds of milliseconds to seconds on 20,000 characters; a linear one
 * takes well under a millisecond, so the bound below leaves a wide margin for a loaded machine.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, test } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const DIRS = ['model', 'core', 'config', 'identity', 'schema', 'server'];
const N = 20_000;
/** Per input: quadratic backtracking over N characters takes far longer, linear matching far less. */
const BOUND_MS = 150;

interface Found {
  file: string;
  line: number;
  source: string;
  flags: string;
}

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

function patterns(): Found[] {
  const out: Found[] = [];
  for (const file of DIRS.flatMap((d) => files(join(ROOT, d)))) {
    const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node): void => {
      if (node.kind === ts.SyntaxKind.RegularExpressionLiteral) {
        const text = node.getText(sf);
        const end = text.lastIndexOf('/');
        out.push({ file: relative(ROOT, file), line: sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1, source: text.slice(1, end), flags: text.slice(end + 1) });
      }
      if (ts.isNewExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'RegExp') {
        throw new Error(`${relative(ROOT, file)}: new RegExp(...) builds a pattern at run time; use a literal so this test can check it`);
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return out;
}

/** Characters a pattern names literally (escapes resolved roughly), plus ones most patterns treat specially. */
function alphabet(source: string): string[] {
  const named = new Set<string>();
  const classes: Record<string, string> = { d: '0', D: 'a', s: ' ', S: 'a', w: 'a', W: '!', n: '\n', t: '\t', b: '', B: '' };
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\' && i + 1 < source.length) {
      const e = source[++i];
      const mapped = classes[e];
      if (mapped !== undefined) {
        if (mapped) named.add(mapped);
      } else if (e === 'p' || e === 'P' || e === 'u' || e === 'x') {
        // \p{..}, \u.... and \x..: a letter and a punctuation mark stand in for them.
        named.add('a').add(',');
      } else named.add(e);
    } else if (!'^$()[]{}|?*+'.includes(c)) named.add(c);
  }
  for (const c of [' ', '0', '1', 'a', 'A', 'x', '.', '-', '@', ':', '/', '\t', '\n', '转', '（', '#']) named.add(c);
  return [...named];
}

/** Literal runs of two or more characters in a pattern ("Did you mean ", "//", "${"), escapes resolved. */
function literals(source: string): string[] {
  const out: string[] = [];
  let run = '';
  const flush = () => {
    if ([...run].length >= 2) out.push(run);
    run = '';
  };
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\' && i + 1 < source.length && !/[dDsSwWbBpPuxnt0-9]/.test(source[i + 1])) run += source[++i];
    else if ('^$()[]{}|?*+.\\'.includes(c)) {
      flush();
      // A quantifier applies to the last character only: it is not part of the literal.
      if ('?*+{'.includes(c)) run = '';
    } else run += c;
  }
  flush();
  return out;
}

/** Input that pumps a character, a pair or a literal of the pattern many times, ending on one that fails it. */
function* inputs(source: string): Generator<string> {
  const chars = alphabet(source);
  for (const lit of literals(source)) {
    for (const filler of ['', 'a', ' ', ':', '0']) {
      const unit = lit + filler;
      yield unit.repeat(Math.ceil(N / unit.length)) + '!';
      yield unit.repeat(Math.ceil(N / unit.length)) + '\n';
    }
  }
  const ends = ['!', '\n', '\u0000'];
  for (const c of chars) {
    for (const end of ends) {
      yield c.repeat(N) + end;
      yield `1${c.repeat(N)}${end}`;
    }
  }
  // Pairs of the characters the pattern itself names (not the common extras).
  const own = chars.slice(0, Math.min(chars.length, 16));
  for (const a of own) for (const b of own) if (a !== b) yield (a + b).repeat(N / 2) + '!';
}

function run(re: RegExp, global: RegExp, s: string): void {
  re.lastIndex = 0;
  re.test(s);
  // A global pattern is applied at every position the way replace() and split() do.
  s.replace(global, '');
}

describe('every pattern of the input layers runs in linear time', () => {
  const found = patterns();

  test('the scan finds the patterns (a broken scan would pass everything)', () => {
    expect(found.length).toBeGreaterThan(40);
    expect(found.some((f) => f.file === 'schema/validation.ts' && f.source.includes('ext'))).toBe(true);
  });

  test.each(found.map((f) => [`${f.file}:${f.line} /${f.source}/${f.flags}`, f] as const))('%s', (_name, f) => {
    const re = new RegExp(f.source, f.flags.replace(/[gy]/g, ''));
    const global = new RegExp(f.source, f.flags.includes('g') ? f.flags.replace('y', '') : `${f.flags.replace('y', '')}g`);
    for (const s of inputs(f.source)) {
      const t0 = performance.now();
      run(re, global, s);
      const ms = performance.now() - t0;
      // The first slow input fails the pattern (trying the rest would only take longer).
      expect(ms, `${JSON.stringify(s.slice(0, 12))}… (${s.length} characters)`).toBeLessThan(BOUND_MS);
    }
  });
});
