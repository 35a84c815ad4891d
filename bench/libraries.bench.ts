/**
 * Hand-written parts against the maintained libraries that could replace them, measured side by
 * side in one process (alternating rounds; ratios, not absolute times). The decisions these
 * figures support are in docs/ARCHITECTURE.md ("Libraries instead of hand-written code").
 *
 *   node --import tsx bench/libraries.bench.ts [--values 200000] [--rounds 3] [--all-zones]
 *
 * 1. width folding: the former hand-written full-width folder against String.normalize('NFKC'),
 *    speed per value, and every BMP character on which the two differ;
 * 2. time zones: model/time.ts (Intl offsets cached per zone and day) against temporal-polyfill,
 *    speed per conversion both ways, and agreement around every offset transition of a set of
 *    zones (all IANA zones with --all-zones), including Asia/Shanghai's 1986–1991 summer time;
 * 3. GraphQL limits: the former hand-written depth rule, our cost estimate and graphql-js's maxTokens against
 *    graphql-armor's max-depth, cost-limit and max-tokens: what each counts, and speed.
 */
import { performance } from 'node:perf_hooks';
import { Temporal } from 'temporal-polyfill';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import { MaxTokensParserWLexer } from '@escape.tech/graphql-armor-max-tokens';
import { buildSchema, GraphQLError, Kind, parse, validate, type ASTVisitor, type DocumentNode, type FragmentDefinitionNode, type SelectionSetNode, type ValidationContext, type ValidationRule } from '../schema/graphql-runtime.js';
import { zonedToUtc, utcToZoned, zoneOffsetMs } from '../model/time.js';
import { halfWidth } from '../model/text.js';
import { operationCost } from '../server/plugins/use-cost-limit.js';
import { flags, round } from './lib/common.js';

const f = flags();
const VALUES = f.num('values', 200_000);
const ROUNDS = f.num('rounds', 3);
const out: Record<string, unknown> = {};

/** Best of `ROUNDS` alternating rounds, ns per call, for each named function. */
function race(fns: Record<string, () => number>, calls: number): Record<string, number> {
  const best: Record<string, number> = {};
  let sink = 0;
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, fn] of Object.entries(fns)) {
      const t = performance.now();
      sink += fn();
      const ns = ((performance.now() - t) * 1e6) / calls;
      best[name] = Math.min(best[name] ?? Infinity, ns);
    }
  }
  if (sink === -1) console.log(sink);
  return Object.fromEntries(Object.entries(best).map(([k, v]) => [k, round(v, 1)]));
}

// ------------------------------------------------------------------ 1. width folding

/** The hand-written folder identity/normalize.ts had (connectors/mapping had the same as a regex). */
function formerHalfWidth(s: string): string {
  let o = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xff01 && c <= 0xff5e) o += String.fromCharCode(c - 0xfee0);
    else if (c === 0x3000) o += ' ';
    else o += s[i];
  }
  return o;
}
const formerRegex = (t: string) => t.replace(/[\uFF01-\uFF5E\u3000]/g, (ch) => (ch === '\u3000' ? ' ' : String.fromCharCode(ch.charCodeAt(0) - 0xfee0)));

