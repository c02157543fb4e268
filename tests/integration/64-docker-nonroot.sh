#!/bin/bash
# the slim image run with --user 1000:1000 -> envinit is
# not root, so OpenSSH is out and port 22 cannot be bound: the fallback runs
# as that user on 2222 (fallback_port), and the key logs in as coder.
. "$(dirname "$0")/../lib.sh"
. "$SRC/tests/docker/lib.sh"
docker_ready
d_image slim
d_envinit_bundle
d_keypair

d_boot_login nonroot-login nonroot 2222 'ids=1000:1000' 'echo "ids=$(id -u):$(id -g)"; env' \
  "${VOL[@]}" --user 1000:1000 -e ENVINIT_AUTHORIZED_KEYS="$PUB" -e FROM_RUN=passed-at-run "$IMG" || exit 0
out=$OUT
d_env_has env "$out" IMAGE_GREETING=hello-from-slim FROM_RUN=passed-at-run CODER_USERNAME=coder \
  HOME=/home/coder USER=coder

# Every process in the container runs as 1000, the server included.
uids=$(docker exec "$C" sh -c 'for f in /proc/[0-9]*/status; do sed -n "s/^Uid:[[:space:]]*\([0-9]*\).*/\1/p" $f; done' | sort -u | tr '\n' ' ')
expect_eq all-processes-uid-1000 "1000 " "$uids"
if d_listening "$C" 22; then fail nothing-on-22 "something listens on 22"; else pass nothing-on-22; fi
echo "# envinit status:"; d_status "$C" | sed 's/^/#   /'
exit 0
