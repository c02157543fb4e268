#!/bin/bash
# envinit as root (PID 1 of a PID namespace) writing the environment user's
# ~/.ssh/environment and ~/.ssh/authorized_keys, in a private mount
# namespace: tmpfs /home, an overlay over /etc (fake passwd/group and
# /etc/environment; nothing reaches the host's /etc), a fake cgroup tree.
# Contents, owner and modes, merge with the user's lines, symlink attacks,
# a full tmpfs, a read-only home, ssh = off, /etc/environment handling.
#
. "$(dirname "$0")/../lib.sh"
need_root
t_unshare --mount --uts
require unshare mount sha256sum stat ssh-keygen
RUN=$ENVINIT
[ -x "$RUN" ] || { fail build "$RUN is not built (make)"; exit 1; }

export ENVINIT_CONFIG=/dev/null ENVINIT_SSH=external ENVINIT_STATUS_FILE=$WORK/status
export ENVINIT_LOG_LEVEL=info
unset LANG LC_ALL ENVINIT_USER ENVINIT_AUTHORIZED_KEYS ENVINIT_AUTHORIZED_KEYS_FILE ENVINIT_ON_WRITE_ERROR \
  ENVINIT_ETC_ENVIRONMENT

# ---- the namespace's world ----
mkdir -p "$WORK/ov" && mount -t tmpfs tmpfs "$WORK/ov" && mkdir "$WORK/ov/u" "$WORK/ov/w"
at_exit umount -l "$WORK/ov"
mount -t overlay overlay -o "lowerdir=/etc,upperdir=$WORK/ov/u,workdir=$WORK/ov/w" /etc
at_exit umount -l /etc
grep -v -e '^coder:' -e ':x:1000:' /etc/passwd >"$WORK/p" && cat "$WORK/p" >/etc/passwd
cat >>/etc/passwd <<'PW'
coder:x:1000:1000:Coder:/home/coder:/bin/bash
coder2:x:1002:1002::/home/c2link:/bin/sh
coder3:x:1003:1003::/home/c3/sub:/bin/sh
PW
grep -v -e '^coder:' -e ':x:1000:' /etc/group >"$WORK/g" && cat "$WORK/g" >/etc/group
echo 'coder:x:1000:' >>/etc/group
printf 'PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin"\nKEEPME=1\n' >/etc/environment
mount -t tmpfs tmpfs /home
hostname dev
mkdir -p "$WORK/cg" && echo "cpu memory" >"$WORK/cg/cgroup.controllers"
echo "150000 100000" >"$WORK/cg/cpu.max" && echo 2147483648 >"$WORK/cg/memory.max"
mount --bind "$WORK/cg" /sys/fs/cgroup
mkdir -p "$WORK/outside"

ssh-keygen -q -t ed25519 -N '' -C key1@test -f "$WORK/k1"
ssh-keygen -q -t ecdsa -N '' -C key2@test -f "$WORK/k2"
K1=$(cat "$WORK/k1.pub") K2=$(cat "$WORK/k2.pub")
BADKEY="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIbroken-body-SECRETTAIL bad@test"

H=/home/coder S=/home/coder/.ssh
fresh_home() { rm -rf "$H"; mkdir -p "$H"; chown 1000:1000 "$H"; chmod 755 "$H"; }
# envinit ARGS... : runs RUN as PID 1; stdout in $WORK/out, stderr in $WORK/err
envinit() { unshare --pid --fork --mount-proc "$RUN" "$@" >"$WORK/out" 2>"$WORK/err"; }
main() { envinit -- sh -c 'echo main-ran'; }
has() { grep -qF -- "$2" "$1"; }
temps() { find $S -maxdepth 1 -name '*envinit-tmp*'; }
block() { sed -n '/^# --------- START CODER ENVIRONMENT VARIABLES/,/^# ----------------- END CODER ---/p' "$1"; }

