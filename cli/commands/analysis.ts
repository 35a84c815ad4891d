/**
 * `crmlink analysis refresh|status|customers|credit`: refresh the customer analysis, see how fresh
 * it is, list customers by tier, segment, stage or quadrant, and check an order against a
 * customer's credit. The command line sees every customer (it runs with the hub's own access).
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { withApp, positiveInt, type AppCliContext, type AppCommandOptions } from '../context.js';
import { EXIT, ExitCode } from '../exit-codes.js';
import { isIsoDate, zonedToUtc } from '../../model/time.js';
import { CrmlinkError } from '../../core/errors.js';
import type { CustomerAnalysis, SortKey } from '../../analysis/index.js';
import { SORT_KEYS } from '../../analysis/sort-keys.js';
import { configCommand } from '../options.js';

/** The analysis (and exceljs, for --xlsx) loads with the first command that uses it, not with `--help`. */
const loadAnalysis = () => import('../../analysis/index.js');

export type AnalysisCliContext = AppCliContext;

interface CommonOptions extends Omit<AppCommandOptions, 'actor'> {
  asOf?: string;
}

function asOfDay(value: string): string {
  if (!isIsoDate(value)) throw new InvalidArgumentError('expected a day, YYYY-MM-DD');
  return value;
}

/** The clock of a command: now, or noon of --as-of in the analysis time zone. */
function clockOf(asOf: string | undefined, timeZone: string): () => Date {
  if (asOf === undefined) return () => new Date();
  const [y, m, d] = asOf.split('-').map(Number);
  const at = new Date(zonedToUtc(Date.UTC(y, m - 1, d, 12), timeZone));
  return () => at;
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => displayWidth(r[i] ?? ''))));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c + ' '.repeat(widths[i] - displayWidth(c)))).join('  ')).join('\n');
}

/** Terminal columns: CJK and full-width characters take two. */
function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s) w += /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/.test(ch) ? 2 : 1;
  return w;
}

const list = (v: string, prev: string[] = []) => [...prev, ...v.split(',').map((s) => s.trim()).filter(Boolean)];

