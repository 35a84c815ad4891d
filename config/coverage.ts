/**
 * Which mapped entities nobody copies into the hub. A `replicated` entity (the default mode) is
 * read from the hub, and only a sync job fills the hub: an entity mapped to a source but named by
 * no job under sync.jobs answers every query with 0 rows. `config check` warns about it, the
 * server logs it at start-up, and GraphQL adds a warning to each response that reads it.
 */
import type { CrmlinkConfig } from './schema.js';

/** One replicated entity that no sync job covers. */
export interface UnsyncedEntity {
  code: 'ENTITY_NOT_SYNCED';
  entity: string;
  /** The sources it is mapped to. */
  sources: string[];
  message: string;
}

export function unsyncedEntities(config: Pick<CrmlinkConfig, 'entities' | 'sync'>): UnsyncedEntity[] {
  const synced = new Set(Object.values(config.sync.jobs).map((j) => j.entity as string));
  const out: UnsyncedEntity[] = [];
  for (const [entity, e] of Object.entries(config.entities)) {
    if (!e || e.mode === 'federated' || synced.has(entity)) continue;
    const sources = Object.keys(e.sources);
    if (sources.length === 0) continue;
    out.push({
      code: 'ENTITY_NOT_SYNCED',
      entity,
      sources,
      message:
        `${entity} is replicated (read from the hub) but no sync job copies it there from ${sources.join(', ')}: ` +
        `it answers 0 rows until a job under sync.jobs has entity: ${entity} and has run, or set entities.${entity}.mode: federated to read it live`,
    });
  }
  return out;
}
