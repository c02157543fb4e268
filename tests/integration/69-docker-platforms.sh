#!/bin/bash
# The security settings Kubernetes and OpenShift apply by default, each as
# the docker run flags that reproduce it, with the bundle mounted read-only:
#   - a read-only root (only /run, /tmp and the home writable), with the
#     fallback server and with the image's OpenSSH, with and without host
#     keys mounted the way a Kubernetes Secret is (..data symlinks, 0400);
#     the mounted key's fingerprint survives `docker restart`;
#   - an arbitrary UID without a passwd entry, in group 0 (OpenShift);
#   - root with every capability dropped: one error naming them, `envinit
#     status` saying it, no restart loop; then the capabilities added back;
#   - a non-root user, no capabilities, no-new-privileges;
#   - a host key anyone can read: refused, envinit-sshd not restarted;
#   - a read-only /run: the status file moves to /tmp.
. "$(dirname "$0")/../lib.sh"
. "$SRC/tests/docker/lib.sh"
docker_ready
d_image slim
d_image openssh OIMG
d_envinit_bundle
d_keypair
require ssh-keyscan

RO=(--read-only --tmpfs /run --tmpfs /tmp --tmpfs /home/coder:uid=1000,gid=1000,mode=0755)
KEYS=(-e ENVINIT_AUTHORIZED_KEYS="$PUB")
SHOW='echo "ids=$(id -u):$(id -g) user=$USER home=$HOME shell=$SHELL pwd=$(pwd)"; cat ~/.ssh/environment'

# A Secret volume as the kubelet lays it out: a timestamped folder holding
# the files, ..data pointing at it, and one link per key through ..data;
# root-owned, the key 0400 (MODE), the volume's root a sticky tmpfs.
make_secret() { # DIR MODE GROUP
  local d=$1 ts=..2026_11_30_12_00_00.000000001
  mkdir -p "$d/$ts"
  ssh-keygen -q -t ed25519 -N '' -C envinit-test-host -f "$d/$ts/ssh_host_ed25519_key"
  rm "$d/$ts/ssh_host_ed25519_key.pub"
  chgrp "$3" "$d/$ts/ssh_host_ed25519_key"; chmod "$2" "$d/$ts/ssh_host_ed25519_key"
  ln -s "$ts" "$d/..data"
  ln -s ..data/ssh_host_ed25519_key "$d/ssh_host_ed25519_key"
  chmod 1777 "$d"
}
make_secret "$WORK/secret" 0400 0
SECRET_FP=$(ssh-keygen -lf "$WORK/secret/ssh_host_ed25519_key" | awk '{print $2}')
SECRET=(-v "$WORK/secret:/etc/envinit/host-keys:ro" -e ENVINIT_HOST_KEYS=/etc/envinit/host-keys)

# d_fingerprint C PORT: the SHA256 fingerprint of C's ed25519 host key.
d_fingerprint() {
  local pid; pid=$(d_pid "$1") || return 1
  timeout 10 nsenter --net="/proc/$pid/ns/net" ssh-keyscan -t ed25519 -p "$2" 127.0.0.1 2>/dev/null >"$WORK/scan"
  ssh-keygen -lf "$WORK/scan" 2>/dev/null | awk '{print $2}'
}
# has_line NAME TEXT LINE: TEXT holds exactly LINE.
has_line() { if grep -qxF -- "$3" <<<"$2"; then pass "$1"; else fail "$1" "no line '$3'"; fi; }

# ---- read-only root: the fallback, a key made in the runtime folder ----
if d_boot_login ro-fallback-login ro-fb 22 'ids=1000:1000 user=coder home=/home/coder shell=/bin/sh pwd=/home/coder' \
     "$SHOW" "${VOL[@]}" "${RO[@]}" "${KEYS[@]}" "$IMG"; then
  has_line ro-fallback-block "$OUT" USER=coder
  if grep -q 'host key /run/envinit/ssh_host_ed25519_key: in the runtime folder because .* read-only, so its fingerprint changes' \
       <<<"$(docker logs "$C" 2>&1)"; then
    pass ro-fallback-says-runtime-key; else fail ro-fallback-says-runtime-key "no warning about the runtime key"; d_logs "$C"; fi
  expect ro-fallback-status d_status "$C"
fi

