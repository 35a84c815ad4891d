/** A world for one test: made, seeded and opened in one call, closed when the test finishes. */
import type { App } from '../../app/app.js';
import { closeAfterTest } from '../support/lifecycle.js';
import { createWorld, seedErp, type World, type WorldOptions } from './support.js';

/** A world (closed after the test) whose ERP holds `rows`, and an app open on it. */
export async function seededWorld(rows: Parameters<typeof seedErp>[1], opts: WorldOptions = {}): Promise<{ world: World; app: App }> {
  const world = closeAfterTest(await createWorld(opts));
  await seedErp(world.erp, rows);
  const app = await world.open();
  return { world, app };
}
