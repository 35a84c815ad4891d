/**
 * The golden record: which source wins each field of a record known to several systems
 * (survivorship), and where every field came from (provenance).
 *
 * A survivorship rule is one of:
 * - a source order, e.g. `"erp,finance"`: the first listed source with a value wins; sources not
 *   listed come after, by `newest`. `hub` may be listed like a source (the hub's own value);
 * - `newest`: the value changed most recently wins; equal times are broken by source name, then
 *   source key, so the outcome never depends on read order;
 * - `complete`: the longest text wins (for non-text fields: any value); ties as `newest`;
 * - `hub`: the hub's current value is kept when it has one; otherwise as `newest`.
 *
 * "A value" means non-null and, for strings, not blank: an empty name in the ERP never beats a
 * real one in finance. A field no source has a value for keeps the hub's value (fields edited only
 * through GraphQL, or filled from a merged record) with the provenance it had.
 *
 * A hub value whose provenance is `hub` (edited in crmlink itself) competes like a source named
 * `hub`, with its provenance time, so a recompute does not silently revert a user's edit.
 *
 * Ref fields (customerId, ...) hold hub global ids that sync and merge maintain; survivorship
 * never touches them.
 */
import type { Knex } from 'knex';
import type { CrmlinkConfig } from '../config/schema.js';
import { CrmlinkError } from '../core/errors.js';
import { sameValue } from '../model/values.js';
import { nowIso, type Hub, type HubRecord } from '../hub/hub.js';
import type { FieldProvenance } from '../hub/provenance.js';
import { fieldsOf, type CrmRecord, type CrmValue, type EntityName, type FieldType } from '../model/entities.js';
import { DEFAULT_RULES, resolveThresholds, type MatchRule, type MatchThresholds } from './matcher.js';

/** Survivorship of one entity: a default rule and per-field overrides (see the module comment). */
export interface SurvivorshipRules {
  default: string;
  fields: Readonly<Record<string, string>>;
}

export const DEFAULT_SURVIVORSHIP: SurvivorshipRules = { default: 'newest', fields: {} };

/** One source's version of the record. */
export interface SurvivorCandidate {
  source: string;
  values: CrmRecord;
  /** When the source last changed the record (ISO-8601); null when unknown. */
  changedAt: string | null;
  /** Source key: breaks ties between two records of the same source (after a merge). */
  key?: string;
}

export type { FieldProvenance } from '../hub/provenance.js';

export interface Survived {
  values: CrmRecord;
  /** Fields that have a value, with the source it came from. */
  provenance: Record<string, FieldProvenance>;
}

/** A hub record's values used when no source has a value for a field, with their provenance. */
export interface HubFallback {
  values: CrmRecord;
  provenance?: Readonly<Record<string, FieldProvenance>>;
}

export interface SurviveOptions {
  /** Fields to decide; default: the model's non-ref fields plus any field a candidate carries. */
  fields?: readonly string[];
  /** Provenance of `hubValues` (from crm_provenance): a `hub` entry makes the value compete. */
  hubProvenance?: Readonly<Record<string, FieldProvenance>>;
  /** Further hub records, in order, used for fields neither the sources nor `hubValues` have. */
  fallbacks?: readonly HubFallback[];
}

export type ParsedRule =
  | { kind: 'newest' }
  | { kind: 'complete' }
  | { kind: 'hub' }
  | { kind: 'order'; sources: string[] };

const HUB = 'hub';

/** Parse a survivorship rule; throws VALIDATION_FAILED for an empty one. */
export function parseRule(rule: string, field?: string): ParsedRule {
  const r = rule.trim();
  if (r === 'newest' || r === 'complete' || r === 'hub') return { kind: r };
  const sources = r.split(',').map((s) => s.trim());
  if (r === '' || sources.some((s) => s === '')) {
    throw new CrmlinkError('VALIDATION_FAILED', `invalid survivorship rule "${rule}": expected newest, complete, hub or a source order such as "erp,finance"`, {
      field,
      setting: field ? `survivorship.fields.${field}` : 'survivorship.default',
    });
  }
  return { kind: 'order', sources };
}

