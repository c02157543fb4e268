# shellcheck shell=bash
# Helpers for the envinit-sshd integration tests (tests/integration/5?-*.sh)
# and bench/ssh.sh. Sourced after tests/lib.sh. Everything runs inside a
# private network namespace (the script calls t_unshare --mount --net),
# and every connection goes to 127.0.0.1 only.

SF_BIN=${SF_BIN:-$SRC/envinit-sshd}
SF_PORT=${SF_PORT:-2222}
SF_UID=4242
SF_USER=tester

# sf_setup: a test user with a home, keys and its own passwd/group files.
sf_setup() {
  SF_HOME=$WORK/home
  mkdir -p "$SF_HOME/.ssh" "$WORK/keys"
  chmod 755 "$WORK"
  for k in good bad1 bad2 bad3 bad4 bad5 bad6 other; do
    ssh-keygen -q -t ed25519 -N '' -C "$k" -f "$WORK/keys/$k"
  done
  cp "$WORK/keys/good.pub" "$SF_HOME/.ssh/authorized_keys"
  printf '%s:x:%d:%d:Test:%s:/bin/bash\n' "$SF_USER" $SF_UID $SF_UID "$SF_HOME" >"$WORK/passwd"
  printf '%s:x:%d:\nextra:x:4343:%s\n' "$SF_USER" $SF_UID "$SF_USER" >"$WORK/group"
  chown -R $SF_UID:$SF_UID "$SF_HOME"
  chmod 700 "$SF_HOME/.ssh"
  chmod 600 "$SF_HOME/.ssh/authorized_keys"
}

# sf_keys LINE...: replaces authorized_keys with LINEs (as the user would).
sf_keys() {
  printf '%s\n' "$@" >"$SF_HOME/.ssh/authorized_keys"
  chown $SF_UID:$SF_UID "$SF_HOME/.ssh/authorized_keys"
}
sf_pub() { cat "$WORK/keys/$1.pub"; }

# sf_start [FLAGS...]: starts envinit-sshd in the background, waits until it
# listens; SF_PID is the listener, SF_LOG its stderr.
sf_start() {
  SF_LOG=$WORK/sshd.log
  : >"$SF_LOG"
  "$SF_BIN" -p "$SF_PORT" -l 127.0.0.1 -k "$WORK/hostkey" -u "$SF_USER" \
    --passwd "$WORK/passwd" --group "$WORK/group" "$@" 2>>"$SF_LOG" &
  SF_PID=$!
  at_exit "kill $SF_PID 2>/dev/null"
  wait_until 5 grep -q 'listening on' "$SF_LOG"
}
sf_stop() { kill "$SF_PID" 2>/dev/null; wait "$SF_PID" 2>/dev/null; }

# sf_ssh [-k KEY] [-u USER] [SSH OPTIONS...] -- COMMAND...: the real OpenSSH
# client, options before the host and the command after it. Each connection
# starts a fresh image of the server, several times slower to start when
# sanitized: the timeout, which covers the banner exchange, allows for that.
SF_CONNECT_TIMEOUT=10
[ -z "$SANITIZED" ] || SF_CONNECT_TIMEOUT=30
sf_ssh() {
  local key=good user=$SF_USER opts=()
  while [ $# -gt 0 ]; do
    case "$1" in
      -k) key=$2; shift 2 ;;
      -u) user=$2; shift 2 ;;
      --) shift; break ;;
      *) opts+=("$1"); shift ;;
    esac
  done
  ssh -F /dev/null -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
    -o LogLevel=error -o BatchMode=yes -o IdentitiesOnly=yes -o ConnectTimeout=$SF_CONNECT_TIMEOUT \
    -i "$WORK/keys/$key" -p "$SF_PORT" "${opts[@]}" "$user@127.0.0.1" "$@"
}
# sf_run CMD: runs CMD remotely with the good key (stdin from /dev/null).
sf_run() { sf_ssh -- "$@" </dev/null; }
