/**
 * Fuzzing the GraphQL endpoint of a real server over HTTP: random and adversarial documents and
 * variables (every orderBy and where on every field of every entity, then random nested
 * selections, deep and doubling fragments, deep filters, huge lists, long strings, odd cursors
 * and page sizes, aliases, garbage) from several callers at once, for a bounded time
 * (FUZZ_MS, 20 s by default; `npm run verify:long` runs it longer). Throughout:
 *
 * - the process stays up and no promise rejection goes unhandled;
 * - /healthz, probed all the time, always answers 200;
 * - no request holds the event loop: between two ticks of a 10 ms timer the process spends at most
 *   1 s of its own CPU time. CPU time, not wall time, so a loaded machine does not fail the bound,
 *   while a request that runs away synchronously (a backtracking pattern, a deep recursion, a huge
 *   document) does;
 * - every answer is a GraphQL result or GraphQL errors with a status below 500, and no error is
 *   INTERNAL (an unexpected error is a bug).
 *
 * The PRNG is seeded; the seed is printed. Replay a failure with FUZZ_SEED=<seed>. The slowest
 * requests and the slowest /healthz are printed too; FUZZ_BLOCK_CPU_MS changes the CPU bound.
 */
import { performance } from 'node:perf_hooks';
import {
  getNamedType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  type GraphQLInputObjectType,
  type GraphQLInputType,
  type GraphQLObjectType,
  type GraphQLSchema,
} from '../../schema/graphql-runtime.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildSchema } from '../../schema/index.js';
import { SERVER_AUTH, customerGid } from '../graphql/fixture.js';
import { startSecurityServer, type SecurityServer } from './support.js';

const DURATION_MS = Number(process.env.FUZZ_MS ?? 20_000);
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
/** Generous: the largest legitimate slice (a 1,000-representation `_entities` page) takes ~100 ms of CPU. */
const BLOCK_CPU_BOUND_MS = Number(process.env.FUZZ_BLOCK_CPU_MS ?? 1000);
const CALLERS: Record<string, string>[] = [
  { 'x-api-key': 'admin-key-0123456789' },
  { 'x-api-key': 'alice-key-0123456789' },
  { 'x-api-key': 'east-key-00123456789' },
  {},
  { 'x-api-key': 'not-a-key-0123456789' },
];

/** mulberry32: small, seedable, good enough to pick test cases. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)];
  const chance = (p: number) => next() < p;
  return { next, int, pick, chance };
}
type Rng = ReturnType<typeof prng>;

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v), 'utf8').toString('base64url');
const gqlString = (s: string) => JSON.stringify(s);

const ODD_INTS = [-2147483648, -1, 0, 1, 2, 3, 49, 50, 51, 999, 1000, 1001, 5000, 2147483647];
const ODD_STRINGS = (rng: Rng): string =>
  rng.pick([
    () => '',
    () => 'abc',
    () => '\u0000',
    () => "' OR 1=1 --",
    () => '%_%',
    () => '\\',
    () => '北京华为技术有限公司',
    () => '😀'.repeat(rng.int(1, 50)),
    () => 'x'.repeat(rng.int(1, 200_000)),
    () => `1${' '.repeat(rng.int(1, 50_000))}!`,
    () => '9'.repeat(rng.int(1, 5000)) + '.99',
    () => 'NaN',
    () => '-Infinity',
    () => '1e309',
    () => '2026-02-30',
    () => '0000-00-00T25:61:61Z',
    () => 'constructor',
    () => '__proto__',
    () => customerGid(rng.int(0, 9)),
    () => 'Customer:hub:' + 'z'.repeat(rng.int(0, 40)),
  ])();

/** Cursors: garbage, forged forms of real ones, and (when known) real ones. */
function oddCursor(rng: Rng, real: string[]): string {
  return rng.pick([
    () => 'abc',
    () => '',
    () => '%%%',
    () => b64(null),
    () => b64({ s: 'Customer:name:asc', v: [{ n: 'abc' }] }),
    () => b64({ s: rng.pick(real.length ? real : ['x']), v: [] }),
    () => b64({ s: 'x', v: Array.from({ length: rng.int(0, 2000) }, () => ({ d: 'nope' })) }),
    () => Buffer.from(Array.from({ length: rng.int(1, 300) }, () => rng.int(0, 255))).toString('base64url'),
    () => {
      const c = rng.pick(real.length ? real : ['e30']);
      const parsed = JSON.parse(Buffer.from(c, 'base64url').toString('utf8')) as { s: string; v: unknown[] };
      return b64({ s: parsed.s, v: parsed.v.map(() => rng.pick<unknown>([{ n: 'abc' }, { d: 'x' }, { b: '!!' }, {}, [], 1e308, 'x'.repeat(1000), null])) });
    },
    () => rng.pick(real.length ? real : ['abc']),
  ])();
}

