#!/bin/bash
# The Docker part of CI, called by .ci/run before `make check`:
#   installs docker.io and debootstrap (.ci/deps docker), starts a Docker
#   engine when none answers (tests/docker/dockerd.sh), and builds the test
#   images once (tests/docker/image.sh; cached by recipe hash, so a machine
#   that already has them spends a second here).
# Stop the engine afterwards with `bash tests/docker/dockerd.sh stop` (it
# stops only an engine that dockerd.sh started).
#
#   tests/docker/ci-setup.sh [--no-images]
set -euo pipefail
cd "$(dirname "$0")/../.."

bash .ci/deps docker test
bash tests/docker/dockerd.sh start

[ "${1:-}" = --no-images ] && exit 0
# A failed image build is not fatal here: the end-to-end tests that need the
# image fail loudly with the builder's message.
for img in slim debian openssh systemd systemd-ssh; do
  t0=$(date +%s%N)
  if tag=$(bash tests/docker/image.sh "$img" 2>/tmp/envinit-image-"$img".log); then
    echo "ci-setup: image $img = $tag ($((($(date +%s%N) - t0) / 1000000)) ms)"
  else
    echo "ci-setup: building image $img failed (the Docker tests will fail):" >&2
    tail -n 5 /tmp/envinit-image-"$img".log >&2
  fi
done
