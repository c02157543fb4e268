#!/bin/bash
# envinit-sshd refuses what it must, says so in its log, and lives on:
#  - a table of every channel type, global request and session request under
#    each authorized_keys option and each --no-* switch: one case per cell,
#    a refusal counts only with its log line (and its reason), and what the
#    cell allows must work (so a server refusing everything fails);
#  - from= over 127.0.0.1, ::1 and ::ffff:127.0.0.1;
#  - requests before authentication (CVE-2018-10933's class);
#  - strict key exchange (Terrapin, CVE-2023-48795);
#  - clients whose first line is no identification, and broken packets;
#  - abuse on one connection: data past the window, 1,000 channel opens,
#    10,000 env requests, oversized packets, rekeying through 1 GiB.
# paramiko (tests/helpers/sf_negative.py) or plain sockets send what
# OpenSSH's client will not; everything stays on loopback of a private
# network namespace.
source "$(dirname "$0")/../lib.sh"
source "$SRC/tests/integration/50-sshd-lib.bash"
need_root
t_unshare --mount --net
require ssh ssh-keygen ip socat sha256sum /usr/bin/python3
ip -6 addr show dev lo | grep -q '::1' || { fail ipv6 "no ::1 on loopback"; exit 1; }
[ -x "$SF_BIN" ] || { fail build "$SF_BIN missing (make envinit-sshd)"; exit 1; }
/usr/bin/python3 -c 'import paramiko' 2>/dev/null ||
  { fail requires-paramiko "python3-paramiko not installed (run .ci/deps test)"; exit 1; }
NEG=(/usr/bin/python3 "$SRC/tests/helpers/sf_negative.py")
SF_PORT=2422
ECHO_PORT=2423
sf_setup
export SF_UID
mkdir -m 755 "$WORK/sock"
socat TCP-LISTEN:$ECHO_PORT,bind=127.0.0.1,fork,reuseaddr EXEC:cat 2>/dev/null &
at_exit "kill $!"
socat UNIX-LISTEN:"$WORK/sock/echo",fork,mode=666 EXEC:cat 2>/dev/null &
at_exit "kill $!"
wait_until 5 test -S "$WORK/sock/echo"
FWD_SOCK=$SF_HOME/fwd.sock

# start [FLAGS...]: the server on every address ("::": IPv6 and IPv4)
start() { sf_start -l :: "$@" || { fail start "envinit-sshd did not listen: $(tail -n 3 "$SF_LOG")"; exit 1; }; }
# The peak memory a connection may gain from 1,000 channel opens. Sanitized,
# freed memory would wait in ASan's quarantine instead of being reused,
# and ASan's allocator adds its own, as in 56-sshd-limits.sh.
OPENS_GROWTH_KB=4096
if [ -n "$SANITIZED" ]; then
  export ASAN_OPTIONS="${ASAN_OPTIONS:-}:quarantine_size_mb=0"
  OPENS_GROWTH_KB=12288
fi
restart() { sf_stop; start "$@"; }
# logged PORT PATTERN: a line of the connection from client port PORT
logged() { grep -E "port $1: .*$2" "$SF_LOG" >/dev/null; }
# survives NAME: the listener is alive and a new login runs a command
survives() {
  if kill -0 "$SF_PID" 2>/dev/null && [ "$(sf_run echo up 2>&1)" = up ]; then pass "$1"
  else fail "$1" "the server did not survive: $(tail -n 3 "$SF_LOG")"; fi
}

start
CUR_SWITCH=

# ---- the matrix ----
PROBES="open-session open-direct-tcpip open-direct-streamlocal open-x11 open-auth-agent
  tcpip-forward cancel-tcpip-forward streamlocal-forward cancel-streamlocal-forward
  pty-req x11-req auth-agent-req exec shell sftp"
