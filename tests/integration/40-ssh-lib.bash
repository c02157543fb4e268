# Helpers for the SSH orchestration tests (tests/integration/4?-ssh-*.sh).
# Not a test itself (run.sh runs *.sh only). Sourcing it re-runs the
# calling script once in private mount and network namespaces; envinit then
# runs as PID 1 of its own PID namespace below that. Every connection goes
# to 127.0.0.1 or ::1 of that network namespace.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
need_root
t_unshare --mount --net
require ssh ssh-keygen ip unshare nsenter socat

export ENVINIT_CONFIG=/dev/null
FALLBACK=$SRC/envinit-sshd
T_USER=coder
T_UID=4711
T_HOME=/home/$T_USER
STATUS=/run/envinit/status

# The test user exists only in this mount namespace: passwd, group and
# shadow are bind-mounted copies, /home and /run are fresh tmpfs.
ssh_t_setup() {
  ns_user "$T_USER" "$T_UID" "$T_HOME"
  mount -t tmpfs -o mode=755 tmpfs /home
  mount -t tmpfs -o mode=755 tmpfs /run
  mkdir -p "$T_HOME"
  chown $T_UID:$T_UID "$T_HOME"
  # envinit-sshd keeps its host key in /etc/envinit: give it a scratch one.
  if [ ! -d /etc/envinit ]; then
    mkdir /etc/envinit && at_exit "umount /etc/envinit 2>/dev/null; rmdir /etc/envinit"
  fi
  mount -t tmpfs -o mode=755 tmpfs /etc/envinit
  ssh-keygen -q -t ed25519 -N '' -C envinit-test -f "$WORK/id"
  T_KEY=$(cat "$WORK/id.pub")
  chmod 755 "$WORK"
}

# start_envinit [VAR=value...]: envinit as PID 1 of a new PID namespace, in
# the background, its stderr in $LOG. EPID is its pid as seen from here.
# WRAP (an array) goes between unshare and envinit, e.g. setpriv.
WRAP=()
start_envinit() {
  LOG=$WORK/envinit.log
  : >"$LOG"
  t_pid1_bg "$LOG" env "$@" "${WRAP[@]}" "$ENVINIT" || return 1
  at_exit "kill -KILL $NSPID 2>/dev/null"
}
stop_envinit() {
  kill -TERM "$EPID" 2>/dev/null
  wait "$NSPID"
  RC=$?
  [ -z "${SSH_T_DEBUG:-}" ] || sed 's/^/    log: /' "$LOG" >&2
}

# in_ns CMD...: runs CMD in envinit's PID and mount namespaces (its pids, its /proc).
in_ns() { nsenter -t "$EPID" -p -m -- "$@"; }

# any_listener: some socket LISTENs in this network namespace.
any_listener() { awk 'NR > 1 && $4 == "0A" { found = 1 } END { exit !found }' /proc/net/tcp /proc/net/tcp6; }

# status_field NAME: a field of the status file.
status_field() { sed -n "s/^$1=//p" "$STATUS" 2>/dev/null; }

# ssh_as PORT CMD...: logs in as the test user with the test key.
ssh_as() {
  local port=$1; shift
  ssh -F /dev/null -i "$WORK/id" -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=no \
    -o UserKnownHostsFile=/dev/null -o LogLevel=error -o ConnectTimeout=5 -p "$port" "$T_USER@127.0.0.1" "$@" </dev/null
}

has_fallback() { [ -x "$FALLBACK" ]; }
