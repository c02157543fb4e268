#!/bin/bash
# Port 22 already taken when envinit starts (ssh = auto): a server that
# greets as SSH is left alone and no second server starts; a non-SSH
# server (one that talks, one that stays silent) is reported as breaking
# SSH access, and the fallback runs on fallback_port instead.
source "$(dirname "$0")/40-ssh-lib.bash"
[ -x /usr/sbin/sshd ] || { fail requires-sshd "/usr/sbin/sshd missing (run .ci/deps test)"; exit 1; }
ssh_t_setup

# listener NAME CMD...: runs CMD in the background until stop_listener.
listener() { "$@" >"$WORK/listener.log" 2>&1 & LPID=$!; at_exit "kill $LPID 2>/dev/null"; }
stop_listener() { kill "$LPID" 2>/dev/null; wait "$LPID" 2>/dev/null; }

# non_ssh_case NAME WHAT-THE-LOG-SAYS SOCAT-ADDRESS
non_ssh_case() {
  local name=$1 says=$2
  listener socat TCP-LISTEN:22,reuseaddr,fork "$3"
  wait_until 5 t_listening 22 || { fail "$name-listener" "socat did not listen"; return; }
  start_envinit ENVINIT_AUTHORIZED_KEYS="$T_KEY" ENVINIT_LOG_LEVEL=info || return
  expect "$name-error-logged" wait_until 10 grep -q "error: port 22 is taken by a server that $says: non-SSH traffic on the SSH port breaks SSH access" "$LOG"
  if has_fallback; then
    if wait_until 10 t_listening 2222; then pass "$name-fallback-on-2222"; else fail "$name-fallback-on-2222" "$(tail -3 "$LOG")"; fi
    expect_eq "$name-status-kind" "fallback 2222" "$(status_field kind) $(status_field port)"
    expect_eq "$name-login-on-2222" "$T_USER" "$(ssh_as 2222 id -un 2>&1)"
    in_ns "$ENVINIT" status >/dev/null 2>&1
    expect_eq "$name-status-up" 0 "$?"
  else
    expect "$name-none-available-logged" grep -q 'no SSH server available' "$LOG"
    in_ns "$ENVINIT" status >/dev/null 2>&1
    expect_eq "$name-status-down" 1 "$?"
  fi
  if grep -q '^envinit: info: sshd: started' "$LOG"; then fail "$name-no-openssh" "OpenSSH was started"; else pass "$name-no-openssh"; fi
  stop_envinit
  stop_listener
}

# (socat's own address syntax mangles backslashes: the reply is a script.)
printf '#!/bin/sh\nprintf "HTTP/1.0 400 Bad Request\\r\\n\\r\\n"\n' >"$WORK/talker"
chmod 755 "$WORK/talker"
non_ssh_case talker "does not speak SSH" EXEC:"$WORK/talker"
non_ssh_case silent "sent no SSH greeting within 2 s" SYSTEM:'exec sleep 3'

# --- an SSH server already answers on 22 (IPv4 and IPv6, then IPv6 only) ---
mkdir -p /run/sshd
served_case() {
  local name=$1; shift
  listener /usr/sbin/sshd -D -e -p 22 -o PidFile=none "$@"
  wait_until 5 t_listening 22 || { fail "$name-listener" "$(cat "$WORK/listener.log")"; return; }
  start_envinit ENVINIT_AUTHORIZED_KEYS="$T_KEY" ENVINIT_LOG_LEVEL=info || return
  expect "$name-left-alone-logged" wait_until 10 grep -q 'port 22 already answers with an SSH greeting: starting no SSH server' "$LOG"
  # The status file is written after that line: wait for it, then compare.
  # shellcheck disable=SC2016 # expanded at each try
  wait_until 5 eval '[ "$(status_field kind) $(status_field state)" = "served external" ]'
  expect_eq "$name-status" "served external" "$(status_field kind) $(status_field state)"
  if grep -q -E 'started as pid|error' "$LOG"; then fail "$name-nothing-started" "$(cat "$LOG")"; else pass "$name-nothing-started"; fi
  if t_listening 2222; then fail "$name-no-second-server" "something on 2222"; else pass "$name-no-second-server"; fi
  in_ns "$ENVINIT" status >/dev/null 2>&1
  expect_eq "$name-status-up" 0 "$?"
  stop_listener
  wait_until 5 eval '! t_listening 22'
  out=$(in_ns "$ENVINIT" status 2>&1)
  expect_eq "$name-status-down-when-it-stops" "1 yes" "$? $(case "$out" in *DOWN*) echo yes ;; esac)"
  stop_envinit
}
served_case served-any
served_case served-ipv6-only -o ListenAddress=::1
