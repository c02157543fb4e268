#!/bin/bash
# envinit-sshd: security keys (sk-ssh-ed25519@openssh.com,
# sk-ecdsa-sha2-nistp256@openssh.com) must prove user presence, as OpenSSH's
# sshd requires: a signature without the presence flag is refused unless the
# key's line says no-touch-required; verify-required asks for the
# user-verification flag. The keys live in a software authenticator
# (build/tests/helpers/libsk_dummy.so, OpenSSH's SecurityKeyProvider
# interface) whose signature flags come from SK_DUMMY_FLAGS. OpenSSH's sshd
# runs every case too, on the same authorized_keys: a case it gets wrong as
# well is reported as a setup problem, not as ours.
source "$(dirname "$0")/../lib.sh"
source "$SRC/tests/integration/50-sshd-lib.bash"
need_root
t_unshare --mount --net
require ssh ssh-keygen ip unshare /usr/sbin/sshd
SK=$BUILD_DIR/tests/helpers/libsk_dummy.so
[ -x "$SF_BIN" ] || { fail build "$SF_BIN missing (make envinit-sshd)"; exit 1; }
[ -r "$SK" ] || { fail build "$SK missing (make $SK)"; exit 1; }

sf_setup
# OpenSSH looks the user up through NSS: the same user in bind-mounted
# copies of /etc/passwd, group and shadow; its privilege separation folder
# on a private /run.
ns_user "$SF_USER" $SF_UID "$SF_HOME"
mount -t tmpfs -o mode=755 tmpfs /run && mkdir -m 755 /run/sshd
sf_start

OPENSSH_PORT=2223
OPENSSH_LOG=$WORK/openssh.log
ssh-keygen -q -t ed25519 -N '' -f "$WORK/openssh_hostkey"
cat >"$WORK/sshd_config" <<CFG
Port $OPENSSH_PORT
ListenAddress 127.0.0.1
HostKey $WORK/openssh_hostkey
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
AuthorizedKeysFile .ssh/authorized_keys
PidFile none
LogLevel VERBOSE
CFG
/usr/sbin/sshd -D -e -f "$WORK/sshd_config" 2>"$OPENSSH_LOG" &
OPENSSH_PID=$!
at_exit "kill $OPENSSH_PID 2>/dev/null"
wait_until 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$OPENSSH_PORT" 2>/dev/null \
  || { fail openssh-listens "$(tail -5 "$OPENSSH_LOG")"; exit 1; }

# ---- enrolment through the provider ----
for t in ed25519-sk ecdsa-sk; do
  if ssh-keygen -q -t $t -w "$SK" -N '' -C "$t" -f "$WORK/keys/$t" </dev/null >"$WORK/keygen.log" 2>&1 \
     && [ -s "$WORK/keys/$t.pub" ]; then
    pass "enroll-$t"
  else
    fail "enroll-$t" "ssh-keygen -t $t -w $SK: $(tail -3 "$WORK/keygen.log")"; exit 1
  fi
done
expect_eq ed25519-sk-key-type sk-ssh-ed25519@openssh.com "$(awk '{print $1}' "$WORK/keys/ed25519-sk.pub")"
expect_eq ecdsa-sk-key-type sk-ecdsa-sha2-nistp256@openssh.com "$(awk '{print $1}' "$WORK/keys/ecdsa-sk.pub")"

# login PORT KEY FLAGS: the exit status of `ssh ... true` with the key's
# signatures carrying FLAGS.
login() {
  SK_DUMMY_FLAGS=$3 SF_PORT=$1 sf_ssh -k "$2" -o SecurityKeyProvider="$SK" -- true \
    </dev/null >>"$WORK/client.log" 2>&1
}

# sk_case NAME KEY FLAGS OPTIONS WANT [WHY]: with the key's line carrying
# OPTIONS and its signatures FLAGS, the login must give WANT (ok or refused);
# a refusal must be logged with WHY. OpenSSH's sshd runs first as control.
sk_case() {
  local name=$1 key=$2 flags=$3 kopts=$4 want=$5 why=${6:-} got ours_mark openssh_mark control=ok
  sf_keys "${kopts:+$kopts }$(sf_pub "$key")"
  openssh_mark=$(wc -c <"$OPENSSH_LOG")
  if login $OPENSSH_PORT "$key" "$flags"; then got=ok; else got=refused; fi
  if [ "$got" != "$want" ]; then
    control="OpenSSH's sshd gives '$got' too, want '$want': a setup problem"
  elif [ -n "$why" ] && ! grep -qF "$why" <<<"$(tail -c +$((openssh_mark + 1)) "$OPENSSH_LOG")"; then
    control="OpenSSH's sshd did not log '$why': a setup problem"
  fi
  if [ "$control" = ok ]; then pass "openssh-control/$name"; else fail "openssh-control/$name" "$control"; fi

  ours_mark=$(wc -c <"$SF_LOG")
  if login "$SF_PORT" "$key" "$flags"; then got=ok; else got=refused; fi
  local new
  new=$(tail -c +$((ours_mark + 1)) "$SF_LOG")
  if [ "$got" != "$want" ]; then
    fail "$name" "want '$want', got '$got'${control#ok}; log: $(echo "$new" | tail -2)"
  elif [ -n "$why" ] && ! grep -qF "$why" <<<"$new"; then
    fail "$name" "refused without '$why' in the log: $(echo "$new" | tail -2)"
  else
    pass "$name"
  fi
}

PRESENCE="user presence (authenticator touch) requirement not met"
VERIFY="user verification requirement not met"
sk_case ed25519-presence-accepted ed25519-sk 0x01 '' ok
sk_case ed25519-no-presence-refused ed25519-sk 0x00 '' refused "$PRESENCE"
sk_case ed25519-verified-without-presence-refused ed25519-sk 0x04 '' refused "$PRESENCE"
sk_case ed25519-no-touch-required-accepted ed25519-sk 0x00 no-touch-required ok
sk_case ed25519-verify-required-without-uv-refused ed25519-sk 0x01 verify-required refused "$VERIFY"
sk_case ed25519-verify-required-with-uv-accepted ed25519-sk 0x05 verify-required ok
sk_case ed25519-verify-required-no-touch-uv-only ed25519-sk 0x04 no-touch-required,verify-required ok
sk_case ed25519-restrict-keeps-presence ed25519-sk 0x00 restrict refused "$PRESENCE"
sk_case ecdsa-presence-accepted ecdsa-sk 0x01 '' ok
sk_case ecdsa-no-presence-refused ecdsa-sk 0x00 '' refused "$PRESENCE"
sk_case ecdsa-no-touch-required-accepted ecdsa-sk 0x00 no-touch-required ok
sk_case ecdsa-verify-required-without-uv-refused ecdsa-sk 0x01 verify-required refused "$VERIFY"

# the refusal counts as a failed try and names the key type and the flags
expect refusal-logged-with-flags grep -q "sk-ssh-ed25519@openssh.com signature (flags 0x00) for $SF_USER refused: $PRESENCE" "$SF_LOG"
# an ordinary key is not concerned by the sk rules
sf_keys "verify-required $(sf_pub good)"
expect plain-key-ignores-sk-options sf_run true
