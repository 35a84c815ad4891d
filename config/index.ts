export * from './schema.js';
export * from './load.js';
export { configJsonSchema } from './json-schema.js';
export { configReferenceMarkdown } from './docs.js';
export { introspectionEnabled, fieldSuggestionsEnabled, serverIssues, type ServerIssue } from './server.js';
export { unsyncedEntities, type UnsyncedEntity } from './coverage.js';