function hasValue(v: CrmValue | undefined): v is string | number | boolean {
  return v !== null && v !== undefined && !(typeof v === 'string' && v.trim() === '');
}

function timeOf(t: string | null): number {
  if (t === null) return Number.NEGATIVE_INFINITY;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? Number.NEGATIVE_INFINITY : ms;
}

interface Offer {
  source: string;
  key: string;
  value: string | number | boolean;
  changedAt: string | null;
  /** Provenance to record when this offer wins (a hub value keeps the provenance it had). */
  provenance: FieldProvenance;
}

/** Newest first; equal (or unknown) times by source name, then key. */
function byNewest(a: Offer, b: Offer): number {
  const ta = timeOf(a.changedAt);
  const tb = timeOf(b.changedAt);
  if (ta !== tb) return tb > ta ? 1 : -1;
  if (a.source !== b.source) return a.source < b.source ? -1 : 1;
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

function length(v: string | number | boolean): number {
  return typeof v === 'string' ? [...v.trim()].length : 1;
}

/**
 * Decide every field of a golden record from the sources' versions of it.
 *
 * @example
 * surviveFields('Customer', [
 *   { source: 'erp', values: { name: '北京华为技术有限公司', phone: null }, changedAt: '2024-01-01T00:00:00Z' },
 *   { source: 'finance', values: { name: '华为技术（北京）有限公司', phone: '010-8288 0000' }, changedAt: '2024-03-01T00:00:00Z' },
 * ], { default: 'erp,finance', fields: {} });
 * // values.name from erp, values.phone from finance (erp has none)
 */
export function surviveFields(
  entity: EntityName,
  candidates: readonly SurvivorCandidate[],
  rules: SurvivorshipRules,
  hubValues?: CrmRecord,
  options: SurviveOptions = {},
): Survived {
  const model = fieldsOf(entity);
  const types = new Map<string, FieldType>(model.map((f) => [f.name, f.type]));
  let fields: readonly string[];
  if (options.fields) fields = options.fields;
  else {
    const names = new Set(model.filter((f) => f.type !== 'ref').map((f) => f.name));
    for (const c of candidates) for (const k of Object.keys(c.values)) if (types.get(k) !== 'ref') names.add(k);
    fields = [...names];
  }
  const defaultRule = parseRule(rules.default);
  const hubProv = options.hubProvenance ?? {};
  const fallbacks: HubFallback[] = [...(hubValues ? [{ values: hubValues, provenance: hubProv }] : []), ...(options.fallbacks ?? [])];
  const values: CrmRecord = {};
  const provenance: Record<string, FieldProvenance> = {};
  for (const field of fields) {
    const fieldRule = rules.fields[field];
    const rule = fieldRule === undefined ? defaultRule : parseRule(fieldRule, field);
    const textual = types.has(field) ? types.get(field) === 'string' || types.get(field) === 'text' : undefined;
    const { offers, hubOffer } = offersFor(field, candidates, hubValues, hubProv);
    // No source knows the field: keep what the hub has (the survivor's, then the merged's).
    const winner = pickWinner(rule, offers, hubOffer, textual) ?? fallbackOffer(field, fallbacks);
    if (winner) {
      values[field] = winner.value;
      provenance[field] = { ...winner.provenance };
    } else {
      values[field] = hubValues && field in hubValues ? (hubValues[field] ?? null) : null;
    }
  }
  return { values, provenance };
}

/** Every source's value of a field as an offer; the hub's own value competes when it was edited in the hub. */
function offersFor(field: string, candidates: readonly SurvivorCandidate[], hubValues: CrmRecord | undefined, hubProv: Readonly<Record<string, FieldProvenance>>): { offers: Offer[]; hubOffer?: Offer } {
  const offers: Offer[] = [];
  for (const c of candidates) {
    const v = c.values[field];
    if (hasValue(v)) offers.push({ source: c.source, key: c.key ?? '', value: v, changedAt: c.changedAt, provenance: { source: c.source, changedAt: c.changedAt } });
  }
  const hubValue = hubValues?.[field];
  if (!hasValue(hubValue)) return { offers };
  const hubOffer: Offer = { source: HUB, key: '', value: hubValue, changedAt: hubProv[field]?.changedAt ?? null, provenance: hubProv[field] ?? { source: HUB, changedAt: null } };
  if (hubProv[field]?.source === HUB) offers.push(hubOffer);
  return { offers, hubOffer };
}

function pickWinner(rule: ParsedRule, offers: readonly Offer[], hubOffer: Offer | undefined, textual: boolean | undefined): Offer | undefined {
  switch (rule.kind) {
    case 'hub':
      return hubOffer ?? [...offers].sort(byNewest)[0];
    case 'newest':
      return [...offers].sort(byNewest)[0];
    case 'complete':
      return [...offers].sort((a, b) => {
        const la = textual === false ? 1 : length(a.value);
        const lb = textual === false ? 1 : length(b.value);
        return la !== lb ? lb - la : byNewest(a, b);
      })[0];
    case 'order': {
      for (const s of rule.sources) {
        const pool = s === HUB ? (hubOffer ? [hubOffer] : []) : offers.filter((o) => o.source === s);
        const winner = pool.sort(byNewest)[0];
        if (winner) return winner;
      }
      return offers.filter((o) => !rule.sources.includes(o.source)).sort(byNewest)[0];
    }
  }
}

function fallbackOffer(field: string, fallbacks: readonly HubFallback[]): Offer | undefined {
  for (const fb of fallbacks) {
    const v = fb.values[field];
    if (hasValue(v)) return { source: HUB, key: '', value: v, changedAt: null, provenance: fb.provenance?.[field] ?? { source: HUB, changedAt: null } };
  }
  return undefined;
}

/** How an entity's records are matched and merged, from the config with the defaults filled in. */
export interface IdentityConfig {
  match: MatchRule[];
  thresholds: MatchThresholds;
  survivorship: SurvivorshipRules;
  /**
   * The conflict policies a merge applies to fields the two records disagree on: those of the
   * first sync job of the entity (`sync.jobs.<job>.conflicts`), `manual` when there is none.
   */
  conflicts: MergePolicies;
  /** That job's name (merge conflicts are filed under it), or null. */
  job: string | null;
}

/** Conflict policies for a merge: manual | hub | newest | source:<name>, per field. */
export interface MergePolicies {
  default: string;
  fields: Readonly<Record<string, string>>;
  /** `newest` decides only when the two source change times are further apart than this. */
  clockSkewSeconds: number;
}

export const MANUAL_POLICIES: MergePolicies = { default: 'manual', fields: {}, clockSkewSeconds: 5 };

/** Match rules and survivorship of an entity from the config, with the defaults filled in. */
export function identityConfig(
  config: CrmlinkConfig,
  entity: EntityName = 'Customer',
): IdentityConfig {
  const ec = config.entities[entity];
  const survivorship: SurvivorshipRules = ec?.survivorship
    ? { default: ec.survivorship.default, fields: { ...ec.survivorship.fields } }
    : DEFAULT_SURVIVORSHIP;
  const known = new Set([...Object.keys(config.sources), HUB]);
  const check = (rule: string, path: string) => {
    const parsed = parseRule(rule);
    if (parsed.kind !== 'order') return;
    for (const s of parsed.sources) {
      if (!known.has(s)) {
        throw new CrmlinkError('CONFIG_INVALID', `survivorship rule "${rule}" names unknown source "${s}" (declared: ${[...known].join(', ')})`, {
          entity,
          path,
        });
      }
    }
  };
  check(survivorship.default, `entities.${entity}.survivorship.default`);
  for (const [f, r] of Object.entries(survivorship.fields)) check(r, `entities.${entity}.survivorship.fields.${f}`);
  const jobEntry = Object.entries(config.sync.jobs).find(([, j]) => j.entity === entity);
  const conflicts: MergePolicies = jobEntry
    ? { default: jobEntry[1].conflicts.default, fields: { ...jobEntry[1].conflicts.fields }, clockSkewSeconds: jobEntry[1].clockSkewSeconds }
    : MANUAL_POLICIES;
  return {
    match: ec?.match && ec.match.length > 0 ? ec.match.map((r) => ({ ...r })) : [...DEFAULT_RULES],
    thresholds: resolveThresholds(ec?.matchThresholds),
    survivorship,
    conflicts,
    job: jobEntry ? jobEntry[0] : null,
  };
}

// ---------------------------------------------------------------------------------------------
// Recompute in the hub
// ---------------------------------------------------------------------------------------------

export interface RecomputeOptions {
  /** Hub records whose values fill fields no source has (e.g. the merged record in a merge). */
  fallbacks?: readonly HubFallback[];
  /** Bump _version/_seq even when no value changed (a merge changed the record's identity). */
  touch?: boolean;
  /** Who asked (recorded with the write). */
  actor?: string;
}

export interface RecomputeResult {
  before: HubRecord;
  after: HubRecord;
  /** Fields whose value changed. */
  changed: string[];
  provenance: Record<string, FieldProvenance>;
}

/**
 * Recompute the golden record `gid` from the crm_base rows of every source record linked to it,
 * and write the changed fields (new _version, _seq, _updated_at) and its provenance through the
 * hub store. Run inside the caller's transaction.
 */
export async function recomputeGolden(
  hub: Hub,
  trx: Knex.Transaction,
  entity: EntityName,
  gid: string,
  rules: SurvivorshipRules,
  options: RecomputeOptions = {},
): Promise<RecomputeResult> {
  const { store } = hub;
  const before = await hub.get(entity, gid, trx);
  if (!before) throw new CrmlinkError('NOT_FOUND', `${entity} ${gid} does not exist`, { entity, key: gid, table: hub.table(entity) });
  const fields = hub.fields(entity).filter((f) => f.type !== 'ref').map((f) => f.name);
  const candidates = await store.bases.versionsOf(trx, entity, gid);
  const hubProvenance = await store.provenance.ofRecord(trx, entity, gid);
  const survived = surviveFields(entity, candidates, rules, before.values, { fields, hubProvenance, fallbacks: options.fallbacks });
  const changed = fields.filter((f) => !sameValue(before.values[f], survived.values[f]));
  const provenance = provenanceChanges(fields, survived.provenance, hubProvenance);
  let after = before;
  if (changed.length > 0 || options.touch) {
    const patch: CrmRecord = {};
    for (const f of changed) patch[f] = survived.values[f];
    const meta = { actor: options.actor ?? 'survivorship', action: 'recompute' };
    [after] = await store.golden.write(trx, entity, [{ gid, current: before, patch, provenance }], meta);
  } else {
    await store.provenance.apply(trx, entity, [{ gid, fields: provenance }]);
  }
  return { before, after, changed, provenance: survived.provenance };
}

/** One provenance entry per field that has a value; entries that did not change are left out. */
function provenanceChanges(
  fields: readonly string[],
  want: Readonly<Record<string, FieldProvenance>>,
  have: Readonly<Record<string, FieldProvenance>>,
): Record<string, FieldProvenance | null> {
  const now = nowIso();
  const out: Record<string, FieldProvenance | null> = {};
  for (const f of fields) {
    const w = want[f];
    const h = have[f];
    if (!w) {
      if (h) out[f] = null;
      continue;
    }
    const changedAt = w.changedAt ?? h?.changedAt ?? now;
    if (!h || h.source !== w.source || h.changedAt !== changedAt) out[f] = { source: w.source, changedAt };
  }
  return out;
}
