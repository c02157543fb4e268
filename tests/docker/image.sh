#!/bin/bash
# Builds (once) the local Docker images the end-to-end tests run, and prints
# the tag of the one asked for on stdout.
#
#   tests/docker/image.sh NAME      NAME: slim debian openssh systemd systemd-ssh builder
#   tests/docker/image.sh --list    names and what each image holds
#
# No registry can be reached, so every image is a root file system made here
# and turned into an image with `docker import`:
#   slim         busybox-static only (+ /etc/passwd with root and coder:1000)
#   debian       debootstrap --variant=minbase bookworm (+ user coder:1000)
#   openssh      debian + openssh-server, host keys removed (envinit makes them)
#   systemd      debian + systemd systemd-sysv dbus
#   systemd-ssh  debian + systemd systemd-sysv dbus openssh-server, ssh enabled,
#                the product page's sshd_config advice, /etc/environment removed
#   builder      debian + the packages of `.ci/deps build image` (the Dockerfile's BUILDER)
# The Debian variants are derived from the debian image's file system with
# apt-get in a chroot (seconds) rather than a fresh debootstrap each (~40 s).
#
# Each image is tagged envinit-test/NAME:HASH, HASH covering its recipe (the
# functions below), the mirror and the inputs, so a second run reuses it and a
# changed recipe rebuilds it. Older tags of the same NAME are removed.
# The Debian mirror is the one apt uses here (/etc/apt/sources.list*), or
# ENVINIT_DEBIAN_MIRROR.
set -euo pipefail

SUITE=bookworm
REPO=envinit-test
RECIPE_VERSION=1   # bump to force every image to rebuild
LOCKDIR=/run/lock
# Downloaded .deb files, kept across builds so a changed recipe rebuilds
# without fetching again (not part of any image).
DEB_CACHE=${ENVINIT_IMAGE_DEB_CACHE:-/var/cache/envinit-test/debs}
ARCH=$(dpkg --print-architecture 2>/dev/null || uname -m)
PATH_ENV=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
ENTRY='["/opt/envinit/bin/envinit", "--"]'

say() { echo "image.sh: $*" >&2; }
die() { say "$*"; exit 1; }

# --- the mirror apt uses on this machine -----------------------------------
debian_mirror() {
  if [ -n "${ENVINIT_DEBIAN_MIRROR:-}" ]; then echo "$ENVINIT_DEBIAN_MIRROR"; return; fi
  local f uri
  # deb822 .sources: a stanza whose Suites holds the plain suite name.
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -r "$f" ] || continue
    uri=$(awk -v s="$SUITE" '
      BEGIN { RS = ""; FS = "\n" }
      {
        u = ""; ok = 0; en = 1
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^URIs:/)    { sub(/^URIs:[ \t]*/, "", $i); split($i, a, /[ \t]+/); u = a[1] }
          if ($i ~ /^Suites:/)  { n = split($i, b, /[ \t]+/); for (j = 2; j <= n; j++) if (b[j] == s) ok = 1 }
          if ($i ~ /^Enabled:[ \t]*no/) en = 0
        }
        if (ok && en && u != "") { print u; exit }
      }' "$f")
    [ -n "$uri" ] && { echo "$uri"; return; }
  done
  # one-line format: deb [options] URI SUITE COMPONENTS...
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -r "$f" ] || continue
    uri=$(awk -v s="$SUITE" '
      $1 == "deb" {
        i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
        if ($(i + 1) == s) { print $i; exit }
      }' "$f")
    [ -n "$uri" ] && { echo "$uri"; return; }
  done
  die "no '$SUITE' mirror in /etc/apt/sources.list*; set ENVINIT_DEBIAN_MIRROR"
}

# --- recipes: each fills the root file system in $1 ------------------------
add_users() { # ROOT SHELL: root, coder (1000:1000) and nobody, with homes
  local r=$1 sh=$2
  if [ -x "$r/usr/sbin/useradd" ]; then
    chroot "$r" useradd -m -u 1000 -U -s "$sh" coder
  else
    mkdir -p "$r/etc" "$r/root" "$r/home/coder"
    cat >"$r/etc/passwd" <<EOF
root:x:0:0:root:/root:$sh
coder:x:1000:1000:coder:/home/coder:$sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
    printf 'root:x:0:\ncoder:x:1000:\nnogroup:x:65534:\n' >"$r/etc/group"
    printf 'root:*:19000:0:99999:7:::\ncoder:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n' >"$r/etc/shadow"
    chmod 0640 "$r/etc/shadow"; chmod 0700 "$r/root"
    chown 1000:1000 "$r/home/coder"; chmod 0755 "$r/home/coder"
  fi
}

