/**
 * The security suite talks to a real crmlink server over HTTP: the GraphQL fixture's three
 * sources and hub (tests/graphql/fixture.ts) behind `startServer` on an ephemeral port of
 * 127.0.0.1, so every plugin, route and header is the one production runs.
 */
import { startServer, type RunningServer } from '../../server/server.js';
import { useOpened } from '../support/lifecycle.js';
import { createFixture, type Fixture, type FixtureOptions, type GqlResponse } from '../graphql/fixture.js';

export interface SecurityServer {
  fixture: Fixture;
  server: RunningServer;
  /** http://127.0.0.1:PORT */
  url: string;
  /** A raw request to a path of the server. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** POST a GraphQL document as JSON and parse the answer (whatever its status). */
  gql(query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<GqlResponse>;
  close(): Promise<void>;
}

export interface SecurityServerOptions extends FixtureOptions {
  /** Runs after the fixture is built and before the server starts (e.g. to swap the app's logger). */
  beforeStart?: (fixture: Fixture) => void | Promise<void>;
}

export async function startSecurityServer(opts: SecurityServerOptions = {}): Promise<SecurityServer> {
  const fixture = await createFixture(opts);
  await opts.beforeStart?.(fixture);
  const server = await startServer(fixture.app, { port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${server.port}`;
  const fetchPath = (path: string, init?: RequestInit) => fetch(`${url}${path}`, init);
  return {
    fixture,
    server,
    url,
    fetch: fetchPath,
    async gql(query, variables, headers) {
      const res = await fetchPath('/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(headers ?? {}) },
        body: JSON.stringify({ query, variables }),
      });
      const text = await res.text();
      let body: { data?: unknown; errors?: GqlResponse['errors'] } = {};
      try {
        body = JSON.parse(text) as typeof body;
      } catch {
        body = { errors: [{ message: `not JSON (${res.status}): ${text.slice(0, 200)}` }] };
      }
      return { status: res.status, data: body.data, ...(body.errors ? { errors: body.errors } : {}) };
    },
    async close() {
      // The server closes the app (pools); the fixture then drops its databases.
      await server.close();
      await fixture.close();
    },
  };
}

/**
 * A security server for the describe block (or file) that calls this: started before its tests,
 * closed after them (see useOpened).
 */
export function useSecurityServer(opts: SecurityServerOptions = {}): SecurityServer {
  return useOpened(() => startSecurityServer(opts));
}

/** `work` timed, with /healthz asked again and again meanwhile: its result, how long it took, and the slowest /healthz answer. */
export async function whileProbingHealth<T>(s: SecurityServer, work: () => Promise<T>): Promise<{ result: T; ms: number; slowest: number }> {
  let done = false;
  let slowest = 0;
  const probe = (async () => {
    while (!done) {
      const t = performance.now();
      await (await s.fetch('/healthz')).text();
      slowest = Math.max(slowest, performance.now() - t);
    }
  })();
  const t = performance.now();
  try {
    const result = await work();
    return { result, ms: performance.now() - t, slowest };
  } finally {
    done = true;
    await probe;
  }
}

/** The ids of bob's first order and invoice (customer 2's), read with `headers` that may see them. */
export async function bobsOrderAndInvoice(s: SecurityServer, headers: Record<string, string>): Promise<{ order: string; invoice: string }> {
  const r = await s.gql('{ salesOrders(where: { code: { eq: "SO0002-1" } }) { nodes { id } } invoices(where: { code: { eq: "INV0002-1" } }) { nodes { id } } }', {}, headers);
  return { order: r.data.salesOrders.nodes[0].id, invoice: r.data.invoices.nodes[0].id };
}
