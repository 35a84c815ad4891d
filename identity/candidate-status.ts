/** The states of a merge candidate (a module of its own: the CLI names them without loading identity). */
export type CandidateStatus = 'open' | 'accepted' | 'rejected' | 'superseded';
export const CANDIDATE_STATUSES: readonly CandidateStatus[] = ['open', 'accepted', 'rejected', 'superseded'];
