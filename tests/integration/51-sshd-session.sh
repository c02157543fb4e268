#!/bin/bash
# envinit-sshd sessions: exit codes and signals, stdout/stderr apart, bulk
# data both ways, pty size/TERM/resize, environment, login shell.
source "$(dirname "$0")/../lib.sh"
source "$SRC/tests/integration/50-sshd-lib.bash"
need_root
t_unshare --mount --net
require ssh ssh-keygen ip sha256sum /usr/bin/python3
[ -x "$SF_BIN" ] || { fail build "$SF_BIN missing (make envinit-sshd)"; exit 1; }
sf_setup
sf_start --accept-env 'MY_*' --keepalive 1

# ---- exit status and signals ----
sf_run 'exit 0'; expect_eq exit-0 0 $?
sf_run 'exit 3'; expect_eq exit-3 3 $?
sf_run 'exit 255'; expect_eq exit-255 255 $?
out=$(sf_ssh -v -- 'kill -TERM $$' </dev/null 2>&1); rc=$?
case "$out" in
  *"exit-signal"*) [ $rc -eq 255 ] && pass sigterm-exit-signal || fail sigterm-exit-signal "rc $rc" ;;
  *) fail sigterm-exit-signal "no exit-signal in: $(echo "$out" | tail -3)" ;;
esac
expect sigterm-logged wait_until 5 grep -qF 'exit=SIGTERM end=exited cmd=kill -TERM $$' "$SF_LOG"

# ---- one line per session when it ends ----
sf_run 'printf 12345; cat >/dev/null' <<<"" >/dev/null
printf 'abcdefgh' | sf_ssh -- 'cat >/dev/null; printf 12345; exit 4' >/dev/null
# the line is written when the client has confirmed the close, which may
# come after the client has exited
wait_until 5 grep -q "cmd=cat >/dev/null; printf 12345; exit 4\$" "$SF_LOG"
line=$(grep "cmd=cat >/dev/null; printf 12345; exit 4\$" "$SF_LOG")
case "$line" in
  *"session "[0-9]*.[0-9]*" ended: user=$SF_USER client=127.0.0.1:"[0-9]*" ran=exec in=8 out=5 duration="[0-9]*.[0-9]*"s exit=4 end=exited cmd="*)
    pass session-line-exec ;;
  *) fail session-line-exec "$line" ;;
esac
sf_ssh -tt -- </dev/null >/dev/null 2>&1 <<<'exit 0'
sf_run $'echo hi\n#envinit-sshd: error: forged' >/dev/null
expect session-line-command-escaped wait_until 5 grep -q 'end=exited cmd=echo hi\\x0a#envinit-sshd: error: forged$' "$SF_LOG"
ssh -F /dev/null -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes \
  -o IdentitiesOnly=yes -i "$WORK/keys/good" -p "$SF_PORT" "$SF_USER@127.0.0.1" 'sleep 30' </dev/null >/dev/null 2>&1 &
cl=$!
wait_until 5 pgrep -u $SF_UID -xf "sleep 30" >/dev/null
kill $cl; wait $cl 2>/dev/null
wait_until 5 grep -q "cmd=sleep 30$" "$SF_LOG"
line=$(grep "cmd=sleep 30$" "$SF_LOG")
case "$line" in *" ran=exec in=0 out=0 "*" exit=SIGHUP end=client-closed cmd=sleep 30") pass session-line-client-gone ;;
  *) fail session-line-client-gone "$line" ;; esac

# ---- keepalives after login (--keepalive 1) ----
out=$(sf_ssh -v -- 'sleep 2.3' </dev/null 2>&1)
case "$out" in *"rtype keepalive@openssh.com"*) pass keepalive-sent ;; *) fail keepalive-sent "none seen by ssh -v" ;; esac
# a client that stops answering (stopped, its TCP still up) is let go after
# ClientAliveCountMax (3) unanswered keepalives
ssh -F /dev/null -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes \
  -o IdentitiesOnly=yes -i "$WORK/keys/good" -p "$SF_PORT" "$SF_USER@127.0.0.1" 'sleep 31' </dev/null >/dev/null 2>&1 &
cl=$!
wait_until 5 pgrep -u $SF_UID -xf "sleep 31" >/dev/null
kill -STOP $cl
if wait_until 10 grep -q "cmd=sleep 31$" "$SF_LOG"; then
  expect keepalive-unanswered-logged grep -q "no answer to 3 keepalives; disconnecting" "$SF_LOG"
  case "$(grep "cmd=sleep 31$" "$SF_LOG")" in *" end=timeout cmd=sleep 31") pass keepalive-unanswered-ends ;;
    *) fail keepalive-unanswered-ends "$(grep "cmd=sleep 31$" "$SF_LOG")" ;; esac
