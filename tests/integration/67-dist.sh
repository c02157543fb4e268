#!/bin/bash
# The distribution: `make dist` gives dist/envinit-VERSION-ARCH.tar.gz (the
# bundle under opt/envinit/, reproducible) and a .sha256 that sha256sum -c
# accepts; unpacked, its envinit names that VERSION and its envinit-sshd runs
# as it is (no loader; sanitized, through the bundled one). The repository's Dockerfile builds the bundle
# image offline; that image holds nothing but /opt/envinit, and an image
# made FROM the slim test image with COPY --from it boots and serves SSH.
. "$(dirname "$0")/../lib.sh"
. "$SRC/tests/docker/lib.sh"
. "$SRC/tests/docker/bundle.sh"
require make tar gzip sha256sum
need_root

# --- make dist ------------------------------------------------------------------
t0=$SECONDS
if ! make -C "$SRC" --no-print-directory ${SANITIZED:+SANITIZE=1} dist >"$WORK/dist.log" 2>&1; then
  fail make-dist "make dist failed: $(tail -n 5 "$WORK/dist.log" | tr '\n' ' ')"; exit 0
fi
echo "# make dist took $((SECONDS - t0)) s"
VERSION=$(bundled "$BUNDLE" envinit --version | awk '{ print $2 }')
ARCH=$(dpkg --print-architecture 2>/dev/null || uname -m)
TGZ=$SRC/dist/envinit-$VERSION-$ARCH.tar.gz
if [ -f "$TGZ" ] && [ -f "$TGZ.sha256" ]; then pass make-dist; else
  fail make-dist "no $TGZ (and .sha256) but: $(echo "$SRC"/dist/*)"; exit 0; fi
expect dist-sha256 sh -c "cd '$SRC/dist' && sha256sum -c --quiet '$(basename "$TGZ").sha256'"

# The same tree gives the same bytes.
first=$(cat "$TGZ.sha256")
make -C "$SRC" --no-print-directory ${SANITIZED:+SANITIZE=1} dist >"$WORK/dist2.log" 2>&1
expect_eq dist-reproducible "$first" "$(cat "$TGZ.sha256")"

# Layout: everything under opt/envinit/, owned by 0:0.
list=$(tar -tvzf "$TGZ")
bad=$(echo "$list" | awk '$2 != "0/0" || $6 !~ /^opt\/(envinit(\/|$)|$)/')
if [ -z "$bad" ]; then pass dist-layout; else fail dist-layout "unexpected entries: $(echo "$bad" | head -n 3 | tr '\n' ' ')"; fi

mkdir "$WORK/root"
tar -C "$WORK/root" -xzf "$TGZ"
B=$WORK/root/opt/envinit
want=(bin/envinit bin/envinit-setup bin/envinit-sshd)
[ -z "$SANITIZED" ] || want+=(lib/ld-linux-x86-64.so.2)
for f in "${want[@]}"; do
  [ -x "$B/$f" ] || fail "dist-has-${f##*/}" "$f missing from the tarball"
done
if [ -z "$SANITIZED" ]; then
  expect_eq dist-three-files "3" "$(find "$B" -type f | wc -l)"
fi
expect_eq dist-version "envinit $VERSION" "$(bundled "$B" envinit --version 2>&1)"
if out=$(bundled "$B" envinit-sshd --help 2>&1) && grep -q '^usage: envinit-sshd' <<<"$out"; then
  pass dist-sshd-runs; else
  fail dist-sshd-runs "envinit-sshd --help: $(echo "$out" | head -n 3 | tr '\n' ' ')"; fi

# --- the bundle image -----------------------------------------------------------
docker_ready
d_bundle_image
pass bundle-image-builds

# Only /opt/envinit, besides what the engine puts into every container's file
# system (mount points, /etc/hosts and friends, /.dockerenv).
c=$(docker create --network none "$BUNDLE_IMG" /none)
D_CONTAINERS+=("$c")
files=$(docker export "$c" | tar -t)
other=$(echo "$files" | grep -v -x -E 'opt/|opt/envinit/.*|\.dockerenv|(dev|proc|sys|etc)/|dev/(console|pts/|shm/)|etc/(hostname|hosts|mtab|resolv\.conf)')
if [ -z "$other" ] && grep -qx opt/envinit/bin/envinit-sshd <<<"$files"; then pass bundle-image-only-opt-envinit; else
  fail bundle-image-only-opt-envinit "other files: $(echo "$other" | head -n 5 | tr '\n' ' ')"; fi
expect_eq bundle-image-version "envinit $VERSION" \
  "$(docker run --rm --network none "$BUNDLE_IMG" /opt/envinit/bin/envinit --version 2>&1)"

# An image FROM the slim test image that takes the bundle COPY --from.
d_image slim
d_keypair
CTX=$WORK/ctx; mkdir "$CTX"
printf '%s\n' "FROM $IMG" "COPY --from=$BUNDLE_IMG /opt/envinit /opt/envinit" \
  'ENTRYPOINT ["/opt/envinit/bin/envinit", "--"]' >"$CTX/Dockerfile"
TAG=envinit-test/dist-slim:latest
if DOCKER_BUILDKIT=0 docker build --network none -q -t "$TAG" --label envinit-test=dist-slim "$CTX" \
     >"$WORK/slim-build.log" 2>&1; then
  pass copy-from-builds
  docker image prune -f --filter label=envinit-test=dist-slim >/dev/null 2>&1 || true
else
  fail copy-from-builds "docker build: $(tail -n 5 "$WORK/slim-build.log" | tr '\n' ' ')"; exit 0
fi
# shellcheck disable=SC2016 # expanded by the remote shell
d_boot_login copy-from-login slim 22 'whoami=coder' 'echo "whoami=$(id -un)"' \
  -e ENVINIT_AUTHORIZED_KEYS="$PUB" "$TAG" || exit 0
st=$(d_status "$C"); rc=$?
if [ $rc -eq 0 ] && grep -qi fallback <<<"$st"; then pass copy-from-status; else
  fail copy-from-status "envinit status exited $rc: $(echo "$st" | head -n 3 | tr '\n' ' ')"; fi
exit 0
