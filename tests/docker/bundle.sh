# shellcheck shell=bash disable=SC2034
# The bundle image: the repository's Dockerfile built offline. Source after
# tests/docker/lib.sh (docker_ready first).
#
# d_bundle_image: builds the Dockerfile with the classic builder and
# --network none, FROM the local builder image (tests/docker/image.sh
# builder) and with the libssh source package the host build fetched (the
# context's build/libssh/source), tags it envinit-test/bundle:latest and
# sets BUNDLE_IMG to that tag; D_BUNDLE_BUILD_S gets the
# build's seconds. An unchanged tree is a cache hit (a second or so).
# A failure fails the case bundle-image-builds and ends the test.
d_bundle_image() {
  local tag=envinit-test/bundle:latest version t0
  d_image builder BUILDER_IMG
  if [ -z "$(find "$SRC/build/libssh/source" -name 'libssh_*.dsc' 2>/dev/null)" ]; then
    fail bundle-image-builds "$SRC/build/libssh/source has no libssh_*.dsc: build with make (sshfallback/libssh.sh keeps the source package there)"
    exit 1
  fi
  [ -x "$BUNDLE/bin/envinit" ] || { fail bundle-image-builds "$BUNDLE missing: make bundle"; exit 1; }
  version=$(bundled "$BUNDLE" envinit --version | awk '{ print $2 }')
  t0=$SECONDS
  if ! DOCKER_BUILDKIT=0 docker build --network none -t "$tag" --label envinit-test=bundle \
         --build-arg BUILDER="$BUILDER_IMG" --build-arg VERSION="$version" \
         -f "$SRC/Dockerfile" "$SRC" >"$WORK/bundle-build.log" 2>&1; then
    fail bundle-image-builds "docker build of the Dockerfile failed: $(tail -n 5 "$WORK/bundle-build.log" | tr '\n' ' ')"
    exit 1
  fi
  D_BUNDLE_BUILD_S=$((SECONDS - t0))
  echo "# bundle image $tag built in $D_BUNDLE_BUILD_S s ($(grep -m1 'Sending build context' "$WORK/bundle-build.log"))"
  # The build it replaced is dangling now.
  docker image prune -f --filter label=envinit-test=bundle >/dev/null 2>&1 || true
  BUNDLE_IMG=$tag
}
