#!/bin/bash
# envinit-sshd: the sftp subsystem hook (quick; 70-sftp.sh does the
# heavy testing), -L/-D/-R forwarding of ports and unix sockets, -A, -X, motd,
# and every restriction refused when the key or a switch says so. Real OpenSSH clients only, all on
# 127.0.0.1 of a private network namespace.
source "$(dirname "$0")/../lib.sh"
source "$SRC/tests/integration/50-sshd-lib.bash"
need_root
t_unshare --mount --net
require ssh ssh-keygen ssh-agent ssh-add sftp scp ip sha256sum socat curl setpriv /usr/bin/python3 \
  Xvfb xdpyinfo xauth
[ -x "$SF_BIN" ] || { fail build "$SF_BIN missing (make envinit-sshd)"; exit 1; }
sf_setup
# the user in this mount namespace's /etc/passwd too (the image's own tools,
# like scp -O on the server side, look the user up there)
{ cat /etc/passwd; cat "$WORK/passwd"; } >"$WORK/etc-passwd" && mount --bind "$WORK/etc-passwd" /etc/passwd
# X11 sockets of this mount namespace only (the client's Xvfb)
[ -d /tmp/.X11-unix ] || { mkdir -m 1777 /tmp/.X11-unix && at_exit "rmdir /tmp/.X11-unix 2>/dev/null"; }
mount -t tmpfs -o mode=1777 tmpfs /tmp/.X11-unix && at_exit "umount /tmp/.X11-unix"
sf_start

# bg_ssh OUT.err SSH-OPTIONS...: an ssh -N client in the background, BG its
# own pid (so kill reaches ssh itself), killed at exit.
bg_ssh() {
  local err=$1; shift
  ssh -F /dev/null -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
    -o LogLevel="${BG_LOG:-error}" -o BatchMode=yes -o IdentitiesOnly=yes -o ConnectTimeout=10 \
    -i "$WORK/keys/good" -p "$SF_PORT" -N "$@" "$SF_USER@127.0.0.1" </dev/null 2>"$err" &
  BG=$!
  at_exit "kill $BG 2>/dev/null"
}
# stop_bg PID: ends a background client (OpenSSH 9.2's client can miss a
# SIGTERM that lands while it handles a channel: then again, then KILL).
stop_bg() {
  kill "$1" 2>/dev/null
  wait_until 3 t_gone "$1" || { kill "$1" 2>/dev/null; wait_until 2 t_gone "$1" || kill -9 "$1" 2>/dev/null; }
  wait "$1" 2>/dev/null
}

# forward_refused NAME SSH-OPTIONS...: the forward fails (ExitOnForwardFailure)
forward_refused() {
  local n=$1; shift
  out=$(timeout 20 ssh -F /dev/null -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
    -o BatchMode=yes -o IdentitiesOnly=yes -o ExitOnForwardFailure=yes -i "$WORK/keys/good" \
    -p "$SF_PORT" "$@" "$SF_USER@127.0.0.1" 'echo FORWARD-OK' </dev/null 2>&1)
  case "$out" in *FORWARD-OK*) fail "$n" "forward allowed: $out" ;; *"forwarding failed"*) pass "$n" ;; *) fail "$n" "$out" ;; esac
}
l_refused() { # NAME: a -L connection gets no data through
  local n=$1 p; p=$(t_freeport)
  bg_ssh "$WORK/lr.err" -L "$p:127.0.0.1:$ECHO_PORT"
  wait_until 10 t_listening "$p"
  got=$(echo ping | timeout 10 socat - TCP:127.0.0.1:$p 2>/dev/null)
  stop_bg $BG
  [ "$got" != ping ] && pass "$n" || fail "$n" "data went through"
}
# ---- sftp subsystem and scp (sftp mode) ----
head -c 3000000 /dev/urandom >"$WORK/small"
want=$(sha256sum <"$WORK/small" | cut -d' ' -f1)
SFTP_OPTS=(-F /dev/null -i "$WORK/keys/good" -o IdentitiesOnly=yes -o BatchMode=yes
  -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=error)
out=$(printf 'put %s up1\nget up1 %s\n' "$WORK/small" "$WORK/got1" |
  sftp "${SFTP_OPTS[@]}" -P "$SF_PORT" -b - "$SF_USER@127.0.0.1" 2>&1); rc=$?
