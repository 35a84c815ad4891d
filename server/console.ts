/**
 * The operations console at /console: static files from console/ (plain HTML, ES modules and CSS,
 * no bundler), behind the same authentication as the API. The page itself reads and acts through
 * /graphql only; this handler serves its files and a small sign-in session.
 *
 *   /console, /console/            the page (auth mode none, or signed in) or the sign-in (401)
 *   /console/assets/<v>/<file>     assets; <v> is a hash of all of them, so they are cached for a
 *                                  year (`immutable`) and a new build is a new URL
 *   /console/session               POST with the API key / token in its usual header: checks it
 *                                  and sets an HttpOnly cookie (Path=/console) that lets the
 *                                  browser load the page's own files; DELETE signs out
 *
 * Who may open it: a role with `admin: true` (server.auth.roles); `write: true` as well to act
 * (an "operator", see docs/console.md). Other roles are refused with 403. The cookie only unlocks
 * the console's static files: every GraphQL call still carries the key or token itself (kept in
 * the tab's sessionStorage), so the cookie is never a credential for data.
 *
 * Files are served from an index built by walking console/ (no symlinks followed), looked up by
 * their relative path: a request can only ever name a file of that index, whatever it encodes.
 *
 * @example
 *   // server.ts routes everything under /console here (loaded on first use):
 *   if (isConsolePath(path)) return serveConsole(app, req, res);
 */
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, lstatSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { extname, join, relative, sep } from 'node:path';
import { packagePath } from '../core/package-root.js';
import { decodeJwt } from 'jose';
import type { ServerApp } from './server-app.js';
import { viewerFor, type Viewer } from '../schema/security.js';
import { authenticate } from './plugins/use-auth.js';
import { toHeaders } from './node-request.js';
import { ADMIN_SCOPE_RULE, adminScopeHolds } from '../config/server.js';

export const CONSOLE_PATH = '/console';
const ASSETS = `${CONSOLE_PATH}/assets/`;
const SESSION_PATH = `${CONSOLE_PATH}/session`;
const COOKIE = 'crmlink_console';
/** A sign-in lasts this long at most (a JWT's own expiry, when sooner, wins). */
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;
const MAX_SESSIONS = 10_000;

/** The console's files: console/ next to server/. */
export const CONSOLE_DIR = packagePath('console') + sep;

/** Files the sign-in page needs: served without credentials (they hold no data). */
const PUBLIC_ASSETS = new Set(['signin.js', 'i18n.js', 'dom.js', 'style.css', 'favicon.svg']);

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json; charset=utf-8',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** The page loads nothing from anywhere else, and nothing may frame it. */
const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

interface AssetIndex {
  /** Hash of every file: the <v> of asset URLs. */
  version: string;
  /** By path relative to console/, with / separators: pages at the top, the rest under assets/. */
  files: Map<string, Asset>;
}

interface Session {
  user: string;
  role: string;
  expires: number;
}

interface ConsoleState {
  sessions: Map<string, Session>;
}

const states = new WeakMap<ServerApp, ConsoleState>();
let index: AssetIndex | undefined;

/** Whether a request path belongs to the console. */
export function isConsolePath(path: string): boolean {
  return path === CONSOLE_PATH || path.startsWith(`${CONSOLE_PATH}/`);
}

/** Read console/ into memory. Cached; `fresh` re-reads it (a development server picks up edits). */
export function consoleAssets(fresh = false, dir = CONSOLE_DIR): AssetIndex {
  if (index && !fresh) return index;
  const files = new Map<string, Asset>();
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      if (name.startsWith('.')) continue;
      const full = join(d, name);
      const st = lstatSync(full);
      if (st.isSymbolicLink()) continue;
      if (st.isDirectory()) walk(full);
      else if (st.isFile()) {
        const type = CONTENT_TYPES[extname(name).toLowerCase()];
        if (!type) continue;
        const body = readFileSync(full);
        const hash = createHash('sha256').update(body).digest('base64url').slice(0, 22);
        files.set(relative(dir, full).split(sep).join('/'), { body, type, etag: `"${hash}"` });
      }
    }
  };
  walk(dir);
  const all = createHash('sha256');
  for (const [path, a] of files) all.update(`${path}\0${a.etag}\0`);
  index = { version: all.digest('hex').slice(0, 12), files };
  return index;
}

function stateOf(app: ServerApp): ConsoleState {
  let s = states.get(app);
  if (!s) {
    s = { sessions: new Map() };
    states.set(app, s);
  }
  return s;
}

/** Serve one request under /console. Never throws: failures become a 500. */
export function serveConsole(app: ServerApp, req: IncomingMessage, res: ServerResponse): void {
  handle(app, req, res).catch((err: unknown) => {
    app.logger.error({ err, url: req.url }, 'console request failed');
    if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'console error', { 'cache-control': 'no-store' });
    else res.destroy();
  });
}

