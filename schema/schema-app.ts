/**
 * The parts of the application the GraphQL schema reads through (app/ builds them; any object of
 * this shape will do, as with the sync engine's SyncApp).
 */
import type { LoadedConfig } from '../config/load.js';
import type { CrmlinkConfig } from '../config/schema.js';
import type { SourceSet } from '../connectors/registry.js';
import type { Logger } from '../core/logger.js';
import type { Hub } from '../hub/hub.js';
import type { EntityName } from '../model/entities.js';

/** What a mutation with `propagate: WAIT` waits on (event-driven propagation, when the process runs it). */
export interface PropagationWaiter {
  /** Resolves once every job propagating `entity` has pushed `gid` at `version` or later, or after the timeout (false). */
  waitFor(entity: EntityName, gid: string, version: number, opts: { timeoutMs: number }): Promise<boolean>;
}

/** One job the process's scheduler ticks (sync/scheduler.ts ScheduledJob). */
export interface ScheduledJobView {
  job: string;
  schedule: string;
  nextRun: Date | null;
  running: boolean;
}

/** The sync scheduler of this process, when it runs one (`crmlink serve`, `crmlink demo`). */
export interface SchedulerView {
  jobs(): ScheduledJobView[];
}

export interface SchemaApp {
  config: CrmlinkConfig;
  hub: Hub;
  sources: SourceSet;
  logger: Logger;
  propagation?: PropagationWaiter;
  /** The sync scheduler, when this process runs it: the console shows its next runs. */
  scheduler?: SchedulerView;
  /** The loaded config, when there is one: its directory resolves relative paths such as hub.backup.dir. */
  loaded?: LoadedConfig;
}
