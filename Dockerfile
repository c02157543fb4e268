# Dockerfile — the envinit bundle as an image, for other images to copy.
#
# Builds `make bundle` on Debian 12 and keeps nothing but /opt/envinit: the
# bundle (bin/envinit, bin/envinit-setup, bin/envinit-sshd, three static
# programs) and libexec/busybox, a static busybox that only
# serves to copy the bundle where the image has no shell (a Kubernetes init
# container: see kubernetes.example.yaml). An environment image takes the
# bundle as it would take tini or s6-overlay:
#
#   COPY --from=envinit /opt/envinit /opt/envinit
#   ENTRYPOINT ["/opt/envinit/bin/envinit", "--"]
#
# (see Dockerfile.example). Build it from the repository root:
#
#   docker build -t envinit .
#
# libssh: the build fetches Debian's libssh source package with apt-get
# (sshfallback/libssh.sh) unless the context holds the one a host build
# already fetched and verified, build/libssh/source (.dockerignore lets
# exactly that in, nothing else of build/): then it needs no network.
#
# Build arguments:
#   BUILDER  the base of the build stage (default debian:bookworm); the
#            packages of `.ci/deps build image` are installed when missing.
#            The tests give a local image that has them all and build with
#            --network none.
#   VERSION  what `envinit --version` says; the context has no .git, so
#            without it the build uses init/main.c's release number:
#            --build-arg VERSION="$(git describe --tags --always --dirty)"
ARG BUILDER=debian:bookworm
FROM ${BUILDER} AS build
WORKDIR /src
# The package lists alone first: a change of the sources does not reinstall
# the packages.
COPY .ci/deps .ci/deps
RUN bash .ci/deps build image
COPY . .
ARG VERSION
RUN if [ -z "${VERSION:-}" ]; then unset VERSION; fi; \
    if [ -n "$(find build/libssh/source -name 'libssh_*.dsc' 2>/dev/null)" ]; then \
      export LIBSSH_SRC="$PWD/build/libssh/source"; \
    fi; \
    make -j"$(nproc)" bundle \
    && install -D -m 0755 /bin/busybox /src/dist/envinit/libexec/busybox

FROM scratch
COPY --from=build /src/dist/envinit /opt/envinit
