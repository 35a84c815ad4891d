/**
 * The HTTP server: GraphQL (graphql-yoga) plus the operational endpoints. Shutdown is graceful:
 * stop taking requests, let the scheduler finish or abandon its batch at a safe point, close pools.
 *
 * Routes of the main listener:
 *   /healthz   anyone, any Host: { status: ok }
 *   /readyz    anyone, any Host: { status: ready | unavailable }; the report per source with an
 *              admin credential
 *   /metrics   an admin credential (Prometheus can send a key or token as a bearer)
 *   /console   the operations console (server/console.ts)
 *   /graphql   the API
 * Past the two probes, a request whose Host is not one of server.allowedHosts gets 421.
 *
 * With server.metricsListener, a second listener serves /healthz, /readyz (the report) and
 * /metrics without credentials, for monitoring on a private address.
 */
import { createServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { register as promRegistry } from 'prom-client';
import type { ServerApp } from './server-app.js';
import { createYogaApp } from './yoga-app.js';
import { serverIssues, adminScopeHolds } from '../config/server.js';
import { unsyncedEntities } from '../config/coverage.js';
import { ConfigError, isCrmlinkError } from '../core/errors.js';
import { publicReadiness, readiness, ReadinessProbe } from './health.js';
import { allowedHostNames, hostName } from './hosts.js';
import { authenticate } from './plugins/use-auth.js';
import { toHeaders } from './node-request.js';
import { installLastResort } from './last-resort.js';
import { tracedListener } from './http-tracing.js';

export interface Stoppable {
  stop(): Promise<void>;
}

export interface RunningServer {
  url: string;
  port: number;
  server: Server;
  /** The monitoring listener (server.metricsListener), when configured. */
  monitoring?: { url: string; port: number; server: Server };
  /** Stop accepting, stop background work, close the app. Safe to call twice. */
  close(): Promise<void>;
}

export interface ServerOptions {
  port?: number;
  host?: string;
  /** Background work to stop before the pools close (the sync scheduler). */
  background?: Stoppable[];
  /** Install SIGTERM/SIGINT handlers that close the server. */
  handleSignals?: boolean;
  /**
   * Install the process's last-resort handlers (server/last-resort.ts): an unhandled rejection or
   * uncaught exception is logged and the server keeps serving. For the process that owns the
   * server (`crmlink serve`, `crmlink demo`); removed on close.
   */
  lastResort?: boolean;
}

type Handler = (req: IncomingMessage, res: ServerResponse, path: string) => void;

export async function startServer(app: ServerApp, opts: ServerOptions = {}): Promise<RunningServer> {
  // The same checks as `config check`, again here for a config that did not come through it.
  const problems = serverIssues(app.config);
  if (problems.length > 0) throw new ConfigError(problems.map((p) => ({ code: 'CONFIG_INVALID', ...p })), app.loaded.file);
  if (app.config.server.auth.mode === 'none' && app.config.server.auth.anonymousRole === undefined) {
    app.logger.warn({ setting: 'server.auth' }, 'no authentication and no anonymous role: every GraphQL request will be refused until server.auth is configured');
  }
  for (const u of unsyncedEntities(app.config)) app.logger.warn({ code: u.code, entity: u.entity, sources: u.sources, setting: 'sync.jobs' }, u.message);
  const removeLastResort = opts.lastResort ? installLastResort(app.logger) : undefined;
  const yoga = createYogaApp(app);
  const port = opts.port ?? app.config.server.port;
  const host = opts.host ?? app.config.server.host;
  const probe = new ReadinessProbe(() => readiness(app, app.config.server.readiness.timeoutSeconds * 1000), {
    cacheMs: app.config.server.readiness.cacheSeconds * 1000,
  });

  const main = listener(allowedHostNames(app.config.server, host), {
    '/readyz': (req, res) => {
      void Promise.all([probe.check(), monitoringAccess(app, req)]).then(
        ([report, access]) => json(res, report.ready ? 200 : 503, access === 'granted' ? report : publicReadiness(report)),
        () => json(res, 503, { status: 'unavailable' }),
      );
    },
  }, {
    '/metrics': (req, res) => {
      void monitoringAccess(app, req).then((access) => (access === 'granted' ? metrics(res) : refuse(res, access)));
    },
    '/console': (req, res) => void import('./console.js').then((m) => m.serveConsole(app, req, res), (err: unknown) => json(res, 500, { error: `console unavailable: ${String(err)}` })),
    '/': (_req, res) => {
      res.writeHead(302, { location: '/graphql' });
      res.end();
    },
    '*': (req, res) => {
      const refused = bodyRefusal(req, app.config.server.limits.bodyBytes);
      if (refused) return json(res, refused.status, { errors: [{ message: refused.message, extensions: { code: refused.code, setting: 'server.limits.bodyBytes' } }] }, { connection: 'close' });
      void yoga(req, res);
    },
  });

  const server = await listen(createServer(tracedListener(main)), port, host, 'server.port / --port');
  const monitoring = await startMonitoring(app, probe);

  const address = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      app.logger.info('shutting down');
      const servers = [server, ...(monitoring ? [monitoring.server] : [])];
      const stopped = Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
      for (const s of servers) s.closeIdleConnections();
      await Promise.allSettled((opts.background ?? []).map((b) => b.stop()));
      // Requests still running get a few seconds, then their sockets are cut.
      const timer = setTimeout(() => servers.forEach((s) => s.closeAllConnections()), 5000);
      await stopped;
      clearTimeout(timer);
      await app.close();
      removeLastResort?.();
      app.logger.info('stopped');
    })();
    return closing;
  };

  if (opts.handleSignals) {
    const onSignal = (signal: NodeJS.Signals) => {
      app.logger.info({ signal }, 'signal received');
      void close().then(() => process.exit(0));
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  }

  return { url: urlOf(host, address.port), port: address.port, server, ...(monitoring ? { monitoring } : {}), close };
}

