/**
 * Change notifications: where a source can say that a captured table changed, crmlink listens
 * instead of waiting for the schedule. PostgreSQL trigger capture NOTIFYs `crmlink_changes` with
 * the table's name (on commit, not for crmlink's own writes); one dedicated connection per source
 * LISTENs. Other engines have no such signal: `listenChanges` answers null for them.
 */
import type { Driver } from '../driver.js';
import { CHANGE_CHANNEL } from '../dialects/postgres/postgres-changelog.js';
import { isCaptureHost } from './host.js';

export { CHANGE_CHANNEL };

export interface ChangeListener {
  close(): Promise<void>;
}

export interface ChangeHandlers {
  /** A captured table of the source changed (its name, as mapped). */
  onChange(table: string): void;
  /** The connection failed: listening has stopped; listen again to resume. */
  onError(err: unknown): void;
}

/** The part of a pg client listening needs. */
interface PgNotifier {
  query(sql: string): Promise<unknown>;
  on(event: 'notification', fn: (m: { channel: string; payload?: string }) => void): void;
  on(event: 'error' | 'end', fn: (err?: unknown) => void): void;
  end(): Promise<void>;
}

/** LISTEN on the source's own connection settings; null when the source cannot notify. */
export async function listenChanges(driver: Driver, handlers: ChangeHandlers): Promise<ChangeListener | null> {
  if (driver.dialect !== 'postgres' || !isCaptureHost(driver)) return null;
  // A connection of its own, outside the pool: LISTEN belongs to the session.
  const client = (await driver.knex.client.acquireRawConnection()) as PgNotifier;
  let closed = false;
  client.on('notification', (m) => {
    if (m.channel === CHANGE_CHANNEL) handlers.onChange(m.payload ?? '');
  });
  const failed = (err?: unknown) => {
    if (closed) return;
    closed = true;
    handlers.onError(err ?? new Error(`the LISTEN connection to ${driver.name} ended`));
  };
  client.on('error', failed);
  client.on('end', failed);
  try {
    await client.query(`LISTEN ${CHANGE_CHANNEL}`);
  } catch (err) {
    closed = true;
    await client.end().catch(() => undefined);
    throw err;
  }
  return {
    close: async () => {
      closed = true;
      await client.end().catch(() => undefined);
    },
  };
}
