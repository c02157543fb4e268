#!/bin/bash
# envinit-sshd -i: one connection on stdin/stdout, reached by the real ssh
# through a ProxyCommand, with the host key pinned from --print-host-key.
# Three transports, each as root and (pipes) as the user: plain pipes
# (OpenSSH's ProxyCommand gives pipes; envinit-sshd bridges them with its
# pump), a socket on stdin (socat EXEC gives a socketpair), and `envinit
# ssh-stdio`. Each: exec with its exit status, a pty, an SFTP round trip of
# a few MiB with checksums, -L to a loopback echo server. Also: only the
# protocol on stdout, the pump and the connection are the user before
# authentication, EOF ends both, and the address seen is UNKNOWN. All on
# 127.0.0.1 of a private network namespace.
source "$(dirname "$0")/../lib.sh"
source "$SRC/tests/integration/50-sshd-lib.bash"
need_root
t_unshare --mount --net
require ssh ssh-keygen sftp socat sha256sum setpriv ss /usr/bin/python3
[ -x "$SF_BIN" ] || { fail build "$SF_BIN missing (make envinit-sshd)"; exit 1; }
sf_setup
FLAGS=(-u "$SF_USER" --passwd "$WORK/passwd" --group "$WORK/group")
# The user's own host key, in a folder of the user's (a non-root server
# may only use its own key).
mkdir -m 700 "$WORK/ukeys" && chown $SF_UID:$SF_UID "$WORK/ukeys"
AS_USER=(setpriv --reuid "$SF_UID" --regid "$SF_UID" --clear-groups --)
STDIO_LOG=$WORK/stdio.log

# known_hosts for the alias "stdio" from --print-host-key, run as RUN...
pin_key() { # KEYFILE RUN...
  local key=$1 line; shift
  line=$("$@" "$SF_BIN" --print-host-key -k "$key" "${FLAGS[@]}" 2>>"$STDIO_LOG") || return 1
  case "$line" in "ssh-ed25519 "*) ;; *) return 1 ;; esac
  echo "stdio $line" >"$WORK/known_hosts"
}
# px_ssh PROXYCOMMAND [SSH OPTIONS...] -- COMMAND...: ssh through PROXY,
# host key checked against the pinned one.
px_ssh() {
  local proxy=$1 opts=(); shift
  while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
  shift
  timeout 60 ssh -F /dev/null -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$WORK/known_hosts" \
    -o GlobalKnownHostsFile=/dev/null -o LogLevel=error -o BatchMode=yes -o IdentitiesOnly=yes \
    -i "$WORK/keys/good" -o ProxyCommand="$proxy" "${opts[@]}" "$SF_USER@stdio" "$@"
}

head -c $((3 * 1024 * 1024 + 777)) /dev/urandom >"$WORK/blob"
chmod 644 "$WORK/blob"
WANT=$(sha256sum <"$WORK/blob" | cut -d' ' -f1)
ECHO_PORT=$(t_freeport)
socat TCP-LISTEN:"$ECHO_PORT",bind=127.0.0.1,reuseaddr,fork EXEC:cat &
at_exit "kill $! 2>/dev/null"
wait_until 5 t_listening "$ECHO_PORT" || fail echo-server "socat did not listen on $ECHO_PORT"

