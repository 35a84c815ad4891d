/**
 * `crmlink history <entity> <id>` and `crmlink restore record|undelete|changes|run`: a golden
 * record's versions (记录历史), and restores from them (恢复). A restore is a new version, audited
 * under --actor, and pushed to the sources on the job's next run. Exit codes: 0 ok, 1 the restore
 * was refused (unknown version, record not deleted, ...), 2 bad usage.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { CrmlinkError } from '../../core/errors.js';
import type { App } from '../../app/app.js';
import type { HistoryEntry } from '../../hub/history.js';
import { isEntityName, type EntityName } from '../../model/entities.js';
import type { RecordRestore, RestorePlan } from '../../sync/index.js';
import { EXIT, ExitCode } from '../exit-codes.js';
import { defaultActor, positiveInt, withApp, type AppCliContext, type AppCommandOptions } from '../context.js';
import { CONFIG_FILE_HELP, configCommand } from '../options.js';

/** The sync engine loads with the first command that uses it, not with `--help`. */
const engine = () => import('../../sync/index.js');

export type HistoryCliContext = AppCliContext;

type CommonOptions = AppCommandOptions;

function entityArg(value: string): EntityName {
  if (!isEntityName(value)) throw new InvalidArgumentError('expected an entity name, e.g. Customer');
  return value;
}

type SyncEngine = Awaited<ReturnType<typeof engine>>;

/**
 * One restore command's work: runs `work` with the sync engine and the actor (--actor, else
 * cli:<user>) and prints its result (JSON with --json). A refusal the user can act on is exit
 * code 1 with its message; anything else propagates.
 */
function restoring<R>(ctx: HistoryCliContext, opts: CommonOptions, work: (sync: SyncEngine, app: App, actor: string) => Promise<R>, format: (result: R) => string): Promise<void> {
  return withApp(ctx, opts, async (app) => {
    try {
      const result = await work(await engine(), app, opts.actor ?? defaultActor());
      ctx.out(opts.json ? JSON.stringify(result, null, 2) : format(result));
    } catch (err) {
      if (err instanceof CrmlinkError && err.kind === 'user') {
        (ctx.err ?? ctx.out)(`error [${err.code}]: ${err.message}`);
        throw new ExitCode(EXIT.failed);
      }
      throw err;
    }
  });
}

