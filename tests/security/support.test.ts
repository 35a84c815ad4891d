import { expect, test } from 'vitest';
import { SERVER_AUTH } from '../graphql/fixture.js';
import { useSecurityServer } from './support.js';

const s = useSecurityServer({ customers: 4, server: SERVER_AUTH });

test('the security suite reaches a real server over HTTP', async () => {
  expect((await s.fetch('/healthz')).status).toBe(200);
  const r = await s.gql('{ customers { totalCount } }', {}, { 'x-api-key': 'admin-key-0123456789' });
  expect(r.data.customers.totalCount).toBe(4);
});
