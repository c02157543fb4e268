#!/bin/bash
# Issue 6, scenario 1: a slim image (busybox-static only, no sshd), the
# envinit bundle mounted read-only at /opt/envinit, the key passed in
# ENVINIT_AUTHORIZED_KEYS -> the fallback server serves port 22, and
# `ssh ... env` shows the image's ENV, the runtime's -e, and the CODER_
# variables, CODER_CPU_LIMIT/CODER_MEMORY_LIMIT matching --cpus 1.5
# --memory 768m (1.50 and 0.75).
. "$(dirname "$0")/../lib.sh"
. "$SRC/tests/docker/lib.sh"
docker_ready
d_image slim
d_envinit_bundle
d_keypair

if ! d_run slim "${VOL[@]}" --hostname slimbox --cpus 1.5 --memory 768m \
      -e ENVINIT_AUTHORIZED_KEYS="$PUB" -e FROM_RUN=passed-at-run "$IMG"; then
  fail fallback-login "docker run failed"; exit 0
fi
if ! d_wait_port "$C" 22 20; then
  fail fallback-login "nothing listens on 22"; d_logs "$C"; exit 0
fi
out=$(d_ssh "$C" coder 22 'echo "whoami=$(id -un) sum=$((6*7))"; env' 2>&1)
if echo "$out" | grep -qx 'whoami=coder sum=42'; then pass fallback-login; else
  fail fallback-login "ssh coder@127.0.0.1: $(echo "$out" | tail -n 3 | tr '\n' ' ')"; d_logs "$C"; fi
d_env_has env "$out" IMAGE_GREETING=hello-from-slim FROM_RUN=passed-at-run \
  CODER_CPU_LIMIT=1.50 CODER_MEMORY_LIMIT=0.75 CODER_USERNAME=coder \
  CODER_ENVIRONMENT_NAME=slimbox CODER_ASSETS_ROOT=/opt/envinit HOME=/home/coder USER=coder

wait_until 5 d_status "$C" >/dev/null
st=$(d_status "$C"); rc=$?
echo "# envinit status (exit $rc):"; echo "$st" | sed 's/^/#   /'
if [ $rc -eq 0 ] && echo "$st" | grep -qi fallback; then pass status-says-fallback; else
  fail status-says-fallback "envinit status exited $rc: $(echo "$st" | head -n 3 | tr '\n' ' ')"; fi
if d_listening "$C" 2222; then fail only-port-22 "something listens on 2222 too"; else pass only-port-22; fi
exit 0
