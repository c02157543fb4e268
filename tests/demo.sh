#!/bin/bash
# make demo: boots a throwaway environment with envinit as PID 1 and logs in
# over SSH. With a usable Docker engine it runs the slim-image demo
# (tests/docker/demo.sh); otherwise it builds the environment from
# namespaces: a private PID, mount and network namespace, a user `coder`
# that exists only there, envinit as PID 1 starting OpenSSH (or the
# fallback server), and the real ssh client on that namespace's loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
# The helpers of the build the programs come from (see the Makefile's SANITIZE).
HELPERS=$ROOT/build/tests
[ "$(cat .build-mode 2>/dev/null)" != sanitize ] || HELPERS=$ROOT/build-san/tests

# Docker when it is installed: tests/docker/demo.sh starts an engine if none
# answers, and exits 3 when Docker cannot be used here.
if [ "${DEMO_NO_DOCKER:-}" != 1 ] && command -v docker >/dev/null && command -v dockerd >/dev/null; then
  rc=0; bash tests/docker/demo.sh || rc=$?
  [ $rc -ne 3 ] && exit $rc
  echo "demo: Docker is not usable; using namespaces instead"
fi

if [ -z "${DEMO_IN_NS:-}" ]; then
  [ "$(id -u)" -eq 0 ] || { echo "demo: needs root (namespaces)" >&2; exit 1; }
  export DEMO_IN_NS=1
  exec unshare --mount --net -- bash "$0" "$@"
fi

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
WORK=$(mktemp -d /tmp/envinit-demo.XXXXXX)
chmod 755 "$WORK"
MADE_ETC=
cleanup() {
  if [ -n "${NSPID:-}" ]; then kill -KILL "$NSPID" 2>/dev/null || true; fi
  if [ -n "$MADE_ETC" ]; then umount /etc/envinit 2>/dev/null; rmdir /etc/envinit 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
ip link set lo up

step "a user 'coder' that exists only in this mount namespace, and a fresh key"
{ grep -v '^coder:' /etc/passwd; echo "coder:x:4711:4711:Demo:/home/coder:/bin/bash"; } >"$WORK/passwd"
{ grep -v '^coder:' /etc/group; echo "coder:x:4711:"; } >"$WORK/group"
{ grep -v '^coder:' /etc/shadow; echo "coder:*:19000:0:99999:7:::"; } >"$WORK/shadow"
mount --bind "$WORK/passwd" /etc/passwd; mount --bind "$WORK/group" /etc/group
mount --bind "$WORK/shadow" /etc/shadow
mount -t tmpfs -o mode=755 tmpfs /home; mount -t tmpfs -o mode=755 tmpfs /run
# envinit-sshd keeps its host key in /etc/envinit: a scratch one here.
[ -d /etc/envinit ] || { mkdir /etc/envinit && MADE_ETC=1; }
mount -t tmpfs tmpfs /etc/envinit
mkdir -m 755 /home/coder && chown 4711:4711 /home/coder
ssh-keygen -q -t ed25519 -N '' -C envinit-demo -f "$WORK/id"
cat "$WORK/id.pub"

step "envinit as PID 1 (unshare --pid), key in ENVINIT_AUTHORIZED_KEYS, main command: sleep"
# A clean environment, as an image's ENV would give: the demo's own
# variables must not leak into the environment block.
BIN=$ROOT/envinit
[ -x "$ROOT/dist/envinit/bin/envinit" ] && BIN=$ROOT/dist/envinit/bin/envinit
env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  DEMO_IMAGE_VAR="set in the image" ENVINIT_AUTHORIZED_KEYS="$(cat "$WORK/id.pub")" \
  unshare --pid --fork --mount-proc "$BIN" -v -- sleep 600 >"$WORK/log" 2>&1 &
NSPID=$!
for _ in $(seq 250); do grep -q 'started as pid' "$WORK/log" && break; sleep 0.02; done
for _ in $(seq 250); do awk 'NR>1 && $4=="0A" && $2 ~ /:0016$/ {f=1} END {exit !f}' /proc/net/tcp /proc/net/tcp6 && break; sleep 0.02; done
EPID=$(pgrep -P "$NSPID" -x envinit)
sed 's/^/  | /' "$WORK/log"

step "envinit status"
nsenter -t "$EPID" -m -p "$BIN" status || true

SSH=(ssh -F /dev/null -i "$WORK/id" -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=no
     -o UserKnownHostsFile=/dev/null -o LogLevel=error coder@127.0.0.1)
step "ssh coder@127.0.0.1 'id; cat ~/.ssh/environment; env | grep -E \"^(CODER_|DEMO_)\"'"
"${SSH[@]}" 'id; cat ~/.ssh/environment; echo "-- in the session:"; env | grep -E "^(CODER_|DEMO_)" | sort'

step "zombies: 500 orphans made inside the environment, then counted"
nsenter -t "$EPID" -m -p sh -c "$HELPERS/orphans 500; sleep 0.3; echo zombies left: \$(grep -l ') Z ' /proc/[0-9]*/stat 2>/dev/null | wc -l)"

step "signals: SIGTERM to envinit stops sshd and the main command, exit status follows"
kill -TERM "$EPID"; rc=0; wait "$NSPID" || rc=$?
tail -n 6 "$WORK/log" | sed 's/^/  | /'
echo "envinit exited with status $rc (sleep was killed by SIGTERM: 128+15)"