expect_eq sftp-put-get "0 $want $want" "$rc $(sha256sum <"$SF_HOME/up1" 2>/dev/null | cut -d' ' -f1) $(sha256sum <"$WORK/got1" 2>/dev/null | cut -d' ' -f1)"
expect_eq sftp-file-owned-by-user "$SF_UID" "$(stat -c %u "$SF_HOME/up1" 2>/dev/null)"
out=$(scp "${SFTP_OPTS[@]}" -P "$SF_PORT" "$WORK/small" "$SF_USER@127.0.0.1:up2" 2>&1 &&
  scp "${SFTP_OPTS[@]}" -P "$SF_PORT" "$SF_USER@127.0.0.1:up2" "$WORK/got2" 2>&1); rc=$?
expect_eq scp-sftp-mode-put-get "0 $want $want" "$rc $(sha256sum <"$SF_HOME/up2" 2>/dev/null | cut -d' ' -f1) $(sha256sum <"$WORK/got2" 2>/dev/null | cut -d' ' -f1)"
# legacy scp (scp -O: the image's scp through exec)
out=$(scp -O "${SFTP_OPTS[@]}" -P "$SF_PORT" "$WORK/small" "$SF_USER@127.0.0.1:up3" 2>&1); rc=$?
expect_eq scp-legacy-put "0 $want" "$rc $(sha256sum <"$SF_HOME/up3" 2>/dev/null | cut -d' ' -f1)"
out=$(scp -O "${SFTP_OPTS[@]}" -P "$SF_PORT" "$SF_USER@127.0.0.1:up3" "$WORK/got3" 2>&1); rc=$?
expect_eq scp-legacy-get "0 $want" "$rc $(sha256sum <"$WORK/got3" 2>/dev/null | cut -d' ' -f1)"
rm -f "$SF_HOME/up3" "$WORK/got3"
# git over SSH (exec of git-upload-pack), when git is installed
if command -v git >/dev/null; then
  git init -q --bare "$SF_HOME/repo.git" && chown -R $SF_UID:$SF_UID "$SF_HOME/repo.git"
  GIT_SSH_COMMAND="ssh ${SFTP_OPTS[*]} -p $SF_PORT" git clone -q "$SF_USER@127.0.0.1:repo.git" "$WORK/clone" 2>"$WORK/git.err"
  expect git-clone-over-ssh test -d "$WORK/clone/.git"
fi
# sftp under "restrict" (allowed, as in OpenSSH)
sf_keys "restrict $(sf_pub good)"
out=$(echo 'ls up1' | sftp "${SFTP_OPTS[@]}" -P "$SF_PORT" -b - "$SF_USER@127.0.0.1" 2>&1)
expect_eq sftp-under-restrict 0 $?
sf_keys "$(sf_pub good)"
rm -f "$WORK/got1" "$WORK/got2" "$SF_HOME/up1" "$SF_HOME/up2"

# ---- -L to a TCP echo server: 32 MiB both ways, checksummed ----
ECHO_PORT=$(t_freeport)
socat TCP-LISTEN:$ECHO_PORT,bind=127.0.0.1,reuseaddr,fork EXEC:cat &
at_exit "kill $! 2>/dev/null"
wait_until 5 t_listening "$ECHO_PORT"
head -c $((32 << 20)) /dev/urandom >"$WORK/blob"
want=$(sha256sum <"$WORK/blob" | cut -d' ' -f1)
LPORT=$(t_freeport)
bg_ssh "$WORK/L.err" -o ExitOnForwardFailure=yes -L "$LPORT:127.0.0.1:$ECHO_PORT"
LPID=$BG
if wait_until 10 t_listening "$LPORT"; then
  got=$(socat -b262144 -T 30 - TCP:127.0.0.1:$LPORT,shut-down <"$WORK/blob" | sha256sum | cut -d' ' -f1)
  expect_eq L-echo-32MiB-checksum "$want" "$got"
  # several at once, each its own channel
  for i in 1 2 3 4; do
    (head -c 1000000 "$WORK/blob" | socat -T 20 - TCP:127.0.0.1:$LPORT,shut-down | sha256sum >"$WORK/par.$i") &
  done
  wait_until 30 bash -c "[ \$(cat $WORK/par.* 2>/dev/null | sort -u | wc -l) = 1 ] && [ \$(cat $WORK/par.* | wc -l) = 4 ]"
  expect_eq L-parallel-4 "$(head -c 1000000 "$WORK/blob" | sha256sum)" "$(sort -u "$WORK"/par.* | tr -d '\n')"
  # a refused connect closes the channel (the client sees EOF)
  DEAD=$(t_freeport)
  bg_ssh /dev/null -L "$((LPORT + 1)):127.0.0.1:$DEAD"
  dp=$BG
  wait_until 10 t_listening "$((LPORT + 1))"
  out=$(echo hi | timeout 10 socat - TCP:127.0.0.1:$((LPORT + 1)) 2>&1); rc=$?
  [ "$rc" -ne 124 ] && pass L-connect-refused-closes || fail L-connect-refused-closes "timed out"
  stop_bg $dp
  expect L-connect-refused-logged grep -Eq "direct-tcpip to 127.0.0.1:$DEAD: Connection refused; channel (refused|closed)" "$SF_LOG"
