/** The demo's defaults, in a module of their own so the CLI can name them without loading the demo. */

/** Where `npm start` keeps the demo (relative to the project). */
export const DEFAULT_DEMO_DIR = 'examples/demo';
export const DEMO_PORT = 4000;
/** Name of the sync job the demo runs. */
export const DEMO_JOB = 'customers';
