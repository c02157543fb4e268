#!/bin/bash
# Runs every test program and script, prints each case as PASS:/FAIL:, and
# closes with "N passed, N failed". Usage: tests/run.sh UNIT_BINARY...
# TESTS_ONLY=glob limits the integration scripts run (e.g. TESTS_ONLY='*pid1*').
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
export TEST_SRC=$PWD
mkdir -p tests/.work
passed=0 failed=0

run_one() { # NAME CMD...
  local name=$1; shift
  local log
  log=tests/.work/$(basename "$name").log
  local t0=$SECONDS
  timeout --kill-after=10 "${TEST_TIMEOUT:-900}" "$@" >"$log" 2>&1 </dev/null
  local rc=$? p f
  p=$(grep -c '^PASS: ' "$log"); f=$(grep -c '^FAIL: ' "$log")
  grep -E '^(PASS|FAIL): ' "$log"
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    echo "FAIL: $name exited $rc (log: $log)"; tail -n 20 "$log" | sed 's/^/    /'; f=1
  elif [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
    echo "FAIL: $name ran no test case (log: $log)"; f=1
  elif [ "$f" -gt 0 ]; then
    echo "  ($name: see $log)"
  fi
  echo "# $name: $p passed, $f failed in $((SECONDS - t0)) s"
  passed=$((passed + p)); failed=$((failed + f))
}

for bin in "$@"; do
  run_one "$bin" "./$bin"
done
for script in tests/integration/*.sh; do
  [ -e "$script" ] || continue
  # shellcheck disable=SC2254 # TESTS_ONLY is a glob on purpose
  case "$script" in ${TESTS_ONLY:-*}) ;; *) continue ;; esac
  run_one "$script" bash "$script"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
