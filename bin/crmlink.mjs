#!/usr/bin/env node
// The CLI runs the compiled JavaScript in dist/ (built by `npm run build`, which `npm install`
// runs as `prepare`): nothing compiles TypeScript at run time. A checkout that was never built
// falls back to the TypeScript sources through tsx, and says so.
import { existsSync } from 'node:fs';

// Output to a closed pipe (`crmlink sync parked | head`) ends the command quietly, as other
// command-line tools do, instead of crashing with an unhandled EPIPE.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

const compiled = new URL('../dist/cli/main.js', import.meta.url);
let main;
if (existsSync(compiled)) {
  ({ main } = await import(compiled.href));
} else {
  process.emitWarning('dist/ is missing: running the TypeScript sources through tsx (run `npm run build` for the compiled CLI)');
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../cli/main.ts'));
}
process.exitCode = await main(process.argv);
