#!/bin/bash
# The Docker part of `make demo`: a slim image (busybox only) with the envinit
# bundle mounted at /opt/envinit, started with a fresh key; logs in with the
# real ssh client from inside the container's network namespace, shows
# `env | grep CODER_`, and removes the container.
#
#   tests/docker/demo.sh        (needs `make bundle` and a Docker engine;
#                                exits 3 when Docker is not usable, so the
#                                caller can fall back to the namespace demo)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
BUNDLE=${DOCKER_TEST_BUNDLE:-$ROOT/dist/envinit}

command -v docker >/dev/null && command -v dockerd >/dev/null || exit 3
bash tests/docker/dockerd.sh start >/dev/null 2>&1 || exit 3
[ -x "$BUNDLE/bin/envinit-sshd" ] || { echo "demo: $BUNDLE missing: run make bundle first" >&2; exit 1; }

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
WORK=$(mktemp -d /tmp/envinit-demo.XXXXXX)
NAME=envinit-demo-$$
trap 'docker rm -f "$NAME" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT

step "image: busybox-static only, no sshd (tests/docker/image.sh slim)"
IMG=$(bash tests/docker/image.sh slim)
echo "$IMG"

step "a fresh ed25519 key for this demo"
ssh-keygen -q -t ed25519 -N '' -C envinit-demo -f "$WORK/id"
cat "$WORK/id.pub"

step "docker run: envinit is the ENTRYPOINT, the bundle is mounted read-only"
set -x
docker run -d --name "$NAME" --network none --hostname demo --cpus 1.5 --memory 768m \
  -v "$BUNDLE:/opt/envinit:ro" -e ENVINIT_AUTHORIZED_KEYS="$(cat "$WORK/id.pub")" "$IMG" >/dev/null
{ set +x; } 2>/dev/null
PID=$(docker inspect -f '{{.State.Pid}}' "$NAME")
for _ in $(seq 200); do
  grep -q ' 0A ' /proc/"$PID"/net/tcp 2>/dev/null && break
  sleep 0.05
done
docker logs "$NAME" 2>&1 | sed 's/^/  | /'

step "ssh coder@127.0.0.1 (inside the container's network namespace): env | grep CODER_"
nsenter --net=/proc/"$PID"/ns/net ssh -F /dev/null -i "$WORK/id" -o IdentitiesOnly=yes \
  -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
  coder@127.0.0.1 'echo "logged in as $(id -un) on $(hostname)"; env | grep ^CODER_ | sort'

step "envinit status"
docker exec "$NAME" /opt/envinit/bin/envinit status || true

step "docker stop (envinit shuts down cleanly, status 0)"
docker stop "$NAME" >/dev/null
echo "exit status: $(docker inspect -f '{{.State.ExitCode}}' "$NAME")"
