/**
 * What the operations console (console/, served at /console) needs beyond the ops fields of
 * ops.ts: who the caller is, the merge candidates of identity/ (list, accept, reject), merges of a
 * customer and unmerge, retrying a job's parked records, testing one source on demand, and when
 * each source was last read successfully.
 *
 * Deciding stays where it lives: identity/ merges and unmerges, sync/ retries. Every field needs a
 * role with `admin: true`; every mutation except testSource also needs `write: true` (an
 * "operator": see docs/console.md). `viewer` is open to every authenticated caller, so the page
 * can tell a read-only or refused role why.
 *
 * @example
 *   mutation { acceptMergeCandidate(id: "3", survivor: "cus_0001") { mergeId survivor merged } }
 */
import { resolve } from 'node:path';
import { resolveConfigPath } from '../config/load.js';
import { CrmlinkError, ValidationError } from '../core/errors.js';
// files.js and status.js only: reading manifests needs none of the backup drivers.
import { listBackups } from '../hub/backup/files.js';
import { backupStatus } from '../hub/backup/status.js';
import { hasOwnKey } from '../core/own.js';
import { SYSTEM_TABLES as T } from '../hub/tables.js';
import { acceptCandidate, CANDIDATE_STATUSES, KEY_FIELDS, identityConfig, listCandidates, listMerges, rejectCandidate, unmergeRecords, type CandidateStatus, type CandidateView } from '../identity/index.js';
import { retryParked } from '../sync/engine.js';
import { sourceHealth } from '../schema/source-health.js';
import type { ExtraTypeDefs, Resolver, SchemaModule } from '../schema/module.js';
import type { Runtime } from '../schema/runtime.js';
import { anonymousViewer, requireAdmin, requireWrite, type Viewer } from '../schema/security.js';
import type { CrmContext } from '../schema/resolvers.js';
import { codeEnum, enumResolvers } from '../schema/enums.js';
import { scalarOf } from '../schema/typedefs.js';
import { MODEL } from '../model/entities.js';
import { BACKUP_LABELS } from '../hub/backup/files.js';

/** The closed sets of the console's part of the API (see schema/enums.ts). */
const CUSTOMER_SCOPE = codeEnum('CustomerScope', ['all', 'team', 'own'], "Which customers a role sees: ALL, its TEAM's (Customer.ownerTeam) or its OWN (Customer.ownerId).");
const CANDIDATE_STATUS = codeEnum('MergeCandidateStatus', CANDIDATE_STATUSES, 'OPEN waits for a decision; SUPERSEDED: one of the two records was merged or deleted meanwhile.');
const CANDIDATE_FILTER = codeEnum('MergeCandidateStatusFilter', [...CANDIDATE_STATUSES, 'all'], 'Which merge candidates to list.');
const MERGE_DECISION = codeEnum('MergeDecision', ['same', 'filled', 'chosen', 'rule', 'conflict'], 'How a merge settled a field (docs/identity.md).');
const BACKUP_LABEL = codeEnum('BackupLabel', BACKUP_LABELS, 'Why a backup was taken.');
const HUB_KIND = codeEnum('HubKind', ['sqlite', 'postgres'], "The hub's database.");
const CONSOLE_ENUMS = [CUSTOMER_SCOPE, CANDIDATE_STATUS, CANDIDATE_FILTER, MERGE_DECISION, BACKUP_LABEL, HUB_KIND];

/** The key fields a merge candidate shows, typed as the Customer fields they are. */
const CANDIDATE_VALUES = MODEL.Customer.fields.filter((f) => KEY_FIELDS.includes(f.name));


