/**
 * Rule-based record matching for identity resolution (one customer across ERP, finance, OA).
 *
 * Every rule matches on an exact normalised key, so candidates are found through a hash block per
 * rule (credit code, name core, phone, e-mail) and never by comparing all pairs. Each rule that
 * agrees on a pair is one piece of evidence with a weight in (0, 1]; the pieces combine as in
 * probabilistic record linkage (independent evidence, Fellegi–Sunter style): the pair is a
 * coincidence only if every agreeing key is one, so score = 1 − Π(1 − weight). The score is then
 * compared with two thresholds: at or above `link` the pair is one customer (sure), at or above
 * `candidate` a person is asked (probable), below it nothing is reported. See docs/identity.md.
 * There is no fuzzy
 * name similarity on purpose: Chinese company names that differ by one character (美的 / 美菱) are
 * usually different registered companies, so "almost the same name" is a false-match generator.
 */
import type { MatchKeyDeriver, MatchKeys } from '../hub/match-keys.js';
import { validateCreditCode } from './credit-code.js';
import { normalizeCompanyName, normalizeEmail, normalizePhone, type NormalizedName } from './normalize.js';

export interface MatchInput {
  id: string;
  name?: string | null;
  creditCode?: string | null;
  phone?: string | null;
  email?: string | null;
}

export type MatchRuleName = 'creditCode' | 'name' | 'phone' | 'email';
export type Certainty = 'sure' | 'probable';

/**
 * One matching rule. `weight` is the evidence one agreement gives, in (0, 1] (defaults: creditCode
 * 1, name 0.9, e-mail 0.7, phone 0.6). `certainty: sure` makes the rule link on its own (weight 1);
 * a name rule configured as 'sure' is sure only for the exact normalised name including the
 * region; a name that lacks the region on one side keeps the name's weight.
 */
export interface MatchRule {
  rule: MatchRuleName;
  certainty?: Certainty;
  weight?: number;
}

/** Where scores link a pair (sure) and where they only propose it (probable). */
export interface MatchThresholds {
  /** Score at or above which a pair is one record. Default 0.95. */
  link: number;
  /** Score at or above which a pair is a merge candidate. Default 0.5. */
  candidate: number;
}

export const DEFAULT_THRESHOLDS: Readonly<MatchThresholds> = Object.freeze({ link: 0.95, candidate: 0.5 });

/** One agreeing rule of a pair. */
export interface Evidence {
  rule: MatchRuleName;
  weight: number;
  reason: string;
}

export interface Match {
  /** The queried record (left side in matchAll). */
  a: string;
  /** The indexed record (right side in matchAll). */
  b: string;
  /** sure: score ≥ link threshold; probable: score ≥ candidate threshold. */
  certainty: Certainty;
  /** Combined evidence, in [0, 1]: 1 − Π(1 − weight) over `evidence`. */
  score: number;
  /** The agreeing rules, strongest first, joined by '+' (e.g. "name+phone"). */
  rule: string;
  /** Every agreeing rule's reason, joined by '; '. */
  reason: string;
  /** Every agreeing rule, strongest first. */
  evidence: Evidence[];
}

export interface InvalidCode {
  id: string;
  value: string;
  reason: string;
}

export interface MatchIndexOptions {
  /**
   * A phone or e-mail shared by more indexed records than this is treated as non-identifying (a
   * switchboard, a placeholder such as 13800000000, a shared finance@ mailbox) and not used, so
   * one bad value cannot produce a quadratic number of candidates. Default 50.
   */
  maxSharedContact?: number;
  /** Link and candidate thresholds; default DEFAULT_THRESHOLDS. */
  thresholds?: Partial<MatchThresholds>;
  /**
   * Phone and e-mail keys known to be shared by more than maxSharedContact records beyond the ones
   * indexed (an index of one page's candidates, counted in the hub): ignored like an over-shared block.
   */
  sharedContacts?: Partial<Record<'phone' | 'email', ReadonlySet<string>>>;
}

/** See MatchIndexOptions.maxSharedContact. */
export const DEFAULT_MAX_SHARED_CONTACT = 50;

export const DEFAULT_RULES: readonly MatchRule[] = [
  { rule: 'creditCode' },
  { rule: 'name' },
  { rule: 'phone' },
  { rule: 'email' },
];

const DEFAULT_CERTAINTY: Record<MatchRuleName, Certainty> = {
  creditCode: 'sure',
  name: 'probable',
  phone: 'probable',
  email: 'probable',
};

