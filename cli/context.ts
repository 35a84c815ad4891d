/**
 * What every command gets: config loading, the app, and output streams. Commands print results to
 * stdout and diagnostics to stderr so their output can be piped.
 */
import { loadConfigFile, DEFAULT_CONFIG_FILE, type LoadedConfig } from '../config/load.js';
import { openApp, closeApp, type App } from '../core/app.js';
import { createLogger } from '../core/logger.js';

export interface ConfigOption {
  config?: string;
}

export interface CliContext {
  loadConfig(opts: ConfigOption): LoadedConfig;
  openApp(opts: ConfigOption): Promise<App>;
  closeApp(app: App): Promise<void>;
  out(text: string): void;
  err(text: string): void;
}

export function defaultContext(): CliContext {
  const loadConfig = (opts: ConfigOption) => loadConfigFile(opts.config ?? process.env.CRMLINK_CONFIG ?? DEFAULT_CONFIG_FILE);
  return {
    loadConfig,
    openApp: async (opts) => {
      const loaded = loadConfig(opts);
      // Commands log warnings only; `serve` raises the level from the config.
      return openApp(loaded, { logger: createLogger(process.env.CRMLINK_LOG_LEVEL ?? 'warn') });
    },
    closeApp,
    out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
    err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
  };
}
