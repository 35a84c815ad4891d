/**
 * Sync and operations fields for the console and operators: sources and their health, jobs, run
 * history, parked records, conflicts (list and resolve), and running a job. Deciding is sync's
 * business: resolveConflict and runSyncJob delegate to sync/conflicts.ts and sync/engine.ts, runs
 * and parked records come from sync/runs.ts and sync/parking.ts. The conflict list reads
 * crm_conflict itself only to page by id (a keyset cursor), since listConflicts pages by offset,
 * which skips rows while others are being resolved. Everything here needs an admin role;
 * resolving and running also need write.
 */
import { GraphQLScalarType, Kind, type ValueNode } from '../schema/graphql-runtime.js';
import { CrmlinkError } from '../core/errors.js';
import { hasOwnKey } from '../core/own.js';
import { describeSchedule } from '../config/schedule-text.js';
import { SYSTEM_TABLES as T } from '../hub/tables.js';
import { listParked, listRuns } from '../sync/status.js';
import { getConflict, resolveConflict, type ConflictRecord } from '../sync/conflicts.js';
import { runJob } from '../sync/engine.js';
import { isEntityName, type CrmValue } from '../model/entities.js';
import { coerceValue, ValueError } from '../model/validation.js';
import { validateInput } from '../schema/validation.js';
import { checkTargetColumns } from '../schema/write-limits.js';
import type { ExtraTypeDefs, Resolver, SchemaModule } from '../schema/module.js';
import type { Runtime } from '../schema/runtime.js';
import { scope, type CrmContext } from '../schema/resolvers.js';
import { requireAdmin, requireWrite } from '../schema/security.js';
import { encodeCursor, decodeNumberCursor } from '../schema/cursor.js';
import { sourceHealth } from '../schema/source-health.js';
import { codeEnum, enumResolvers } from '../schema/enums.js';
import { SOURCE_KINDS } from '../config/schema.js';
import type { RunReport, SourceStats, TargetPlan } from '../sync/types.js';

/** The closed sets of the operations API, as GraphQL enums over the codes sync and the hub use. */
const SOURCE_KIND = codeEnum('SourceKind', SOURCE_KINDS, 'What a source system is.');
const SYNC_DIRECTION = codeEnum('SyncDirection', ['both', 'pull', 'push'], 'Which way a sync job moves changes: both ways, from the sources into the hub, or from the hub out.');
const SYNC_RUN_STATUS = codeEnum(
  'SyncRunStatus',
  ['running', 'ok', 'partial', 'failed', 'skipped', 'aborted', 'abandoned'],
  'How a sync run ended (RUNNING while it runs; ABANDONED: its process went away mid-run).',
);
const PARK_DIRECTION = codeEnum('ParkDirection', ['pull', 'push'], 'Whether a record was parked reading it from its source (PULL) or writing it there (PUSH).');
const PARKED_STATUS = codeEnum('ParkedStatus', ['parked', 'resolved'], 'PARKED waits for a fix or a retry; RESOLVED went through later.');
const PARKED_FILTER = codeEnum('ParkedStatusFilter', ['parked', 'resolved', 'all'], 'Which parked records to list.');
const CONFLICT_STATE = codeEnum('ConflictState', ['open', 'resolved'], 'Whether a conflict still waits for a decision.');
const WRITE_OP = codeEnum('PlannedWriteOp', ['insert', 'update', 'delete']);
const DELETE_MODE = codeEnum('DeleteMode', ['hard', 'soft'], 'SOFT: the delete is an update of the soft-delete flag.');
const RUN_TRIGGER = codeEnum('SyncRunTrigger', ['event'], 'EVENT: an event-driven push of the records a hub change named.');
const SYNC_ENUMS = [SOURCE_KIND, SYNC_DIRECTION, SYNC_RUN_STATUS, PARK_DIRECTION, PARKED_STATUS, PARKED_FILTER, CONFLICT_STATE, WRITE_OP, DELETE_MODE, RUN_TRIGGER];