else
  fail L-listen "ssh -L did not listen: $(cat "$WORK/L.err")"
fi
stop_bg $LPID
# ssh -W (stdio forwarding) and ProxyJump through envinit-sshd to itself
expect_eq W-stdio-forward "hi" "$(echo hi | sf_ssh -W "127.0.0.1:$ECHO_PORT" -- 2>&1)"
jump="ssh -F /dev/null -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=error -o BatchMode=yes -o IdentitiesOnly=yes -i $WORK/keys/good -p $SF_PORT -W %h:%p $SF_USER@127.0.0.1"
expect_eq proxyjump-through-itself "jumped" "$(sf_ssh -o ProxyCommand="$jump" -- 'echo jumped' </dev/null 2>&1)"

# ---- -D through curl --socks5-hostname to a loopback HTTP server ----
HTTP_PORT=$(t_freeport)
mkdir -p "$WORK/www" && echo "hello through socks" >"$WORK/www/index.txt"
(cd "$WORK/www" && exec /usr/bin/python3 -m http.server -b 127.0.0.1 "$HTTP_PORT" >/dev/null 2>&1) &
at_exit "kill $! 2>/dev/null"
wait_until 10 t_listening "$HTTP_PORT"
DPORT=$(t_freeport)
bg_ssh "$WORK/D.err" -D "127.0.0.1:$DPORT"
DPID=$BG
if wait_until 10 t_listening "$DPORT"; then
  expect_eq D-socks5-curl "hello through socks" \
    "$(curl -s --max-time 20 --socks5-hostname 127.0.0.1:$DPORT "http://127.0.0.1:$HTTP_PORT/index.txt")"
  expect_eq D-socks5-hostname-localhost "hello through socks" \
    "$(curl -s --max-time 20 --socks5-hostname 127.0.0.1:$DPORT "http://localhost:$HTTP_PORT/index.txt")"
  # a refused target is a SOCKS failure, not a hang
  curl -s --max-time 10 --socks5-hostname 127.0.0.1:$DPORT "http://127.0.0.1:$(t_freeport)/" >/dev/null 2>&1
  rc=$?
  [ "$rc" -ne 0 ] && [ "$rc" -ne 28 ] && pass D-refused-target-fails || fail D-refused-target-fails "curl rc $rc"
else
  fail D-listen "ssh -D did not listen: $(cat "$WORK/D.err")"
fi
stop_bg $DPID

# ---- -R with a fixed port and with port 0 ----
RPORT=$(t_freeport)
bg_ssh "$WORK/R.err" -o ExitOnForwardFailure=yes -R "$RPORT:127.0.0.1:$ECHO_PORT"
RPID=$BG
if wait_until 10 t_listening "$RPORT"; then
  got=$(head -c $((8 << 20)) "$WORK/blob" | socat -b262144 -T 30 - TCP:127.0.0.1:$RPORT,shut-down | sha256sum)
  expect_eq R-fixed-port-8MiB "$(head -c $((8 << 20)) "$WORK/blob" | sha256sum)" "$got"
  expect_eq R-bound-loopback "127.0.0.1:$RPORT" "$(ss -Hltn "sport = :$RPORT" | awk '{print $4}')"
else
  fail R-fixed-port "not listening: $(cat "$WORK/R.err")"
fi
stop_bg $RPID
wait_until 5 bash -c "! ss -Hltn 'sport = :$RPORT' | grep -q LISTEN" && pass R-removed-on-disconnect || fail R-removed-on-disconnect "still listening"
BG_LOG=info bg_ssh "$WORK/R0.err" -o ExitOnForwardFailure=yes -R "0:127.0.0.1:$ECHO_PORT"
RPID=$BG
wait_until 10 grep -q 'Allocated port' "$WORK/R0.err"
APORT=$(sed -n 's/^Allocated port \([0-9]*\) .*/\1/p' "$WORK/R0.err")
if [ -n "$APORT" ] && t_listening "$APORT"; then
  expect_eq R-port-0-echo "ping" "$(echo ping | socat -T 10 - TCP:127.0.0.1:$APORT,shut-down)"
else
  fail R-port-0 "no allocated port: $(cat "$WORK/R0.err")"
fi
stop_bg $RPID
rm -f "$WORK/blob"

