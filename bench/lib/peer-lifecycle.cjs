/**
 * How the PostGraphile peer processes (postgraphile-server.cjs, postgraphile-v5-server.cjs) end:
 * when their stdin closes (the bench exited) or on SIGTERM, they close the HTTP server and its
 * connections, release the peer (its pool too), and exit. Plain CommonJS with no dependency, so
 * it loads under either peer's Node and module tree.
 */
'use strict';

/** @param {import('node:http').Server} server @param {() => Promise<unknown>} release */
function stopWithParent(server, release) {
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    server.close();
    server.closeAllConnections();
    await release();
    process.exit(0);
  };
  process.stdin.on('end', stop);
  process.stdin.on('close', stop);
  process.stdin.resume();
  process.on('SIGTERM', stop);
}

module.exports = { stopWithParent };
