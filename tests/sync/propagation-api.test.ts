/**
 * `createCustomer(..., propagate: WAIT)` over a real HTTP server: the answer says, per target
 * system, the key created there or why the record was parked or left pending. The hub is SQLite,
 * the ERP MariaDB, finance PostgreSQL behind a TCP proxy the test can take down (a target that is
 * down must not block the others, and catches up when it returns).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { openApp, type App } from '../../app/app.js';
import { parseConfig } from '../../config/load.js';
import { silentLogger } from '../../core/logger.js';
import { startServer, type RunningServer } from '../../server/server.js';
import { runJob } from '../../sync/engine.js';
import { Propagator, type PropagationOptions } from '../../sync/propagation.js';
import { requireDialect } from '../support/databases.js';
import { SERVER_AUTH, type GqlResponse } from '../graphql/fixture.js';
import { ManualTimers, startProxy, type TcpProxy } from './propagation-support.js';
import { createWorld, seedErp, CODE_A, type World } from './support.js';

interface Served {
  w: World;
  app: App;
  propagator: Propagator;
  proxy: TcpProxy;
  gql(query: string, variables?: Record<string, unknown>, key?: string): Promise<GqlResponse>;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  cleanups.length = 0;
});

const ADMIN = 'admin-key-0123456789';

async function serve(opts: PropagationOptions = {}): Promise<Served | null> {
  if (!(await requireDialect('postgres')) || !(await requireDialect('mysql'))) return null;
  const w = await createWorld({ erp: 'mysql', finance: 'postgres', label: 'papi' });
  cleanups.push(() => w.close());
  await seedErp(w.erp, [{ code: 'C001', name: 'Acme', creditCode: CODE_A, phone: '010-1' }]);
  const conn = w.finDb.connection as { host?: string; port?: number };
  const proxy = await startProxy(conn.host ?? '127.0.0.1', conn.port ?? 5432);
  cleanups.push(() => proxy.close());
  const yaml = w.yaml.replace(JSON.stringify(w.finDb.connection), JSON.stringify({ ...w.finDb.connection, host: '127.0.0.1', port: proxy.port })) + `server:${SERVER_AUTH}`;
  const app = await openApp(parseConfig(yaml), { logger: silentLogger });
  expect((await runJob(app, 'customers')).status).toBe('ok');
  const propagator = new Propagator(app, { debounceMs: 0, retryMs: 3_600_000, runOptions: { retries: 0 }, ...opts }).start();
  app.propagation = propagator;
  const server: RunningServer = await startServer(app, { port: 0, host: '127.0.0.1', background: [propagator] });
  cleanups.push(() => server.close());
  const gql = async (query: string, variables?: Record<string, unknown>, key = ADMIN): Promise<GqlResponse> => {
    const res = await fetch(`http://127.0.0.1:${server.port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': key },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as { data?: unknown; errors?: GqlResponse['errors'] };
    return { status: res.status, data: body.data, ...(body.errors ? { errors: body.errors } : {}) };
  };
  return { w, app, propagator, proxy, gql };
}

const CREATE = `mutation($input: CustomerCreateInput!, $propagate: Propagate, $timeoutMs: Int) {
  createCustomer(input: $input, propagate: $propagate, timeoutMs: $timeoutMs) { id code propagation { job source key status reason } }
}`;
const PROPAGATION = `query($id: ID!) { customer(id: $id) { propagation { job source key status reason } } }`;

describe('createCustomer(propagate: WAIT)', () => {
  it('answers with the key each target system created', async (t) => {
    const s = await serve();
    if (!s) return t.skip();
    const r = await s.gql(CREATE, { input: { code: 'C010', name: 'Delta', phone: '010-12345678' }, propagate: 'WAIT', timeoutMs: 30000 });
    expect(r.errors).toBeUndefined();
    expect(r.data.createCustomer.propagation).toEqual([
      { job: 'customers', source: 'erp', key: 'C010', status: 'SYNCED', reason: null },
      { job: 'customers', source: 'finance', key: 'C010', status: 'SYNCED', reason: null },
    ]);
    expect(await s.w.erp('erp_customer').where({ cust_code: 'C010' }).first()).toMatchObject({ cust_name: 'Delta', phone: '010-12345678' });
    expect(await s.w.fin('fin_account').where({ acct_no: 'C010' }).first()).toMatchObject({ name: 'Delta', phone: '010-12345678' });
  });

  it('says why a target parked the record, and the other target still has it', async (t) => {
    const s = await serve();
    if (!s) return t.skip();
    // Finance refuses a second account with the same phone (a rule only that database knows).
    await s.w.fin.raw('CREATE UNIQUE INDEX fin_account_phone ON fin_account (phone)');
    await s.w.fin('fin_account').insert({ acct_no: 'X900', name: 'Someone else', phone: '010-55556666' });
    const r = await s.gql(CREATE, { input: { code: 'C011', name: 'Eta', phone: '010-55556666' }, propagate: 'WAIT', timeoutMs: 30000 });
    expect(r.errors).toBeUndefined();
    const [erp, finance] = r.data.createCustomer.propagation;
    expect(erp).toMatchObject({ source: 'erp', key: 'C011', status: 'SYNCED' });
    expect(finance).toMatchObject({ source: 'finance', key: null, status: 'PARKED' });
    expect(finance.reason).toMatch(/fin_account_phone|unique|duplicate/i);
    expect(await s.w.fin('fin_account').where({ acct_no: 'C011' }).first()).toBeUndefined();
  });

  it('update waits too, for the version it wrote', async (t) => {
    const s = await serve();
    if (!s) return t.skip();
    const list = await s.gql('{ customers(first: 1) { nodes { id } } }');
    const id = list.data.customers.nodes[0].id as string;
    const r = await s.gql(
      `mutation($id: ID!) { updateCustomer(id: $id, input: { phone: "010-87654321" }, propagate: WAIT, timeoutMs: 30000) { phone propagation { source status } } }`,
      { id },
    );
    expect(r.errors).toBeUndefined();
    expect(r.data.updateCustomer.propagation).toEqual([
      { source: 'erp', status: 'SYNCED' },
      { source: 'finance', status: 'SYNCED' },
    ]);
    expect(await s.w.fin('fin_account').where({ acct_no: 'C001' }).first()).toMatchObject({ phone: '010-87654321' });
  });

  it('without WAIT answers at once with PENDING; the status reads SYNCED once the push ran', async (t) => {
    const timers = new ManualTimers();
    const s = await serve({ timers, debounceMs: 200 });
    if (!s) return t.skip();
    const r = await s.gql(CREATE, { input: { code: 'C012', name: 'Epsilon' } });
    expect(r.errors).toBeUndefined();
    const id = r.data.createCustomer.id as string;
    for (const target of r.data.createCustomer.propagation) expect(target).toMatchObject({ key: null, status: 'PENDING', reason: expect.stringMatching(/^queued/) });
    await s.propagator.settled();
    timers.advance(200);
    await s.propagator.settled();
    const after = await s.gql(PROPAGATION, { id });
    expect(after.data.customer.propagation.map((x: { key: string; status: string }) => `${x.key} ${x.status}`)).toEqual(['C012 SYNCED', 'C012 SYNCED']);
  });

  it('a target that is down: the others get the record at once, it shows PENDING with the failure, and catches up when back', async (t) => {
    const s = await serve();
    if (!s) return t.skip();
    await s.proxy.down();
    const r = await s.gql(CREATE, { input: { code: 'C013', name: 'Zeta' }, propagate: 'WAIT', timeoutMs: 30000 });
    expect(r.errors).toBeUndefined();
    const id = r.data.createCustomer.id as string;
    const [erp, finance] = r.data.createCustomer.propagation;
    expect(erp).toMatchObject({ source: 'erp', key: 'C013', status: 'SYNCED' });
    expect(finance).toMatchObject({ source: 'finance', key: null, status: 'PENDING' });
    expect(finance.reason).toMatch(/^finance failed: /);
    expect(await s.w.erp('erp_customer').where({ cust_code: 'C013' }).first()).toMatchObject({ cust_name: 'Zeta' });

    await s.proxy.up();
    // The retry would come after sync.propagation.retryMs; run it now.
    await s.propagator.flush('customers');
    const after = await s.gql(PROPAGATION, { id });
    expect(after.data.customer.propagation[1]).toEqual({ job: 'customers', source: 'finance', key: 'C013', status: 'SYNCED', reason: null });
    expect(await s.w.fin('fin_account').where({ acct_no: 'C013' }).first()).toMatchObject({ name: 'Zeta' });
  });
});
