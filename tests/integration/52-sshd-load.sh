#!/bin/bash
# envinit-sshd under load and loss: 100 connections at once, clients that
# vanish mid-transfer, a flood of idle unauthenticated connections.
source "$(dirname "$0")/../lib.sh"
source "$SRC/tests/integration/50-sshd-lib.bash"
need_root
t_unshare --mount --net
require ssh ssh-keygen ip pgrep
[ -x "$SF_BIN" ] || { fail build "$SF_BIN missing (make envinit-sshd)"; exit 1; }
sf_setup
sf_start --login-grace-time 5

# ---- 100 connections at once ----
pids=()
for i in $(seq 100); do
  sf_ssh -- 'echo ok' </dev/null >"$WORK/c.$i" 2>&1 &
  pids+=($!)
done
t0=$(date +%s%N)
for p in "${pids[@]}"; do wait "$p"; done
echo "# 100 connections took $((($(date +%s%N) - t0) / 1000000)) ms"
okn=$(cat "$WORK"/c.* | grep -c '^ok$')
expect_eq concurrent-100-connections 100 "$okn"
[ "$okn" = 100 ] || grep -h -v '^ok$' "$WORK"/c.* | sort | uniq -c | head -5

# only the listener is left once they are done
wait_until 3 sh -c "[ -z \"\$(pgrep -P $SF_PID)\" ]"
expect_eq no-connection-process-left "" "$(pgrep -P $SF_PID | tr '\n' ' ')"

# ---- a client killed mid-transfer leaves nothing behind within 2 s ----
vanish() { # NAME STDIN SSH-ARGS...
  local name=$1 in=$2; shift 2
  sf_ssh "$@" <"$in" >/dev/null 2>&1 &
  local cpid=$!
  wait_until 5 pgrep -u $SF_UID >/dev/null
  sleep 0.3 # let data flow
  # sf_ssh is a function: the ssh client is a child of the background shell
  pkill -9 -P $cpid ssh
  kill -9 $cpid 2>/dev/null
  wait $cpid 2>/dev/null
  local t0=$SECONDS
  if wait_until 2 sh -c "! pgrep -u $SF_UID >/dev/null && [ -z \"\$(pgrep -P $SF_PID)\" ]"; then
    pass "$name"
  else
    fail "$name" "left: $(ps -o pid,user,args -u $SF_UID --ppid $SF_PID --no-headers | tr '\n' ';')"
  fi
}
vanish killed-upload-no-process /dev/zero -- 'cat >/dev/null'
vanish killed-download-no-process /dev/null -- 'cat /dev/zero'
vanish killed-idle-command-no-process /dev/null -- 'sleep 100'
vanish killed-pty-shell-no-process /dev/null -tt -- 'sleep 100' 
expect no-zombies sh -c "! ps -eo stat,ppid | awk '\$1 ~ /^Z/ && \$2 == $SF_PID' | grep -q ."

# ---- floods cannot lock the user out ----
# 120 idle connections that never send a byte (more than MaxStartups'
# full, 100), 60 that sent a banner and stall, and a stream of 200 fresh
# silent ones (40 in flight) all at once: every one of 10 logins succeeds.
sf_stop; sf_start --login-grace-time 30
flood_fds=()
for i in $(seq 120); do
  exec {fd}<>/dev/tcp/127.0.0.1/$SF_PORT && flood_fds+=("$fd")
done
for i in $(seq 60); do
  exec {fd}<>/dev/tcp/127.0.0.1/$SF_PORT && flood_fds+=("$fd") && printf 'SSH-2.0-stall\r\n' >&"$fd"
done
/usr/bin/python3 - "$SF_PORT" <<'PY' &
import socket, sys, time
port, alive = int(sys.argv[1]), []
for i in range(200):
    try:
        alive.append(socket.create_connection(("127.0.0.1", port), timeout=2))
    except OSError:
        pass
    if len(alive) > 40:
        alive.pop(0).close()
    time.sleep(0.01)
time.sleep(3)
PY
flood=$!
sleep 1.5 # the idle ones are silent for longer than a second now
got=0
for i in $(seq 10); do
  if sf_run true 2>"$WORK/flood-login.err"; then got=$((got + 1)); else
    echo "# login $i: $(tr '\n' ' ' <"$WORK/flood-login.err")"; fi
done
wait $flood
expect_eq startups-flood-user-gets-in 10 "$got"
expect startups-closing-logged grep -q "closing unauthenticated connection pid [0-9]*: silent for" "$SF_LOG"
for fd in "${flood_fds[@]}"; do exec {fd}<&-; done
