/**
 * Mutation input checks, with messages that say which field is wrong and why. GraphQL already
 * checks types and enum values; these are the business rules: required fields, unified social
 * credit codes (GB 32100-2015 check character), e-mail, phone, lengths and decimal places.
 */
import { ValidationError } from '../core/errors.js';
import { decimalPlaces, normalizeDecimal } from '../model/decimal.js';
import { validateCreditCode } from '../identity/credit-code.js';
import type { CrmRecord, CrmValue, EntityName, ModelField } from '../model/entities.js';

const EMAIL = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;
/** Digits with optional +country, spaces, dashes, parentheses and an extension: 6–20 digits. */
const PHONE = /^\+?[0-9()\s-]+(\s*(ext\.?|x|转)\s*[0-9]{1,6})?$/i;
const PHONE_FIELDS = new Set(['phone', 'mobile']);

function fail(entity: EntityName, field: string, message: string): never {
  throw new ValidationError(`${entity}.${field}: ${message}`, { entity, field });
}

/** Check and normalise the given fields. `create` also requires the model's required fields. */
export function validateInput(entity: EntityName, fields: readonly ModelField[], input: Record<string, unknown>, op: 'create' | 'update'): CrmRecord {
  const out: CrmRecord = {};
  const byName = new Map(fields.map((f) => [f.name, f]));
  for (const key of Object.keys(input)) {
    if (!byName.has(key)) fail(entity, key, 'unknown field');
  }
  for (const f of fields) {
    const present = Object.prototype.hasOwnProperty.call(input, f.name) && input[f.name] !== undefined;
    let v = present ? (input[f.name] as CrmValue) : undefined;
    if (typeof v === 'string' && f.type !== 'text') v = v.trim();
    const empty = v === null || v === '' || v === undefined;
    if (f.required && (op === 'create' ? empty : present && empty)) fail(entity, f.name, 'is required');
    if (!present) continue;
    if (empty) {
      out[f.name] = null;
      continue;
    }
    out[f.name] = checkValue(entity, f, v as Exclude<CrmValue, null>);
  }
  return out;
}

function checkValue(entity: EntityName, f: ModelField, v: string | number | boolean): CrmValue {
  if (f.name === 'creditCode') {
    const r = validateCreditCode(String(v));
    if (!r.ok) fail(entity, f.name, `"${String(v)}" is not a valid unified social credit code: ${r.reason}`);
    return r.code;
  }
  if (f.name === 'email' && !EMAIL.test(String(v))) fail(entity, f.name, `"${String(v)}" is not a valid e-mail address`);
  if (PHONE_FIELDS.has(f.name)) {
    const s = String(v);
    const digits = s.replace(/\D/g, '').length;
    if (!PHONE.test(s) || digits < 6 || digits > 20) fail(entity, f.name, `"${s}" is not a valid phone number (digits, optional +country code, spaces, dashes)`);
  }
  switch (f.type) {
    case 'string':
    case 'text': {
      const max = f.maxLength ?? (f.type === 'string' ? 255 : undefined);
      if (max !== undefined && [...String(v)].length > max) fail(entity, f.name, `longer than ${max} characters`);
      return String(v);
    }
    case 'enum':
      if (f.values && !f.values.includes(String(v))) fail(entity, f.name, `"${String(v)}" is not one of ${f.values.join(', ')}`);
      return String(v);
    case 'decimal': {
      const d = normalizeDecimal(String(v));
      const places = decimalPlaces(d);
      if (f.scale !== undefined && places > f.scale) fail(entity, f.name, `${d} has ${places} decimal places; at most ${f.scale} are kept`);
      return d;
    }
    case 'int':
      if (!Number.isSafeInteger(v)) fail(entity, f.name, `${String(v)} is not an integer`);
      return v;
    default:
      return v;
  }
}