async function handle(app: ServerApp, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  const method = req.method ?? 'GET';

  if (path === SESSION_PATH) return session(app, req, res, method);
  if (method !== 'GET' && method !== 'HEAD') {
    return send(res, 405, 'text/plain; charset=utf-8', 'method not allowed', { allow: 'GET, HEAD', 'cache-control': 'no-store' });
  }
  const assets = consoleAssets(!app.config.server.production && (path === CONSOLE_PATH || path === `${CONSOLE_PATH}/`));

  if (path === CONSOLE_PATH || path === `${CONSOLE_PATH}/`) {
    const who = await gate(app, req);
    if (who.status !== 200) return page(res, req, who.status === 401 ? 'signin.html' : 'refused.html', who.status, app, assets, who.message);
    return page(res, req, 'index.html', 200, app, assets);
  }

  if (path.startsWith(ASSETS)) {
    const parts = path.slice(ASSETS.length).split('/');
    const version = parts.shift() ?? '';
    const rel = assetPath(parts);
    if (rel === null) return send(res, 400, 'text/plain; charset=utf-8', 'bad path', { 'cache-control': 'no-store' });
    const asset = rel.endsWith('.html') ? undefined : assets.files.get(`assets/${rel}`);
    if (!asset) return send(res, 404, 'text/plain; charset=utf-8', 'not found', { 'cache-control': 'no-store' });
    if (!PUBLIC_ASSETS.has(rel)) {
      const who = await gate(app, req);
      if (who.status !== 200) return send(res, who.status, 'text/plain; charset=utf-8', who.message, { 'cache-control': 'no-store' });
    }
    // The current version is immutable; an old page asking for an old version gets today's file,
    // revalidated every time.
    const cache = version === assets.version ? 'private, max-age=31536000, immutable' : 'private, no-cache';
    return file(req, res, asset, cache);
  }

  return send(res, 404, 'text/plain; charset=utf-8', 'not found', { 'cache-control': 'no-store' });
}

/**
 * The segments after the version, decoded, as a key of the index; null when they try anything
 * but plain names (.., empty segments, encoded slashes or backslashes, NUL).
 */
function assetPath(parts: string[]): string | null {
  if (parts.length === 0) return null;
  const out: string[] = [];
  for (const raw of parts) {
    let seg: string;
    try {
      seg = decodeURIComponent(raw);
    } catch {
      return null;
    }
    if (seg === '' || seg === '.' || seg === '..' || /[/\\\0]/.test(seg) || seg.startsWith('.')) return null;
    out.push(seg);
  }
  return out.join('/');
}

type Gate = { status: 200; viewer: Viewer } | { status: 401 | 403; message: string };

/** Who is asking: credentials in the request's headers, else the session cookie. */
async function gate(app: ServerApp, req: IncomingMessage): Promise<Gate> {
  const config = app.config;
  const headers = toHeaders(req);
  let viewer: Viewer;
  if (config.server.auth.mode === 'none' || headers.has('x-api-key') || headers.has('authorization')) {
    try {
      viewer = await authenticate(config, headers);
    } catch (err) {
      return refusal(err);
    }
  } else {
    const token = cookie(req, COOKIE);
    const s = token ? stateOf(app).sessions.get(token) : undefined;
    if (!s || s.expires <= Date.now()) {
      if (token && s) stateOf(app).sessions.delete(token);
      return { status: 401, message: 'sign in: the console needs your API key or token' };
    }
    try {
      viewer = viewerFor(config, { user: s.user, role: s.role });
    } catch (err) {
      return refusal(err);
    }
  }
  return mayUse(viewer);
}

function mayUse(viewer: Viewer): Gate {
  if (viewer.admin && !adminScopeHolds(viewer)) {
    return { status: 403, message: `role "${viewer.role}" may not use the operations console: ${ADMIN_SCOPE_RULE}` };
  }
  if (!viewer.admin) {
    return {
      status: 403,
      message: `role "${viewer.role}" may not use the operations console: it needs admin: true (and write: true to act) under server.auth.roles.${viewer.role}`,
    };
  }
  return { status: 200, viewer };
}

function refusal(err: unknown): Gate {
  const code = (err as { extensions?: { code?: unknown }; code?: unknown }).extensions?.code ?? (err as { code?: unknown }).code;
  const message = err instanceof Error ? err.message : String(err);
  return { status: code === 'FORBIDDEN' ? 403 : 401, message };
}