/** The run report (sync/types.ts RunReport) as typed objects: SyncRun.stats, runSyncJob, retryParked. */
const REPORT_TYPEDEFS = /* GraphQL */ `
${SYNC_ENUMS.map((e) => e.sdl).join('\n')}
"""What one sync run did with one source."""
type SyncSourceStats {
  source: String!
  "Changes read from the source."
  read: Int!
  "Read but equal to the base: nothing to do."
  unchanged: Int!
  "Hub records created, updated and deleted from this source's changes."
  hubInserted: Int!
  hubUpdated: Int!
  hubDeleted: Int!
  "Rows written to this source by the push."
  inserted: Int!
  updated: Int!
  deleted: Int!
  "Open conflicts (they need a person) raised by this source's changes."
  conflicts: Int!
  "Conflicts decided by policy."
  autoResolved: Int!
  parked: Int!
  "New source keys linked to an existing record."
  linked: Int!
  "New records made for source keys that matched none."
  created: Int!
  mergeCandidates: Int!
  "Deletes the source's mapping does not allow: reported, not written."
  deletesNotAllowed: Int!
  "Writes held back because the source row changed since it was read (taken in the next run)."
  deferred: Int!
  "Oldest change time read, for the lag."
  oldestChange: DateTime
  pullMs: Float!
  pushMs: Float!
}
"""Hub-wide totals of what a run changed."""
type SyncRunTotals {
  read: Int!
  "Rows written anywhere: hub records plus source rows."
  written: Int!
  hubWritten: Int!
  sourceWritten: Int!
  conflicts: Int!
  autoResolved: Int!
  parked: Int!
}
type SyncRunError {
  code: String!
  message: String!
}
"""A write a dry run would make."""
type PlannedWrite {
  op: PlannedWriteOp!
  recordId: ID
  sourceKey: String
  "Fields written, with their new values (field → value, each of its field's type)."
  values: JSON
  mode: DeleteMode
}
"""A conflict a dry run would raise."""
type PlannedConflict {
  recordId: ID
  sourceKey: String
  field: String!
  "side (hub or a source name) → value"
  values: JSON!
  rule: String!
  winner: String
  reason: String!
}
type SyncPlanCounts {
  inserts: Int!
  updates: Int!
  deletes: Int!
  conflicts: Int!
}
"""What a dry run would do to one target (hub or a source); the lists are cut, the counts are not."""
type SyncTargetPlan {
  "hub, or a source name"
  target: String!
  inserts: [PlannedWrite!]!
  updates: [PlannedWrite!]!
  deletes: [PlannedWrite!]!
  conflicts: [PlannedConflict!]!
  counts: SyncPlanCounts!
}
"""The report of a sync run."""
type SyncRunReport {
  "Null for a dry run, which records nothing."
  runId: ID
  job: String!
  entity: String!
  status: SyncRunStatus!
  dryRun: Boolean!
  startedAt: DateTime!
  endedAt: DateTime!
  durationMs: Float!
  "Per source."
  sources: [SyncSourceStats!]!
  totals: SyncRunTotals!
  "Seconds between now and the oldest change read (null when no source gives change times)."
  lagSeconds: Float
  "Why the run was skipped or failed."
  reason: String
  trigger: SyncRunTrigger
  error: SyncRunError
  "Dry runs: the plan per target."
  plan: [SyncTargetPlan!]
}
`;


function literal(ast: ValueNode): unknown {
  switch (ast.kind) {
    case Kind.STRING:
    case Kind.BOOLEAN:
      return ast.value;
    case Kind.INT:
    case Kind.FLOAT:
      return Number(ast.value);
    case Kind.NULL:
      return null;
    case Kind.LIST:
      return ast.values.map(literal);
    case Kind.OBJECT:
      return Object.fromEntries(ast.fields.map((f) => [f.name.value, literal(f.value)]));
    default:
      return null;
  }
}