// Evidence strength per rule. Phones and mailboxes are shared within groups and families of
// companies more often than names are, hence lower.
export const DEFAULT_WEIGHTS: Readonly<Record<MatchRuleName, number>> = Object.freeze({ creditCode: 1, name: 0.9, phone: 0.6, email: 0.7 });

const MIN_PHONE_DIGITS = 7; // local landline without area code
const EMAIL_RE = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/** A record reduced to the keys the configured rules use. */
interface Entry {
  id: string;
  code?: string;
  name?: NormalizedName;
  phone?: string;
  email?: string;
  invalid?: InvalidCode;
}

/** A rule with its defaults filled in: what the matcher actually uses. */
export interface ResolvedRule {
  rule: MatchRuleName;
  certainty: Certainty;
  /** Evidence of one agreement; 1 for a sure rule. */
  weight: number;
}

/** The rules as the matcher applies them (defaults filled in), checked. */
export function resolveRules(rules: readonly MatchRule[]): ResolvedRule[] {
  const seen = new Set<MatchRuleName>();
  return rules.map((r) => {
    if (!Object.prototype.hasOwnProperty.call(DEFAULT_CERTAINTY, r.rule)) throw new Error(`unknown match rule '${String(r.rule)}'`);
    if (seen.has(r.rule)) throw new Error(`match rule '${r.rule}' is listed more than once`);
    seen.add(r.rule);
    const certainty = r.certainty ?? DEFAULT_CERTAINTY[r.rule];
    if (r.weight !== undefined && !(r.weight > 0 && r.weight <= 1)) throw new Error(`match rule '${r.rule}': weight ${r.weight} is not in (0, 1]`);
    // sure: links alone; probable: never links alone, so a default weight of 1 drops to the name's.
    const weight = r.weight ?? (certainty === 'sure' && r.rule !== 'name' ? 1 : Math.min(DEFAULT_WEIGHTS[r.rule], DEFAULT_WEIGHTS.name));
    return { rule: r.rule, certainty, weight };
  });
}

/** Thresholds with defaults filled in, checked (0 < candidate ≤ link ≤ 1). */
export function resolveThresholds(t: Partial<MatchThresholds> | undefined): MatchThresholds {
  const out = { link: t?.link ?? DEFAULT_THRESHOLDS.link, candidate: t?.candidate ?? DEFAULT_THRESHOLDS.candidate };
  if (!(out.candidate > 0 && out.candidate <= out.link && out.link <= 1)) {
    throw new Error(`match thresholds must satisfy 0 < candidate (${out.candidate}) ≤ link (${out.link}) ≤ 1`);
  }
  return out;
}

/** The effective rules and thresholds in one line, for `config check` and the docs. */
export function describeMatching(rules: readonly MatchRule[], thresholds?: Partial<MatchThresholds>): string {
  const t = resolveThresholds(thresholds);
  const list = resolveRules(rules).map((r) => `${r.rule} ${r.weight}${r.certainty === 'sure' ? ' (sure)' : ''}`);
  return `${list.join(', ')}; link at score ≥ ${t.link}, merge candidate at score ≥ ${t.candidate}; score = 1 − Π(1 − weight) over the agreeing rules`;
}

/** Independent evidence combined: 1 − Π(1 − w), rounded to 6 places so equal evidence compares equal. */
export function combineWeights(weights: readonly number[]): number {
  let miss = 1;
  for (const w of weights) miss *= 1 - w;
  return Math.round((1 - miss) * 1e6) / 1e6;
}

function present(v: string | null | undefined): v is string {
  return v !== undefined && v !== null && v.trim() !== '';
}

function prepare(rec: MatchInput, used: ReadonlySet<MatchRuleName>): Entry {
  const e: Entry = { id: rec.id };
  if (used.has('creditCode') && present(rec.creditCode)) {
    const v = validateCreditCode(rec.creditCode);
    if (v.ok) e.code = v.code;
    else e.invalid = { id: rec.id, value: rec.creditCode, reason: v.reason };
  }
  if (used.has('name') && present(rec.name)) {
    const n = normalizeCompanyName(rec.name);
    // A one-character core ("无", "-", "a") identifies nothing.
    if (n.core.length >= 2) e.name = n;
  }
  if (used.has('phone') && present(rec.phone)) {
    const p = normalizePhone(rec.phone);
    if (p.length >= MIN_PHONE_DIGITS) e.phone = p;
  }
  if (used.has('email') && present(rec.email)) {
    const m = normalizeEmail(rec.email);
    if (EMAIL_RE.test(m)) e.email = m;
  }
  return e;
}

