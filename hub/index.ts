export { Hub, nowIso, type HubRecord, type AuditEntry } from './hub.js';
export { SYSTEM_TABLES, ENTITY_SYSTEM_COLUMNS } from './tables.js';
export { migrateHub } from './migrate.js';