recipe_slim() {
  local r=$1 bb
  bb=$(command -v busybox) || die "busybox-static is not installed (bash .ci/deps test)"
  file -L "$bb" | grep -q 'statically linked' || die "$bb is not static: install busybox-static"
  mkdir -p "$r"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,run,var/log,proc,sys,dev,opt}
  chmod 1777 "$r/tmp"
  cp "$bb" "$r/bin/busybox"
  chroot "$r" /bin/busybox --install -s
  add_users "$r" /bin/sh
  echo slim >"$r/etc/hostname"
}
changes_slim() {
  printf '%s\n' "ENV PATH=$PATH_ENV" "ENV IMAGE_GREETING=hello-from-slim" \
    "ENV SHELL=/bin/sh" "ENTRYPOINT $ENTRY"
}
inputs_slim() { sha256sum "$(command -v busybox)"; }

recipe_debian() {
  local r=$1 mirror; mirror=$(debian_mirror)
  command -v debootstrap >/dev/null || die "debootstrap is not installed (bash .ci/deps docker)"
  say "debootstrap --variant=minbase $SUITE from $mirror"
  mkdir -p "$DEB_CACHE"
  debootstrap --variant=minbase --cache-dir="$DEB_CACHE" "$SUITE" "$r" "$mirror" >"$r.log" 2>&1 \
    || { tail -n 20 "$r.log" >&2; die "debootstrap failed (log: $r.log)"; }
  add_users "$r" /bin/bash
  echo debian >"$r/etc/hostname"
  trim_rootfs "$r"
}
changes_debian() {
  printf '%s\n' "ENV PATH=$PATH_ENV" "ENV IMAGE_GREETING=hello-from-debian" "ENTRYPOINT $ENTRY"
}
inputs_debian() { debian_mirror; echo "$SUITE"; }

recipe_openssh() {
  local r=$1
  apt_install "$r" openssh-server
  # envinit must create missing host keys itself (ssh-keygen -A).
  rm -f "$r"/etc/ssh/ssh_host_*
  trim_rootfs "$r"
}
changes_openssh() { changes_debian; }
inputs_openssh() { echo "from debian"; }

recipe_systemd() {
  local r=$1
  apt_install "$r" systemd systemd-sysv dbus
  trim_rootfs "$r"
}
# docker import takes no STOPSIGNAL: CVM containers are run with
# --stop-signal SIGRTMIN+3 (systemd's "halt"; SIGTERM makes it re-execute).
changes_systemd() { changes_debian; }
inputs_systemd() { echo "from debian"; }

recipe_systemd-ssh() {
  local r=$1
  apt_install "$r" systemd systemd-sysv dbus openssh-server
  # As the product page's Dockerfile does.
  chroot "$r" systemctl enable ssh
  rm -f "$r/etc/environment"
  printf '%s\n' "PermitUserEnvironment yes" "X11Forwarding yes" "X11UseLocalhost no" \
    >>"$r/etc/ssh/sshd_config"
  trim_rootfs "$r"
}
changes_systemd-ssh() { changes_systemd; }
inputs_systemd-ssh() { echo "from debian"; }

# The packages the Dockerfile's build stage needs, read from .ci/deps so the
# two never differ.
SRC_DIR=$(cd "$(dirname "$0")/../.." && pwd)
build_packages() {
  local g out=""
  for g in build image; do
    out+=" $(sed -n "s/^ *\\[$g\\]=\"\\(.*\\)\"\$/\\1/p" "$SRC_DIR/.ci/deps")"
  done
  [ -n "${out// /}" ] || die "no [build] or [image] group in $SRC_DIR/.ci/deps"
  echo "$out"
}
recipe_builder() {
  local r=$1 pkgs
  pkgs=$(build_packages)
  # shellcheck disable=SC2086 # a blank-separated package list
  apt_install "$r" $pkgs
  trim_rootfs "$r"
}
changes_builder() { printf '%s\n' "ENV PATH=$PATH_ENV"; }
inputs_builder() { echo "from debian"; build_packages; }

base_of() { case $1 in openssh|systemd|systemd-ssh|builder) echo debian ;; *) echo "" ;; esac; }

