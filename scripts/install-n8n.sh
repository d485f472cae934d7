#!/usr/bin/env bash
# Installs the real n8n used by the end-to-end tests into e2e/n8n/node_modules.
#
# Idempotent: does nothing (in well under a second) when the n8n pinned in
# e2e/n8n/package.json is installed and sqlite3's native binding loads.
#
# Why the detour (see the notes on running a real n8n):
#   - `--ignore-scripts`: isolated-vm (pulled in by n8n) does not compile against Node 20's
#     headers; n8n runs fine without it when N8N_EXPRESSION_ENGINE=legacy.
#   - sqlite3 is the one native module n8n needs, so it is rebuilt on its own.
#   - the `xlsx` override lives in e2e/n8n/package.json.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="$ROOT/e2e/n8n"
cd "$DIR"

say() { printf '[install-n8n] %s\n' "$*"; }

# The n8n version pinned in e2e/n8n/package.json, the one installed, and the one in the lockfile.
json_field() { # file, JS expression on `j`
  node -e 'const fs=require("fs");try{const j=JSON.parse(fs.readFileSync(process.argv[1],"utf8"));const v=('"$2"');process.stdout.write(v==null?"":String(v))}catch{}' "$1"
}
wanted="$(json_field package.json 'j.dependencies && j.dependencies.n8n')"
[ -n "$wanted" ] || { say "no n8n dependency in $DIR/package.json"; exit 1; }

installed_version() { json_field node_modules/n8n/package.json 'j.version'; }
sqlite_ok() { node -e 'require("sqlite3")' >/dev/null 2>&1; }

if [ -f node_modules/n8n/bin/n8n ] && [ "$(installed_version)" = "$wanted" ] && sqlite_ok; then
  say "n8n $wanted already installed in e2e/n8n/node_modules, sqlite3 binding loads: nothing to do"
  exit 0
fi

start=$SECONDS

# A lockfile that does not pin the wanted n8n (package.json was edited) is regenerated, not used.
if [ -f package-lock.json ]; then
  locked="$(json_field package-lock.json 'j.packages && j.packages[""] && j.packages[""].dependencies && j.packages[""].dependencies.n8n')"
  if [ "$locked" != "$wanted" ]; then
    say "package-lock.json pins n8n '${locked}', package.json wants '$wanted': regenerating the lockfile"
    rm -f package-lock.json
  fi
fi
if [ ! -f package-lock.json ]; then
  say "generating e2e/n8n/package-lock.json (npm install --package-lock-only --ignore-scripts)"
  npm install --package-lock-only --ignore-scripts --no-audit --no-fund --loglevel=error
fi

say "installing n8n $wanted from the lockfile (npm ci --ignore-scripts; about 3 minutes, 1.1 GB)"
# shellcheck source=scripts/npm-install-lockfile.sh
. "$ROOT/scripts/npm-install-lockfile.sh"
npm_install_lockfile --ignore-scripts || { say "installing n8n failed"; exit 1; }

say "building sqlite3's native binding (npm rebuild sqlite3 --ignore-scripts=false; compiles with node-gyp, about a minute)"
JOBS="${JOBS:-max}" npm rebuild sqlite3 --ignore-scripts=false --no-audit --no-fund --loglevel=error

if [ "$(installed_version)" != "$wanted" ]; then
  say "installed n8n is '$(installed_version)', expected '$wanted'"
  exit 1
fi
if ! sqlite_ok; then
  say "sqlite3 still does not load after the rebuild:"
  node -e 'require("sqlite3")' || true
  exit 1
fi
say "done: n8n $wanted ready in e2e/n8n/node_modules ($((SECONDS - start)) s)"