# ---- contents ----
fresh_home
FOO=bar-from-image ENVINIT_USER=coder ENVINIT_AUTHORIZED_KEYS="$K1" main
expect main-ran has "$WORK/out" main-ran
B=$(block $S/environment)
for want in USER=coder HOME=/home/coder SHELL=/bin/bash PWD=/home/coder HOSTNAME=dev \
    CODER_USERNAME=coder CODER_ENVIRONMENT_NAME=dev CODER_CPU_LIMIT=1.50 CODER_MEMORY_LIMIT=2.00 \
    LANG=en_US.UTF-8 FOO=bar-from-image; do
  if grep -qx -- "$want" <<<"$B"; then pass "contents-$want"; else fail "contents-$want" "not in block"; fi
done
expect_eq contents-no-envinit-vars 0 "$(grep -c '^ENVINIT_' $S/environment)"
expect_eq contents-first-line "# --------- START CODER ENVIRONMENT VARIABLES ----------" "$(head -1 $S/environment)"
expect_eq contents-comment-lines "# The following has been auto-generated at environment startup
# You should not hand-edit this section, unless you are deleting it." "$(sed -n 2,3p $S/environment)"
expect_eq contents-last-line "# ----------------- END CODER -----------------------" "$(tail -1 $S/environment)"
expect contents-sorted bash -c "sed '1,3d;\$d' $S/environment | cut -d= -f1 | LC_ALL=C sort -c"
expect contents-key-written grep -qxF -- "$K1" $S/authorized_keys

# ---- owner and modes ----
expect_eq mode-ssh-dir "700 1000:1000" "$(stat -c '%a %u:%g' $S)"
expect_eq mode-environment "600 1000:1000" "$(stat -c '%a %u:%g' $S/environment)"
expect_eq mode-authorized-keys "600 1000:1000" "$(stat -c '%a %u:%g' $S/authorized_keys)"
expect_eq no-temp-left "" "$(temps)"

# ---- unchanged content is not rewritten; `envinit env` shows the same block ----
before=$(stat -c '%i %Y.%y' $S/environment $S/authorized_keys)
sleep 0.01
FOO=bar-from-image ENVINIT_USER=coder ENVINIT_AUTHORIZED_KEYS="$K1" main
expect_eq unchanged-not-rewritten "$before" "$(stat -c '%i %Y.%y' $S/environment $S/authorized_keys)"
FOO=bar-from-image ENVINIT_USER=coder envinit env
expect_eq env-subcommand-prints-block "$(cat $S/environment)" "$(cat "$WORK/out")"
# SSH_AUTH_SOCK: the stable agent path when envinit-sshd serves, else left
# out (OpenSSH sets its own before it reads the file)
SSH_AUTH_SOCK=/tmp/runtime-agent ENVINIT_USER=coder envinit env
expect env-agent-sock-left-out-for-other-servers bash -c "! grep -q SSH_AUTH_SOCK '$WORK/out'"
SSH_AUTH_SOCK=/tmp/runtime-agent ENVINIT_USER=coder ENVINIT_SSH=fallback envinit env
expect env-agent-sock-stable-path-for-envinit-sshd grep -qx 'SSH_AUTH_SOCK=/home/coder/.envinit-ssh-agent.sock' "$WORK/out"

# ---- keys: several sources, a bad line refused by position, user's keys kept ----
printf '%s\n' "$K2" >"$WORK/keysfile"
printf 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMINE mine@laptop\r\n' >$S/authorized_keys
ENVINIT_USER=coder ENVINIT_AUTHORIZED_KEYS="$K1
$BADKEY" ENVINIT_AUTHORIZED_KEYS_FILE="$WORK/keysfile" main
expect keys-from-variable grep -qxF -- "$K1" $S/authorized_keys
expect keys-from-file grep -qxF -- "$K2" $S/authorized_keys
expect keys-user-line-kept-crlf bash -c "head -c 64 $S/authorized_keys | grep -q \$'mine@laptop\r\$'"
expect_eq keys-bad-line-not-written 0 "$(grep -c SECRETTAIL $S/authorized_keys)"
expect keys-bad-line-warned-with-position grep -q 'authorized key 2 .*refused' "$WORK/err"
expect_eq keys-bad-line-not-quoted 0 "$(grep -c SECRETTAIL "$WORK/err")"
expect_eq mode-after-merge "600 1000:1000" "$(stat -c '%a %u:%g' $S/authorized_keys)"

