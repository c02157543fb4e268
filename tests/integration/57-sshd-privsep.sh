#!/bin/bash
# What a client reaches before it authenticates, seen from outside as an
# attacker or an operator would: the connection process is the user
# (uid, gid, groups, no capability, not dumpable) once the banners are
# exchanged; each connection is a fresh program image (its own address
# layout); the SFTP server is a program image of its own; the user's
# groups, not root's, decide what authorized_keys can be read; a session
# keeps the bounding set (sudo still works).
source "$(dirname "$0")/../lib.sh"
source "$SRC/tests/integration/50-sshd-lib.bash"
need_root
t_unshare --mount --net
require ssh ssh-keygen socat setpriv
sf_setup
# Root as Docker starts it: with supplementary groups, group 0 among them.
printf '#!/bin/sh\nexec setpriv --groups 0,4 -- %q "$@"\n' "$SF_BIN" >"$WORK/sshd-as-docker-root"
chmod 755 "$WORK/sshd-as-docker-root"
SF_BIN=$WORK/sshd-as-docker-root
sf_start || { fail server-starts "$(cat "$SF_LOG")"; exit 1; }

# t_proc_field PID NAME: the value of NAME: in /proc/PID/status.
# conn_pids: the listener's children (one per open connection).
conn_pids() { pgrep -P "$SF_PID" | sort -n; }

# A client that sends its banner, reads the server's, then waits: the
# connection is open and nothing but identification strings has crossed.
banner_client() { # FIFO OUT
  mkfifo "$1"
  (printf 'SSH-2.0-probe\r\n'; cat "$1") | socat - TCP:127.0.0.1:"$SF_PORT" >"$2" &
}
banner_client "$WORK/hold1" "$WORK/banner1"
banner_client "$WORK/hold2" "$WORK/banner2"
at_exit "exec 7>&- 8>&-"
exec 7>"$WORK/hold1" 8>"$WORK/hold2"
wait_until 5 sh -c "grep -q '^SSH-2.0-' '$WORK/banner1' && grep -q '^SSH-2.0-' '$WORK/banner2'" ||
  fail banners "the server sent no banner"
wait_until 5 sh -c "[ \$(pgrep -P $SF_PID | wc -l) -ge 2 ]"
read -r c1 c2 <<<"$(conn_pids | head -n 2 | tr '\n' ' ')"
if [ -z "${c2:-}" ]; then
  fail pre-auth-processes "want 2 connection processes, got '$(conn_pids | tr '\n' ' ')'"
else
  expect_eq pre-auth-uid "$SF_UID $SF_UID $SF_UID $SF_UID" "$(t_proc_field "$c1" Uid | tr -s '\t ' ' ')"
  expect_eq pre-auth-gid "$SF_UID $SF_UID $SF_UID $SF_UID" "$(t_proc_field "$c1" Gid | tr -s '\t ' ' ')"
  expect_eq pre-auth-groups "$SF_UID 4343" "$(t_proc_field "$c1" Groups | xargs -n1 | sort -n | xargs)"
  expect_eq pre-auth-capeff 0000000000000000 "$(t_proc_field "$c1" CapEff)"
  expect_eq pre-auth-capprm 0000000000000000 "$(t_proc_field "$c1" CapPrm)"
  # not dumpable: /proc/PID files of a non-dumpable process belong to root
  expect_eq pre-auth-not-dumpable "0" "$(stat -c %u "/proc/$c1/environ")"
  expect_eq pre-auth-fresh-image "--connection" "$(tr '\0' '\n' <"/proc/$c1/cmdline" | tail -n 1)"
  # a fresh image: its own randomised layout, unlike forked copies
  b1=$(awk '$6 ~ /envinit-sshd$/ { split($1, a, "-"); print a[1]; exit }' "/proc/$c1/maps")
  b2=$(awk '$6 ~ /envinit-sshd$/ { split($1, a, "-"); print a[1]; exit }' "/proc/$c2/maps")
  s1=$(awk '$6 == "[stack]" { print $1 }' "/proc/$c1/maps")
  s2=$(awk '$6 == "[stack]" { print $1 }' "/proc/$c2/maps")
  if [ -n "$b1" ] && [ "$b1" != "$b2" ] && [ "$s1" != "$s2" ]; then pass layouts-differ; else
    fail layouts-differ "program $b1 vs $b2, stack $s1 vs $s2"; fi
  lb=$(awk '$6 ~ /envinit-sshd$/ { split($1, a, "-"); print a[1]; exit }' "/proc/$SF_PID/maps")
  if [ "$lb" != "$b1" ]; then pass layout-not-the-listeners; else fail layout-not-the-listeners "both at $lb"; fi
  # the listener holds no host key file open; the connection got it from a sealed memory file
  if grep -q 'memfd:envinit-sshd host key' <<<"$(ls -l "/proc/$SF_PID/fd")"; then pass listener-key-in-memfd; else
    fail listener-key-in-memfd "$(ls -l "/proc/$SF_PID/fd" | tail -n +2 | awk '{print $NF}' | tr '\n' ' ')"; fi