{
  const CITIES = ['北京', '上海', '深圳', '杭州', '成都'];
  const texts: string[] = [];
  for (let i = 0; i < VALUES; i++) {
    const k = i % 4;
    texts.push(
      k === 0 ? `${CITIES[i % 5]}华${i}科技有限公司` // plain CJK, nothing to fold
        : k === 1 ? `华为技术（${CITIES[i % 5]}）有限公司\u3000` // full-width brackets and space
          : k === 2 ? `０７５５－${String(i).padStart(8, '０')}` // full-width phone
            : `user${i}@example.com`, // ASCII
    );
  }
  const speed = race(
    {
      formerLoop: () => texts.reduce((n, t) => n + formerHalfWidth(t).length, 0),
      formerRegex: () => texts.reduce((n, t) => n + formerRegex(t).length, 0),
      nfkc: () => texts.reduce((n, t) => n + halfWidth(t).length, 0),
    },
    texts.length,
  );
  // Every BMP character (surrogates aside) where the two differ.
  let formerChanges = 0;
  let nfkcAgreesOnThose = 0;
  let nfkcOnlyChanges = 0;
  const nfkcOnlyBlocks = new Map<string, number>();
  const block = (c: number) =>
    c >= 0xff61 && c <= 0xff9f ? 'half-width katakana/hangul'
      : c >= 0xffe0 && c <= 0xffee ? 'full-width signs (￥ ￡ ￢)'
        : c >= 0xf900 && c <= 0xfaff ? 'CJK compatibility ideographs'
          : c >= 0x3200 && c <= 0x33ff ? 'enclosed CJK, squared words (㈱ ㍿)'
            : c >= 0x2460 && c <= 0x24ff ? 'enclosed alphanumerics (① ⒈)'
              : c >= 0x2f00 && c <= 0x2fdf ? 'Kangxi radicals'
                : c >= 0xfb00 && c <= 0xfdff ? 'ligatures, Arabic presentation forms'
                  : c >= 0xfe30 && c <= 0xfe6f ? 'vertical and small forms (︵ ﹐)'
                    : c < 0x2000 ? 'Latin/Greek compatibility (ª ² ½, nbsp)'
                      : 'other';
  for (let c = 0; c <= 0xffff; c++) {
    if (c >= 0xd800 && c <= 0xdfff) continue;
    const ch = String.fromCharCode(c);
    const former = formerHalfWidth(ch);
    const nfkc = ch.normalize('NFKC');
    if (former !== ch) {
      formerChanges++;
      if (nfkc === former) nfkcAgreesOnThose++;
    } else if (nfkc !== ch) {
      nfkcOnlyChanges++;
      nfkcOnlyBlocks.set(block(c), (nfkcOnlyBlocks.get(block(c)) ?? 0) + 1);
    }
  }
  out.widthFolding = {
    values: texts.length,
    nsPerValue: speed,
    ratioNfkcToFormerLoop: round(speed.nfkc / speed.formerLoop, 2),
    ratioNfkcToFormerRegex: round(speed.nfkc / speed.formerRegex, 2),
    bmp: { formerChanges, nfkcAgreesOnThose, nfkcOnlyChanges, nfkcOnlyBlocks: Object.fromEntries([...nfkcOnlyBlocks].sort((a, b) => b[1] - a[1])) },
  };
  console.log('width folding', JSON.stringify(out.widthFolding, null, 1));
}

// ------------------------------------------------------------------ 2. time zones

const DAY = 86_400_000;
const HOUR = 3_600_000;

function temporalOffsetMs(ms: number, tz: string): number {
  return Temporal.Instant.fromEpochMilliseconds(ms).toZonedDateTimeISO(tz).offsetNanoseconds / 1e6;
}
/** The wall clock (ms read as UTC) → instant, with Temporal's default disambiguation ('compatible'), model/time.ts's rule. */
function temporalZonedToUtc(wallMs: number, tz: string): number {
  const d = new Date(wallMs);
  return new Temporal.PlainDateTime(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds())
    .toZonedDateTime(tz).epochMilliseconds;
}

/** model/time.ts's zonedToUtc before this comparison: its gap and overlap rule depended on the offset's sign. */
function formerZonedToUtc(wallMs: number, tz: string): number {
  const offset1 = zoneOffsetMs(wallMs, tz);
  let t = wallMs - offset1;
  const offset2 = zoneOffsetMs(t, tz);
  if (offset2 !== offset1) t = wallMs - offset2;
  return t;
}