export function register(program: Command, ctx: AnalysisCliContext): void {
  const analysis = program.command('analysis').description('Customer analysis (客户分析): RFM, profit contribution, tiers, value matrix, lifecycle, credit');

  configCommand(analysis, 'refresh', 'Recompute the analysis: the customers changed since the last refresh, or all of them with --full')
    .option('--full', 'every customer (default: only those whose records changed since the last refresh)')
    .option('--rebuild', 'every customer, and every order\'s line sums recomputed from the lines (implies --full)')
    .option('--as-of <day>', 'compute as of this day (YYYY-MM-DD) instead of today', asOfDay)
    .option('--json', 'print the report as JSON')
    .action(async (opts: CommonOptions & { full?: boolean; rebuild?: boolean }) => {
      await withApp(ctx, opts, async (app) => {
        const cfg = app.config.analysis;
        const r = await (await loadAnalysis()).refreshAnalysis(app.hub, cfg, {
          kind: opts.full || opts.rebuild ? 'full' : 'incremental',
          rebuildOrderSums: opts.rebuild === true,
          now: clockOf(opts.asOf, cfg.timezone),
        });
        if (opts.json) {
          ctx.out(JSON.stringify({ ...r, thresholds: { ...r.thresholds, currentCents: undefined, potentialCents: undefined, current: (await loadAnalysis()).centsToDecimal(r.thresholds.currentCents), potential: (await loadAnalysis()).centsToDecimal(r.thresholds.potentialCents) } }, null, 2));
          return;
        }
        ctx.out(
          [
            `analysis refreshed (${r.kind}, as of ${r.asOf}): ${r.customers} customers, ${r.stageChanges} lifecycle stage changes`,
            `value matrix thresholds (价值矩阵): current value ≥ ${(await loadAnalysis()).centsToDecimal(r.thresholds.currentCents)} (${r.thresholds.currentFrom}), potential value ≥ ${(await loadAnalysis()).centsToDecimal(r.thresholds.potentialCents)} (${r.thresholds.potentialFrom})`,
            r.thresholds.tierMethod === 'pyramid'
              ? `tiers (客户分级) over ${r.thresholds.rankedCustomers} profitable customers: ${r.thresholds.tierRanks.map((t) => `${t.name} ≤ rank ${t.lastRank}`).join(', ')}`
              : `tiers (客户分级): ABC by cumulative share over ${r.thresholds.rankedCustomers} profitable customers`,
          ].join('\n'),
        );
      });
    });

  configCommand(analysis, 'status', 'When the analysis was last refreshed, and how customers spread over tiers, stages and quadrants')
    .option('--json', 'print JSON')
    .action(async (opts: CommonOptions) => {
      await withApp(ctx, opts, async (app) => {
        const cfg = app.config.analysis;
        const runs = await app.hub.store.analysis.runs(app.hub.knex, 5);
        const all = { customers: 'all' } as const;
        const [tiers, stages, quadrants] = await Promise.all([(await loadAnalysis()).distribution(app.hub.knex, all, 'TIER'), (await loadAnalysis()).distribution(app.hub.knex, all, 'STAGE'), (await loadAnalysis()).distribution(app.hub.knex, all, 'QUADRANT')]);
        const refresher = cfg.schedule ? new (await loadAnalysis()).AnalysisRefresher(app.hub, cfg).start() : null;
        const nextFull = refresher?.nextFullRefresh() ?? null;
        await refresher?.stop();
        const status = { schedule: cfg.schedule ?? null, nextFullRefresh: nextFull?.toISOString() ?? null, refreshAfterSync: cfg.refreshAfterSync, runs, tiers, stages, quadrants };
        if (opts.json) return ctx.out(JSON.stringify(status, null, 2));
        const last = runs.find((r) => r.status === 'ok');
        const { describeSchedule } = await import('../../config/schedule-text.js');
        const lines = [
          last ? `last refresh: ${last.kind}, as of ${last.asOf}, ended ${last.endedAt}, ${last.customers} customers` : 'never refreshed: run `crmlink analysis refresh --full`',
          `full refresh: ${cfg.schedule ? `${cfg.schedule} (${describeSchedule(cfg.schedule)}, ${cfg.timezone}), next ${status.nextFullRefresh}` : 'not scheduled (analysis.schedule)'}; after sync runs: ${cfg.refreshAfterSync ? 'yes' : 'no'}`,
        ];
        const failed = runs.find((r) => r.status === 'failed');
        if (failed && (!last || failed.id > last.id)) lines.push(`last refresh FAILED at ${failed.startedAt}: ${failed.error}`);
        const spread = (title: string, buckets: typeof tiers) =>
          buckets.length ? `${title}\n${table([['', 'customers', 'revenue', 'profit'], ...buckets.map((b) => [`  ${b.key ?? '-'}`, String(b.customers), b.revenue, b.profit])])}` : `${title} (none)`;
        lines.push(spread('tiers (客户分级):', tiers), spread('lifecycle (客户生命周期):', stages), spread('value matrix (价值矩阵):', quadrants));
        ctx.out(lines.join('\n'));
      });
    });

  configCommand(analysis, 'customers', 'Customers with their analysis, filtered and sorted')
    .option('--tier <names>', 'only these tiers (comma-separated)', list)
    .option('--segment <names>', 'only these RFM segments', list)
    .option('--stage <names>', 'only these lifecycle stages', list)
    .option('--quadrant <names>', 'only these value-matrix quadrants (keep, develop, maintain, reduce)', list)
    .option('--over-limit', 'only customers over their credit limit')
    .option('--overdue', 'only customers with overdue receivables')
    .addOption(new Option('--sort <key>', 'sort key').choices(Object.keys(SORT_KEYS).map((k) => k.toLowerCase())).default('profit'))
    .option('--asc', 'ascending (default descending)')
    .option('--limit <n>', 'at most this many', positiveInt, 50)
    .option('--json', 'print JSON')
    .option('--xlsx <file>', 'write the list to an Excel workbook')
    .option('--csv <file>', 'write the list to a CSV file')
    .action(async (opts: CommonOptions & { tier?: string[]; segment?: string[]; stage?: string[]; quadrant?: string[]; overLimit?: boolean; overdue?: boolean; sort: string; asc?: boolean; limit: number; xlsx?: string; csv?: string }) => {
      await withApp(ctx, opts, async (app) => {
        const page = await (await loadAnalysis()).listAnalyses(
          app.hub.knex,
          { customers: 'all' },
          {
            filter: { tier: opts.tier, segment: opts.segment, stage: opts.stage, quadrant: opts.quadrant, overLimit: opts.overLimit, overdue: opts.overdue },
            orderBy: { key: opts.sort.toUpperCase() as SortKey, direction: opts.asc ? 'ASC' : 'DESC' },
            first: opts.limit,
          },
        );
        if (opts.xlsx) await (await loadAnalysis()).writeXlsx(opts.xlsx, page.nodes);
        if (opts.csv) await (await loadAnalysis()).writeCsv(opts.csv, page.nodes);
        if (opts.xlsx || opts.csv) return ctx.out(`${page.nodes.length} customers written to ${[opts.xlsx, opts.csv].filter(Boolean).join(' and ')}`);
        if (opts.json) return ctx.out(JSON.stringify(page.nodes, null, 2));
        if (page.nodes.length === 0) return ctx.out('no customers match');
        const row = (a: CustomerAnalysis) => [
          a.customerId,
          a.customerName ?? '',
          a.tier ?? '-',
          a.rfm.r === null ? '-' : `${a.rfm.r}${a.rfm.f}${a.rfm.m} ${a.rfm.segment ?? ''}`,
          a.lifecycle.stage,
          a.valueMatrix.quadrant ?? '-',
          a.contribution.revenue,
          a.contribution.profit,
          a.credit.receivable,
          a.credit.overdue,
          [a.credit.overLimit ? 'OVER LIMIT' : '', a.credit.isOverdue ? 'OVERDUE' : ''].filter(Boolean).join(' '),
        ];
        ctx.out(
          table([
            ['customer', 'name', 'tier 分级', 'RFM', 'stage 阶段', 'quadrant 象限', 'revenue', 'profit 利润', 'receivable 应收', 'overdue 逾期', 'flags'],
            ...page.nodes.map(row),
          ]),
        );
        ctx.out(`${page.nodes.length} of ${page.totalCount}${page.hasNextPage ? ' (raise --limit for more)' : ''}`);
      });
    });

  configCommand(analysis, 'credit', 'Would an order of <amount> fit the customer\'s remaining credit? (live, not from the last refresh)')
    .argument('<customer>', 'customer id (cus_…)')
    .argument('<amount>', 'order amount')
    .option('--json', 'print JSON')
    .action(async (customer: string, amount: string, opts: CommonOptions) => {
      await withApp(ctx, opts, async (app) => {
        const r = await (await loadAnalysis()).checkCredit(app.hub, app.config.analysis, customer, amount);
        if (!r) throw new CrmlinkError('NOT_FOUND', `customer ${customer} not found`, { entity: 'Customer', key: customer });
        if (opts.json) ctx.out(JSON.stringify(r, null, 2));
        else ctx.out(`${r.fits ? 'fits' : 'does not fit'} (${r.reason}): limit ${r.limit ?? 'none'}, receivable ${r.receivable}, available ${r.available ?? '-'}, order ${r.amount}`);
        if (!r.fits) throw new ExitCode(EXIT.failed);
      });
    });
}