# The log line of each refusal (after "PEER port N: ").
declare -A REFUSAL=(
  [open-session]='session refused'
  [open-direct-tcpip]='direct-tcpip to 127\.0\.0\.1:[0-9]+ refused'
  [open-direct-streamlocal]='direct-streamlocal to .*/echo refused'
  [open-x11]='channel open of type x11 from a client; refused'
  [open-auth-agent]='channel open of type auth-agent@openssh\.com from a client; refused'
  [tcpip-forward]='remote forward of port 0 refused'
  [cancel-tcpip-forward]='cancel of remote forward \[127\.0\.0\.1\]:0 refused'
  [streamlocal-forward]='remote forward of socket .*/fwd\.sock refused'
  [cancel-streamlocal-forward]='cancel of remote forward of socket .*/fwd\.sock refused'
  [pty-req]='pty refused'
  [x11-req]='X11 forwarding refused'
  [auth-agent-req]='agent forwarding refused'
  [exec]='exec refused' [shell]='shell refused'
  [sftp]="subsystem 'sftp' refused"
)
FWD_ALL="open-direct-tcpip open-direct-streamlocal tcpip-forward cancel-tcpip-forward"
FWD_ALL+=" streamlocal-forward cancel-streamlocal-forward"
FORCED='exec=ran:forced:echo_exec-ran shell=ran:forced: sftp=ran:forced:internal-sftp'
# NAME|KEY OPTIONS|SWITCH|REFUSED PROBES|OTHER RESULTS (probe=result)
# The channel types a client never opens (x11, auth-agent) are refused in
# every row; every probe not named is allowed and must work.
# shellcheck disable=SC2016 # $SSH_ORIGINAL_COMMAND is the forced command's
MATRIX=(
  "plain|||"
  "restrict|restrict||$FWD_ALL pty-req x11-req auth-agent-req"
  "no-port-forwarding|no-port-forwarding||$FWD_ALL"
  "no-pty|no-pty||pty-req"
  "no-agent-forwarding|no-agent-forwarding||auth-agent-req"
  "no-X11-forwarding|no-X11-forwarding||x11-req"
  'command|command="echo forced:$SSH_ORIGINAL_COMMAND"|||'"$FORCED"
  'restrict-command|restrict,command="echo forced:$SSH_ORIGINAL_COMMAND"||'"$FWD_ALL pty-req x11-req auth-agent-req|$FORCED"
  "sw-no-sftp||--no-sftp|sftp"
  "sw-no-port-forwarding||--no-port-forwarding|open-direct-tcpip tcpip-forward cancel-tcpip-forward"
  "sw-no-unix-forwarding||--no-unix-forwarding|open-direct-streamlocal streamlocal-forward cancel-streamlocal-forward"
  "sw-no-agent-forwarding||--no-agent-forwarding|auth-agent-req"
  "sw-no-x11-forwarding||--no-x11-forwarding|x11-req"
)

# the reason a refusal's log line must give in this row
reason_of() { # OPTS SWITCH PROBE
  case "$3" in open-x11 | open-auth-agent) echo ''; return ;; esac
  case "$3" in cancel-*) echo 'no such forward'; return ;; esac
  if [ -n "$2" ]; then echo "\\$2"; else echo "the key's options"; fi
}

run_row() { # NAME|OPTS|SWITCH|REFUSED|OTHER
  local name opts switch refused other out lport p want got why
  IFS='|' read -r name opts switch refused other <<<"$1"
  if [ "$switch" != "${CUR_SWITCH-x}" ]; then
    # shellcheck disable=SC2086 # one switch or none
    restart $switch
    CUR_SWITCH=$switch
  fi
  sf_keys "${opts:+$opts }$(sf_pub good)"
  out=$(timeout 60 "${NEG[@]}" matrix $SF_PORT $SF_USER "$WORK/keys/good" $ECHO_PORT \
    "$WORK/sock/echo" "$FWD_SOCK" 2>&1)
  lport=$(echo "$out" | awk '/^lport/ {print $2}')
  for p in $PROBES; do
    want=allowed
    case " $refused open-x11 open-auth-agent " in *" $p "*) want=refused ;; esac
    for o in $other; do [ "${o%%=*}" = "$p" ] && want=${o#*=}; done
    got=$(echo "$out" | awk -v p="$p" '$1 == p {print $2}')
    if [ "$got" != "$want" ]; then
      fail "matrix/$name/$p" "want $want, got '${got:-nothing}' ($(echo "$out" | tail -n 2 | tr '\n' ' '))"
    elif [ "$want" = refused ]; then
      why=$(reason_of "$opts" "$switch" "$p")
      if [ -n "$lport" ] && logged "$lport" "${REFUSAL[$p]}.*$why"; then pass "matrix/$name/$p"
      else fail "matrix/$name/$p" "refused but not logged as '${REFUSAL[$p]}.*$why' (port $lport)"; fi
    else
      pass "matrix/$name/$p"
    fi
  done
}