function transitions(tz: string, fromYear: number, toYear: number): number[] {
  const list: number[] = [];
  let z = Temporal.ZonedDateTime.from({ timeZone: tz, year: fromYear, month: 1, day: 1 });
  const end = Date.UTC(toYear, 0, 1);
  for (;;) {
    const next = z.getTimeZoneTransition('next');
    if (!next || next.epochMilliseconds >= end) break;
    list.push(next.epochMilliseconds);
    z = next;
  }
  return list;
}

{
  const zones = f.has('all-zones')
    ? Intl.supportedValuesOf('timeZone')
    : ['America/New_York', 'Asia/Shanghai', 'Europe/Berlin', 'Europe/London', 'Europe/Dublin', 'Australia/Lord_Howe', 'America/Sao_Paulo', 'Africa/Casablanca', 'Pacific/Apia', 'Asia/Tehran', 'America/St_Johns', 'Pacific/Chatham', 'Antarctica/Troll', 'Asia/Pyongyang', 'Asia/Kolkata'];
  const mismatches: unknown[] = [];
  const mismatchCounts: Record<string, number> = {};
  const miss = (tz: string, way: string, detail: object) => {
    mismatchCounts[`${tz} ${way}`] = (mismatchCounts[`${tz} ${way}`] ?? 0) + 1;
    if (mismatches.length < 10 && !way.includes('former')) mismatches.push({ tz, way, ...detail });
  };
  let checked = 0;
  let transitionCount = 0;
  const started = performance.now();
  for (const tz of zones) {
    const list = transitions(tz, 1900, 2040);
    transitionCount += list.length;
    for (const t of list) {
      for (const k of [-DAY, -2 * HOUR, -HOUR, -1800_000, -1, 0, 1, 1800_000, HOUR, 2 * HOUR, DAY]) {
        const ms = t + k;
        checked++;
        const ours = utcToZoned(ms, tz) - ms;
        const theirs = temporalOffsetMs(ms, tz);
        if (ours !== theirs) miss(tz, 'utc→zoned', { utc: new Date(ms).toISOString(), ours, temporal: theirs });
      }
      // Wall clocks every 15 minutes from 3 h before to 3 h after the change, in both offsets.
      const wallBefore = t + temporalOffsetMs(t - 1, tz);
      for (let w = wallBefore - 3 * HOUR; w <= wallBefore + 3 * HOUR; w += 900_000) {
        checked++;
        const ours = zonedToUtc(w, tz);
        const theirs = temporalZonedToUtc(w, tz);
        if (formerZonedToUtc(w, tz) !== theirs) miss(tz, 'zoned→utc (former rule)', {});
        if (ours !== theirs) miss(tz, 'zoned→utc', { wall: new Date(w).toISOString().slice(0, 19), ours: new Date(ours).toISOString(), temporal: new Date(theirs).toISOString() });
      }
    }
  }
  const shanghai8691 = transitions('Asia/Shanghai', 1986, 1992).map((t) => `${new Date(t).toISOString()} → UTC+${temporalOffsetMs(t, 'Asia/Shanghai') / HOUR}`);
  // Examples a reader can check by hand: Shanghai's first summer time, New York's 2024 changes.
  const examples = [
    ['Asia/Shanghai', Date.UTC(1986, 4, 4, 2, 30)], // 02:30 on 4 May 1986 does not exist (02:00 → 03:00)
    ['Asia/Shanghai', Date.UTC(1991, 8, 15, 1, 30)], // 01:30 on 15 Sep 1991 happens twice
    ['America/New_York', Date.UTC(2024, 2, 10, 2, 30)], // gap
    ['America/New_York', Date.UTC(2024, 10, 3, 1, 30)], // overlap
  ].map(([tz, w]) => ({
    tz,
    wall: new Date(w as number).toISOString().slice(0, 16),
    former: new Date(formerZonedToUtc(w as number, tz as string)).toISOString(),
    ours: new Date(zonedToUtc(w as number, tz as string)).toISOString(),
    temporal: new Date(temporalZonedToUtc(w as number, tz as string)).toISOString(),
  }));

  // Speed: wall clocks at distinct seconds over five years (what a table's modify times look like).
  const walls: number[] = [];
  const base = Date.UTC(2020, 0, 1);
  const span = 5 * 365 * DAY;
  for (let i = 0; i < VALUES; i++) walls.push(base + Math.floor((i * 7_919_000) % span));
  const speed: Record<string, Record<string, number>> = {};
  for (const tz of ['Asia/Shanghai', 'America/New_York']) {
    const n = Math.min(walls.length, 50_000); // the polyfill is the slow side: fewer values keep the run short
    const sample = walls.slice(0, n);
    speed[tz] = race(
      {
        oursZonedToUtc: () => sample.reduce((s, w) => s + zonedToUtc(w, tz), 0),
        temporalZonedToUtc: () => sample.reduce((s, w) => s + temporalZonedToUtc(w, tz), 0),
        oursUtcToZoned: () => sample.reduce((s, w) => s + utcToZoned(w, tz), 0),
        temporalUtcToZoned: () => sample.reduce((s, w) => s + w + temporalOffsetMs(w, tz), 0),
      },
      n,
    );
  }
  out.timeZones = {
    zones: zones.length,
    transitions: transitionCount,
    pointsChecked: checked,
    mismatchCounts,
    mismatches,
    correctnessSeconds: round((performance.now() - started) / 1000, 1),
    shanghai1986to1991: shanghai8691,
    examples,
    nsPerConversion: speed,
    ratioTemporalToOurs: Object.fromEntries(
      Object.entries(speed).map(([tz, s]) => [tz, { zonedToUtc: round(s.temporalZonedToUtc / s.oursZonedToUtc, 1), utcToZoned: round(s.temporalUtcToZoned / s.oursUtcToZoned, 1) }]),
    ),
  };
  console.log('time zones', JSON.stringify(out.timeZones, null, 1));
}