export const JSONScalar = new GraphQLScalarType({
  name: 'JSON',
  serialize: (v) => v,
  parseValue: (v) => v,
  parseLiteral: literal,
});

export const OPS_TYPEDEFS: ExtraTypeDefs = {
  types: /* GraphQL */ `${REPORT_TYPEDEFS}
type SourceHealth {
  ok: Boolean!
  latencyMs: Float!
  version: String
  error: String
}
type Source {
  name: String!
  "Database engine (mssql, postgres, mysql, sqlite), or the connector of a file or plugin source (access, xlsx, csv, a package name)."
  dialect: String!
  kind: SourceKind!
  readOnly: Boolean!
  "Connects and runs a trivial query: ask only when you need it."
  health: SourceHealth!
}
type SyncJob {
  name: String!
  entity: String!
  sources: [String!]!
  direction: SyncDirection!
  "The cron expression (node-cron); null when the job runs only on demand."
  schedule: String
  "The schedule in words, in English and Chinese; null when the job runs only on demand."
  scheduleText: ScheduleText
  "When this process's scheduler runs the job next; null when it does not schedule it (no schedule, --no-schedule, or not a serving process)."
  nextRunAt: DateTime
  lastRun: SyncRun
}
"""The sync scheduler of the process answering: whether it ticks, and when each job runs next."""
type SyncSchedulerStatus {
  "Whether this process runs scheduled sync jobs (crmlink serve or demo, without --no-schedule)."
  running: Boolean!
  "The soonest next run of any job."
  nextRunAt: DateTime
  jobs: [ScheduledSyncJob!]!
}
type ScheduledSyncJob {
  job: String!
  schedule: String!
  nextRunAt: DateTime
  "A run of this job started by the scheduler is under way."
  runningNow: Boolean!
}
type ScheduleText {
  en: String!
  zh: String!
}
type SyncRun {
  id: ID!
  job: String!
  status: SyncRunStatus!
  dryRun: Boolean!
  startedAt: DateTime!
  endedAt: DateTime
  "The run's report; null while it runs and for a run skipped or abandoned (error says why)."
  stats: SyncRunReport
  error: String
}
type ParkedRecord {
  id: ID!
  job: String!
  entity: String!
  source: String!
  sourceKey: String
  recordId: ID
  direction: ParkDirection!
  code: String!
  message: String!
  attempts: Int!
  status: ParkedStatus!
  createdAt: DateTime!
  updatedAt: DateTime!
}
enum ConflictStatus {
  OPEN
  RESOLVED
  ALL
}
type ConflictSide {
  "hub, or a source name"
  side: String!
  value: JSON
}
type Conflict {
  id: ID!
  job: String!
  entity: String!
  recordId: ID!
  field: String!
  base: JSON
  values: [ConflictSide!]!
  rule: String!
  reason: String!
  status: ConflictState!
  "How it was decided: { keep, value }."
  resolution: JSON
  resolvedBy: String
  createdAt: DateTime!
  resolvedAt: DateTime
}
type ConflictEdge {
  cursor: String!
  node: Conflict!
}
type ConflictConnection {
  edges: [ConflictEdge!]!
  nodes: [Conflict!]!
  pageInfo: PageInfo!
  totalCount: Int!
}
`,
  query: [
    '  "Configured source systems."\n  sources: [Source!]!',
    '  "Configured sync jobs."\n  syncJobs: [SyncJob!]!',
    '  "The sync scheduler of this process."\n  syncScheduler: SyncSchedulerStatus!',
    '  "Run history, newest first."\n  syncRuns(job: String, first: Int = 20): [SyncRun!]!',
    '  "Records sync could not apply, waiting for a fix or a retry."\n  parkedRecords(job: String, status: ParkedStatusFilter = PARKED, first: Int = 50): [ParkedRecord!]!',
    '  "Field conflicts, oldest first."\n  conflicts(status: ConflictStatus = OPEN, entity: String, job: String, first: Int = 50, after: String): ConflictConnection!',
  ],
  mutation: [
    '  "Decide a conflict: keep one side\'s value (hub or a source name), or give the value."\n  resolveConflict(id: ID!, keep: String, value: JSON): Conflict!',
    '  "Run a sync job now; dryRun returns the plan and changes nothing."\n  runSyncJob(job: String!, dryRun: Boolean = false): SyncRunReport!',
  ],
};

