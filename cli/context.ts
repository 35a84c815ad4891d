/**
 * What every command gets: config loading, the app, and output streams. Commands print results to
 * stdout and diagnostics to stderr so their output can be piped.
 */
import { userInfo } from 'node:os';
import { InvalidArgumentError } from 'commander';
import type { ConfigCheck, LoadedConfig } from '../config/load.js';
import type { App } from '../app/app.js';
import type { LogFormat } from './log-output.js';

export interface ConfigOption {
  config?: string;
  /** Create and migrate nothing in the hub (dry runs). */
  readOnlyHub?: boolean;
}

/** How the log is shown (cli/log-output.ts); set from --log-format / --verbose before a command runs. */
export interface LogSettings {
  /** Absent: JSON for the serving commands (serve, demo), readable lines for the others. */
  format?: LogFormat;
  verbose: boolean;
  /** The command runs a server: its log is for machines. */
  serving: boolean;
}

export interface CliContext {
  /** How openApp's logger writes (cli/log-output.ts); absent in tests' small contexts. */
  logging?: LogSettings;
  loadConfig(opts: ConfigOption): Promise<LoadedConfig>;
  /** Every problem of the config file and its valid parts, without throwing (`config check`). */
  checkConfig?(opts: ConfigOption): Promise<ConfigCheck>;
  openApp(opts: ConfigOption): Promise<App>;
  closeApp(app: App): Promise<void>;
  out(text: string): void;
  err(text: string): void;
}

/**
 * The config loader, the app and what they pull in (drivers, GraphQL, zod) load when a command
 * first needs them, so `crmlink --help` and usage errors answer at once.
 */
export function defaultContext(): CliContext {
  const loadConfig = async (opts: ConfigOption) => {
    const { loadConfigFile, DEFAULT_CONFIG_FILE } = await import('../config/load.js');
    return loadConfigFile(opts.config ?? process.env.CRMLINK_CONFIG ?? DEFAULT_CONFIG_FILE);
  };
  const logging: LogSettings = { verbose: false, serving: false };
  return {
    logging,
    loadConfig,
    checkConfig: async (opts) => {
      const { checkConfigFile, DEFAULT_CONFIG_FILE } = await import('../config/load.js');
      return checkConfigFile(opts.config ?? process.env.CRMLINK_CONFIG ?? DEFAULT_CONFIG_FILE);
    },
    openApp: async (opts) => {
      const loaded = await loadConfig(opts);
      const [{ openApp }, { createLogger }, { humanLogDestination }] = await Promise.all([import('../app/app.js'), import('../core/logger.js'), import('./log-output.js')]);
      // Commands log warnings only (--verbose: everything from info up); `serve` raises the level from the config.
      const level = process.env.CRMLINK_LOG_LEVEL ?? (logging.verbose ? 'info' : 'warn');
      const format = logging.format ?? (logging.serving || logging.verbose ? 'json' : 'human');
      const logger = format === 'json' ? createLogger(level) : createLogger(level, humanLogDestination((text) => process.stderr.write(text)));
      return openApp(loaded, { logger, readOnlyHub: opts.readOnlyHub });
    },
    closeApp: async (app) => (await import('../app/app.js')).closeApp(app),
    out: stdoutLine,
    err: stderrLine,
  };
}

/** A line to stdout / stderr, newline-terminated: the default context's out and err. */
export const stdoutLine = (text: string): void => void process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
export const stderrLine = (text: string): void => void process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);

/** The out and err of a context that may leave them out: stdout and stderr then. */
export function outputOf(ctx: { out?(text: string): void; err?(text: string): void }): { out(text: string): void; err(text: string): void } {
  return { out: (text) => (ctx.out ?? stdoutLine)(text), err: (text) => (ctx.err ?? stderrLine)(text) };
}

/** Who a command acts as when --actor is not given: `cli:<login name>`, or `cli` when the login has none. */
export function defaultActor(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli';
  }
}

/** The options most app commands take: -c/--config and --json; --actor where they write in someone's name. */
export interface AppCommandOptions {
  config?: string;
  json?: boolean;
  actor?: string;
}

/** What commands that work on the app need: a subset of CliContext, so tests can pass a small fake. */
export type AppCliContext = Pick<CliContext, 'openApp' | 'closeApp' | 'out'> & { err?(text: string): void };

/** Open the app for one command and close it whatever happens. */
export async function withApp<T>(ctx: AppCliContext, opts: ConfigOption, fn: (app: App) => Promise<T>): Promise<T> {
  const app = await ctx.openApp({ config: opts.config, ...(opts.readOnlyHub ? { readOnlyHub: true } : {}) });
  try {
    return await fn(app);
  } finally {
    await ctx.closeApp(app);
  }
}

/** Commander argument parser for ids and limits. */
export function positiveInt(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('expected a positive whole number');
  return Number(value);
}
