/**
 * What the `server` section means once the defaults that depend on `production` are applied, and
 * the checks that keep a server from ever starting open. `config check` reports the same problems
 * (load.ts calls `serverIssues`), and `startServer` refuses a config that has them, however it
 * was built.
 */
import { hasOwnKey } from '../core/own.js';
import type { CrmlinkConfig, ServerConfig } from './schema.js';

export interface ServerIssue {
  /** Dotted config path of the setting to change. */
  path: string;
  message: string;
}

/** Introspection: as configured, else on in development and off in production. */
export function introspectionEnabled(server: Pick<ServerConfig, 'introspection' | 'production'>): boolean {
  return server.introspection ?? !server.production;
}

/** "Did you mean …" hints: as configured, else on in development and off in production. */
export function fieldSuggestionsEnabled(server: Pick<ServerConfig, 'fieldSuggestions' | 'production'>): boolean {
  return server.fieldSuggestions ?? !server.production;
}

/**
 * An admin role sees every customer: the operations surfaces (conflicts, parked records, merge
 * candidates, merges, sync runs and dry-run plans) carry values of any customer, hidden fields
 * included, and are not cut by row rules or masks. So `admin: true` requires `customers: all` and
 * no `hide`, checked here and again per request (schema/security.ts requireAdmin).
 */
export const ADMIN_SCOPE_RULE =
  'an admin role sees every customer through the operations surfaces (conflicts, parked records, merge candidates, merges, sync runs), hidden fields included: give it customers: all and no hide, or set admin: false';

export function adminScopeHolds(role: { customers: string; hide: readonly string[] } | { customers: string; hidden: ReadonlySet<string> }): boolean {
  const hidden = 'hide' in role ? role.hide.length : role.hidden.size;
  return role.customers === 'all' && hidden === 0;
}

/** Problems that would leave the server open or unusable; empty when it may start. */
export function serverIssues(config: CrmlinkConfig): ServerIssue[] {
  const issues: ServerIssue[] = [];
  const server = config.server;
  const auth = server.auth;
  const roles = auth.roles;
  const declared = Object.keys(roles).join(', ') || 'none';

  if (server.production && auth.mode === 'none' && !auth.allowOpenInProduction) {
    issues.push({
      path: 'server.auth.mode',
      message:
        'production: true needs authentication: set server.auth.mode to apiKey or jwt, or set server.auth.allowOpenInProduction: true to serve every request as the anonymous role on purpose',
    });
  }
  const jwt = auth.jwt;
  if (auth.mode === 'jwt' && !jwt?.secret && !jwt?.jwksUrl) {
    issues.push({
      path: 'server.auth.jwt',
      message: "jwt mode needs server.auth.jwt.secret (HS256, at least 16 characters; write it as ${ENV_VAR}) or server.auth.jwt.jwksUrl (the identity provider's key set)",
    });
  }
  if (jwt?.secret && jwt.jwksUrl) {
    issues.push({ path: 'server.auth.jwt.jwksUrl', message: 'set secret (HS256) or jwksUrl (an identity provider), not both: one server verifies one kind of token' });
  }
  if (jwt?.jwksUrl && server.production && !secureJwksUrl(jwt.jwksUrl)) {
    issues.push({ path: 'server.auth.jwt.jwksUrl', message: 'production: the key set must be fetched over https (http only from 127.0.0.1 or localhost), or anyone on the path could hand this server their own keys' });
  }
  for (const [value, role] of Object.entries(jwt?.roleMap ?? {})) {
    if (!hasOwnKey(roles, role)) issues.push({ path: `server.auth.jwt.roleMap.${value}`, message: `unknown role "${role}" (declared: ${declared})` });
  }
  if (auth.mode === 'apiKey' && auth.apiKeys.length === 0) {
    issues.push({ path: 'server.auth.apiKeys', message: 'apiKey mode needs at least one key' });
  }
  if (auth.mode === 'none' && auth.anonymousRole !== undefined && !hasOwnKey(roles, auth.anonymousRole)) {
    issues.push({ path: 'server.auth.anonymousRole', message: `unknown role "${auth.anonymousRole}" (declared: ${declared})` });
  }
  for (const [name, role] of Object.entries(roles)) {
    if (role.admin && !adminScopeHolds(role)) {
      issues.push({ path: `server.auth.roles.${name}.admin`, message: ADMIN_SCOPE_RULE });
    }
  }
  auth.apiKeys.forEach((k, i) => {
    if (!hasOwnKey(roles, k.role)) issues.push({ path: `server.auth.apiKeys.${i}.role`, message: `unknown role "${k.role}" (declared: ${declared})` });
  });
  return issues;
}

/** https, or http to this machine's loopback (an identity provider's sidecar). */
function secureJwksUrl(url: string): boolean {
  const u = new URL(url);
  return u.protocol === 'https:' || (u.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname));
}
