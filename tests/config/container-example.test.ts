/**
 * The container example (docs/examples/container) is what operators copy: its config loads with
 * the environment variables the Dockerfile and docs/operations.md name, passes the production
 * checks, and takes its listen address and port from the environment.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { parseConfig } from '../../config/index.js';
import { serverIssues } from '../../config/server.js';

const dir = new URL('../../docs/examples/container/', import.meta.url);
const CONFIG = readFileSync(fileURLToPath(new URL('crmlink.yaml', dir)), 'utf8');
const DOCKERFILE = readFileSync(fileURLToPath(new URL('Dockerfile', dir)), 'utf8');

const env = {
  ERP_HOST: 'erp.internal',
  ERP_USER: 'crm',
  ERP_PASSWORD: 'x-password',
  CRMLINK_PUBLIC_HOST: 'crm.example.com',
  OIDC_JWKS_URL: 'https://login.example.com/realms/corp/protocol/openid-connect/certs',
  OIDC_ISSUER: 'https://login.example.com/realms/corp',
};

it('loads with the documented environment and passes the production checks', () => {
  const { config } = parseConfig(CONFIG, { env, file: 'crmlink.yaml' });
  expect(serverIssues(config)).toEqual([]);
  expect(config.server).toMatchObject({ host: '0.0.0.0', port: 4000, production: true, allowedHosts: ['crm.example.com'] });
  expect(config.server.auth.jwt?.jwksUrl).toBe(env.OIDC_JWKS_URL);
  // The Dockerfile's environment moves the listener.
  expect(parseConfig(CONFIG, { env: { ...env, CRMLINK_HOST: '::', CRMLINK_PORT: '8080' } }).config.server).toMatchObject({ host: '::', port: 8080 });
});

it('the Dockerfile serves the config it names and probes /healthz', () => {
  expect(DOCKERFILE).toContain('CRMLINK_CONFIG=/etc/crmlink/crmlink.yaml');
  expect(DOCKERFILE).toMatch(/HEALTHCHECK[\s\S]*\/healthz/);
  expect(DOCKERFILE).toContain('CMD ["node", "bin/crmlink.mjs", "serve"]');
});
