#!/bin/bash
# The bundle runs in any image: a root file system holding only
# busybox-static, /etc/passwd and dist/envinit; envinit-sshd is started the
# way envinit starts it (executed directly: static, or sanitized linked to
# the bundle's loader), and a real ssh logs in. Every process is named
# envinit-sshd; forwarding resolves numeric addresses and, from /etc/hosts,
# "localhost" without any C library in the root.
source "$(dirname "$0")/../lib.sh"
source "$SRC/tests/integration/50-sshd-lib.bash"
need_root
t_unshare --mount --net
require ssh ssh-keygen ip chroot socat pgrep file /bin/busybox
B=$SRC/dist/envinit
[ -x "$B/bin/envinit-sshd" ] || { fail bundle "$B missing (make bundle)"; exit 1; }
if [ -n "$SANITIZED" ]; then
  [ -x "$B/lib/ld-linux-x86-64.so.2" ] || { fail bundle "$B/lib has no loader (make SANITIZE=1 bundle)"; exit 1; }
else
  expect_eq bundle-three-files "envinit envinit-setup envinit-sshd" "$(cd "$B" && find . -type f | sed 's|.*/||' | sort | tr '\n' ' ' | sed 's/ $//')"
  for p in envinit envinit-setup envinit-sshd; do
    expect "bundle-$p-static" sh -c "file -L '$B/bin/$p' | grep -q 'static-pie linked\|statically linked'"
  done
  expect bundle-sshd-static-pie sh -c "file -L '$B/bin/envinit-sshd' | grep -q 'static-pie linked'"
fi
file /bin/busybox | grep -q 'statically linked' || { fail busybox-static "/bin/busybox is not static"; exit 1; }

R=$WORK/root
mkdir -p "$R/bin" "$R/etc" "$R/opt" "$R/home/dev/.ssh" "$R/tmp" "$WORK/keys"
chmod 1777 "$R/tmp"
cp /bin/busybox "$R/bin/busybox"
for a in sh ls cat echo id env uname sha256sum wc sleep; do ln -s busybox "$R/bin/$a"; done
cp -a "$B" "$R/opt/envinit"
printf 'root:x:0:0:root:/root:/bin/sh\ndev:x:1000:1000:dev:/home/dev:/bin/sh\n' >"$R/etc/passwd"
ssh-keygen -q -t ed25519 -N '' -f "$WORK/keys/good"
cp "$WORK/keys/good.pub" "$R/home/dev/.ssh/authorized_keys"
chown -R 1000:1000 "$R/home/dev"
chmod 700 "$R/home/dev/.ssh"
expect_eq rootfs-has-no-libc "" "$(find "$R" -name 'libc.so*' -not -path "$R/opt/envinit/*")"

LOG=$WORK/bundle.log
chroot "$R" /opt/envinit/bin/envinit-sshd --port "$SF_PORT" --listen 127.0.0.1 --user dev --log-stderr --foreground \
  2>"$LOG" &
spid=$!
at_exit "kill $spid 2>/dev/null"
if wait_until 5 grep -q 'listening on' "$LOG"; then pass bundle-server-starts; else fail bundle-server-starts "$(cat "$LOG")"; exit 1; fi
expect bundle-default-hostkey-created test -s "$R/etc/envinit/ssh_host_ed25519_key"
expect_eq bundle-hostkey-0600 600 "$(stat -c %a "$R/etc/envinit/ssh_host_ed25519_key")"

SF_USER=dev
out=$(sf_run "sh -c 'echo \$((6*7)); id -u; cd; pwd; ls /opt/envinit/bin | wc -l'" 2>&1)
expect_eq bundle-ssh-sh-c "42 1000 /home/dev 3" "$(echo $out)" # envinit, envinit-setup, envinit-sshd
[ "$(echo $out)" = "42 1000 /home/dev 3" ] || sed "s/^/    | /" "$LOG"
echo hello-bundle | sf_ssh -- 'cat > /tmp/x; sha256sum /tmp/x' >"$WORK/o" 2>&1
expect_eq bundle-stdin "$(echo hello-bundle | sha256sum | cut -d' ' -f1)" "$(cut -d' ' -f1 "$WORK/o")"
sf_run 'exit 9'; expect_eq bundle-exit-status 9 $?

# Named for what it is: the listener and a connection's process are
# envinit-sshd in ps, top and pgrep (no loader runs them).
# chroot execs the server: its pid is the listener's
lpid=$spid
if grep -qx "$lpid" <<<"$(pgrep -x envinit-sshd)"; then pass bundle-pgrep-listener; else
  fail bundle-pgrep-listener "pgrep -x envinit-sshd has no $lpid ($(cat "/proc/$lpid/comm" 2>/dev/null))"; fi
expect_eq bundle-listener-comm envinit-sshd "$(cat "/proc/${lpid:-0}/comm" 2>/dev/null)"
sf_ssh -- 'sleep 30' </dev/null >/dev/null 2>&1 &
cpid=$!
at_exit "kill $cpid 2>/dev/null"
conn=
wait_until 10 sh -c "pgrep -x envinit-sshd -P $lpid >/dev/null" && conn=$(pgrep -x envinit-sshd -P "$lpid" | head -1)
expect_eq bundle-connection-comm envinit-sshd "$(cat "/proc/${conn:-0}/comm" 2>/dev/null)"
[ -n "$conn" ] || ps -o pid,ppid,comm,args --ppid "$lpid" | sed 's/^/    | /'
kill $cpid 2>/dev/null; wait $cpid 2>/dev/null

# every mapped shared object of the server comes from the bundle (seen from
# outside the chroot, so under $R): none at all when it is static
maps=$(awk '$6 ~ /\.so/ {print $6}' "/proc/$lpid/maps" | sort -u)
if [ -n "$SANITIZED" ]; then
  if [ -n "$maps" ] && ! grep -qv "^$R/opt/envinit/lib/" <<<"$maps"; then pass bundle-libs-only-from-bundle
  else fail bundle-libs-only-from-bundle "$(echo $maps)"; fi
else
  expect_eq bundle-maps-no-shared-object "" "$(echo $maps)"
fi

# Forwarding's name resolution in a root without a C library: numeric
# addresses, and "localhost" from the root's /etc/hosts.
EP=$((SF_PORT + 7))
socat TCP-LISTEN:$EP,bind=127.0.0.1,reuseaddr,fork EXEC:cat &
at_exit "kill $! 2>/dev/null"
wait_until 5 sh -c "socat -u /dev/null TCP:127.0.0.1:$EP 2>/dev/null" || fail bundle-echo-server "socat on $EP"
expect_eq bundle-fwd-numeric hi "$(echo hi | sf_ssh -W "127.0.0.1:$EP" -- 2>&1)"
expect_eq bundle-fwd-localhost-without-hosts-file-refused "" "$(echo hi | sf_ssh -W "localhost:$EP" -- 2>/dev/null)"
printf '127.0.0.1 localhost\n::1 localhost ip6-localhost\n' >"$R/etc/hosts"
expect_eq bundle-fwd-localhost hi "$(echo hi | sf_ssh -W "localhost:$EP" -- 2>&1)"
