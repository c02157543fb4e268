#!/bin/bash
# ssh = auto in an image with OpenSSH: envinit (PID 1, root) runs sshd on
# port 22 under supervision; the key from ENVINIT_AUTHORIZED_KEYS logs in
# with the real ssh client and the session sees ~/.ssh/environment's
# block (PermitUserEnvironment took effect); a SIGKILLed sshd is back
# within a second and `envinit status` counts the restart.
source "$(dirname "$0")/40-ssh-lib.bash"
[ -x /usr/sbin/sshd ] || { fail requires-sshd "/usr/sbin/sshd missing (run .ci/deps test)"; exit 1; }
ssh_t_setup

start_envinit ENVINIT_AUTHORIZED_KEYS="$T_KEY" ENVTEST_MARK=hello-from-envinit ENVINIT_LOG_LEVEL=info \
  SSH_AUTH_SOCK=/tmp/runtime-agent.sock || exit 1
if wait_until 10 t_listening 22; then pass openssh-listens-on-22; else fail openssh-listens-on-22 "$(tail -5 "$LOG")"; fi
expect started-openssh-logged grep -q 'starting OpenSSH (/usr/sbin/sshd) on port 22' "$LOG"
expect_eq status-kind openssh "$(status_field kind)"
expect_eq status-port 22 "$(status_field port)"
pid=$(status_field pid)
args=$(in_ns cat "/proc/$pid/cmdline" 2>/dev/null | tr '\0' ' ')
case "$args" in
  *"/usr/sbin/sshd -D -e -p 22 "*PermitUserEnvironment=yes*) pass sshd-command-line ;;
  *) fail sshd-command-line "pid $pid: '$args'" ;;
esac

expect authorized-keys-written grep -qF "$T_KEY" "$T_HOME/.ssh/authorized_keys"
out=$(ssh_as 22 'id -un; env' 2>&1)
expect_eq login-with-key "$T_USER" "$(echo "$out" | head -1)"
case "$out" in *ENVTEST_MARK=hello-from-envinit*) pass session-sees-environment-block ;;
  *) fail session-sees-environment-block "env lacks ENVTEST_MARK: $(echo "$out" | head -3)" ;; esac
case "$out" in *CODER_USERNAME=$T_USER*) pass session-sees-coder-defaults ;;
  *) fail session-sees-coder-defaults "env lacks CODER_USERNAME" ;; esac
# OpenSSH sets its own SSH_AUTH_SOCK before it reads the file: none in the block
expect block-without-agent-sock-for-openssh bash -c "grep -q ENVTEST_MARK '$T_HOME/.ssh/environment' &&
  ! grep -q SSH_AUTH_SOCK '$T_HOME/.ssh/environment'"

st=$(in_ns "$ENVINIT" status 2>&1); rc=$?
expect_eq status-command-up 0 "$rc"
case "$st" in *"OpenSSH sshd"*"restarts:    0"*) pass status-command-text ;; *) fail status-command-text "$st" ;; esac

# --- sshd SIGKILLed: restarted with the first backoff step ---
old=$(status_field pid)
case "$old" in ''|0|*[!0-9]*) fail sshd-pid-known "status pid '$old'"; stop_envinit; exit 1 ;; esac
t0=$(t_now_ms)
in_ns kill -KILL "$old"
back() { p=$(status_field pid); [ -n "$p" ] && [ "$p" != 0 ] && [ "$p" != "$old" ] && t_listening 22; }
if wait_until 5 back; then
  took=$(($(t_now_ms) - t0))
  if [ "$took" -lt 1000 ]; then pass sshd-back-within-1s; else fail sshd-back-within-1s "took $took ms"; fi
else
  fail sshd-back-within-1s "not back after 5 s: $(tail -3 "$LOG")"
fi
expect_eq status-restarts-1 1 "$(status_field restarts)"
st=$(in_ns "$ENVINIT" status 2>&1)
case "$st" in *"restarts:    1"*"last exit:   killed by SIGKILL"*) pass status-counts-restart ;;
  *) fail status-counts-restart "$st" ;; esac
expect_eq login-after-restart "$T_USER" "$(ssh_as 22 id -un 2>&1)"
# the same as one JSON object
js=$(in_ns "$ENVINIT" status --json 2>&1); rc=$?
got=$(printf '%s' "$js" | /usr/bin/python3 -c 'import json, sys; d = json.load(sys.stdin)
print(d["kind"], d["state"], d["up"], d["port"], d["pid"] > 0, d["restarts"], d["last_exit"], d["since"] > 0)' 2>&1)
expect_eq status-json "0 openssh running True 22 True 1 killed by SIGKILL True" "$rc $got"
out=$(in_ns "$ENVINIT" status --bogus 2>&1); rc=$?
case "$rc $out" in "2 "*"only --json"*) pass status-unknown-word-refused ;; *) fail status-unknown-word-refused "$rc $out" ;; esac

# --- shutdown: sshd is stopped with envinit ---
stop_envinit
expect_eq clean-exit 0 "$RC"
if t_listening 22; then fail nothing-left-on-22 "port 22 still listening"; else pass nothing-left-on-22; fi
