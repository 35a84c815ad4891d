/**
 * Field-level three-way merge: pure, deterministic, no I/O.
 *
 * For one record, each source is compared with its **base** (the values last synced between that
 * source and the hub) and the hub's current values:
 *
 * - a field changed on one side only is taken from that side;
 * - a field changed on both sides to the same value is simply agreed on;
 * - a field changed on both sides to different values is a conflict, decided by the policy for
 *   that field (`source:<name>`, `newest`, `hub`, `manual`). An undecided conflict keeps the hub's
 *   value and is reported as open; nothing is dropped without a record of it.
 *
 * Several sources are folded into the hub one after the other **sorted by name**, so the outcome
 * does not depend on the order the engine happened to read them in.
 *
 * Without a base (the record has never been synced with this source, e.g. a finance row linked to
 * an existing customer) the merge is two-way: a value present on one side only fills the other,
 * differing values are a conflict.
 *
 * @example
 * const r = mergeSource(
 *   { exists: true, values: { phone: '1', city: 'A' }, changedAt: {}, provenance: {} },
 *   { source: 'erp', base: { phone: '1', city: 'A' }, values: { phone: '2', city: 'A' }, fields: ['phone', 'city'] },
 *   { default: 'manual', fields: {}, clockSkewSeconds: 5 },
 * );
 * // r.values.phone === '2', r.conflicts.length === 0
 */
import type { ConflictPolicy } from '../config/schema.js';
import { sameValue } from '../model/values.js';
import type { CrmRecord, CrmValue } from '../model/entities.js';

/** A time as a Date or an ISO-8601 string; null when the side does not know. */
export type ChangeTime = Date | string | null;

export interface MergePolicies {
  /** Policy of fields without their own entry. */
  default: ConflictPolicy;
  fields: Readonly<Record<string, ConflictPolicy>>;
  /** `newest` refuses to pick a winner when the two change times are closer than this. */
  clockSkewSeconds: number;
}

/** The hub's side of a record. */
export interface HubSide {
  /** False when the record does not exist in the hub yet: the source's values are simply taken. */
  exists: boolean;
  values: Readonly<CrmRecord>;
  /** When each field last changed in the hub (crm_provenance.changed_at), if known. */
  changedAt: Readonly<Record<string, ChangeTime | undefined>>;
  /** Which source last set each field (crm_provenance.source), if known. */
  provenance: Readonly<Record<string, string | undefined>>;
  /** Fallback change time for fields without provenance (the record's _updated_at). */
  updatedAt?: ChangeTime;
}

/** One source's side of a record. */
export interface SourceSide {
  source: string;
  /** Values last synced with this source, or null when never synced. */
  base: Readonly<CrmRecord> | null;
  /** The source's current values. */
  values: Readonly<CrmRecord>;
  /** Fields the source maps; only these take part in its merge. */
  fields: readonly string[];
  /** When the source changed the record: one time for every field, or per field. */
  changedAt?: ChangeTime | Readonly<Record<string, ChangeTime | undefined>>;
}

export type ConflictRuleName = 'manual' | 'hub' | 'newest' | `source:${string}`;

export interface FieldConflict {
  field: string;
  /** The base value for the source; undefined when there was no base. */
  base: CrmValue | undefined;
  /** The competing values, by side: "hub" and the source's name. */
  values: Record<string, CrmValue>;
  /** The policy that was applied. */
  rule: ConflictRuleName;
  /** 'hub', the source's name, or null when no winner could be chosen (the conflict stays open). */
  winner: string | null;
  reason: string;
  /** open: needs a person (the hub value is kept meanwhile); auto: the policy decided. */
  status: 'open' | 'auto';
  /** The source this conflict came from. */
  source: string;
  /** Which source the hub's competing value came from, when known. */
  hubSource?: string;
}

export interface FieldChange {
  field: string;
  from: CrmValue;
  to: CrmValue;
  source: string;
  changedAt: ChangeTime;
}

