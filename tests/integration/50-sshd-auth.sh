#!/bin/bash
# envinit-sshd: host key, privileges and public key authentication, with the
# real OpenSSH client on loopback in a private network namespace.
source "$(dirname "$0")/../lib.sh"
source "$SRC/tests/integration/50-sshd-lib.bash"
need_root
t_unshare --mount --net
require ssh ssh-keygen ip unshare
[ -x "$SF_BIN" ] || { fail build "$SF_BIN missing (make envinit-sshd)"; exit 1; }
sf_setup
sf_start --login-grace-time 2

# ---- host key ----
mode=$(stat -c %a "$WORK/hostkey" 2>/dev/null)
expect_eq hostkey-0600 600 "$mode"
fp=$(ssh-keygen -lf "$WORK/hostkey" | awk '{print $2}')
expect hostkey-fingerprint-logged grep -q "ED25519 $fp" "$SF_LOG"
sum1=$(sha256sum <"$WORK/hostkey")

# ---- privileges ----
caps=$(awk '/^CapEff/ {print $2}' /proc/$SF_PID/status)
# CAP_SETGID(6) CAP_SETUID(7) CAP_NET_BIND_SERVICE(10) = 0x4c0
expect_eq listener-caps 00000000000004c0 "$caps"
bnd=$(awk '/^CapBnd/ {print $2}' /proc/$SF_PID/status)
expect_eq listener-bounding-kept "$(awk '/^CapBnd/ {print $2}' /proc/self/status)" "$bnd"

# ---- the right key ----
out=$(sf_run 'id -u; id -G; cat /proc/self/status | grep -E "^Cap(Eff|Prm)"')
expect_eq right-key-accepted-uid $SF_UID "$(echo "$out" | sed -n 1p)"
expect_eq user-groups "$SF_UID 4343" "$(echo "$out" | sed -n 2p)"
expect_eq session-no-caps "CapPrm:	0000000000000000 CapEff:	0000000000000000" "$(echo "$out" | sed -n '3,4p' | tr '\n' ' ' | sed 's/ $//')"

# ---- client key types: ecdsa and rsa (rsa-sha2-256/512 signatures) ----
ssh-keygen -q -t ecdsa -N '' -f "$WORK/keys/ecdsa"
ssh-keygen -q -t rsa -b 2048 -N '' -f "$WORK/keys/rsa"
sf_keys "$(sf_pub ecdsa)" "$(sf_pub rsa)"
expect key-ecdsa-accepted sf_ssh -k ecdsa -- true </dev/null
expect key-rsa-sha2-512-accepted sf_ssh -k rsa -o PubkeyAcceptedAlgorithms=rsa-sha2-512 -- true </dev/null
expect key-rsa-sha2-256-accepted sf_ssh -k rsa -o PubkeyAcceptedAlgorithms=rsa-sha2-256 -- true </dev/null
sf_ssh -k rsa -o PubkeyAcceptedAlgorithms=ssh-rsa -- true </dev/null 2>/dev/null
expect_eq key-rsa-sha1-refused 255 $?
sf_keys "$(sf_pub good)"

# ---- refusals ----
out=$(sf_ssh -k other -- true 2>&1 </dev/null); rc=$?
expect_eq wrong-key-refused "255 Permission denied" "$rc $(echo "$out" | grep -o 'Permission denied' | head -1)"
out=$(sf_ssh -u root -- true 2>&1 </dev/null); rc=$?
expect_eq wrong-user-refused 255 "$rc"
expect wrong-user-logged grep -q "user 'root' refused" "$SF_LOG"

sf_keys "$(sf_pub other)"
sf_run true 2>/dev/null; rc=$?
expect_eq removed-key-refused-at-once 255 "$rc"
sf_keys "$(sf_pub good)"
expect restored-key-accepted sf_run true

sf_keys "environment=\"X=1\" $(sf_pub good)"
sf_run true 2>/dev/null; rc=$?
expect_eq unknown-option-refused 255 "$rc"
expect unknown-option-warned grep -q "authorized_keys:1: key refused: option not supported" "$SF_LOG"
sf_keys "no-pty,frobnicate $(sf_pub good)"
sf_run true 2>/dev/null; rc=$?
expect_eq bogus-option-refused 255 "$rc"
# the first line holding the key decides: a later plain line for the same
# key never bypasses an option we cannot honour or a from= that refuses us
sf_keys "no-such-option $(sf_pub good)" "$(sf_pub good)"
sf_run true 2>/dev/null; rc=$?
expect_eq first-line-unknown-option-decides 255 "$rc"
expect first-line-refusal-logged grep -q "authorized_keys:1: key refused: option not supported" "$SF_LOG"
sf_keys "from=\"10.9.9.9\" $(sf_pub good)" "$(sf_pub good)"
sf_run true 2>/dev/null; rc=$?
expect_eq first-line-from-decides 255 "$rc"
expect first-line-from-logged grep -q 'authorized_keys:1: key refused: from="10.9.9.9" does not allow 127.0.0.1' "$SF_LOG"
key_b64=$(awk '{print $2}' "$WORK/keys/good.pub")
if grep -qF "$key_b64" "$SF_LOG"; then fail key-never-logged "the key's base64 is in the log"; else pass key-never-logged; fi
# other keys' lines before it do not count
sf_keys "no-such-option $(sf_pub other)" "$(sf_pub good)"
expect other-key-line-ignored sf_run true

