/**
 * The SQL side of the connector interface (connectors/connector.ts). A Driver speaks one dialect (SQL Server, PostgreSQL,
 * MySQL/MariaDB, SQLite) over knex; what differs between engines is declared in `capabilities`,
 * never tested with `if (dialect === ...)` by callers.
 *
 * Drivers work in columns and raw rows. Turning rows into CRM records is the mapping's job
 * (connectors/mapping), deciding what to write is the sync's.
 */
import type { Knex } from 'knex';
import type { Dialect } from '../config/schema.js';
import type { Connector, ConnectorCapabilities } from './connector.js';
import type { DialectCapabilities } from './types.js';

export * from './types.js';

/** A SQL connector: the Connector methods over knex, plus what only SQL has. */
export interface Driver extends Connector {
  readonly dialect: Dialect;
  readonly capabilities: DialectCapabilities & ConnectorCapabilities;
  /** The underlying knex instance (for the hub and the planner; sources go through the methods). */
  readonly knex: Knex;
  /** Listen to every SQL statement this driver sends (statement counting, debugging). */
  onQuery(listener: (sql: string) => void): () => void;
}