/** A literal for an input type: usually well-typed, sometimes not (graphql-js refuses those). */
function literal(rng: Rng, type: GraphQLInputType, depth: number): string {
  if (isNonNullType(type)) return literal(rng, type.ofType, depth);
  if (rng.chance(0.03)) return rng.pick(['null', '1', '"x"', 'true', '[]', '{}', String(rng.pick(ODD_INTS))]);
  if (isListType(type)) {
    // Long lists of scalars only, and each item then short: the document stays under the body limit most of the time.
    const item = getNamedType(type.ofType);
    if (!isInputObjectType(item) && rng.chance(0.05)) {
      return `[${Array.from({ length: rng.int(0, 5000) }, () => (isScalarType(item) && item.name === 'Int' ? String(rng.int(-9, 9)) : isEnumType(item) ? rng.pick(item.getValues()).name : gqlString(String(rng.int(0, 1e6))))).join(', ')}]`;
    }
    return `[${Array.from({ length: rng.int(0, 3) }, () => literal(rng, type.ofType, depth)).join(', ')}]`;
  }
  if (isEnumType(type)) return rng.pick(type.getValues()).name;
  if (isInputObjectType(type)) return whereLiteral(rng, type, depth);
  if (isScalarType(type)) {
    switch (type.name) {
      case 'Int':
        return String(rng.pick(ODD_INTS));
      case 'Boolean':
        return rng.pick(['true', 'false']);
      case 'Decimal':
        return gqlString(rng.pick(['0', '100.50', '-1', '1e3', '0.000000001', '9'.repeat(rng.int(1, 400)), ODD_STRINGS(rng)]));
      case 'Date':
        return gqlString(rng.pick(['2024-01-01', '1900-01-01', '9999-12-31', ODD_STRINGS(rng)]));
      case 'DateTime':
        return gqlString(rng.pick(['2024-01-01T00:00:00Z', '2024-01-01T00:00:00+08:00', ODD_STRINGS(rng)]));
      default:
        return gqlString(ODD_STRINGS(rng));
    }
  }
  return 'null';
}

/** A where literal of `type` (CustomerWhere, StringFilter, …): random fields, and/or/not trees. */
function whereLiteral(rng: Rng, type: GraphQLInputObjectType, depth: number): string {
  const fields = Object.values(type.getFields());
  const n = rng.int(0, Math.min(3, fields.length));
  const parts: string[] = [];
  for (let i = 0; i < n; i++) {
    const f = rng.pick(fields);
    const named = getNamedType(f.type);
    // Nesting (and/or/not) goes deeper only while depth lasts; sometimes far past the limit.
    if (isInputObjectType(named) && named === type && depth <= 0) continue;
    parts.push(`${f.name}: ${literal(rng, f.type, depth - 1)}`);
  }
  return `{ ${parts.join(', ')} }`;
}

function deepOr(levels: number): string {
  return `${'{ or: ['.repeat(levels)}{ id: { eq: "x" } }${'] }'.repeat(levels)}`;
}

