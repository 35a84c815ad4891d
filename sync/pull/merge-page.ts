/**
 * Stage 5, three-way merge: every item against its base and its golden record (sync/three-way-
 * merge.ts), in the order the source gave them. Pure: it decides everything the page will write
 * (golden records, bases, links, conflicts, merge candidates) and writes nothing.
 */
import { pickFields, sameValue } from '../../model/values.js';
import type { CrmRecord, CrmValue } from '../../model/entities.js';
import type { LinkDecision } from '../identity.js';
import { mergeSource, policyFor, type FieldConflict, type HubSide, type SourceMergeResult } from '../three-way-merge.js';
import { emptyStats } from '../types.js';
import type { LinkedPage, PageContext, PageItem, PagePlan, UpsertItem, WorkingRecord } from './types.js';

/**
 * The open conflicts as this plan leaves them, by `gid|field`: the values they name once the
 * plan's writes so far are folded in (as the store will fold them), null once closed. Fields not
 * here are as the page read them.
 */
type OpenView = Map<string, Record<string, CrmValue> | null>;

export function mergePage(page: LinkedPage, ctx: PageContext): PagePlan {
  const plan: PagePlan = { records: [], bases: [], links: [], conflicts: [], candidates: [], done: [], stats: emptyStats(), plannedConflicts: [], warnings: [] };
  const view: OpenView = new Map();
  const working = new Map<string, WorkingRecord>();
  const work = (gid: string, sourceKey: string): WorkingRecord => {
    const rec = page.records.get(gid) ?? null;
    const id = rec?.id ?? gid;
    let w = working.get(id);
    if (!w) {
      const p = page.provenance.get(id);
      w = { gid: id, current: rec, deleted: rec?.deleted ?? false, values: { ...rec?.values }, changedAt: { ...p?.changedAt }, provenance: { ...p?.source }, changed: new Set(), sourceKey };
      working.set(id, w);
    }
    return w;
  };
  for (const item of page.items.values()) {
    const gid = page.xref.get(item.sourceKey)?.gid ?? page.decisions.get(item.sourceKey)?.gid ?? null;
    if (item.kind === 'delete') mergeDelete(item, gid, page, ctx, plan, work);
    else if (gid) mergeUpsert(item, () => work(gid, item.sourceKey), page, ctx, plan, view);
  }
  plan.records = [...working.values()].filter((w) => w.changed.size > 0);
  return plan;
}

function addConflict(plan: PagePlan, ctx: PageContext, w: WorkingRecord, sourceKey: string, c: FieldConflict): void {
  plan.conflicts.push({ gid: w.gid, conflict: c });
  if (c.status === 'open') plan.stats.conflicts++;
  else plan.stats.autoResolved++;
  plan.plannedConflicts.push({ gid: w.gid, sourceKey, field: c.field, values: c.values, rule: c.rule, winner: c.winner, reason: c.reason });
}

function mergeDelete(item: Extract<PageItem, { kind: 'delete' }>, gid: string | null, page: LinkedPage, ctx: PageContext, plan: PagePlan, work: (gid: string, key: string) => WorkingRecord): void {
  const base = page.bases.get(item.sourceKey);
  // Never synced, or already known to be gone: nothing to apply. A row parked earlier under this
  // key (say, a child whose customer was not there yet) is gone too: it leaves the parked list,
  // where no retry could ever clear it.
  if (!base || base.deleted) return void plan.done.push(item.sourceKey);
  plan.bases.push({ sourceKey: item.sourceKey, values: base.values, deleted: true, changedAt: item.changedAt ?? ctx.now });
  plan.done.push(item.sourceKey);
  if (!gid) return;
  const w = work(gid, item.sourceKey);
  if (!w.current || w.deleted) return;
  const moved = ctx.fields.filter((f) => Object.prototype.hasOwnProperty.call(base.values, f) && !sameValue(w.values[f], base.values[f]));
  if (moved.length > 0) {
    // A delete against edits the hub made since: the delete wins, the edits are named.
    addConflict(plan, ctx, w, item.sourceKey, {
      field: '_deleted',
      base: null,
      values: { hub: JSON.stringify(pickFields(w.values, moved)), [ctx.source]: null },
      rule: 'manual',
      winner: ctx.source,
      status: 'auto',
      source: ctx.source,
      reason: `deleted in ${ctx.source} while ${moved.join(', ')} changed in the hub since the last sync; the delete wins, the hub's values are kept here`,
    });
  }
  w.deleted = true;
  w.changed.add('_deleted');
}

