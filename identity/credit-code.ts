/**
 * Unified social credit code (统一社会信用代码), GB 32100-2015.
 *
 * 18 characters: registration authority (1), organisation type (1), administrative division (6),
 * organisation code (9) and a check character (1). Only the overall check character is verified
 * here: it is the one rule every issuer follows, and it catches the typos that matter for
 * matching (swapped or mistyped characters).
 */
import { halfWidth } from '../model/text.js';

/** The 31 characters the standard allows; I, O, Z, S and V are left out to avoid misreading. */
export const CREDIT_CODE_CHARSET = '0123456789ABCDEFGHJKLMNPQRTUWXY';

const WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28] as const;

const CHAR_VALUE = new Map<string, number>(
  [...CREDIT_CODE_CHARSET].map((ch, i) => [ch, i] as const),
);

export type CreditCodeResult = { ok: true; code: string } | { ok: false; reason: string };

/** Trim, full-width → half-width, upper case: how codes arrive from forms and spreadsheets. */
export function normalizeCreditCode(input: string): string {
  return halfWidth(input).trim().toUpperCase();
}

function invalidCharReason(ch: string, position: number): string {
  const hint = 'IOZSV'.includes(ch) ? ` (the letters I, O, Z, S and V are never used)` : '';
  return `invalid character '${ch}' at position ${position}${hint}`;
}

/**
 * Check character for the first 17 characters of a code.
 * Throws RangeError if the input is not 17 characters of the allowed charset.
 */
export function computeCheckDigit(first17: string): string {
  const s = normalizeCreditCode(first17);
  if (s.length !== 17) {
    throw new RangeError(`expected 17 characters to compute a check digit, got ${s.length}`);
  }
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    const v = CHAR_VALUE.get(s[i]);
    if (v === undefined) throw new RangeError(invalidCharReason(s[i], i + 1));
    sum += v * WEIGHTS[i];
  }
  const check = 31 - (sum % 31);
  return CREDIT_CODE_CHARSET[check === 31 ? 0 : check];
}

export function validateCreditCode(input: string): CreditCodeResult {
  const code = normalizeCreditCode(input);
  if (code.length !== 18) {
    return {
      ok: false,
      reason: `wrong length ${code.length} (a unified social credit code has 18 characters)`,
    };
  }
  for (let i = 0; i < 18; i++) {
    if (!CHAR_VALUE.has(code[i])) return { ok: false, reason: invalidCharReason(code[i], i + 1) };
  }
  const expected = computeCheckDigit(code.slice(0, 17));
  if (code[17] !== expected) {
    return { ok: false, reason: `check digit should be '${expected}' but is '${code[17]}'` };
  }
  return { ok: true, code };
}

/** Append the check character to 17 characters: for demo data and tests that need valid codes. */
export function makeCreditCode(seed17: string): string {
  const s = normalizeCreditCode(seed17);
  return s + computeCheckDigit(s);
}