interface Entity {
  name: string;
  /** The root connection field (customers, invoices, …). */
  root: string;
  type: GraphQLObjectType;
  where: GraphQLInputObjectType;
  sortFields: string[];
}

function entities(schema: GraphQLSchema): Entity[] {
  const out: Entity[] = [];
  for (const [root, f] of Object.entries(schema.getQueryType()!.getFields())) {
    const named = getNamedType(f.type);
    if (!isObjectType(named) || !named.name.endsWith('Connection') || !f.args.some((a) => a.name === 'orderBy')) continue;
    const name = named.name.slice(0, -'Connection'.length);
    const type = schema.getType(name);
    const where = schema.getType(`${name}Where`);
    const sort = schema.getType(`${name}SortField`);
    if (!isObjectType(type) || !isInputObjectType(where) || !isEnumType(sort)) continue;
    out.push({ name, root, type, where, sortFields: sort.getValues().map((v) => v.name) });
  }
  return out;
}

/** Connection arguments: odd page sizes, cursors, orderBy and where. */
function connectionArgs(rng: Rng, e: Entity | undefined, real: string[]): string {
  const args: string[] = [];
  if (rng.chance(0.5)) args.push(`first: ${rng.chance(0.7) ? rng.int(0, 20) : rng.pick(ODD_INTS)}`);
  if (rng.chance(0.15)) args.push(`last: ${rng.chance(0.7) ? rng.int(0, 20) : rng.pick(ODD_INTS)}`);
  if (rng.chance(0.15)) args.push(`after: ${gqlString(oddCursor(rng, real))}`);
  if (rng.chance(0.1)) args.push(`before: ${gqlString(oddCursor(rng, real))}`);
  if (e && rng.chance(0.4)) args.push(`orderBy: [${Array.from({ length: rng.int(1, 3) }, () => `{ field: ${rng.pick(e.sortFields)}, direction: ${rng.pick(['ASC', 'DESC'])} }`).join(', ')}]`);
  if (e && rng.chance(0.4)) args.push(`where: ${rng.chance(0.05) ? deepOr(rng.int(1, 3000)) : whereLiteral(rng, e.where, rng.int(0, 16))}`);
  return args.length ? `(${args.join(', ')})` : '';
}

/** A selection on an object type: scalars, refs, nested connections, aliases, fragments inline. */
function selection(rng: Rng, schema: GraphQLSchema, type: GraphQLObjectType, depth: number, all: Entity[], real: string[]): string {
  const fields = Object.values(type.getFields());
  const out: string[] = ['__typename'];
  const n = rng.int(1, 6);
  for (let i = 0; i < n; i++) {
    const f = rng.pick(fields);
    const named = getNamedType(f.type);
    const alias = rng.chance(0.1) ? `al${rng.int(0, 99)}: ` : '';
    if (!isObjectType(named)) {
      out.push(`${alias}${f.name}`);
      continue;
    }
    if (depth <= 0) continue;
    const e = all.find((x) => `${x.name}Connection` === named.name);
    const args = e ? connectionArgs(rng, e, real) : '';
    if (f.args.some((a) => isNonNullType(a.type)) && !e) continue;
    out.push(`${alias}${f.name}${args} { ${selection(rng, schema, named, depth - 1, all, real)} }`);
  }
  if (rng.chance(0.05)) out.push(`... on ${type.name} { __typename }`);
  return out.join(' ');
}

function doubling(levels: number, leaf: string): string {
  const out = ['{ ...F0 }'];
  for (let i = 0; i < levels; i++) out.push(`fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`);
  out.push(`fragment F${levels} on Query { ${leaf} }`);
  return out.join('\n');
}

interface Case {
  query: string;
  variables?: Record<string, unknown>;
}

