#!/bin/bash
# kubernetes.example.yaml, run by podman 4.3's `podman kube play --network
# none` (no network but the pod's loopback): the init container copies the
# bundle from the bundle image into the emptyDir, envinit runs as PID 1 as
# uid 1000 under the restricted securityContext, the fallback server serves
# port 2222 and the key from the authorized-keys Secret logs in; `envinit
# status` (the readiness probe) exits 0; the server presents the host key of
# the host-keys Secret; the root file system is read-only.
#
# The YAML played is the example itself, with its images and Secret data
# replaced (sed/awk), and these adaptations where podman 4.3 differs from
# Kubernetes:
#   - Secret volumes: podman 4.3 creates the Secret objects but mounts a
#     `secret:` volume as an empty named volume. Each becomes a hostPath
#     folder the test builds with the layout the kubelet gives a Secret
#     volume with defaultMode 0440 and fsGroup 1000: files root:1000 0440 in
#     a time-stamped folder, `..data` linking to it, and each key name a
#     symlink through ..data.
#   - ports: with --network none podman 4.3 refuses any port mapping, a
#     containerPort without hostPort included; the `ports:` block is
#     dropped (it declares, it does not open: the server listens anyway).
#   - restartPolicy: podman 4.3 gives the init container the pod's policy
#     (a Deployment's Always), restarts it after it exits and waits out a
#     20 s timeout before failing to remove it; the pod spec gets
#     `restartPolicy: OnFailure` (which Kubernetes refuses in a Deployment).
#   - readinessProbe: podman 4.3 ignores it; the test runs its command with
#     podman exec.
# (podman 4.3 also crashes on a Secret volume without `optional:`; the
# example states optional: false, so that needs no change.)
. "$(dirname "$0")/../lib.sh"
. "$SRC/tests/docker/lib.sh"
. "$SRC/tests/docker/bundle.sh"
. "$SRC/tests/docker/podman.sh"
require awk sed ssh-keyscan
docker_ready
p_setup
d_image slim
d_bundle_image
d_keypair
EXAMPLE=$SRC/kubernetes.example.yaml
[ -r "$EXAMPLE" ] || { fail example "$EXAMPLE missing"; exit 1; }

t0=$SECONDS
p_load "$IMG"
p_load "$BUNDLE_IMG"
echo "# images into podman: $((SECONDS - t0)) s"

# The Secrets' contents: the test's key pair and a fresh host key.
ssh-keygen -q -t ed25519 -N '' -C envinit-test-host -f "$WORK/host_key"
# secret_dir NAME FILE...: a Secret volume as the kubelet lays it out.
secret_dir() {
  local d=$WORK/secrets/$1 ts=..2026_01_01_00_00_00.000000001 f; shift
  mkdir -p "$d/$ts"
  for f; do
    install -m 0440 -o 0 -g 1000 "$f" "$d/$ts/$(basename "$f")"
    ln -s "..data/$(basename "$f")" "$d/$(basename "$f")"
  done
  ln -s "$ts" "$d/..data"
  chown -R 0:1000 "$d"; chmod 0755 "$d" "$d/$ts"
}
cp "$KEY.pub" "$WORK/authorized_keys"
cp "$WORK/host_key" "$WORK/ssh_host_ed25519_key"
secret_dir authorized-keys "$WORK/authorized_keys"
secret_dir host-keys "$WORK/ssh_host_ed25519_key"