for row in "${MATRIX[@]}"; do
  case "$row" in *'|--'*) continue ;; esac
  run_row "$row"
done
for row in "${MATRIX[@]}"; do
  case "$row" in *'|--'*) run_row "$row" ;; esac
done
restart
CUR_SWITCH=

# a key option envinit-sshd does not know refuses the key (fail closed)
sf_keys "restrict,port-forwarding $(sf_pub good)"
out=$("${NEG[@]}" auth 127.0.0.1 $SF_PORT $SF_USER "$WORK/keys/good" 2>&1)
lport=$(echo "$out" | awk '/^lport/ {print $2}')
if [ "$(echo "$out" | head -n 1)" = "auth refused" ] && logged "$lport" 'key refused by its options'; then
  pass matrix/unknown-option-refuses-key
else
  fail matrix/unknown-option-refuses-key "$out"
fi

# ---- from= over IPv4, IPv6 and v4-mapped peers: refused before any session ----
# PATTERN ADDRESS WANT
FROM_CASES=(
  "127.0.0.1 127.0.0.1 allowed" "127.0.0.1 ::1 refused" "127.0.0.1 ::ffff:127.0.0.1 allowed"
  "::1 ::1 allowed" "::1 127.0.0.1 refused" "::1 ::ffff:127.0.0.1 refused"
  "127.0.0.0/8 ::ffff:127.0.0.1 allowed" "127.0.0.0/8 ::1 refused"
  "::1/128 ::1 allowed" "::1/128 127.0.0.1 refused"
  "!127.0.0.1,* 127.0.0.1 refused" "!127.0.0.1,* ::ffff:127.0.0.1 refused" "!127.0.0.1,* ::1 allowed"
)
for c in "${FROM_CASES[@]}"; do
  read -r pat addr want <<<"$c"
  sf_keys "from=\"$pat\" $(sf_pub good)"
  out=$("${NEG[@]}" auth "$addr" $SF_PORT $SF_USER "$WORK/keys/good" 2>&1)
  got=$(echo "$out" | awk '/^auth/ {print $2}')
  lport=$(echo "$out" | awk '/^lport/ {print $2}')
  seen=${addr#::ffff:}
  n="from/$pat/$addr"
  if [ "$got" != "$want" ]; then
    fail "$n" "want $want, got '$out'"
  elif [ "$want" = refused ] && ! logged "$lport" "key refused by its options" ||
       { [ "$want" = refused ] && ! grep -qF "from=\"$pat\" does not allow $seen" "$SF_LOG"; }; then
    fail "$n" "refused but not logged (port $lport, as $seen)"
  else
    pass "$n"
  fi
done
sf_keys "$(sf_pub good)"

# ---- before authentication ----
for c in userauth-success channel-open global-request channel-request; do
  out=$(timeout 30 "${NEG[@]}" preauth $SF_PORT $SF_USER "$c" "$WORK/pwned-$c" 2>&1)
  lport=$(echo "$out" | awk '/^lport/ {print $2}')
  end=$(echo "$out" | tail -n 1)
  if [ -e "$WORK/pwned-$c" ] || [ "$end" = HANDLED ]; then
    fail "preauth/$c" "handled before authentication: $out"
  # (the request can arrive with the client's NEWKEYS, before the server
  # has finished the key exchange: then that is what failed)
  elif [ "$end" = closed ] &&
       logged "$lport" '(connection closed|key exchange failed): .*(rejected|unexpected|denied)'; then
    pass "preauth/$c"
  elif [ "$end" = unauthenticated ]; then
    pass "preauth/$c"
  else
    fail "preauth/$c" "$out / $(grep "port $lport:" "$SF_LOG" | tail -n 2)"
  fi
done
expect_eq preauth/no-session-started 0 "$(grep -c 'session .* ended' "$SF_LOG")"
survives preauth/server-survives

# ---- strict key exchange ----
out=$("${NEG[@]}" kex $SF_PORT strict-offered 2>&1)
case ",$out," in *,kex-strict-s-v00@openssh.com,*) pass kex/strict-advertised ;;
  *) fail kex/strict-advertised "server kex list: $out" ;; esac