/** One random or adversarial request. */
function randomCase(rng: Rng, schema: GraphQLSchema, all: Entity[], real: string[]): Case {
  const e = rng.pick(all);
  const kind = rng.int(0, 14);
  switch (kind) {
    case 0:
      return { query: doubling(rng.int(1, 40), rng.pick(['__typename', `${e.root} { totalCount }`, `${e.root} { nodes { id } }`])) };
    case 1:
      // Aliases, sometimes far past the limit.
      return { query: `{ ${Array.from({ length: rng.chance(0.3) ? rng.int(30, 3000) : rng.int(1, 30) }, (_, i) => `a${i}: ${e.root}(first: ${rng.pick([0, 1, 50])}) { totalCount aggregate { count } }`).join(' ')} }` };
    case 2: {
      // Deep selections through relations, sometimes past the depth limit.
      const n = rng.int(1, 8);
      return { query: `{ customers { nodes { ${'salesOrders { nodes { customer { '.repeat(n)}id${' } } }'.repeat(n)} } } }` };
    }
    case 3:
      return { query: `{ ${'__typename '.repeat(rng.int(1, 100_000))}}` };
    case 4:
      return { query: `query($ids: [ID!]!) { nodes(ids: $ids) { id __typename } }`, variables: { ids: Array.from({ length: rng.chance(0.3) ? rng.int(0, 30_000) : rng.int(0, 10) }, () => (rng.chance(0.5) ? customerGid(rng.int(0, 9)) : ODD_STRINGS(rng).slice(0, 200))) } };
    case 5:
      return { query: `query($w: ${e.name}Where) { ${e.root}(where: $w) { totalCount } }`, variables: { w: randomJson(rng, rng.int(0, 30)) } };
    case 6:
      return { query: `query($a: String, $f: Int) { ${e.root}(after: $a, first: $f) { nodes { id } pageInfo { endCursor } } }`, variables: { a: oddCursor(rng, real), f: rng.pick(ODD_INTS) } };
    case 7:
      // Garbage documents: truncated, random bytes, unbalanced.
      return { query: rng.pick([`{ ${e.root} { `, '}}}}', '{'.repeat(rng.int(1, 100_000)), '"'.repeat(rng.int(1, 1000)), Buffer.from(Array.from({ length: rng.int(1, 2000) }, () => rng.int(32, 126))).toString('latin1'), `{ ${e.root}(first: 99999999999999999999) { totalCount } }`]) };
    case 8: {
      const n = rng.int(1, 500);
      return { query: `{ ${'... on Query { '.repeat(n)}__typename${' }'.repeat(n)} }` };
    }
    case 9:
      return { query: `{ ${e.root}(where: { id: { in: [${Array.from({ length: rng.int(0, 20_000) }, () => '"x"').join(',')}] } }) { totalCount } }` };
    default: {
      const args = connectionArgs(rng, e, real);
      const sel: string[] = [];
      if (rng.chance(0.5)) sel.push('totalCount');
      if (rng.chance(0.3)) sel.push('aggregate { count }');
      if (rng.chance(0.3)) sel.push('pageInfo { hasNextPage hasPreviousPage startCursor endCursor }');
      if (rng.chance(0.3)) sel.push(`edges { cursor node { ${selection(rng, schema, e.type, 2, all, real)} } }`);
      sel.push(`nodes { ${selection(rng, schema, e.type, rng.int(0, 3), all, real)} }`);
      return { query: `{ ${e.root}${args} { ${sel.join(' ')} } }` };
    }
  }
}

function randomJson(rng: Rng, depth: number): unknown {
  if (depth <= 0 || rng.chance(0.3)) return rng.pick<unknown>([null, 0, -1, 1e308, 'x', ODD_STRINGS(rng).slice(0, 1000), true, []]);
  if (rng.chance(0.2)) return Array.from({ length: rng.int(0, 3) }, () => randomJson(rng, depth - 1));
  const keys = ['or', 'and', 'not', 'name', 'code', 'id', 'eq', 'in', 'contains', '__proto__', 'constructor'];
  return Object.fromEntries(Array.from({ length: rng.int(1, 3) }, () => [rng.pick(keys), randomJson(rng, depth - 1)]));
}

