/**
 * `crmlink conflicts list|resolve`: the conflicts sync could not decide by policy, and deciding
 * them. A resolution is written to the golden record and pushed on the job's next run. Exit codes:
 * 0 ok, 1 the resolution was refused (already resolved, bad value), 2 bad usage.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { CrmlinkError } from '../../core/errors.js';
import { isEntityName } from '../../model/entities.js';
import type { ConflictRecord } from '../../sync/index.js';
import { EXIT, ExitCode } from '../exit-codes.js';
import { defaultActor, withApp, type AppCliContext, type AppCommandOptions } from '../context.js';
import { configCommand } from '../options.js';

/** The sync engine loads with the first command that uses it, not with `--help`. */
const engine = () => import('../../sync/index.js');

export type ConflictsCliContext = AppCliContext;

type CommonOptions = Omit<AppCommandOptions, 'actor'>;

function conflictId(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('expected a conflict id (a positive whole number)');
  return Number(value);
}

function status(value: string): 'open' | 'resolved' | 'all' {
  if (value !== 'open' && value !== 'resolved' && value !== 'all') throw new InvalidArgumentError('expected open, resolved or all');
  return value;
}

export function register(program: Command, ctx: ConflictsCliContext): void {
  const conflicts = program.command('conflicts').description('List and resolve sync conflicts');

  configCommand(conflicts, 'list', 'Conflicts, open ones by default')
    .option('--entity <entity>', 'only this entity, e.g. Customer')
    .option('--job <job>', 'only conflicts raised by this job')
    .option('--status <status>', 'open | resolved | all (default open)', status)
    .option('--json', 'print JSON')
    .action(async (opts: CommonOptions & { entity?: string; job?: string; status?: 'open' | 'resolved' | 'all' }) => {
      await withApp(ctx, opts, async (app) => {
        const list = await (await engine()).listConflicts(app, { entity: opts.entity, job: opts.job, status: opts.status });
        // The record's code and name, what a steward recognises, beside the internal id.
        const labels = new Map<string, string>();
        for (const entity of new Set(list.map((c) => c.entity))) {
          if (!isEntityName(entity)) continue;
          const records = await app.hub.getMany(entity, [...new Set(list.filter((c) => c.entity === entity).map((c) => c.gid))]);
          for (const [gid, r] of records) labels.set(`${entity}|${gid}`, [r.values.code, r.values.name].filter((v) => v !== null && v !== undefined && v !== '').join(' '));
        }
        if (opts.json) return ctx.out(JSON.stringify(list.map((c) => ({ ...c, record: labels.get(`${c.entity}|${c.gid}`) ?? null })), null, 2));
        if (list.length === 0) return ctx.out('no conflicts');
        ctx.out(list.map((c) => formatConflict(c, labels.get(`${c.entity}|${c.gid}`))).join('\n\n'));
      });
    });

  configCommand(conflicts, 'resolve', 'Decide a conflict: keep the hub value, a source\'s value, or give one')
    .argument('<id>', 'conflict id', conflictId)
    .option('--keep <side>', 'hub, or the name of a source whose value wins')
    .option('--value <value>', 'use this value instead')
    .option('--actor <name>', 'who decides (audit log; default cli:<user>)')
    .option('--json', 'print the resolved conflict as JSON')
    .action(async (id: number, opts: CommonOptions & { keep?: string; value?: string; actor?: string }) => {
      if ((opts.keep === undefined) === (opts.value === undefined)) {
        (ctx.err ?? ctx.out)('error: give exactly one of --keep hub|SOURCE or --value V');
        throw new ExitCode(EXIT.usage);
      }
      await withApp(ctx, opts, async (app) => {
        try {
          // Through the checks a GraphQL resolveConflict makes (lengths, formats, the target columns).
          const [{ Runtime }, { resolveConflictChecked }] = await Promise.all([import('../../schema/runtime.js'), import('../../ops/sync-ops.js')]);
          const done = await resolveConflictChecked(new Runtime(app), id, {
            keep: opts.keep ?? 'value',
            ...(opts.value !== undefined ? { value: opts.value, valueAsText: true } : {}),
            actor: opts.actor ?? defaultActor(),
          });
          ctx.out(opts.json ? JSON.stringify(done, null, 2) : `conflict #${id} resolved: ${done.entity} ${done.gid}.${done.field} = ${JSON.stringify(done.resolution?.value ?? null)} (pushed on the next run)`);
        } catch (err) {
          if (err instanceof CrmlinkError && err.kind === 'user') {
            (ctx.err ?? ctx.out)(`error [${err.code}]: ${err.message}`);
            throw new ExitCode(EXIT.failed);
          }
          throw err;
        }
      });
    });
}

export function formatConflict(c: ConflictRecord, label?: string): string {
  const sides = Object.entries(c.values)
    .map(([side, v]) => `    ${side.padEnd(12)} ${JSON.stringify(v)}`)
    .join('\n');
  return [
    `#${c.id}  ${c.entity} ${label ? `${label} (${c.gid})` : c.gid}  field ${c.field}  [${c.status}]  rule ${c.rule}  (job ${c.job}, ${c.createdAt})`,
    `    ${'base'.padEnd(12)} ${c.base === undefined ? '(none)' : JSON.stringify(c.base)}`,
    sides,
    `  ${c.reason}`,
    ...(c.resolution ? [`  resolved by ${c.resolvedBy ?? '?'}: keep ${c.resolution.keep ?? '-'} = ${JSON.stringify(c.resolution.value)}`] : []),
  ].join('\n');
}