export interface SourceMergeResult {
  /** The hub's values after taking this source in (all fields of the hub record plus the source's). */
  values: CrmRecord;
  /** Fields the hub takes from the source. */
  changes: FieldChange[];
  conflicts: FieldConflict[];
  /** What becomes the source's base: its current values, since after this run the hub has seen them. */
  base: CrmRecord;
  /** The source's values differ from its base somewhere (false: nothing to do for this source). */
  sourceChanged: boolean;
  /** Change times and provenance after the merge, for folding in the next source. */
  hub: HubSide;
}

/** Merge one source's values into the hub's. */
export function mergeSource(hub: HubSide, side: SourceSide, policies: MergePolicies): SourceMergeResult {
  const values: CrmRecord = { ...hub.values };
  const changedAt: Record<string, ChangeTime | undefined> = { ...hub.changedAt };
  const provenance: Record<string, string | undefined> = { ...hub.provenance };
  const changes: FieldChange[] = [];
  const conflicts: FieldConflict[] = [];
  const base: CrmRecord = {};
  let sourceChanged = side.base === null;

  const take = (field: string, to: CrmValue, at: ChangeTime) => {
    changes.push({ field, from: values[field] ?? null, to, source: side.source, changedAt: at });
    values[field] = to;
    changedAt[field] = at;
    provenance[field] = side.source;
  };

  // Sorted so the order of `changes` and `conflicts` is stable too.
  for (const field of [...new Set(side.fields)].sort()) {
    const s = side.values[field] ?? null;
    base[field] = s;
    const sAt = sourceTime(side, field);
    if (!hub.exists) {
      take(field, s, sAt);
      continue;
    }
    const h = hub.values[field] ?? null;
    const hasBase = side.base !== null && Object.prototype.hasOwnProperty.call(side.base, field);
    const b = hasBase ? (side.base![field] ?? null) : undefined;

    if (hasBase) {
      const sourceMoved = !sameValue(s, b);
      if (sourceMoved) sourceChanged = true;
      if (!sourceMoved) continue; // only the hub moved (or nothing): the push takes it out
      if (sameValue(h, b)) {
        take(field, s, sAt);
        continue;
      }
      if (sameValue(h, s)) continue; // both moved to the same value: agreed
    } else {
      // Two-way: the field was never synced with this source.
      if (sameValue(h, s)) continue;
      sourceChanged = true;
      if (h === null) {
        take(field, s, sAt);
        continue;
      }
      if (s === null) continue; // the source has nothing: keep the hub's, the push fills the source
    }

    const hAt = hub.changedAt[field] ?? hub.updatedAt ?? null;
    const conflict = decide(field, policies, {
      source: side.source,
      sourceValue: s,
      hubValue: h,
      base: b,
      sourceAt: sAt,
      hubAt: hAt,
      hubSource: hub.provenance[field],
    });
    conflicts.push(conflict);
    if (conflict.winner === side.source) take(field, s, sAt);
  }

  return {
    values,
    changes,
    conflicts,
    base,
    sourceChanged,
    hub: { exists: true, values, changedAt, provenance, updatedAt: hub.updatedAt },
  };
}

export interface RecordMergeResult {
  values: CrmRecord;
  changes: FieldChange[];
  conflicts: FieldConflict[];
  /** New base per source. */
  bases: Record<string, CrmRecord>;
  hub: HubSide;
}

/** Fold several sources into the hub, in order of source name whatever order they are given in. */
export function mergeRecord(hub: HubSide, sides: readonly SourceSide[], policies: MergePolicies): RecordMergeResult {
  const sorted = [...sides].sort((a, b) =>
    a.source < b.source
      ? -1
      : // Stryker disable next-line EqualityOperator,ConditionalExpression: equivalent: names are unique, and sort only tells a negative result from the rest (1 and 0 alike)
        a.source > b.source
        ? 1
        : 0,
  );
  let current = hub;
  const changes: FieldChange[] = [];
  const conflicts: FieldConflict[] = [];
  const bases: Record<string, CrmRecord> = {};
  for (const side of sorted) {
    const r = mergeSource(current, side, policies);
    changes.push(...r.changes);
    conflicts.push(...r.conflicts);
    bases[side.source] = r.base;
    current = r.hub;
  }
  return { values: { ...current.values }, changes, conflicts, bases, hub: current };
}

