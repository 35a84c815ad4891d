/** Identity resolution core: credit codes, normalisation, rule-based matching. Pure, no I/O. */
export {
  CREDIT_CODE_CHARSET,
  computeCheckDigit,
  makeCreditCode,
  normalizeCreditCode,
  validateCreditCode,
  type CreditCodeResult,
} from './credit-code.js';
export {
  normalizeCompanyName,
  normalizeEmail,
  normalizePhone,
  toHalfWidth,
  type NormalizedName,
} from './normalize.js';
export {
  DEFAULT_RULES,
  MatchIndex,
  matchAll,
  type Certainty,
  type InvalidCode,
  type Match,
  type MatchIndexOptions,
  type MatchInput,
  type MatchRule,
  type MatchRuleName,
} from './matcher.js';
