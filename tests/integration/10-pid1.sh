#!/bin/bash
# envinit as PID 1 of a fresh PID namespace: reaping, signal forwarding,
# exit statuses, shutdown with a grace period, process groups, subreaper.
. "$(dirname "$0")/../lib.sh"
need_root
require unshare
H=$BUILD_DIR/tests
export ENVINIT_SSH=off   # these cases are about PID 1 alone
export ENVINIT_CONFIG=/dev/null

# ns CMD...: runs CMD as PID 1 of a new PID namespace (with its own /proc).
ns() { unshare --pid --fork --mount-proc "$@"; }

# start_bg ARGS...: envinit ARGS as PID 1 in the background (t_pid1_bg).
start_bg() { t_pid1_bg "$WORK/bg.log" "$ENVINIT" "$@"; }
# Waits (at most 20 s) for the background envinit and sets RC.
wait_bg() {
  if ! wait_until 20 eval '! kill -0 $NSPID 2>/dev/null'; then
    echo "envinit (pid $EPID) did not exit in 20 s"; kill -KILL "$EPID" "$NSPID" 2>/dev/null
  fi
  wait "$NSPID"; RC=$?
}

# --- exit statuses ---
for code in 0 1 7 255; do
  ns "$ENVINIT" -- sh -c "exit $code"; expect_eq "exit-status-$code" "$code" "$?"
done
ns "$ENVINIT" -- sh -c 'kill -SEGV $$'; expect_eq exit-by-sigsegv 139 "$?"
ns "$ENVINIT" -- sh -c 'kill -KILL $$'; expect_eq exit-by-sigkill 137 "$?"
ns "$ENVINIT" -e 7 -- sh -c 'exit 7'; expect_eq remap-e-7 0 "$?"
ns "$ENVINIT" -e 7 -- sh -c 'exit 8'; expect_eq remap-e-other-code-kept 8 "$?"
ns "$ENVINIT" -- /nonexistent/program 2>/dev/null; expect_eq missing-command-127 127 "$?"
out=$(ns "$ENVINIT" -- sh -c 'echo $$' 2>&1); expect_eq main-command-is-pid-2 2 "$out"

