/**
 * `crmlink sync run|reconcile|status|runs|parked`: run a job now (or plan it with --dry-run),
 * reconcile its keys (hard deletes a timestamp capture cannot see), see how every job is doing,
 * and list or retry parked records. Exit codes: 0 ok, 1 the run failed or left errors (parked
 * records, a source that cannot be reconciled, a run skipped because the job is already running),
 * 2 bad usage.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { CrmlinkError } from '../../core/errors.js';
import type { ReconcileReport, RunReport } from '../../sync/index.js';
import { EXIT, ExitCode } from '../exit-codes.js';
import { positiveInt, withApp, type AppCliContext, type AppCommandOptions } from '../context.js';
import { syncProgress } from '../progress.js';
import { configCommand } from '../options.js';

function nonNegative(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number of seconds, 0 or more');
  return n;
}

export type SyncCliContext = AppCliContext;

/** The sync engine loads with the first command that uses it, not with `--help`. */
const engine = () => import('../../sync/index.js');

type CommonOptions = Omit<AppCommandOptions, 'actor'>;

/** An unknown job is a usage error (exit 2), not a failed run. */
function usageOnUnknownJob(ctx: SyncCliContext, err: unknown): never {
  if (err instanceof CrmlinkError && err.code === 'NOT_FOUND') {
    (ctx.err ?? ctx.out)(`error [${err.code}]: ${err.message}`);
    throw new ExitCode(EXIT.usage);
  }
  throw err;
}

/**
 * Runs a job's work with a signal that Ctrl-C (SIGINT) aborts. A failure goes to `failed` (which
 * throws); the SIGINT listener is removed and the progress bar closed whatever happens.
 */
async function interruptible<T>(bar: { done(): void } | null, work: (signal: AbortSignal) => Promise<T>, failed: (err: unknown) => never): Promise<T> {
  const controller = new AbortController();
  const onSignal = () => controller.abort(new Error('interrupted'));
  process.once('SIGINT', onSignal);
  try {
    return await work(controller.signal);
  } catch (err) {
    return failed(err);
  } finally {
    process.removeListener('SIGINT', onSignal);
    bar?.done();
  }
}

