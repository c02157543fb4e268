# shellcheck shell=bash disable=SC2034
# Podman for the Kubernetes test (tests/integration/68-kube.sh): `podman kube
# play` runs kubernetes.example.yaml. Source after tests/lib.sh.
#
# Everything is the test's own: a containers.conf (CONTAINERS_CONF) and a
# storage root and run root under $WORK, so the machine's podman
# configuration and image store are neither read nor changed. What this
# machine needs besides (p_setup):
#   - cgroupfs instead of systemd as the cgroup manager, runc as the runtime;
#   - default ulimits nofile/nproc 1024 (podman's higher defaults fail
#     setrlimit here);
#   - the cgroup v1 controllers podman expects that are not mounted
#     (net_cls, net_prio, perf_event, hugetlb) are mounted; nothing else is.
# One file escapes --root: `podman load` records layer digests in
# /var/lib/containers/cache/blob-info-cache-v1.boltdb (not configurable in
# 4.3); the folder is removed again at exit when the test created it.

P_DIR='' P_MADE=''
# p_setup: checks podman and prepares its private configuration and store.
p_setup() {
  need_root
  require podman runc nsenter ssh ssh-keygen
  P_DIR=$WORK/podman
  mkdir -p "$P_DIR/root" "$P_DIR/runroot" "$P_DIR/tmp"
  cat >"$P_DIR/containers.conf" <<EOC
[containers]
log_driver = "k8s-file"
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]

[engine]
cgroup_manager = "cgroupfs"
runtime = "runc"
events_logger = "file"
tmp_dir = "$P_DIR/tmp"
EOC
  export CONTAINERS_CONF=$P_DIR/containers.conf
  if [ ! -e /var/lib/containers ]; then P_MADE=/var/lib/containers
  elif [ ! -e /var/lib/containers/cache ]; then P_MADE=/var/lib/containers/cache; fi
  local c
  for c in net_cls net_prio perf_event hugetlb; do
    if ! awk -v c="$c" '$3 == "cgroup" && ("," $4 ",") ~ ("," c ",") { f = 1 } END { exit !f }' /proc/mounts; then
      mkdir -p "/sys/fs/cgroup/$c" 2>/dev/null || true
      if ! mount -t cgroup -o "$c" cgroup "/sys/fs/cgroup/$c" 2>"$WORK/cgroup-$c.err"; then
        fail podman-cgroup-$c "mount -t cgroup -o $c: $(cat "$WORK/cgroup-$c.err")"; exit 1
      fi
    fi
  done
  at_exit p_cleanup
}
# p: podman with the private store.
p() { podman --root "$P_DIR/root" --runroot "$P_DIR/runroot" --storage-driver vfs "$@"; }
# p_load IMAGE: copies a Docker image into the private store.
p_load() {
  if ! docker save "$1" | p load >"$WORK/podman-load.log" 2>&1; then
    fail "podman-load" "docker save $1 | podman load: $(tail -n 3 "$WORK/podman-load.log" | tr '\n' ' ')"; exit 1
  fi
}
p_cleanup() {
  [ -n "$P_DIR" ] || return 0
  if [ -n "${KEEP_CONTAINERS:-}" ]; then echo "# kept the podman store in $P_DIR" >&2; return 0; fi
  p pod rm -a -f -t 0 >/dev/null 2>&1 || true
  p rm -a -f -t 0 >/dev/null 2>&1 || true
  p volume rm -a -f >/dev/null 2>&1 || true
  p secret rm -a >/dev/null 2>&1 || true
  # Container mounts left in the store would stop rm -rf.
  grep -F " $P_DIR/" /proc/mounts | awk '{ print $2 }' | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  [ -z "$P_MADE" ] || rm -rf "$P_MADE"
}
