#!/bin/bash
# `envinit ssh-supervise`, what CVM mode's envinit-ssh.service runs: waits
# up to ssh_wait for a server on the port (systemd's OpenSSH), leaves one
# that answers alone, and otherwise becomes the fallback server.
source "$(dirname "$0")/40-ssh-lib.bash"
[ -x /usr/sbin/sshd ] || { fail requires-sshd "/usr/sbin/sshd missing (run .ci/deps test)"; exit 1; }
ssh_t_setup
mkdir -p /run/sshd "$T_HOME/.ssh"
echo "$T_KEY" >"$T_HOME/.ssh/authorized_keys"
chown -R $T_UID:$T_UID "$T_HOME/.ssh"
chmod 700 "$T_HOME/.ssh"
LOG=$WORK/supervise.log

# --- nothing comes: the fallback takes the port (same process, exec) ---
t0=$(t_now_ms)
ENVINIT_SSH_WAIT=0.5 "$ENVINIT" ssh-supervise 2>"$LOG" &
SPID=$!
at_exit "kill $SPID 2>/dev/null"
if has_fallback; then
  if wait_until 10 t_listening 22; then pass none-comes-fallback-on-22; else fail none-comes-fallback-on-22 "$(cat "$LOG")"; fi
  took=$(($(t_now_ms) - t0))
  if [ "$took" -ge 500 ]; then pass waited-ssh-wait; else fail waited-ssh-wait "listening after $took ms"; fi
  expect_eq fallback-status "fallback running $SPID" "$(status_field kind) $(status_field state) $(status_field pid)"
  expect_eq fallback-login "$T_USER" "$(ssh_as 22 id -un 2>&1)"
  "$ENVINIT" status >/dev/null 2>&1
  expect_eq fallback-status-command 0 "$?"
  kill "$SPID"; wait "$SPID" 2>/dev/null
else
  wait "$SPID"
  expect_eq no-fallback-exit-3 3 "$?"
  expect no-fallback-logged grep -q 'envinit-sshd is not installed' "$LOG"
fi

# --- sshd starts listening during the wait: left alone, exit 0 at once ---
t0=$(t_now_ms)
ENVINIT_SSH_WAIT=10 "$ENVINIT" ssh-supervise 2>"$LOG" &
SPID=$!
sleep 0.3
/usr/sbin/sshd -D -e -p 22 -o PidFile=none 2>"$WORK/sshd.log" &
DPID=$!
at_exit "kill $DPID 2>/dev/null"
wait "$SPID"
rc=$?
took=$(($(t_now_ms) - t0))
expect_eq sshd-arrives-exit-0 0 "$rc"
if [ "$took" -lt 5000 ]; then pass sshd-arrives-no-full-wait; else fail sshd-arrives-no-full-wait "took $took ms"; fi
expect_eq sshd-arrives-status "served external" "$(status_field kind) $(status_field state)"
"$ENVINIT" status >/dev/null 2>&1
expect_eq sshd-arrives-status-command 0 "$?"
kill "$DPID"; wait "$DPID" 2>/dev/null
wait_until 5 eval '! t_listening 22'

# --- ssh = openssh forbids the fallback: an error, exit 3 (no restart) ---
ENVINIT_SSH=openssh ENVINIT_SSH_WAIT=0.2 "$ENVINIT" ssh-supervise 2>"$LOG"
expect_eq openssh-forced-exit-3 3 "$?"
expect openssh-forced-logged grep -q 'ssh = openssh forbids the fallback' "$LOG"
if t_listening 22; then fail openssh-forced-nothing-started "22 listens"; else pass openssh-forced-nothing-started; fi

# --- ssh = off: nothing to do ---
ENVINIT_SSH=off "$ENVINIT" ssh-supervise 2>"$LOG"
expect_eq off-exit-0 0 "$?"
