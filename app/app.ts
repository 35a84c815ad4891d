/**
 * The running application: config, hub, sources and logger, opened once and handed to the
 * GraphQL layer, the sync engine and the CLI commands.
 */
import type { LoadedConfig } from '../config/load.js';
import type { CrmlinkConfig } from '../config/schema.js';
import { Hub } from '../hub/hub.js';
import { CUSTOMER_MATCH_KEYS } from '../identity/matcher.js';
import { SourceSet } from '../connectors/registry.js';
import { createLogger, type Logger } from '../core/logger.js';
import type { ServerApp } from '../server/server-app.js';
import type { Propagator } from '../sync/propagation.js';
import { startTracing } from './tracing.js';
import type { SyncScheduler } from '../sync/scheduler.js';

/** What every layer's slice (SyncApp, SchemaApp, ServerApp) is cut from. */
export interface App extends ServerApp {
  loaded: LoadedConfig;
  config: CrmlinkConfig;
  hub: Hub;
  sources: SourceSet;
  logger: Logger;
  /** Event-driven propagation, when this process runs it (`crmlink serve`): mutations can wait on it. */
  propagation?: Propagator;
  /** The sync scheduler, when this process runs it (`crmlink serve`, `crmlink demo`). */
  scheduler?: SyncScheduler;
}

/** `readOnlyHub`: create and migrate nothing in the hub (dry runs); see Hub.open. */
export async function openApp(loaded: LoadedConfig, opts: { logger?: Logger; readOnlyHub?: boolean } = {}): Promise<App> {
  const logger = opts.logger ?? createLogger(loaded.config.log.level);
  const hub = await Hub.open(loaded, { readOnly: opts.readOnlyHub });
  // Customers are stored with identity's match keys, so the sync looks candidates up by index.
  hub.store.matchKeyDeriver = CUSTOMER_MATCH_KEYS;
  const sources = SourceSet.open(loaded);
  // Spans are exported only when tracing is configured (tracing.*, OTEL_EXPORTER_OTLP_ENDPOINT).
  const tracing = await startTracing(loaded.config.tracing);
  const close = async () => {
    await Promise.allSettled([sources.destroy(), hub.destroy()]);
    await tracing?.shutdown().catch((err: unknown) => logger.warn({ err }, 'could not flush the last spans'));
  };
  return { loaded, config: loaded.config, hub, sources, logger, close };
}

export async function closeApp(app: App): Promise<void> {
  await app.close();
}
