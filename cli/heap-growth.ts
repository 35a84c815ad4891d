/**
 * bin/crmlink.mjs calls this for `crmlink sync …`, the commands that run sync jobs and reconciles:
 * they hold V8's old generation to 20% above what its last full collection kept. By default V8
 * lets it grow to several times that before collecting again, and a sync run allocates fast and
 * keeps little (one page at a time): a 100k-row initial load peaked at 250–265 MiB RSS, mostly garbage
 * not yet collected, and at 164–168 MiB held, its time within the spread of alternating runs (BENCHMARKS.md,
 * "Peak RSS: the old generation's growth"). V8 reads the factor at each full collection, so setting
 * it when the command starts is enough. A heap flag the operator gave Node wins.
 * Not for `serve`: with 50 GraphQL clients the held heap cost about a sixth more CPU per request
 * (more full collections while many responses are live). A server that runs large loads can be
 * given the flag itself (NODE_OPTIONS=--heap-growing-percent=20).
 */
import { setFlagsFromString } from 'node:v8';

export const HEAP_GROWING_PERCENT = 20;

const HEAP_FLAG = /^--(?:heap[-_]growing[-_]percent|max[-_]old[-_]space[-_]size|max[-_]heap[-_]size)\b/;

/** Whether Node was started with a flag that sizes the old generation (on its command line or in NODE_OPTIONS). */
export function heapFlagGiven(execArgv: readonly string[] = process.execArgv, nodeOptions: string = process.env.NODE_OPTIONS ?? ''): boolean {
  return [...execArgv, ...nodeOptions.split(/\s+/)].some((arg) => HEAP_FLAG.test(arg));
}

/** Hold the old generation's growth for a process that runs sync jobs; returns whether it did. */
export function boundOldGeneration(): boolean {
  if (heapFlagGiven()) return false;
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  return true;
}
