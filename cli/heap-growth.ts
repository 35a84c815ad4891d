/**
 * bin/crmlink.mjs calls this for the commands that run sync jobs (`sync …`, and `serve` and `demo`
 * through their scheduler): they hold V8's old generation to 20% above what its last full collection kept. By
 * default V8 lets it grow to several times that before collecting again, and a sync run allocates
 * fast and keeps little (one page at a time): a 1M-row initial load peaked at 264 MiB RSS with
 * about 45 MiB live, and at 164 MiB held, at no measurable cost in time (BENCHMARKS.md, "Peak
 * RSS: the old generation's growth"). V8 reads the factor at each full collection, so setting it
 * when the command starts is enough. A heap flag the operator gave Node wins.
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
