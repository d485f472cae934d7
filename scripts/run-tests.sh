#!/usr/bin/env bash
# `npm test` after bootstrap: the checks, then the suites of the two n8n lines side by side.
#
# The suites spend most of their time waiting (n8n starting, the 2.x schedules' once-a-minute
# polls, installs on the network), so the n8n 1.x suites and the n8n 2.x lane (its install, then
# its suites) run at once; within the 2.x lane, the two suites that wait on minute-long polls
# (the Job Status Trigger's and the active templates') run beside the others. The n8n 1.x lane,
# which ends first, also runs the n8n 2.x queue-mode suite (PostgreSQL). Each lane's lines
# are prefixed with its name, and each step's time is printed at the end. A failing step fails
# the run after every lane has ended.
#   SERIAL=1 npm test   runs everything one step after the other (a quiet timing of each step).
#   LOAD=1 npm test     also runs the load suites (npm run test:load) in the 2.x lane: what CI runs.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

timings="$(mktemp)"
checks_done="$(mktemp)"    # the checks' exit status, once they have ended
n8n2_installed="$(mktemp)" # the n8n 2.x install's exit status, once it has ended
output="$(mktemp)"         # every line of every step, for the closing count of tests
trap 'rm -f "$timings" "$checks_done" "$n8n2_installed" "$output"' EXIT

# Runs one step, prints its outcome and appends "lane<TAB>name<TAB>seconds<TAB>status" to $timings.
step() { # lane, name, command...
  local lane="$1" name="$2" start status=0
  shift 2
  start=$(date +%s.%N)
  local label="$name"
  [ "$lane" = checks ] && label="[checks] $name" # the other lanes' lines get their prefix from prefixed()
  echo "== $label"
  "$@" || status=$?
  local seconds
  seconds=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  printf '%s\t%s\t%s\t%s\n' "$lane" "$name" "$seconds" "$status" >>"$timings"
  echo "== $label: $([ "$status" -eq 0 ] && echo ok || echo "FAILED (exit $status)") in $seconds s"
  return "$status"
}

# A lane stops at its first failing step (later steps would fail for the same reason).
# The queue-mode suite of n8n 2.x (PostgreSQL) runs in this lane, which ends minutes before the
# n8n 2.x lane: there it adds nothing to the total. It waits for the n8n 2.x install (long done by
# then; with SERIAL=1 the suite installs n8n 2.x itself).
lane_n8n1() {
  step n8n1 "e2e suites (n8n 1.x)" npm run -s test:e2e &&
    step n8n1 "queue mode, worker kills (n8n 1.x)" npm run -s test:queue:n8n1 &&
    wait_for_n8n2_install &&
    step n8n1 "queue mode, PostgreSQL (n8n 2.x)" npm run -s test:queue &&
    step n8n1 "browser (n8n 1.x)" npm run -s test:browser &&
    step n8n1 "pack install (n8n 1.x)" npm run -s test:pack
}
wait_for_n8n2_install() {
  [ -n "${SERIAL:-}" ] && return 0
  while [ ! -s "$n8n2_installed" ]; do sleep 1; done
  [ "$(cat "$n8n2_installed")" = 0 ]
}
# Its install starts with the checks; its suites wait for them (they need the build).
lane_n8n2() {
  local installed=0
  step n8n2 "install n8n 2.x and Node 24" bash scripts/install-n8n2.sh || installed=$?
  echo "$installed" >"$n8n2_installed"
  [ "$installed" = 0 ] || return "$installed"
  while [ ! -s "$checks_done" ]; do sleep 1; done
  [ "$(cat "$checks_done")" = 0 ] || return 1
  local polls=(test/e2e/jobStatusTrigger.test.ts test/e2e/examples.test.ts) others=() file status=0 pid
  for file in test/e2e/*.test.ts; do
    [[ " ${polls[*]} " == *" $file "* ]] || others+=("$file")
  done
  if [ -n "${SERIAL:-}" ]; then
    E2E_FILES="${polls[*]}" step n8n2 "e2e, minute-long polls (n8n 2.x)" npm run -s test:e2e:n8n2 || status=$?
  else
    E2E_FILES="${polls[*]}" step n8n2 "e2e, minute-long polls (n8n 2.x)" npm run -s test:e2e:n8n2 &
    pid=$!
  fi
  { E2E_FILES="${others[*]}" step n8n2 "e2e, the other suites (n8n 2.x)" npm run -s test:e2e:n8n2 &&
    step n8n2 "browser (n8n 2.x)" npm run -s test:browser:n8n2 &&
    if [ -n "${LOAD:-}" ]; then step n8n2 "load suites (test:load)" npm run -s test:load:run; fi; } || status=$?
  if [ -n "${pid:-}" ]; then wait "$pid" || status=$?; fi
  return "$status"
}
prefixed() { # lane function: its lines, prefixed, as they come
  "$1" 2>&1 | tee -a "$output" | sed -u "s/^/[${1#lane_}] /"
  return "${PIPESTATUS[0]}"
}

# One closing line for the whole run: the node test runner's counts (spec reporter) and jest's
# (the unit tests: "Tests:       1 skipped, 497 passed, 498 total", on stderr, which the checks'
# tee takes with stdout) added up.
print_test_count() {
  awk '{ gsub(/\033\[[0-9;]*m/, "") }
    /^ℹ pass [0-9]+$/ { pass += $3 } /^ℹ fail [0-9]+$/ { fail += $3 } /^ℹ skipped [0-9]+$/ { skipped += $3 }
    /^Tests: +[0-9]/ { for (i = 2; i < NF; i++) { n = $i + 0; w = $(i + 1); sub(/,$/, "", w)
        if (w == "passed") pass += n; else if (w == "failed") fail += n; else if (w == "skipped") skipped += n } }
    END { printf "tests: %d passed, %d failed, %d skipped\n", pass, fail, skipped }' "$output"
}

print_timings() {
  echo
  echo "== test timings (seconds; the two lanes ran $([ -n "${SERIAL:-}" ] && echo 'one after the other' || echo 'at once'))"
  awk -F '\t' '{ printf "   %-6s %-40s %8s s%s\n", $1, $2, $3, ($4 == 0 ? "" : "  FAILED") }' "$timings"
}

checks() {
  step checks lint npm run -s lint &&
    step checks typecheck npm run -s typecheck &&
    step checks build npm run -s build &&
    step checks "unit tests" npm run -s test:unit
}

status=0
# apt-get takes a lock: the Debian packages come before anything runs side by side.
step checks "debian packages (redis-server, postgresql, chromium)" bash scripts/ensure-debian-packages.sh redis-server postgresql chromium || status=$?
if [ "$status" -ne 0 ]; then
  print_timings
  exit "$status"
fi
if [ -n "${SERIAL:-}" ]; then
  checks > >(tee -a "$output") 2>&1 || status=$?
  echo "$status" >"$checks_done"
  if [ "$status" -eq 0 ]; then
    prefixed lane_n8n1 || status=$?
    prefixed lane_n8n2 || status=$?
  fi
else
  prefixed lane_n8n2 &
  pid2=$!
  checks > >(tee -a "$output") 2>&1 || status=$?
  echo "$status" >"$checks_done"
  if [ "$status" -eq 0 ]; then
    prefixed lane_n8n1 || status=$?
  fi
  wait "$pid2" || status=$?
fi
print_timings
print_test_count
exit "$status"