interface ConflictRow {
  id: number;
  job: string;
  entity: string;
  gid: string;
  field: string;
  base: string | null;
  values: string;
  rule: string;
  reason: string;
  status: string;
  resolution: string | null;
  resolved_by: string | null;
  created_at: string;
  resolved_at: string | null;
}

function parseJson(s: string | null): unknown {
  if (s === null) return null;
  try {
    return JSON.parse(s) as unknown;
  } catch {
    return s;
  }
}

function conflictView(r: ConflictRow) {
  const values = (parseJson(r.values) ?? {}) as Record<string, unknown>;
  return {
    id: String(r.id),
    job: r.job,
    entity: r.entity,
    recordId: r.gid,
    field: r.field,
    base: parseJson(r.base),
    values: Object.entries(values).map(([side, value]) => ({ side, value })),
    rule: r.rule,
    reason: r.reason,
    status: r.status,
    resolution: parseJson(r.resolution),
    resolvedBy: r.resolved_by,
    createdAt: r.created_at,
    resolvedAt: r.resolved_at,
  };
}

/** A conflict record as the Conflict type. */
export function recordView(c: ConflictRecord) {
  return {
    id: String(c.id),
    job: c.job,
    entity: c.entity,
    recordId: c.gid,
    field: c.field,
    base: c.base ?? null,
    values: Object.entries(c.values).map(([side, value]) => ({ side, value })),
    rule: c.rule,
    reason: c.reason,
    status: c.status,
    resolution: c.resolution,
    resolvedBy: c.resolvedBy,
    createdAt: c.createdAt,
    resolvedAt: c.resolvedAt,
  };
}

/**
 * A value given to resolve a conflict, through the checks a mutation's value goes through (lengths,
 * formats, decimals, read-only fields, the columns of the systems it goes to). A conflict that
 * does not exist or is about no field is left to resolveConflict, which says why. `asText`: the
 * value was typed on a command line, so it is first read as the field's type (the model's rule).
 */
async function checkedResolution(rt: Runtime, id: number, value: unknown, asText: boolean): Promise<CrmValue> {
  const c = await getConflict(rt.app, id);
  if (!c || !isEntityName(c.entity)) return value as CrmValue;
  const fields = rt.fields(c.entity);
  const field = fields.find((f) => f.name === c.field);
  if (!field) return value as CrmValue;
  if (value !== null && typeof value === 'object') {
    throw new CrmlinkError('VALIDATION_FAILED', `value: ${c.entity}.${c.field} takes one value, not a list or an object`, { entity: c.entity, field: c.field });
  }
  let given = value as CrmValue;
  if (asText) {
    try {
      given = coerceValue(field, given);
    } catch (err) {
      if (err instanceof ValueError) throw new CrmlinkError('VALIDATION_FAILED', `value: ${c.entity}.${c.field}: ${err.message}`, { entity: c.entity, field: c.field });
      throw err;
    }
  }
  const values = validateInput(c.entity, fields, { [c.field]: given }, 'update');
  await checkTargetColumns(rt, c.entity, values, 'update');
  return values[c.field] ?? null;
}

/**
 * Decide a conflict, a given value checked as a mutation's would be: the one way GraphQL and the
 * CLI resolve conflicts. `valueAsText`: the value is command-line text, read as the field's type.
 */
export async function resolveConflictChecked(
  rt: Runtime,
  id: number,
  opts: { keep: string; value?: unknown; actor: string; valueAsText?: boolean },
): Promise<ConflictRecord> {
  return resolveConflict(rt.app, id, {
    keep: opts.keep,
    ...(opts.value !== undefined ? { value: await checkedResolution(rt, id, opts.value, opts.valueAsText ?? false) } : {}),
    actor: opts.actor,
  });
}

