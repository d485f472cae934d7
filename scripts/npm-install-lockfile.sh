# Sourced by the install scripts: installs the current folder's lockfile with `npm ci`.
#
# `npm ci` refuses a lockfile that lacks optional platform packages (darwin, win32, ...). A
# registry mirror without those packages (this project's machines) can only produce such a
# lockfile, so in exactly that case (every complaint is "Missing: <name>@ from lock file") the
# same lockfile is installed with `npm install`, and the committed lockfile is put back.
# Any other complaint fails.
npm_install_lockfile() { # extra npm flags...
  local log status=0 complaints
  log="$(mktemp)"
  npm ci --no-audit --no-fund --loglevel=error "$@" >"$log" 2>&1 || status=$?
  if [ "$status" -eq 0 ]; then
    rm -f "$log"
    return 0
  fi
  complaints="$(grep -E '^npm error (Missing|Invalid): ' "$log" || true)"
  if grep -q 'npm error code EUSAGE' "$log" && [ -n "$complaints" ] &&
     ! printf '%s\n' "$complaints" | grep -qvE '^npm error Missing: \S+@ from lock file$'; then
    rm -f "$log"
    echo "npm ci: the lockfile lacks $(printf '%s\n' "$complaints" | wc -l) optional platform package(s) this registry does not serve; installing the same lockfile with npm install"
    cp package-lock.json package-lock.json.ci-backup
    status=0
    npm install --no-audit --no-fund --loglevel=error "$@" || status=$?
    mv package-lock.json.ci-backup package-lock.json
    return "$status"
  fi
  cat "$log" >&2
  rm -f "$log"
  return "$status"
}