/**
 * The sweep: every orderBy and every where field of every entity, before the random requests.
 * Each where field gets one random operator (all of them in a long run, FUZZ_MS ≥ 2 minutes).
 */
function sweep(rng: Rng, all: Entity[], everyOperator: boolean): Case[] {
  const out: Case[] = [];
  for (const e of all) {
    for (const f of e.sortFields) out.push({ query: `{ ${e.root}(first: 3, orderBy: [{ field: ${f}, direction: ${rng.pick(['ASC', 'DESC'])} }]) { nodes { id } pageInfo { endCursor } } }` });
    for (const f of Object.values(e.where.getFields())) {
      const named = getNamedType(f.type);
      if (!isInputObjectType(named)) continue;
      if (named === e.where) {
        out.push({ query: `{ ${e.root}(where: { ${f.name}: ${isListType(isNonNullType(f.type) ? f.type.ofType : f.type) ? `[${whereLiteral(rng, e.where, 2)}]` : whereLiteral(rng, e.where, 2)} }) { totalCount } }` });
        continue;
      }
      const ops = Object.values(named.getFields());
      for (const op of everyOperator ? ops : [rng.pick(ops)]) {
        out.push({ query: `{ ${e.root}(where: { ${f.name}: { ${op.name}: ${literal(rng, op.type, 1)} } }) { totalCount nodes { id } } }` });
      }
    }
  }
  return out;
}

interface Failure {
  case: string;
  why: string;
}

