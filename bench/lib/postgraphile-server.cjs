/**
 * PostGraphile v4 (the peer in bench/list.bench.ts) served over HTTP on 127.0.0.1, in its own
 * process.
 *
 *   node bench/lib/postgraphile-server.cjs '{"connection":{...},"pool":10}'
 *
 * Prints {"url": "..."} once the schema is built; stops when its stdin closes or on SIGTERM.
 *
 * Why a process of its own, in plain CommonJS: PostGraphile 4 needs graphql 15 (its own copy in
 * node_modules/postgraphile/node_modules), while crmlink uses graphql 16 at the top level, and one
 * of PostGraphile's helpers (graphql-parse-resolve-info, a peer-dependency user) would otherwise
 * load 16 and mix the two. In this process every `graphql` import resolves to PostGraphile's copy.
 */
'use strict';
const Module = require('node:module');
const path = require('node:path');
const { createServer } = require('node:http');
const { stopWithParent } = require('./peer-lifecycle.cjs');

const graphql15 = path.dirname(require.resolve('graphql/package.json', { paths: [path.dirname(require.resolve('postgraphile/package.json'))] }));
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, parent, ...rest) {
  if (request === 'graphql' || request.startsWith('graphql/')) return resolve.call(this, graphql15 + request.slice('graphql'.length), parent, ...rest);
  return resolve.call(this, request, parent, ...rest);
};

async function main() {
  const spec = JSON.parse(process.argv[2]);
  process.env.NODE_ENV = process.env.NODE_ENV || 'production';
  const { postgraphile } = require('postgraphile');
  const handler = postgraphile({ ...spec.connection, max: spec.pool || 10 }, spec.schema || 'public', {
    disableQueryLog: true,
    graphiql: false,
    disableDefaultMutations: true,
    enableQueryBatching: false,
    ...(spec.options || {}),
  });
  await handler.getGraphQLSchema();
  const server = createServer(handler);
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${server.address().port}/graphql`, graphql: require('graphql/package.json').version })}\n`);
  stopWithParent(server, () => handler.release());
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
