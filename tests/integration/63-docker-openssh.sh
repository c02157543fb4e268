#!/bin/bash
# a Debian image with openssh-server (and no host keys)
# -> envinit creates the host keys, runs OpenSSH on 22, the key passed in
# ENVINIT_AUTHORIZED_KEYS logs in, the ~/.ssh/environment block applies
# (image ENV, runtime -e, CODER_*), and `envinit status` says openssh.
. "$(dirname "$0")/../lib.sh"
. "$SRC/tests/docker/lib.sh"
docker_ready
d_image openssh
d_envinit_binary
d_keypair

d_boot_login openssh-login openssh 22 'whoami=coder' 'echo "whoami=$(id -un)"; env' \
  "${VOL[@]}" --hostname devbox -e ENVINIT_AUTHORIZED_KEYS="$PUB" -e FROM_RUN=passed-at-run "$IMG" || exit 0
out=$OUT
d_env_has env-block "$out" IMAGE_GREETING=hello-from-debian FROM_RUN=passed-at-run \
  CODER_USERNAME=coder CODER_ENVIRONMENT_NAME=devbox HOME=/home/coder USER=coder
if grep -q '^CODER_CPU_LIMIT=[0-9]*\.[0-9][0-9]$' <<<"$out"; then pass env-block-CODER_CPU_LIMIT-present; else
  fail env-block-CODER_CPU_LIMIT-present "no CODER_CPU_LIMIT=N.NN"; fi

# A login has just worked, so the status should say "up" by now (allow 5 s).
wait_until 5 d_status "$C" >/dev/null
st=$(d_status "$C"); rc=$?
echo "# envinit status (exit $rc):"; echo "$st" | sed 's/^/#   /'
if [ $rc -eq 0 ] && grep -qi openssh <<<"$st"; then pass status-says-openssh; else
  fail status-says-openssh "envinit status exited $rc: $(echo "$st" | head -n 3 | tr '\n' ' ')"; fi

# The server really is the image's OpenSSH, a child of envinit.
if docker exec "$C" sh -c 'for d in /proc/[0-9]*; do
     [ "$(cat $d/comm 2>/dev/null)" = sshd ] && grep -q "^PPid:[[:space:]]*1$" $d/status && exit 0; done; exit 1'; then
  pass sshd-child-of-envinit
else
  fail sshd-child-of-envinit "no sshd with PPid 1 in the container"
fi
if docker exec "$C" sh -c 'ls /etc/ssh/ssh_host_ed25519_key >/dev/null'; then pass host-keys-created; else
  fail host-keys-created "/etc/ssh/ssh_host_ed25519_key missing"; fi
exit 0
