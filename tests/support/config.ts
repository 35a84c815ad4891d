/** Config texts a test expects crmlink to refuse. */
import { parseConfig } from '../../config/load.js';
import { ConfigError } from '../../core/errors.js';

/** The ConfigError that parsing `text` with `env` raises; throws when the text is accepted or fails otherwise. */
export function configErrorOf(text: string, env: Record<string, string> = {}): ConfigError {
  try {
    parseConfig(text, { env });
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected the config to be rejected');
}
