#!/bin/bash
# Root runs no program the user could have planted: with the image's
# /usr/sbin/sshd hidden and the user's ~/go/bin first in PATH (as in the
# product's example PATH), an `sshd` there is skipped with the reason
# logged, `envinit check` does not offer it, and the fallback serves
# instead. Likewise an ssh-keygen planted there when host keys are missing.
source "$(dirname "$0")/40-ssh-lib.bash"
[ -x /usr/sbin/sshd ] || { fail requires-sshd "/usr/sbin/sshd missing (run .ci/deps test)"; exit 1; }
has_fallback || { fail requires-envinit-sshd "$FALLBACK missing (run make)"; exit 1; }
ssh_t_setup

BIN=$T_HOME/go/bin
USER_PATH=$BIN:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
MARK=$WORK/planted-ran
# plant NAME: a program of the user's that records that it ran.
plant() {
  mkdir -p "$BIN"
  printf '#!/bin/sh\necho "%s $*" >>%s\n' "$1" "$MARK" >"$BIN/$1"
  chmod 755 "$BIN/$1"
  chown -R "$T_UID:$T_UID" "$T_HOME/go"
}
# hide PATH: the image's program there becomes an empty, non-executable file.
hide() { : >"$WORK/empty"; chmod 644 "$WORK/empty"; mount --bind "$WORK/empty" "$1"; }

# --- a planted sshd, the image's hidden ---
plant sshd
hide /usr/sbin/sshd
start_envinit ENVINIT_AUTHORIZED_KEYS="$T_KEY" ENVINIT_LOG_LEVEL=info PATH="$USER_PATH" || exit 1
fb_up() { [ "$(status_field kind)" = fallback ] && [ "$(status_field state)" = running ] && t_listening 22; }
if wait_until 10 fb_up; then pass fallback-serves; else fail fallback-serves "$(tail -5 "$LOG")"; fi
if [ -e "$MARK" ]; then fail planted-sshd-not-run "it ran: $(cat "$MARK")"; else pass planted-sshd-not-run; fi
if grep -q "$BIN/sshd: skipped: .*uid $T_UID (not root's); root runs nothing the user can replace" "$LOG"; then
  pass skip-reason-logged
else
  fail skip-reason-logged "$(grep -i skipped "$LOG" || tail -3 "$LOG")"
fi
expect_eq login-on-fallback "$T_USER" "$(ssh_as 22 id -un 2>&1)"
stop_envinit
out=$(env PATH="$USER_PATH" ENVINIT_AUTHORIZED_KEYS="$T_KEY" "$ENVINIT" check 2>/dev/null)
case "$out" in
  *"$BIN"*) fail check-does-not-offer-it "$(grep -F "$BIN" <<<"$out")" ;;
  *"# SSH: fallback"*) pass check-does-not-offer-it ;;
  *) fail check-does-not-offer-it "no fallback plan in: $out" ;;
esac
if [ -e "$MARK" ]; then fail planted-sshd-not-run-by-check "it ran: $(cat "$MARK")"; else pass planted-sshd-not-run-by-check; fi
umount /usr/sbin/sshd

# --- a planted ssh-keygen while /etc/ssh has no host keys ---
rm -f "$MARK"
plant ssh-keygen
mkdir -p "$WORK/etc-ssh"
cp -a /etc/ssh/sshd_config "$WORK/etc-ssh/"
[ -d /etc/ssh/sshd_config.d ] && cp -a /etc/ssh/sshd_config.d "$WORK/etc-ssh/"
mount --bind "$WORK/etc-ssh" /etc/ssh
hide /usr/bin/ssh-keygen
start_envinit ENVINIT_AUTHORIZED_KEYS="$T_KEY" ENVINIT_LOG_LEVEL=info PATH="$USER_PATH" || exit 1
expect keygen-skip-logged wait_until 10 grep -q "$BIN/ssh-keygen: skipped: .*uid $T_UID (not root's)" "$LOG"
wait_until 10 t_listening 22
if [ -e "$MARK" ]; then fail planted-keygen-not-run "it ran: $(cat "$MARK")"; else pass planted-keygen-not-run; fi
stop_envinit
