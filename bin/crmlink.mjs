#!/usr/bin/env node
// The CLI runs the compiled JavaScript in dist/ (built by `npm run build`, which `npm install`
// runs as `prepare`): nothing compiles TypeScript at run time. A checkout that was never built
// falls back to the TypeScript sources through tsx, and says so.
import { existsSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';

// The serving commands start with V8's young generation held at its initial size (1 MiB
// semi-spaces). By default V8 doubles it, up to two 16 MiB semi-spaces, whenever much of it
// survives a scavenge: start-up (the CLI's modules, the config, the migrations, the GraphQL schema,
// all data that lives as long as the server) grew it to the maximum, and an idle server kept those
// pages until V8's memory reducer gave them back a minute or more later (BENCHMARKS.md, "Idle
// `crmlink serve` memory"). V8 reads --max-semi-space-size only when it creates the heap, but it
// reads the growth factor each time it grows the young generation: a factor of 1, set here before
// anything large loads (importing the CLI alone grows it to 4 MiB semi-spaces), holds it. Once the
// server is up, cli/young-generation.ts lets it grow again (held small under load it costs CPU).
// Node started with a semi-space flag of its own (on its command line or in NODE_OPTIONS) is left
// as it was asked to run. V8 puts a factor below 2 back to 2 whenever it configures a heap, a
// worker thread's included (on the command line it has no effect for that reason): it is set again
// after tsx starts its hooks thread.
const SERVING_COMMANDS = new Set(['serve', 'demo']);
/** The command word: the first argument that is neither an option nor the value of --log-format. */
function commandOf(argv) {
  for (let i = 2; i < argv.length; i++) {
    if (argv[i] === '--log-format') i++;
    else if (!argv[i].startsWith('-')) return argv[i];
  }
  return undefined;
}
const semiSpaceFlag = /^--(?:max|min)[-_]semi[-_]space[-_]size\b|^--semi[-_]space[-_]growth[-_]factor\b/;
const semiSpaceFlagGiven = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].some((arg) => semiSpaceFlag.test(arg));
const keepYoungGenerationSmall = SERVING_COMMANDS.has(commandOf(process.argv)) && !semiSpaceFlagGiven;
if (keepYoungGenerationSmall) {
  setFlagsFromString('--semi-space-growth-factor=1');
  globalThis[Symbol.for('crmlink.youngGenerationHeld')] = true;
}

// Output to a closed pipe (`crmlink sync parked | head`) ends the command quietly, as other
// command-line tools do, instead of crashing with an unhandled EPIPE.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

// `crmlink sync …` (a run, a reconcile: the large loads) holds V8's old generation to a fifth above
// what its last full collection kept: cli/heap-growth.ts says why, and why not for `serve`.
const HEAP_HELD_COMMANDS = new Set(['sync']);

const built = existsSync(new URL('../dist/cli/main.js', import.meta.url));
if (!built) {
  process.emitWarning('dist/ is missing: running the TypeScript sources through tsx (run `npm run build` for the compiled CLI)');
  const { register } = await import('tsx/esm/api');
  register();
  if (keepYoungGenerationSmall) setFlagsFromString('--semi-space-growth-factor=1');
}
/** A module of the CLI: compiled from dist/, or its TypeScript source through tsx. */
const cliModule = (name) => new URL(built ? `../dist/cli/${name}.js` : `../cli/${name}.ts`, import.meta.url).href;
if (HEAP_HELD_COMMANDS.has(commandOf(process.argv))) (await import(cliModule('heap-growth'))).boundOldGeneration();
const { main } = await import(cliModule('main'));
process.exitCode = await main(process.argv);
