/**
 * The plain data a page of a pull passes from stage to stage (sync/pull.ts composes them):
 *
 *   ChangeBatch ─decode→ DecodedPage ─canonicalize→ DecodedPage ─snapshot deletes→ items
 *     ─link identity→ LinkedPage ─three-way merge→ PagePlan ─write→ the hub (one transaction)
 */
import type { Row } from '../../connectors/driver.js';
import type { BaseEntry, BaseWrite } from '../../hub/bases.js';
import type { ConflictWrite, OpenConflicts } from '../../hub/conflicts.js';
import type { HubRecord } from '../../hub/golden.js';
import type { CandidateProposal } from '../../hub/merges.js';
import type { Provenance } from '../../hub/provenance.js';
import type { XrefEntry, XrefLink } from '../../hub/xref.js';
import type { CrmRecord, EntityName, ModelField } from '../../model/entities.js';
import type { LinkDecision } from '../identity.js';
import type { MergePolicies } from '../three-way-merge.js';
import type { PlannedConflict, PlannedWrite, SourceStats } from '../types.js';

/** What every stage of one source's page may read. */
export interface PageContext {
  job: string;
  entity: EntityName;
  source: string;
  /** The fields the source maps that exist in the hub model. */
  fields: readonly string[];
  model: ReadonlyMap<string, ModelField>;
  /** Ref fields whose keys are another source's (the mapping's `refSource`), e.g. a survey sheet holding ERP customer codes. */
  refSources?: ReadonlyMap<string, string>;
  policies: MergePolicies;
  /** The page's clock: when a change has no time of its own. */
  now: string;
  /** The run (crm_run id) the page belongs to, kept in the history of what it writes; null when unknown. */
  run?: number | null;
}

/** One source record's change: the last change of its key in the page. */
export type PageItem =
  | { kind: 'upsert'; sourceKey: string; record: CrmRecord; changedAt: string | null; row?: Row }
  | { kind: 'delete'; sourceKey: string; changedAt: string | null };

export type UpsertItem = Extract<PageItem, { kind: 'upsert' }>;

/** A row that cannot go on: parked with its error (and what it held), the rest of the page goes on. */
export interface Rejected {
  sourceKey: string | null;
  error: unknown;
  payload: unknown;
}

export interface DecodedPage {
  /** By source key, in the order the source last changed them. */
  items: Map<string, PageItem>;
  /** Keys of rows the page read (a full-scan snapshot records them). */
  seenKeys: string[];
  rejected: Rejected[];
  /** The oldest change time in the page (ISO), for the lag. */
  oldestChange: string | null;
}

/** The page with its golden records: cross-reference, identity decisions and the hub's side. */
export interface LinkedPage {
  items: Map<string, PageItem>;
  rejected: Rejected[];
  xref: Map<string, XrefEntry>;
  decisions: Map<string, LinkDecision>;
  bases: Map<string, BaseEntry>;
  /** Golden records by the gid asked for, merged-away ones replaced by their survivor. */
  records: Map<string, HubRecord>;
  provenance: Map<string, Provenance>;
  open: OpenConflicts;
}

/** The hub's side of one golden record while the merge works on it. */
export interface WorkingRecord {
  gid: string;
  /** The record as read (null: created by this page). */
  current: HubRecord | null;
  deleted: boolean;
  values: CrmRecord;
  changedAt: Record<string, string>;
  provenance: Record<string, string>;
  /** Fields changed by this page ('_deleted', '_created' for those events). */
  changed: Set<string>;
  sourceKey: string;
}

/** Everything a page will write, decided before anything is. */
export interface PagePlan {
  records: WorkingRecord[];
  bases: BaseWrite[];
  links: XrefLink[];
  conflicts: ConflictWrite[];
  candidates: CandidateProposal[];
  /** Source keys dealt with: any parked entry of theirs is done. */
  done: string[];
  stats: SourceStats;
  /** For the dry-run plan. */
  plannedConflicts: PlannedConflict[];
  warnings: { sourceKey: string; message: string }[];
}

/** What a page did, for the run's totals and the dry-run plan (applied once its transaction commits). */
export interface PageOutcome {
  stats: SourceStats;
  writes: PlannedWrite[];
  conflicts: PlannedConflict[];
  /** Golden records as written, for the identity index. */
  written: { gid: string; values: CrmRecord; deleted: boolean }[];
}