# hostile or impossible requests are refused, the connection carries on
forward_refused R-privileged-port-refused -R "80:127.0.0.1:$ECHO_PORT"
bg_ssh "$WORK/Rdup.err" -o ExitOnForwardFailure=yes -R "$RPORT:127.0.0.1:$ECHO_PORT"
wait_until 10 t_listening "$RPORT"
forward_refused R-port-taken-refused -R "$RPORT:127.0.0.1:$ECHO_PORT"
stop_bg $BG
bg_ssh "$WORK/D2.err" -D "127.0.0.1:$DPORT"
wait_until 10 t_listening "$DPORT"
curl -s --max-time 10 --socks5-hostname 127.0.0.1:$DPORT "http://no-such-host.invalid/" >/dev/null 2>&1
rc=$?
[ "$rc" -ne 0 ] && [ "$rc" -ne 28 ] && pass D-unresolvable-name-fails || fail D-unresolvable-name-fails "curl rc $rc"
stop_bg $BG

# ---- agent forwarding: ssh -A, then ssh-add -l inside ----
eval "$(ssh-agent -s)" >/dev/null
at_exit "kill $SSH_AGENT_PID 2>/dev/null"
ssh-add -q "$WORK/keys/other" 2>/dev/null
want=$(ssh-add -l | awk '{print $2}')
out=$(sf_ssh -A -- 'ssh-add -l; d=$(dirname "$SSH_AUTH_SOCK"); stat -c "%a %u" "$d"; echo "SOCK=$SSH_AUTH_SOCK"' </dev/null 2>&1)
case "$out" in *"$want"*) pass A-ssh-add-l-inside ;; *) fail A-ssh-add-l-inside "$out" ;; esac
expect_eq A-private-dir-0700-user "700 $SF_UID" "$(echo "$out" | sed -n 2p)"
sock=$(echo "$out" | sed -n 's/^SOCK=//p')
case "$sock" in /tmp/envinit-ssh-*/agent.*) pass A-socket-path ;; *) fail A-socket-path "$sock" ;; esac
wait_until 5 bash -c "[ ! -e '$sock' ] && [ ! -e '$(dirname "$sock")' ]" && pass A-removed-after-session || fail A-removed-after-session "$sock still there"
expect_eq A-not-asked-no-socket "" "$(sf_run 'echo $SSH_AUTH_SOCK')"

# ---- the stable agent path: the newest live forwarded agent of any connection ----
# ~/.ssh/environment as envinit writes it when envinit-sshd serves
LINK=$SF_HOME/.envinit-ssh-agent.sock
printf 'SSH_AUTH_SOCK=%s\n' "$LINK" >"$SF_HOME/.ssh/environment"
chown $SF_UID:$SF_UID "$SF_HOME/.ssh/environment" && chmod 600 "$SF_HOME/.ssh/environment"
for i in 1 2; do # agent i holds key badi
  ssh-agent -a "$WORK/ag$i.sock" >"$WORK/ag$i.env"
  at_exit "kill $(sed -n 's/^SSH_AGENT_PID=\([0-9]*\);.*/\1/p' "$WORK/ag$i.env") 2>/dev/null"
  SSH_AUTH_SOCK=$WORK/ag$i.sock ssh-add -q "$WORK/keys/bad$i" 2>/dev/null
