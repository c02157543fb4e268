# shellcheck shell=bash
# Helpers for integration tests: sourced by tests/integration/*.sh.
# Each case prints PASS: or FAIL: for tests/run.sh to count.
set -uo pipefail
SRC=${TEST_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
ENVINIT=$SRC/envinit
# The programs at the top of the tree come from build/, or after `make
# SANITIZE=1` from build-san/ (see the Makefile): BUILD_DIR holds the test
# helpers of the same build. Sanitized, envinit and envinit-setup are
# dynamic, and the bundle's copies load only where it is installed.
SANITIZED=
[ "$(cat "$SRC/.build-mode" 2>/dev/null)" = sanitize ] && SANITIZED=1
BUILD_DIR=$SRC/build
[ -z "$SANITIZED" ] || BUILD_DIR=$SRC/build-san
export BUILD_DIR # read by the scripts that source this
# bundled BUNDLE PROGRAM ARGS...: runs one of the bundle's programs here,
# through the bundle's loader when it is linked for the installed place.
bundled() {
  local b=$1 p=$2; shift 2
  if [ -n "$SANITIZED" ]; then "$b/lib/ld-linux-x86-64.so.2" "$b/bin/$p" "$@"; else "$b/bin/$p" "$@"; fi
}
SUITE=$(basename "${0%.sh}")
WORK=$(mktemp -d "/tmp/envinit-$SUITE.XXXXXX")
trap 't_cleanup' EXIT
T_CLEANUP=()
t_cleanup() { local c; for c in "${T_CLEANUP[@]}"; do eval "$c" || true; done; rm -rf "$WORK"; }
at_exit() { T_CLEANUP=("$*" "${T_CLEANUP[@]}"); }

# t_unshare FLAG...: after need_root, runs the calling script again, once,
# in new namespaces (unshare FLAG..., e.g. --mount --net), where its
# mounts, listeners and processes stay its own. In a new network
# namespace only loopback exists, brought up here. The first run's WORK
# goes (the exec skips its EXIT trap); the second run makes its own.
t_unshare() {
  if [ -z "${T_IN_NS:-}" ]; then
    rm -rf "$WORK"
    T_IN_NS=1 exec unshare "$@" -- bash "$0"
  fi
  case " $* " in *" --net "* | *" -n "*) ip link set lo up ;; esac
}

# t_listening PORT: something listens on TCP PORT in this network namespace.
t_listening() {
  local hex
  hex=$(printf '%04X' "$1")
  awk -v p=":$hex" 'NR > 1 && $4 == "0A" && substr($2, length($2) - 4) == p { found = 1 } END { exit !found }' \
    /proc/net/tcp /proc/net/tcp6
}

# t_pid1_bg LOG CMD...: CMD (envinit, maybe through env or a wrapper that
# execs it) as PID 1 of a new PID namespace with its own /proc, in the
# background, output to LOG. NSPID: the unshare process; EPID: envinit's
# pid as seen from here.
t_pid1_bg() {
  local log=$1; shift
  unshare --pid --fork --mount-proc "$@" >"$log" 2>&1 &
  NSPID=$!
  EPID=
  wait_until 5 eval 'EPID=$(pgrep -P $NSPID -x envinit)' || { echo "envinit did not start"; cat "$log"; return 1; }
}

# t_freeport: a TCP port free on 127.0.0.1 now.
t_freeport() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# t_gone PID: the process has exited (or is a zombie).
t_gone() { [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null || echo Z)" = Z ]; }
# t_proc_field PID FIELD: a field of /proc/PID/status (Uid, Groups, CapEff...).
t_proc_field() { awk -v k="$2:" '$1 == k { $1 = ""; sub(/^ /, ""); print; exit }' "/proc/$1/status"; }
# t_now_ms: the wall clock in milliseconds, for measured durations.
t_now_ms() { echo $(($(date +%s%N) / 1000000)); }

pass() { echo "PASS: $SUITE/$1"; }
fail() { echo "FAIL: $SUITE/$1: ${2:-}"; }
# expect NAME CMD...: the case passes when CMD succeeds.
expect() { local n=$1; shift; if "$@"; then pass "$n"; else fail "$n" "command failed: $*"; fi; }
# expect_eq NAME WANT GOT
expect_eq() { if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "want '$2', got '$3'"; fi; }
# wait_until SECONDS CMD...: polls CMD every 20 ms (tests may poll; envinit may not).
wait_until() {
  local end=$((SECONDS + $1)); shift
  until "$@"; do [ $SECONDS -ge $end ] && return 1; sleep 0.02; done
}
require() { # require CMD...: a missing tool fails loudly instead of skipping
  local c; for c; do command -v "$c" >/dev/null || { fail "requires-$c" "$c not installed (run .ci/deps test)"; exit 1; }; done
}
need_root() { [ "$(id -u)" -eq 0 ] || { fail root "integration tests need root (namespaces)"; exit 1; }; }
# ns_user NAME UID HOME: inside a private mount namespace, adds the user
# (and its group) to bind-mounted copies of /etc/passwd, /etc/group and
# /etc/shadow; the host's files are never written.
ns_user() {
  local name=$1 uid=$2 home=$3
  grep -v -E "^$name:|:x?:$uid:" /etc/passwd >"$WORK/passwd"
  echo "$name:x:$uid:$uid:Test User:$home:/bin/sh" >>"$WORK/passwd"
  grep -v -E "^$name:" /etc/group >"$WORK/group"
  echo "$name:x:$uid:" >>"$WORK/group"
  { grep -v -E "^$name:" /etc/shadow 2>/dev/null; echo "$name:*:19000:0:99999:7:::"; } >"$WORK/shadow"
  chmod 640 "$WORK/shadow"
  mount --bind "$WORK/passwd" /etc/passwd
  mount --bind "$WORK/group" /etc/group
  mount --bind "$WORK/shadow" /etc/shadow
}
