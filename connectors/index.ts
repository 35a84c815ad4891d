/** The connector layer's public surface. */
export * from './driver.js';
export { KnexDriver, sameRow, sameValue, type KnexDriverOptions } from './knex-driver.js';
export { DialectAdapterBase, CHANGELOG_TABLE, type DialectAdapter, type ErrorClass } from './dialect-adapter.js';
export { createDriver, adapterFor, effectiveEntities, SourceSet } from './registry.js';
export { encodeKey, decodeKey } from './keys.js';
export { rowHash, canonicalJson } from './hash.js';
export { captureChanges, installCapture, uninstallCapture, captureDdl, CRMLINK_ORIGIN } from './capture/index.js';
export { EntityMapping, type CustomFields } from './mapping/entity-mapping.js';
export { presetMappings, presetNames } from './presets/index.js';
