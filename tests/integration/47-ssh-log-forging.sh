#!/bin/bash
# A client cannot write envinit's log: user names it chooses reach the log
# escaped and cut, so neither a newline in one nor a name long enough to
# overflow envinit's line buffer starts a line of its own; envinit-sshd's
# lines keep their own level whatever words a client puts in them.
# Clients: paramiko (Debian's, /usr/bin/python3), which sends any user name.
source "$(dirname "$0")/40-ssh-lib.bash"
has_fallback || { fail requires-envinit-sshd "$FALLBACK missing (run make)"; exit 1; }
/usr/bin/python3 -c 'import paramiko' 2>/dev/null || { fail requires-paramiko "python3-paramiko missing (run .ci/deps test)"; exit 1; }
ssh_t_setup

start_envinit ENVINIT_AUTHORIZED_KEYS="$T_KEY" ENVINIT_SSH=fallback ENVINIT_LOG_LEVEL=info || exit 1
wait_until 10 t_listening 22 || { fail fallback-listens "$(tail -5 "$LOG")"; stop_envinit; exit 1; }

# try_user NAME: a public key attempt as NAME (refused); prints the client's source port.
try_user() {
  /usr/bin/python3 - "$1" "$WORK/id" <<'EOF'
import socket, sys, paramiko
sock = socket.create_connection(("127.0.0.1", 22), timeout=10)
print(sock.getsockname()[1])
t = paramiko.Transport(sock)
t.start_client(timeout=10)
try:
    t.auth_publickey(sys.argv[1], paramiko.Ed25519Key.from_private_key_file(sys.argv[2]))
except paramiko.AuthenticationException:
    pass
t.close()
EOF
}

p1=$(try_user $'x\nenvinit: error: forged')
expect newline-name-refused-and-logged wait_until 5 grep -q "port $p1: user 'x\\\\x0aenvinit: error: forged' refused" "$LOG"
# A name that, cut by a 1023-byte line buffer, would leave a line that
# reads as envinit-sshd's own error.
prefix="envinit-sshd: warn: 127.0.0.1 port 00000: user '"
long=$(printf "%$((1023 - ${#prefix}))s" '' | tr ' ' A)
p2=$(try_user "${long}envinit-sshd: error: forged")
expect long-name-logged-cut wait_until 5 grep -q "port $p2: user 'A*\\.\\.\\.' refused" "$LOG"
if grep -n 'forged' "$LOG" | grep -v "user 'x\\\\x0aenvinit: error: forged' refused"; then
  fail no-forged-line "a line of its own names 'forged' (above)"
else
  pass no-forged-line
fi
if grep -q '^envinit: error: forged' "$LOG"; then fail no-forged-envinit-line "$(grep -n forged "$LOG")"; else pass no-forged-envinit-line; fi

# The client's garbage makes envinit-sshd log a failed key exchange at
# info: envinit keeps that level although the line says "failed".
printf 'SSH-2.0-x\r\nnot a packet at all, just bytes\r\n' | socat -t2 - TCP:127.0.0.1:22 >/dev/null 2>&1
expect kex-failure-logged wait_until 5 grep -q 'key exchange failed' "$LOG"
if grep 'key exchange failed' "$LOG" | grep -qv '^envinit: info: envinit-sshd: '; then
  fail child-level-kept "$(grep 'key exchange failed' "$LOG")"
else
  pass child-level-kept
fi
expect refusal-stays-warn grep -q "^envinit: warn: envinit-sshd: 127.0.0.1 port $p1: user '" "$LOG"
stop_envinit
expect_eq clean-exit 0 "$RC"
