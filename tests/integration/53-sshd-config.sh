#!/bin/bash
# envinit-sshd -f: a file in sshd_config syntax takes effect (port, auth
# tries, forwarding, sftp-server flags, key exchange), -T prints what is in
# force, the command line wins over the file, and a keyword the server does
# not implement, or a Match block, stops the start naming it. Loopback in a
# private network namespace.
source "$(dirname "$0")/../lib.sh"
source "$SRC/tests/integration/50-sshd-lib.bash"
need_root
t_unshare --mount --net
require ssh ssh-keygen sftp ip
[ -x "$SF_BIN" ] || { fail build "$SF_BIN missing (make envinit-sshd)"; exit 1; }
sf_setup
ns_user "$SF_USER" $SF_UID "$SF_HOME"
common=(-l 127.0.0.1 -k "$WORK/hostkey" -u "$SF_USER" --passwd "$WORK/passwd" --group "$WORK/group")

cat >"$WORK/sshd_config" <<CFG
# as an operator writes it
Port $SF_PORT
MaxAuthTries 2
AllowTcpForwarding no
Subsystem sftp internal-sftp -R
KexAlgorithms -diffie-hellman-group18-sha512
Port 1
CFG

# -T: the effective settings, the first Port winning
"$SF_BIN" "${common[@]}" -f "$WORK/sshd_config" -T >"$WORK/T" 2>"$WORK/T.err"
expect_eq T-exit 0 "$?"
expect T-port grep -qx "port $SF_PORT" "$WORK/T"
expect T-tries grep -qx "maxauthtries 2" "$WORK/T"
expect T-tcpfwd grep -qx "allowtcpforwarding no" "$WORK/T"
expect T-sftp grep -qx "subsystem sftp internal-sftp -R" "$WORK/T"
if grep -q '^kexalgorithms .*diffie-hellman-group18-sha512' "$WORK/T"; then
  fail T-kex "$(grep ^kexalgorithms "$WORK/T")"
else
  pass T-kex
fi
# the command line wins over the file
expect_eq T-switch-wins "maxauthtries 5" \
  "$("$SF_BIN" "${common[@]}" -f "$WORK/sshd_config" --max-auth-tries 5 -T | grep ^maxauthtries)"

# ---- the file in force ----
SF_LOG=$WORK/sshd.log
"$SF_BIN" "${common[@]}" -f "$WORK/sshd_config" 2>"$SF_LOG" &
SF_PID=$!
at_exit "kill $SF_PID 2>/dev/null"
wait_until 5 grep -q 'listening on' "$SF_LOG"
expect_eq login-on-file-port ok "$(sf_run echo ok 2>&1)"
# -W opens a direct-tcpip channel, as -L does: refused
if sf_ssh -W "127.0.0.1:$SF_PORT" </dev/null >/dev/null 2>"$WORK/w.err"; then
  fail tcp-forward-refused "a -W forward went through"
else
  pass tcp-forward-refused
fi
# sftp-server's -R reached the SFTP child: get works, put is refused
echo hello >"$SF_HOME/f.txt" && chown $SF_UID "$SF_HOME/f.txt"
sftp_b() {
  sftp -F /dev/null -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes \
    -o IdentitiesOnly=yes -i "$WORK/keys/good" -P "$SF_PORT" -b - "$SF_USER@127.0.0.1" >"$WORK/sftp.out" 2>&1
}
echo "get f.txt $WORK/got.txt" | sftp_b
expect_eq sftp-get-works hello "$(cat "$WORK/got.txt" 2>&1)"
echo "put $WORK/got.txt up.txt" | sftp_b
expect_eq sftp-put-refused 1 "$?"
expect sftp-put-nothing-written test ! -e "$SF_HOME/up.txt"
# the key exchange removed by the file
if sf_ssh -o KexAlgorithms=diffie-hellman-group18-sha512 -- true </dev/null 2>/dev/null; then
  fail kex-removed "a login with diffie-hellman-group18-sha512 went through"