for c in strict-ignore strict-debug; do
  n=$(grep -c 'Unexpected packet' "$SF_LOG")
  expect_eq "kex/$c-ends-connection" closed "$("${NEG[@]}" kex $SF_PORT $c 2>&1)"
  wait_until 5 sh -c "[ \$(grep -c 'Unexpected packet .* in strict key exchange' '$SF_LOG') -gt $n ]" &&
    pass "kex/$c-logged" || fail "kex/$c-logged" "no 'Unexpected packet' line"
done
# the counterpart: without strict kex an SSH_MSG_IGNORE is fine
expect_eq kex/loose-ignore-answered answered "$("${NEG[@]}" kex $SF_PORT loose-ignore 2>&1)"
# OpenSSH's client agrees to strict kex and logs in: the sequence numbers
# were reset on both sides after NEWKEYS, else the first MAC would fail
out=$(sf_ssh -vvv -- echo strict-ok </dev/null 2>"$WORK/strict.err")
if [ "$out" = strict-ok ] && grep -q 'will use strict KEX ordering' "$WORK/strict.err" &&
   grep -q 'resetting send seqnr' "$WORK/strict.err" && grep -q 'resetting read seqnr' "$WORK/strict.err"; then
  pass kex/strict-login-works
else
  fail kex/strict-login-works "out '$out'; $(grep -i 'strict\|seqnr\|error\|closed' "$WORK/strict.err" | tail -n 5 | tr '\n' ' ')"
fi

# ---- a first line that is no identification: our banner first, then close ----
for c in blank hello binary; do
  before=$(grep -c 'No version of SSH protocol usable' "$SF_LOG")
  expect_eq "first-line/$c-gets-banner" "banner 100 of 100" "$("${NEG[@]}" first-line $SF_PORT $c 100 2>&1)"
  wait_until 5 sh -c "[ \$(grep -c 'No version of SSH protocol usable' '$SF_LOG') -ge $((before + 100)) ]" &&
    pass "first-line/$c-logged" || fail "first-line/$c-logged" "fewer than 100 log lines"
done
for c in zero tiny huge; do
  before=$(grep -c 'key exchange failed' "$SF_LOG")
  expect_eq "packet/$c-length-closes" closed "$("${NEG[@]}" junk $SF_PORT $c 2>&1)"
  wait_until 5 sh -c "[ \$(grep -c 'key exchange failed' '$SF_LOG') -gt $before ]" &&
    pass "packet/$c-length-logged" || fail "packet/$c-length-logged" "no 'key exchange failed' line"
done
survives packet/server-survives

# ---- abuse on one connection: data past the window ----
out=$(timeout 60 "${NEG[@]}" window $SF_PORT $SF_USER "$WORK/keys/good" 2>&1)
lport=$(echo "$out" | awk '/^lport/ {print $2}')
expect_eq abuse/window-violation-closes closed "$(echo "$out" | tail -n 1)"
wait_until 5 logged "$lport" 'connection closed: Window exceeded' &&
  pass abuse/window-violation-logged || fail abuse/window-violation-logged "$(grep "port $lport:" "$SF_LOG" | tail -n 2)"
survives abuse/window-server-survives

