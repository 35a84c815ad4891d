/** The connector layer's public surface. The contract suite is `connectors/contract` (it needs vitest). */
export * from './driver.js';
export { FILTER_OPS, CONNECTOR_API_VERSION, type Connector, type ConnectorCapabilities, type ConnectorContext, type ConnectorPlugin } from './connector.js';
export { matchesWhere, splitWhere, selectFiltered, assertPushable, compareValues, rowComparator } from './filter.js';
export { checkConnector, loadPlugin } from './plugins.js';
export { FileConnector, type LoadedTable, type ParsedFile, type FileHashCheckpoint } from './files/file-connector.js';
export { AccessConnector } from './access/access-connector.js';
export { XlsxConnector } from './sheets/xlsx-connector.js';
export { CsvConnector } from './sheets/csv-connector.js';
export type { FileIssue } from './sheets/sheet-table.js';
export { KnexDriver, sameRow, sameValue, type KnexDriverOptions } from './knex-driver.js';
export { DialectAdapterBase, CHANGELOG_TABLE, type DialectAdapter, type ErrorClass } from './dialect-adapter.js';
export { createDriver, createConnector, adapterFor, effectiveEntities, SourceSet } from './registry.js';
export { encodeKey, decodeKey } from './keys.js';
export { readKeysBySelect, whereKeys } from './read-keys.js';
export { rowHash, canonicalJson } from './hash.js';
export { captureChanges, installCapture, uninstallCapture, captureDdl, CRMLINK_ORIGIN } from './capture/index.js';
export { EntityMapping, type CustomFields } from './mapping/entity-mapping.js';
export { presetMappings, presetNames } from './presets/index.js';
