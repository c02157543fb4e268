#!/bin/bash
# the image's own sshd, started by the main command,
# serves port 22 -> envinit (ENVINIT_SSH=auto, the default) starts no second
# server, and the user's sshd is the one that answers (its host key, its
# authorized_keys file).
. "$(dirname "$0")/../lib.sh"
. "$SRC/tests/docker/lib.sh"
docker_ready
require ssh-keygen
d_image openssh
d_envinit_binary
d_keypair

# The user's sshd: its own host key, key file and config, mounted read-only.
U=$WORK/user-sshd; mkdir -p "$U"
ssh-keygen -q -t ed25519 -N '' -C user-sshd-host -f "$U/host_ed25519"
cp "$KEY.pub" "$U/authorized_keys"
cat >"$U/sshd_config" <<'EOF'
Port 22
HostKey /etc/user-sshd/host_ed25519
AuthorizedKeysFile /etc/user-sshd/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
PidFile none
EOF
echo "127.0.0.1 $(cut -d' ' -f1,2 "$U/host_ed25519.pub")" >"$WORK/known_hosts"

if ! d_run ownsshd "${VOL[@]}" -v "$U:/etc/user-sshd:ro" -e ENVINIT_AUTHORIZED_KEYS="$PUB" "$IMG" \
      sh -c 'mkdir -p /run/sshd && exec /usr/sbin/sshd -D -e -f /etc/user-sshd/sshd_config'; then
  fail own-sshd-answers "docker run failed"; exit 0
fi

if ! d_wait_port "$C" 22 15; then
  fail own-sshd-answers "nothing listens on 22 (container running: $(d_running "$C" && echo yes || echo no))"
  d_logs "$C"; exit 0
fi
# Pinning the user's host key: only the user's sshd can pass this.
out=$(D_SSH_OPTS="-o StrictHostKeyChecking=yes -o UserKnownHostsFile=$WORK/known_hosts" \
      d_ssh "$C" root 22 'echo answered-by-$(cat /proc/$PPID/cmdline | tr "\0" " ")' 2>&1)
if grep -q '^answered-by-sshd:' <<<"$out"; then
  pass own-sshd-answers
else
  fail own-sshd-answers "ssh with the user's host key pinned: $out"; d_logs "$C"
fi

# Give envinit's decision time to act (it must not start anything late either,
# e.g. an OpenSSH that keeps failing to bind the taken port).
sleep 2
# Every sshd in the container must be the user's (its config on the command
# line, or a per-connection child of it); no envinit-sshd at all.
procs=$(docker exec "$C" sh -c 'for d in /proc/[0-9]*; do [ "${d#/proc/}" = $$ ] && continue
    c=$(tr "\0" " " <$d/cmdline 2>/dev/null); p=$(sed -n "s/^PPid:[[:space:]]*//p" $d/status 2>/dev/null)
    [ -n "$c" ] && echo "${d#/proc/} $p $c"; done')
echo "# processes (pid ppid cmdline):"; echo "$procs" | sed 's/^/#   /'
others=$(echo "$procs" | awk '$3 ~ /sshd/ && $0 !~ /\/etc\/user-sshd\/sshd_config/')
if [ -z "$others" ] && d_running "$C"; then
  pass envinit-started-no-server
else
  fail envinit-started-no-server "another SSH server runs: ${others:-container stopped}"; d_logs "$C"
fi
restarts=$(docker logs "$C" 2>&1 | grep '^envinit' \
  | grep -i -E 'restart [0-9]|exited with status|already in use|cannot bind' | head -n 3)
if [ -z "$restarts" ]; then
  pass envinit-supervises-no-server
else
  fail envinit-supervises-no-server "envinit ran its own server beside the user's: $(echo "$restarts" | tr '\n' ' ')"
fi
if d_listening "$C" 2222; then
  fail no-fallback-port "something listens on 2222 although 22 speaks SSH"
else
  pass no-fallback-port
fi
st=$(d_status "$C"); rc=$?
echo "# envinit status (exit $rc):"; echo "$st" | sed 's/^/#   /'
# It should report the port as served by a server it did not start.
if [ $rc -eq 0 ] && grep -qiE 'external|did not start|served' <<<"$st" \
   && ! grep -qi 'restarting' <<<"$st"; then
  pass status-says-served
else
  fail status-says-served "envinit status (exit $rc) does not report an external server: $(echo "$st" | head -n 3 | tr '\n' ' ')"
fi
echo "# envinit log:"; docker logs "$C" 2>&1 | grep '^envinit' | sed 's/^/#   /'
exit 0
