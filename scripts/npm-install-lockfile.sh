# Sourced by the install scripts: installs the current folder's lockfile with `npm ci`.
#
# When `npm ci` fails, scripts/npm-lockfile-fallback.cjs decides from package.json and the
# lockfile (not from npm's messages) whether the lockfile only lacks optional dependencies that
# the registry serves today; in exactly that case the same lockfile is installed with
# `npm install`, and the committed lockfile is put back. Anything else fails with npm's output.
npm_install_lockfile() { # extra npm flags...
  local log status=0 reason
  log="$(mktemp)"
  npm ci --no-audit --no-fund --loglevel=error "$@" >"$log" 2>&1 || status=$?
  if [ "$status" -eq 0 ]; then
    rm -f "$log"
    return 0
  fi
  if reason="$(node "$(dirname "${BASH_SOURCE[0]}")/npm-lockfile-fallback.cjs" .)"; then
    rm -f "$log"
    echo "npm ci refused the lockfile: $reason; installing the same lockfile with npm install"
    cp package-lock.json package-lock.json.ci-backup
    status=0
    npm install --no-audit --no-fund --loglevel=error "$@" || status=$?
    mv package-lock.json.ci-backup package-lock.json
    return "$status"
  fi
  cat "$log" >&2
  rm -f "$log"
  echo "npm ci failed (exit $status), and npm install is no safe fallback: $reason" >&2
  return "$status"
}
