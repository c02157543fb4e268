#!/bin/bash
# Builds the libssh that envinit-sshd links statically: Debian's libssh
# source package with Debian's own patches (security fixes included), then
# sshfallback/libssh.patch, which exposes what the server API lacks (pty
# modes, break, unix-socket forwarding, the flags of the security-key
# signature just verified: ssh_session_get_sk_flags()) and makes two
# things cheaper (256 KiB socket reads; a quick check of the client's DH
# value instead of a full one, see the patch's header). apt-get fetches
# and verifies the source against the archive's signed index, in private
# folders: the machine's apt configuration is left alone.
#
# Usage: sshfallback/libssh.sh OUTDIR
#   OUTDIR/lib/libssh.a, OUTDIR/include/libssh/*.h, OUTDIR/VERSION, and
#   OUTDIR/source/: the source package as fetched (.dsc and the files it
#   names), so a later build elsewhere needs no network (LIBSSH_SRC).
# Environment: LIBSSH_SUITE (default trixie: the stable release, whose
# libssh 0.11 carries every fix of the 0.10 in bookworm-security and more),
# LIBSSH_MIRROR (default http://deb.debian.org/debian), LIBSSH_SRC (a folder
# holding such a fetched source package: used instead of apt-get, its files
# checked against the .dsc's checksums; the Docker build of the bundle uses
# the OUTDIR/source of the host's build this way). Three more are for
# builds other than envinit-sshd's: LIBSSH_CFLAGS (added to the compiler
# and linker flags: `make SANITIZE=1` builds a sanitized copy, `make fuzz`
# an instrumented one, each into its own OUTDIR), LIBSSH_CC (the C
# compiler) and LIBSSH_INSECURE_NONE=1 (libssh's WITH_INSECURE_NONE: the
# "none" cipher and MAC exist, so that a fuzzer's packets stay plaintext
# after the key exchange).
set -euo pipefail

out=$(mkdir -p "$1" && cd "$1" && pwd)
suite=${LIBSSH_SUITE:-trixie}
mirror=${LIBSSH_MIRROR:-http://deb.debian.org/debian}
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
patch_file=$(cd "$(dirname "$0")" && pwd)/libssh.patch
work=$out/work

die() { echo "libssh.sh: $*" >&2; exit 1; }
[ -r "$keyring" ] || die "$keyring missing (package debian-archive-keyring); run: bash .ci/deps build"
for tool in apt-get dpkg-source dpkg-parsechangelog cmake patch; do
  command -v $tool >/dev/null || die "$tool missing; run: bash .ci/deps build"
done

rm -rf "$work" && mkdir -p "$work/apt/parts" "$work/apt/lists/partial" "$work/apt/cache" "$work/src"
if [ -n "${LIBSSH_SRC:-}" ]; then
  given=$(cd "$LIBSSH_SRC" && pwd) || die "LIBSSH_SRC=$LIBSSH_SRC is not a folder"
  dsc=$(find "$given" -maxdepth 1 -name 'libssh_*.dsc' | head -n1)
  [ -n "$dsc" ] || die "no libssh_*.dsc in LIBSSH_SRC=$LIBSSH_SRC"
  # dpkg-source checks every file's size and checksums against the .dsc
  # (which apt-get verified against the signed index when it was fetched).
  dpkg-source -x "$dsc" "$work/src/libssh-src" >"$work/apt.log" 2>&1 \
    || { cat "$work/apt.log" >&2; die "dpkg-source -x $dsc failed"; }
else
  printf 'Types: deb-src\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: %s\n' \
    "$mirror" "$suite" "$keyring" >"$work/apt/parts/libssh.sources"
  apt_opts=(-q -o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$work/apt/parts"
            -o "Dir::State::Lists=$work/apt/lists" -o "Dir::Cache=$work/apt/cache"
            -o Debug::NoLocking=true -o APT::Sandbox::User="$(id -un)")

  apt-get "${apt_opts[@]}" update >"$work/apt.log" 2>&1 \
    || { cat "$work/apt.log" >&2; die "apt-get update of $suite sources from $mirror failed"; }
  (cd "$work/src" && apt-get "${apt_opts[@]}" source --only-source libssh) >>"$work/apt.log" 2>&1 \
    || { cat "$work/apt.log" >&2; die "apt-get source libssh ($suite) failed"; }
fi
src=$(find "$work/src" -mindepth 1 -maxdepth 1 -type d -name 'libssh-*' | head -n1)
[ -n "$src" ] || die "no libssh source folder after apt-get source"
version=$(cd "$src" && dpkg-parsechangelog -S Version)

patch -d "$src" -p1 --forward --quiet <"$patch_file" \
  || die "sshfallback/libssh.patch does not apply to libssh $version; update the patch"

# Server and client protocol only: no GSSAPI (public keys only), no SFTP
# (envinit-sshd has its own), no pcap, no examples. Built with our
# hardening flags; position-independent for the PIE that links it.
# Extra flags reach the linker too: cmake's feature checks link test
# programs, which a sanitizer's flags would otherwise leave unresolved.
flags=${LIBSSH_CFLAGS:-}
extra=() note=${flags:+, flags $flags}
[ -z "${LIBSSH_CC:-}" ] || extra+=(-DCMAKE_C_COMPILER="$LIBSSH_CC")
if [ "${LIBSSH_INSECURE_NONE:-0}" = 1 ]; then
  extra+=(-DWITH_INSECURE_NONE=ON) note="$note, insecure none cipher and MAC for fuzzing"
fi
cmake -S "$src" -B "$work/build" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_C_FLAGS="-g -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fstack-clash-protection $flags" \
  -DCMAKE_EXE_LINKER_FLAGS="$flags" ${extra[@]+"${extra[@]}"} \
  -DCMAKE_POSITION_INDEPENDENT_CODE=ON -DBUILD_SHARED_LIBS=OFF -DBUILD_STATIC_LIB=ON \
  -DWITH_GSSAPI=OFF -DWITH_SFTP=OFF -DWITH_PCAP=OFF -DWITH_EXAMPLES=OFF -DWITH_NACL=OFF \
  -DWITH_GEX=OFF -DWITH_DEBUG_CALLTRACE=OFF -DWITH_SYMBOL_VERSIONING=OFF \
  -DUNIT_TESTING=OFF -DCLIENT_TESTING=OFF -DSERVER_TESTING=OFF >"$work/cmake.log" 2>&1 \
  || { tail -n 30 "$work/cmake.log" >&2; die "cmake configuration of libssh $version failed"; }
make -C "$work/build" -j"$(nproc)" ssh-static >"$work/make.log" 2>&1 \
  || { grep -E 'error|Error' "$work/make.log" | head -n 30 >&2; die "libssh $version did not build"; }

rm -rf "${out:?}/lib" "${out:?}/include"
install -d "$out/lib" "$out/include/libssh"
install -m 0644 "$work/build/src/libssh.a" "$out/lib/libssh.a"
install -m 0644 "$src"/include/libssh/*.h "$work/build/include/libssh/libssh_version.h" \
  "$out/include/libssh/"
echo "$version (${LIBSSH_SRC:+pre-fetched, }$suite, with sshfallback/libssh.patch$note)" >"$out/VERSION"
# Keep what apt-get fetched (not the unpacked tree) for LIBSSH_SRC.
if [ -z "${LIBSSH_SRC:-}" ]; then
  rm -rf "${out:?}/source" && mkdir "$out/source"
  find "$work/src" -mindepth 1 -maxdepth 1 -type f -exec cp -p {} "$out/source/" \;
fi
rm -rf "$work"
echo "libssh.sh: libssh $version built into $out"
