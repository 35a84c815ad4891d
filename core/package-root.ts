import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The package's own folder, where its data files (console/, connectors/presets/) are: the same
 * whether this module runs from the TypeScript sources (core/) or compiled (dist/core/).
 */
const here = dirname(fileURLToPath(import.meta.url));
const compiled = basename(dirname(here)) === 'dist';
export const PACKAGE_ROOT = compiled ? join(here, '..', '..') : join(here, '..');

/** A path inside the package, given from its root. */
export function packagePath(...parts: string[]): string {
  return join(PACKAGE_ROOT, ...parts);
}
