#!/usr/bin/env bash
# Installs what the demo needs on a fresh clone, and nothing when it is already there: the
# package's own dependencies (root lockfile) and n8n 1.x on this machine's Node (e2e/n8n/).
# n8n 2.x and its Node 24 (e2e/n8n2/) are installed by the test commands that use them
# (scripts/install-n8n2.sh, through `npm run e2e:setup:n8n2`).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/npm-install-lockfile.sh
. "$ROOT/scripts/npm-install-lockfile.sh"

stamp=node_modules/.installed-lockfile.sha256
wanted="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ]; then
  echo "[bootstrap] dependencies match package-lock.json: nothing to install"
else
  echo "[bootstrap] installing the package's dependencies (npm ci)"
  npm_install_lockfile
  echo "$wanted" >"$stamp"
fi
bash scripts/install-n8n.sh
