#!/usr/bin/env bash
# Makes sure Debian's redis-server is installed, for the queue-mode test (test/queue): the test
# starts and stops its own server (127.0.0.1, a free port, nothing persisted); this only installs.
# As root (CI, these machines) it runs apt-get; otherwise it tries `sudo -n`, else says what to run.
set -euo pipefail
if command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ]; then
  exit 0
fi
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if sudo -n true 2>/dev/null; then sudo=(sudo -n); else
    echo "[ensure-redis] redis-server is missing: run \`sudo apt-get install -y redis-server\` (Debian/Ubuntu)" >&2
    exit 1
  fi
fi
echo "[ensure-redis] installing redis-server (apt-get)"
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends redis-server
