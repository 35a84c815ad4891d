/**
 * PostGraphile v5 (the second peer in bench/list.bench.ts) served over HTTP on 127.0.0.1, in its
 * own process, under Node 22 (PostGraphile 5 requires Node >= 22; crmlink runs on 20).
 *
 *   scripts/with-node.sh 22 node bench/lib/postgraphile-v5-server.cjs '{"connection":{...},"pool":10}'
 *
 * Prints {"url": "...", "version": "...", "graphql": "..."} once the schema is built; stops when
 * its stdin closes or on SIGTERM.
 *
 * PostGraphile 5 is not a project dependency: scripts/bench-setup-postgraphile-v5.sh installs it
 * into bench/.postgraphile-v5/ (git-ignored), and every module here is resolved from there.
 *
 * Options chosen to match the v4 peer (bench/lib/postgraphile-server.cjs, defaults): the amber
 * preset (v5's default), no mutations, and indexes ignored (v4's default `ignoreIndexes: true`),
 * so that `condition`/`orderBy` exist on unindexed columns as they do in v4.
 */
'use strict';
const path = require('node:path');
const { createRequire } = require('node:module');
const { createServer } = require('node:http');
const { stopWithParent } = require('./peer-lifecycle.cjs');

const dir = path.join(__dirname, '..', '.postgraphile-v5');
const requireV5 = createRequire(path.join(dir, 'package.json'));

async function main() {
  const spec = JSON.parse(process.argv[2]);
  process.env.NODE_ENV = process.env.NODE_ENV || 'production';
  let postgraphile;
  try {
    postgraphile = requireV5('postgraphile').postgraphile;
  } catch (err) {
    throw new Error(`PostGraphile 5 is not installed in ${dir}: run scripts/bench-setup-postgraphile-v5.sh (${err.message})`);
  }
  const { PostGraphileAmberPreset } = requireV5('postgraphile/presets/amber');
  const { makePgService } = requireV5('postgraphile/adaptors/pg');
  const { grafserv } = requireV5('grafserv/node');
  const pgl = postgraphile({
    extends: [PostGraphileAmberPreset],
    disablePlugins: ['PgMutationCreatePlugin', 'PgMutationUpdateDeletePlugin', 'PgIndexBehaviorsPlugin'],
    pgServices: [makePgService({ poolConfig: { ...spec.connection, max: spec.pool || 10 }, schemas: [spec.schema || 'public'] })],
    grafserv: { graphiql: false, watch: false },
  });
  await pgl.getSchema();
  const serv = pgl.createServ(grafserv);
  const server = createServer();
  await serv.addTo(server, false);
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const version = (name) => JSON.parse(require('node:fs').readFileSync(path.join(dir, 'node_modules', name, 'package.json'), 'utf8')).version;
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${server.address().port}/graphql`, version: version('postgraphile'), graphql: version('graphql') })}\n`);
  stopWithParent(server, () => pgl.release()); // releases the grafserv instance and the pool too
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
