import type { Command } from 'commander';
import type { CliContext } from '../context.js';

export function register(program: Command, ctx: CliContext): void {
  program
    .command('serve')
    .description('Serve the GraphQL API and run the scheduled sync jobs and hub backups')
    .option('-c, --config <file>', 'config file (default: crmlink.yaml or $CRMLINK_CONFIG)')
    .option('-p, --port <port>', 'port (default: server.port)', (v) => Number(v))
    .option('--no-schedule', 'do not run scheduled sync jobs or hub backups in this process')
    .option('--no-propagate', 'do not push hub changes to the sources as they happen (event-driven propagation); scheduled runs still do')
    .action(async (opts: { config?: string; port?: number; schedule: boolean; propagate: boolean }) => {
      // The server stack (graphql-yoga, prom-client) loads only when serving, keeping other commands quick.
      const [{ startServer }, { startScheduler }, { startBackupScheduler, backupSettingsOf }, { AnalysisRefresher }, { startPropagation }, { startSourceListener }] = await Promise.all([
        import('../../server/server.js'),
        import('../../sync/scheduler.js'),
        import('../../hub/backup/index.js'),
        import('../../analysis/freshness.js'),
        import('../../sync/propagation.js'),
        import('../../sync/source-listener.js'),
      ]);
      const app = await ctx.openApp(opts);
      app.logger.level = app.config.log.level;
      const background = [];
      if (opts.propagate) {
        background.push((app.propagation = startPropagation(app)));
        // PostgreSQL sources with trigger capture: a change there starts a pull within a second.
        background.push(await startSourceListener(app));
      }
      // Scheduled work: sync jobs, hub backups (hub.backup.schedule) and the analysis, which follows
      // the sync (what a run touched is refreshed when it ends, all of it on analysis.schedule);
      // --no-schedule runs none of them. A tick waits for an event push holding the job's lock
      // (milliseconds) instead of being skipped.
      if (opts.schedule) {
        const analysis = new AnalysisRefresher(app.hub, app.config.analysis, { logger: app.logger }).start();
        const onRun = (report: Parameters<typeof analysis.afterSyncRun>[0]) => void analysis.afterSyncRun(report);
        background.push(startScheduler(app, opts.propagate ? { onRun, runOptions: { lockWaitMs: 30000 } } : { onRun }));
        background.push(analysis);
        background.push(startBackupScheduler(app.hub, backupSettingsOf(app.loaded), app.logger));
      }
      const server = await startServer(app, { port: opts.port, background, handleSignals: true, lastResort: true });
      ctx.out(`crmlink serving GraphQL at ${server.url}/graphql (console: ${server.url}/console, health: /healthz, readiness: /readyz, metrics: /metrics)`);
      if (server.monitoring) ctx.out(`monitoring (no credentials): ${server.monitoring.url}/metrics, ${server.monitoring.url}/readyz`);
      // Keep running until a signal closes the server.
      await new Promise<void>((resolve) => server.server.once('close', () => resolve()));
    });
}
