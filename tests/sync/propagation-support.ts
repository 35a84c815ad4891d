/**
 * Helpers for the propagation tests: a manual clock for the queue's timers, and a TCP proxy in
 * front of a source database that can be taken down and brought back (a target system that is
 * unreachable for a while, as a network cut or a restart makes it).
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { PropagationTimers } from '../../sync/propagation.js';

/** Timers that fire only when the test advances the clock. */
export class ManualTimers implements PropagationTimers {
  private now = 0;
  private queue: { fn: () => void; at: number }[] = [];

  set(fn: () => void, ms: number): unknown {
    const t = { fn, at: this.now + ms };
    this.queue.push(t);
    return t;
  }

  clear(handle: unknown): void {
    this.queue = this.queue.filter((t) => t !== handle);
  }

  get scheduled(): number {
    return this.queue.length;
  }

  advance(ms: number): void {
    this.now += ms;
    const due = this.queue.filter((t) => t.at <= this.now).sort((a, b) => a.at - b.at);
    this.queue = this.queue.filter((t) => t.at > this.now);
    for (const t of due) t.fn();
  }
}

export interface TcpProxy {
  port: number;
  /** Refuse new connections and cut the open ones. */
  down(): Promise<void>;
  /** Listen again on the same port. */
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startProxy(host: string, port: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let server: Server | null = null;
  const listen = (p: number) =>
    new Promise<number>((resolve, reject) => {
      const s = createServer((client) => {
        const upstream = connect(port, host);
        for (const sock of [client, upstream]) {
          sockets.add(sock);
          sock.on('close', () => sockets.delete(sock));
          sock.on('error', () => undefined);
        }
        client.pipe(upstream).pipe(client);
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
      });
      s.once('error', reject);
      s.listen(p, '127.0.0.1', () => {
        server = s;
        resolve((s.address() as AddressInfo).port);
      });
    });
  const own = await listen(0);
  const down = async () => {
    const s = server;
    server = null;
    for (const sock of sockets) sock.destroy();
    if (s) await new Promise<void>((r) => s.close(() => r()));
  };
  return { port: own, down, up: async () => void (await listen(own)), close: down };
}
