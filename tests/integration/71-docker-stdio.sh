#!/bin/bash
# SSH to a container without a network: the slim image (busybox only) with
# the bundle mounted and --network none. `envinit ssh-config --docker NAME`,
# run in the container, prints the client's Host block; that file is used
# as it is with `ssh -F FILE NAME`: its ProxyCommand runs `docker exec -i
# NAME envinit ssh-stdio`, and its KnownHostsCommand is the only thing that
# vouches for the host key (an empty known_hosts, StrictHostKeyChecking
# yes). Exec with its status, a pty, an SFTP round trip with checksums, and
# -L to an echo server on the container's loopback. The client side of -L
# listens in a private network namespace of its own.
. "$(dirname "$0")/../lib.sh"
. "$SRC/tests/docker/lib.sh"
docker_ready
require sftp socat sha256sum unshare ip ss
d_image slim
d_envinit_bundle
d_keypair

d_run stdio "${VOL[@]}" -e ENVINIT_AUTHORIZED_KEYS="$PUB" "$IMG" || { fail boot "docker run failed"; exit 0; }
# PID 1 has written authorized_keys and started its server by then.
if ! d_wait_port "$C" 22 20; then fail boot "the container's SSH never came up"; d_logs "$C"; exit 0; fi

CFG=$WORK/ssh_config
if docker exec "$C" /opt/envinit/bin/envinit ssh-config --docker "$C" >"$CFG" 2>"$WORK/ssh-config.err" &&
  grep -qx "Host $C" "$CFG"; then pass ssh-config
else fail ssh-config "$(cat "$CFG" "$WORK/ssh-config.err" | tail -n 5 | tr '\n' ' ')"; exit 0; fi
echo "# ssh-config printed:"; sed 's/^/#   /' "$CFG"
if grep -Eqi 'StrictHostKeyChecking|/dev/null' "$CFG"; then fail config-pins-key "the block turns checking off"; else pass config-pins-key; fi
expect_eq config-user "    User coder" "$(grep -x '    User .*' "$CFG")"
# the key pinned is the one PID 1's envinit-sshd serves on port 22
pinned=$(sed -n 's/^    KnownHostsCommand \/bin\/echo %H //p' "$CFG")
docker exec "$C" cat /etc/envinit/ssh_host_ed25519_key >"$WORK/served_key" 2>/dev/null
chmod 600 "$WORK/served_key"
expect_eq pinned-key-served "$(ssh-keygen -y -f "$WORK/served_key" 2>&1 | cut -d' ' -f1,2)" "$pinned"

: >"$WORK/known_hosts"
# cssh [SSH OPTIONS...] -- COMMAND...: ssh -F the printed block; the key
# and an empty known_hosts are ours, nothing else is added.
cssh() {
  local opts=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
  shift
  timeout 60 ssh -F "$CFG" -i "$KEY" -o IdentitiesOnly=yes -o BatchMode=yes -o LogLevel=error \
    -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$WORK/known_hosts" -o GlobalKnownHostsFile="$WORK/known_hosts" \
    "${opts[@]}" "$C" "$@"
}

out=$(cssh -- 'echo "who=$(id -un)"; echo to-stderr >&2; exit 5' </dev/null 2>"$WORK/exec.err"); rc=$?
if [ $rc -eq 5 ] && [ "$out" = who=coder ] && grep -qx to-stderr "$WORK/exec.err"; then pass exec
else fail exec "exit $rc, out '$out', err '$(tr '\n' ' ' <"$WORK/exec.err")'"; d_logs "$C"; fi

out=$(cssh -tt -- tty </dev/null 2>&1 | tr -d '\r')
if grep -q '^/dev/pts/' <<<"$out"; then pass pty; else fail pty "$(echo "$out" | head -n 3 | tr '\n' ' ')"; fi

head -c $((4 * 1024 * 1024 + 333)) /dev/urandom >"$WORK/blob"
want=$(sha256sum <"$WORK/blob" | cut -d' ' -f1)
printf 'put %s up.bin\nget up.bin %s\n' "$WORK/blob" "$WORK/down.bin" >"$WORK/batch"
timeout 120 sftp -q -F "$CFG" -i "$KEY" -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes \
  -o UserKnownHostsFile="$WORK/known_hosts" -o GlobalKnownHostsFile="$WORK/known_hosts" \
  -b "$WORK/batch" "$C" >"$WORK/sftp.out" 2>&1; rc=$?
inside=$(cssh -- 'sha256sum up.bin' </dev/null 2>/dev/null | cut -d' ' -f1)
down=$(sha256sum <"$WORK/down.bin" 2>/dev/null | cut -d' ' -f1)
if [ $rc -eq 0 ] && [ "$inside" = "$want" ] && [ "$down" = "$want" ]; then pass sftp-round-trip
else fail sftp-round-trip "exit $rc, inside ${inside:0:12} back ${down:0:12} want ${want:0:12}: $(tail -n 2 "$WORK/sftp.out" | tr '\n' ' ')"; fi

# -L: an echo server on the container's loopback (socat in its network
# namespace); the client's listener in a network namespace of our own.
pid=$(d_pid "$C")
nsenter --net="/proc/$pid/ns/net" socat TCP-LISTEN:7777,bind=127.0.0.1,reuseaddr,fork EXEC:cat &
at_exit "kill $! 2>/dev/null"
wait_until 10 d_listening "$C" 7777 || fail echo-server "socat did not listen in the container"
export -f cssh wait_until
export CFG KEY WORK C
out=$(unshare -n -- bash -c '
  ip link set lo up
  cssh -o ExitOnForwardFailure=yes -L 7000:127.0.0.1:7777 -- "sleep 30" </dev/null 2>"$WORK/fwd.err" &
  bg=$!
  listening() { ss -Hltn "sport = :7000" | grep -q LISTEN; }
  if wait_until 20 listening; then
    printf "ping-through-L\n" | timeout 10 socat -t 2 - TCP:127.0.0.1:7000
  else
    echo "never listened: $(cat "$WORK/fwd.err")"
  fi
  kill $bg; wait $bg' 2>&1)
expect_eq forward "ping-through-L" "$out"

if [ -s "$WORK/known_hosts" ]; then fail known-hosts-untouched "ssh wrote: $(cat "$WORK/known_hosts")"; else pass known-hosts-untouched; fi
# a block pinning another key is refused: the pin is what lets us in
ssh-keygen -q -t ed25519 -N '' -f "$WORK/other"
sed "s|^    KnownHostsCommand /bin/echo %H .*|    KnownHostsCommand /bin/echo %H $(cut -d' ' -f1,2 "$WORK/other.pub")|" "$CFG" >"$WORK/wrong_config"
if CFG=$WORK/wrong_config cssh -- true </dev/null 2>"$WORK/wrong.err"; then fail wrong-key-refused "logged in"
elif grep -qi 'host key' "$WORK/wrong.err"; then pass wrong-key-refused
else fail wrong-key-refused "$(tr '\n' ' ' <"$WORK/wrong.err")"; fi
exit 0
