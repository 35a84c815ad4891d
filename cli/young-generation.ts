/**
 * bin/crmlink.mjs holds V8's young generation at its initial size while a serving command starts
 * (start-up's long-lived data would otherwise grow it to two 16 MiB semi-spaces that an idle server
 * keeps for a minute or more). Once the server is up, it may grow again: held small under load it
 * costs a quarter to a half more CPU per heavy GraphQL request (BENCHMARKS.md, "Idle `crmlink
 * serve` memory"), and V8's memory reducer shrinks it again when the server falls idle.
 */
import { setFlagsFromString } from 'node:v8';

/** Set by bin/crmlink.mjs when it held the young generation (not when Node was given a semi-space flag). */
const HELD = Symbol.for('crmlink.youngGenerationHeld');
/** V8's own semi-space growth factor (V8 11 to 13): the young generation doubles when it grows. */
const V8_GROWTH_FACTOR = 2;

/** Let the young generation grow as V8 would by default, if bin/crmlink.mjs held it. Returns whether it did. */
export function releaseYoungGeneration(): boolean {
  const scope = globalThis as { [HELD]?: boolean };
  if (scope[HELD] !== true) return false;
  setFlagsFromString(`--semi-space-growth-factor=${V8_GROWTH_FACTOR}`);
  scope[HELD] = false;
  return true;
}