else
  fail keepalive-unanswered-ends "the session still runs 10 s after the client stopped"
fi
kill -CONT $cl; kill $cl 2>/dev/null; wait $cl 2>/dev/null

# ---- stdout and stderr apart, tail bytes kept ----
sf_run 'echo out; echo err >&2; printf tail' >"$WORK/o" 2>"$WORK/e"
expect_eq stdout-apart "out
tail" "$(cat "$WORK/o")"
expect_eq stderr-apart err "$(cat "$WORK/e")"
# output written by a program right before it exits is never lost
n=$(sf_run 'head -c 3000000 /dev/zero; exit 7' | wc -c)
expect_eq tail-bytes-before-exit 3000000 "$n"

# ---- 100 MiB through stdin and back ----
head -c $((100 << 20)) /dev/urandom >"$WORK/blob"
want=$(sha256sum <"$WORK/blob" | cut -d' ' -f1)
got=$(sf_ssh -- 'sha256sum' <"$WORK/blob" | cut -d' ' -f1)
expect_eq stdin-100MiB-checksum "$want" "$got"
got=$(sf_ssh -- 'cat' <"$WORK/blob" | sha256sum | cut -d' ' -f1)
expect_eq roundtrip-100MiB-checksum "$want" "$got"
got=$(sf_ssh -- "cat $WORK/blob" </dev/null | sha256sum | cut -d' ' -f1)
expect_eq stdout-100MiB-checksum "$want" "$got"
# re-keys in the middle of the data (OpenSSH re-keys chacha20 every ~1 GiB)
got=$(sf_ssh -o RekeyLimit=8M -- 'cat' <"$WORK/blob" | sha256sum | cut -d' ' -f1)
expect_eq rekey-roundtrip-100MiB-checksum "$want" "$got"
rm -f "$WORK/blob"
# stdin EOF reaches the program
expect_eq stdin-eof "3" "$(printf 'a\nb\nc\n' | sf_ssh -- 'wc -l')"

# ---- environment ----
printf 'FROM_ENV_FILE=hello world\n# comment\nPATH=/custom/bin:/usr/bin:/bin\n' >"$SF_HOME/.ssh/environment"
chown $SF_UID:$SF_UID "$SF_HOME/.ssh/environment"
env_out=$(LANG=xx_YY.UTF-8 LC_FOO=bar MY_VAR=1 NOT_MINE=2 \
  sf_ssh -o SendEnv=LANG -o SendEnv=LC_FOO -o SendEnv=MY_VAR -o SendEnv=NOT_MINE -- env </dev/null)
get() { echo "$env_out" | sed -n "s/^$1=//p"; }
expect_eq env-LANG-sendenv xx_YY.UTF-8 "$(get LANG)"
expect_eq env-LC-sendenv bar "$(get LC_FOO)"
expect_eq env-accept-env-flag 1 "$(get MY_VAR)"
expect_eq env-not-accepted "" "$(get NOT_MINE)"
expect_eq env-file-var "hello world" "$(get FROM_ENV_FILE)"
expect_eq env-file-path /custom/bin:/usr/bin:/bin "$(get PATH)"
expect_eq env-USER $SF_USER "$(get USER)"
expect_eq env-LOGNAME $SF_USER "$(get LOGNAME)"
expect_eq env-HOME "$SF_HOME" "$(get HOME)"
expect_eq env-SHELL /bin/bash "$(get SHELL)"
case "$(get SSH_CONNECTION)" in "127.0.0.1 "*" 127.0.0.1 $SF_PORT") pass env-SSH_CONNECTION ;; *) fail env-SSH_CONNECTION "$(get SSH_CONNECTION)" ;; esac
case "$(get SSH_CLIENT)" in "127.0.0.1 "*" $SF_PORT") pass env-SSH_CLIENT ;; *) fail env-SSH_CLIENT "$(get SSH_CLIENT)" ;; esac
expect_eq env-no-SSH_TTY-without-pty "" "$(get SSH_TTY)"
rm "$SF_HOME/.ssh/environment"
expect_eq env-default-PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" "$(sf_run 'echo $PATH')"

# ---- pty: size, TERM, SSH_TTY, resize (ssh runs on a pty we control) ----
remote='echo TERM=$TERM; echo TTY=$SSH_TTY; echo SIZE=$(stty size); trap "echo NEWSIZE=\$(stty size); exit 0" WINCH; echo READY; while :; do sleep 0.05; done'
PTYRUN=(/usr/bin/python3 "$SRC/tests/helpers/ptyrun.py")
PTY_SSH=(ssh -F /dev/null -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=error
  -o IdentitiesOnly=yes -i "$WORK/keys/good" -p "$SF_PORT" -tt "$SF_USER@127.0.0.1")
