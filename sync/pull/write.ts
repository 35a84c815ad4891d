/**
 * Stage 6, write: the page's plan through the hub store, in the page's transaction — golden
 * records (versioned, with provenance and an audit entry for the page), cross-references,
 * conflicts, merge candidates, bases, parked entries that went through, and last the checkpoint,
 * so it never moves past data that is not committed with it.
 */
import type { Knex } from 'knex';
import { DatabaseError } from '../../core/errors.js';
import { StaleRecordError, type GoldenWrite } from '../../hub/golden.js';
import type { HubStore } from '../../hub/store.js';
import type { FaultPoint } from '../types.js';
import { pickFields } from '../../model/values.js';
import type { LinkedPage, PageContext, PageOutcome, PagePlan, WorkingRecord } from './types.js';

export interface WriteDeps {
  store: HubStore;
  /** Crash-test hook between the steps. */
  fault(point: FaultPoint): Promise<void>;
  /** Stored last; null leaves the checkpoint alone (retrying parked rows). */
  checkpoint: { write(trx: Knex.Transaction): Promise<void> } | null;
}

export async function writePage(plan: PagePlan, page: Pick<LinkedPage, 'open'>, ctx: PageContext, trx: Knex.Transaction, deps: WriteDeps): Promise<PageOutcome> {
  const { store } = deps;
  const outcome = outcomeOf(plan, ctx);
  const writes = plan.records.map((w) => goldenWrite(w, ctx));
  const { hubInserted: inserted, hubUpdated: updated, hubDeleted: deleted } = outcome.stats;
  try {
    await store.golden.write(trx, ctx.entity, writes, {
      actor: `sync:${ctx.job}`,
      action: 'sync',
      run: ctx.run ?? null,
      source: ctx.source,
      ...(writes.length > 0 ? { summary: { job: ctx.job, source: ctx.source, inserted, updated, deleted } } : {}),
    });
  } catch (err) {
    if (!(err instanceof StaleRecordError)) throw err;
    // Someone (GraphQL, a merge) changed a record between the page's read and its write.
    throw new DatabaseError('DB_TRANSIENT', `hub record ${String(err.context.key)} changed during the sync of ${ctx.source}; the page is applied again`, { entity: ctx.entity, source: ctx.source, key: err.context.key }, { cause: err });
  }
  await deps.fault('after-hub-write');
  await store.xref.link(trx, plan.links);
  await store.conflicts.save(trx, ctx.job, ctx.entity, plan.conflicts, page.open);
  await store.merges.propose(trx, ctx.entity, plan.candidates, ctx.now);
  await store.bases.save(trx, ctx.entity, ctx.source, plan.bases);
  await store.parked.unparkKeys(trx, ctx.job, ctx.source, 'pull', plan.done);
  await deps.fault('before-checkpoint');
  if (deps.checkpoint) await deps.checkpoint.write(trx);
  return outcome;
}

const fieldsOf = (w: WorkingRecord): string[] => [...w.changed].filter((f) => !f.startsWith('_'));

function goldenWrite(w: WorkingRecord, ctx: PageContext): GoldenWrite {
  const fields = w.current ? fieldsOf(w) : Object.keys(w.values);
  const provenance: Record<string, { source: string; changedAt: string }> = {};
  for (const f of fieldsOf(w)) provenance[f] = { source: ctx.source, changedAt: w.changedAt[f] ?? ctx.now };
  return { gid: w.gid, current: w.current, patch: pickFields(w.values, fields), deleted: w.deleted, provenance };
}

/** The page's statistics, dry-run plan entries and written records, from its plan. */
function outcomeOf(plan: PagePlan, ctx: PageContext): PageOutcome {
  const out: PageOutcome = { stats: { ...plan.stats }, writes: [], conflicts: plan.plannedConflicts, written: [] };
  for (const w of plan.records) {
    if (!w.current) {
      const values = pickFields(w.values, [...ctx.model.keys()]);
      out.stats.hubInserted++;
      out.writes.push({ op: 'insert', gid: w.gid, sourceKey: w.sourceKey, values });
      out.written.push({ gid: w.gid, values, deleted: false });
      continue;
    }
    if (w.deleted && !w.current.deleted) {
      out.stats.hubDeleted++;
      out.writes.push({ op: 'delete', gid: w.gid, sourceKey: w.sourceKey });
    } else {
      out.stats.hubUpdated++;
      out.writes.push({ op: 'update', gid: w.gid, sourceKey: w.sourceKey, values: pickFields(w.values, fieldsOf(w)) });
    }
    out.written.push({ gid: w.gid, values: w.values, deleted: w.deleted });
  }
  return out;
}
