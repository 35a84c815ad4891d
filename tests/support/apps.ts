/**
 * A hub and two source databases (an ERP and a finance system), and the apps a test opens on one
 * config over them, closed together with the databases. Plain code (no test hooks): the
 * benchmarks build their worlds with it too.
 */
import type { Knex } from 'knex';
import { parseConfig } from '../../config/load.js';
import { closeApp, openApp, type App } from '../../app/app.js';
import { silentLogger } from '../../core/logger.js';
import type { Dialect } from '../../config/schema.js';
import { createTestDatabase, fixtureKnex, type TestDatabase } from './databases.js';

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

export interface HubErpFinance {
  hubDb: TestDatabase;
  erpDb: TestDatabase;
  finDb: TestDatabase;
  /** Fixture connections to the ERP and finance databases. */
  erp: Knex;
  fin: Knex;
}

/** Fresh hub, ERP and finance databases named after `label`, with connections to the two sources. */
export async function hubErpFinance(label: string, dialects: { hub: Dialect; erp: Dialect; finance: Dialect }): Promise<HubErpFinance> {
  const hubDb = await createTestDatabase(dialects.hub, `${label}hub`);
  const erpDb = await createTestDatabase(dialects.erp, `${label}erp`);
  const finDb = await createTestDatabase(dialects.finance, `${label}fin`);
  return { hubDb, erpDb, finDb, erp: fixtureKnex(erpDb), fin: fixtureKnex(finDb) };
}
