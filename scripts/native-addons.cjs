/**
 * Preloaded (node --require) by scripts/with-node.sh when the project runs under a Node major other
 * than the one its node_modules were installed with: better-sqlite3 then loads the addon built
 * for the running Node's ABI from $CRMLINK_NATIVE_ADDONS instead of node_modules/.../build/Release,
 * which stays built for the installing Node. Every other .node file loads unchanged.
 */
'use strict';
const path = require('node:path');

const dir = process.env.CRMLINK_NATIVE_ADDONS;
if (dir) {
  const release = path.join('better-sqlite3', 'build', 'Release') + path.sep;
  const dlopen = process.dlopen;
  process.dlopen = function dlopenForThisAbi(module, filename, ...rest) {
    const at = typeof filename === 'string' ? filename.lastIndexOf(release) : -1;
    const target = at >= 0 ? path.join(dir, filename.slice(at + release.length)) : filename;
    return dlopen.call(this, module, target, ...rest);
  };
}
