/**
 * The process's last resort: a promise rejection nobody handled, or an exception thrown outside
 * any request, is logged (redacted, like every log line) and the server keeps serving. Node's
 * default for both is to end the process, which would take the scheduler and every other request
 * with it because of one bug reached by one request. Every known path handles its own errors;
 * these handlers exist for the ones a bug leaves unhandled, and the count lets monitoring alert on
 * them (`crmlink_unhandled_errors_total`).
 *
 * Installed by `crmlink serve` and `crmlink demo` (the processes that own the server), not by
 * `startServer` for embedders and tests, which keep their own policy.
 */
import { Counter, register } from 'prom-client';
import type { Logger } from '../core/logger.js';

function counter(): Counter<'kind'> {
  const name = 'crmlink_unhandled_errors_total';
  const existing = register.getSingleMetric(name);
  if (existing) return existing as Counter<'kind'>;
  return new Counter({ name, help: 'Promise rejections and exceptions no code handled (logged; the process kept serving).', labelNames: ['kind'] as const });
}

/** Install the handlers; the returned function removes them. */
export function installLastResort(logger: Logger): () => void {
  const errors = counter();
  const onRejection = (reason: unknown) => {
    errors.inc({ kind: 'rejection' });
    logger.error({ err: reason }, 'unhandled promise rejection (a bug): logged, the server keeps serving');
  };
  const onException = (err: Error, origin: string) => {
    errors.inc({ kind: 'exception' });
    logger.error({ err, origin }, 'uncaught exception (a bug): logged, the server keeps serving');
  };
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return () => {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  };
}
