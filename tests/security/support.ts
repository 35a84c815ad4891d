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