function blockKey(e: Entry, rule: MatchRuleName): string | undefined {
  switch (rule) {
    case 'creditCode':
      return e.code;
    case 'name':
      return e.name?.core;
    case 'phone':
      return e.phone;
    case 'email':
      return e.email;
  }
}

/** Compare two entries that share the block key of `rule`; undefined if they do not match. */
function evaluate(rule: ResolvedRule, q: Entry, c: Entry): Evidence | undefined {
  const base = { rule: rule.rule, weight: rule.weight };
  switch (rule.rule) {
    case 'creditCode':
      return { ...base, reason: `same unified social credit code ${q.code}` };
    case 'phone':
      return { ...base, reason: `same phone number ${q.phone}` };
    case 'email':
      return { ...base, reason: `same e-mail address ${q.email}` };
    case 'name': {
      const qn = q.name!;
      const cn = c.name!;
      // Same core in two different regions: two registered companies (北京华为 ≠ 上海华为).
      if (qn.region !== undefined && cn.region !== undefined && qn.region !== cn.region) {
        return undefined;
      }
      const exact = qn.region === cn.region;
      const region = qn.region ?? cn.region;
      const where =
        region === undefined ? '' : exact ? ` (${region})` : ` (${region} on one side, no region on the other)`;
      return {
        ...base,
        weight: rule.certainty === 'sure' && exact ? 1 : rule.weight,
        reason: `same company name after normalisation: ${qn.core}${where}`,
      };
    }
  }
}

/** The blocks and entries shared by MatchIndex and matchAll. */
class Blocks {
  readonly rules: ResolvedRule[];
  readonly used: ReadonlySet<MatchRuleName>;
  private readonly maxSharedContact: number;
  private readonly sharedContacts: Partial<Record<'phone' | 'email', ReadonlySet<string>>>;
  readonly thresholds: MatchThresholds;
  private readonly entries = new Map<string, Entry>();
  private readonly blocks = new Map<MatchRuleName, Map<string, Set<string>>>();

  constructor(rules: readonly MatchRule[], options: MatchIndexOptions) {
    this.rules = resolveRules(rules);
    this.used = new Set(this.rules.map((r) => r.rule));
    this.maxSharedContact = options.maxSharedContact ?? DEFAULT_MAX_SHARED_CONTACT;
    this.sharedContacts = options.sharedContacts ?? {};
    this.thresholds = resolveThresholds(options.thresholds);
    for (const r of this.rules) this.blocks.set(r.rule, new Map());
  }

  get size(): number {
    return this.entries.size;
  }

  insert(rec: MatchInput): InvalidCode | undefined {
    // Stryker disable next-line ConditionalExpression: equivalent: remove() of an id not indexed returns at once
    if (this.entries.has(rec.id)) this.remove(rec.id);
    const e = prepare(rec, this.used);
    this.entries.set(e.id, e);
    for (const r of this.rules) {
      const key = blockKey(e, r.rule);
      if (key === undefined) continue;
      const block = this.blocks.get(r.rule)!;
      const ids = block.get(key);
      if (ids) ids.add(e.id);
      else block.set(key, new Set([e.id]));
    }
    return e.invalid;
  }

  remove(id: string): void {
    const e = this.entries.get(id);
    if (!e) return;
    this.entries.delete(id);
    for (const r of this.rules) {
      const key = blockKey(e, r.rule);
      if (key === undefined) continue;
      const block = this.blocks.get(r.rule)!;
      const ids = block.get(key);
      ids?.delete(id);
      if (ids?.size === 0) block.delete(key);
    }
  }