# apt-get inside the chroot, no daemon started (policy-rc.d), /proc mounted
# only for the install.
apt_install() {
  local r=$1; shift
  printf '#!/bin/sh\nexit 101\n' >"$r/usr/sbin/policy-rc.d"; chmod 755 "$r/usr/sbin/policy-rc.d"
  mount -t proc proc "$r/proc"
  mkdir -p "$DEB_CACHE/partial" "$r/var/cache/apt/archives"
  mount --bind "$DEB_CACHE" "$r/var/cache/apt/archives"
  # An image exported by docker has an empty resolv.conf; apt needs the host's.
  local rc=0 resolv=$r/etc/resolv.conf
  mv "$resolv" "$resolv.image" 2>/dev/null || true
  cp -L /etc/resolv.conf "$resolv"
  DEBIAN_FRONTEND=noninteractive chroot "$r" apt-get install -y -q --no-install-recommends "$@" \
    >"$r.apt.log" 2>&1 || rc=$?
  if [ $rc -ne 0 ]; then # the lists shipped by debootstrap may be stale
    DEBIAN_FRONTEND=noninteractive chroot "$r" sh -c 'apt-get update -q && apt-get install -y -q --no-install-recommends "$@"' sh "$@" \
      >>"$r.apt.log" 2>&1 && rc=0 || rc=$?
  fi
  umount "$r/var/cache/apt/archives" "$r/proc"
  rm -f "$r/usr/sbin/policy-rc.d" "$resolv"
  mv "$resolv.image" "$resolv" 2>/dev/null || true
  [ $rc -eq 0 ] || { tail -n 20 "$r.apt.log" >&2; die "apt-get install $* failed (log: $r.apt.log)"; }
}

trim_rootfs() { rm -f "$1"/var/cache/apt/archives/*.deb "$1"/var/cache/apt/*.bin; }

# --- cache ---------------------------------------------------------------------
recipe_hash() {
  local n=$1 b
  {
    echo "v$RECIPE_VERSION $SUITE $ARCH $n"
    declare -f "recipe_$n" "changes_$n" "inputs_$n" add_users trim_rootfs
    "inputs_$n"
    b=$(base_of "$n"); [ -z "$b" ] || { echo "base:"; recipe_hash "$b"; }
  } | sha256sum | cut -c1-12
}

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

# Extracts the file system of image $1 into directory $2.
unpack_image() {
  local c; c=$(docker create "$1" /bin/true)
  docker export "$c" | tar -x -C "$2" --numeric-owner
  docker rm -f "$c" >/dev/null
}

build() { # NAME -> prints the tag
  local n=$1 tag t0 work base changes=() line
  declare -F "recipe_$n" >/dev/null || die "unknown image '$n' (try --list)"
  tag=$REPO/$n:$(recipe_hash "$n")
  mkdir -p "$LOCKDIR"
  exec {lock}>"$LOCKDIR/envinit-test-image-$n.lock"
  flock "$lock"
  if image_exists "$tag"; then echo "$tag"; exec {lock}>&-; return; fi
  t0=$(date +%s%N)
  base=$(base_of "$n")
  [ -z "$base" ] || base=$(build "$base")
  work=$(mktemp -d /var/tmp/envinit-image-"$n".XXXXXX)
  # shellcheck disable=SC2064
  # (errexit holds inside the trap too: every step must not fail.)
  trap "umount '$work/rootfs/var/cache/apt/archives' 2>/dev/null || true
        umount '$work/rootfs/proc' 2>/dev/null || true
        rm -rf '$work'" EXIT
  mkdir "$work/rootfs"
  say "building $tag${base:+ from $base}"
  [ -z "$base" ] || unpack_image "$base" "$work/rootfs"
  "recipe_$n" "$work/rootfs"
  while IFS= read -r line; do changes+=(--change "$line"); done < <("changes_$n")
  tar -C "$work/rootfs" --numeric-owner -c . \
    | docker import "${changes[@]}" -m "envinit test image $n" - "$tag" >/dev/null
  rm -rf "$work"; trap - EXIT
  # Drop the superseded builds of this image.
  docker images --format '{{.Repository}}:{{.Tag}}' "$REPO/$n" | grep -vxF "$tag" \
    | xargs -r docker rmi >/dev/null 2>&1 || true
  local ms=$((($(date +%s%N) - t0) / 1000000))
  say "built $tag in $((ms / 1000)).$(printf %03d $((ms % 1000))) s"
  echo "$tag"
  exec {lock}>&-
}

case "${1:-}" in
  --list) sed -n 's/^#   \([a-z-]\+\) \{2,\}/\1: /p' "$0" ;;
  --mirror) debian_mirror ;;
  ""|-h|--help) sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
  *)
    [ "$(id -u)" -eq 0 ] || die "needs root (chroot, debootstrap, docker)"
    timeout 10 docker info >/dev/null 2>&1 || die "no Docker engine answers (tests/docker/dockerd.sh start)"
    build "$1" ;;
esac