/** The monitoring listener: probes and metrics without credentials, on its own address. */
async function startMonitoring(app: ServerApp, probe: ReadinessProbe): Promise<RunningServer['monitoring']> {
  const cfg = app.config.server.metricsListener;
  if (!cfg) return undefined;
  const handler = listener(allowedHostNames({ host: cfg.host }, cfg.host), {
    '/readyz': (_req, res) => {
      void probe.check().then(
        (report) => json(res, report.ready ? 200 : 503, report),
        () => json(res, 503, { status: 'unavailable' }),
      );
    },
  }, {
    '/metrics': (_req, res) => metrics(res),
    '*': (_req, res) => json(res, 404, { error: 'not found: this listener serves /healthz, /readyz and /metrics' }),
  });
  const server = await listen(createServer(handler), cfg.port, cfg.host, 'server.metricsListener.port');
  const { port } = server.address() as AddressInfo;
  return { url: urlOf(cfg.host, port), port, server };
}

/**
 * A request listener: /healthz, then the `open` routes for any Host, then the Host check, then
 * the `routes` (a key ending the path or its first segment; '*' for the rest).
 */
function listener(hosts: ReadonlySet<string>, open: Record<string, Handler>, routes: Record<string, Handler>) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') return json(res, 200, { status: 'ok' });
    if (Object.hasOwn(open, path)) return open[path](req, res, path);
    // Everything past the public probes answers only the names it knows (DNS rebinding).
    if (!hosts.has(hostName(req.headers.host) ?? '')) {
      return json(res, 421, { error: 'misdirected request: this server does not answer to that host name (server.allowedHosts)' });
    }
    const segment = `/${path.split('/')[1] ?? ''}`;
    const route = Object.hasOwn(routes, path) ? routes[path] : Object.hasOwn(routes, segment) && segment !== '/' ? routes[segment] : routes['*'];
    return route(req, res, path);
  };
}

/**
 * A body larger than server.limits.bodyBytes is refused from its Content-Length, before a byte of
 * it is read (Node's parser never delivers more than Content-Length says). A body without one
 * (chunked) could not be bounded before yoga reads it whole, so it is refused too: every GraphQL
 * client sends Content-Length.
 */
function bodyRefusal(req: IncomingMessage, max: number): { status: number; code: string; message: string } | undefined {
  const length = req.headers['content-length'];
  if (length === undefined) {
    if (req.headers['transfer-encoding'] === undefined) return undefined;
    return { status: 411, code: 'LENGTH_REQUIRED', message: 'send the request body with a Content-Length header' };
  }
  const n = Number(length);
  if (!Number.isSafeInteger(n) || n < 0) return { status: 400, code: 'BAD_REQUEST', message: 'Content-Length is not a number' };
  if (n > max) return { status: 413, code: 'PAYLOAD_TOO_LARGE', message: `the request body has ${n} bytes; at most ${max} are accepted (server.limits.bodyBytes)` };
  return undefined;
}

type Access = 'granted' | 'unauthenticated' | 'forbidden';

/** Whether the request carries an admin credential (in auth mode none: whether the anonymous role is admin). */
async function monitoringAccess(app: ServerApp, req: IncomingMessage): Promise<Access> {
  try {
    const viewer = await authenticate(app.config, toHeaders(req));
    return viewer.admin && adminScopeHolds(viewer) ? 'granted' : 'forbidden';
  } catch (err) {
    return isCrmlinkError(err) && err.code === 'FORBIDDEN' ? 'forbidden' : 'unauthenticated';
  }
}

function refuse(res: ServerResponse, access: Exclude<Access, 'granted'>): void {
  if (access === 'unauthenticated') {
    return json(res, 401, { error: 'an admin credential is needed: send the API key or token as with /graphql (or use server.metricsListener)' }, { 'www-authenticate': 'Bearer' });
  }
  json(res, 403, { error: 'this role may not read monitoring data: it needs admin: true (or use server.metricsListener)' });
}

function metrics(res: ServerResponse): void {
  promRegistry.metrics().then(
    (text) => {
      res.writeHead(200, { 'content-type': promRegistry.contentType });
      res.end(text);
    },
    () => json(res, 500, { error: 'metrics unavailable' }),
  );
}

function listen(server: Server, port: number, host: string, setting: string): Promise<Server> {
  return new Promise<Server>((resolveListen, rejectListen) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      rejectListen(err.code === 'EADDRINUSE' ? new Error(`port ${port} on ${host} is already in use: stop the other process or set ${setting}`) : err);
    });
    server.listen(port, host, () => resolveListen(server));
  });
}

function urlOf(host: string, port: number): string {
  const shown = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  return `http://${shown}:${port}`;
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}