fi
exec 7>&- 8>&-

# ---- the user's groups decide what authorized_keys may point to ----
# A root:root 0640 file the user cannot read, reached through a symlink in
# the user's ~/.ssh: root's group 0 must not make it readable.
printf '%s\n' "$(sf_pub good)" >"$WORK/rootkeys"
chown 0:0 "$WORK/rootkeys"; chmod 0640 "$WORK/rootkeys"
ln -sf "$WORK/rootkeys" "$SF_HOME/.ssh/authorized_keys"
chown -h $SF_UID:$SF_UID "$SF_HOME/.ssh/authorized_keys"
if sf_run true 2>/dev/null; then fail root-group-file-refused "logged in with keys from a root:root 0640 file"
else pass root-group-file-refused; fi
sf_keys "$(sf_pub good)"

# ---- a session keeps the bounding set, so sudo works in it ----
expect_eq session-bounding-set "$(t_proc_field "$SF_PID" CapBnd)" "$(sf_run 'grep CapBnd /proc/self/status' | awk '{print $2}')"

# ---- the SFTP server is a program image of its own ----
# (stdin held open and silent: the server waits for the client's init)
sleep 3 | sf_ssh -s -- sftp >/dev/null 2>&1 &
spid=$!
sftp_pid() { pgrep -f -- '--sftp-server$' | head -n 1; }
if wait_until 5 sftp_pid >/dev/null 2>&1 && p=$(sftp_pid) && [ -n "$p" ]; then
  expect_eq sftp-own-image "--sftp-server" "$(tr '\0' '\n' <"/proc/$p/cmdline" | tail -n 1)"
  expect_eq sftp-runs-as-user "$SF_UID" "$(t_proc_field "$p" Uid | awk '{print $1}')"
  if ls -l "/proc/$p/fd" 2>/dev/null | grep -q memfd; then fail sftp-holds-no-key "a memfd is open"; else pass sftp-holds-no-key; fi
else
  fail sftp-own-image "no --sftp-server process seen"
fi
wait "$spid" 2>/dev/null

# ---- root never takes a host key from the inherited $HOME ----
# /etc/envinit read-only, a key planted in $HOME's state folder: root uses
# the runtime folder, never the planted key.
sf_stop
mkdir -p /etc/envinit "$WORK/attacker/.local/state/envinit"
mount -t tmpfs -o ro tmpfs /etc/envinit
mount -t tmpfs tmpfs /run
ssh-keygen -q -t ed25519 -N '' -f "$WORK/attacker/.local/state/envinit/ssh_host_ed25519_key"
planted=$(ssh-keygen -lf "$WORK/attacker/.local/state/envinit/ssh_host_ed25519_key" | awk '{print $2}')
HOME=$WORK/attacker XDG_STATE_HOME= "$SF_BIN" -p "$SF_PORT" -l 127.0.0.1 -u "$SF_USER" \
  --passwd "$WORK/passwd" --group "$WORK/group" 2>"$WORK/home.log" &
hpid=$!
at_exit "kill $hpid 2>/dev/null"
if wait_until 5 grep -q 'listening on' "$WORK/home.log"; then
  used=$(sed -n 's/.*host key \(.*\): ED25519 \(SHA256:[^ ]*\).*/\1 \2/p' "$WORK/home.log")
  case "$used" in
    "/run/envinit/ssh_host_ed25519_key SHA256:"*) [ "${used##* }" != "$planted" ] && pass root-ignores-home-key ||
      fail root-ignores-home-key "served the planted key" ;;
    *) fail root-ignores-home-key "host key used: $used" ;;
  esac
else
  fail root-ignores-home-key "did not start: $(tail -n 3 "$WORK/home.log" | tr '\n' ' ')"
fi
kill $hpid 2>/dev/null
exit 0