# suite NAME PROXYCOMMAND: the four things a developer does, through PROXY.
suite() {
  local n=$1 px=$2 out rc lp bg
  out=$(px_ssh "$px" -- 'echo "who=$(id -u)"; echo to-stderr >&2; exit 7' </dev/null 2>"$WORK/$n.err"); rc=$?
  if [ $rc -eq 7 ] && [ "$out" = "who=$SF_UID" ] && grep -qx to-stderr "$WORK/$n.err"; then pass "$n-exec"
  else fail "$n-exec" "exit $rc, out '$out', err '$(tr '\n' ' ' <"$WORK/$n.err")'"; fi

  out=$(px_ssh "$px" -tt -- 'tty; stty size' </dev/null 2>&1 | tr -d '\r')
  if grep -q '^/dev/pts/' <<<"$out"; then pass "$n-pty"; else fail "$n-pty" "$(echo "$out" | head -n 3 | tr '\n' ' ')"; fi

  rm -f "$SF_HOME/up.bin" "$WORK/down-$n.bin"
  printf 'put %s up.bin\nget up.bin %s\n' "$WORK/blob" "$WORK/down-$n.bin" >"$WORK/batch"
  timeout 60 sftp -q -F /dev/null -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$WORK/known_hosts" \
    -o GlobalKnownHostsFile=/dev/null -o BatchMode=yes -o IdentitiesOnly=yes -i "$WORK/keys/good" \
    -o ProxyCommand="$px" -b "$WORK/batch" "$SF_USER@stdio" >"$WORK/sftp-$n.out" 2>&1
  rc=$?
  local up down
  up=$(sha256sum <"$SF_HOME/up.bin" 2>/dev/null | cut -d' ' -f1)
  down=$(sha256sum <"$WORK/down-$n.bin" 2>/dev/null | cut -d' ' -f1)
  if [ $rc -eq 0 ] && [ "$up" = "$WANT" ] && [ "$down" = "$WANT" ]; then pass "$n-sftp"
  else fail "$n-sftp" "exit $rc, put ${up:0:12} get ${down:0:12} want ${WANT:0:12}: $(tail -n 2 "$WORK/sftp-$n.out" | tr '\n' ' ')"; fi

  lp=$(t_freeport)
  px_ssh "$px" -o ExitOnForwardFailure=yes -L "$lp:127.0.0.1:$ECHO_PORT" -- 'sleep 30' </dev/null 2>"$WORK/fwd-$n.err" &
  bg=$!
  if wait_until 15 t_listening "$lp"; then
    out=$(printf 'ping-%s\n' "$n" | timeout 10 socat -t 2 - TCP:127.0.0.1:"$lp" 2>&1)
    expect_eq "$n-forward" "ping-$n" "$out"
  else
    fail "$n-forward" "-L $lp never listened: $(tr '\n' ' ' <"$WORK/fwd-$n.err")"
  fi
  # px_ssh runs in a subshell: its timeout and ssh go first, or the
  # session's sleep outlives the test.
  pkill -P $bg 2>/dev/null; kill $bg 2>/dev/null; wait $bg 2>/dev/null
}

# ---- root, plain pipes ----
PIPES="$SF_BIN -i -k $WORK/hostkey ${FLAGS[*]} 2>>$STDIO_LOG"
pin_key "$WORK/hostkey" || { fail print-host-key "no key line: $(tail -n 3 "$STDIO_LOG")"; exit 1; }
pass print-host-key
suite root-pipes "$PIPES"
out=$(px_ssh "$PIPES" -- 'echo "$SSH_CONNECTION|$SSH_CLIENT"' </dev/null 2>&1)
expect_eq unknown-address "UNKNOWN 65535 UNKNOWN 65535|UNKNOWN 65535 65535" "$out"
# from= sees UNKNOWN: an address pattern refuses, "*" lets in (as sshd -i)
sf_keys "from=\"127.0.0.1\" $(sf_pub good)"
if px_ssh "$PIPES" -- true </dev/null 2>/dev/null; then fail from-address-refused "logged in"; else pass from-address-refused; fi
sf_keys "from=\"*\" $(sf_pub good)"
expect from-star-allowed px_ssh "$PIPES" -- true </dev/null
sf_keys "$(sf_pub good)"
# the connection's parent is the pump: another envinit-sshd
out=$(px_ssh "$PIPES" -- 'cat /proc/$(cut -d" " -f4 /proc/$PPID/stat)/comm' </dev/null 2>&1)
expect_eq pipes-pumped envinit-sshd "$out"

# ---- the stream itself, and who parses it ----
# A client that sends its banner and then holds stdin open: nothing but the
# server's banner may come out on stdout, and both processes are the user.
mkfifo "$WORK/hold"
{ printf 'SSH-2.0-probe\r\n'; cat "$WORK/hold"; } | "$SF_BIN" -i -k "$WORK/hostkey" "${FLAGS[@]}" \
  >"$WORK/stdout" 2>>"$STDIO_LOG" &
