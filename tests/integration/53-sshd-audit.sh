#!/bin/bash
# envinit-sshd's algorithms judged by Debian's ssh-audit, next to Debian's
# OpenSSH sshd with its defaults (all three default host key types), both
# on loopback in a private network namespace.
source "$(dirname "$0")/../lib.sh"
source "$SRC/tests/integration/50-sshd-lib.bash"
need_root
t_unshare --mount --net
require ssh-audit ssh-keygen ip /usr/sbin/sshd curl
[ -x "$SF_BIN" ] || { fail build "$SF_BIN missing (make envinit-sshd)"; exit 1; }
sf_setup
# The user in this namespace's /etc/passwd too: the image's scp asks NSS.
ns_user "$SF_USER" $SF_UID "$SF_HOME"
sf_start

mkdir -p "$WORK/ohk" /run/sshd
{
  echo "Port 2223"
  echo "ListenAddress 127.0.0.1"
  echo "PidFile none"
  for t in rsa ecdsa ed25519; do
    ssh-keygen -q -t $t -N '' -f "$WORK/ohk/$t"
    echo "HostKey $WORK/ohk/$t"
  done
} >"$WORK/sshd_config"
/usr/sbin/sshd -f "$WORK/sshd_config" -D -e 2>"$WORK/openssh.log" &
opid=$!
at_exit "kill $opid 2>/dev/null"
wait_until 5 sh -c "ssh-keyscan -p 2223 127.0.0.1 >/dev/null 2>&1"

ssh-audit -n -p "$SF_PORT" 127.0.0.1 >"$WORK/ours.txt" 2>&1
ssh-audit -n -p 2223 127.0.0.1 >"$WORK/openssh.txt" 2>&1
ours_fail=$(grep -c '\[fail\]' "$WORK/ours.txt")
ours_warn=$(grep -c '\[warn\]' "$WORK/ours.txt")
o_warn=$(grep -c '\[warn\]' "$WORK/openssh.txt")
echo "# ssh-audit: envinit-sshd $ours_fail fail / $ours_warn warn; OpenSSH defaults $(grep -c '\[fail\]' "$WORK/openssh.txt") fail / $o_warn warn"
grep -E '\[(fail|warn)\]' "$WORK/ours.txt" | sed 's/^/#   /'
expect_eq ssh-audit-no-fail 0 "$ours_fail"
if [ "$o_warn" -gt 0 ] && [ "$ours_warn" -lt "$o_warn" ]; then pass ssh-audit-fewer-warn-than-openssh
else fail ssh-audit-fewer-warn-than-openssh "ours $ours_warn, OpenSSH $o_warn"; fi
expect ssh-audit-saw-ed25519-hostkey grep -q '(key) ssh-ed25519' "$WORK/ours.txt"
for bad in diffie-hellman-group14-sha1 ecdh-sha2-nistp256 hmac-sha1 '-cbc' ssh-rsa ecdsa-sha2-nistp256; do
  if grep -q -- "$bad" <<<"$(grep -E '^\((kex|key|enc|mac)\)' "$WORK/ours.txt")"; then
    fail "no-$bad-offered" "$(grep -- "$bad" "$WORK/ours.txt" | head -1)"
  else
    pass "no-$bad-offered"
  fi
done

# every key exchange offered completes a login with OpenSSH's client, the
# DH groups included (the shared secret agrees on both sides)
kexes=$(awk '/^#define SF_KEX /{f=1} f{print; if ($0 !~ /\\$/) exit}' "$SRC/sshfallback/sshfallback.h" |
  grep -o '"[^"]*"' | tr -d '"\n' | tr ',' ' ')
[ -n "$kexes" ] || fail kex-list "no SF_KEX in sshfallback/sshfallback.h"
for k in $kexes; do
  expect_eq "login-kex-$k" ok "$(sf_ssh -o KexAlgorithms="$k" -- echo ok </dev/null 2>&1)"
done
# a degenerate DH value (0, 1, p-1, p) is refused before any KEXDH_REPLY;
# an ordinary one (2) is answered
for k in diffie-hellman-group16-sha512 diffie-hellman-group18-sha512; do
  for e in 0 1 p-1 p 2; do
    want=refused; [ "$e" = 2 ] && want=reply
    expect_eq "dh-e-$e-${k#diffie-hellman-}" $want \
      "$(/usr/bin/python3 "$SRC/tests/helpers/dh_probe.py" "$SF_PORT" "$k" "$e" 2>&1)"
  done
done
# ---- libssh2's clients (curl, libgit2, PHP, Rust) negotiate: they know no
# -etm MAC, so hmac-sha2-256/512 are offered as well ----
head -c 1000000 /dev/urandom >"$WORK/up.bin"
CURL_KEY=(-sS -k --key "$WORK/keys/good" --pubkey "$WORK/keys/good.pub")
if curl "${CURL_KEY[@]}" -T "$WORK/up.bin" "sftp://$SF_USER@127.0.0.1:$SF_PORT/~/up.bin" 2>"$WORK/curl.err"; then
  expect_eq curl-sftp-upload "$(sha256sum <"$WORK/up.bin")" "$(sha256sum <"$SF_HOME/up.bin")"
else
  fail curl-sftp-upload "$(tr '\n' ' ' <"$WORK/curl.err") $(grep 'no match for method' "$SF_LOG" | tail -n 1)"
fi
if curl "${CURL_KEY[@]}" "scp://$SF_USER@127.0.0.1:$SF_PORT$SF_HOME/up.bin" -o "$WORK/down.bin" 2>"$WORK/curl.err"; then
  expect_eq curl-scp-download "$(sha256sum <"$WORK/up.bin")" "$(sha256sum <"$WORK/down.bin")"
else
  fail curl-scp-download "$(tr '\n' ' ' <"$WORK/curl.err")"
fi
exit 0