  /**
   * At most one match per indexed record, with every rule that agrees on it as evidence; pairs
   * whose combined score is below the candidate threshold are left out.
   */
  matchEntry(q: Entry, skipId?: string): Match[] {
    const found = new Map<string, Evidence[]>();
    const vetoed = new Set<string>();
    // Two different valid credit codes are two legal entities, whatever their names or phones
    // say; this veto keeps a shared switchboard from linking sister companies as one.
    const veto = this.used.has('creditCode') ? q.code : undefined;
    for (const rule of this.rules) {
      const key = blockKey(q, rule.rule);
      if (key === undefined) continue;
      const ids = this.blocks.get(rule.rule)!.get(key);
      if (!ids) continue;
      if ((rule.rule === 'phone' || rule.rule === 'email') && (ids.size > this.maxSharedContact || this.sharedContacts[rule.rule]?.has(key))) continue;
      for (const id of ids) {
        if (id === skipId || vetoed.has(id)) continue;
        const c = this.entries.get(id)!;
        if (veto !== undefined && c.code !== undefined && c.code !== veto) {
          vetoed.add(id);
          continue;
        }
        const e = evaluate(rule, q, c);
        if (!e) continue;
        const list = found.get(id);
        if (list) list.push(e);
        else found.set(id, [e]);
      }
    }
    const out: Match[] = [];
    for (const [id, evidence] of found) {
      // Strongest first; equal weights keep the configured rule order (a stable sort).
      evidence.sort((x, y) => y.weight - x.weight);
      const score = combineWeights(evidence.map((e) => e.weight));
      if (score < this.thresholds.candidate) continue;
      out.push({
        a: q.id,
        b: id,
        certainty: score >= this.thresholds.link ? 'sure' : 'probable',
        score,
        rule: evidence.map((e) => e.rule).join('+'),
        reason: evidence.map((e) => e.reason).join('; '),
        evidence,
      });
    }
    return out;
  }
}

/** An incremental index: add and remove records, find the matches of a record against them. */
export class MatchIndex {
  readonly #blocks: Blocks;

  constructor(rules: readonly MatchRule[], options: MatchIndexOptions = {}) {
    this.#blocks = new Blocks(rules, options);
  }

  /** Number of indexed records. */
  get size(): number {
    return this.#blocks.size;
  }

  /** Index a record; adding an id again replaces the earlier version. */
  add(rec: MatchInput): void {
    this.#blocks.insert(rec);
  }

  remove(id: string): void {
    this.#blocks.remove(id);
  }

  /**
   * Matches of `rec` (as `a`) against the indexed records (as `b`). An indexed record with the
   * same id as `rec` is skipped, so a record can be looked up after it was added.
   */
  find(rec: MatchInput): { matches: Match[]; invalid?: InvalidCode } {
    const q = prepare(rec, this.#blocks.used);
    const matches = this.#blocks.matchEntry(q, rec.id);
    return q.invalid ? { matches, invalid: q.invalid } : { matches };
  }
}

/** The version of matchKeysOf's derivation: raise it when normalisation or prepare changes what a key is. */
export const MATCH_KEYS_VERSION = 1;

const ALL_RULES: ReadonlySet<MatchRuleName> = new Set(['creditCode', 'name', 'phone', 'email']);

/**
 * A record's blocking key per rule, as the hub stores them (hub/match-keys.ts): two records share a
 * block of a rule exactly when their keys of that rule are equal and not null.
 */
export function matchKeysOf(rec: MatchInput): MatchKeys {
  const e = prepare(rec, ALL_RULES);
  return { creditCode: e.code ?? null, name: e.name?.core ?? null, phone: e.phone ?? null, email: e.email ?? null };
}

/** The record's values the matcher reads, as strings. */
export function matchInputOf(id: string, values: Readonly<Record<string, unknown>>): MatchInput {
  const s = (v: unknown) => (typeof v === 'string' ? v : v === null || v === undefined ? null : String(v));
  return { id, name: s(values.name), creditCode: s(values.creditCode), phone: s(values.phone), email: s(values.email) };
}

/** Customers' match keys for the hub's writes (hub/store.ts matchKeyDeriver). */
export const CUSTOMER_MATCH_KEYS: MatchKeyDeriver = {
  version: MATCH_KEYS_VERSION,
  // Stryker disable next-line StringLiteral: equivalent: the keys do not depend on the record's id
  keys: (values) => matchKeysOf(matchInputOf('', values)),
};

/**
 * Match every left record against every right record through the blocks (ids are unique per
 * side; the same id on both sides is fine, e.g. C0001 in the ERP and in finance). Invalid credit
 * codes from both sides are reported, left first, and never used to match.
 */
export function matchAll(
  left: readonly MatchInput[],
  right: readonly MatchInput[],
  rules: readonly MatchRule[],
  options: MatchIndexOptions = {},
): { matches: Match[]; invalid: InvalidCode[] } {
  const index = new Blocks(rules, options);
  const rightInvalid: InvalidCode[] = [];
  for (const rec of right) {
    const inv = index.insert(rec);
    if (inv) rightInvalid.push(inv);
  }
  const invalid: InvalidCode[] = [];
  const matches: Match[] = [];
  for (const rec of left) {
    const q = prepare(rec, index.used);
    if (q.invalid) invalid.push(q.invalid);
    for (const m of index.matchEntry(q)) matches.push(m);
  }
  return { matches, invalid: invalid.concat(rightInvalid) };
}
