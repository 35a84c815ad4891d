/**
 * `crmlink customers candidates|merge|unmerge|reject`: review merge candidates and merge or
 * unmerge customers from the command line. Exit codes: 0 ok, 1 the work failed (e.g. the merge
 * was refused), 2 bad usage.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { defaultActor, positiveInt, withApp, type AppCliContext, type AppCommandOptions } from '../context.js';
import type { CandidateSide, CandidateView, MergeResult } from '../../identity/index.js';
import { CANDIDATE_STATUSES, type CandidateStatus } from '../../identity/candidate-status.js';
import { configCommand } from '../options.js';

/** Identity loads with the first command that uses it, not with `--help`. */
const identity = () => import('../../identity/index.js');

export type CustomersCliContext = AppCliContext;

type CommonOptions = AppCommandOptions;

function sideText(s: CandidateSide): string {
  const v = s.values;
  const parts = [
    `${s.id}${s.mergedInto ? ` (merged into ${s.mergedInto})` : ''}`,
    `  name:       ${v.name ?? ''}`,
    `  creditCode: ${v.creditCode ?? ''}`,
    `  phone:      ${v.phone ?? ''}`,
    `  email:      ${v.email ?? ''}`,
    `  city:       ${[v.province, v.city].filter((x) => x !== null && x !== undefined && x !== '').join(' ')}`,
    `  sources:    ${s.sources.map((k) => `${k.source}:${k.sourceKey}`).join(', ') || '(hub only)'}`,
  ];
  return parts.join('\n');
}

function candidateText(c: CandidateView): string {
  const left = sideText(c.a).split('\n');
  const right = sideText(c.b).split('\n');
  const width = Math.max(...left.map(displayWidth)) + 4;
  const rows = left.map((l, i) => l + ' '.repeat(Math.max(1, width - displayWidth(l))) + (right[i] ?? ''));
  return `#${c.id}  score ${c.score}  ${c.rule}  [${c.status}]\n  ${c.reason}\n${rows.map((r) => `  ${r}`).join('\n')}`;
}

/** Terminal columns: CJK and full-width characters take two. */
function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    w += (cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf) || (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) || (cp >= 0xffe0 && cp <= 0xffe6) ? 2 : 1;
  }
  return w;
}

/** `--choose email=finance --choose phone=survivor` → { email: 'finance', phone: 'survivor' }. */
function collectChoice(value: string, previous: Record<string, string>): Record<string, string> {
  const at = value.indexOf('=');
  if (at <= 0 || at === value.length - 1) throw new InvalidArgumentError('expected field=side, e.g. email=finance (side: survivor, merged or a source name)');
  return { ...previous, [value.slice(0, at)]: value.slice(at + 1) };
}

/** Every field that moved, with its source and why; the conflicts; what each system will be sent. */
export function mergeText(r: MergeResult, survivor: string, merged: string): string {
  const v = (x: unknown) => JSON.stringify(x);
  const lines = [
    r.dryRun
      ? `dry run: merging ${merged} into ${survivor} would do this (nothing was changed)`
      : `merged ${merged} into ${survivor} (merge ${r.mergeId}; undo with: crmlink customers unmerge --merge-id ${r.mergeId})`,
    `  name: ${r.survivor.values.name ?? ''}`,
    `  source keys: ${r.sourceKeys.map((k) => `${k.source}:${k.sourceKey}`).join(', ') || 'none'}`,
    `  re-pointed: ${Object.entries(r.children).map(([e, n]) => `${n} ${e}`).join(', ') || 'none'}`,
    `  fields changed: ${r.changedFields.join(', ') || 'none'}`,
  ];
  for (const o of r.fields) {
    if (o.decision === 'same') continue;
    const label = { filled: 'filled', chosen: 'chosen', rule: 'decided', conflict: 'CONFLICT', same: '' }[o.decision];
    lines.push(`    ${o.field}: ${label} ${v(o.value)}${o.source ? ` from ${o.source}` : ''}${o.decision === 'filled' ? '' : ` (survivor ${v(o.survivor)}, merged ${v(o.merged)})`} — ${o.reason}`);
  }
  if (r.conflicts.length > 0) {
    const how = r.dryRun ? 'decide them now with --choose field=side' : 'see and resolve them with crmlink conflicts list / resolve';
    lines.push(`  open conflicts: ${r.conflicts.join(', ')} (${how})`);
  }
  lines.push(r.writes.length === 0 ? '  the next sync writes nothing to the sources because of this merge' : '  the next sync writes (where the job may update):');
  for (const w of r.writes) {
    lines.push(`    ${w.source}:${w.sourceKey} ${Object.entries(w.fields).map(([f, c]) => `${f} ${v(c.from)} → ${v(c.to)}`).join(', ')}`);
  }
  return lines.join('\n');
}

