/**
 * Tokens as identity providers issue them: RS256/ES256 verified against a JSON Web Key Set served
 * by a local HTTP server on 127.0.0.1 that rotates its keys, issuer and audience checks, clock
 * tolerance, algorithm confusion, and the mapping from claims to user, role and team.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { SignJWT, exportJWK, exportSPKI, generateKeyPair, type JWK, type CryptoKey } from 'jose';
import { parseConfig } from '../../config/load.js';
import { ConfigError } from '../../core/errors.js';
import { claimAt, roleOf } from '../../server/plugins/jwt.js';
import { startSecurityServer, type SecurityServer } from './support.js';

const ISSUER = 'https://idp.test/realms/crm';
const AUDIENCE = 'crmlink';

interface SigningKey {
  kid: string;
  alg: 'RS256' | 'ES256';
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  jwk: JWK;
}

async function signingKey(kid: string, alg: 'RS256' | 'ES256'): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, publicKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

/** A JWKS endpoint on 127.0.0.1 whose key set the test replaces (rotation); it counts fetches. */
class LocalJwks {
  keys: SigningKey[] = [];
  fetches = 0;
  available = true;
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((_req, res) => {
      this.fetches += 1;
      if (!this.available) {
        res.writeHead(503).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: this.keys.map((k) => k.jwk) }));
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/.well-known/jwks.json`;
  }

  close(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }
}

interface Claims {
  [claim: string]: unknown;
}

function sign(key: SigningKey, claims: Claims, opts: { iss?: string; aud?: string; exp?: number | string; kid?: string } = {}): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: key.alg, kid: opts.kid ?? key.kid })
    .setIssuer(opts.iss ?? ISSUER)
    .setAudience(opts.aud ?? AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(opts.exp ?? '5m')
    .sign(key.privateKey);
}

const jwksServer = (url: string, extra = '') => `
  auth:
    mode: jwt
    jwt:
      jwksUrl: "${url}"
      issuer: "${ISSUER}"
      audience: "${AUDIENCE}"
      jwksCooldownSeconds: 0
      clockTolerance: 30s
      userClaim: ext.employee
      roleClaim: groups
      teamClaim: ext.region
      roleMap: { crm-admins: admin, crm-managers: manager, crm-sales: sales }
${extra}
    roles:
      admin: { customers: all, write: true, admin: true }
      manager: { customers: team, write: true }
      sales: { customers: own, write: true, hide: [Customer.creditLimit] }
`;

const Q = '{ customers { totalCount } }';

describe('JWT against an identity provider key set (JWKS on 127.0.0.1)', () => {
  const jwks = new LocalJwks();
  let s: SecurityServer;
  let rsa1: SigningKey;
  let ec1: SigningKey;
  let rsa2: SigningKey;
  const as = (token: string) => s.gql(Q, {}, { authorization: `Bearer ${token}` });
  const admin = { groups: ['everyone', 'crm-admins'], ext: { employee: 'root' } };

  const refused = async (token: string, message: string) => {
    const r = await as(token);
    expect(r.status).toBe(401);
    expect(r.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(r.errors?.[0]?.message).toBe(message);
    expect(r.data ?? null).toBeNull();
  };

  beforeAll(async () => {
    [rsa1, ec1, rsa2] = await Promise.all([signingKey('rsa-1', 'RS256'), signingKey('ec-1', 'ES256'), signingKey('rsa-2', 'RS256')]);
    jwks.keys = [rsa1, ec1];
    await jwks.start();
    s = await startSecurityServer({ customers: 4, server: jwksServer(jwks.url) });
  });
  afterAll(async () => {
    await s?.close();
    await jwks.close();
  });

  test('RS256 and ES256 tokens of the key set are served', async () => {
    expect((await as(await sign(rsa1, admin))).data).toEqual({ customers: { totalCount: 4 } });
    expect((await as(await sign(ec1, admin))).data).toEqual({ customers: { totalCount: 4 } });
  });

  test('the key set is cached: more tokens fetch nothing', async () => {
    await as(await sign(rsa1, admin));
    const before = jwks.fetches;
    for (let i = 0; i < 3; i++) expect((await as(await sign(rsa1, admin))).status).toBe(200);
    expect(jwks.fetches).toBe(before);
  });

  test('claims map to user, role (first roleMap entry carried) and team', async () => {
    // alice is a salesperson: customers 1 and 3 are hers.
    const alice = await sign(rsa1, { groups: ['staff', 'crm-sales'], ext: { employee: 'alice', region: 'east' } });
    expect((await as(alice)).data).toEqual({ customers: { totalCount: 2 } });
    // A manager of team east (customers 1 and 3), from the nested region claim.
    const carol = await sign(rsa1, { groups: 'crm-managers', ext: { employee: 'carol', region: 'east' } });
    expect((await as(carol)).data).toEqual({ customers: { totalCount: 2 } });
    // crm-admins is written before crm-sales in roleMap: admin wins whatever the token's order.
    expect((await as(await sign(rsa1, { groups: ['crm-sales', 'crm-admins'], ext: { employee: 'root' } }))).data).toEqual({ customers: { totalCount: 4 } });
  });

  test('a token with no mapped group, a role name not in roleMap, or no user is refused', async () => {
    await refused(await sign(rsa1, { groups: ['staff'], ext: { employee: 'x' } }), `the token's "groups" claim carries no value listed in server.auth.jwt.roleMap`);
    // The crmlink role name itself is not a group the identity provider vouched for.
    await refused(await sign(rsa1, { groups: ['admin'], ext: { employee: 'x' } }), `the token's "groups" claim carries no value listed in server.auth.jwt.roleMap`);
    await refused(await sign(rsa1, { groups: ['crm-admins'], sub: 'root' }), 'the token has no user ("ext.employee" claim)');
  });

  test('a wrong issuer is refused', async () => {
    await refused(await sign(rsa1, admin, { iss: 'https://evil.test/' }), 'claim "iss" is not accepted (check_failed)');
  });

  test('a wrong audience is refused', async () => {
    await refused(await sign(rsa1, admin, { aud: 'another-api' }), 'claim "aud" is not accepted (check_failed)');
  });

  test('an expired token is refused; within the clock tolerance it is not yet', async () => {
    const now = Math.floor(Date.now() / 1000);
    await refused(await sign(rsa1, admin, { exp: now - 120 }), 'the token has expired');
    expect((await as(await sign(rsa1, admin, { exp: now - 5 }))).status).toBe(200);
  });

  test('algorithm confusion: an HS256 token signed with the RSA public key is refused', async () => {
    const publicPem = await exportSPKI(rsa1.publicKey);
    const forged = await new SignJWT(admin)
      .setProtectedHeader({ alg: 'HS256', kid: rsa1.kid })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(publicPem));
    await refused(forged, "the token's algorithm is not accepted");
    // The JWK's own bytes as the HMAC secret: the same.
    const forgedJwk = await new SignJWT(admin)
      .setProtectedHeader({ alg: 'HS256', kid: rsa1.kid })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(JSON.stringify(rsa1.jwk)));
    await refused(forgedJwk, "the token's algorithm is not accepted");
  });

  test('an unknown kid is refused', async () => {
    const stranger = await signingKey('stranger', 'RS256');
    await refused(await sign(stranger, admin), "the token's key is not in the identity provider's key set");
    // A known kid on a token signed by another key: the signature does not verify.
    await refused(await sign(stranger, admin, { kid: rsa1.kid }), 'the token is not valid');
  });

  test('a rotated key: the new kid is accepted without a restart, the retired one refused', async () => {
    expect((await as(await sign(rsa1, admin))).status).toBe(200);
    jwks.keys = [rsa2, ec1];
    const before = jwks.fetches;
    expect((await as(await sign(rsa2, admin))).data).toEqual({ customers: { totalCount: 4 } });
    expect(jwks.fetches).toBe(before + 1);
    await refused(await sign(rsa1, admin), "the token's key is not in the identity provider's key set");
  });

  test('a key set that cannot be fetched answers 503, not a verdict on the token', async () => {
    jwks.available = false;
    try {
      const unseen = await signingKey('rsa-3', 'RS256');
      const r = await as(await sign(unseen, admin));
      expect(r.status).toBe(503);
      expect(r.errors?.[0]?.extensions?.code).toBe('SOURCE_UNAVAILABLE');
      expect(r.errors?.[0]?.extensions?.setting).toBe('server.auth.jwt.jwksUrl');
    } finally {
      jwks.available = true;
    }
  });
});

