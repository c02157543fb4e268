#!/bin/bash
# Runs every test program and script, prints each case as PASS:/FAIL:, and
# closes with "N passed, N failed". Usage: tests/run.sh UNIT_BINARY...
# TESTS_ONLY=glob limits the integration scripts run (e.g. TESTS_ONLY='*pid1*').
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
export TEST_SRC=$PWD
mkdir -p tests/.work
passed=0 failed=0

# After `make SANITIZE=1` (.build-mode says so) every sanitized process of a
# test writes its reports to tests/.work/san/TEST.PROGRAM.PID (PIDs repeat
# across PID namespaces, program names tell them apart), and a test that leaves
# one fails, whatever its cases said: a report is easily lost in a log, and a
# process that dies of it may only make a test slower, not red. The folder is
# writable by all: the servers' session processes run as test users.
# exitcode: a distinctive status for a process that ended with a report.
# LeakSanitizer is on; tests/sanitizer/lsan.supp lists the leaks that are not
# findings, with why.
SAN_DIR=
if [ "$(cat .build-mode 2>/dev/null)" = sanitize ]; then
  SAN_DIR=$PWD/tests/.work/san
  rm -rf "$SAN_DIR" && mkdir -p "$SAN_DIR" && chmod 1777 "$SAN_DIR"
  # A container sees only this folder: the suppressions go there too.
  cp tests/sanitizer/lsan.supp "$SAN_DIR/lsan.supp"
  export SAN_DIR
fi
san_env() { # NAME: the sanitizers' options for the test NAME
  local log=$SAN_DIR/$1
  export ASAN_OPTIONS="log_path=$log:log_exe_name=1:exitcode=86:abort_on_error=0:detect_leaks=1:detect_stack_use_after_return=1"
  export UBSAN_OPTIONS="log_path=$log:log_exe_name=1:print_stacktrace=1:halt_on_error=1:exitcode=86"
  export LSAN_OPTIONS="suppressions=$SAN_DIR/lsan.supp:print_suppressions=0"
}
# san_reports NAME LOG: fails NAME for each report it left, and for a
# report that reached its log instead (a process whose environment was
# cleared writes to stderr).
san_reports() {
  local f n=0
  for f in "$SAN_DIR/$1".*; do
    [ -e "$f" ] || continue
    echo "FAIL: $1 left a sanitizer report: $f"; sed -n '1,30p' "$f" | sed 's/^/    /'
    n=$((n + 1))
  done
  # ASan's reports end with a SUMMARY line; UBSan's start with this one.
  local mark='^SUMMARY: [A-Za-z]+Sanitizer|: runtime error: '
  if grep -q -E "$mark" "$2"; then
    echo "FAIL: $1 log holds a sanitizer report: $2"
    grep -E -B 20 -A 5 "$mark" "$2" | head -n 30 | sed 's/^/    /'
    n=$((n + 1))
  fi
  return "$n"
}

run_one() { # NAME CMD...
  local name=$1; shift
  local log
  log=tests/.work/$(basename "$name").log
  local t0=$SECONDS
  [ -z "$SAN_DIR" ] || san_env "$(basename "$name")"
  timeout --kill-after=10 "${TEST_TIMEOUT:-900}" "$@" >"$log" 2>&1 </dev/null
  local rc=$? p f
  p=$(grep -c '^PASS: ' "$log"); f=$(grep -c '^FAIL: ' "$log")
  grep -E '^(PASS|FAIL): ' "$log"
  if [ -n "$SAN_DIR" ]; then
    san_reports "$(basename "$name")" "$log"; local s=$?
    f=$((f + s))
  fi
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