function mergeUpsert(item: UpsertItem, record: () => WorkingRecord, page: LinkedPage, ctx: PageContext, plan: PagePlan, view: OpenView): void {
  const S = ctx.source;
  const base = page.bases.get(item.sourceKey);
  const sameAsBase = base !== undefined && !movedFromBase(item.record, base.values, ctx.fields);
  plan.done.push(item.sourceKey);
  if (sameAsBase && !base.deleted) {
    plan.stats.unchanged++;
    return;
  }
  const w = record();
  const decision = page.xref.has(item.sourceKey) ? undefined : page.decisions.get(item.sourceKey);
  if (decision) recordLink(item.sourceKey, w.gid, decision, ctx, plan);
  if (base?.deleted || (w.current && w.deleted)) {
    if (sameAsBase) {
      plan.stats.unchanged++;
      return;
    }
    // Edited (or re-created) in the source after the record was deleted: it stays deleted, and
    // the edit is named so nothing is lost silently.
    addConflict(plan, ctx, w, item.sourceKey, {
      field: '_deleted',
      base: null,
      values: { hub: null, [S]: JSON.stringify(item.record) },
      rule: 'manual',
      winner: 'hub',
      status: 'auto',
      source: S,
      reason: `${S} row ${item.sourceKey} changed after the record was deleted; it stays deleted (its values are kept here)`,
    });
    plan.bases.push({ sourceKey: item.sourceKey, values: item.record, deleted: base?.deleted ?? false, changedAt: item.changedAt });
    return;
  }
  mergeFields(item, w, base?.values ?? null, page, ctx, plan, view);
}

/** A new source key's link, counted, with its merge candidate. */
function recordLink(sourceKey: string, gid: string, decision: LinkDecision, ctx: PageContext, plan: PagePlan): void {
  plan.links.push({ entity: ctx.entity, source: ctx.source, sourceKey, gid, rule: decision.rule });
  if (decision.isNew) plan.stats.created++;
  else plan.stats.linked++;
  if (decision.candidate) {
    const { gid: other, score, rule, reason } = decision.candidate;
    plan.candidates.push({ gidA: gid, gidB: other, score, rule, reason });
    plan.stats.mergeCandidates++;
  }
  if (decision.invalidCode) plan.warnings.push({ sourceKey, message: `invalid credit code ${decision.invalidCode}` });
}

function mergeFields(item: UpsertItem, w: WorkingRecord, base: CrmRecord | null, page: LinkedPage, ctx: PageContext, plan: PagePlan, view: OpenView): void {
  const S = ctx.source;
  const at = item.changedAt;
  const hubSide: HubSide = { exists: w.current !== null || w.changed.size > 0, values: w.values, changedAt: w.changedAt, provenance: w.provenance, updatedAt: w.current?.updatedAt ?? null };
  const r = mergeSource(hubSide, { source: S, base, values: item.record, fields: ctx.fields, changedAt: at }, ctx.policies);
  for (const ch of r.changes) {
    w.values[ch.field] = ch.to;
    w.changedAt[ch.field] = at ?? ctx.now;
    w.provenance[ch.field] = S;
    w.changed.add(ch.field);
  }
  for (const c of r.conflicts) {
    addConflict(plan, ctx, w, item.sourceKey, c);
    if (c.status === 'open') view.set(`${w.gid}|${c.field}`, { ...openValues(page, view, w.gid, c.field), ...c.values });
  }
  foldIntoOpenConflicts(item, w, base, r, page, ctx, plan, view);
  // A brand-new record whose mapped fields are all null still has to exist.
  if (!w.current && w.changed.size === 0) w.changed.add('_created');
  if (r.changes.length === 0 && r.conflicts.length === 0) plan.stats.unchanged++;
  plan.bases.push({ sourceKey: item.sourceKey, values: r.base, deleted: false, changedAt: at });
}

