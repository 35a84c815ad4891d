/**
 * Mutation input checks, with messages that say which field is wrong and why. GraphQL already
 * checks types and enum values; these are the business rules: required fields, fields no person
 * writes, unified social credit codes (GB 32100-2015 check character), e-mail, phone, lengths,
 * decimal digits and places.
 *
 * Every length is checked before any pattern runs, and every pattern here matches in time linear
 * in its input (tests/security/patterns.test.ts runs each pattern of the project against
 * pathological input): a request can neither make the server backtrack for seconds nor have its
 * input echoed back, since messages quote at most QUOTE_MAX characters of a value.
 */
import { ValidationError } from '../core/errors.js';
import { decimalPlaces, integerDigits, normalizeDecimal } from '../model/decimal.js';
import { validateCreditCode } from '../identity/credit-code.js';
import type { CrmRecord, CrmValue, EntityName, ModelField } from '../model/entities.js';
import { decimalBounds, DEFAULT_MAX_LENGTH, describeValue, longerThan } from '../model/validation.js';

/** RFC 5321: a forward path is at most 256 octets, the address inside it 254. */
const EMAIL_MAX = 254;
/** The longest phone number with country code and extension, written with separators. */
const PHONE_MAX = 40;
/**
 * local@domain with a dot inside the domain. Each class excludes the character that ends it, so
 * there is one way to match any text (no backtracking).
 */
const EMAIL = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;
/**
 * Digits with optional +country, spaces, dashes, parentheses and an extension. The number ends
 * on a character that is not a space, so the spaces before "ext" belong to the extension alone.
 */
const PHONE = /^\+?[0-9()\s-]*[0-9()-](?:\s*(?:ext\.?|x|转)\s*[0-9]{1,6})?$/i;
const PHONE_FIELDS = new Set(['phone', 'mobile']);

function fail(entity: EntityName, field: string, message: string, extra: Record<string, unknown> = {}): never {
  throw new ValidationError(`${entity}.${field}: ${message}`, { entity, field, ...extra });
}

/** Check and normalise the given fields. `create` also requires the model's required fields. */
export function validateInput(entity: EntityName, fields: readonly ModelField[], input: Record<string, unknown>, op: 'create' | 'update'): CrmRecord {
  const out: CrmRecord = {};
  const byName = new Map(fields.map((f) => [f.name, f]));
  for (const key of Object.keys(input)) {
    const f = byName.get(key);
    if (!f) fail(entity, key, 'unknown field');
    if (f.managed && input[key] !== undefined) {
      fail(entity, key, `is kept by the systems that hold the record and cannot be set by a mutation`, { reason: 'READ_ONLY' });
    }
  }
  for (const f of fields) {
    const present = Object.prototype.hasOwnProperty.call(input, f.name) && input[f.name] !== undefined;
    let v = present ? (input[f.name] as CrmValue) : undefined;
    if (typeof v === 'string') {
      // Length first: trimming, patterns and messages only ever see text of a bounded length.
      checkLength(entity, f, v);
      if (f.type !== 'text') v = v.trim();
    }
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

/** The most characters a value of the field may have as typed (before trimming). */
function inputMax(f: ModelField): number | undefined {
  // A decimal arrives checked by the Decimal scalar (plain notation); its digits are counted below.
  if (f.type === 'decimal') return undefined;
  if (f.type === 'text') return f.maxLength;
  const max = f.maxLength ?? DEFAULT_MAX_LENGTH;
  if (f.name === 'email') return Math.min(max, EMAIL_MAX);
  if (PHONE_FIELDS.has(f.name)) return Math.min(max, PHONE_MAX);
  return max;
}

function checkLength(entity: EntityName, f: ModelField, v: string): void {
  const max = inputMax(f);
  // Surrounding spaces are trimmed away, but only after the bound: allow for a few.
  if (max !== undefined && longerThan(v, max) && longerThan(v.trim(), max)) fail(entity, f.name, `is longer than ${max} characters (${v.length} given)`, { maxLength: max });
}

function checkValue(entity: EntityName, f: ModelField, v: string | number | boolean): CrmValue {
  if (f.name === 'creditCode') {
    const r = validateCreditCode(String(v));
    if (!r.ok) fail(entity, f.name, `${describeValue(String(v))} is not a valid unified social credit code: ${r.reason}`);
    return r.code;
  }
  if (f.name === 'email' && !EMAIL.test(String(v))) fail(entity, f.name, `${describeValue(String(v))} is not a valid e-mail address`);
  if (PHONE_FIELDS.has(f.name)) {
    const s = String(v);
    const digits = s.replace(/\D/g, '').length;
    if (!PHONE.test(s) || digits < 6 || digits > 20) fail(entity, f.name, `${describeValue(s)} is not a valid phone number (digits, optional +country code, spaces, dashes)`);
  }
  switch (f.type) {
    case 'string':
    case 'text':
      return String(v);
    case 'enum':
      if (f.values && !f.values.includes(String(v))) fail(entity, f.name, `${describeValue(String(v))} is not one of ${f.values.join(', ')}`);
      return String(v);
    case 'decimal':
      return checkDecimal(entity, f, v);
    case 'int':
      if (!Number.isSafeInteger(v)) fail(entity, f.name, `${describeValue(v)} is not an integer`);
      return v;
    default:
      return v;
  }
}

/** A finite decimal within the field's precision and scale (the hub's column holds no more). */
function checkDecimal(entity: EntityName, f: ModelField, v: string | number | boolean): string {
  if (typeof v === 'number' && !Number.isFinite(v)) fail(entity, f.name, `${String(v)} is not a finite number`);
  let d: string;
  try {
    d = normalizeDecimal(typeof v === 'boolean' ? String(v) : v);
  } catch {
    fail(entity, f.name, `${describeValue(v)} is not a decimal number`);
  }
  const { precision, scale } = decimalBounds(f);
  const places = decimalPlaces(d);
  if (places > scale) fail(entity, f.name, `${describeValue(d)} has ${places} decimal places; at most ${scale} are kept`, { precision, scale });
  const digits = integerDigits(d);
  if (digits > precision - scale) {
    fail(entity, f.name, `${describeValue(d)} has ${digits} digits before the point; at most ${precision - scale} fit (precision ${precision}, scale ${scale})`, { precision, scale });
  }
  return d;
}