async function session(app: ServerApp, req: IncomingMessage, res: ServerResponse, method: string): Promise<void> {
  const noStore = { 'cache-control': 'no-store' };
  req.resume(); // no body is read
  if (!sameOrigin(req)) return json(res, 403, { error: 'cross-origin request refused' }, noStore);
  const sessions = stateOf(app).sessions;
  if (method === 'DELETE') {
    const token = cookie(req, COOKIE);
    if (token) sessions.delete(token);
    return send(res, 204, 'text/plain; charset=utf-8', '', { ...noStore, 'set-cookie': cookieHeader(req, '', 0) });
  }
  if (method !== 'POST') return send(res, 405, 'text/plain; charset=utf-8', 'method not allowed', { allow: 'POST, DELETE', ...noStore });
  const config = app.config;
  const headers = toHeaders(req);
  let viewer: Viewer;
  try {
    viewer = await authenticate(config, headers);
  } catch (err) {
    const r = refusal(err) as { status: 401 | 403; message: string };
    return json(res, r.status, { error: r.message }, noStore);
  }
  const allowed = mayUse(viewer);
  if (allowed.status !== 200) return json(res, allowed.status, { error: allowed.message }, noStore);
  const body = { user: viewer.user, role: viewer.role, admin: viewer.admin, write: viewer.write };
  if (config.server.auth.mode === 'none') return json(res, 200, body, noStore);

  let expires = Date.now() + SESSION_TTL_MS;
  if (config.server.auth.mode === 'jwt') {
    const m = /^Bearer\s+(.+)$/i.exec(headers.get('authorization')?.trim() ?? '');
    const exp = m ? decodeJwt(m[1].trim()).exp : undefined;
    if (typeof exp === 'number') expires = Math.min(expires, exp * 1000);
  }
  prune(sessions);
  const token = randomBytes(32).toString('base64url');
  sessions.set(token, { user: viewer.user, role: viewer.role, expires });
  return json(res, 200, body, { ...noStore, 'set-cookie': cookieHeader(req, token, Math.floor((expires - Date.now()) / 1000)) });
}

function prune(sessions: Map<string, Session>): void {
  const now = Date.now();
  for (const [t, s] of sessions) if (s.expires <= now) sessions.delete(t);
  // Oldest first (insertion order) when still too many.
  for (const t of sessions.keys()) {
    if (sessions.size < MAX_SESSIONS) break;
    sessions.delete(t);
  }
}

function cookieHeader(req: IncomingMessage, value: string, maxAge: number): string {
  const secure = (req.socket as TLSSocket).encrypted || String(req.headers['x-forwarded-proto'] ?? '').startsWith('https');
  return `${COOKIE}=${value}; Path=${CONSOLE_PATH}; HttpOnly; SameSite=Strict; Max-Age=${Math.max(0, maxAge)}${secure ? '; Secure' : ''}`;
}

/** A browser sends Origin on POST/DELETE; when it does, it must be this server. */
function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (!origin) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

function cookie(req: IncomingMessage, name: string): string | undefined {
  const raw = req.headers.cookie;
  if (!raw) return undefined;
  for (const part of raw.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim() || undefined;
  }
  return undefined;
}

/** An HTML page of console/, with the asset base, auth mode and message filled in. */
/** What every page's <head> starts with (charset, viewport, referrer policy, icon, style), put in at %HEAD%. */
const PAGE_HEAD = 'head.html';

function page(res: ServerResponse, req: IncomingMessage, name: string, status: number, app: ServerApp, assets: AssetIndex, message = ''): void {
  const tpl = assets.files.get(name);
  const head = assets.files.get(PAGE_HEAD);
  if (!tpl || !head) return send(res, 500, 'text/plain; charset=utf-8', `console/${tpl ? PAGE_HEAD : name} is missing`, { 'cache-control': 'no-store' });
  const html = tpl.body
    .toString('utf8')
    .replace('%HEAD%', head.body.toString('utf8').trimEnd())
    .replaceAll('%ASSETS%', `${ASSETS}${assets.version}`)
    .replaceAll('%AUTH_MODE%', app.config.server.auth.mode)
    .replaceAll('%MESSAGE%', escapeHtml(message));
  const body = Buffer.from(html, 'utf8');
  if (status !== 200) {
    const extra: Record<string, string> = { 'cache-control': 'no-store' };
    if (status === 401) extra['www-authenticate'] = 'Bearer realm="crmlink console"';
    return send(res, status, tpl.type, req.method === 'HEAD' ? '' : body, extra);
  }
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
  return file(req, res, { body, type: tpl.type, etag }, 'private, no-cache');
}

function file(req: IncomingMessage, res: ServerResponse, asset: Asset, cacheControl: string): void {
  const headers: Record<string, string> = { etag: asset.etag, 'cache-control': cacheControl };
  if (etagMatches(req.headers['if-none-match'], asset.etag)) {
    res.writeHead(304, { ...SECURITY_HEADERS, ...headers });
    res.end();
    return;
  }
  send(res, 200, asset.type, req.method === 'HEAD' ? null : asset.body, { ...headers, 'content-length': String(asset.body.length) });
}

function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((t) => {
    const v = t.trim().replace(/^W\//, '');
    return v === '*' || v === etag;
  });
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer | null, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, ...headers });
  res.end(body ?? undefined);
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(body), headers);
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
