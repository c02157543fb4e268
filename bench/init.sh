#!/bin/bash
# bench/init.sh — envinit's PID-1 core against tini-static, tini and dumb-init,
# all in one run on the same machine.
#
#   bench/init.sh [--runs N] [--idle SECONDS] [--orphans N] [--orphan-runs N]
#   (root; installs .ci/deps bench: tini, dumb-init)
#
# 1. `X -- true`: median wall time over --runs (default 200) runs, timed by
#    bench/spawn (fork, exec, waitpid; CLOCK_MONOTONIC) with the four peers
#    interleaved run by run, X started as an ordinary child (tini warns that
#    it is not PID 1 there, to /dev/null); and the same as PID 1 of a fresh
#    PID namespace (`unshare --pid --fork --mount-proc
#    X -- true`, the unshare cost is the same for every X).
# 2. Idle: each X as PID 1 of its own namespace (`unshare --pid --fork
#    --mount-proc X -- sleep ...`): VmRSS and Pss (smaps_rollup) after 1 s, and
#    voluntary/involuntary context switches of X over --idle (default 5) s.
# 3. Reaping: X as PID 1 runs bench/orphans N (default 5000): N zombies are
#    handed to PID 1 at once; time until all are reaped (median of
#    --orphan-runs, default 5).
# Prints a table with ratios to tini-static and checks its targets.
# envinit runs with ENVINIT_SSH=off: as a tini drop-in it has no SSH work.
# The run happens in a private mount namespace with a tmpfs on /run/envinit,
# so envinit's status file never lands on the host.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

ARGS=("$@")
RUNS=200 IDLE=5 ORPHANS=5000 ORPHAN_RUNS=5
while [ $# -gt 0 ]; do
  case $1 in
    --runs) RUNS=$2; shift 2 ;;
    --idle) IDLE=$2; shift 2 ;;
    --orphans) ORPHANS=$2; shift 2 ;;
    --orphan-runs) ORPHAN_RUNS=$2; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench/init.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

if [ -z "${BENCH_INIT_INNER:-}" ]; then
  [ "$(id -u)" -eq 0 ] || { echo "bench/init.sh: needs root (PID namespaces)" >&2; exit 1; }
  bash .ci/deps bench >&2 || exit 1
  for t in tini tini-static dumb-init unshare cc; do
    command -v "$t" >/dev/null || { echo "bench/init.sh: $t missing (bash .ci/deps bench build)" >&2; exit 1; }
  done
  [ -x ./envinit ] || { echo "bench/init.sh: ./envinit not built (make envinit)" >&2; exit 1; }
  exec env BENCH_INIT_INNER=1 unshare --mount --propagation private "$0" ${ARGS[@]+"${ARGS[@]}"}
fi
unset BENCH_INIT_INNER
mkdir -p /run/envinit && mount -t tmpfs -o size=1m,mode=0755 envinit-bench /run/envinit

OUT=$ROOT/bench/results/init-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$OUT"
cc -O2 -o "$OUT/orphans" bench/orphans.c
cc -O2 -o "$OUT/spawn" bench/spawn.c
export ENVINIT_SSH=off

NAMES=(envinit tini-static tini dumb-init)
declare -A BIN=([envinit]=$ROOT/envinit [tini-static]=$(command -v tini-static)
                [tini]=$(command -v tini) [dumb-init]=$(command -v dumb-init))
declare -A R  # R[metric,name]

log() { echo "# $*" >&2; }
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

log "machine: $(nproc) cores, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg); runs=$RUNS idle=${IDLE}s orphans=$ORPHANS x$ORPHAN_RUNS"
if awk -v n="$(nproc)" '{ exit !($1 > n / 4) }' /proc/loadavg; then
  log "WARNING: the machine is busy (load $(cut -d' ' -f1 /proc/loadavg)); timings will be noisy"
fi
for n in "${NAMES[@]}"; do log "$n: ${BIN[$n]} ($("${BIN[$n]}" --version 2>&1 | head -n 1))"; done

# --- 1. X -- true ---------------------------------------------------------------
# bench/spawn runs the four interleaved, one run each per round in a rotating
# order, so that background load on a shared machine hits every peer alike.
cmds=() cmds1=()
UNSHARE=$(command -v unshare)
for n in "${NAMES[@]}"; do
  cmds+=("${BIN[$n]} -- true")
  cmds1+=("$UNSHARE --pid --fork --mount-proc ${BIN[$n]} -- true")
done
log "1. X -- true ($RUNS interleaved runs each, plain and as PID 1)"
"$OUT/spawn" "$RUNS" 5 "${cmds[@]}" >"$OUT/true.txt"
"$OUT/spawn" "$RUNS" 3 "${cmds1[@]}" >"$OUT/true-pid1.txt"
i=1
for n in "${NAMES[@]}"; do
  R[true,$n]=$(sed -n "${i}p" "$OUT/true.txt" | cut -d' ' -f1)
  R[truepid1,$n]=$(sed -n "${i}p" "$OUT/true-pid1.txt" | cut -d' ' -f1)
  i=$((i + 1))
done

