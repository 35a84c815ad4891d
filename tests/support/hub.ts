/**
 * A hub on a fresh test database for the describe block that calls `useTestHub`: opened before
 * its tests, dropped after. `hub` stays null when the database server is missing, so the tests can
 * skip (loudly, and failing under CI=true: see databases.ts requireDialect).
 */
import { afterAll, beforeAll, type TestContext } from 'vitest';
import { parseConfig } from '../../config/load.js';
import { Hub } from '../../hub/hub.js';
import { ensureSyncTables } from '../../hub/sync-tables.js';
import { createTestDatabase, requireDialect, type TestDatabase } from './databases.js';

/** One SQLite ERP source: enough for a hub that only needs a source name. */
const ONE_ERP_SOURCE = { erp: { kind: 'erp', dialect: 'sqlite', connection: { filename: './erp.db' } } };

/** `sources`: the config's sources section, for hubs whose behaviour depends on which sources there are. */
export function useTestHub(dialect: 'sqlite' | 'postgres', label: string, sources: Record<string, unknown> = ONE_ERP_SOURCE): { hub: Hub | null } {
  const state: { hub: Hub | null; db?: TestDatabase } = { hub: null };
  beforeAll(async () => {
    if (!(await requireDialect(dialect))) return;
    state.db = await createTestDatabase(dialect, label);
    state.hub = await Hub.open(parseConfig(JSON.stringify({ hub: { dialect, connection: state.db.connection }, sources })));
    await ensureSyncTables(state.hub.knex);
  });
  afterAll(async () => {
    await state.hub?.destroy();
    await state.db?.drop();
  });
  return state;
}

/** The block's hub from `useTestHub`; the test is skipped when its database is missing. */
export function hubOrSkip(ctx: { hub: Hub | null }, t: Pick<TestContext, 'skip'>): Hub {
  return ctx.hub ?? t.skip();
}
