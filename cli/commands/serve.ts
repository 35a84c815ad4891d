import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { configCommand } from '../options.js';
import { releaseYoungGeneration } from '../young-generation.js';

export function register(program: Command, ctx: CliContext): void {
  configCommand(program, 'serve', 'Serve the GraphQL API and run the scheduled sync jobs and hub backups')
    .option('-p, --port <port>', 'port (default: server.port)', (v) => Number(v))
    .option('--no-schedule', 'do not run scheduled sync jobs or hub backups in this process')
    .option('--no-propagate', 'do not push hub changes to the sources as they happen (event-driven propagation), nor listen to or poll the sources for changes; scheduled runs still do')
    .action(async (opts: { config?: string; port?: number; schedule: boolean; propagate: boolean }) => {
      // The server stack (graphql-yoga, prom-client) loads only when serving, keeping other commands quick.
      const [{ startServer }, { startBackground }] = await Promise.all([import('../../server/server.js'), import('../background.js')]);
      const app = await ctx.openApp(opts);
      app.logger.level = app.config.log.level;
      // --no-schedule runs no scheduled work (sync jobs, hub backups, analysis refreshes).
      const background = await startBackground(app, { schedule: opts.schedule, propagate: opts.propagate });
      const server = await startServer(app, { port: opts.port, background, handleSignals: true, lastResort: true });
      // Start-up is over: the young generation may grow under load again (bin/crmlink.mjs held it).
      releaseYoungGeneration();
      ctx.out(`crmlink serving GraphQL at ${server.url}/graphql (console: ${server.url}/console, health: /healthz, readiness: /readyz, metrics: /metrics)`);
      if (server.monitoring) ctx.out(`monitoring (no credentials): ${server.monitoring.url}/metrics, ${server.monitoring.url}/readyz`);
      // Keep running until a signal closes the server.
      await new Promise<void>((resolve) => server.server.once('close', () => resolve()));
    });
}