else
  pass kex-removed
fi
# MaxAuthTries 2: the third key offered is not tried
sf_keys "$(sf_pub other)"
ssh -F /dev/null -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes \
  -o IdentitiesOnly=yes -i "$WORK/keys/bad1" -i "$WORK/keys/bad2" -i "$WORK/keys/other" \
  -p "$SF_PORT" "$SF_USER@127.0.0.1" true </dev/null 2>/dev/null
expect_eq max-auth-tries-from-file 255 "$?"
sf_stop

# ---- refused at the start, the keyword named, exit 78 ----
printf 'Port %s\nUsePAM yes\n' "$SF_PORT" >"$WORK/bad1"
"$SF_BIN" "${common[@]}" -f "$WORK/bad1" -t 2>"$WORK/bad.log"
expect_eq unknown-keyword-78 78 "$?"
expect unknown-keyword-named grep -q "line 2: unsupported keyword 'UsePAM'" "$WORK/bad.log"
printf 'AllowTcpForwarding no\nMatch User root\n  AllowTcpForwarding yes\n' >"$WORK/bad2"
"$SF_BIN" "${common[@]}" -f "$WORK/bad2" 2>"$WORK/bad.log"
expect_eq match-78 78 "$?"
expect match-named grep -q "line 2: Match" "$WORK/bad.log"
printf 'X11Forwarding perhaps\n' >"$WORK/bad3"
"$SF_BIN" "${common[@]}" -f "$WORK/bad3" -t 2>"$WORK/bad.log"
expect_eq bad-yes-no-78 78 "$?"
expect bad-yes-no-named grep -q "X11Forwarding" "$WORK/bad.log"

# ---- Banner: shown once before authentication, from the file's text as read at start ----
printf 'Authorized use only.\nSecond line.\n' >"$WORK/banner"
printf 'Port %s\nBanner %s\n' "$SF_PORT" "$WORK/banner" >"$WORK/banner_config"
expect_eq T-banner "banner $WORK/banner" \
  "$("$SF_BIN" "${common[@]}" -f "$WORK/banner_config" -T | grep ^banner)"
expect_eq T-banner-default "banner none" "$("$SF_BIN" "${common[@]}" -T | grep ^banner)"
sf_keys "$(sf_pub good)"
sf_start -f "$WORK/banner_config"
echo 'changed after the start' >"$WORK/banner"
banner_login() { # KEY...: ssh at log level info, which shows banners; stderr to $WORK/b.err
  local ids=() k
  for k in "$@"; do ids+=(-i "$WORK/keys/$k"); done
  ssh -F /dev/null -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes \
    -o IdentitiesOnly=yes -o LogLevel=info "${ids[@]}" -p "$SF_PORT" "$SF_USER@127.0.0.1" echo ok \
    </dev/null 2>"$WORK/b.err"
}
expect_eq banner-login ok "$(banner_login good)"
expect_eq banner-shown-as-read 'Authorized use only.
Second line.' "$(grep -v '^Warning: Permanently' "$WORK/b.err")"
# a refused client sees it too, once, however many keys it tries
banner_login bad1 bad2 >/dev/null
expect_eq banner-once-before-auth 1 "$(grep -c 'Authorized use only' "$WORK/b.err")"
sf_stop
# root does not read a banner the environment user could choose
printf 'hello\n' >"$SF_HOME/banner" && chown $SF_UID "$SF_HOME/banner"
"$SF_BIN" "${common[@]}" --banner "$SF_HOME/banner" -t 2>"$WORK/bad.log"
expect_eq banner-users-file-78 78 "$?"
expect banner-users-file-named grep -q "banner $SF_HOME/banner: .*environment user" "$WORK/bad.log"
"$SF_BIN" "${common[@]}" --banner "$WORK/no-such-banner" -t 2>"$WORK/bad.log"
expect_eq banner-missing-78 78 "$?"
expect banner-missing-named grep -q "banner $WORK/no-such-banner: No such file" "$WORK/bad.log"
exit 0
