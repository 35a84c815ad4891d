/**
 * syncRunProgress and conflictOpened over server-sent events on a real server: a run of several
 * pages started by the runSyncJob mutation streams growing `done` counts and a final event with
 * its status; a conflict a sync run raises arrives once committed; both are refused to a non-admin.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { openApp, type App } from '../../app/app.js';
import { parseConfig } from '../../config/load.js';
import { silentLogger } from '../../core/logger.js';
import { startServer } from '../../server/server.js';
import { runJob } from '../../sync/engine.js';
import { SERVER_AUTH } from './fixture.js';
import { createWorld, editHub, seedErp, type World } from '../sync/support.js';
import { subscribeSse, type SseStream } from '../support/sse.js';

const ADMIN = { 'x-api-key': 'admin-key-0123456789' };
const ALICE = { 'x-api-key': 'alice-key-0123456789' };

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups.length = 0;
});

interface Served {
  w: World;
  app: App;
  url: string;
  gql(query: string, headers?: Record<string, string>): Promise<{ data?: Record<string, unknown>; errors?: unknown[] }>;
  subscribe(query: string, headers?: Record<string, string>): Promise<SseStream>;
}

/** 23 ERP customers pulled 5 to a page: five pages of progress. */
async function serve(): Promise<Served> {
  const w = await createWorld({ batchSize: 5, label: 'ssub' });
  cleanups.push(() => w.close());
  await seedErp(w.erp, Array.from({ length: 23 }, (_, i) => ({ code: `C${String(i + 1).padStart(3, '0')}`, name: `Customer ${i + 1}`, phone: `010-${i + 1}` })));
  const app = await openApp(parseConfig(`${w.yaml}server:${SERVER_AUTH}`), { logger: silentLogger });
  const server = await startServer(app, { port: 0, host: '127.0.0.1' });
  cleanups.push(() => server.close());
  const url = `http://127.0.0.1:${server.port}/graphql`;
  return {
    w,
    app,
    url,
    gql: async (query, headers = ADMIN) => {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query }) });
      return (await res.json()) as { data?: Record<string, unknown>; errors?: unknown[] };
    },
    subscribe: async (query, headers = ADMIN) => {
      const s = await subscribeSse(url, query, headers);
      cleanups.push(() => s.close());
      return s;
    },
  };
}

const PROGRESS = `subscription { syncRunProgress(job: "customers") { runId job phase source done estimated rowsPerSecond etaSeconds final status } }`;

interface Progress {
  runId: string | null;
  job: string;
  phase: string | null;
  source: string | null;
  done: number;
  estimated: number | null;
  final: boolean;
  status: string | null;
}

describe('syncRunProgress', () => {
  it('streams the pages of a run started by runSyncJob, then a final event with its status', async () => {
    const s = await serve();
    const stream = await s.subscribe(PROGRESS);
    const run = await s.gql(`mutation { runSyncJob(job: "customers") { runId status } }`);
    expect(run.errors).toBeUndefined();
    const report = run.data!.runSyncJob as { runId: string; status: string };
    expect(report.status).toBe('OK');

    const events: Progress[] = [];
    for (;;) {
      const e = await stream.next();
      expect(e.errors).toBeUndefined();
      const p = e.data!.syncRunProgress as Progress;
      events.push(p);
      if (p.final) break;
    }
    const pulls = events.filter((e) => !e.final && e.phase === 'PULL' && e.source === 'erp');
    expect(pulls.map((e) => e.done)).toEqual([5, 10, 15, 20, 23]);
    // A first load counts the table: the estimate is known from the first page.
    expect(pulls.every((e) => e.estimated === 23)).toBe(true);
    expect(events.every((e) => e.runId === report.runId && e.job === 'customers')).toBe(true);
    const last = events[events.length - 1];
    expect(last).toMatchObject({ final: true, status: 'OK' });
    expect(events.filter((e) => e.final)).toHaveLength(1);
  });

  it('is refused to a non-admin role', async () => {
    const s = await serve();
    const stream = await s.subscribe(PROGRESS, ALICE);
    const e = await stream.next();
    expect(e.data ?? null).toBeNull();
    expect(e.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const conflicts = await s.subscribe(`subscription { conflictOpened { id } }`, ALICE);
    expect((await conflicts.next()).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});

describe('conflictOpened', () => {
  it('receives the conflict a sync run raises, once committed', async () => {
    const s = await serve();
    expect((await runJob(s.app, 'customers')).status).toBe('ok');
    // The same field changed on both sides since the last run: a manual conflict.
    await editHub(s.app, 'C002', { phone: '021-HUB' });
    await s.w.erp('erp_customer').where({ cust_code: 'C002' }).update({ phone: '021-ERP' });
    const stream = await s.subscribe(`subscription { conflictOpened { id entity recordId field status values { side value } } }`);
    const run = await s.gql(`mutation { runSyncJob(job: "customers") { totals { conflicts } } }`);
    expect(run.errors).toBeUndefined();
    const e = await stream.next();
    expect(e.errors).toBeUndefined();
    const c = e.data!.conflictOpened as { id: string; entity: string; recordId: string; field: string; status: string; values: { side: string; value: unknown }[] };
    const row = (await s.app.hub.knex('crm_conflict').where({ status: 'open' }).first()) as { id: number; gid: string };
    expect(c).toMatchObject({ id: String(row.id), entity: 'Customer', recordId: row.gid, field: 'phone', status: 'OPEN' });
    expect(Object.fromEntries(c.values.map((v) => [v.side, v.value]))).toMatchObject({ hub: '021-HUB', erp: '021-ERP' });
  });
});