# ---- the user's lines and CRLF survive; a deleted block comes back ----
printf 'MINE=1\r\n# my note\r\n' >$S/environment
ENVINIT_USER=coder main
expect_eq user-lines-kept "$(printf 'MINE=1\r\n# my note\r\n')" "$(head -c 18 $S/environment)"
expect_eq one-block 1 "$(grep -c 'START CODER ENVIRONMENT' $S/environment)"

# ---- default user, missing user ----
fresh_home
main
expect default-user-coder grep -qx USER=coder $S/environment
fresh_home
ENVINIT_USER=ghost main
expect missing-user-error grep -q 'error: environment user ghost: not found' "$WORK/err"
expect missing-user-main-runs has "$WORK/out" main-ran

# ---- ssh = off writes nothing ----
fresh_home
ENVINIT_SSH=off ENVINIT_USER=coder ENVINIT_AUTHORIZED_KEYS="$K1" main
expect_eq ssh-off-writes-nothing "" "$(ls -A $H)"
expect ssh-off-main-runs has "$WORK/out" main-ran

# ---- symlink attacks ----
etc_state() { find /etc -xdev -newer "$WORK/stamp" 2>/dev/null | sort; sha256sum /etc/environment /etc/passwd; }
fresh_home
touch "$WORK/stamp"; sleep 0.01
etc0=$(etc_state)
ln -s /etc $S && chown -h 1000:1000 $S
ENVINIT_USER=coder ENVINIT_AUTHORIZED_KEYS="$K1" main
expect_eq ssh-symlink-to-etc-untouched "$etc0" "$(etc_state)"
expect_eq ssh-symlink-no-keys-in-etc "" "$(ls /etc/authorized_keys 2>/dev/null)"
expect ssh-symlink-error grep -q "error: /home/coder/.ssh is a symbolic link; refusing" "$WORK/err"
expect ssh-symlink-main-runs has "$WORK/out" main-ran
expect_eq ssh-symlink-kept /etc "$(readlink $S)"

fresh_home
echo precious >"$WORK/outside/secret"
mkdir -m 700 $S && chown 1000:1000 $S
ln -s "$WORK/outside/secret" $S/environment && chown -h 1000:1000 $S/environment
ENVINIT_USER=coder ENVINIT_AUTHORIZED_KEYS="$K1" main
expect_eq env-symlink-outside-untouched precious "$(cat "$WORK/outside/secret")"
expect_eq env-symlink-outside-owner "0:0" "$(stat -c %u:%g "$WORK/outside/secret")"
expect env-symlink-error grep -q "error: /home/coder/.ssh/environment is a symbolic link" "$WORK/err"
expect env-symlink-keys-still-written grep -qxF -- "$K1" $S/authorized_keys
expect env-symlink-main-runs has "$WORK/out" main-ran

fresh_home
mkdir -m 700 $S && chown 1000:1000 $S
echo precious >"$WORK/outside/existing"
ln -s "$WORK/outside/existing" $S/.environment.envinit-tmp
ln -s "$WORK/outside/created" $S/.authorized_keys.envinit-tmp
ENVINIT_USER=coder ENVINIT_AUTHORIZED_KEYS="$K1" main
expect_eq temp-symlink-target-untouched precious "$(cat "$WORK/outside/existing")"
expect_eq temp-symlink-no-file-created "" "$(ls "$WORK/outside/created" 2>/dev/null)"
expect temp-symlink-environment-written grep -qx USER=coder $S/environment
expect temp-symlink-keys-written grep -qxF -- "$K1" $S/authorized_keys
expect_eq temp-symlink-removed "" "$(temps)"

fresh_home
mkdir -m 700 $S   # root's, not the user's
ENVINIT_USER=coder main
expect ssh-not-owned-refused grep -q "error: /home/coder/.ssh is owned by uid 0, not by coder" "$WORK/err"
expect_eq ssh-not-owned-nothing-written "" "$(ls -A $S)"

