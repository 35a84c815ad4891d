/**
 * Connectors from npm packages: `connector: "@acme/crmlink-connector-foo"` in a source's config.
 * The package is resolved from the config file's directory (where the company installs it), must
 * export a ConnectorPlugin (default export or `crmlinkConnector`) of an API version crmlink knows,
 * and what it creates must declare its capabilities as data. Every failure names the package.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { CrmlinkError } from '../core/errors.js';
import { CONNECTOR_API_VERSION, FILTER_OPS, type Connector, type ConnectorContext, type ConnectorPlugin } from './connector.js';
import { CAPTURE_STRATEGIES } from '../config/schema.js';

const METHODS = ['test', 'introspect', 'readPages', 'select', 'aggregate', 'changesSince', 'upsert', 'delete', 'destroy'] as const;

export function loadPlugin(pkg: string, ctx: ConnectorContext): Connector {
  const setting = `sources.${ctx.name}.connector`;
  const fail = (message: string, cause?: unknown) =>
    new CrmlinkError('CONFIG_INVALID', `connector package "${pkg}" (${setting}): ${message}`, { source: ctx.name, setting, package: pkg }, { cause });
  let mod: unknown;
  try {
    // Synchronous so that sources open lazily as before; Node ≥ 20.19 also loads ES module packages this way.
    mod = createRequire(join(ctx.baseDir, 'crmlink.yaml'))(pkg);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND') throw fail(`not installed: run npm install ${pkg} in ${ctx.baseDir}`, err);
    throw fail(`failed to load: ${err instanceof Error ? err.message : String(err)}`, err);
  }
  const plugin = pluginOf(mod);
  if (!plugin) throw fail('exports no crmlink connector (a default export or `crmlinkConnector` with apiVersion and create)');
  if (plugin.apiVersion !== CONNECTOR_API_VERSION) {
    throw fail(`is written for connector API version ${String(plugin.apiVersion)}; this crmlink speaks version ${CONNECTOR_API_VERSION}`);
  }
  let connector: Connector;
  try {
    connector = plugin.create(ctx);
  } catch (err) {
    if (err instanceof CrmlinkError) throw err;
    throw fail(`create() failed: ${err instanceof Error ? err.message : String(err)}`, err);
  }
  const problem = checkConnector(connector);
  if (problem) throw fail(`its connector ${problem}`);
  return connector;
}

function pluginOf(mod: unknown): ConnectorPlugin | undefined {
  if (typeof mod !== 'object' || mod === null) return undefined;
  const m = mod as { default?: unknown; crmlinkConnector?: unknown };
  for (const candidate of [m.crmlinkConnector, m.default, (m.default as { default?: unknown } | undefined)?.default, mod]) {
    if (typeof candidate === 'object' && candidate !== null && typeof (candidate as { create?: unknown }).create === 'function') return candidate as ConnectorPlugin;
  }
  return undefined;
}

/** What is wrong with what a plugin created, or undefined. */
export function checkConnector(c: unknown): string | undefined {
  if (typeof c !== 'object' || c === null) return 'is not an object';
  const x = c as Partial<Record<string, unknown>> & { capabilities?: Partial<Record<string, unknown>> };
  const missing = METHODS.filter((m) => typeof x[m] !== 'function');
  if (missing.length) return `lacks ${missing.join(', ')}`;
  if (typeof x.name !== 'string' || typeof x.kind !== 'string') return 'needs a name and a kind (strings)';
  const caps = x.capabilities;
  if (typeof caps !== 'object' || caps === null) return 'declares no capabilities';
  for (const flag of ['write', 'transactions', 'aggregate'] as const) if (typeof caps[flag] !== 'boolean') return `capabilities.${flag} must be true or false`;
  if (!Array.isArray(caps.filters) || !caps.filters.every((op) => (FILTER_OPS as readonly unknown[]).includes(op))) return `capabilities.filters must list operators among ${FILTER_OPS.join(', ')}`;
  if (!Array.isArray(caps.capture) || !caps.capture.every((s) => (CAPTURE_STRATEGIES as readonly unknown[]).includes(s))) return `capabilities.capture must list strategies among ${CAPTURE_STRATEGIES.join(', ')}`;
  if (caps.nullsAscending !== 'first' && caps.nullsAscending !== 'last') return 'capabilities.nullsAscending must be "first" or "last"';
  return undefined;
}