out=$("${PTYRUN[@]}" --size 33 111 --on READY resize:44:122 -- "${PTY_SSH[@]}" "$remote")
expect_eq pty-TERM xterm-test "$(echo "$out" | sed -n 's/^TERM=//p')"
expect_eq pty-size "33 111" "$(echo "$out" | sed -n 's/^SIZE=//p')"
expect_eq pty-resize "44 122" "$(echo "$out" | sed -n 's/^NEWSIZE=//p')"
case "$(echo "$out" | sed -n 's/^TTY=//p')" in /dev/pts/*) pass pty-SSH_TTY ;; *) fail pty-SSH_TTY "$out" ;; esac
# terminal modes: the client's erase, intr, iutf8 and -ixon reach the pty.
# ~B (break) reads in as a NUL byte, or interrupts the foreground program
# once it set brkint, as on a serial line (RFC 4254's modes have no brkint).
remote='stty -a; stty -icanon -echo; echo READY1; echo "IN=$(dd bs=1 count=1 2>/dev/null | od -An -tx1)"
stty brkint icanon; trap "echo GOT-INT; exit 0" INT; echo READY2; while :; do sleep 0.05; done'
# ssh's escape ~B asks for a break; it must follow a newline or the start
out=$("${PTYRUN[@]}" --modes --on READY1 'send:~B' --on READY2 'send:\r~B' -- "${PTY_SSH[@]}" "$remote")
case "$out" in *"intr = ^B;"*"erase = ^X;"*) pass pty-modes-control-chars ;; *) fail pty-modes-control-chars "$out" ;; esac
case "$out" in *" -ixon "*" iutf8"*) pass pty-modes-flags ;; *) fail pty-modes-flags "$out" ;; esac
case "$out" in *"IN= 00"*) pass pty-break-reads-nul ;; *) fail pty-break-reads-nul "$out" ;; esac
case "$out" in *GOT-INT*) pass pty-break-brkint-interrupts ;; *) fail pty-break-brkint-interrupts "$out" ;; esac
out=$(sf_ssh -tt -- 'tty; test -t 0 && echo stdin-tty' </dev/null | tr -d '\r')
case "$out" in /dev/pts/*stdin-tty) pass ssh-tt-tty ;; *) fail ssh-tt-tty "$out" ;; esac
expect_eq pty-exit-status 5 "$(sf_ssh -tt -- 'exit 5' </dev/null >/dev/null 2>&1; echo $?)"

# ---- login shell in home ----
out=$(printf 'echo ARGV0=$0; pwd; shopt -q login_shell && echo LOGIN\nexit 0\n' | sf_ssh -T -- 2>/dev/null)
expect_eq shell-argv0 -bash "$(echo "$out" | sed -n 's/^ARGV0=//p')"
expect_eq shell-cwd-home "$SF_HOME" "$(echo "$out" | sed -n 2p)"
expect_eq shell-is-login LOGIN "$(echo "$out" | sed -n 3p)"
expect_eq exec-cwd-home "$SF_HOME" "$(sf_run pwd)"

# ---- max sessions per connection (10) via connection sharing ----
ctl=$WORK/ctl
sf_ssh -o ControlMaster=yes -o ControlPath="$ctl" -o ControlPersist=30 -N -f -- </dev/null
pids=()
for i in $(seq 11); do
  sf_ssh -o ControlPath="$ctl" -- 'sleep 2; echo ok' </dev/null >"$WORK/ms.$i" 2>&1 &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
# the 11th session is refused on the shared connection (ssh then falls back
# to a connection of its own, so all 11 commands still run)
expect max-sessions-10 grep -q "session refused: already 10 sessions" "$SF_LOG"
expect_eq max-sessions-all-ran 11 "$(cat "$WORK"/ms.* | grep -c '^ok$')"
sf_ssh -o ControlPath="$ctl" -O exit -- 2>/dev/null

# ---- a user without a usable shell gets a clear message ----
sed -i "s#:/bin/bash\$#:/nonexistent/shell#" "$WORK/passwd"
err=$(sf_run 'true' 2>&1 >/dev/null); rc=$?
case "$err" in *"cannot run the user's shell /nonexistent/shell"*) [ $rc -eq 127 ] && pass missing-shell-message || fail missing-shell-message "rc $rc" ;;
  *) fail missing-shell-message "rc $rc: $err" ;; esac
sed -i "s#:/nonexistent/shell\$#:/bin/bash#" "$WORK/passwd"