export function register(program: Command, ctx: CustomersCliContext): void {
  const customers = program.command('customers').description('Review merge candidates; merge and unmerge customers');

  configCommand(customers, 'candidates', 'List merge candidates (pairs that look like one customer), side by side')
    .option('--find', 'run the match rules over the hub first and record new candidates')
    .option('--auto-merge-sure', 'with --find: merge sure matches (same credit code) instead of listing them')
    .option('--status <status>', `${CANDIDATE_STATUSES.join(' | ')} | all`, 'open')
    .option('--limit <n>', 'at most this many', positiveInt)
    .option('--actor <name>', 'recorded in the audit log for automatic merges')
    .option('--json', 'print JSON')
    .action(async (opts: CommonOptions & { find?: boolean; autoMergeSure?: boolean; status: string; limit?: number }, cmd: Command) => {
      const statuses: readonly string[] = [...CANDIDATE_STATUSES, 'all'];
      if (!statuses.includes(opts.status)) cmd.error(`error: --status must be one of ${statuses.join(', ')}`, { exitCode: 2, code: 'crmlink.usage' });
      if (opts.autoMergeSure && !opts.find) cmd.error('error: --auto-merge-sure needs --find', { exitCode: 2, code: 'crmlink.usage' });
      await withApp(ctx, opts, async (app) => {
        const ids = (await identity()).identityConfig(app.config, 'Customer');
        const found = opts.find
          ? await (await identity()).findCandidates(app.hub, 'Customer', ids.match, {
              autoMergeSure: opts.autoMergeSure,
              actor: opts.actor ?? defaultActor(),
              survivorship: ids.survivorship,
              thresholds: ids.thresholds,
              policies: ids.conflicts,
              job: ids.job,
            })
          : undefined;
        const list = await (await identity()).listCandidates(app.hub, { status: opts.status as CandidateStatus | 'all', limit: opts.limit });
        if (opts.json) {
          ctx.out(
            JSON.stringify(
              {
                ...(found
                  ? {
                      find: {
                        records: found.records,
                        matches: found.matches,
                        inserted: found.inserted,
                        updated: found.updated,
                        skipped: found.skipped,
                        merged: found.merged.map((m) => ({ mergeId: m.mergeId, survivor: m.survivor.id, merged: m.merged.id })),
                        invalid: found.invalid,
                      },
                    }
                  : {}),
                candidates: list,
              },
              null,
              2,
            ),
          );
          return;
        }
        const lines: string[] = [];
        if (found) {
          lines.push(
            `examined ${found.records} customers: ${found.matches} matching pairs, ${found.inserted} new candidates, ` +
              `${found.updated} updated, ${found.skipped} already decided, ${found.merged.length} merged automatically`,
          );
          for (const m of found.merged) lines.push(`  merged ${m.merged.id} into ${m.survivor.id} (merge ${m.mergeId})`);
          for (const i of found.invalid) lines.push(`  invalid credit code on ${i.id}: ${i.value} (${i.reason})`);
        }
        if (list.length === 0) lines.push(`no ${opts.status === 'all' ? '' : `${opts.status} `}merge candidates`);
        for (const c of list) lines.push('', candidateText(c));
        ctx.out(lines.join('\n'));
      });
    });

  configCommand(customers, 'merge', 'Merge customer MERGED into SURVIVOR: source keys, contacts, orders, invoices and approvals move over')
    .argument('<survivor>', 'global id of the customer that stays')
    .argument('<merged>', 'global id of the customer merged into it')
    .option('--actor <name>', 'recorded in the audit log (default cli:<user>)')
    .option('--choose <field=side>', 'the value that survives for a field both records hold differently: survivor, merged or a source name (repeatable)', collectChoice, {})
    .option('--dry-run', 'show what the merge would do and what the next sync would write to each system; change nothing')
    .option('--json', 'print JSON')
    .action(async (survivor: string, merged: string, opts: CommonOptions & { choose: Record<string, string>; dryRun?: boolean }) => {
      await withApp(ctx, opts, async (app) => {
        const ids = (await identity()).identityConfig(app.config, 'Customer');
        const r = await (await identity()).mergeRecords(app.hub, {
          entity: 'Customer',
          survivor,
          merged,
          actor: opts.actor ?? defaultActor(),
          rules: ids.survivorship,
          policies: ids.conflicts,
          job: ids.job,
          choose: opts.choose,
          dryRun: opts.dryRun,
        });
        if (opts.json) {
          ctx.out(JSON.stringify(r, null, 2));
          return;
        }
        ctx.out(mergeText(r, survivor, merged));
      });
    });

  configCommand(customers, 'unmerge', 'Undo a merge: give MERGED back its source keys, children and values')
    .argument('[merged]', 'global id of the merged customer (its latest merge is undone)')
    .option('--merge-id <n>', 'the merge to undo (as printed by merge)', positiveInt)
    .option('--actor <name>', 'recorded in the audit log (default cli:<user>)')
    .option('--json', 'print JSON')
    .action(async (merged: string | undefined, opts: CommonOptions & { mergeId?: number }, cmd: Command) => {
      if ((merged === undefined) === (opts.mergeId === undefined)) {
        cmd.error('error: give either MERGED or --merge-id N (one of them)', { exitCode: 2, code: 'crmlink.usage' });
      }
      await withApp(ctx, opts, async (app) => {
        const actor = opts.actor ?? defaultActor();
        const rules = (await identity()).identityConfig(app.config, 'Customer').survivorship;
        const r =
          opts.mergeId !== undefined
            ? await (await identity()).unmergeRecords(app.hub, { entity: 'Customer', mergeId: opts.mergeId, actor, rules })
            : await (await identity()).unmergeRecords(app.hub, { entity: 'Customer', merged: merged as string, actor, rules });
        if (opts.json) {
          ctx.out(JSON.stringify(r, null, 2));
          return;
        }
        ctx.out(
          `unmerged ${r.restored.id} from ${r.survivor.id} (merge ${r.mergeId})` +
            (r.kept.length ? `\n  kept changes made after the merge:\n${r.kept.map((k) => `    ${k}`).join('\n')}` : ''),
        );
      });
    });

  configCommand(customers, 'reject', 'Reject a merge candidate: the pair is not one customer and will not be proposed again')
    .argument('<candidate-id>', 'candidate id (from customers candidates)', positiveInt)
    .option('--actor <name>', 'recorded in the audit log (default cli:<user>)')
    .option('--json', 'print JSON')
    .action(async (id: number, opts: CommonOptions) => {
      await withApp(ctx, opts, async (app) => {
        const c = await (await identity()).rejectCandidate(app.hub, id, opts.actor ?? defaultActor());
        ctx.out(opts.json ? JSON.stringify(c, null, 2) : `rejected candidate #${c.id}: ${c.a.id} / ${c.b.id}`);
      });
    });
}