pump=$! # the last command of the pipeline: envinit-sshd itself
exec 7>"$WORK/hold"
at_exit "exec 7>&-"
wait_until 5 sh -c "head -c 8 '$WORK/stdout' | grep -q SSH-2.0-"
# the banner line first, then binary packets (the key exchange): no log line
if [ "$(head -c 8 "$WORK/stdout")" = SSH-2.0- ] && head -n 1 "$WORK/stdout" | grep -aqx 'SSH-2.0-[ -~]*'$'\r' &&
  ! grep -aq 'envinit-sshd' "$WORK/stdout"; then pass stdout-only-protocol; else
  fail stdout-only-protocol "stdout holds '$(head -c 60 "$WORK/stdout" | od -c | head -n 3 | tr '\n' ' ')'"; fi
wait_until 5 pgrep -P "$pump" >/dev/null
conn=$(pgrep -P "$pump" | head -n 1)
if [ -z "$pump" ] || [ -z "$conn" ]; then
  fail pre-auth-processes "pump '$pump', connection '$conn'"
else
  for who in pump:$pump conn:$conn; do
    p=${who#*:}; n=${who%%:*}
    expect_eq "$n-pre-auth-uid" "$SF_UID $SF_UID $SF_UID $SF_UID" "$(t_proc_field "$p" Uid | tr -s '\t ' ' ')"
    expect_eq "$n-pre-auth-capeff" 0000000000000000 "$(t_proc_field "$p" CapEff)"
    expect_eq "$n-pre-auth-not-dumpable" 0 "$(stat -c %u "/proc/$p/environ")"
  done
  expect_eq conn-pre-auth-groups "$SF_UID 4343" "$(t_proc_field "$conn" Groups | xargs -n1 | sort -n | xargs)"
fi
exec 7>&- # the client's end: EOF must end the pump and the connection
if [ -n "$conn" ] && wait_until 5 t_gone "$pump" && wait_until 5 t_gone "$conn"; then pass eof-ends-both; else
  fail eof-ends-both "still running: pump $pump, connection $conn"; fi
wait "$pump" 2>/dev/null

# ---- root, a socket on stdin (socat EXEC hands the child a socketpair) ----
SOCK="socat - EXEC:'$SF_BIN -i -k $WORK/hostkey ${FLAGS[*]}' 2>>$STDIO_LOG"
suite root-socket "$SOCK"
out=$(px_ssh "$SOCK" -- 'cat /proc/$(cut -d" " -f4 /proc/$PPID/stat)/comm' </dev/null 2>&1)
expect_eq socket-not-pumped socat "$out"

# ---- root, envinit ssh-stdio (the settings become envinit-sshd -i's) ----
ESTDIO="env ENVINIT_HOST_KEYS=$WORK/hostkey ENVINIT_USER=$SF_USER ENVINIT_FALLBACK_ARGS='--passwd $WORK/passwd --group $WORK/group' $SRC/envinit ssh-stdio 2>>$STDIO_LOG"
out=$(px_ssh "$ESTDIO" -- 'echo "who=$(id -u)"; exit 3' </dev/null 2>&1); rc=$?
if [ $rc -eq 3 ] && [ "$out" = "who=$SF_UID" ]; then pass envinit-ssh-stdio; else fail envinit-ssh-stdio "exit $rc: $out"; fi

# ---- the user, plain pipes (docker run --user, runAsUser) ----
UPIPES="${AS_USER[*]} $SF_BIN -i -k $WORK/ukeys/hostkey ${FLAGS[*]} 2>>$STDIO_LOG"
if pin_key "$WORK/ukeys/hostkey" "${AS_USER[@]}"; then pass user-print-host-key; else
  fail user-print-host-key "$(tail -n 3 "$STDIO_LOG")"; fi
suite user-pipes "$UPIPES"

if grep -q 'envinit-sshd: error' "$STDIO_LOG"; then fail no-errors "$(grep 'envinit-sshd: error' "$STDIO_LOG" | head -n 3)"; else pass no-errors; fi
exit 0