# --- 2. idle as PID 1 -------------------------------------------------------------
field() { sed -n "s/^$2:[[:space:]]*\([0-9]*\).*/\1/p" "/proc/$1/$3"; }
log "2. idle as PID 1 for ${IDLE} s (all four side by side)"
# RSS counts the file pages mapped at start, and the kernel's fault-around maps
# neighbours only when they are in the page cache: a freshly linked binary is
# wholly cached, a packaged one only where it was read. Read every binary in
# full first so all four start from the same (fully cached) state.
cat "${BIN[@]}" >/dev/null
declare -A UPID XPID
for n in "${NAMES[@]}"; do
  unshare --pid --fork --mount-proc "${BIN[$n]}" -- sleep $((IDLE + 30)) &
  UPID[$n]=$!
done
sleep 1
for n in "${NAMES[@]}"; do
  XPID[$n]=$(awk '{ print $1 }' "/proc/${UPID[$n]}/task/${UPID[$n]}/children")
  [ -n "${XPID[$n]}" ] || { echo "bench/init.sh: $n did not start" >&2; exit 1; }
  R[rss,$n]=$(field "${XPID[$n]}" VmRSS status)
  R[pss,$n]=$(field "${XPID[$n]}" Pss smaps_rollup)
  R[v0,$n]=$(field "${XPID[$n]}" voluntary_ctxt_switches status)
  R[nv0,$n]=$(field "${XPID[$n]}" nonvoluntary_ctxt_switches status)
  cp "/proc/${XPID[$n]}/smaps" "$OUT/smaps-$n.txt" 2>/dev/null || true
done
sleep "$IDLE"
for n in "${NAMES[@]}"; do
  R[vcs,$n]=$(($(field "${XPID[$n]}" voluntary_ctxt_switches status) - R[v0,$n]))
  R[nvcs,$n]=$(($(field "${XPID[$n]}" nonvoluntary_ctxt_switches status) - R[nv0,$n]))
  kill -TERM "${XPID[$n]}" 2>/dev/null || true
done
for n in "${NAMES[@]}"; do wait "${UPID[$n]}" 2>/dev/null || true; done

# --- 3. reaping 5,000 orphans ---------------------------------------------------
log "3. reaping $ORPHANS orphaned zombies as PID 1 ($ORPHAN_RUNS interleaved runs each)"
for n in "${NAMES[@]}"; do : >"$OUT/reap-$n.txt"; done
for _ in $(seq "$ORPHAN_RUNS"); do
  for n in "${NAMES[@]}"; do
    if line=$(unshare --pid --fork --mount-proc "${BIN[$n]}" -- "$OUT/orphans" "$ORPHANS"); then
      echo "$line" >>"$OUT/reap-$n.txt"
    else
      echo "bench/init.sh: $n: $line" >&2; echo "FAILED" >>"$OUT/reap-$n.txt"
    fi
  done
done
for n in "${NAMES[@]}"; do
  if grep -q FAILED "$OUT/reap-$n.txt"; then R[reap,$n]=FAILED
  else R[reap,$n]=$(awk '{ print $4 }' "$OUT/reap-$n.txt" | median); fi
done

# --- table ------------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0 || a !~ /^[0-9.]+$/) print "-"; else printf "%.2fx", a / b }'; }
{
  echo "| init | \`X -- true\` median ms | ratio | as PID 1 (unshare) ms | ratio | idle VmRSS KiB | ratio | idle Pss KiB | ratio | vol. ctx switches in ${IDLE} s | invol. | reap $ORPHANS orphans ms (median of $ORPHAN_RUNS) | ratio |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  for n in "${NAMES[@]}"; do
    b=tini-static
    printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$n" \
      "${R[true,$n]}" "$(ratio "${R[true,$n]}" "${R[true,$b]}")" \
      "${R[truepid1,$n]}" "$(ratio "${R[truepid1,$n]}" "${R[truepid1,$b]}")" \
      "${R[rss,$n]}" "$(ratio "${R[rss,$n]}" "${R[rss,$b]}")" \
      "${R[pss,$n]}" "$(ratio "${R[pss,$n]}" "${R[pss,$b]}")" \
      "${R[vcs,$n]}" "${R[nvcs,$n]}" \
      "${R[reap,$n]}" "$(ratio "${R[reap,$n]}" "${R[reap,$b]}")"
  done
} | tee "$OUT/table.md"

# --- targets ----------------------------------------------------------------------
verdict() { if awk "BEGIN { exit !($2) }"; then echo "target met:    $1"; else echo "target MISSED: $1"; fi; }
e=envinit t=tini-static
{
  verdict "envinit -- true <= 1.00x tini-static (${R[true,$e]} vs ${R[true,$t]} ms)" "${R[true,$e]} <= ${R[true,$t]}"
  verdict "envinit -- true as PID 1 <= 1.00x tini-static (${R[truepid1,$e]} vs ${R[truepid1,$t]} ms)" \
    "${R[truepid1,$e]} <= ${R[truepid1,$t]}"
  verdict "idle VmRSS <= 1.00x tini-static (${R[rss,$e]} vs ${R[rss,$t]} KiB)" "${R[rss,$e]} <= ${R[rss,$t]}"
  verdict "0 voluntary context switches in ${IDLE} idle s (${R[vcs,$e]})" "${R[vcs,$e]} == 0"
} | tee "$OUT/targets.txt"
log "raw results: $OUT"