export const CONSOLE_TYPEDEFS: ExtraTypeDefs = {
  types: /* GraphQL */ `
${CONSOLE_ENUMS.map((e) => e.sdl).join('\n')}
"""The key fields of a merge candidate's record."""
type MergeCandidateValues {
${CANDIDATE_VALUES.map((f) => `  ${f.name}: ${scalarOf('Customer', f)}`).join('\n')}
}
"""A field a merge makes differ from what a source record holds."""
type MergeWriteField {
  field: String!
  "What the source holds (a value of the field's type)."
  from: JSON
  "What the next sync run writes."
  to: JSON
}
"""The caller, as authentication saw it, and what its role allows."""
type Viewer {
  user: String!
  role: String!
  team: String
  "Which customers the role sees."
  customers: CustomerScope!
  "May read operations data (sources, jobs, conflicts, merge candidates)."
  admin: Boolean!
  "May change data: resolve, run, merge, retry."
  write: Boolean!
}
"""When a source was last read by a sync run that finished (ok or partial)."""
type SourceActivity {
  source: String!
  lastReadAt: DateTime
  "Seconds since that read: how far behind the source the hub's copy may be (changes made since are not in it yet). Null when never read."
  lagSeconds: Float
  "Jobs that read this source."
  jobs: [String!]!
}
type SourceTest {
  source: String!
  ok: Boolean!
  latencyMs: Float!
  version: String
  error: String
  testedAt: DateTime!
}
type SourceKey {
  source: String!
  key: String!
}
"""One record of a merge candidate pair, with the key fields shown side by side."""
type MergeCandidateSide {
  id: ID!
  exists: Boolean!
  mergedInto: ID
  deleted: Boolean!
  values: MergeCandidateValues!
  sourceKeys: [SourceKey!]!
}
type MergeCandidate {
  id: ID!
  entity: String!
  "0…1: how sure the rule is."
  score: Float!
  rule: String!
  reason: String!
  status: MergeCandidateStatus!
  createdAt: DateTime!
  decidedAt: DateTime
  decidedBy: String
  a: MergeCandidateSide!
  b: MergeCandidateSide!
}
type MergeOutcome {
  "0 for a dry run."
  mergeId: ID!
  survivor: ID!
  merged: ID!
  sourceKeys: [SourceKey!]!
  movedKeys: [SourceKey!]!
  changedFields: [String!]!
  "Every field either record has a value for: what survived, from which source, and why (docs/identity.md)."
  fields: [MergeField!]!
  "Fields left as open conflicts (kept as the survivor has them, pushed nowhere)."
  conflicts: [String!]!
  "What the next sync run writes to each source record because of the merge."
  writes: [MergeWrite!]!
  "Nothing was changed."
  dryRun: Boolean!
}
"The person's choice for one field the two records disagree on: side is survivor, merged or a source name."
input MergeChoice {
  field: String!
  side: String!
}
type MergeField {
  field: String!
  survivorValue: JSON
  mergedValue: JSON
  value: JSON
  source: String
  decision: MergeDecision!
  reason: String!
}
type MergeWrite {
  source: String!
  key: String!
  fields: [MergeWriteField!]!
}
type CustomerMerge {
  id: ID!
  survivor: ID!
  survivorName: String
  merged: ID!
  mergedName: String
  at: DateTime!
  by: String!
  undoneAt: DateTime
}
type UnmergeOutcome {
  mergeId: ID!
  survivor: ID!
  restored: ID!
  "Changes made after the merge that the unmerge kept."
  kept: [String!]!
}
"""A complete hub backup, as its manifest describes it (docs/backups.md)."""
type HubBackup {
  file: String!
  at: DateTime!
  "Size of the data file in bytes."
  size: Float!
  label: BackupLabel!
  hubKind: HubKind!
  sha256: String!
}
"""The hub's backups: the newest, and whether it is too old (hub.backup.staleAfterHours)."""
type HubBackups {
  last: HubBackup
  count: Int!
  "No backup newer than staleAfterHours; false when no backup is expected (no schedule, no staleAfterHours)."
  stale: Boolean!
  staleAfterHours: Float
  "hub.backup.schedule (cron), when backups run on a schedule."
  schedule: String
}
type RetryParkedOutcome {
  retried: Int!
  resolved: Int!
  remaining: Int!
  "The run report of the retry."
  report: SyncRunReport!
}
`,
  query: [
    '  "Who is calling and what the role allows (any authenticated caller)."\n  viewer: Viewer!',
    '  "Per source, when a sync run last read it successfully."\n  sourceActivity: [SourceActivity!]!',
    '  "Merge candidates of customers, best score first. "\n  mergeCandidates(status: MergeCandidateStatusFilter = OPEN, first: Int = 50, offset: Int = 0): [MergeCandidate!]!',
    '  "The newest hub backup in hub.backup.dir and whether it is stale."\n  hubBackups: HubBackups!',
    '  "Merges a customer took part in (as survivor or merged), newest first."\n  customerMerges(customerId: ID!, includeUndone: Boolean = false): [CustomerMerge!]!',
  ],
  mutation: [
    '  "Connect to one source and run a trivial query now."\n  testSource(name: String!): SourceTest!',
    '  "Merge the pair of an open candidate; survivor is one of its two ids (default: the first). choose decides fields the two disagree on; others follow the job\'s conflict policy (manual: open conflicts). dryRun: show what would happen, change nothing."\n  acceptMergeCandidate(id: ID!, survivor: ID, choose: [MergeChoice!], dryRun: Boolean = false): MergeOutcome!',
    '  "Mark an open candidate as two different customers; it is not proposed again."\n  rejectMergeCandidate(id: ID!): MergeCandidate!',
    '  "Undo a merge: by mergeId, or by customerId (the merged record, or a survivor with exactly one merge)."\n  unmergeCustomer(mergeId: ID, customerId: ID): UnmergeOutcome!',
    '  "Try a job\'s parked records again."\n  retryParked(job: String!): RetryParkedOutcome!',
  ],
};

