/**
 * Identity resolution: credit codes, normalisation and rule-based matching (pure, no I/O), plus the
 * hub side: golden records with survivorship, merge candidates, merge and unmerge.
 */
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
export {
  DEFAULT_SURVIVORSHIP,
  identityConfig,
  parseRule,
  recomputeGolden,
  surviveFields,
  type FieldProvenance,
  type HubFallback,
  type ParsedRule,
  type RecomputeOptions,
  type RecomputeResult,
  type SurviveOptions,
  type Survived,
  type SurvivorCandidate,
  type SurvivorshipRules,
} from './golden.js';
export {
  listMerges,
  mergeRecords,
  referencingFields,
  resolveMerged,
  unmergeRecords,
  type CandidateRow,
  type MergeInput,
  type MergeResult,
  type MergeRow,
  type MergeSnapshot,
  type SourceKey,
  type UnmergeInput,
  type UnmergeResult,
  type XrefRow,
} from './record-merge.js';
export {
  connectedGroups,
  rankSurvivors,
  CANDIDATE_STATUSES,
  KEY_FIELDS,
  acceptCandidate,
  findCandidates,
  listCandidates,
  rejectCandidate,
  type CandidateSide,
  type CandidateStatus,
  type CandidateView,
  type FindCandidatesOptions,
  type FindCandidatesResult,
} from './candidates.js';