export function register(program: Command, ctx: SyncCliContext): void {
  const sync = program.command('sync').description('Run sync jobs, see their status, retry parked records');

  configCommand(sync, 'run', 'Run a sync job now (--dry-run: print the plan, change nothing)')
    .argument('<job>', 'job name (sync.jobs.<name>)')
    .option('--dry-run', 'compute and print what the run would do; write nothing')
    .option('--accept-key-change <source...>', "a source's key column changed type and its keys kept their text: read it again from the start")
    .option('--json', 'print the run report as JSON')
    .option('--progress-every <seconds>', 'not on a terminal: print a progress line every N seconds (default 10; 0: after every page)', nonNegative)
    .action(async (job: string, opts: CommonOptions & { dryRun?: boolean; acceptKeyChange?: string[]; progressEvery?: number }) => {
      // A dry run writes nothing, the hub's schema included: see Hub.open.
      await withApp(ctx, { config: opts.config, readOnlyHub: opts.dryRun === true }, async (app) => {
        // A bar on a terminal, a line at intervals elsewhere (a scheduler's log); none with --json.
        const bar = opts.json ? null : syncProgress({
          tty: process.stderr.isTTY === true,
          write: (text) => process.stderr.write(text),
          ...(opts.progressEvery !== undefined ? { everyMs: opts.progressEvery * 1000 } : {}),
        });
        const report: RunReport = await interruptible(
          bar,
          async (signal) => (await engine()).runJob(app, job, { dryRun: opts.dryRun, acceptKeyChange: opts.acceptKeyChange, signal, onProgress: bar?.update }),
          (err) => usageOnUnknownJob(ctx, err),
        );
        ctx.out(opts.json ? JSON.stringify(report, null, 2) : formatReport(report));
        // The customers the run touched get their analysis refreshed (analysis.refreshAfterSync).
        const { AnalysisRefresher } = await import('../../analysis/freshness.js');
        const refresher = new AnalysisRefresher(app.hub, app.config.analysis, { logger: app.logger });
        await refresher.afterSyncRun(report);
        if (refresher.last.error !== null) (ctx.err ?? ctx.out)(`warning: analysis refresh failed: ${refresher.last.error}`);
        if (report.status !== 'ok') throw new ExitCode(EXIT.failed);
      });
    });

  configCommand(sync, 'reconcile', 'Compare a job\'s source keys with the hub\'s and apply the hard deletes its change capture missed (timestamp, rowversion) / 核对主键，处理源端硬删除')
    .argument('<job>', 'job name (sync.jobs.<name>)')
    .option('--dry-run', 'list the keys the sources no longer have; delete nothing')
    .option('--source <name...>', 'only these sources of the job')
    .option('--json', 'print the report as JSON')
    .addHelpText('after', '\nReads only key columns, a page of keys per statement; deletes go through the normal pipeline (tombstones, then the push to the other sources).\nExit codes: 0 ok, 1 failed / a source cannot be reconciled / the job is running, 2 bad usage.')
    .action(async (job: string, opts: CommonOptions & { dryRun?: boolean; source?: string[] }) => {
      await withApp(ctx, { config: opts.config }, async (app) => {
        const bar = opts.json ? null : syncProgress({ tty: process.stderr.isTTY === true, write: (text) => process.stderr.write(text) });
        const pageSize = app.config.sync.jobs[job]?.reconcile?.pageSize;
        const report: ReconcileReport = await interruptible(
          bar,
          async (signal) => (await engine()).reconcileJob(app, job, { dryRun: opts.dryRun, sources: opts.source, signal, onProgress: bar?.update, pageSize }),
          (err) => usageOnUnknownJob(ctx, err),
        );
        ctx.out(opts.json ? JSON.stringify(report, null, 2) : formatReconcile(report));
        if (report.status !== 'ok') throw new ExitCode(EXIT.failed);
      });
    });

  configCommand(sync, 'status', 'Every job: last run, open conflicts, parked records, lag, checkpoints')
    .option('--json', 'print JSON')
    .action(async (opts: CommonOptions) => {
      await withApp(ctx, opts, async (app) => {
        const status = await (await engine()).syncStatus(app);
        if (opts.json) return ctx.out(JSON.stringify(status, null, 2));
        if (status.length === 0) return ctx.out('no sync jobs configured (sync.jobs)');
        const { describeSchedule } = await import('../../config/schedule-text.js');
        const rows = status.map((s) => [
          s.job,
          s.entity,
          s.sources.join(','),
          s.direction,
          s.schedule ? `${s.schedule} (${describeSchedule(s.schedule)})` : '-',
          s.lastRun ? `${s.lastRun.status} ${s.lastRun.startedAt}` : 'never',
          String(s.openConflicts),
          String(s.parked),
          s.lagSeconds === null ? '-' : `${Math.round(s.lagSeconds)}s`,
        ]);
        ctx.out(table(['JOB', 'ENTITY', 'SOURCES', 'DIRECTION', 'SCHEDULE', 'LAST RUN', 'CONFLICTS', 'PARKED', 'LAG'], rows));
      });
    });

  configCommand(sync, 'runs', 'Run history, newest first')
    .option('--job <job>', 'only this job')
    .option('--limit <n>', 'how many (default 20)', positiveInt)
    .option('--json', 'print JSON')
    .action(async (opts: CommonOptions & { job?: string; limit?: number }) => {
      await withApp(ctx, opts, async (app) => {
        const runs = await (await engine()).listRuns(app, { job: opts.job, limit: opts.limit });
        if (opts.json) return ctx.out(JSON.stringify(runs, null, 2));
        const rows = runs.map((r) => [
          String(r.id),
          r.job,
          r.status,
          r.startedAt,
          r.stats?.durationMs !== undefined ? `${r.stats.durationMs}ms` : '-',
          String(r.stats?.totals?.read ?? '-'),
          String(r.stats?.totals?.written ?? '-'),
          String(r.stats?.totals?.conflicts ?? '-'),
          String(r.stats?.totals?.parked ?? '-'),
          r.error ?? '',
        ]);
        ctx.out(runs.length === 0 ? 'no runs yet' : table(['ID', 'JOB', 'STATUS', 'STARTED', 'TOOK', 'READ', 'WRITTEN', 'CONFLICTS', 'PARKED', 'NOTE'], rows));
      });
    });

  configCommand(sync, 'parked', 'Records that failed permanently, with their error (--retry: try them again)')
    .option('--job <job>', 'only this job')
    .option('--retry', 'try the parked records again')
    .option('--json', 'print JSON')
    .action(async (opts: CommonOptions & { job?: string; retry?: boolean }) => {
      await withApp(ctx, opts, async (app) => {
        if (opts.retry) {
          const jobs = opts.job ? [opts.job] : [...new Set((await (await engine()).listParked(app)).map((p) => p.job))];
          const results = [];
          for (const job of jobs) {
            try {
              results.push({ job, ...(await (await engine()).retryParked(app, job)) });
            } catch (err) {
              usageOnUnknownJob(ctx, err);
            }
          }
          if (opts.json) ctx.out(JSON.stringify(results.map(({ report: _r, ...rest }) => rest), null, 2));
          else if (results.length === 0) ctx.out('nothing parked');
          else for (const r of results) ctx.out(`${r.job}: retried ${r.retried}, resolved ${r.resolved}, still parked ${r.remaining}`);
          if (results.some((r) => r.remaining > 0 || r.report.status === 'failed')) throw new ExitCode(EXIT.failed);
          return;
        }
        const parked = await (await engine()).listParked(app, { job: opts.job });
        if (opts.json) return ctx.out(JSON.stringify(parked, null, 2));
        if (parked.length === 0) return ctx.out('nothing parked');
        ctx.out(
          table(
            ['ID', 'JOB', 'SOURCE', 'DIR', 'RECORD', 'CODE', 'TRIES', 'ERROR'],
            parked.map((p) => [String(p.id), p.job, p.source, p.direction, p.sourceKey ?? p.gid ?? '', p.code, String(p.attempts), p.message]),
          ),
        );
      });
    });
}

