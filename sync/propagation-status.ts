/**
 * Where a golden record stands in each system its jobs push to (各系统同步状态): the key it has
 * there, or why it is not there yet. Computed the way the push itself decides (pushState →
 * planPush), so "SYNCED" means a push now would write nothing:
 *
 * - SYNCED: linked, and nothing left to write;
 * - PENDING: a push would write it (queued, waiting for a retry, or for the next scheduled run);
 * - PARKED: a push failed for this record and source and parked it (the reason is the error);
 * - CONFLICT: an open conflict holds a field back until a person decides;
 * - NOT_WRITTEN: not in the source and the source takes no inserts.
 */
import { readParked } from '../hub/parked.js';
import type { EntityName } from '../model/entities.js';
import { RunContext, type HubAccess, type SyncApp } from './context.js';
import { propagates, type Propagator } from './propagation.js';
import { pushState } from './push.js';
import { planPush } from './push/plan.js';

export type TargetState = 'SYNCED' | 'PENDING' | 'PARKED' | 'CONFLICT' | 'NOT_WRITTEN';

export interface TargetStatus {
  job: string;
  source: string;
  /** The record's key in the source, when it has one. */
  key: string | null;
  status: TargetState;
  /** Why it is not SYNCED (null when it is). */
  reason: string | null;
}

/** Per global id, one entry per (job, target source); ids not in the hub get an empty list. */
export async function propagationStatus(app: SyncApp, entity: EntityName, gids: readonly string[], propagator?: Propagator | null): Promise<Map<string, TargetStatus[]>> {
  const out = new Map<string, TargetStatus[]>(gids.map((g) => [g, []]));
  const found = await app.hub.getMany(entity, gids);
  const records = [...found.values()];
  if (records.length === 0) return out;
  const access: HubAccess = { q: app.hub.knex, tx: (fn) => app.hub.knex.transaction(fn) };
  for (const [job, cfg] of Object.entries(app.config.sync.jobs)) {
    if (cfg.entity !== entity || cfg.direction === 'pull') continue;
    const ctx = new RunContext(app, job, cfg, access, {});
    const parked = await readParked(app.hub.knex, { job, status: 'parked', gids: records.map((r) => r.id) });
    const byEvents = propagator != null && propagates(cfg) && propagator.jobs(entity).includes(job);
    for (const unit of ctx.units) {
      if (!unit.canInsert && !unit.canUpdate && !unit.canDelete) continue;
      const state = await pushState(ctx, unit, records);
      const plan = planPush(records, state, unit, { entity, model: ctx.fieldByName });
      const failure = byEvents ? propagator.failure(job, unit.name) : undefined;
      const waiting = (gid: string): string => {
        if (failure) return `${unit.name} failed: ${failure.message} (${failure.code}, ${failure.at}); tried again shortly and by the next run of job ${job}`;
        if (byEvents && propagator.isQueued(job, gid)) return `queued: pushed to ${unit.name} in moments`;
        return byEvents ? `being pushed to ${unit.name}` : `pushed to ${unit.name} by the next run of job ${job}${cfg.schedule ? ` (${cfg.schedule})` : ''}`;
      };
      for (const rec of records) {
        const key = state.keysByGid.get(rec.id)?.[0] ?? null;
        const p = parked.find((x) => x.source === unit.name && x.gid === rec.id && x.direction === 'push');
        const parkNow = plan.parks.find((x) => x.gid === rec.id);
        const writes = plan.inserts.some((x) => x.gid === rec.id) || plan.updates.some((x) => x.gid === rec.id) || plan.deletes.some((x) => x.gid === rec.id);
        const frozen = state.open.get(rec.id);
        let status: TargetState;
        let reason: string | null = null;
        if (p || parkNow) {
          status = 'PARKED';
          reason = parkNow ? parkNow.error.message : `${p!.code}: ${p!.message}`;
        } else if (writes) {
          status = 'PENDING';
          reason = waiting(rec.id);
        } else if (frozen && frozen.size > 0) {
          status = 'CONFLICT';
          reason = `an open conflict on ${[...frozen.keys()].join(', ')} waits for a decision`;
        } else if (key === null && !rec.deleted) {
          status = unit.canInsert ? 'PENDING' : 'NOT_WRITTEN';
          reason = unit.canInsert ? waiting(rec.id) : `${unit.name} takes no inserts of ${entity} (entities.${entity}.sources.${unit.name}.write)`;
        } else {
          status = 'SYNCED';
        }
        out.get(rec.id)?.push({ job, source: unit.name, key, status, reason });
      }
    }
  }
  return out;
}