export function opsResolvers(rt: Runtime): { types: Record<string, Record<string, Resolver>>; query: Record<string, Resolver>; mutation: Record<string, Resolver> } {
  const app = rt.app;
  const admin = (ctx: CrmContext, what: string) => requireAdmin(scope(rt, ctx).viewer, what);
  const scheduledJobs = () => app.scheduler?.jobs() ?? [];

  const query: Record<string, Resolver> = {
    sources: (_p, _a, ctx) => {
      admin(ctx, 'list sources');
      return app.sources.names().map((name) => {
        const config = app.sources.config(name);
        // A file or plugin source has a connector instead of a SQL dialect: it names what it speaks.
        return { name, ...config, dialect: config.dialect ?? config.connector ?? 'unknown' };
      });
    },
    syncJobs: (_p, _a, ctx) => {
      admin(ctx, 'list sync jobs');
      return Object.entries(app.config.sync.jobs).map(([name, j]) => ({
        name,
        ...j,
        schedule: j.schedule ?? null,
        scheduleText: j.schedule ? { en: describeSchedule(j.schedule, 'en'), zh: describeSchedule(j.schedule, 'zh') } : null,
      }));
    },
    syncScheduler: (_p, _a, ctx) => {
      admin(ctx, 'read the sync scheduler');
      const jobs = scheduledJobs().map((j) => ({ job: j.job, schedule: j.schedule, nextRunAt: j.nextRun, runningNow: j.running }));
      const next = jobs.map((j) => j.nextRunAt).filter((d): d is Date => d !== null).sort((a, b) => a.getTime() - b.getTime())[0] ?? null;
      return { running: app.scheduler !== undefined, nextRunAt: next, jobs };
    },
    syncRuns: async (_p, a, ctx) => {
      admin(ctx, 'read sync runs');
      return listRuns(app, { ...(a.job ? { job: String(a.job) } : {}), limit: Number(a.first ?? 20) });
    },
    parkedRecords: async (_p, a, ctx) => {
      admin(ctx, 'read parked records');
      const status = String(a.status ?? 'parked');
      if (status !== 'parked' && status !== 'resolved' && status !== 'all') {
        throw new CrmlinkError('VALIDATION_FAILED', `status: expected PARKED, RESOLVED or ALL`, { field: 'status' });
      }
      const rows = await listParked(app, { ...(a.job ? { job: String(a.job) } : {}), status, limit: Number(a.first ?? 50) });
      return rows.map((r) => ({ ...r, id: String(r.id), recordId: r.gid }));
    },
    conflicts: async (_p, a, ctx) => {
      admin(ctx, 'read conflicts');
      const first = Math.min(Math.max(Number(a.first ?? 50), 0), 1000);
      const status = String(a.status ?? 'OPEN');
      const sig = 'conflicts:id';
      const base = app.hub.knex(T.conflict).modify((b) => {
        if (status !== 'ALL') b.where('status', status.toLowerCase());
        if (a.entity) b.where('entity', String(a.entity));
        if (a.job) b.where('job', String(a.job));
      });
      const totalRow = (await base.clone().count({ n: '*' })) as { n: unknown }[];
      const page = base.clone().orderBy('id', 'asc').limit(first + 1);
      if (a.after) page.where('id', '>', decodeNumberCursor(String(a.after), sig, 'after'));
      const rows = (await page) as ConflictRow[];
      const nodes = rows.slice(0, first).map(conflictView);
      return {
        edges: nodes.map((n) => ({ cursor: encodeCursor(sig, [Number(n.id)]), node: n })),
        nodes,
        totalCount: Number(totalRow[0]?.n ?? 0),
        pageInfo: {
          hasNextPage: rows.length > first,
          hasPreviousPage: !!a.after,
          startCursor: nodes[0] ? encodeCursor(sig, [Number(nodes[0].id)]) : null,
          endCursor: nodes.length ? encodeCursor(sig, [Number(nodes[nodes.length - 1].id)]) : null,
        },
      };
    },
  };

  const mutation: Record<string, Resolver> = {
    resolveConflict: async (_p, a, ctx) => {
      admin(ctx, 'resolve conflicts');
      const viewer = scope(rt, ctx).viewer;
      requireWrite(viewer, 'resolve conflicts');
      const id = Number(a.id);
      if (!Number.isInteger(id)) throw new CrmlinkError('VALIDATION_FAILED', `id: "${String(a.id)}" is not a conflict id`, { field: 'id' });
      const keep = a.keep === undefined || a.keep === null ? (a.value !== undefined ? 'value' : undefined) : String(a.keep);
      if (!keep) throw new CrmlinkError('VALIDATION_FAILED', 'pass keep ("hub" or a source name) or value', { field: 'keep' });
      const resolved = await resolveConflictChecked(rt, id, {
        keep,
        ...(a.value !== undefined ? { value: a.value } : {}),
        actor: `${viewer.user} (${viewer.role})`,
      });
      return recordView(resolved);
    },
    runSyncJob: async (_p, a, ctx) => {
      admin(ctx, 'run sync jobs');
      requireWrite(scope(rt, ctx).viewer, 'run sync jobs');
      if (!hasOwnKey(app.config.sync.jobs, String(a.job))) {
        throw new CrmlinkError('VALIDATION_FAILED', `job: unknown sync job "${String(a.job)}" (declared: ${Object.keys(app.config.sync.jobs).join(', ') || 'none'})`, { field: 'job' });
      }
      return runJob(app, String(a.job), { dryRun: Boolean(a.dryRun) });
    },
  };

  const types: Record<string, Record<string, Resolver>> = {
    Source: {
      health: (src) => sourceHealth(app, (src as { name: string }).name),
    },
    SyncJob: {
      nextRunAt: (j) => scheduledJobs().find((s) => s.job === (j as { name: string }).name)?.nextRun ?? null,
      lastRun: async (j) => (await listRuns(app, { job: (j as { name: string }).name, limit: 1 }))[0] ?? null,
    },
    SyncRun: {
      id: (r) => String((r as { id: number }).id),
      error: (r) => (r as { error: string | null }).error,
      stats: (r) => {
        const stats = (r as { stats: unknown }).stats;
        return isReport(stats) ? stats : null;
      },
    },
    SyncRunReport: reportResolvers,
    PlannedWrite: { recordId: (w) => (w as { gid: string | null }).gid },
    PlannedConflict: { recordId: (c) => (c as { gid: string | null }).gid },
  };
  return { types, query, mutation };
}