# --- 2,000 orphaned zombies are all reaped ---
out=$(ns "$ENVINIT" -- sh -c "$H/orphans 2000 && for i in \$(seq 100); do
        z=\$(grep -l ') Z ' /proc/[0-9]*/stat 2>/dev/null | wc -l); [ \$z -eq 0 ] && break; sleep 0.05; done;
        echo \$z")
expect_eq reap-2000-orphans 0 "$out"

# --- every forwarded signal reaches the main command ---
rec=$WORK/signals
start_bg -- "$H/sigrecord" "$rec"
wait_until 5 grep -q ready "$rec" 2>/dev/null
sigs="HUP QUIT USR1 USR2 PIPE ALRM CONT TSTP URG XCPU XFSZ VTALRM PROF WINCH IO PWR STKFLT RTMIN RTMIN+1 RTMAX-1 RTMAX"
for s in $sigs; do
  num=$(kill -l "$s" 2>/dev/null || /bin/kill -l "$s")
  kill -s "$s" "$EPID"
  if wait_until 3 grep -qx "$num" "$rec"; then pass "forward-$s"; else fail "forward-$s" "signal $num not recorded"; fi
done
kill -s TERM "$EPID"; wait_bg
expect_eq forward-TERM-then-exit 0 "$RC"
expect forward-TERM-recorded grep -qx 15 "$rec"

# --- SIGINT too ends the run through the main command ---
rm -f "$rec"; start_bg -- "$H/sigrecord" "$rec"; wait_until 5 grep -q ready "$rec" 2>/dev/null
kill -s INT "$EPID"; wait_bg
expect forward-INT grep -qx 2 "$rec"

# --- rewriting (dumb-init -r) ---
rm -f "$rec"; start_bg -r USR1:USR2 -r HUP:0 -- "$H/sigrecord" "$rec"; wait_until 5 grep -q ready "$rec" 2>/dev/null
kill -s HUP "$EPID"; kill -s USR1 "$EPID"
wait_until 3 grep -qx 12 "$rec"; kill -s TERM "$EPID"; wait_bg
expect_eq rewrite-USR1-to-USR2-and-drop-HUP "ready 12 15" "$(sed 's/ready.*/ready/' "$rec" | tr '\n' ' ' | sed 's/ $//')"

# --- -g: the whole process group gets the signal ---
rm -f "$WORK"/g.*
start_bg -g -- sh -c "$H/sigrecord $WORK/g.b & exec $H/sigrecord $WORK/g.a"
wait_until 5 eval "grep -q ready $WORK/g.a 2>/dev/null && grep -q ready $WORK/g.b 2>/dev/null"
kill -s USR1 "$EPID"
wait_until 3 eval "grep -qx 10 $WORK/g.a && grep -qx 10 $WORK/g.b"
expect group-USR1-both grep -qx 10 "$WORK/g.b"
kill -s TERM "$EPID"; wait_bg
expect_eq group-TERM-exit 0 "$RC"
expect group-TERM-both grep -qx 15 "$WORK/g.b"

# --- without -g only the main command gets it ---
rm -f "$WORK"/g.*
start_bg -- sh -c "trap 'echo usr1 >> $WORK/g.sh' USR1; $H/sigrecord $WORK/g.a & while :; do wait; done"
wait_until 5 eval "grep -q ready $WORK/g.a 2>/dev/null"
kill -s USR1 "$EPID"
wait_until 3 test -s "$WORK/g.sh"
expect_eq no-group-main-only "ready" "$(sed 's/ .*//' "$WORK/g.a" | tr '\n' ' ' | sed 's/ $//')"
kill -s KILL "$(pgrep -P "$EPID" -x sh)"; wait_bg
expect_eq no-group-leftover-terminated 137 "$RC"

# --- a child that ignores SIGTERM is killed after the grace period ---
start_bg --grace=1 -- sh -c 'trap "" TERM; exec sleep 100'
# the shell has set the trap once it has become sleep (which keeps it)
wait_until 5 pgrep -P "$EPID" -x sleep >/dev/null
t0=$(date +%s%N); kill -s TERM "$EPID"; wait_bg; t1=$(date +%s%N)
expect_eq grace-kill-137 137 "$RC"
ms=$(( (t1 - t0) / 1000000 ))
if [ "$ms" -ge 900 ] && [ "$ms" -lt 5000 ]; then pass grace-waited-about-1s; else fail grace-waited-about-1s "took $ms ms"; fi
expect grace-logged grep -q 'grace period of 1.000 s is over' "$WORK/bg.log"

# --- no COMMAND: runs until SIGTERM, exits 0 ---
start_bg
sleep 0.5
if kill -0 "$EPID" 2>/dev/null; then pass no-command-keeps-running; else fail no-command-keeps-running "exited early"; fi
kill -s TERM "$EPID"; wait_bg
expect_eq no-command-sigterm-exit-0 0 "$RC"

# --- idle envinit is never woken: zero context switches in 2 s ---
start_bg -- sleep 30
sleep 0.3
v0=$(awk '/^voluntary_ctxt_switches/{print $2}' /proc/$EPID/status)
n0=$(awk '/^nonvoluntary_ctxt_switches/{print $2}' /proc/$EPID/status)
sleep 2
v1=$(awk '/^voluntary_ctxt_switches/{print $2}' /proc/$EPID/status)
n1=$(awk '/^nonvoluntary_ctxt_switches/{print $2}' /proc/$EPID/status)
expect_eq idle-no-wakeups "0" "$((v1 - v0 + n1 - n0))"
kill -s TERM "$EPID"; wait_bg
expect_eq idle-sleep-terminated 143 "$RC"

# --- not PID 1: child subreaper, orphans re-parented to envinit ---
"$ENVINIT" -v -- sh -c "sleep 30 & echo \$! > $WORK/orphan; exit 0" 2>"$WORK/sub.log" &
sub=$!
wait "$sub"; RC=$?
expect_eq subreaper-exit-0 0 "$RC"
expect subreaper-logged grep -q 'registered as child subreaper' "$WORK/sub.log"
opid=$(cat "$WORK/orphan")
if kill -0 "$opid" 2>/dev/null; then fail subreaper-orphan-stopped "orphan $opid still running"; else pass subreaper-orphan-stopped; fi

"$ENVINIT" -- sh -c "(sleep 1 & echo \$! > $WORK/orphan2) ; sleep 0.3; ps -o ppid= -p \$(cat $WORK/orphan2)" > "$WORK/ppid" 2>&1 &
sub=$!
wait "$sub"
expect_eq subreaper-adopts-orphan "$sub" "$(tr -d ' ' < "$WORK/ppid")"

# --- signals envinit was started with: mask restored in the child ---
mask=$(ns "$ENVINIT" -- grep '^SigBlk' /proc/self/status | awk '{print $2}')
expect_eq child-mask-restored 0000000000000000 "$mask"
