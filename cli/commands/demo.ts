import { rmSync } from 'node:fs';
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { DEFAULT_DEMO_DIR, DEMO_PORT } from '../../demo/defaults.js';
import { releaseYoungGeneration } from '../young-generation.js';

export function register(program: Command, ctx: CliContext): void {
  program
    .command('demo')
    .description('Seed demo ERP/finance/OA databases (once), sync them into the hub and serve GraphQL')
    .option('-d, --dir <dir>', 'where the demo databases and config live', DEFAULT_DEMO_DIR)
    .option('-p, --port <port>', 'port to serve on', (v) => Number(v), DEMO_PORT)
    .option('--reset', 'delete the demo databases and hub and seed them again')
    .option('--no-serve', 'prepare and sync, then exit (no server)')
    .option('--no-schedule', 'while serving, run no scheduled sync jobs (they run every five minutes otherwise)')
    .action(async (opts: { dir: string; port: number; reset?: boolean; serve: boolean; schedule: boolean }) => {
      const [{ runJob }, { startServer }, { DEMO_JOB, formatDemoQueries, prepareDemo, runDemoScenario }, { refreshAnalysis }, { startBackground, describeSchedule }] = await Promise.all([
        import('../../sync/engine.js'),
        import('../../server/server.js'),
        import('../../demo/index.js'),
        import('../../analysis/refresh.js'),
        import('../background.js'),
      ]);
      if (opts.reset) rmSync(opts.dir, { recursive: true, force: true });
      const demo = await prepareDemo(opts.dir, { port: opts.port });
      ctx.out(demo.created ? `seeded demo databases in ${demo.dir}` : `using the demo databases in ${demo.dir}`);
      const app = await ctx.openApp({ config: demo.configPath });
      try {
        if (demo.fresh) {
          await runDemoScenario(demo, {
            sync: async (job) => {
              const report = await runJob(app, job);
              const t = report.totals;
              ctx.out(`  ${job === DEMO_JOB ? '' : `${job}: `}${report.status}: read ${t.read}, hub ${t.hubWritten}, sources ${t.sourceWritten}, conflicts ${t.conflicts}, parked ${t.parked} (${report.durationMs} ms)`);
              return report;
            },
            analyze: async () => {
              const r = await refreshAnalysis(app.hub, app.config.analysis, { kind: 'full' });
              ctx.out(`  ${r.customers} customers analysed as of ${r.asOf} (\`crmlink analysis status\`)`);
            },
            log: (line) => ctx.out(line),
          });
        }
      } catch (err) {
        await ctx.closeApp(app);
        throw err;
      }
      if (!opts.serve) {
        await ctx.closeApp(app);
        return;
      }
      // The demo's config schedules its jobs every five minutes: the scheduler runs them, as `serve` does.
      const background = await startBackground(app, { schedule: opts.schedule, propagate: true });
      const server = await startServer(app, { port: opts.port, background, handleSignals: true, lastResort: true });
      // Start-up is over: the young generation may grow under load again (bin/crmlink.mjs held it).
      releaseYoungGeneration();
      ctx.out(`\ncrmlink demo: GraphQL and GraphiQL at ${server.url}/graphql, operations console at ${server.url}/console`);
      ctx.out(`config: ${demo.configPath}`);
      for (const line of describeSchedule(app, opts.schedule)) ctx.out(line);
      ctx.out('');
      ctx.out(formatDemoQueries(`${server.url}/graphql`));
      ctx.out('Press Ctrl+C to stop.');
      await new Promise<void>((resolve) => server.server.once('close', () => resolve()));
    });
}