/** The caller; without use-auth (direct execution) the configured anonymous role. */
function viewerOf(rt: Runtime, ctx: CrmContext): Viewer {
  return ctx.viewer ?? anonymousViewer(rt.app.config);
}

const actorOf = (v: Viewer) => `${v.user} (${v.role})`;

function intId(v: unknown, what: string, field: string): number {
  const n = Number(v);
  if (v === null || v === undefined || String(v).trim() === '' || !Number.isSafeInteger(n) || n <= 0) {
    throw new ValidationError(`${field}: "${String(v)}" is not a ${what} id`, { field });
  }
  return n;
}

function candidateView(c: CandidateView) {
  const side = (s: CandidateView['a']) => ({
    id: s.id,
    exists: s.exists,
    mergedInto: s.mergedInto,
    deleted: s.deleted,
    values: s.values,
    sourceKeys: s.sources.map((k) => ({ source: k.source, key: k.sourceKey })),
  });
  return { ...c, id: String(c.id), a: side(c.a), b: side(c.b) };
}

export function consoleResolvers(rt: Runtime): { query: Record<string, Resolver>; mutation: Record<string, Resolver> } {
  const app = rt.app;
  const admin = (ctx: CrmContext, what: string): Viewer => {
    const v = viewerOf(rt, ctx);
    requireAdmin(v, what);
    return v;
  };
  const operator = (ctx: CrmContext, what: string): Viewer => {
    const v = admin(ctx, what);
    requireWrite(v, what);
    return v;
  };

  const query: Record<string, Resolver> = {
    viewer: (_p, _a, ctx) => {
      const v = viewerOf(rt, ctx);
      return { user: v.user, role: v.role, team: v.team ?? null, customers: v.customers, admin: v.admin, write: v.write };
    },
    sourceActivity: async (_p, _a, ctx) => {
      admin(ctx, 'read source activity');
      const jobs = Object.entries(app.config.sync.jobs);
      // The newest finished run of each job that read anything; a source's last read is the
      // newest such run among the jobs reading it whose stats list the source.
      const last = new Map<string, string>();
      for (const [job] of jobs) {
        const runs = (await app.hub
          .knex(T.run)
          .where({ job })
          .whereIn('status', ['ok', 'partial'])
          .orderBy('id', 'desc')
          .limit(1)
          .select('ended_at', 'stats')) as { ended_at: string | null; stats: string | null }[];
        const r = runs[0];
        if (!r?.ended_at) continue;
        let sources: string[] = [];
        try {
          sources = Object.keys((JSON.parse(r.stats ?? '{}') as { sources?: Record<string, unknown> }).sources ?? {});
        } catch {
          sources = [];
        }
        for (const s of sources) if ((last.get(s) ?? '') < r.ended_at) last.set(s, r.ended_at);
      }
      const now = Date.now();
      return app.sources.names().map((source) => ({
        source,
        lastReadAt: last.get(source) ?? null,
        lagSeconds: last.has(source) ? Math.max(0, (now - Date.parse(last.get(source) ?? '')) / 1000) : null,
        jobs: jobs.filter(([, j]) => j.sources.includes(source)).map(([name]) => name),
      }));
    },
    mergeCandidates: async (_p, a, ctx) => {
      admin(ctx, 'read merge candidates');
      const status = String(a.status ?? 'open');
      if (status !== 'all' && !CANDIDATE_STATUSES.includes(status as CandidateStatus)) {
        throw new ValidationError(`status: expected ${Object.keys(CANDIDATE_FILTER.values).join(', ')}`, { field: 'status' });
      }
      const first = Math.min(Math.max(Number(a.first ?? 50), 0), 500);
      const offset = Math.max(Number(a.offset ?? 0), 0);
      const list = await listCandidates(app.hub, { entity: 'Customer', status: status as CandidateStatus | 'all', limit: first, offset });
      return list.map(candidateView);
    },
    hubBackups: async (_p, _a, ctx) => {
      admin(ctx, 'read hub backups');
      const settings = app.config.hub.backup;
      const dir = app.loaded ? resolveConfigPath(app.loaded, settings.dir) : resolve(settings.dir);
      const status = backupStatus(await listBackups(dir), settings);
      const m = status.last?.manifest;
      return {
        last: m ? { file: m.file, at: m.createdAt, size: m.sizeBytes, label: m.label, hubKind: m.hubKind, sha256: m.sha256 } : null,
        count: status.count,
        stale: status.stale,
        staleAfterHours: status.staleAfterHours,
        schedule: settings.schedule ?? null,
      };
    },
    customerMerges: async (_p, a, ctx) => {
      admin(ctx, 'read merges');
      const rows = await listMerges(app.hub, { entity: 'Customer', gid: String(a.customerId), includeUndone: Boolean(a.includeUndone) });
      // Names from the hub itself: a merged record is no longer listed by the API, but is kept.
      const recs = await app.hub.getMany('Customer', [...new Set(rows.flatMap((m) => [m.survivor, m.merged]))]);
      const nameOf = (gid: string) => {
        const n = recs.get(gid)?.values.name;
        return typeof n === 'string' ? n : null;
      };
      return rows.map((m) => ({ ...m, id: String(m.id), survivorName: nameOf(m.survivor), mergedName: nameOf(m.merged) }));
    },
  };

  const mutation: Record<string, Resolver> = {
    testSource: async (_p, a, ctx) => {
      admin(ctx, 'test sources');
      const name = String(a.name);
      if (!app.sources.names().includes(name)) {
        throw new ValidationError(`name: unknown source "${name}" (configured: ${app.sources.names().join(', ') || 'none'})`, { field: 'name', setting: 'sources' });
      }
      return { source: name, ...(await sourceHealth(app, name)), testedAt: new Date().toISOString() };
    },
    acceptMergeCandidate: async (_p, a, ctx) => {
      const v = operator(ctx, 'accept merge candidates');
      const id = intId(a.id, 'merge candidate', 'id');
      // Survivorship and the job's conflict policies as configured, like `crmlink customers merge`.
      const ids = identityConfig(app.config, 'Customer');
      // Object.fromEntries defines own properties: a field named __proto__ is just an unknown field (refused).
      const choose = Array.isArray(a.choose) ? Object.fromEntries((a.choose as { field: string; side: string }[]).map((c) => [String(c.field), String(c.side)])) : undefined;
      const r = await acceptCandidate(app.hub, id, actorOf(v), {
        rules: ids.survivorship,
        policies: ids.conflicts,
        job: ids.job,
        choose,
        dryRun: a.dryRun === true,
        ...(a.survivor ? { survivor: String(a.survivor) } : {}),
      });
      const keys = (l: { source: string; sourceKey: string }[]) => l.map((k) => ({ source: k.source, key: k.sourceKey }));
      return {
        mergeId: String(r.mergeId),
        survivor: r.survivor.id,
        merged: r.merged.id,
        sourceKeys: keys(r.sourceKeys),
        movedKeys: keys(r.movedKeys),
        changedFields: r.changedFields,
        fields: r.fields.map((f) => ({ field: f.field, survivorValue: f.survivor, mergedValue: f.merged, value: f.value, source: f.source, decision: f.decision, reason: f.reason })),
        conflicts: r.conflicts,
        writes: r.writes.map((w) => ({ source: w.source, key: w.sourceKey, fields: Object.entries(w.fields).map(([field, c]) => ({ field, from: c.from, to: c.to })) })),
        dryRun: r.dryRun,
      };
    },
    rejectMergeCandidate: async (_p, a, ctx) => {
      const v = operator(ctx, 'reject merge candidates');
      return candidateView(await rejectCandidate(app.hub, intId(a.id, 'merge candidate', 'id'), actorOf(v)));
    },
    unmergeCustomer: async (_p, a, ctx) => {
      const v = operator(ctx, 'unmerge customers');
      let mergeId: number;
      if (a.mergeId !== undefined && a.mergeId !== null) {
        mergeId = intId(a.mergeId, 'merge', 'mergeId');
      } else if (a.customerId !== undefined && a.customerId !== null) {
        const gid = String(a.customerId);
        const live = await listMerges(app.hub, { entity: 'Customer', gid });
        const asMerged = live.find((m) => m.merged === gid);
        const asSurvivor = live.filter((m) => m.survivor === gid);
        if (asMerged) mergeId = asMerged.id;
        else if (asSurvivor.length === 1) mergeId = asSurvivor[0].id;
        else if (asSurvivor.length > 1) {
          throw new ValidationError(`customer ${gid} survived ${asSurvivor.length} merges (${asSurvivor.map((m) => m.id).join(', ')}): pass mergeId`, { field: 'mergeId' });
        } else throw new CrmlinkError('NOT_FOUND', `customer ${gid} has no merge to undo`, { entity: 'Customer', key: gid });
      } else {
        throw new ValidationError('pass mergeId or customerId', { field: 'mergeId' });
      }
      const r = await unmergeRecords(app.hub, { entity: 'Customer', mergeId, actor: actorOf(v), rules: identityConfig(app.config, 'Customer').survivorship });
      return { mergeId: String(r.mergeId), survivor: r.survivor.id, restored: r.restored.id, kept: r.kept };
    },
    retryParked: async (_p, a, ctx) => {
      operator(ctx, 'retry parked records');
      const job = String(a.job);
      if (!hasOwnKey(app.config.sync.jobs, job)) {
        throw new ValidationError(`job: unknown sync job "${job}" (declared: ${Object.keys(app.config.sync.jobs).join(', ') || 'none'})`, { field: 'job' });
      }
      const r = await retryParked(app, job);
      return { retried: r.retried, resolved: r.resolved, remaining: r.remaining, report: r.report };
    },
  };
  return { query, mutation };
}

/** The operations console's queries and actions, as a part of the API. */
export const consoleModule: SchemaModule = { typeDefs: CONSOLE_TYPEDEFS, resolvers: consoleResolvers, enums: enumResolvers(CONSOLE_ENUMS) };
