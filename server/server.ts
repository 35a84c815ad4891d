/**
 * The HTTP server: GraphQL (graphql-yoga) plus the operational endpoints. Shutdown is graceful:
 * stop taking requests, let the scheduler finish or abandon its batch at a safe point, close pools.
 */
import { createServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { register as promRegistry } from 'prom-client';
import type { App } from '../app/app.js';
import { closeApp } from '../app/app.js';
import { createYogaApp } from '../schema/index.js';
import { readiness } from './health.js';

export interface Stoppable {
  stop(): Promise<void>;
}

export interface RunningServer {
  url: string;
  port: number;
  server: Server;
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
}

export async function startServer(app: App, opts: ServerOptions = {}): Promise<RunningServer> {
  const yoga = createYogaApp(app);
  const port = opts.port ?? app.config.server.port;
  const host = opts.host ?? app.config.server.host;

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') return json(res, 200, { status: 'ok' });
    if (path === '/readyz') {
      readiness(app).then(
        (r) => json(res, r.ready ? 200 : 503, r),
        (err: unknown) => json(res, 503, { ready: false, error: String(err) }),
      );
      return;
    }
    if (path === '/metrics') {
      promRegistry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': promRegistry.contentType });
          res.end(text);
        },
        () => json(res, 500, { error: 'metrics unavailable' }),
      );
      return;
    }
    if (path === '/console' || path.startsWith('/console/')) return void import('./console.js').then((m) => m.serveConsole(app, req, res), (err: unknown) => json(res, 500, { error: `console unavailable: ${String(err)}` }));
    if (path === '/') {
      res.writeHead(302, { location: '/graphql' });
      res.end();
      return;
    }
    void yoga(req, res);
  });

  await new Promise<void>((resolveListen, rejectListen) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      rejectListen(
        err.code === 'EADDRINUSE'
          ? new Error(`port ${port} on ${host} is already in use: stop the other process or set server.port / --port`)
          : err,
      );
    });
    server.listen(port, host, () => resolveListen());
  });

  const address = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      app.logger.info('shutting down');
      const stopped = new Promise<void>((r) => server.close(() => r()));
      server.closeIdleConnections();
      await Promise.allSettled((opts.background ?? []).map((b) => b.stop()));
      // Requests still running get a few seconds, then their sockets are cut.
      const timer = setTimeout(() => server.closeAllConnections(), 5000);
      await stopped;
      clearTimeout(timer);
      await closeApp(app);
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

  const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
  return { url: `http://${shownHost}:${address.port}`, port: address.port, server, close };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}
