export { EntityMapping, filterToWhere, type CustomFields } from './entity-mapping.js';
export * from './transforms.js';
export { toInstant, zonedToUtc, utcToZoned, formatNaive, parseNaive } from '../../model/time.js';