done
K1=$(ssh-keygen -lf "$WORK/keys/bad1.pub" | awk '{print $2}')
K2=$(ssh-keygen -lf "$WORK/keys/bad2.pub" | awk '{print $2}')
AS=(setpriv "--reuid=$SF_UID" "--regid=$SF_UID" --clear-groups --)
# with_agent I NAME: a connection forwarding agent I that stays open
# (its session's SSH_AUTH_SOCK in $WORK/NAME.out); AG its client's pid
with_agent() {
  SSH_AUTH_SOCK=$WORK/ag$1.sock ssh -F /dev/null -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
    -o LogLevel=error -o BatchMode=yes -o IdentitiesOnly=yes -i "$WORK/keys/good" -p "$SF_PORT" -A \
    "$SF_USER@127.0.0.1" 'echo "$SSH_AUTH_SOCK"; echo "$$"; exec sleep 600' </dev/null >"$WORK/$2.out" 2>&1 &
  AG=$!
  at_exit "kill $AG 2>/dev/null"
  # its session too: a connection killed with SIGKILL hangs nothing up
  at_exit "kill \$(sed -n 2p '$WORK/$2.out') 2>/dev/null"
}
# link_lists KEY: the stable path, used here as the user, lists KEY
link_lists() { SSH_AUTH_SOCK=$LINK "${AS[@]}" ssh-add -l 2>/dev/null | grep -q "$1"; }
# b_lists NAME KEY: a session without -A lists KEY through the block's path
b_lists() {
  out=$(sf_run 'echo "SOCK=$SSH_AUTH_SOCK"; ssh-add -l' 2>&1)
  case "$out" in *"SOCK=$LINK"*"$2"*) pass "$1" ;; *) fail "$1" "$out" ;; esac
}
with_agent 1 a; A=$AG
wait_until 10 link_lists "$K1"
b_lists agent-link-B-sees-A "$K1"
expect_eq agent-link-is-a-symlink-of-the-user "symbolic link $SF_UID" "$(stat -c '%F %u' "$LINK" 2>/dev/null)"
with_agent 2 c; C=$AG
wait_until 10 link_lists "$K2"
expect_eq agent-link-session-with-A-gets-block-path "$LINK" "$(head -n1 "$WORK/c.out")"
stop_bg $A
wait_until 10 link_lists "$K2"
b_lists agent-link-A-gone-B-sees-C "$K2"
with_agent 1 d; D=$AG
wait_until 10 link_lists "$K1" && pass agent-link-newest-wins || fail agent-link-newest-wins "$(ls -l "$LINK")"
stop_bg $D
wait_until 10 link_lists "$K2"
b_lists agent-link-newest-gone-older-live-one "$K2"
stop_bg $C
wait_until 10 bash -c "! test -e '$LINK' && ! test -L '$LINK'" && pass agent-link-removed-when-none ||
  fail agent-link-removed-when-none "$(ls -l "$LINK" 2>&1)"
t0=$(date +%s%N)
out=$(sf_run 'ssh-add -l; echo "rc=$?"' 2>&1)
ms=$((($(date +%s%N) - t0) / 1000000))
case "$out" in *rc=2*) [ "$ms" -lt 1000 ] && pass agent-link-none-fails-at-once ||
  fail agent-link-none-fails-at-once "took $ms ms" ;; *) fail agent-link-none-fails-at-once "$out" ;; esac
# a killed connection: its socket stays behind, nobody listens, still no wait
with_agent 1 e; E=$AG
wait_until 10 link_lists "$K1"
kill -9 "$(pgrep -n -u $SF_UID -f -- '--connection')"
stop_bg $E
t0=$(date +%s%N)
SSH_AUTH_SOCK=$LINK "${AS[@]}" ssh-add -l >/dev/null 2>&1; rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$rc" -ne 0 ] && [ "$ms" -lt 1000 ] && pass agent-link-killed-connection-fails-at-once ||
  fail agent-link-killed-connection-fails-at-once "rc $rc in $ms ms"
with_agent 2 f; F=$AG
wait_until 10 link_lists "$K2" && pass agent-link-after-killed-connection ||
  fail agent-link-after-killed-connection "$(ls -l "$LINK" "$SF_HOME/.envinit-ssh-agent.d" 2>&1)"
expect_eq agent-registry-dead-entries-removed 1 "$(ls "$SF_HOME/.envinit-ssh-agent.d" | wc -l)"
stop_bg $F
rm -f "$SF_HOME/.ssh/environment"

# ---- X11: ssh -X, then xdpyinfo reaches the client's Xvfb ----
Xvfb :50 -nolisten tcp -screen 0 800x600x24 >"$WORK/xvfb.log" 2>&1 &
at_exit "kill $! 2>/dev/null"
wait_until 10 test -S /tmp/.X11-unix/X50
out=$(DISPLAY=:50 sf_ssh -X -- 'echo "D=$DISPLAY"; echo "XA=$XAUTHORITY"; xdpyinfo | grep -m1 "^name of display"; xdpyinfo | grep -m1 dimensions' </dev/null 2>&1)
case "$out" in *"D=localhost:10.0"*) pass X-DISPLAY ;; *) fail X-DISPLAY "$out" ;; esac
case "$out" in *"XA=/tmp/envinit-ssh-"*/Xauthority*) pass X-XAUTHORITY ;; *) fail X-XAUTHORITY "$out" ;; esac
case "$out" in *"800x600 pixels"*) pass X-xdpyinfo-reaches-Xvfb ;; *) fail X-xdpyinfo-reaches-Xvfb "$out" ;; esac
# the session's cookie is not the client's: a wrong cookie is refused
out=$(DISPLAY=:50 sf_ssh -X -- 'xauth -f "$XAUTHORITY" list; XAUTHORITY=/dev/null xdpyinfo >/dev/null 2>&1; echo rc=$?' </dev/null 2>&1)
case "$out" in *"MIT-MAGIC-COOKIE-1"*"rc=1"*) pass X-wrong-cookie-refused ;; *) fail X-wrong-cookie-refused "$out" ;; esac
# without xauth in the image: the authority file is written by the server
out=$(DISPLAY=:50 sf_ssh -X -- 'xauth -f "$XAUTHORITY" list' </dev/null 2>&1)
mount --bind /dev/null /usr/bin/xauth 2>/dev/null && chmod_xauth=1
out2=$(DISPLAY=:50 sf_ssh -X -- 'xdpyinfo | grep -m1 dimensions' </dev/null 2>&1)
[ -n "${chmod_xauth:-}" ] && umount /usr/bin/xauth
case "$out2" in *"800x600 pixels"*) pass X-without-xauth ;; *) fail X-without-xauth "$out2" ;; esac