export function formatReport(r: RunReport): string {
  const lines: string[] = [];
  const head = `${r.dryRun ? 'dry run of' : 'run'} ${r.job} (${r.entity}): ${r.status}${r.reason ? ` — ${r.reason}` : ''} in ${r.durationMs} ms`;
  lines.push(head);
  if (r.error) lines.push(`  error [${r.error.code}]: ${r.error.message}`);
  const t = r.totals;
  lines.push(`  read ${t.read}, written ${t.written} (hub ${t.hubWritten}, sources ${t.sourceWritten}), conflicts ${t.conflicts} open + ${t.autoResolved} decided by policy, parked ${t.parked}${r.lagSeconds !== null ? `, lag ${Math.round(r.lagSeconds)}s` : ''}`);
  for (const [name, s] of Object.entries(r.sources)) {
    lines.push(
      `  ${name}: read ${s.read} (${s.unchanged} unchanged) → hub +${s.hubInserted} ~${s.hubUpdated} -${s.hubDeleted}; written +${s.inserted} ~${s.updated} -${s.deleted}` +
        `${s.conflicts ? `; ${s.conflicts} conflicts` : ''}${s.parked ? `; ${s.parked} parked` : ''}${s.deletesNotAllowed ? `; ${s.deletesNotAllowed} deletes not allowed` : ''}`,
    );
  }
  if (r.plan) {
    lines.push('  plan:');
    for (const [target, p] of Object.entries(r.plan)) {
      lines.push(`    ${target}: ${p.counts.inserts} inserts, ${p.counts.updates} updates, ${p.counts.deletes} deletes, ${p.counts.conflicts} conflicts`);
      const show = (label: string, items: { gid: string | null; sourceKey: string | null; values?: Record<string, unknown> }[]) => {
        for (const w of items.slice(0, 20)) lines.push(`      ${label} ${w.sourceKey ?? w.gid ?? ''}${w.values ? ` ${JSON.stringify(w.values)}` : ''}`);
      };
      show('+', p.inserts);
      show('~', p.updates);
      show('-', p.deletes);
      for (const c of p.conflicts.slice(0, 20)) lines.push(`      ! ${c.sourceKey ?? c.gid ?? ''}.${c.field}: ${c.reason}`);
    }
  }
  return lines.join('\n');
}

export function formatReconcile(r: ReconcileReport): string {
  const lines = [formatReport(r).replace(/^(dry run of|run) /, r.dryRun ? 'dry-run reconcile of ' : 'reconcile of ')];
  for (const [name, s] of Object.entries(r.reconciled)) {
    if (s.status === 'not-supported') {
      lines.push(`  ${name}: not reconciled — ${s.reason ?? 'not supported'}`);
      continue;
    }
    lines.push(`  ${name}: ${s.checked} keys checked, ${s.missing} gone from the source${r.dryRun ? ' (dry run: nothing deleted)' : ''}`);
    for (const k of s.missingKeys.slice(0, 20)) lines.push(`      - ${k}`);
    if (s.missingKeys.length > 20) lines.push(`      … ${s.missing - 20} more`);
  }
  return lines.join('\n');
}

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ');
  return [line(head), ...rows.map(line)].join('\n');
}
