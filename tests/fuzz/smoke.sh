#!/bin/bash
# Runs each libFuzzer target for a few seconds on its seed corpus
# (tests/fuzz/corpus/NAME for build/fuzz/fuzz_NAME), new inputs kept in a
# scratch folder. One PASS:/FAIL: line per target, as tests/run.sh prints;
# a crash, a sanitizer report or an oracle's abort fails it, with the log.
# Usage: tests/fuzz/smoke.sh SECONDS TARGET...
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
secs=$1; shift
[ $# -gt 0 ] || { echo "fuzz-smoke: no fuzz target given" >&2; exit 2; }
work=$(mktemp -d /tmp/envinit-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0
for bin in "$@"; do
  name=$(basename "$bin"); name=${name#fuzz_}
  seeds=tests/fuzz/corpus/$name
  if [ ! -d "$seeds" ] || [ -z "$(ls -A "$seeds")" ]; then
    echo "FAIL: fuzz $name: no seed corpus in $seeds"; failed=$((failed + 1)); continue
  fi
  mkdir -p "$work/$name"
  if (cd "$work" && "$OLDPWD/$bin" -max_total_time="$secs" -print_final_stats=1 \
        "$work/$name" "$OLDPWD/$seeds") >"$work/$name.log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$name.log")
    echo "PASS: fuzz $name (${runs:-?} runs in $secs s)"; passed=$((passed + 1))
  else
    echo "FAIL: fuzz $name"; tail -n 40 "$work/$name.log" | sed 's/^/    /'
    failed=$((failed + 1))
  fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
