/**
 * Prometheus metrics of the sync, registered in prom-client's default registry (the one the server
 * exposes at /metrics) and also exported as `syncMetricsRegistry`.
 *
 * - crmlink_sync_rows_read_total{job,source}
 * - crmlink_sync_rows_written_total{job,source}   (source "hub" for golden records)
 * - crmlink_sync_conflicts_total{job,source}
 * - crmlink_sync_errors_total{job,source}          (parked rows and failed runs)
 * - crmlink_sync_run_duration_seconds{job,status}  (histogram)
 * - crmlink_sync_lag_seconds{job}                  (now − oldest change read by the last run)
 */
import { Counter, Gauge, Histogram, register, type Registry } from 'prom-client';
import type { RunReport } from './types.js';

export const syncMetricsRegistry: Registry = register;

function counter(name: string, help: string): Counter<'job' | 'source'> {
  const existing = register.getSingleMetric(name);
  if (existing) return existing as Counter<'job' | 'source'>;
  return new Counter({ name, help, labelNames: ['job', 'source'] as const });
}

export const rowsRead = counter('crmlink_sync_rows_read_total', 'Changes read from sources by sync jobs.');
export const rowsWritten = counter('crmlink_sync_rows_written_total', 'Rows written by sync jobs, per target (a source or "hub").');
export const conflicts = counter('crmlink_sync_conflicts_total', 'Field conflicts raised by sync jobs (open and decided by policy).');
export const errors = counter('crmlink_sync_errors_total', 'Records parked and runs failed, per job and source.');

export const runDuration: Histogram<'job' | 'status'> =
  (register.getSingleMetric('crmlink_sync_run_duration_seconds') as Histogram<'job' | 'status'> | undefined) ??
  new Histogram({
    name: 'crmlink_sync_run_duration_seconds',
    help: 'Duration of sync runs.',
    labelNames: ['job', 'status'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900],
  });

export const lag: Gauge<'job'> =
  (register.getSingleMetric('crmlink_sync_lag_seconds') as Gauge<'job'> | undefined) ??
  new Gauge({ name: 'crmlink_sync_lag_seconds', help: 'Seconds between the end of the last run and the oldest change it read.', labelNames: ['job'] as const });

/** Count a finished run. Dry runs and skipped ticks move nothing and are not counted. */
export function recordRunMetrics(report: RunReport): void {
  if (report.dryRun) return;
  runDuration.labels(report.job, report.status).observe(report.durationMs / 1000);
  if (report.status === 'skipped') return;
  let hubWritten = 0;
  for (const [source, s] of Object.entries(report.sources)) {
    const labels = { job: report.job, source };
    if (s.read) rowsRead.inc(labels, s.read);
    const written = s.inserted + s.updated + s.deleted;
    if (written) rowsWritten.inc(labels, written);
    hubWritten += s.hubInserted + s.hubUpdated + s.hubDeleted;
    if (s.conflicts + s.autoResolved) conflicts.inc(labels, s.conflicts + s.autoResolved);
    if (s.parked) errors.inc(labels, s.parked);
  }
  if (hubWritten) rowsWritten.inc({ job: report.job, source: 'hub' }, hubWritten);
  if (report.status === 'failed') errors.inc({ job: report.job, source: 'run' });
  if (report.lagSeconds !== null) lag.labels(report.job).set(report.lagSeconds);
}