# ---- motd: interactive logins only, hushed by ~/.hushlogin ----
echo "Welcome to the envinit test motd" >"$WORK/motd"
mount --bind "$WORK/motd" /etc/motd 2>/dev/null || { touch /etc/motd; mount --bind "$WORK/motd" /etc/motd; }
out=$(printf 'exit\n' | sf_ssh -tt -- 2>&1 | tr -d '\r')
case "$out" in *"Welcome to the envinit test motd"*) pass motd-shown ;; *) fail motd-shown "$out" ;; esac
out=$(sf_ssh -tt -- 'true' </dev/null 2>&1)
case "$out" in *"Welcome"*) fail motd-not-for-commands "$out" ;; *) pass motd-not-for-commands ;; esac
touch "$SF_HOME/.hushlogin"
out=$(printf 'exit\n' | sf_ssh -tt -- 2>&1 | tr -d '\r')
case "$out" in *"Welcome"*) fail motd-hushlogin "$out" ;; *) pass motd-hushlogin ;; esac
rm -f "$SF_HOME/.hushlogin"

# ---- restrictions from the key ----
for opt in no-port-forwarding restrict; do
  sf_keys "$opt $(sf_pub good)"
  l_refused "key-$opt-L-refused"
  forward_refused "key-$opt-R-refused" -R "$(t_freeport):127.0.0.1:$ECHO_PORT"
done
expect key-refusal-logged grep -q "direct-tcpip to 127.0.0.1:$ECHO_PORT refused: the key's options" "$SF_LOG"
for opt in no-agent-forwarding restrict; do
  sf_keys "$opt $(sf_pub good)"
  expect_eq "key-$opt-agent-refused" "" "$(sf_ssh -A -- 'echo $SSH_AUTH_SOCK' </dev/null 2>/dev/null)"
done
for opt in no-X11-forwarding restrict; do
  sf_keys "$opt $(sf_pub good)"
  out=$(DISPLAY=:50 sf_ssh -X -o LogLevel=info -- 'echo "D=$DISPLAY"' </dev/null 2>&1)
  case "$out" in *"D=") pass "key-$opt-X11-refused" ;; *) fail "key-$opt-X11-refused" "$out" ;; esac
done
expect key-X11-refusal-logged grep -q "X11 forwarding refused: the key's options" "$SF_LOG"
sf_keys "$(sf_pub good)"

# ---- restrictions from the switches ----
sf_stop
sf_start --no-sftp --no-port-forwarding --no-agent-forwarding --no-x11-forwarding --no-print-motd
out=$(echo 'ls' | sftp "${SFTP_OPTS[@]}" -P "$SF_PORT" -b - "$SF_USER@127.0.0.1" 2>&1)
expect_eq switch-no-sftp "1" "$([ $? -ne 0 ] && grep -q "subsystem 'sftp' refused (--no-sftp)" "$SF_LOG" && echo 1)"
l_refused switch-no-port-forwarding-L
forward_refused switch-no-port-forwarding-R -R "$(t_freeport):127.0.0.1:$ECHO_PORT"
expect_eq switch-no-agent-forwarding "" "$(sf_ssh -A -- 'echo $SSH_AUTH_SOCK' </dev/null 2>/dev/null)"
expect_eq switch-no-x11-forwarding "D=" "$(DISPLAY=:50 sf_ssh -X -- 'echo "D=$DISPLAY"' </dev/null 2>/dev/null)"
expect switch-no-x11-forwarding-logged grep -q "X11 forwarding refused: --no-x11-forwarding" "$SF_LOG"
out=$(printf 'exit\n' | sf_ssh -tt -- 2>&1 | tr -d '\r')
case "$out" in *"Welcome"*) fail switch-no-print-motd "$out" ;; *) pass switch-no-print-motd ;; esac