export function policyFor(policies: MergePolicies, field: string): ConflictPolicy {
  return policies.fields[field] ?? policies.default;
}

interface ConflictInput {
  source: string;
  sourceValue: CrmValue;
  hubValue: CrmValue;
  base: CrmValue | undefined;
  sourceAt: ChangeTime;
  hubAt: ChangeTime;
  hubSource: string | undefined;
}

/** Apply the field's policy to a two-sided change. */
export function decide(field: string, policies: MergePolicies, c: ConflictInput): FieldConflict {
  const rule = policyFor(policies, field) as ConflictRuleName;
  const hubLabel = c.hubSource ? `the hub (value from ${c.hubSource})` : 'the hub';
  const what = `${field} changed in ${c.source} to ${show(c.sourceValue)} and in ${hubLabel} to ${show(c.hubValue)}${
    c.base === undefined ? ' (never synced before: no base)' : ` since the last sync (base ${show(c.base)})`
  }`;
  const out = (winner: string | null, why: string): FieldConflict => ({
    field,
    base: c.base,
    values: { hub: c.hubValue, [c.source]: c.sourceValue },
    rule,
    winner,
    reason: `${what}; ${why}`,
    status: winner === null ? 'open' : 'auto',
    source: c.source,
    ...(c.hubSource ? { hubSource: c.hubSource } : {}),
  });

  if (rule === 'manual') return out(null, 'policy manual: the hub value is kept until someone resolves it');
  if (rule === 'hub') return out('hub', 'policy hub: the hub value wins');
  if (rule.startsWith('source:')) {
    const authority = rule.slice('source:'.length);
    if (authority === c.source) return out(c.source, `${authority} is the authority for ${field}`);
    if (authority === c.hubSource) return out('hub', `${authority} is the authority for ${field} and the hub value came from it`);
    // Neither value comes from the authority: choosing either would be a guess.
    return out(null, `${authority} is the authority for ${field} but neither value came from it; kept the hub value, needs a person`);
  }
  // newest
  const s = toMillis(c.sourceAt);
  const h = toMillis(c.hubAt);
  if (s === null || h === null) {
    const unknown = s === null ? c.source : 'the hub';
    return out(null, `policy newest: ${unknown} does not say when it changed; kept the hub value, needs a person`);
  }
  const skewMs = policies.clockSkewSeconds * 1000;
  if (Math.abs(s - h) <= skewMs) {
    return out(
      null,
      `policy newest: the two changes are ${Math.abs(s - h) / 1000}s apart, within the ${policies.clockSkewSeconds}s clock-skew tolerance; kept the hub value, needs a person`,
    );
  }
  // s === h never gets here (a zero difference is within any tolerance; clockSkewSeconds >= 0 by config).
  return s > h
    ? out(c.source, `policy newest: ${c.source} changed it later (${iso(s)} > ${iso(h)})`)
    : out('hub', `policy newest: the hub changed it later (${iso(h)} > ${iso(s)})`);
}

function sourceTime(side: SourceSide, field: string): ChangeTime {
  const at = side.changedAt;
  if (at === undefined || at === null) return null;
  if (typeof at === 'string' || at instanceof Date) return at;
  return at[field] ?? null;
}

function toMillis(t: ChangeTime | undefined): number | null {
  if (t === null || t === undefined) return null;
  const ms = t instanceof Date ? t.getTime() : Date.parse(t);
  return Number.isNaN(ms) ? null : ms;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function show(v: CrmValue): string {
  return JSON.stringify(v);
}