fresh_home
echo precious >/home/rootsecret && chmod 600 /home/rootsecret
mkdir -m 700 $S && chown 1000:1000 $S && ln /home/rootsecret $S/environment
ENVINIT_USER=coder main
expect hardlink-refused grep -q "error: /home/coder/.ssh/environment is a hard link to a file owned by uid 0" "$WORK/err"
expect_eq hardlink-not-copied "precious 2" "$(cat $S/environment) $(stat -c %h /home/rootsecret)"
rm -f /home/rootsecret

# ---- the home path: a root-owned symlink is followed, a user-owned one is not ----
mkdir -m 755 /home/c2real && chown 1002:1002 /home/c2real && ln -s /home/c2real /home/c2link
ENVINIT_USER=coder2 main
expect home-root-symlink-followed grep -qx USER=coder2 /home/c2real/.ssh/environment
mkdir -p /home/c3 "$WORK/outside/c3" && chown 1003:1003 /home/c3 "$WORK/outside/c3"
ln -s "$WORK/outside/c3" /home/c3/sub && chown -h 1003:1003 /home/c3/sub
ENVINIT_USER=coder3 main
expect home-user-symlink-refused grep -q "error: /home/c3/sub: a component (sub) is a symbolic link the user could control; not following it as root" "$WORK/err"
expect_eq home-user-symlink-nothing-written "" "$(ls -A "$WORK/outside/c3")"
expect home-user-symlink-main-runs has "$WORK/out" main-ran

# ---- a full tmpfs: the old file is left exactly as it was ----
fresh_home
mount -t tmpfs -o size=64k,mode=755,uid=1000,gid=1000 tmpfs $H
mkdir -m 700 $S && chown 1000:1000 $S
printf 'MINE=1\n# --------- START CODER ENVIRONMENT VARIABLES ----------\nOLD=1\n# ----------------- END CODER -----------------------\n' >$S/environment
chown 1000:1000 $S/environment
old=$(sha256sum <$S/environment)
dd if=/dev/zero of=$H/fill bs=4k 2>/dev/null
ENVINIT_USER=coder main
expect_eq full-tmpfs-old-file-intact "$old" "$(sha256sum <$S/environment)"
expect full-tmpfs-error-path-reason grep -q "error: writing /home/coder/.ssh/environment failed while .*: No space left on device; the old file is left as it was" "$WORK/err"
expect_eq full-tmpfs-no-temp-left "" "$(temps)"
expect full-tmpfs-main-runs has "$WORK/out" main-ran
umount $H

# ---- a read-only home: error logged, the main command still runs ----
fresh_home
mount -t tmpfs -o size=1m,mode=755,uid=1000,gid=1000 tmpfs $H
mkdir -m 700 $S && chown 1000:1000 $S && echo 'MINE=1' >$S/environment
mount -o remount,ro $H
ENVINIT_USER=coder main; rc=$?
expect read-only-error-logged grep -q "error: writing /home/coder/.ssh/environment failed while creating the temporary file: Read-only file system" "$WORK/err"
expect read-only-main-runs has "$WORK/out" main-ran
expect_eq read-only-exit-status 0 "$rc"
expect_eq read-only-file-intact MINE=1 "$(cat $S/environment)"
ENVINIT_USER=coder ENVINIT_ON_WRITE_ERROR=fail main; rc=$?
expect on-write-error-fail-stops [ "$rc" -ne 0 ]
expect_eq on-write-error-fail-no-main "" "$(cat "$WORK/out")"
umount $H

# ---- /etc/environment: warn (default) names the variables; remove drops them ----
fresh_home
PATH=/usr/bin:/bin ENVINIT_USER=coder main
expect etc-environment-warns grep -q "warn: /etc/environment sets PATH to other values" "$WORK/err"
etc0=$(sha256sum </etc/environment)
PATH=/usr/bin:/bin ENVINIT_USER=coder ENVINIT_ETC_ENVIRONMENT=keep main
expect_eq etc-environment-keep-quiet 0 "$(grep -c /etc/environment "$WORK/err")"
PATH=/usr/bin:/bin ENVINIT_USER=coder ENVINIT_ETC_ENVIRONMENT=remove main
expect_eq etc-environment-remove KEEPME=1 "$(cat /etc/environment)"
expect_eq etc-environment-mode "644 0:0" "$(stat -c '%a %u:%g' /etc/environment)"
true