// ------------------------------------------------------------------ 3. GraphQL limits

/** The hand-written depth rule server/plugins/use-depth-limit.ts had (fields with a selection set, fragments memoised). */
function formerSelectionDepth(set: SelectionSetNode | undefined, fragments: Record<string, FragmentDefinitionNode>, memo: Map<string, number>): number {
  if (!set) return 0;
  let max = 0;
  for (const sel of set.selections) {
    if (sel.kind === Kind.FIELD) {
      if (sel.name.value === '__schema' || sel.name.value === '__type') continue;
      max = Math.max(max, sel.selectionSet ? 1 + formerSelectionDepth(sel.selectionSet, fragments, memo) : 0);
    } else if (sel.kind === Kind.INLINE_FRAGMENT) {
      max = Math.max(max, formerSelectionDepth(sel.selectionSet, fragments, memo));
    } else {
      const name = sel.name.value;
      let depth = memo.get(name);
      if (depth === undefined) {
        memo.set(name, 0);
        depth = Object.hasOwn(fragments, name) ? formerSelectionDepth(fragments[name].selectionSet, fragments, memo) : 0;
        memo.set(name, depth);
      }
      max = Math.max(max, depth);
    }
  }
  return max;
}
function depthLimitRule(maxDepth: number) {
  return (context: ValidationContext): ASTVisitor => {
    const memo = new Map<string, number>();
    return {
      OperationDefinition(node) {
        const fragments: Record<string, FragmentDefinitionNode> = {};
        for (const d of context.getDocument().definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments[d.name.value] = d;
        const depth = formerSelectionDepth(node.selectionSet, fragments, memo);
        if (depth > maxDepth) context.reportError(new GraphQLError(`the query is ${depth} levels deep`));
      },
    };
  };
}

{
  const schema = buildSchema(`
    type Query { customers(first: Int = 50, after: String): CustomerConnection! customer(id: ID!): Customer }
    type CustomerConnection { totalCount: Int! nodes: [Customer!]! pageInfo: PageInfo! }
    type PageInfo { hasNextPage: Boolean! endCursor: String }
    type Customer { id: ID! code: String! name: String! phone: String owner: User
      salesOrders(first: Int = 50): SalesOrderConnection! invoices(first: Int = 50): InvoiceConnection! }
    type User { id: ID! name: String! team: Team }
    type Team { id: ID! name: String! lead: User }
    type SalesOrderConnection { totalCount: Int! nodes: [SalesOrder!]! }
    type SalesOrder { id: ID! number: String! total: String! customer: Customer! lines(first: Int = 50): SalesOrderLineConnection! }
    type SalesOrderLineConnection { totalCount: Int! nodes: [SalesOrderLine!]! }
    type SalesOrderLine { id: ID! quantity: String! amount: String! }
    type InvoiceConnection { totalCount: Int! nodes: [Invoice!]! }
    type Invoice { id: ID! number: String! balance: String! }
  `);
  const customer360 = parse(`query C($id: ID!) { customer(id: $id) { id code name phone owner { name team { name } }
    salesOrders(first: 10) { totalCount nodes { number total lines(first: 20) { nodes { quantity amount } } } }
    invoices(first: 10) { totalCount nodes { number balance } } } }`);
  const big = (pages: number) => parse(`{ customers(first: ${pages}) { nodes { id salesOrders(first: ${pages}) { nodes { id } } } } }`);
  const byVariable = parse(`query($n: Int) { customers(first: $n) { nodes { id salesOrders(first: $n) { nodes { id } } } } }`);
  const defaultPages = parse(`{ customers { nodes { id salesOrders { nodes { id } } } } }`);
  // F0 spreads F1 twice, F1 spreads F2 twice, …: 2^levels spreads when walked without memory.
  const bomb = (levels: number) => {
    let s = `{ customers { nodes { ...F0 } } }`;
    for (let i = 0; i < levels; i++) s += ` fragment F${i} on Customer { owner { team { lead { ...F${i + 1} ...F${i + 1} } } } }`;
    return parse(s + ` fragment F${levels} on Customer { id }`.replace('on Customer', 'on User'));
  };

  // What each counts.
  const armorDepth = (doc: DocumentNode): number => {
    let found = -1;
    const rule = maxDepthRule({ n: 0, flattenFragments: true, propagateOnRejection: false, onReject: [(_c, e) => { found = Number(/found (\d+)/.exec(e.message)?.[1]); }], onAccept: [(_c, d) => { found = d.n; }] });
    validate(schema, doc, [rule as unknown as ValidationRule]);
    return found;
  };
  const oursDepth = (doc: DocumentNode): number => {
    let found = 0;
    const errors = validate(schema, doc, [depthLimitRule(0)]);
    for (const e of errors) found = Math.max(found, Number(/is (\d+) levels/.exec(e.message)?.[1] ?? 0));
    return found;
  };
  const armorCost = (doc: DocumentNode): number => {
    let found = -1;
    const rule = costLimitRule({ maxCost: 0, propagateOnRejection: false, onReject: [(_c, e) => { found = Number(/found (\d+)/.exec(e.message)?.[1]); }], onAccept: [(_c, d) => { found = (d as { n: number }).n; }] });
    validate(schema, doc, [rule as unknown as ValidationRule]);
    return found;
  };
  const counts = {
    customer360: { oursDepth: oursDepth(customer360), armorDepth: armorDepth(customer360), oursCost: operationCost(schema, customer360, { id: '1' }), armorCost: armorCost(customer360) },
    pages1x1: { oursCost: operationCost(schema, big(1)), armorCost: armorCost(big(1)) },
    pages1000x1000: { oursCost: operationCost(schema, big(1000)), armorCost: armorCost(big(1000)) },
    // The same page sizes as a variable: armor reads only literal first/last.
    pages1000x1000ByVariable: { oursCost: operationCost(schema, byVariable, { n: 1000 }), armorCost: armorCost(byVariable) },
    // No first: the argument's default page (50).
    defaultPages: { oursCost: operationCost(schema, defaultPages), armorCost: armorCost(defaultPages) },
    fragmentBomb20: { oursDepth: oursDepth(bomb(20)), armorDepth: armorDepth(bomb(20)) },
  };

  const bomb20 = bomb(20);
  const depthSpeed = race(
    {
      oursCustomer360: () => validate(schema, customer360, [depthLimitRule(10)]).length,
      armorCustomer360: () => validate(schema, customer360, [maxDepthRule({ n: 11, flattenFragments: true }) as unknown as ValidationRule]).length,
    },
    1,
  );
  const loops = 2000;
  const depthPerDoc = race(
    {
      ours: () => { let n = 0; for (let i = 0; i < loops; i++) n += validate(schema, customer360, [depthLimitRule(10)]).length; return n; },
      armor: () => { let n = 0; for (let i = 0; i < loops; i++) n += validate(schema, customer360, [maxDepthRule({ n: 11, flattenFragments: true }) as unknown as ValidationRule]).length; return n; },
      none: () => { let n = 0; for (let i = 0; i < loops; i++) n += validate(schema, customer360, []).length; return n; },
    },
    loops,
  );
  const bombSpeed = race(
    {
      ours: () => validate(schema, bomb20, [depthLimitRule(100)]).length,
      armor: () => validate(schema, bomb20, [maxDepthRule({ n: 1000, flattenFragments: true }) as unknown as ValidationRule]).length,
    },
    1,
  );
  // Tokens: a 300,000-field document against a 5,000-token limit; both stop at the limit.
  const huge = `{ ${'a '.repeat(300_000)}}`;
  const stop = (fn: () => unknown) => { try { fn(); } catch { /* the limit */ } return 1; };
  const tokenSpeed = race(
    {
      graphqlMaxTokens: () => stop(() => parse(huge, { maxTokens: 5000 })),
      armorMaxTokens: () => stop(() => new MaxTokensParserWLexer(huge, { n: 5000 }).parseDocument()),
    },
    1,
  );
  const text360 = `query C($id: ID!) { customer(id: $id) { id code name phone owner { name team { name } } salesOrders(first: 10) { totalCount nodes { number total lines(first: 20) { nodes { quantity amount } } } } invoices(first: 10) { totalCount nodes { number balance } } } }`;
  const tokenPerDoc = race(
    {
      graphqlMaxTokens: () => { let n = 0; for (let i = 0; i < loops; i++) n += parse(text360, { maxTokens: 5000 }).definitions.length; return n; },
      armorMaxTokens: () => { let n = 0; for (let i = 0; i < loops; i++) n += new MaxTokensParserWLexer(text360, { n: 5000 }).parseDocument().definitions.length; return n; },
    },
    loops,
  );
  const costPerDoc = race(
    {
      ours: () => { let n = 0; for (let i = 0; i < loops; i++) n += operationCost(schema, customer360, { id: '1' }); return n; },
      armor: () => { let n = 0; for (let i = 0; i < loops; i++) n += validate(schema, customer360, [costLimitRule({ maxCost: 100_000 }) as unknown as ValidationRule]).length; return n; },
      validateOnly: () => { let n = 0; for (let i = 0; i < loops; i++) n += validate(schema, customer360, []).length; return n; },
    },
    loops,
  );
  out.limits = {
    counts,
    nsPerDocument: { depth: depthPerDoc, tokens: tokenPerDoc, cost: costPerDoc },
    firstDocumentNs: depthSpeed,
    fragmentBomb20Ns: bombSpeed,
    tokens300kFieldsNs: tokenSpeed,
  };
  console.log('graphql limits', JSON.stringify(out.limits, null, 1));
}

console.log(JSON.stringify(out));