export function register(program: Command, ctx: HistoryCliContext): void {
  configCommand(program, 'history', 'Versions of a golden record, newest first (记录历史)')
    .argument('<entity>', 'entity, e.g. Customer', entityArg)
    .argument('<id>', 'the record id, e.g. cus_…')
    .option('--first <n>', 'how many versions (default 20)', positiveInt)
    .option('--json', 'print JSON')
    .action(async (entity: EntityName, id: string, opts: CommonOptions & { first?: number }) => {
      await withApp(ctx, opts, async (app) => {
        const list = await app.hub.store.history.list(app.hub.knex, entity, id, { first: opts.first ?? 20 });
        if (opts.json) return ctx.out(JSON.stringify(list, null, 2));
        if (list.length === 0) return ctx.out(`no recorded versions of ${entity} ${id}`);
        ctx.out(list.map(formatVersion).join('\n'));
      });
    });

  const restore = program.command('restore').description('Restore records from their history (恢复)');
  const common = (c: Command) =>
    c
      .option('-c, --config <file>', CONFIG_FILE_HELP)
      .option('--actor <name>', 'who restores (audit log; default cli:<user>)')
      .option('--json', 'print JSON');

  common(
    restore
      .command('record')
      .description('Set a record, or some fields, back to what they were after a version')
      .argument('<entity>', 'entity, e.g. Customer', entityArg)
      .argument('<id>', 'the record id')
      .requiredOption('--to <version>', 'the version to go back to', positiveInt)
      .option('--fields <list>', 'only these fields, comma-separated'),
  ).action(async (entity: EntityName, id: string, opts: CommonOptions & { to: number; fields?: string }) => {
    const fields = opts.fields?.split(',').map((f) => f.trim()).filter((f) => f.length > 0);
    await restoring(ctx, opts, (sync, app, actor) => sync.restoreRecord(app, entity, id, { actor, version: opts.to, ...(fields ? { fields } : {}) }), formatRestore);
  });

  common(
    restore
      .command('undelete')
      .description('Bring a deleted record back; it is re-created in the sources that lost it')
      .argument('<entity>', 'entity, e.g. Customer', entityArg)
      .argument('<id>', 'the record id'),
  ).action(async (entity: EntityName, id: string, opts: CommonOptions) => {
    await restoring(ctx, opts, (sync, app, actor) => sync.undeleteRecord(app, entity, id, { actor }), formatRestore);
  });

  common(
    restore
      .command('changes')
      .description('Undo recorded changes (ids from `crmlink history`) where the record still holds what they wrote')
      .argument('<ids...>', 'change ids', (v: string, prev: number[] = []) => [...prev, positiveInt(v)])
      .option('--dry-run', 'show the plan, change nothing'),
  ).action(async (ids: number[], opts: CommonOptions & { dryRun?: boolean }) => {
    await restoring(ctx, opts, (sync, app, actor) => sync.restoreChanges(app, ids, { actor, dryRun: opts.dryRun ?? false }), formatPlan);
  });

  common(
    restore
      .command('run')
      .description('Undo everything a sync run changed, in the hub and in the sources its push overwrote')
      .argument('<run>', 'the run id (crmlink sync runs)', positiveInt)
      .option('--dry-run', 'show the plan, change nothing')
      .option('--no-sources', 'leave the sources to the next push (do not write their old values back)'),
  ).action(async (run: number, opts: CommonOptions & { dryRun?: boolean; sources?: boolean }) => {
    await restoring(ctx, opts, (sync, app, actor) => sync.restoreRun(app, run, { actor, dryRun: opts.dryRun ?? false, sources: opts.sources !== false }), formatPlan);
  });
}

export function formatVersion(v: HistoryEntry): string {
  const who = [v.actor, v.run !== null ? `run ${v.run}` : null, v.source ? `from ${v.source}` : null].filter(Boolean).join(', ');
  const state = v.deleted ? '  [deleted]' : v.mergedInto ? `  [merged into ${v.mergedInto}]` : '';
  const changes = v.changes.map((c) => `    ${c.field}: ${JSON.stringify(c.before)} → ${JSON.stringify(c.after)}`);
  return [`v${v.version}  #${v.id}  ${v.at}  ${v.action}  by ${who}${state}`, ...changes].join('\n');
}

function formatRestore(r: RecordRestore): string {
  const lines = [
    r.skipped
      ? `${r.entity} ${r.id}: left alone (${r.skipped})`
      : r.version === null
        ? `${r.entity} ${r.id}: nothing to restore${r.fields.length ? ` (would set ${r.fields.join(', ')})` : ''}`
        : `${r.entity} ${r.id}: version ${r.version}${r.fields.length ? `, set back ${r.fields.join(', ')}` : ''}${r.undeleted ? ', undeleted' : ''} (pushed on the next run)`,
  ];
  if (r.recreateIn.length) lines.push(`  re-created in: ${r.recreateIn.join(', ')}`);
  for (const n of r.notRecreated) lines.push(`  not re-created in ${n.source} (${n.key}): ${n.reason}`);
  if (r.changedSince.length) lines.push(`  changed since, left alone: ${r.changedSince.join(', ')}`);
  return lines.join('\n');
}

function formatPlan(p: RestorePlan): string {
  const head = p.dryRun ? 'dry run: nothing changed' : 'restored';
  const sources = p.sources.map((s) => `${s.source} ${s.entity} ${s.key}: ${s.status} (${s.fields.join(', ')})`);
  return [head, ...p.records.map(formatRestore), ...sources].join('\n');
}
