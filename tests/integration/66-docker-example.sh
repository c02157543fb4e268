#!/bin/bash
# Dockerfile.example builds (FROM a local imported Debian image with
# systemd and openssh-server, through its BASE build argument, and with the
# bundle COPY --from the bundle image the repository's Dockerfile builds,
# through ENVINIT_IMAGE; offline) and runs: envinit supervises the image's
# OpenSSH and the key logs in; in CVM mode systemd is PID 1 and the login
# works as well.
. "$(dirname "$0")/../lib.sh"
. "$SRC/tests/docker/lib.sh"
. "$SRC/tests/docker/bundle.sh"
docker_ready
d_image systemd-ssh BASE
d_bundle_image
d_keypair
TAG=envinit-test/example:latest

# Dockerfile.example copies nothing from its context.
CTX=$WORK/ctx; mkdir -p "$CTX"
cp "$SRC/Dockerfile.example" "$CTX/Dockerfile"
t0=$SECONDS
# The classic builder with --network none: no registry, no mirror needed.
if DOCKER_BUILDKIT=0 docker build --network none -q -t "$TAG" --label envinit-test=example \
     --build-arg BASE="$BASE" --build-arg ENVINIT_IMAGE="$BUNDLE_IMG" \
     --build-arg PACKAGES="systemd systemd-sysv dbus openssh-server" "$CTX" >"$WORK/build.log" 2>&1; then
  pass example-builds
  echo "# docker build took $((SECONDS - t0)) s"
  # The build this one replaced (a new bundle makes new layers) is dangling now.
  docker image prune -f --filter label=envinit-test=example >/dev/null 2>&1 || true
else
  fail example-builds "docker build failed: $(tail -n 5 "$WORK/build.log" | tr '\n' ' ')"; exit 0
fi

# Default mode: envinit as PID 1 running the image's OpenSSH.
if d_run example "--hostname" exbox -e ENVINIT_AUTHORIZED_KEYS="$PUB" -e FROM_RUN=passed-at-run "$TAG" \
   && d_wait_port "$C" 22 20; then
  out=$(d_ssh "$C" coder 22 'echo "whoami=$(id -un)"; env' 2>&1)
  if grep -qx 'whoami=coder' <<<"$out"; then pass example-login; else
    fail example-login "ssh coder@127.0.0.1: $(echo "$out" | tail -n 3 | tr '\n' ' ')"; d_logs "$C"; fi
  d_env_has example-env "$out" FROM_RUN=passed-at-run CODER_ENVIRONMENT_NAME=exbox
  wait_until 5 docker exec "$C" envinit status >/dev/null
  st=$(docker exec "$C" envinit status 2>&1); rc=$?
  echo "# envinit status (exit $rc):"; echo "$st" | sed 's/^/#   /'
  if [ $rc -eq 0 ] && grep -qi openssh <<<"$st"; then pass example-status-openssh; else
    fail example-status-openssh "docker exec C envinit status exited $rc: $(echo "$st" | head -n 3 | tr '\n' ' ')"; fi
else
  fail example-login "the container did not serve port 22"; [ -n "${C:-}" ] && d_logs "$C"
fi

# CVM mode, as the Dockerfile's comment shows it.
if d_run example-cvm --hostname exbox -e ENVINIT_CVM=1 -e ENVINIT_AUTHORIZED_KEYS="$PUB" \
     --cap-add SYS_ADMIN --tmpfs /run --tmpfs /run/lock -v /sys/fs/cgroup:/sys/fs/cgroup \
     --stop-signal SIGRTMIN+3 "$TAG" \
   && wait_until 15 sh -c "[ \"\$(docker exec $C cat /proc/1/comm 2>/dev/null)\" = systemd ]" \
   && d_wait_port "$C" 22 30; then
  out=$(d_ssh "$C" coder 22 'id -un' 2>&1)
  expect_eq example-cvm-login coder "$out"
  t0=$SECONDS; docker stop -t 20 "$C" >/dev/null
  if [ $((SECONDS - t0)) -lt 15 ]; then pass example-cvm-stops; else
    fail example-cvm-stops "docker stop took $((SECONDS - t0)) s"; fi
else
  fail example-cvm-login "CVM container: PID 1 '$(docker exec "$C" cat /proc/1/comm 2>&1)', port 22 not served"
  d_logs "$C"
fi
exit 0