# ---- unix-socket forwarding: ssh -L and -R with socket paths ----
sf_stop
sf_start
AS_USER=(setpriv "--reuid=$SF_UID" "--regid=$SF_UID" --clear-groups --)
US=$SF_HOME/usock
mkdir -p "$US" && chown $SF_UID:$SF_UID "$US"
head -c $((1 << 20)) /dev/urandom >"$WORK/mib"
mib=$(sha256sum <"$WORK/mib" | cut -d' ' -f1)
# through_sock NAME SOCKET [AS_USER]: 1 MiB to an echo behind SOCKET and back
through_sock() {
  local n=$1 sock=$2; shift 2
  got=$("$@" timeout 20 socat -t 10 - UNIX-CONNECT:"$sock" <"$WORK/mib" 2>/dev/null | sha256sum | cut -d' ' -f1)
  expect_eq "$n" "$mib" "$got"
}
# the server side's target: an echo socket of the user's
"${AS_USER[@]}" socat UNIX-LISTEN:"$US/target.sock",fork EXEC:cat &
at_exit "kill $! 2>/dev/null"
wait_until 5 test -S "$US/target.sock"
bg_ssh "$WORK/ul.err" -L "$WORK/local.sock:$US/target.sock"
wait_until 10 test -S "$WORK/local.sock"
through_sock streamlocal-L-1MiB-checksum "$WORK/local.sock"
stop_bg $BG
# a relative path is the user's home's
bg_ssh "$WORK/ul2.err" -L "$WORK/local2.sock:usock/target.sock"
wait_until 10 test -S "$WORK/local2.sock"
through_sock streamlocal-L-relative-to-home "$WORK/local2.sock"
stop_bg $BG
bg_ssh "$WORK/ul3.err" -L "$WORK/local3.sock:$US/missing.sock"
wait_until 10 test -S "$WORK/local3.sock"
got=$(echo ping | timeout 10 socat - UNIX-CONNECT:"$WORK/local3.sock" 2>/dev/null)
[ -z "$got" ] && grep -q "direct-streamlocal to $US/missing.sock: No such file or directory; channel refused" "$SF_LOG" &&
  pass streamlocal-L-missing-refused || fail streamlocal-L-missing-refused "got '$got'"
stop_bg $BG

# -R: the server binds the socket as the user, 0600, and removes it at the end
socat UNIX-LISTEN:"$WORK/ctarget.sock",fork EXEC:cat &
at_exit "kill $! 2>/dev/null"
wait_until 5 test -S "$WORK/ctarget.sock"
bg_ssh "$WORK/ur.err" -R "$US/remote.sock:$WORK/ctarget.sock"
wait_until 10 test -S "$US/remote.sock"
expect_eq streamlocal-R-socket-0600-user "600 $SF_UID" "$(stat -c '%a %u' "$US/remote.sock" 2>/dev/null)"
through_sock streamlocal-R-1MiB-checksum "$US/remote.sock" "${AS_USER[@]}"
stop_bg $BG
wait_until 5 bash -c "! test -e '$US/remote.sock'" && pass streamlocal-R-removed-at-end ||
  fail streamlocal-R-removed-at-end "$(ls -l "$US")"
# an existing file is never replaced
echo keep >"$US/exists" && chown $SF_UID:$SF_UID "$US/exists"
forward_refused streamlocal-R-existing-file-refused -R "$US/exists:$WORK/ctarget.sock"
expect_eq streamlocal-R-existing-file-kept keep "$(cat "$US/exists")"
# a killed connection leaves its socket behind: the next -R of the path
# replaces it (StreamLocalBindUnlink yes); a live socket is never replaced
bg_ssh "$WORK/uk.err" -R "$US/gpg.sock:$WORK/ctarget.sock"
wait_until 10 test -S "$US/gpg.sock"
conn=$(pgrep -n -u $SF_UID -f -- '--connection')
[ -n "$conn" ] && kill -9 "$conn"
stop_bg $BG
if test -S "$US/gpg.sock"; then
  bg_ssh "$WORK/uk2.err" -o ExitOnForwardFailure=yes -R "$US/gpg.sock:$WORK/ctarget.sock"
  wait_until 10 grep -q "$US/gpg.sock: replaced a stale socket" "$SF_LOG"
  through_sock streamlocal-R-stale-socket-replaced "$US/gpg.sock" "${AS_USER[@]}"
  forward_refused streamlocal-R-live-socket-refused -R "$US/gpg.sock:$WORK/ctarget.sock"
  through_sock streamlocal-R-live-socket-kept "$US/gpg.sock" "${AS_USER[@]}"
  stop_bg $BG
else
  fail streamlocal-R-stale-socket-replaced "the killed connection left no socket to replace"
