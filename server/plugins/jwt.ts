/**
 * Bearer tokens (server.auth.jwt): HS256 with a shared secret, or RS256/ES256 (see `algorithms`)
 * against an identity provider's JSON Web Key Set, and the mapping from the token's claims to
 * crmlink's user, role and team.
 *
 * The key set is fetched by jose's createRemoteJWKSet: cached for jwksCacheSeconds, fetched again
 * when a token names a key id it does not hold (at most once per jwksCooldownSeconds), so an
 * identity provider that rotates its keys is followed without a restart. One key set per config
 * object, kept as long as the config is.
 *
 * Algorithm confusion is closed twice: a key set only ever verifies the asymmetric algorithms
 * configured (an HS256 token "signed" with the public key is refused before any key is looked
 * up), and a secret only ever verifies HS256.
 */
import { createRemoteJWKSet, jwtVerify, errors as joseErrors, type JWTPayload, type JWTVerifyGetKey, type JWTVerifyOptions } from 'jose';
import type { ServerConfig } from '../../config/schema.js';
import { hasOwnKey } from '../../core/own.js';
import { requestError } from './use-error-masking.js';

export type JwtConfig = NonNullable<ServerConfig['auth']['jwt']>;

/** Who a verified token names, before the role is checked against server.auth.roles. */
export interface TokenIdentity {
  user: string;
  role: string;
  team?: string;
}

const keySets = new WeakMap<JwtConfig, JWTVerifyGetKey>();

function keySetOf(jwt: JwtConfig, jwksUrl: string): JWTVerifyGetKey {
  let keys = keySets.get(jwt);
  if (!keys) {
    keys = createRemoteJWKSet(new URL(jwksUrl), {
      cacheMaxAge: jwt.jwksCacheSeconds * 1000,
      cooldownDuration: jwt.jwksCooldownSeconds * 1000,
      timeoutDuration: jwt.jwksTimeoutSeconds * 1000,
    });
    keySets.set(jwt, keys);
  }
  return keys;
}

function verifyOptions(jwt: JwtConfig, algorithms: string[]): JWTVerifyOptions {
  return {
    algorithms,
    clockTolerance: jwt.clockTolerance,
    // A token that never expires is a password that cannot be changed: refuse it, unless the
    // config bounds the age of tokens by their iat instead.
    ...(jwt.maxTokenAge !== undefined ? { maxTokenAge: jwt.maxTokenAge, requiredClaims: ['iat'] } : { requiredClaims: ['exp'] }),
    ...(jwt.issuer ? { issuer: jwt.issuer } : {}),
    ...(jwt.audience ? { audience: jwt.audience } : {}),
  };
}

async function verifiedPayload(jwt: JwtConfig, token: string): Promise<JWTPayload> {
  try {
    if (jwt.jwksUrl) {
      const { payload } = await jwtVerify(token, keySetOf(jwt, jwt.jwksUrl), verifyOptions(jwt, jwt.algorithms));
      return payload;
    }
    if (!jwt.secret) throw requestError('INTERNAL', 'server.auth.jwt.secret is not set', { setting: 'server.auth.jwt.secret' });
    const { payload } = await jwtVerify(token, new TextEncoder().encode(jwt.secret), verifyOptions(jwt, ['HS256']));
    return payload;
  } catch (err) {
    throw refusal(err);
  }
}

function refusal(err: unknown): Error {
  if (err instanceof joseErrors.JWKSTimeout || err instanceof joseErrors.JWKSInvalid || (err instanceof joseErrors.JOSEError && err.code === 'ERR_JOSE_GENERIC') || err instanceof TypeError) {
    // The identity provider's keys could not be fetched: not the caller's fault, and not a
    // verdict on the token.
    return requestError('SOURCE_UNREACHABLE', "the identity provider's key set could not be fetched", { setting: 'server.auth.jwt.jwksUrl' });
  }
  if (!(err instanceof joseErrors.JOSEError)) return err instanceof Error ? err : new Error(String(err));
  const why =
    err instanceof joseErrors.JWTExpired
      ? 'the token has expired'
      : err instanceof joseErrors.JWTClaimValidationFailed
        ? err.reason === 'missing'
          ? `the token has no "${err.claim}" claim${err.claim === 'exp' ? ' (tokens must expire; or set server.auth.jwt.maxTokenAge)' : ''}`
          : `claim "${err.claim}" is not accepted (${err.reason})`
        : err instanceof joseErrors.JWKSNoMatchingKey
          ? "the token's key is not in the identity provider's key set"
          : err instanceof joseErrors.JOSEAlgNotAllowed
            ? "the token's algorithm is not accepted"
            : 'the token is not valid';
  return requestError('UNAUTHENTICATED', why);
}

/**
 * A claim by name: the claim of exactly that name when the token has one (namespaced claims such
 * as "https://example.com/roles" hold dots), else the dotted path into nested objects.
 */
export function claimAt(payload: Record<string, unknown>, name: string): unknown {
  if (hasOwnKey(payload, name)) return payload[name];
  let at: unknown = payload;
  for (const part of name.split('.')) {
    if (typeof at !== 'object' || at === null || Array.isArray(at) || !hasOwnKey(at as Record<string, unknown>, part)) return undefined;
    at = (at as Record<string, unknown>)[part];
  }
  return at;
}

/** The crmlink role a token's role claim names: through roleMap when configured, else the claim itself (a string). */
export function roleOf(jwt: Pick<JwtConfig, 'roleClaim' | 'roleMap'>, claim: unknown): string | undefined {
  if (!jwt.roleMap) return typeof claim === 'string' ? claim : undefined;
  const carried = new Set(typeof claim === 'string' ? [claim] : Array.isArray(claim) ? claim.filter((v): v is string => typeof v === 'string') : []);
  for (const [value, role] of Object.entries(jwt.roleMap)) {
    if (carried.has(value)) return role;
  }
  return undefined;
}

/** Verify `token` and read who it names. Throws a request error (401, or 503 when the key set cannot be fetched). */
export async function identityOfToken(jwt: JwtConfig, token: string): Promise<TokenIdentity> {
  const payload = await verifiedPayload(jwt, token);
  const user = claimAt(payload, jwt.userClaim);
  const role = roleOf(jwt, claimAt(payload, jwt.roleClaim));
  const team = claimAt(payload, jwt.teamClaim);
  if (typeof user !== 'string' || user === '') throw requestError('UNAUTHENTICATED', `the token has no user ("${jwt.userClaim}" claim)`);
  if (role === undefined) {
    throw requestError(
      'UNAUTHENTICATED',
      jwt.roleMap ? `the token's "${jwt.roleClaim}" claim carries no value listed in server.auth.jwt.roleMap` : `the token has no "${jwt.roleClaim}" claim`,
    );
  }
  return { user, role, ...(typeof team === 'string' && team !== '' ? { team } : {}) };
}
