/**
 * What a field accepts: the checks every hub write goes through (types, enums, bounds), and the
 * conversion of a value a person typed into the field's canonical form. The hub store applies
 * `valueProblem` to every value it writes, whoever the caller; the pull applies it per row first,
 * so a bad row is parked on its own instead of failing its page.
 */
import type { CrmValue, ModelField } from './entities.js';
import { integerDigits, normalizeDecimal } from './decimal.js';
import { dateTimeHint, isIsoDate, normalizeDateTime } from './time.js';
import { canonicalFieldValue } from './values.js';

/** Total digits of a hub decimal column (numeric(30, scale) on PostgreSQL). */
export const DECIMAL_PRECISION = 30;
/** Length of a hub string column without its own maxLength, and of a ref (a global id). */
export const DEFAULT_MAX_LENGTH = 255;
export const REF_MAX_LENGTH = 40;

/** Characters of a value an error message quotes; a longer value is cut and its length given. */
export const QUOTE_MAX = 40;

/**
 * A value as an error message shows it: JSON, cut to QUOTE_MAX characters with its length, so a
 * megabyte of input never comes back in the error (nor fills a log).
 */
export function describeValue(value: unknown): string {
  if (typeof value === 'string' && value.length > QUOTE_MAX) return `${JSON.stringify(value.slice(0, QUOTE_MAX))}… (${value.length} characters)`;
  const s = JSON.stringify(value) ?? String(value);
  return s.length > QUOTE_MAX + 2 ? `${s.slice(0, QUOTE_MAX)}… (${s.length} characters)` : s;
}

/** A value a field does not accept; `reason` says why in words a person can act on. */
export class ValueError extends RangeError {
  constructor(
    readonly field: string,
    readonly reason: string,
    readonly value: unknown,
  ) {
    super(`${field}: ${describeValue(value)} ${reason}`);
    this.name = 'ValueError';
  }
}

/** Total digits and decimal places a decimal field holds in the hub. */
export function decimalBounds(field: Pick<ModelField, 'scale' | 'precision'>): { precision: number; scale: number } {
  const scale = field.scale ?? 4;
  return { precision: Math.min(field.precision ?? DECIMAL_PRECISION, DECIMAL_PRECISION), scale };
}

/**
 * Whether `s` has more than `max` characters (code points, as the database counts them). The
 * UTF-16 length decides without looking at the text unless it lies between max and 2 × max.
 */
export function longerThan(s: string, max: number): boolean {
  if (s.length <= max) return false;
  if (s.length > 2 * max) return true;
  return [...s].length > max;
}

/** The longest text a field holds in the hub, or undefined when unbounded. */
export function maxLengthOf(field: Pick<ModelField, 'type' | 'maxLength'>): number | undefined {
  if (field.type === 'ref') return REF_MAX_LENGTH;
  if (field.type === 'string' || field.type === 'enum') return field.maxLength ?? DEFAULT_MAX_LENGTH;
  return undefined;
}

function tooLong(s: string, max: number | undefined): boolean {
  return max !== undefined && longerThan(s, max);
}

/** Why a canonical value does not fit the field, or null when it does. null always fits (`required` is the caller's rule). */
export function valueProblem(field: ModelField, v: CrmValue | undefined): string | null {
  if (v === null || v === undefined) return null;
  switch (field.type) {
    case 'string':
    case 'text':
    case 'ref':
    case 'enum': {
      if (typeof v !== 'string') return `is not text`;
      if (field.type === 'enum' && field.values && !field.values.includes(v)) return `is not one of ${field.values.join(', ')}`;
      const max = maxLengthOf(field);
      return tooLong(v, max) ? `is longer than ${max} characters` : null;
    }
    case 'int':
      return typeof v === 'number' && Number.isSafeInteger(v) ? null : 'is not an integer';
    case 'decimal': {
      if (typeof v !== 'string') return 'is not a decimal in canonical form';
      let canonical: string;
      try {
        canonical = normalizeDecimal(v);
      } catch {
        return 'is not a decimal number';
      }
      if (canonical !== v) return 'is not a decimal in canonical form';
      const { precision, scale } = decimalBounds(field);
      const room = precision - scale;
      return integerDigits(v) > room ? `has more than ${room} digits before the point` : null;
    }
    case 'boolean':
      return typeof v === 'boolean' ? null : 'is not true or false';
    case 'date':
      return typeof v === 'string' && isIsoDate(v) ? null : 'is not a date (YYYY-MM-DD)';
    case 'datetime':
      return typeof v === 'string' && normalizeDateTime(v) !== null ? null : `is not a date-time${dateTimeHint(v)}`;
  }
}