# ---- abuse: packets over the size limits ----
out=$(timeout 60 "${NEG[@]}" packet $SF_PORT $SF_USER "$WORK/keys/good" 40000 2>&1)
expect_eq abuse/packet-40000-accepted open "$(echo "$out" | tail -n 1)"
out=$(timeout 60 "${NEG[@]}" packet $SF_PORT $SF_USER "$WORK/keys/good" 300000 2>&1)
lport=$(echo "$out" | awk '/^lport/ {print $2}')
expect_eq abuse/packet-300000-closes closed "$(echo "$out" | tail -n 1)"
wait_until 5 logged "$lport" 'connection closed: .*Packet len too high' &&
  pass abuse/packet-300000-logged || fail abuse/packet-300000-logged "$(grep "port $lport:" "$SF_LOG" | tail -n 2)"
survives abuse/packet-server-survives

# ---- abuse: 1,000 channel opens on one connection ----
out=$(timeout 120 "${NEG[@]}" opens $SF_PORT $SF_USER "$WORK/keys/good" "$SF_PID" 1000 2>&1)
echo "$out" | sed 's/^/# /'
lport=$(echo "$out" | awk '/^lport/ {print $2}')
expect_eq abuse/opens-capped-at-max-sessions "granted 10 refused 990" "$(echo "$out" | grep '^granted')"
before=$(echo "$out" | awk '/^hwm-before/ {print $2}')
after=$(echo "$out" | awk '/^hwm-after/ {print $2}')
if [ -n "$before" ] && [ -n "$after" ] && [ $((after - before)) -lt "$OPENS_GROWTH_KB" ]; then
  pass abuse/opens-memory-bounded
else
  fail abuse/opens-memory-bounded "peak RSS ${before:-?} KB before, ${after:-?} KB after"
fi
expect_eq abuse/opens-connection-usable "exec ok" "$(echo "$out" | tail -n 1)"
wait_until 5 logged "$lport" '974 more refusals not logged'
expect_eq abuse/opens-log-bounded 16 "$(grep -c "port $lport: session refused" "$SF_LOG")"
expect abuse/opens-suppressed-counted logged "$lport" '974 more refusals not logged'
survives abuse/opens-server-survives

# ---- abuse: 10,000 env requests on one session ----
out=$(timeout 120 "${NEG[@]}" envs $SF_PORT $SF_USER "$WORK/keys/good" 10000 2>&1)
lport=$(echo "$out" | awk '/^lport/ {print $2}')
expect_eq abuse/env-10000-capped 64 "$(echo "$out" | tail -n 1)"
expect_eq abuse/env-10000-logged-once 1 "$(grep -c "port $lport: client variables refused" "$SF_LOG")"
survives abuse/env-server-survives

# ---- rekeying: 1 GiB each way with a rekey every 4 MiB, checked by sha256 at both ends
gib=$((1024 * 1024 * 1024))
sum_up=$WORK/up.sha
up=$(head -c $gib /dev/urandom | tee >(sha256sum | cut -d' ' -f1 >"$sum_up") |
  sf_ssh -v -o RekeyLimit=4M -- 'sha256sum | cut -d" " -f1' 2>"$WORK/up.err")
wait_until 10 test -s "$sum_up"
expect_eq rekey/upload-1gib-sha256 "$(cat "$sum_up")" "$up"
kex=$(grep -c 'SSH2_MSG_KEXINIT sent' "$WORK/up.err")
[ "$kex" -ge 200 ] && pass rekey/upload-rekeyed || fail rekey/upload-rekeyed "$kex key exchanges"
down=$(sf_ssh -v -o RekeyLimit=4M -- "head -c $gib /dev/urandom | tee >(sha256sum | cut -d' ' -f1 >&2)" \
  </dev/null 2>"$WORK/down.err" | sha256sum | cut -d' ' -f1)
expect_eq rekey/download-1gib-sha256 "$(grep -E '^[0-9a-f]{64}$' "$WORK/down.err")" "$down"
kex=$(grep -c 'SSH2_MSG_KEXINIT sent' "$WORK/down.err")
[ "$kex" -ge 200 ] && pass rekey/download-rekeyed || fail rekey/download-rekeyed "$kex key exchanges"
survives rekey/server-survives
