#!/bin/bash
# a slim image (busybox-static only, no sshd), the
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

d_boot_login fallback-login slim 22 'whoami=coder sum=42' 'echo "whoami=$(id -un) sum=$((6*7))"; env' \
  "${VOL[@]}" --hostname slimbox --cpus 1.5 --memory 768m \
  -e ENVINIT_AUTHORIZED_KEYS="$PUB" -e FROM_RUN=passed-at-run "$IMG" || exit 0
out=$OUT
d_env_has env "$out" IMAGE_GREETING=hello-from-slim FROM_RUN=passed-at-run \
  CODER_CPU_LIMIT=1.50 CODER_MEMORY_LIMIT=0.75 CODER_USERNAME=coder \
  CODER_ENVIRONMENT_NAME=slimbox CODER_ASSETS_ROOT=/opt/envinit HOME=/home/coder USER=coder

wait_until 5 d_status "$C" >/dev/null
st=$(d_status "$C"); rc=$?
echo "# envinit status (exit $rc):"; echo "$st" | sed 's/^/#   /'
if [ $rc -eq 0 ] && grep -qi fallback <<<"$st"; then pass status-says-fallback; else
  fail status-says-fallback "envinit status exited $rc: $(echo "$st" | head -n 3 | tr '\n' ' ')"; fi
if d_listening "$C" 2222; then fail only-port-22 "something listens on 2222 too"; else pass only-port-22; fi
exit 0
