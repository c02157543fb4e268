#!/bin/bash
# The bundle runs in any image: a root file system holding only
# busybox-static, /etc/passwd and dist/envinit; envinit-sshd is started the
# way envinit starts it (through the bundled loader), and a real ssh logs in.
source "$(dirname "$0")/../lib.sh"
source "$SRC/tests/integration/50-sshd-lib.bash"
need_root
t_unshare --mount --net
require ssh ssh-keygen ip chroot /bin/busybox
B=$SRC/dist/envinit
[ -x "$B/bin/envinit-sshd" ] && [ -x "$B/lib/ld-linux-x86-64.so.2" ] || { fail bundle "$B missing (make bundle)"; exit 1; }
file /bin/busybox | grep -q 'statically linked' || { fail busybox-static "/bin/busybox is not static"; exit 1; }

R=$WORK/root
mkdir -p "$R/bin" "$R/etc" "$R/opt" "$R/home/dev/.ssh" "$R/tmp" "$WORK/keys"
chmod 1777 "$R/tmp"
cp /bin/busybox "$R/bin/busybox"
for a in sh ls cat echo id env uname sha256sum wc; do ln -s busybox "$R/bin/$a"; done
cp -a "$B" "$R/opt/envinit"
printf 'root:x:0:0:root:/root:/bin/sh\ndev:x:1000:1000:dev:/home/dev:/bin/sh\n' >"$R/etc/passwd"
ssh-keygen -q -t ed25519 -N '' -f "$WORK/keys/good"
cp "$WORK/keys/good.pub" "$R/home/dev/.ssh/authorized_keys"
chown -R 1000:1000 "$R/home/dev"
chmod 700 "$R/home/dev/.ssh"
expect_eq rootfs-has-no-libc "" "$(find "$R" -name 'libc.so*' -not -path "$R/opt/envinit/*")"

LOG=$WORK/bundle.log
chroot "$R" /opt/envinit/lib/ld-linux-x86-64.so.2 --library-path /opt/envinit/lib \
  /opt/envinit/bin/envinit-sshd --port "$SF_PORT" --listen 127.0.0.1 --user dev --log-stderr --foreground \
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
# every mapped library of the server comes from the bundle (seen from outside
# the chroot, so under $R)
lpid=$(pgrep -f '/opt/envinit/bin/envinit-sshd' | head -1)
maps=$(awk '$6 ~ /\.so/ {print $6}' /proc/$lpid/maps | sort -u)
if [ -n "$maps" ] && ! grep -qv "^$R/opt/envinit/lib/" <<<"$maps"; then pass bundle-libs-only-from-bundle
else fail bundle-libs-only-from-bundle "$(echo $maps)"; fi
