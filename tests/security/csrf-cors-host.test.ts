/**
 * Another site in the user's browser gets nothing from crmlink: cross-site form posts and bare
 * GETs run no operation (CSRF), preflights from unknown origins get no CORS headers and no origin
 * is ever allowed with credentials, and a Host name the server does not know (DNS rebinding) is
 * refused. The server here is a development one open to an anonymous admin, like the demo: the
 * case where a forged request would do the most harm.
 */
import { describe, expect, test } from 'vitest';
import { startSecurityServer, useSecurityServer } from './support.js';
import { rawRequest } from './http.js';
import { hostName } from '../../server/hosts.js';

const EVIL = 'https://evil.example';
const MUTATION = 'mutation { updateCustomer(id: "cus_0001", input: { name: "pwned", creditLimit: "9999999" }) { id } }';

const s = useSecurityServer({ customers: 4 });

const host = () => `127.0.0.1:${s.server.port}`;
const customerOne = async () => (await s.gql('{ customer(id: "cus_0001") { name creditLimit } }')).data.customer;

describe('CSRF: cross-site simple requests run nothing', () => {
  const multipart = (fields: Record<string, string>) => {
    const boundary = '----crmlinkBoundary7MA4YWxkTrZu0gW';
    const body = Object.entries(fields)
      .map(([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`)
      .join('');
    return { type: `multipart/form-data; boundary=${boundary}`, body: `${body}--${boundary}--\r\n` };
  };
  const FORMS: [string, () => { type: string; body: string }][] = [
    ['application/x-www-form-urlencoded', () => ({ type: 'application/x-www-form-urlencoded', body: `query=${encodeURIComponent(MUTATION)}` })],
    ['multipart/form-data', () => multipart({ operations: JSON.stringify({ query: MUTATION }), map: '{}' })],
    ['text/plain', () => ({ type: 'text/plain;charset=UTF-8', body: JSON.stringify({ query: MUTATION }) })],
  ];

  test.each(FORMS)('a form post as %s is refused and changes nothing', async (_name, make) => {
    const before = await customerOne();
    const { type, body } = make();
    const r = await rawRequest(s.server.port, 'POST', '/graphql', { host: host(), origin: EVIL, 'content-type': type }, body);
    expect(r.status).toBe(403);
    expect(r.body).not.toContain('"updateCustomer"');
    expect(await customerOne()).toEqual(before);
    expect(before.name).toBe('Customer 0001 Ltd');
  });

  test('a GET without the CSRF header runs nothing; a client that sends it is served', async () => {
    const path = `/graphql?query=${encodeURIComponent('{ customers { totalCount } }')}`;
    const bare = await rawRequest(s.server.port, 'GET', path, { host: host(), origin: EVIL });
    expect(bare.status).toBe(403);
    expect(bare.body).not.toContain('totalCount');
    const client = await rawRequest(s.server.port, 'GET', path, { host: host(), 'x-crmlink-csrf': '1' });
    expect(client.status).toBe(200);
    // The answer (its extensions may carry a warning: this config has no sync job filling the hub).
    const answer = (JSON.parse(client.body)) as { data?: unknown; errors?: unknown };
    expect(answer.errors).toBeUndefined();
    expect(answer.data).toEqual({ customers: { totalCount: 4 } });
  });

  test('a JSON post (what the console and clients send) is served', async () => {
    const r = await rawRequest(s.server.port, 'POST', '/graphql', { host: host(), 'content-type': 'application/json' }, JSON.stringify({ query: '{ customers { totalCount } }' }));
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body).data.customers.totalCount).toBe(4);
  });
});

describe('CORS', () => {
  const preflight = (port: number, origin: string) =>
    rawRequest(port, 'OPTIONS', '/graphql', { host: `127.0.0.1:${port}`, origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, x-api-key' });

  test('off by default: no origin is reflected, nothing is allowed with credentials', async () => {
    const pre = await preflight(s.server.port, EVIL);
    expect(pre.headers['access-control-allow-origin']).toBeUndefined();
    expect(pre.headers['access-control-allow-credentials']).toBeUndefined();
    const post = await rawRequest(s.server.port, 'POST', '/graphql', { host: host(), origin: EVIL, 'content-type': 'application/json' }, JSON.stringify({ query: '{ customers { totalCount } }' }));
    expect(post.headers['access-control-allow-origin']).toBeUndefined();
    expect(post.headers['access-control-allow-credentials']).toBeUndefined();
  });

  test('an allowlisted origin gets CORS, without credentials; any other origin gets nothing', async () => {
    const allowed = await startSecurityServer({ customers: 1, server: '  cors: { origins: ["https://app.example.com", "http://localhost:5173"] }\n' });
    try {
      const ok = await preflight(allowed.server.port, 'https://app.example.com');
      expect(ok.headers['access-control-allow-origin']).toBe('https://app.example.com');
      expect(ok.headers['access-control-allow-credentials']).toBeUndefined();
      expect(String(ok.headers['access-control-allow-headers'])).toContain('x-api-key');
      for (const origin of [EVIL, 'https://app.example.com.evil.example', 'null']) {
        const no = await preflight(allowed.server.port, origin);
        expect(no.headers['access-control-allow-origin']).toBeUndefined();
        expect(no.headers['access-control-allow-credentials']).toBeUndefined();
      }
    } finally {
      await allowed.close();
    }
  });
});

describe('Host header (DNS rebinding)', () => {
  const json = JSON.stringify({ query: '{ customers { totalCount } }' });

  test('an unknown host name is refused on every route but the public probes', async () => {
    const evil = 'evil.example:' + s.server.port;
    const graphql = await rawRequest(s.server.port, 'POST', '/graphql', { host: evil, 'content-type': 'application/json' }, json);
    expect(graphql.status).toBe(421);
    expect(graphql.body).not.toContain('totalCount');
    for (const path of ['/console', '/console/', '/metrics', '/', '/graphql']) {
      expect((await rawRequest(s.server.port, 'GET', path, { host: evil })).status).toBe(421);
    }
    expect((await rawRequest(s.server.port, 'GET', '/healthz', { host: evil })).status).toBe(200);
    expect([200, 503]).toContain((await rawRequest(s.server.port, 'GET', '/readyz', { host: evil })).status);
  });

  test('localhost and the listen address are answered by default', async () => {
    for (const h of [`localhost:${s.server.port}`, `127.0.0.1:${s.server.port}`, `[::1]:${s.server.port}`, 'LOCALHOST.']) {
      const r = await rawRequest(s.server.port, 'POST', '/graphql', { host: h, 'content-type': 'application/json' }, json);
      expect(r.status, h).toBe(200);
    }
  });

  test('server.allowedHosts replaces the default list', async () => {
    const named = await startSecurityServer({ customers: 1, server: '  allowedHosts: [crm.example.com]\n' });
    try {
      const at = (h: string) => rawRequest(named.server.port, 'POST', '/graphql', { host: h, 'content-type': 'application/json' }, json);
      expect((await at('crm.example.com')).status).toBe(200);
      expect((await at(`CRM.example.com.:${named.server.port}`)).status).toBe(200);
      expect((await at(`localhost:${named.server.port}`)).status).toBe(421);
      expect((await at('crm.example.com.evil.example')).status).toBe(421);
    } finally {
      await named.close();
    }
  });

  test('host names are compared without port, case, brackets or a trailing dot; malformed ones match nothing', () => {
    expect(hostName('Example.COM.:8080')).toBe('example.com');
    expect(hostName('[::1]:4000')).toBe('::1');
    expect(hostName('127.0.0.1')).toBe('127.0.0.1');
    expect(hostName('localhost:abc')).toBeNull();
    expect(hostName('[::1]x')).toBeNull();
    expect(hostName('')).toBeNull();
    expect(hostName(undefined)).toBeNull();
  });
});
