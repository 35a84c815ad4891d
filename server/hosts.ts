/**
 * The Host header check against DNS rebinding: a page on evil.example whose name the attacker
 * re-points at 127.0.0.1 reaches this server with `Host: evil.example`; answering only the names
 * we know makes such a page talk to nothing. The names are server.allowedHosts, or by default
 * localhost and the address the server listens on (every address of the machine when it listens
 * on all of them).
 */
import { networkInterfaces } from 'node:os';
import type { ServerConfig } from '../config/schema.js';

const WILDCARD = new Set(['0.0.0.0', '::', '']);

/** A Host header or a configured name without port, brackets, case or a trailing dot; null when malformed. */
export function hostName(header: string | undefined): string | null {
  if (!header) return null;
  let h = header.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    if (end < 0) return null;
    const rest = h.slice(end + 1);
    if (rest !== '' && !/^:\d+$/.test(rest)) return null;
    h = h.slice(1, end);
  } else if ((h.match(/:/g) ?? []).length === 1) {
    const [name, port] = h.split(':');
    if (!/^\d+$/.test(port)) return null;
    h = name;
  } else if (h.includes(':') && !/^[0-9a-f:.]+$/.test(h)) {
    return null;
  }
  if (h.endsWith('.')) h = h.slice(0, -1);
  return h === '' ? null : h;
}

/** The names this server answers to. */
export function allowedHostNames(server: Pick<ServerConfig, 'allowedHosts' | 'host'>, listenHost = server.host): Set<string> {
  if (server.allowedHosts) return new Set(server.allowedHosts.map((h) => hostName(h) ?? h.toLowerCase()));
  const names = new Set(['localhost', '127.0.0.1', '::1']);
  if (WILDCARD.has(listenHost)) {
    for (const addresses of Object.values(networkInterfaces())) for (const a of addresses ?? []) names.add(a.address.toLowerCase());
  } else {
    names.add(hostName(listenHost) ?? listenHost.toLowerCase());
  }
  return names;
}