# ---- read-only root: OpenSSH, ssh-keygen cannot write /etc/ssh ----
if d_boot_login ro-openssh-login ro-os 22 'ids=1000:1000 user=coder home=/home/coder shell=/bin/bash pwd=/home/coder' \
     "$SHOW" "${VOL[@]}" "${RO[@]}" "${KEYS[@]}" "$OIMG"; then
  if grep -q -- '-h /run/envinit/ssh_host_ed25519_key' <<<"$(docker exec "$C" sh -c 'cat /proc/[0-9]*/cmdline | tr "\0" " "')"; then
    pass ro-openssh-runtime-key; else fail ro-openssh-runtime-key "sshd was not given -h /run/envinit/ssh_host_ed25519_key"; d_logs "$C"; fi
  st=$(d_status "$C"); expect_eq ro-openssh-status-is-openssh "SSH server:  OpenSSH sshd" "$(echo "$st" | head -n 1)"
fi

# ---- mounted host keys: both servers, the same fingerprint, kept across restarts ----
for v in fallback:IMG openssh:OIMG; do
  name=${v%%:*} var=${v##*:}
  d_boot_login "secret-$name-login" "sk-$name" 22 'ids=1000:1000 user=coder' 'echo "ids=$(id -u):$(id -g) user=$USER"' \
    "${VOL[@]}" "${RO[@]}" "${SECRET[@]}" "${KEYS[@]}" "${!var}" || continue
  expect_eq "secret-$name-fingerprint" "$SECRET_FP" "$(d_fingerprint "$C" 22)"
  docker restart -t 5 "$C" >/dev/null
  if d_wait_port "$C" 22 20; then
    expect_eq "secret-$name-fingerprint-after-restart" "$SECRET_FP" "$(d_fingerprint "$C" 22)"
  else
    fail "secret-$name-fingerprint-after-restart" "nothing listens after docker restart"; d_logs "$C"
  fi
done

# ---- a non-root pod's Secret: 0440 with its fsGroup, read by the user's server ----
make_secret "$WORK/secret-fsgroup" 0440 1000
d_boot_login secret-fsgroup-login sk-fsg 2222 'ids=1000:1000 user=coder home=/home/coder shell=/bin/sh pwd=/home/coder' \
  "$SHOW" "${VOL[@]}" "${RO[@]}" --user 1000:1000 -v "$WORK/secret-fsgroup:/etc/envinit/host-keys:ro" \
  -e ENVINIT_HOST_KEYS=/etc/envinit/host-keys "${KEYS[@]}" "$IMG" &&
  expect_eq secret-fsgroup-fingerprint "$(ssh-keygen -lf "$WORK/secret-fsgroup/ssh_host_ed25519_key" | awk '{print $2}')" \
    "$(d_fingerprint "$C" 2222)"

# ---- OpenShift: an arbitrary UID with no passwd entry, group 0 ----
if d_boot_login uid-login uid 2222 'ids=12345:0 user=coder home=/tmp/envinit-12345/home shell=/bin/sh pwd=/tmp/envinit-12345/home' \
     "$SHOW" "${VOL[@]}" --user 12345:0 "${KEYS[@]}" "$IMG"; then
  # the block describes what the session really gets
  for l in USER=coder HOME=/tmp/envinit-12345/home SHELL=/bin/sh CODER_USERNAME=coder; do has_line "uid-block-${l%%=*}" "$OUT" "$l"; done
fi
# ... with the image's home for that name made group-0 writable (OpenShift's convention)
mkdir "$WORK/ochome"; chgrp 0 "$WORK/ochome"; chmod 2775 "$WORK/ochome"; chmod 755 "$WORK"
d_boot_login uid-home-login uid-home 2222 'ids=23456:0 user=coder home=/home/coder shell=/bin/sh pwd=/home/coder' \
  "$SHOW" "${VOL[@]}" --user 23456:0 -v "$WORK/ochome:/home/coder" "${KEYS[@]}" "$IMG"
# ... and $USER and $HOME as the platform sets them
if d_run uid-env "${VOL[@]}" --user 34567:0 --tmpfs /work:mode=0777 -e USER=dev -e HOME=/work "${KEYS[@]}" "$IMG" &&
   d_wait_port "$C" 2222 20; then
  expect_eq uid-env-login 'ids=34567:0 user=dev home=/work shell=/bin/sh pwd=/work' \
    "$(d_ssh "$C" dev 2222 "$SHOW" 2>&1 | head -n 1)"
else
  fail uid-env-login "nothing listens on 2222"; d_logs "$C"
fi

# ---- root without capabilities: one clear error, status, no restart loop ----
if d_run caps --cap-drop ALL "${VOL[@]}" "${KEYS[@]}" "$IMG" && wait_until 10 sh -c "docker logs $C 2>&1 | grep -q 'no SSH server started'"; then
  logs=$(docker logs "$C" 2>&1)
  line=$(echo "$logs" | grep 'envinit: error: root without')
  if grep -q 'CAP_SETUID, CAP_SETGID' <<<"$line" && grep -q -- '--cap-add' <<<"$line" && grep -q -- '--user' <<<"$line"; then
    pass caps-error-names-both-fixes; else fail caps-error-names-both-fixes "got: $line"; fi
  expect_eq caps-one-error-line 1 "$(echo "$logs" | grep -c '^envinit: error:')"
  st=$(d_status "$C"); rc=$?
  if [ $rc -ne 0 ] && grep -q 'note: .*root without CAP_SETUID' <<<"$st"; then pass caps-status-says-it; else
    fail caps-status-says-it "envinit status exited $rc: $(echo "$st" | tr '\n' ' ')"; fi
  sleep 1
  expect_eq caps-nothing-restarted 0 "$(docker logs "$C" 2>&1 | grep -c 'restart')"
else
  fail caps-error-names-both-fixes "no error within 10 s"; d_logs "$C"
fi
d_boot_login caps-added-login caps-fixed 22 'ids=1000:1000 user=coder home=/home/coder shell=/bin/sh pwd=/home/coder' \
  "$SHOW" --cap-drop ALL --cap-add SETUID --cap-add SETGID --cap-add CHOWN --cap-add DAC_OVERRIDE --cap-add FOWNER \
  "${VOL[@]}" "${KEYS[@]}" "$IMG"

# ---- the restricted non-root profile keeps working ----
d_boot_login nonroot-restricted-login restricted 2222 'ids=1000:1000 user=coder home=/home/coder shell=/bin/sh pwd=/home/coder' \
  "$SHOW" --user 1000:1000 --cap-drop ALL --security-opt no-new-privileges "${VOL[@]}" "${KEYS[@]}" "$IMG"

# ---- a host key anyone can read: refused, said once, not restarted ----
mkdir -p "$WORK/open"; cp "$WORK/secret/..data/ssh_host_ed25519_key" "$WORK/open/"; chmod 644 "$WORK/open/ssh_host_ed25519_key"
if d_run badkey "${VOL[@]}" -v "$WORK/open:/keys:ro" -e ENVINIT_HOST_KEYS=/keys "${KEYS[@]}" "$IMG" &&
   wait_until 10 sh -c "docker logs $C 2>&1 | grep -q 'not restarting it'"; then
  logs=$(docker logs "$C" 2>&1)
  if grep -q 'host key /keys/ssh_host_ed25519_key: readable by everyone' <<<"$logs"; then pass badkey-reason; else
    fail badkey-reason "no reason given"; d_logs "$C"; fi
  sleep 1
  expect_eq badkey-started-once 1 "$(docker logs "$C" 2>&1 | grep -c 'readable by everyone')"
  st=$(d_status "$C"); rc=$?
  if [ $rc -ne 0 ] && grep -q 'configuration error' <<<"$st"; then pass badkey-status; else
    fail badkey-status "envinit status exited $rc: $(echo "$st" | tr '\n' ' ')"; fi
else
  fail badkey-reason "envinit did not give up on envinit-sshd within 10 s"; d_logs "$C"
fi

# ---- a read-only /run: the status moves to /tmp, envinit status finds it ----
if d_boot_login ro-run-login ro-run 22 'ids=1000:1000 user=coder home=/home/coder shell=/bin/sh pwd=/home/coder' \
     "$SHOW" "${VOL[@]}" --read-only --tmpfs /tmp --tmpfs /home/coder:uid=1000,gid=1000 "${KEYS[@]}" "$IMG"; then
  wait_until 5 d_status "$C" >/dev/null
  expect ro-run-status d_status "$C"
  expect ro-run-status-in-tmp docker exec "$C" test -f /tmp/envinit-0/status
fi
exit 0