PLAY=$WORK/play.yaml
awk -v pub="$PUB" -v hk="$WORK/host_key" -v bundle="localhost/$BUNDLE_IMG" -v env="localhost/$IMG" \
    -v secrets="$WORK/secrets" '
  # The Secret objects get the test keys (podman creates them, mounts none).
  /ssh-ed25519 AAAA.*EXAMPLE/ { print "    " pub; next }
  /BEGIN OPENSSH PRIVATE KEY/ { while ((getline l < hk) > 0) print "    " l; inkey = 1; next }
  inkey { if (/END OPENSSH PRIVATE KEY/) inkey = 0; next }
  /^ *image: envinit:latest$/ { sub(/envinit:latest/, bundle) }
  /^ *image: my-env:latest$/ { sub(/my-env:latest/, env) }
  /^      initContainers:$/ { print "      restartPolicy: OnFailure" }
  # ports: dropped, up to the next key at its own indentation.
  /^          ports:$/ { skip = "          "; next }
  skip != "" { if (substr($0, 1, length(skip) + 1) == skip " " || /^ *#/) next; skip = "" }
  # A secret volume becomes a hostPath of the same content.
  /^          secret:$/ { insecret = 1; next }
  insecret && /^            secretName:/ {
    name = $2; sub(/^dev-ssh-/, "", name)
    print "          hostPath:"; print "            path: " secrets "/" name; print "            type: Directory"; next }
  insecret && /^            / { next }
  { insecret = 0; print }' "$EXAMPLE" >"$PLAY"
if grep -q 'secret:\|containerPort\|EXAMPLE\|REPLACE' "$PLAY" || ! grep -q "$WORK/secrets/host-keys" "$PLAY"; then
  fail play-yaml "the example's structure changed; adapt the awk above: $(grep -n 'secret:\|containerPort\|EXAMPLE\|REPLACE' "$PLAY" | head -n 3 | tr '\n' ' ')"
  exit 1
fi

t0=$SECONDS
if p kube play --network none "$PLAY" >"$WORK/play.log" 2>&1; then
  pass kube-play; echo "# podman kube play took $((SECONDS - t0)) s"
else
  fail kube-play "podman kube play: $(grep -v '^time=.*level=error msg="Removing container' "$WORK/play.log" | tail -n 3 | tr '\n' ' ')"; exit 0
fi
POD=$(p pod ps --format '{{.Name}}' | head -n 1)
C=$POD-dev
PID=$(p inspect -f '{{.State.Pid}}' "$C" 2>/dev/null)
if ! [ "${PID:-0}" -gt 0 ] 2>/dev/null; then
  fail pod-running "no running container $C: $(p ps -a --format '{{.Names}} {{.Status}}' | tr '\n' ' ')"; exit 0
fi
plogs() { p logs "$C" 2>&1 | tail -n 20 | sed 's/^/    | /'; }

# Only loopback in the pod.
links=$(nsenter --net="/proc/$PID/ns/net" ip -o link show | awk -F': ' '{ print $2 }' | tr '\n' ' ')
expect_eq pod-loopback-only "lo " "$links"

# The init container copied the bundle; envinit runs from it as PID 1.
expect_eq envinit-is-pid1 /opt/envinit/bin/envinit "$(p exec "$C" readlink /proc/1/exe 2>&1)"

# The readiness probe's command, as the example states it.
probe=$(awk '/readinessProbe:/ { r = 1 } r && /command:/ { print; exit }' "$EXAMPLE" \
  | sed 's/.*\[\(.*\)\].*/\1/; s/[",]/ /g')
read -r -a PROBE <<<"$probe"
if [ "${#PROBE[@]}" -gt 0 ] && wait_until 15 p exec "$C" "${PROBE[@]}" >/dev/null 2>&1; then
  pass readiness-probe
else
  fail readiness-probe "podman exec $C ${PROBE[*]}: $(p exec "$C" "${PROBE[@]}" 2>&1 | head -n 3 | tr '\n' ' ')"; plogs
fi

# SSH as coder through the pod's loopback, with the key from the Secret.
# shellcheck disable=SC2016 # expanded by the remote shell
out=$(timeout 30 nsenter --net="/proc/$PID/ns/net" ssh -F /dev/null -i "$KEY" -o BatchMode=yes \
  -o IdentitiesOnly=yes -o ConnectTimeout=10 -o LogLevel=ERROR -o StrictHostKeyChecking=no \
  -o UserKnownHostsFile=/dev/null -p 2222 coder@127.0.0.1 'id -un; cat ~/.ssh/environment' 2>&1)
if [ "$(echo "$out" | head -n 1)" = coder ] && grep -qx 'CODER_USERNAME=coder' <<<"$out"; then
  pass ssh-login
else
  fail ssh-login "ssh -p 2222 coder@127.0.0.1: $(echo "$out" | head -n 3 | tr '\n' ' ')"; plogs
fi
expect_eq environment-assets-root 'CODER_ASSETS_ROOT=/opt/envinit' "$(echo "$out" | grep '^CODER_ASSETS_ROOT=')"

# The host key the server presents is the Secret's (ENVINIT_HOST_KEYS).
want=$(ssh-keygen -lf "$WORK/host_key.pub" | awk '{ print $2 }')
got=$(timeout 15 nsenter --net="/proc/$PID/ns/net" ssh-keyscan -t ed25519 -p 2222 127.0.0.1 2>/dev/null \
  | ssh-keygen -lf - 2>/dev/null | awk '{ print $2 }')
expect_eq host-key-from-secret "$want" "$got"

# The home is the PVC's volume: envinit wrote the key there.
vol=$(p volume inspect -f '{{.Mountpoint}}' dev-home 2>/dev/null)
if [ -n "$vol" ] && grep -qF "$(awk '{ print $2 }' "$KEY.pub")" "$vol/.ssh/authorized_keys" 2>/dev/null; then
  pass home-on-pvc
else
  fail home-on-pvc "no authorized_keys with the key in the dev-home volume ($vol)"
fi

# The restricted securityContext, as the kernel sees PID 1.
st=/proc/$PID/status
expect_eq runs-as-1000 "1000 1000" "$(awk '/^Uid:/ { u = $2 } /^Gid:/ { g = $2 } END { print u, g }' "$st")"
expect_eq no-new-privs 1 "$(awk '/^NoNewPrivs:/ { print $2 }' "$st")"
expect_eq no-capabilities "0000000000000000 0000000000000000" "$(awk '/^CapEff:/ { e = $2 } /^CapBnd:/ { b = $2 } END { print e, b }' "$st")"
expect_eq seccomp-filter 2 "$(awk '/^Seccomp:/ { print $2 }' "$st")"
if p exec "$C" touch /etc/envinit-test 2>/dev/null; then fail read-only-root "touch /etc/envinit-test succeeded"
elif p exec "$C" touch /tmp/envinit-test 2>/dev/null; then pass read-only-root
else fail read-only-root "/tmp (an emptyDir) is not writable either"; fi
exit 0
