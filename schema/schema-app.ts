/**
 * The parts of the application the GraphQL schema reads through (app/ builds them; any object of
 * this shape will do, as with the sync engine's SyncApp).
 */
import type { CrmlinkConfig } from '../config/schema.js';
import type { SourceSet } from '../connectors/registry.js';
import type { Logger } from '../core/logger.js';
import type { Hub } from '../hub/hub.js';

export interface SchemaApp {
  config: CrmlinkConfig;
  hub: Hub;
  sources: SourceSet;
  logger: Logger;
}
