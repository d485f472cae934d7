#!/usr/bin/env bash
# Makes sure the Debian packages some tests need are installed (only those missing):
#   redis-server  the queue-mode test (test/queue) starts its own server on 127.0.0.1
#   postgresql    the queue-mode test on n8n 2.x runs its own cluster (initdb in a temporary folder,
#                 /usr/lib/postgresql/<version>/bin, as the `postgres` user the package creates)
#   chromium      the browser test (test/browser) drives it with playwright-core
# Usage: bash scripts/ensure-debian-packages.sh <package>...   As root (CI, these machines) it runs
# apt-get; otherwise `sudo -n`, else it says what to run.
set -euo pipefail
missing=()
for pkg in "$@"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
[ "${#missing[@]}" -eq 0 ] && exit 0
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if sudo -n true 2>/dev/null; then sudo=(sudo -n); else
    echo "[ensure-debian-packages] missing: ${missing[*]}: run \`sudo apt-get install -y ${missing[*]}\`" >&2
    exit 1
  fi
fi
echo "[ensure-debian-packages] installing ${missing[*]} (apt-get)"
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
