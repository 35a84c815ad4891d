/**
 * The work a serving process runs beside the server: event-driven propagation (and the PostgreSQL
 * listener and the short poll of other sources, which start pulls), and the scheduled work — sync jobs, hub backups and the analysis,
 * which follows the sync (what a run touched is refreshed when it ends, all of it on
 * analysis.schedule). `crmlink serve` and `crmlink demo` both start it, so the demo syncs on its
 * schedule as the config it writes says.
 */
import type { App } from '../app/app.js';
import type { Stoppable } from '../server/server.js';

export interface BackgroundOptions {
  /** Run scheduled sync jobs, hub backups and analysis refreshes. */
  schedule: boolean;
  /** Push hub changes to the sources as they happen. */
  propagate: boolean;
}

/** Start the background work; the server stops it (in this order) on shutdown. Sets app.scheduler and app.propagation. */
export async function startBackground(app: App, opts: BackgroundOptions): Promise<Stoppable[]> {
  const [{ startScheduler }, { startBackupScheduler, backupSettingsOf }, { AnalysisRefresher }, { startPropagation }, { startSourceListener }, { startSourcePoller }] = await Promise.all([
    import('../sync/scheduler.js'),
    import('../hub/backup/index.js'),
    import('../analysis/freshness.js'),
    import('../sync/propagation.js'),
    import('../sync/source-listener.js'),
    import('../sync/source-poller.js'),
  ]);
  const background: Stoppable[] = [];
  if (opts.propagate) {
    background.push((app.propagation = startPropagation(app)));
    // PostgreSQL sources with trigger capture: a change there starts a pull within a second.
    background.push(await startSourceListener(app));
    // Jobs with pollIntervalMs: other sources are polled for changes (one small read an interval).
    background.push(startSourcePoller(app));
  }
  // A tick waits for an event push holding the job's lock (milliseconds) instead of being skipped.
  if (opts.schedule) {
    const analysis = new AnalysisRefresher(app.hub, app.config.analysis, { logger: app.logger }).start();
    const onRun = (report: Parameters<typeof analysis.afterSyncRun>[0]) => void analysis.afterSyncRun(report);
    background.push((app.scheduler = startScheduler(app, opts.propagate ? { onRun, runOptions: { lockWaitMs: 30000 } } : { onRun })));
    background.push(analysis);
    background.push(startBackupScheduler(app.hub, backupSettingsOf(app.loaded), app.logger));
  }
  return background;
}

/** One line per scheduled job for the terminal: when it runs next, or that nothing is scheduled. */
export function describeSchedule(app: App, enabled: boolean): string[] {
  const jobs = app.scheduler?.jobs() ?? [];
  if (!enabled) return ['scheduler: off (--no-schedule): sync jobs run only on demand (`crmlink sync run JOB`, or "run now" in the console)'];
  if (jobs.length === 0) return ['scheduler: no sync job has a schedule: jobs run only on demand'];
  return [
    `scheduler: running ${jobs.length} sync job${jobs.length === 1 ? '' : 's'} on their schedules:`,
    ...jobs.map((j) => `  ${j.job} (${j.schedule}), next run ${j.nextRun ? j.nextRun.toISOString() : 'not planned'}`),
  ];
}
