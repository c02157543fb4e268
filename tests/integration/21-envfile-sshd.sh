#!/bin/bash
# A real OpenSSH sshd (PermitUserEnvironment yes, UsePAM no) in a private
# network namespace on 127.0.0.1:22 accepts the key envinit injected into
# ~/.ssh/authorized_keys, refuses a key it did not, keeps accepting the
# user's own key, and `ssh ... env` shows the block's variables.
. "$(dirname "$0")/../lib.sh"
need_root
t_unshare --mount --uts --net
require unshare mount ip ssh ssh-keygen /usr/sbin/sshd
RUN=$ENVINIT
[ -x "$RUN" ] || { fail build "$RUN is not built (make)"; exit 1; }
export ENVINIT_CONFIG=/dev/null ENVINIT_SSH=external ENVINIT_STATUS_FILE=$WORK/status
unset LANG LC_ALL ENVINIT_USER ENVINIT_AUTHORIZED_KEYS ENVINIT_AUTHORIZED_KEYS_FILE

mkdir -p "$WORK/ov" && mount -t tmpfs tmpfs "$WORK/ov" && mkdir "$WORK/ov/u" "$WORK/ov/w"
at_exit umount -l "$WORK/ov"
mount -t overlay overlay -o "lowerdir=/etc,upperdir=$WORK/ov/u,workdir=$WORK/ov/w" /etc
at_exit umount -l /etc
grep -v -e '^coder:' -e ':x:1000:' /etc/passwd >"$WORK/p" && cat "$WORK/p" >/etc/passwd
echo 'coder:x:1000:1000:Coder:/home/coder:/bin/sh' >>/etc/passwd
grep -v -e '^coder:' -e ':x:1000:' /etc/group >"$WORK/g" && cat "$WORK/g" >/etc/group
echo 'coder:x:1000:' >>/etc/group
rm -f /etc/environment
mount -t tmpfs -o mode=755 tmpfs /home
mount -t tmpfs -o mode=755 tmpfs /run && mkdir -m 755 /run/sshd
hostname dev
mkdir -m 755 /home/coder && chown 1000:1000 /home/coder

ssh-keygen -q -t ed25519 -N '' -f "$WORK/hostkey"
ssh-keygen -q -t ed25519 -N '' -C injected -f "$WORK/injected"
ssh-keygen -q -t ecdsa -N '' -C users-own -f "$WORK/own"
ssh-keygen -q -t ed25519 -N '' -C stranger -f "$WORK/stranger"
# the user's own key, already there before envinit runs
mkdir -m 700 /home/coder/.ssh && cp "$WORK/own.pub" /home/coder/.ssh/authorized_keys
chown -R 1000:1000 /home/coder/.ssh

FOO='from the image' CODER_IMAGE_TAG=latest ENVINIT_USER=coder \
  ENVINIT_AUTHORIZED_KEYS="$(cat "$WORK/injected.pub")" \
  unshare --pid --fork --mount-proc "$RUN" -- true 2>"$WORK/envinit.err"
expect_eq envinit-exit 0 "$?"

cat >"$WORK/sshd_config" <<CFG
Port 22
ListenAddress 127.0.0.1
HostKey $WORK/hostkey
PermitUserEnvironment yes
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
AuthorizedKeysFile .ssh/authorized_keys
StrictModes yes
PidFile none
LogLevel VERBOSE
CFG
/usr/sbin/sshd -D -e -f "$WORK/sshd_config" 2>"$WORK/sshd.log" &
SSHD=$!
at_exit "kill $SSHD"
wait_until 10 bash -c 'exec 3<>/dev/tcp/127.0.0.1/22' 2>/dev/null || { fail sshd-listens "$(tail -5 "$WORK/sshd.log")"; exit 1; }

sshc() { local key=$1; shift
  ssh -F /dev/null -i "$key" -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=no \
    -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -p 22 coder@127.0.0.1 "$@"; }

out=$(sshc "$WORK/injected" env 2>"$WORK/ssh.err"); rc=$?
expect_eq injected-key-accepted 0 "$rc"
for want in 'FOO=from the image' CODER_IMAGE_TAG=latest CODER_USERNAME=coder CODER_ENVIRONMENT_NAME=dev \
    HOSTNAME=dev LANG=en_US.UTF-8 USER=coder HOME=/home/coder SHELL=/bin/sh; do
  if grep -qxF -- "$want" <<<"$out"; then pass "ssh-env-$want"; else fail "ssh-env-$want" "not in ssh env: $(tr '\n' ' ' <<<"$out" | head -c 300)"; fi
done
expect ssh-env-cpu-limit grep -qE '^CODER_CPU_LIMIT=[0-9]+\.[0-9]{2}$' <<<"$out"
expect ssh-env-memory-limit grep -qE '^CODER_MEMORY_LIMIT=[0-9]+\.[0-9]{2}$' <<<"$out"
expect_eq ssh-env-no-envinit-vars 0 "$(grep -c '^ENVINIT_' <<<"$out")"

out=$(sshc "$WORK/own" echo own-ok 2>/dev/null)
expect_eq users-own-key-still-accepted own-ok "$out"
sshc "$WORK/stranger" true 2>/dev/null
expect stranger-key-refused [ $? -eq 255 ]
