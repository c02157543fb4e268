#!/bin/bash
# A broken sshd_config: `sshd -t` explains it in envinit's log, sshd exits
# at once five times in a row, and envinit says so and switches to the
# fallback server envinit-sshd on the same port (when it is built; without
# it the switch is attempted and reported, and `envinit status` fails).
source "$(dirname "$0")/40-ssh-lib.bash"
[ -x /usr/sbin/sshd ] || { fail requires-sshd "/usr/sbin/sshd missing (run .ci/deps test)"; exit 1; }
ssh_t_setup
{ cat /etc/ssh/sshd_config; echo "ThisIsNotAnOption yes"; } >"$WORK/sshd_config"
mount --bind "$WORK/sshd_config" /etc/ssh/sshd_config

start_envinit ENVINIT_AUTHORIZED_KEYS="$T_KEY" ENVINIT_LOG_LEVEL=info || exit 1
expect sshd-t-message-logged wait_until 10 grep -q 'sshd -t: .*Bad configuration option: ThisIsNotAnOption' "$LOG"
expect switch-logged wait_until 15 grep -q 'sshd exited within 1000 ms of its start 5 times in a row.*switching to the fallback server envinit-sshd on port 22' "$LOG"
# envinit logs the switch while it handles the fifth exit, a moment before
# that exit's own line: wait for the line rather than count at once.
fast_exits() { grep -c 'sshd: exited with status 255 after' "$LOG"; }
wait_until 5 eval '[ "$(fast_exits)" -ge 5 ]'
expect_eq five-fast-exits 5 "$(fast_exits)"

if has_fallback; then
  fb_up() { [ "$(status_field kind)" = fallback ] && [ "$(status_field state)" = running ] && t_listening 22; }
  if wait_until 10 fb_up; then pass fallback-listens-on-22; else fail fallback-listens-on-22 "$(tail -5 "$LOG")"; fi
  expect_eq login-through-fallback "$T_USER" "$(ssh_as 22 id -un 2>&1)"
  st=$(in_ns "$ENVINIT" status 2>&1); rc=$?
  expect_eq status-up-with-fallback 0 "$rc"
  case "$st" in *"envinit-sshd (fallback)"*"switched to the fallback"*) pass status-says-fallback ;;
    *) fail status-says-fallback "$st" ;; esac
else
  expect fallback-missing-logged grep -q 'envinit-sshd is not installed' "$LOG"
  in_ns "$ENVINIT" status >/dev/null 2>&1; rc=$?
  expect_eq status-down-without-fallback 1 "$rc"
fi
# sshd is no longer restarted once the fallback took over.
n=$(grep -c '^envinit: info: sshd: started as pid' "$LOG")
expect_eq sshd-not-restarted-after-switch 5 "$n"

stop_envinit
expect_eq clean-exit 0 "$RC"
