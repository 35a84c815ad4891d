/**
 * Apps a test opens on one config text, closed together with the databases under them. Plain
 * code (no test hooks): the benchmarks build their worlds with it too.
 */
import type { Knex } from 'knex';
import { parseConfig } from '../../config/load.js';
import { closeApp, openApp, type App } from '../../app/app.js';
import { silentLogger } from '../../core/logger.js';
import type { TestDatabase } from './databases.js';

export interface AppsOnConfig {
  /** Open another app on the config (silent log); each is closed by `close`. */
  open(): Promise<App>;
  /** Close every app opened, then the fixture connections, then drop the databases. */
  close(): Promise<void>;
}

export function appsOnConfig(yaml: string, connections: Knex[], databases: TestDatabase[]): AppsOnConfig {
  const apps: App[] = [];
  return {
    async open() {
      const app = await openApp(parseConfig(yaml), { logger: silentLogger });
      apps.push(app);
      return app;
    },
    async close() {
      await Promise.allSettled(apps.map((a) => closeApp(a)));
      await Promise.allSettled(connections.map((k) => k.destroy()));
      await Promise.allSettled(databases.map((db) => db.drop()));
    },
  };
}