fi
# cancel through a control master removes the socket, the connection lives on
uctl=$WORK/uctl
ssh -F /dev/null -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=error \
  -o BatchMode=yes -o IdentitiesOnly=yes -i "$WORK/keys/good" -p "$SF_PORT" \
  -o ControlMaster=yes -o ControlPath="$uctl" -o ControlPersist=30 -N -f "$SF_USER@127.0.0.1" </dev/null
ssh -o ControlPath="$uctl" -O forward -R "$US/c.sock:$WORK/ctarget.sock" x 2>/dev/null
wait_until 5 test -S "$US/c.sock" && pass streamlocal-R-via-master || fail streamlocal-R-via-master "no socket"
ssh -o ControlPath="$uctl" -O cancel -R "$US/c.sock:$WORK/ctarget.sock" x 2>/dev/null
wait_until 5 bash -c "! test -e '$US/c.sock'" && pass streamlocal-R-cancel-removes ||
  fail streamlocal-R-cancel-removes "still there"
expect streamlocal-R-cancel-logged grep -q "remote forward of socket $US/c.sock cancelled" "$SF_LOG"
ssh -o ControlPath="$uctl" -O exit x 2>/dev/null

# refused by the key's no-port-forwarding and restrict (as OpenSSH), by
# --no-unix-forwarding, and not by --no-port-forwarding (TCP only)
ul_refused() { # NAME
  bg_ssh "$WORK/ulr.err" -L "$WORK/lr.sock:$US/target.sock"
  wait_until 10 test -S "$WORK/lr.sock"
  got=$(echo ping | timeout 10 socat - UNIX-CONNECT:"$WORK/lr.sock" 2>/dev/null)
  stop_bg $BG
  rm -f "$WORK/lr.sock"
  [ -z "$got" ] && pass "$1" || fail "$1" "data went through"
}
for opt in no-port-forwarding restrict; do
  sf_keys "$opt $(sf_pub good)"
  ul_refused "key-$opt-streamlocal-L-refused"
  forward_refused "key-$opt-streamlocal-R-refused" -R "$US/k.sock:$WORK/ctarget.sock"
done
expect key-streamlocal-refusal-logged grep -q "direct-streamlocal to $US/target.sock refused: the key's options" "$SF_LOG"
sf_keys "$(sf_pub good)"
sf_stop
sf_start --no-unix-forwarding
ul_refused switch-no-unix-forwarding-L
forward_refused switch-no-unix-forwarding-R -R "$US/s.sock:$WORK/ctarget.sock"
expect switch-no-unix-forwarding-logged grep -q "refused: --no-unix-forwarding" "$SF_LOG"
sf_stop
sf_start --no-stream-local-bind-unlink
"${AS_USER[@]}" /usr/bin/python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$US/stale.sock"
forward_refused switch-no-stream-local-bind-unlink -R "$US/stale.sock:$WORK/ctarget.sock"
rm -f "$US/stale.sock"
sf_stop
sf_start --no-port-forwarding
bg_ssh "$WORK/ul4.err" -L "$WORK/local4.sock:$US/target.sock"
wait_until 10 test -S "$WORK/local4.sock"
through_sock switch-no-port-forwarding-keeps-unix "$WORK/local4.sock"
stop_bg $BG
sf_stop
sf_start
expect_eq server-alive-after-refusals ok "$(sf_run 'echo ok')"

# ---- cancel-tcpip-forward through a control master (ssh -O cancel) ----
ctl=$WORK/ctl
ssh -F /dev/null -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=error \
  -o BatchMode=yes -o IdentitiesOnly=yes -i "$WORK/keys/good" -p "$SF_PORT" \
  -o ControlMaster=yes -o ControlPath="$ctl" -o ControlPersist=30 -N -f "$SF_USER@127.0.0.1" </dev/null
CPORT=$(t_freeport)
ssh -o ControlPath="$ctl" -O forward -R "$CPORT:127.0.0.1:$ECHO_PORT" x 2>/dev/null
wait_until 5 t_listening "$CPORT" && pass R-forward-via-master || fail R-forward-via-master "not t_listening"
ssh -o ControlPath="$ctl" -O cancel -R "$CPORT:127.0.0.1:$ECHO_PORT" x 2>/dev/null
wait_until 5 bash -c "! ss -Hltn 'sport = :$CPORT' | grep -q LISTEN" && pass R-cancel || fail R-cancel "still listening"
expect R-cancel-logged grep -q "remote forward \[127.0.0.1\]:$CPORT cancelled" "$SF_LOG"
ssh -o ControlPath="$ctl" -O exit x 2>/dev/null