function openValues(page: LinkedPage, view: OpenView, gid: string, field: string): Record<string, CrmValue> | null {
  const k = `${gid}|${field}`;
  return view.has(k) ? view.get(k)! : (page.open.get(gid)?.get(field)?.values ?? null);
}

/**
 * A field with an open conflict still takes one-sided changes, and a side may come round to the
 * hub's value: the conflict must show what each side now holds, or whoever resolves it could
 * overwrite a value they were never shown (or bring back one its own side gave up). Once every
 * side it names holds one value, nothing is left to choose: it is closed as agreed, its values
 * kept as they competed.
 */
function foldIntoOpenConflicts(item: UpsertItem, w: WorkingRecord, base: CrmRecord | null, r: SourceMergeResult, page: LinkedPage, ctx: PageContext, plan: PagePlan, view: OpenView): void {
  const S = ctx.source;
  for (const field of [...new Set(ctx.fields)].sort()) {
    const before = openValues(page, view, w.gid, field);
    if (!before || r.conflicts.some((c) => c.field === field)) continue;
    const s = item.record[field] ?? null;
    const took = r.changes.some((ch) => ch.field === field);
    // Came round: the source named in the conflict moved from its base to the hub's value.
    const cameRound = !took && base !== null && Object.prototype.hasOwnProperty.call(before, S) && !sameValue(before[S], s) && !sameValue(base[field] ?? null, s) && sameValue(w.values[field] ?? null, s);
    if (!took && !cameRound) continue;
    const after: Record<string, CrmValue> = took ? { ...before, hub: s, [S]: s } : { ...before, [S]: s };
    const rule = policyFor(ctx.policies, field);
    const what = took
      ? `${field} changed in ${S} to ${JSON.stringify(s)} while this conflict was open; the hub took it (it had not changed since ${S} last synced)`
      : `${field} changed in ${S} to ${JSON.stringify(s)}, the hub's value, while this conflict was open`;
    if (Object.values(after).every((v) => sameValue(v, s))) {
      view.set(`${w.gid}|${field}`, null);
      const reason = `${what}; every side now holds ${JSON.stringify(s)}, so nothing is left to choose: closed as agreed`;
      plan.conflicts.push({ gid: w.gid, conflict: { field, base: undefined, values: { [S]: s, ...before }, rule, winner: S, status: 'agreed', value: s, reason } });
      continue;
    }
    view.set(`${w.gid}|${field}`, after);
    const reason = took ? `${what}, so it is one of the values to choose from` : `${what}; the value ${S} held before is no longer one to choose from`;
    plan.conflicts.push({ gid: w.gid, conflict: { field, base: undefined, values: took ? { hub: s, [S]: s } : { [S]: s }, rule, winner: null, status: 'open', reason } });
  }
}

/**
 * Whether the source's values differ from its base. A field the base does not hold (never written
 * to or read from this source, e.g. a NULL left out of an insert) counts only when it has a value.
 */
export function movedFromBase(record: CrmRecord, base: CrmRecord, fields: readonly string[]): boolean {
  for (const f of fields) {
    const v = record[f] ?? null;
    if (Object.prototype.hasOwnProperty.call(base, f) ? !sameValue(v, base[f]) : v !== null) return true;
  }
  return false;
}

