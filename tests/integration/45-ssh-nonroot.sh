#!/bin/bash
# envinit not root (USER in the image), ssh = auto with OpenSSH installed:
# OpenSSH is skipped (it needs root) and the fallback runs as this user on
# fallback_port; the user's own key logs in.
source "$(dirname "$0")/40-ssh-lib.bash"
require setpriv
ssh_t_setup
# shellcheck disable=SC2034 # read by start_envinit (40-ssh-lib.bash)
WRAP=(setpriv "--reuid=$T_UID" "--regid=$T_UID" --clear-groups --)
# fallback_config: a file in sshd_config syntax for envinit-sshd (its -f)
printf 'AcceptEnv MY_*\nMaxSessions 4\n' >"$T_HOME/fallback_sshd_config"
start_envinit ENVINIT_AUTHORIZED_KEYS="$T_KEY" ENVINIT_LOG_LEVEL=info ENVINIT_STATUS_FILE="$T_HOME/status" \
  ENVINIT_FALLBACK_CONFIG="$T_HOME/fallback_sshd_config" \
  ENVINIT_FALLBACK_ARGS="--no-port-forwarding --no-print-motd --kex-algorithms -diffie-hellman-group18-sha512" \
  HOME="$T_HOME" || exit 1
STATUS=$T_HOME/status
expect skip-openssh-logged wait_until 5 grep -q 'OpenSSH needs root' "$LOG"
if has_fallback; then
  if wait_until 10 t_listening 2222; then pass fallback-on-2222; else fail fallback-on-2222 "$(tail -3 "$LOG")"; fi
  pid=$(status_field pid)
  expect_eq fallback-runs-as-user "$T_UID" "$(in_ns stat -c %u "/proc/$pid" 2>&1)"
  expect_eq login-on-2222 "$T_USER" "$(ssh_as 2222 id -un 2>&1)"
  expect_eq fallback-config-applied "from-client" "$(timeout 10 ssh -F /dev/null -i "$WORK/id" -o IdentitiesOnly=yes \
    -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=error \
    -o SetEnv=MY_VAR=from-client -p 2222 "$T_USER@127.0.0.1" 'echo "$MY_VAR"' </dev/null 2>&1)"
  expect_eq block-agent-sock-for-envinit-sshd "SSH_AUTH_SOCK=$T_HOME/.envinit-ssh-agent.sock" \
    "$(grep '^SSH_AUTH_SOCK=' "$T_HOME/.ssh/environment")"
  js=$(in_ns setpriv --reuid=$T_UID --regid=$T_UID --clear-groups -- env ENVINIT_STATUS_FILE="$STATUS" \
    "$ENVINIT" status --json 2>&1)
  got=$(printf '%s' "$js" | /usr/bin/python3 -c 'import json, sys; d = json.load(sys.stdin)
print(d["kind"], d["up"], d["port"], d["last_exit"])' 2>&1)
  expect_eq status-json-fallback "fallback True 2222 None" "$got"
  case "$(in_ns cat "/proc/$pid/cmdline" | tr '\0' ' ')" in
    *"--port 2222"*"--no-port-forwarding --no-print-motd"*) pass fallback-args-passed ;;
    *) fail fallback-args-passed "envinit-sshd's command line lacks fallback_args" ;;
  esac
  # ssh -W asks for the same direct-tcpip channel as -L; refused, the
  # client says so (allowed, it would just connect and print nothing).
  out=$(timeout 10 ssh -F /dev/null -i "$WORK/id" -o IdentitiesOnly=yes -o BatchMode=yes \
        -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=error \
        -W 127.0.0.1:2222 -p 2222 "$T_USER@127.0.0.1" </dev/null 2>&1)
  case "$out" in
    *"open failed"*|*prohibited*|*"stdio forwarding failed"*) pass fallback-args-honoured ;;
    *) fail fallback-args-honoured "forwarding not refused despite --no-port-forwarding: '$out'" ;;
  esac
  # an algorithm list in OpenSSH's syntax, through fallback_args: the
  # removed key exchange is refused, its neighbour still works
  kex_ssh() {
    timeout 10 ssh -F /dev/null -i "$WORK/id" -o IdentitiesOnly=yes -o BatchMode=yes \
      -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=error \
      -o KexAlgorithms="$1" -p 2222 "$T_USER@127.0.0.1" echo ok </dev/null 2>&1
  }
  expect_eq fallback-args-kex-kept ok "$(kex_ssh diffie-hellman-group16-sha512)"
  if [ "$(kex_ssh diffie-hellman-group18-sha512)" = ok ]; then
    fail fallback-args-kex-removed "diffie-hellman-group18-sha512 still negotiated"
  else
    pass fallback-args-kex-removed
  fi
  in_ns setpriv --reuid=$T_UID --regid=$T_UID --clear-groups -- env ENVINIT_STATUS_FILE="$STATUS" "$ENVINIT" status >/dev/null 2>&1
  expect_eq status-up 0 "$?"
else
  expect none-available-logged grep -q 'no SSH server available' "$LOG"
fi
if t_listening 22; then fail nothing-on-22 "22 listens"; else pass nothing-on-22; fi
stop_envinit
expect_eq clean-exit 0 "$RC"
