#!/bin/bash
# ssh = off: no server, nothing listens, no key or environment file is
# written (not even the status file), said once in the log; `envinit
# status`, run with the container's ENVINIT_SSH=off, is content. ssh =
# external: the files are written, no server is started, and `envinit
# status` fails while nothing serves the port.
source "$(dirname "$0")/40-ssh-lib.bash"
ssh_t_setup

start_envinit ENVINIT_SSH=off ENVINIT_AUTHORIZED_KEYS="$T_KEY" ENVINIT_LOG_LEVEL=info || exit 1
wait_until 5 grep -q 'SSH access is disabled' "$LOG"
expect off-no-status-file test ! -e "$STATUS"
if any_listener; then fail off-nothing-listens "$(cat /proc/net/tcp /proc/net/tcp6)"; else pass off-nothing-listens; fi
if [ -e "$T_HOME/.ssh/authorized_keys" ] || [ -e "$T_HOME/.ssh/environment" ]; then
  fail off-no-key-file "$(ls -la "$T_HOME/.ssh")"
else
  pass off-no-key-file
fi
expect_eq off-logged-once 1 "$(grep -c 'SSH access is disabled' "$LOG")"
out=$(in_ns env ENVINIT_SSH=off "$ENVINIT" status 2>&1); rc=$?
expect_eq off-status-command "0 yes" "$rc $(case "$out" in *"none (ssh = off)"*) echo yes ;; esac)"
if grep -q 'started as pid' "$LOG"; then fail off-no-service "$(cat "$LOG")"; else pass off-no-service; fi
stop_envinit
expect_eq off-clean-exit 0 "$RC"

start_envinit ENVINIT_SSH=external ENVINIT_AUTHORIZED_KEYS="$T_KEY" || exit 1
# shellcheck disable=SC2016 # expanded at each try
expect external-status-written wait_until 5 eval 'test "$(status_field kind)" = external'
expect external-keys-written grep -qF "$T_KEY" "$T_HOME/.ssh/authorized_keys"
if any_listener; then fail external-nothing-started "something listens"; else pass external-nothing-started; fi
in_ns "$ENVINIT" status >/dev/null 2>&1
expect_eq external-status-down-without-server 1 "$?"
stop_envinit