describe('JWT config checks', () => {
  const issuesOf = (server: string) => {
    // parseConfig runs the server checks too (as `config check` does) and throws them.
    try {
      parseConfig(`server:\n  production: true${server}\nsources: {}\n`);
      return [];
    } catch (err) {
      if (err instanceof ConfigError) return err.issues.map((i) => i.path);
      throw err;
    }
  };

  test('secret and jwksUrl together, an http key set in production, and a roleMap to an undeclared role are refused', () => {
    expect(issuesOf(jwksServer('https://idp.test/jwks', '      secret: "0123456789abcdef0123"'))).toContain('server.auth.jwt.jwksUrl');
    expect(issuesOf(jwksServer('http://idp.test/jwks'))).toContain('server.auth.jwt.jwksUrl');
    expect(issuesOf(jwksServer('http://127.0.0.1:9/jwks'))).toEqual([]);
    expect(issuesOf(jwksServer('https://idp.test/jwks').replace('crm-sales: sales', 'crm-sales: seller'))).toContain('server.auth.jwt.roleMap.crm-sales');
  });
});

describe('claim lookup', () => {
  test('an exact claim name wins over a dotted path; paths reach into objects only', () => {
    expect(claimAt({ 'https://x.test/roles': ['a'] }, 'https://x.test/roles')).toEqual(['a']);
    expect(claimAt({ realm_access: { roles: ['r'] } }, 'realm_access.roles')).toEqual(['r']);
    expect(claimAt({ a: ['x'] }, 'a.0')).toBeUndefined();
    expect(claimAt({}, '__proto__.constructor')).toBeUndefined();
  });

  test('without roleMap the role claim must be one string', () => {
    expect(roleOf({ roleClaim: 'role' }, 'sales')).toBe('sales');
    expect(roleOf({ roleClaim: 'role' }, ['sales'])).toBeUndefined();
  });
});
