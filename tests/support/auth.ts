/**
 * The `auth:` block of a test config's `server:` section, written from data: a test states who
 * holds which API key and what each role may do, and the YAML around it is written here once.
 */

/** One API key: the user it signs in and that user's role (and team, for `customers: team`). */
export interface KeyHolder {
  key: string;
  user: string;
  role: string;
  team?: string;
}

/** The administrator and the clerk most security tests sign in as (their roles are each test's own). */
export const ROOT_HOLDER: KeyHolder = { key: 'root-key-0123456789ab', user: 'root', role: 'admin' };
export const CLERK_HOLDER: KeyHolder = { key: 'clerk-key-0123456789a', user: 'clerk', role: 'clerk' };

/** The request headers that sign in with `holder`'s key. */
export function signIn(holder: KeyHolder): { 'x-api-key': string } {
  return { 'x-api-key': holder.key };
}

/** The role that may do everything: every customer, writes, and the operations surface. */
export const ADMIN_ROLE = '{ customers: all, write: true, admin: true }';

/**
 * `auth:` in API-key mode, indented to stand under `server:`, with a blank first line so it can
 * follow other text. `roles` maps each role name to its rule as a YAML flow map (a trailing
 * `# comment` is kept).
 */
export function apiKeyAuth(keys: KeyHolder[], roles: Record<string, string>): string {
  const lines = ['', '  auth:', '    mode: apiKey', '    apiKeys:'];
  for (const k of keys) lines.push(`      - { key: "${k.key}", user: ${k.user}, role: ${k.role}${k.team ? `, team: ${k.team}` : ''} }`);
  lines.push('    roles:');
  for (const [name, rule] of Object.entries(roles)) lines.push(`      ${name}: ${rule}`);
  return `${lines.join('\n')}\n`;
}

/** `auth:` without sign-in: every request acts as `role`, which may do `rule`. Indented as above. */
export function openAuth(role = 'admin', rule = ADMIN_ROLE): string {
  return ['', '  auth:', '    mode: none', `    anonymousRole: ${role}`, '    roles:', `      ${role}: ${rule}`, ''].join('\n');
}
