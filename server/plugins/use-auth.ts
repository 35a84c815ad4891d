/**
 * Authentication: who is calling, and with which role (server.auth).
 *
 * - none: every request runs as `anonymousRole` (none set: every request is refused).
 * - apiKey: header `x-api-key` (or `Authorization: Bearer <key>`), compared in constant time with
 *   server.auth.apiKeys; the key names the user, role and team.
 * - jwt: `Authorization: Bearer <token>`, HS256 with server.auth.jwt.secret or RS256/ES256 against
 *   server.auth.jwt.jwksUrl (server/plugins/jwt.ts), issuer and audience checked when configured;
 *   `exp` is required unless `maxTokenAge` is set (then `iat` is, and the token may be no older);
 *   `userClaim`, `roleClaim` (through `roleMap`) and `teamClaim` name the user, role and team.
 *
 * Authentication runs first, in yoga's onRequestParse: before the body is read and before the
 * document is parsed or validated, so a request without valid credentials costs a header check
 * however large or deep its document. The viewer then lands in the GraphQL context as `viewer`;
 * resolvers apply its row rules and masks.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Plugin } from 'graphql-yoga';
import type { CrmlinkConfig } from '../../config/schema.js';
import { isCrmlinkError } from '../../core/errors.js';
import { anonymousViewer, viewerFor, type Viewer } from '../../schema/security.js';
import { requestError } from './use-error-masking.js';
import { identityOfToken } from './jwt.js';

export interface AuthOptions {
  config: CrmlinkConfig;
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/**
 * The configured key equal to `given`, compared in constant time: both sides are hashed to 32
 * bytes (so the lengths are equal whatever was sent) and compared with timingSafeEqual, and every
 * key is compared (no early exit that would tell which entry matched).
 */
export function matchApiKey<K extends { key: string }>(keys: readonly K[], given: string): K | undefined {
  const d = digest(given);
  let match: K | undefined;
  for (const k of keys) {
    if (timingSafeEqual(digest(k.key), d) && match === undefined) match = k;
  }
  return match;
}

function bearer(headers: Headers): string | undefined {
  const h = headers.get('authorization');
  const m = h ? /^Bearer\s+(.+)$/i.exec(h.trim()) : null;
  return m ? m[1].trim() : undefined;
}

export async function authenticate(config: CrmlinkConfig, headers: Headers): Promise<Viewer> {
  const auth = config.server.auth;
  switch (auth.mode) {
    case 'none':
      return anonymousViewer(config);
    case 'apiKey': {
      const given = headers.get('x-api-key') ?? bearer(headers);
      if (!given) throw requestError('UNAUTHENTICATED', 'missing API key: send it in the x-api-key header');
      const match = matchApiKey(auth.apiKeys, given);
      if (!match) throw requestError('UNAUTHENTICATED', 'unknown API key');
      return viewerFor(config, { user: match.user, role: match.role, ...(match.team ? { team: match.team } : {}) });
    }
    case 'jwt': {
      const jwt = auth.jwt;
      if (!jwt?.secret && !jwt?.jwksUrl) {
        throw requestError('INTERNAL', 'server.auth.jwt needs secret or jwksUrl', { setting: 'server.auth.jwt' });
      }
      const token = bearer(headers);
      if (!token) throw requestError('UNAUTHENTICATED', 'missing token: send Authorization: Bearer <JWT>');
      return viewerFor(config, await identityOfToken(jwt, token));
    }
  }
}

async function viewerOrRefusal(config: CrmlinkConfig, headers: Headers): Promise<Viewer> {
  try {
    return await authenticate(config, headers);
  } catch (err) {
    throw isCrmlinkError(err) ? requestError(err.code, err.message, err.context) : err;
  }
}

export function useAuth(opts: AuthOptions): Plugin<{ viewer?: Viewer; request: Request }> {
  const viewers = new WeakMap<Request, Viewer>();
  return {
    async onRequestParse({ request }) {
      viewers.set(request, await viewerOrRefusal(opts.config, request.headers));
    },
    async onContextBuilding({ context, extendContext }) {
      // Every HTTP request was authenticated before parsing; a context built another way
      // (direct execution) is authenticated here.
      extendContext({ viewer: viewers.get(context.request) ?? (await viewerOrRefusal(opts.config, context.request.headers)) });
    },
  };
}
