/**
 * The canonical CRM model: entities and fields, and the one rule per value type for converting,
 * comparing, validating and hashing values. Imports nothing of the project; everything else
 * imports it.
 */
export {
  ENTITY_NAMES,
  MODEL,
  entityModel,
  fieldsOf,
  isEntityName,
  type CrmRecord,
  type CrmValue,
  type EntityModel,
  type EntityName,
  type FieldType,
  type ModelField,
} from './entities.js';
export {
  DECIMAL_RE,
  addDecimals,
  decimalFromDb,
  decimalPlaces,
  fixedDecimal,
  integerDigits,
  isPlainDecimal,
  normalizeDecimal,
  roundDecimal,
  toDecimalString,
} from './decimal.js';
export { assertTimeZone, formatNaive, isIsoDate, normalizeDateTime, parseNaive, toInstant, utcToZoned, zoneOffsetMs, zonedToUtc, type WallClock } from './time.js';
export { canonicalFieldValue, hashRecord, pickFields, sameValue, stableStringify } from './values.js';
export { DECIMAL_PRECISION, DEFAULT_MAX_LENGTH, REF_MAX_LENGTH, ValueError, checkValue, coerceValue, maxLengthOf, valueProblem } from './validation.js';
