/** The sync world of the propagation and poll benches (tests/sync/support.ts) brought to its starting point. */
import type { App } from '../../app/app.js';
import { installCapture } from '../../connectors/capture/index.js';
import { runJob } from '../../sync/engine.js';
import { seedErp, type World } from '../../tests/sync/support.js';

/** Finance's trigger capture installed, `customers` ERP customers (B00000, …) seeded, and the `customers` job's initial load run; throws if the load fails. */
export async function loadBenchCustomers(world: World, app: App, customers: number): Promise<void> {
  await installCapture(app.sources.driver('finance'), app.sources.mapping('Customer', 'finance'));
  await seedErp(
    world.erp,
    Array.from({ length: customers }, (_, i) => ({ code: `B${String(i).padStart(5, '0')}`, name: `Bench ${i}`, phone: `010-${String(10000000 + i)}` })),
  );
  const load = await runJob(app, 'customers');
  if (load.status !== 'ok') throw new Error(`initial load: ${load.status} ${load.error?.message ?? ''}`);
}
