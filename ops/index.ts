/**
 * Operations: what runs jobs, retries parked records, resolves conflicts, restores records from
 * their history and serves the console's queries. This layer joins the sync engine and the schema (neither imports the other) and hands
 * its parts of the API to buildSchema.
 */
import type { SchemaModule } from '../schema/module.js';
import { consoleModule } from './console-ops.js';
import { historyModule } from './history-ops.js';
import { syncOpsModule } from './sync-ops.js';
import { propagationModule } from './propagation-ops.js';
import { syncSubscriptionsModule } from './sync-subscriptions.js';

export { syncOpsModule, consoleModule, historyModule, propagationModule, syncSubscriptionsModule };

/** Every operations part of the API, in the order their fields appear. */
export const OPERATION_MODULES: readonly SchemaModule[] = [syncOpsModule, consoleModule, historyModule, propagationModule, syncSubscriptionsModule];
