import { afterAll, beforeAll, expect, test } from 'vitest';
import { SERVER_AUTH } from '../graphql/fixture.js';
import { startSecurityServer, type SecurityServer } from './support.js';

let s: SecurityServer;
beforeAll(async () => {
  s = await startSecurityServer({ customers: 4, server: SERVER_AUTH });
});
afterAll(async () => {
  await s?.close();
});

test('the security suite reaches a real server over HTTP', async () => {
  expect((await s.fetch('/healthz')).status).toBe(200);
  const r = await s.gql('{ customers { totalCount } }', {}, { 'x-api-key': 'admin-key-0123456789' });
  expect(r.data.customers.totalCount).toBe(4);
});
