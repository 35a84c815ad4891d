/**
 * Credentials for the security suite: HS256 tokens signed the way an identity provider would, and
 * the config block of a JWT-authenticated server.
 */
import { SignJWT } from 'jose';

export const JWT_SECRET = 'security-suite-secret-0123456789abcdef';

export interface TokenOptions {
  secret?: string;
  /** Expiry as jose reads it ("5m", seconds since the epoch); null: no exp claim at all. */
  exp?: string | number | null;
  /** Issued-at (seconds since the epoch); null: no iat claim. Default now. */
  iat?: number | null;
  alg?: 'HS256' | 'HS512';
}

export function signToken(claims: Record<string, unknown>, opts: TokenOptions = {}): Promise<string> {
  const jwt = new SignJWT(claims).setProtectedHeader({ alg: opts.alg ?? 'HS256' });
  if (opts.iat !== null) jwt.setIssuedAt(opts.iat);
  if (opts.exp !== null) jwt.setExpirationTime(opts.exp ?? '5m');
  return jwt.sign(new TextEncoder().encode(opts.secret ?? JWT_SECRET));
}

/** `Authorization: Bearer` for a token of `sub` with `role` (and `team`). */
export async function bearer(sub: string, role: string, extra: Record<string, unknown> = {}, opts: TokenOptions = {}): Promise<Record<string, string>> {
  return { authorization: `Bearer ${await signToken({ sub, role, ...extra }, opts)}` };
}

/** The server block of a JWT server with the fixture's roles (indented under `server:`). */
export function jwtServer(extra = ''): string {
  return `
  auth:
    mode: jwt
    jwt: { secret: "${JWT_SECRET}"${extra} }
    roles:
      admin: { customers: all, write: true, admin: true }
      manager: { customers: team, write: true }
      sales: { customers: own, write: true, hide: [Customer.creditLimit] }
`;
}
