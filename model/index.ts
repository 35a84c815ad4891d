/**
 * The canonical CRM model: entities and fields, and the one rule per value type for converting,
 * comparing, validating and hashing values. Imports nothing of the project; everything else
 * imports it.
 */
export {
  DERIVED_FIELDS,
  ENTITY_NAMES,
  MODEL,
  entityModel,
  fieldsOf,
  isEntityName,
  withDerivedHidden,
  type CrmRecord,
  type CrmValue,
  type DerivedField,
  type FieldRef,
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
export { assertTimeZone, dateTimeHint, formatNaive, isIsoDate, normalizeDateTime, parseNaive, toInstant, utcToZoned, zoneOffsetMs, zonedToUtc, type WallClock } from './time.js';
export { halfWidth } from './text.js';
export { modelReferenceMarkdown } from './docs.js';
export { canonicalFieldValue, hashRecord, pickFields, sameValue, stableStringify } from './values.js';
export { DECIMAL_PRECISION, DEFAULT_MAX_LENGTH, QUOTE_MAX, REF_MAX_LENGTH, ValueError, checkValue, coerceValue, decimalBounds, describeValue, longerThan, maxLengthOf, valueProblem } from './validation.js';