const TRUE_TEXT = new Set(['1', 't', 'true']);
const FALSE_TEXT = new Set(['0', 'f', 'false']);

/**
 * A value as a source gave it (after the mapping's transforms) → its canonical form, or why the
 * field cannot take it: not convertible (a decimal that is not a number, text a boolean does not
 * spell), outside the field's type or enum, or empty where the field is required. Used by the pull
 * for every row before the hub, and by `config check --sample` on sample rows.
 */
export function canonicalize(field: ModelField, raw: unknown): { value: CrmValue; problem: null } | { value: null; problem: string } {
  const empty = raw === null || raw === undefined;
  if (empty) return field.required ? { value: null, problem: 'is required but empty' } : { value: null, problem: null };
  if (field.type === 'boolean') {
    // canonicalFieldValue reads anything it does not know as false: 'Y' or 'yes' would become false.
    const t = typeof raw === 'string' ? raw.trim().toLowerCase() : typeof raw === 'number' ? String(raw) : null;
    if (t !== null && !TRUE_TEXT.has(t) && !FALSE_TEXT.has(t)) return { value: null, problem: 'is not true or false (1/0, t/f, true/false); map the codes with `map:`' };
  }
  let value: CrmValue;
  try {
    value = canonicalFieldValue(field, raw);
  } catch (err) {
    return { value: null, problem: err instanceof Error ? err.message : String(err) };
  }
  const problem = field.type === 'ref' ? null : valueProblem(field, value);
  if (problem !== null) return { value: null, problem };
  if (field.required && typeof value === 'string' && value.trim() === '') return { value: null, problem: 'is required but empty' };
  return { value, problem: null };
}

/** Throw ValueError when the value does not fit the field. */
export function checkValue(field: ModelField, v: CrmValue | undefined): void {
  const problem = valueProblem(field, v);
  if (problem !== null) throw new ValueError(field.name, problem, v);
}

/**
 * A value given by a person (a conflict resolved with a value of their own, a restore) → the
 * field's canonical form, or ValueError saying why not.
 */
export function coerceValue(field: ModelField, v: CrmValue): CrmValue {
  if (v === null) {
    if (field.required) throw new ValueError(field.name, 'is required and cannot be empty', v);
    return null;
  }
  const out = convert(field, v);
  checkValue(field, out);
  return out;
}

function convert(field: ModelField, v: Exclude<CrmValue, null>): CrmValue {
  const bad = (why: string) => new ValueError(field.name, why, v);
  switch (field.type) {
    case 'int': {
      const n = typeof v === 'number' ? v : Number(String(v).trim());
      if (!Number.isInteger(n)) throw bad('is not an integer');
      return n;
    }
    case 'decimal':
      try {
        return normalizeDecimal(typeof v === 'boolean' ? Number(v) : v);
      } catch {
        throw bad('is not a decimal number');
      }
    case 'boolean': {
      if (typeof v === 'boolean') return v;
      const s = String(v).toLowerCase();
      if (s === 'true' || s === '1') return true;
      if (s === 'false' || s === '0') return false;
      throw bad('is not true or false');
    }
    case 'datetime': {
      const iso = normalizeDateTime(v);
      if (iso === null) throw bad(`is not a date-time${dateTimeHint(v)}`);
      return iso;
    }
    default:
      return String(v);
  }
}
