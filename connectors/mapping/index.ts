export { EntityMapping, filterToWhere, type ConnectorEntitySourceConfig, type ConnectorFieldMapping, type CustomFields } from './entity-mapping.js';
export * from './transforms.js';
export { toInstant, zonedToUtc, utcToZoned, formatNaive, parseNaive } from './time.js';
