/** The parts of the application the HTTP server needs (app/ builds them). */
import type { LoadedConfig } from '../config/load.js';
import type { SchemaApp } from '../schema/schema-app.js';

export interface ServerApp extends SchemaApp {
  loaded: LoadedConfig;
  /** Release the hub and the sources: the server calls it when it shuts down. */
  close(): Promise<void>;
}