/** Jobs, runs, parked records, conflicts and sources, as a part of the API. */
export const syncOpsModule: SchemaModule = { typeDefs: OPS_TYPEDEFS, resolvers: opsResolvers, scalars: { JSON: JSONScalar }, enums: enumResolvers(SYNC_ENUMS) };

/** SyncRunReport over a RunReport: its maps (per source, per target) as lists. */
export const reportResolvers: Record<string, Resolver> = {
  runId: (r) => ((r as RunReport).runId === null ? null : String((r as RunReport).runId)),
  sources: (r) => Object.entries((r as RunReport).sources).map(([source, stats]: [string, SourceStats]) => ({ source, ...stats })),
  plan: (r) => {
    const plan = (r as RunReport).plan;
    return plan ? Object.entries(plan).map(([target, p]: [string, TargetPlan]) => ({ target, ...p })) : null;
  },
};

/**
 * Whether a recorded run's stats are a whole run report: a skipped run records only { reason },
 * a run still running or abandoned nothing.
 */
function isReport(stats: unknown): stats is RunReport {
  const r = stats as Partial<RunReport> | null;
  return !!r && typeof r === 'object' && typeof r.job === 'string' && typeof r.sources === 'object' && r.sources !== null && typeof r.totals === 'object' && r.totals !== null;
}