describe('fuzzing /graphql', () => {
  let s: SecurityServer;
  let schema: GraphQLSchema;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  beforeAll(async () => {
    s = await startSecurityServer({ customers: 6, server: SERVER_AUTH });
    schema = buildSchema(s.fixture.app);
    process.on('unhandledRejection', onUnhandled);
  });
  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    await s?.close();
  });

  test(`random and adversarial requests for ${DURATION_MS} ms: the server stays up, /healthz answers, every answer is GraphQL`, async () => {
    console.log(`fuzz seed: ${SEED} (replay with FUZZ_SEED=${SEED}), duration ${DURATION_MS} ms`);
    const rng = prng(SEED);
    const all = entities(schema);
    expect(all.length).toBeGreaterThan(3);

    // Real cursors, to forge from.
    const real: string[] = [];
    for (const e of all) {
      const r = await s.gql(`{ ${e.root}(first: 2) { pageInfo { endCursor } } }`, undefined, CALLERS[0]);
      const c = (r.data as Record<string, { pageInfo: { endCursor: string | null } }> | undefined)?.[e.root]?.pageInfo.endCursor;
      if (c) real.push(c);
    }

    const failures: Failure[] = [];
    const slowest: { ms: number; label: string }[] = [];
    let sent = 0;
    let slowestHealthz = 0;
    let healthzChecks = 0;
    const deadline = performance.now() + DURATION_MS;
    let stop = false;

    const check = async (c: Case, headers: Record<string, string>) => {
      const body = JSON.stringify({ query: c.query, ...(c.variables ? { variables: c.variables } : {}) });
      const label = `${body.slice(0, 300)}${body.length > 300 ? `… (${body.length} bytes)` : ''} as ${JSON.stringify(headers)}`;
      let res: Response;
      const started = performance.now();
      try {
        res = await s.fetch('/graphql', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
      } catch (err) {
        failures.push({ case: label, why: `no answer: ${String(err)}` });
        return;
      }
      sent++;
      const text = await res.text();
      const ms = performance.now() - started;
      if (ms > (slowest[slowest.length - 1]?.ms ?? 0) || slowest.length < 3) {
        slowest.push({ ms, label: label.slice(0, 160) });
        slowest.sort((a, b) => b.ms - a.ms).splice(3);
      }
      if (res.status >= 500) failures.push({ case: label, why: `status ${res.status}: ${text.slice(0, 300)}` });
      let parsed: { data?: unknown; errors?: { message?: unknown; extensions?: { code?: unknown } }[] };
      try {
        parsed = JSON.parse(text) as typeof parsed;
      } catch {
        failures.push({ case: label, why: `not JSON (${res.status}): ${text.slice(0, 200)}` });
        return;
      }
      if (parsed.data === undefined && !Array.isArray(parsed.errors)) failures.push({ case: label, why: `neither data nor errors: ${text.slice(0, 200)}` });
      for (const e of parsed.errors ?? []) {
        if (typeof e.message !== 'string') failures.push({ case: label, why: `an error without a message: ${JSON.stringify(e).slice(0, 200)}` });
        const code = e.extensions?.code;
        if (code === 'INTERNAL' || code === 'INTERNAL_SERVER_ERROR' || e.message === 'Unexpected error.') {
          failures.push({ case: label, why: `unexpected error: ${String(e.message).slice(0, 300)}` });
        }
      }
    };

    // The longest stretch of this process's CPU time between two timer ticks: the work that ran
    // without giving the event loop back. process.cpuUsage counts every thread (GC helpers too),
    // which only makes the figure larger, never hides a block.
    let longestBlockCpuMs = 0;
    let lastCpu = process.cpuUsage();
    const ticker = setInterval(() => {
      const cpu = process.cpuUsage(lastCpu);
      lastCpu = process.cpuUsage();
      longestBlockCpuMs = Math.max(longestBlockCpuMs, (cpu.user + cpu.system) / 1000);
    }, 10);

    const healthz = (async () => {
      while (!stop) {
        const t = performance.now();
        try {
          const r = await s.fetch('/healthz');
          await r.text();
          if (r.status !== 200) failures.push({ case: '/healthz', why: `status ${r.status}` });
        } catch (err) {
          failures.push({ case: '/healthz', why: String(err) });
        }
        slowestHealthz = Math.max(slowestHealthz, performance.now() - t);
        healthzChecks++;
        await new Promise((r) => setTimeout(r, 20));
      }
    })();

    // The sweep runs as an admin and as a salesperson with hidden fields; the rest as anyone.
    const queue = sweep(rng, all, DURATION_MS >= 120_000);
    const swept = queue.length;
    const worker = async () => {
      // Sweep and random cases alternate; the sweep is finished even past the deadline.
      while (failures.length < 20 && (queue.length > 0 || performance.now() < deadline)) {
        const sweepNext = queue.length > 0 && (performance.now() >= deadline || rng.chance(0.5));
        const c = sweepNext ? queue.shift() : undefined;
        await (c ? check(c, rng.pick(CALLERS.slice(0, 2))) : check(randomCase(rng, schema, all, real), rng.pick(CALLERS)));
      }
    };
    await Promise.all([worker(), worker()]);
    stop = true;
    await healthz;
    clearInterval(ticker);
    await new Promise((r) => setImmediate(r));

    console.log(`fuzz: ${sent} requests (${swept} in the orderBy/where sweep), ${healthzChecks} /healthz checks, slowest /healthz ${Math.round(slowestHealthz)} ms, longest event-loop block ${Math.round(longestBlockCpuMs)} ms of CPU`);
    console.log(`slowest requests:\n${slowest.map((x) => `  ${Math.round(x.ms)} ms ${x.label}`).join('\n')}`);
    expect(failures.map((f) => `${f.why}\n    ${f.case}`).slice(0, 10), `seed ${SEED}`).toEqual([]);
    expect(unhandled, `seed ${SEED}`).toEqual([]);
    expect(healthzChecks).toBeGreaterThan(0);
    expect(longestBlockCpuMs, `seed ${SEED}`).toBeLessThan(BLOCK_CPU_BOUND_MS);
    // The server still answers an ordinary query.
    const r = await s.gql('{ customers { totalCount } }', undefined, CALLERS[0]);
    expect(r.data).toEqual({ customers: { totalCount: 6 } });
  }, DURATION_MS + 120_000);
});
