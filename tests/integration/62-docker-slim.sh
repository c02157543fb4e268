#!/bin/bash
# a slim image (busybox-static only, no sshd), the
# envinit bundle mounted read-only at /opt/envinit, the key passed in
# ENVINIT_AUTHORIZED_KEYS -> the fallback server serves port 22, and
# `ssh ... env` shows the image's ENV, the runtime's -e, and the CODER_
# variables, CODER_CPU_LIMIT/CODER_MEMORY_LIMIT matching --cpus 1.5
# --memory 768m (1.50 and 0.75). The server's processes are named
# envinit-sshd (no loader runs them), and forwarding resolves "localhost"
# (the engine's /etc/hosts) and numeric addresses in this image without a
# C library.
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
# comm of every process in the container: envinit-sshd there, no loader
comms=$(pgrep --ns "$(d_pid "$C")" --nslist pid -l '' | awk '{ print $2 }' | sort -u | tr '\n' ' ')
if echo " $comms" | grep -q ' envinit-sshd ' && ! echo "$comms" | grep -q 'ld-linux'; then pass sshd-named-envinit-sshd
else fail sshd-named-envinit-sshd "processes: $comms"; fi
# ssh -W to the server's own port: its greeting comes back through it
for target in 127.0.0.1 localhost; do
  got=$(D_SSH_OPTS="-W $target:22" d_ssh "$C" coder 22 </dev/null 2>&1 | head -n 1)
  case $got in SSH-2.0-*) pass "fwd-resolves-$target" ;; *) fail "fwd-resolves-$target" "ssh -W $target:22: $got" ;; esac
done
if d_listening "$C" 2222; then fail only-port-22 "something listens on 2222 too"; else pass only-port-22; fi
exit 0