# command= (forced command, SSH_ORIGINAL_COMMAND) and restrict/no-pty
sf_keys "command=\"echo forced:\$SSH_ORIGINAL_COMMAND\",restrict $(sf_pub good)"
expect_eq command-forced "forced:id -u" "$(sf_run 'id -u')"
sf_ssh -tt -- true </dev/null >/dev/null 2>&1
out=$(sf_ssh -tt -- 'tty' </dev/null 2>&1)
case "$out" in *"PTY allocation request failed"*) pass restrict-no-pty ;; *) fail restrict-no-pty "$out" ;; esac

# from=
sf_keys "from=\"10.0.0.0/8,192.168.*\" $(sf_pub good)"
sf_run true 2>/dev/null; rc=$?
expect_eq from-other-net-refused 255 "$rc"
sf_keys "from=\"127.0.0.0/8,!127.0.0.2\" $(sf_pub good)"
expect from-cidr-allowed sf_run true
sf_keys "from=\"127.0.0.*,!127.0.0.1\" $(sf_pub good)"
sf_run true 2>/dev/null; rc=$?
expect_eq from-negation-refused 255 "$rc"
sf_keys "$(sf_pub good)"

# ---- 6 failed tries end the connection (the good key offered 7th) ----
args=()
for k in bad2 bad3 bad4 bad5 bad6; do args+=(-i "$WORK/keys/$k"); done
out=$(sf_ssh -k bad1 "${args[@]}" -i "$WORK/keys/good" -o LogLevel=info -- true </dev/null 2>&1); rc=$?
expect_eq six-failures-disconnect 255 "$rc"
expect six-failures-logged grep -q "too many authentication failures (6)" "$SF_LOG"
# five wrong keys then the good one still gets in
args=()
for k in bad2 bad3 bad4 bad5; do args+=(-i "$WORK/keys/$k"); done
expect five-failures-then-good sf_ssh -k bad1 "${args[@]}" -i "$WORK/keys/good" -- true </dev/null

# ---- a signature that does not verify: answered at once, and counted ----
# (paramiko signs without asking first; the last byte of each signature is
# flipped; the login grace time is 2 s, so an unanswered request shows)
forged=$(/usr/bin/python3 - 127.0.0.1 "$SF_PORT" "$SF_USER" "$WORK/keys/good" 2>&1 <<'EOF'
import sys, time, paramiko
class Forged(paramiko.Ed25519Key):
    def sign_ssh_data(self, data, algorithm=None):
        blob = bytearray(super().sign_ssh_data(data, algorithm).asbytes())
        blob[-1] ^= 1
        return paramiko.Message(bytes(blob))
host, port, user, path = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
t = paramiko.Transport((host, port))
t.start_client(timeout=10)
key, out = Forged(filename=path), []
for _ in range(6):
    t0 = time.monotonic()
    try:
        t.auth_publickey(user, key)
        out.append("accepted")
    except paramiko.AuthenticationException:
        out.append("refused" if time.monotonic() - t0 < 1 else "refused-late")
    except Exception as e:
        out.append(type(e).__name__)
t.join(5)  # the server hangs up after the sixth failure
out.append("open" if t.is_active() else "closed")
print(" ".join(out))
t.close()
EOF
)
expect_eq forged-signature-refused-at-once-and-counted \
  "refused refused refused refused refused refused closed" "$forged"

# ---- login grace time: an idle unauthenticated connection is dropped ----
t0=$(date +%s%N)
exec 3<>/dev/tcp/127.0.0.1/$SF_PORT
banner=$(head -c 8 <&3)
timeout 10 cat <&3 >/dev/null
t1=$(date +%s%N)
exec 3<&-
ms=$(((t1 - t0) / 1000000))
expect_eq banner SSH-2.0- "$banner"
if [ $ms -ge 1500 ] && [ $ms -le 4000 ]; then pass grace-time-drop; else fail grace-time-drop "closed after $ms ms (grace 2 s)"; fi

# ---- the host key is reused after a restart ----
sf_stop
sf_start
expect_eq hostkey-reused "$sum1" "$(sha256sum <"$WORK/hostkey")"
expect restart-login sf_run true

# ---- a key readable by others stops the start with a clear message ----
sf_stop
chmod 644 "$WORK/hostkey"
"$SF_BIN" -t -k "$WORK/hostkey" -u "$SF_USER" --passwd "$WORK/passwd" 2>"$WORK/t.log"; rc=$?
expect_eq hostkey-mode-checked "78 yes" "$rc $(grep -q 'readable by everyone' "$WORK/t.log" && echo yes)"

# ---- as the user itself: no privilege needed, the user is the default ----
require setpriv
setpriv --reuid $SF_UID --regid $SF_UID --clear-groups --inh-caps=-all --bounding-set=-all \
  "$SF_BIN" -p 2223 -l 127.0.0.1 -k "$SF_HOME/hostkey" --passwd "$WORK/passwd" \
  --group "$WORK/group" 2>"$WORK/nonroot.log" &
npid=$!
at_exit "kill $npid 2>/dev/null"
if wait_until 5 grep -q "listening on .* for user $SF_USER" "$WORK/nonroot.log"; then pass nonroot-starts
else fail nonroot-starts "$(cat "$WORK/nonroot.log")"; fi
expect_eq nonroot-login "$SF_UID" "$(SF_PORT=2223 sf_run 'id -u')"
expect_eq nonroot-hostkey-owner "$SF_UID 600" "$(stat -c '%u %a' "$SF_HOME/hostkey")"
kill $npid
