#!/usr/bin/env node
// The CLI runs the TypeScript sources through tsx's loader: no build step between an edit and a run.
import { register } from 'tsx/esm/api';

register();
// Output to a closed pipe (`crmlink sync parked | head`) ends the command quietly, as other
// command-line tools do, instead of crashing with an unhandled EPIPE.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv);
