#!/bin/bash
# Other SSH implementations' clients against envinit-sshd: Go's
# golang.org/x/crypto/ssh with github.com/pkg/sftp, PuTTY's plink and psftp,
# paramiko, JSch, rsync and git over OpenSSH's ssh. Debian's OpenSSH sshd,
# with its own sshd_config, runs every case as well: a case that fails on it
# too is a setup problem and is reported as one, never as a pass. (curl's
# sftp:// and scp://, libssh2, are in 53-sshd-audit.sh.) Everything runs on
# loopback in a private network namespace. plink sends a window change only
# when its own terminal is resized: its pty case runs it under a pty
# (tests/helpers/pty_resize.py).
# The case functions are called through mcase:
# shellcheck disable=SC2317
source "$(dirname "$0")/../lib.sh"
source "$SRC/tests/integration/50-sshd-lib.bash"
need_root
t_unshare --mount --net
require ip ssh ssh-keygen /usr/sbin/sshd socat sha256sum go plink psftp puttygen \
  /usr/bin/python3 java rsync git ss su
[ -x "$SF_BIN" ] || { fail build "$SF_BIN missing (make envinit-sshd)"; exit 1; }
/usr/bin/python3 -c 'import paramiko' 2>/dev/null || { fail requires-paramiko "python3-paramiko not installed (run .ci/deps test)"; exit 1; }
JSCH_JAR=/usr/share/java/jsch.jar
[ -r "$JSCH_JAR" ] || { fail requires-jsch "$JSCH_JAR missing: libjsch-java not installed (run .ci/deps test)"; exit 1; }
for d in golang.org/x/crypto/ssh github.com/pkg/sftp; do
  [ -d "/usr/share/gocode/src/$d" ] || { fail requires-go-packages "/usr/share/gocode/src/$d missing (run .ci/deps test)"; exit 1; }
done

# ---- the Go client: built offline from Debian's sources (GOPATH mode),
# cached under build/ by the hash of its source and of the toolchain ----
GO_SRC=$SRC/tests/helpers/goclient/main.go
GO_HASH=$( { cat "$GO_SRC"; go version; } | sha256sum | cut -c1-16)
GOCLIENT=$SRC/build/tests/goclient-$GO_HASH
if [ ! -x "$GOCLIENT" ]; then
  mkdir -p "$SRC/build/tests" "$WORK/go/src"
  if ! (cd "$SRC/tests/helpers/goclient" && GO111MODULE=off GOFLAGS="" GOPROXY=off GOENV=off \
        GOPATH="$WORK/go:/usr/share/gocode" GOCACHE="$WORK/go/cache" \
        go build -o "$GOCLIENT.tmp" .) >"$WORK/gobuild.log" 2>&1; then
    fail build-goclient "$(tail -5 "$WORK/gobuild.log" | tr '\n' ' ')"; exit 1
  fi
  mv "$GOCLIENT.tmp" "$GOCLIENT"
fi

sf_setup
# OpenSSH looks the user up through NSS: the same user in bind-mounted
# copies of /etc/passwd, group and shadow; its privilege separation folder
# on a private /run.
ns_user "$SF_USER" $SF_UID "$SF_HOME"
mount -t tmpfs -o mode=755 tmpfs /run && mkdir -m 755 /run/sshd
KEYS=$WORK/keys
# JSch 0.1.55 reads PEM private keys only and knows no ed25519: an ECDSA key
# in PEM for it. PuTTY wants its own format.
ssh-keygen -q -t ecdsa -b 256 -m PEM -N '' -C jsch -f "$KEYS/jsch"
puttygen "$KEYS/good" -O private -o "$KEYS/good.ppk" >"$WORK/puttygen.log" 2>&1 \
  || { fail puttygen-convert "$(cat "$WORK/puttygen.log")"; exit 1; }
sf_keys "$(sf_pub good)" "$(sf_pub jsch)"

# shellcheck disable=SC2119 # the defaults, no flags
sf_start || { fail envinit-sshd-start "$(tail -3 "$SF_LOG")"; exit 1; }

OPENSSH_PORT=2223
OPENSSH_LOG=$WORK/openssh.log
ssh-keygen -q -t ed25519 -N '' -f "$WORK/openssh_ed25519"
ssh-keygen -q -t ecdsa -b 256 -N '' -f "$WORK/openssh_ecdsa"
cat >"$WORK/sshd_config" <<CFG
Port $OPENSSH_PORT
ListenAddress 127.0.0.1
HostKey $WORK/openssh_ed25519
HostKey $WORK/openssh_ecdsa
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
AuthorizedKeysFile .ssh/authorized_keys
AllowTcpForwarding yes
Subsystem sftp internal-sftp
PidFile none
LogLevel VERBOSE
CFG
/usr/sbin/sshd -D -e -f "$WORK/sshd_config" 2>"$OPENSSH_LOG" &
at_exit "kill $! 2>/dev/null"
wait_until 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$OPENSSH_PORT" 2>/dev/null \
  || { fail openssh-listens "$(tail -5 "$OPENSSH_LOG")"; exit 1; }

# JSch 0.1.55 offers no curve25519, no ed25519 host key and no -etm MAC: its
# own envinit-sshd with what JSch shares with OpenSSH's defaults added
# (ecdh-sha2-nistp256, an ECDSA host key; hmac-sha2-256 is already offered).
JSCH_PORT=2224
JSCH_LOG=$WORK/sshd-jsch.log
# One host key per type enabled: a folder holding both (a single -k file
# that does not exist is generated as one key only).
mkdir -p "$WORK/hostkeys-jsch"
for t in ed25519 ecdsa; do ssh-keygen -q -t $t -N '' -f "$WORK/hostkeys-jsch/ssh_host_${t}_key"; done
"$SF_BIN" -p $JSCH_PORT -l 127.0.0.1 -k "$WORK/hostkeys-jsch" -u "$SF_USER" \
  --passwd "$WORK/passwd" --group "$WORK/group" \
  --kex-algorithms +ecdh-sha2-nistp256 --host-key-algorithms +ecdsa-sha2-nistp256 \
  2>"$JSCH_LOG" &
at_exit "kill $! 2>/dev/null"
wait_until 5 grep -q 'listening on' "$JSCH_LOG" \
  || fail envinit-sshd-jsch-start "envinit-sshd with --kex-algorithms/--host-key-algorithms did not start: $(head -1 "$JSCH_LOG")"

# Its control: OpenSSH's sshd limited to what envinit-sshd then offers (its
# lists in sshfallback.h plus the two additions), so that it shows those
# additions are enough for JSch.
sf_list() { # NAME: the value of sshfallback.h's #define NAME, one line
  awk -v n="$1" '$1 == "#define" && $2 == n {f=1} f {print; if ($0 !~ /\\$/) exit}' \
    "$SRC/sshfallback/sshfallback.h" | grep -o '"[^"]*"' | tr -d '"\n'
}
JSCH_CONTROL_PORT=2225
sed "s/^Port .*/Port $JSCH_CONTROL_PORT/" "$WORK/sshd_config" >"$WORK/sshd_config.jsch"
cat >>"$WORK/sshd_config.jsch" <<CFG
KexAlgorithms $(sf_list SF_KEX),ecdh-sha2-nistp256
HostKeyAlgorithms $(sf_list SF_HOSTKEYS),ecdsa-sha2-nistp256
Ciphers $(sf_list SF_CIPHERS)
MACs $(sf_list SF_MACS)
CFG
/usr/sbin/sshd -D -e -f "$WORK/sshd_config.jsch" 2>"$OPENSSH_LOG.jsch" &
at_exit "kill $! 2>/dev/null"
wait_until 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$JSCH_CONTROL_PORT" 2>/dev/null \
  || { fail openssh-jsch-listens "$(tail -5 "$OPENSSH_LOG.jsch")"; exit 1; }

# The echo server the forwards reach, on the servers' side.
ECHO_PORT=7777
socat TCP-LISTEN:$ECHO_PORT,bind=127.0.0.1,reuseaddr,fork EXEC:cat 2>/dev/null &
at_exit "kill $! 2>/dev/null"
wait_until 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$ECHO_PORT" 2>/dev/null \
  || { fail echo-server "socat did not listen on $ECHO_PORT"; exit 1; }


# PuTTY takes the host keys by fingerprint (-hostkey SHA256:...).
fp() { ssh-keygen -l -E sha256 -f "$1" | awk '{print $2}'; }
"$SF_BIN" --print-host-key -k "$WORK/hostkey" >"$WORK/hostkey-line.pub" 2>>"$SF_LOG"
declare -A HOSTKEYS=(
  [$SF_PORT]="-hostkey $(fp "$WORK/hostkey-line.pub")"
  [$OPENSSH_PORT]="-hostkey $(fp "$WORK/openssh_ed25519.pub") -hostkey $(fp "$WORK/openssh_ecdsa.pub")"
)

DATA=$WORK/data.bin
head -c 3000000 /dev/urandom >"$DATA"
SUM=$(sha256sum <"$DATA" | cut -d' ' -f1)
sum_of() { sha256sum <"$1" 2>/dev/null | cut -d' ' -f1; }
SSH_OPTS=(-F /dev/null -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null
  -o LogLevel=error -o BatchMode=yes -o IdentitiesOnly=yes -o ConnectTimeout=10
  -i "$KEYS/good")
SSH_CMD="ssh ${SSH_OPTS[*]}"

# ---- the cases: each is a function PORT TAG that succeeds or prints why;
# TAG keeps the files of one server's run apart from the other's ----
roundtrip_ok() { # TAG BACK: the upload on the server and the download match
  local up back
  up=$(sum_of "$SF_HOME/up-$1.bin"); back=$(sum_of "$2")
  [ "$up" = "$SUM" ] && [ "$back" = "$SUM" ] && return 0
  echo "sha256: sent $SUM, on the server ${up:-none}, back ${back:-none}"; return 1
}
exec_ok() { # GOT_STATUS GOT_OUTPUT
  [ "$1" = 7 ] && [ "$2" = "hello $SF_USER" ] && return 0
  echo "want status 7 and 'hello $SF_USER', got status $1 and '$2'"; return 1
}
# shellcheck disable=SC2016 # expanded by the user's shell on the server
EXEC_CMD='echo hello $(id -un); exit 7'

go_client() { local p=$1; shift; "$GOCLIENT" -p "$p" -u "$SF_USER" -i "$KEYS/good" "$@"; }
go_exec() { local out rc; out=$(go_client "$1" exec "$EXEC_CMD" </dev/null); rc=$?; exec_ok "$rc" "$out"; }
go_pty() { go_client "$1" pty </dev/null; }
go_sftp() { go_client "$1" sftp "$DATA" "up-$2.bin" "$WORK/back-go-$2" </dev/null && roundtrip_ok "$2" "$WORK/back-go-$2"; }
go_forward() { go_client "$1" forward "127.0.0.1:$ECHO_PORT" 1000000 </dev/null; }

pm_client() { local p=$1; shift; /usr/bin/python3 "$SRC/tests/helpers/paramiko_client.py" "$p" "$SF_USER" "$KEYS/good" "$@" </dev/null; }
pm_exec() { local out rc; out=$(pm_client "$1" exec "$EXEC_CMD"); rc=$?; exec_ok "$rc" "$out"; }
pm_pty() { pm_client "$1" pty; }
pm_sftp() { pm_client "$1" sftp "$DATA" "up-$2.bin" "$WORK/back-pm-$2" && roundtrip_ok "$2" "$WORK/back-pm-$2"; }
pm_forward() { pm_client "$1" forward 127.0.0.1 "$ECHO_PORT" 1000000; }

# shellcheck disable=SC2086 # HOSTKEYS holds several words on purpose
putty_opts() { echo "-batch -P $1 -i $KEYS/good.ppk ${HOSTKEYS[$1]}"; }
# shellcheck disable=SC2046
plink_exec() { local out rc; out=$(plink $(putty_opts "$1") "$SF_USER@127.0.0.1" "$EXEC_CMD" </dev/null); rc=$?; exec_ok "$rc" "$out"; }
# plink changes the pty's size only on a SIGWINCH from its own terminal:
# it runs under a pty that pty_resize.py resizes once the first size is in.
sizes_ok() { # OUTPUT: stty size printed 24 80, then 50 132
  local got
  got=$(grep -E '^[0-9]+ [0-9]+$' <<<"$1" | paste -sd,)
  [ "$got" = "24 80,50 132" ] && return 0
  echo "stty size printed '$got', want '24 80,50 132'; output: $(tail -3 <<<"$1" | tr '\n' ' ')"; return 1
}
# shellcheck disable=SC2046
plink_pty() {
  local out rc
  out=$(/usr/bin/python3 "$SRC/tests/helpers/pty_resize.py" 24 80 50 132 \
    plink -t $(putty_opts "$1") "$SF_USER@127.0.0.1" 'stty size; read x; stty size' </dev/null)
  rc=$?
  [ "$rc" = 0 ] || { echo "status $rc: $(tail -3 <<<"$out" | tr '\n' ' ')"; return 1; }
  sizes_ok "$out"
}
# shellcheck disable=SC2046
psftp_rt() {
  printf 'put %s up-%s.bin\nget up-%s.bin %s\n' "$DATA" "$2" "$2" "$WORK/back-psftp-$2" >"$WORK/psftp-$2.cmd"
  psftp -v $(putty_opts "$1") -b "$WORK/psftp-$2.cmd" "$SF_USER@127.0.0.1" </dev/null >"$WORK/psftp-$2.log" 2>&1 ||
    { tail -3 "$WORK/psftp-$2.log"; return 1; }
  # psftp falls back to exec'ing /usr/lib/sftp-server when the subsystem is
  # refused: the case is about the subsystem.
  if grep -i fallback "$WORK/psftp-$2.log"; then return 1; fi
  roundtrip_ok "$2" "$WORK/back-psftp-$2"
}
# shellcheck disable=SC2046
plink_forward() {
  local lport=$(($1 + 5000)) pid rc=1
  plink $(putty_opts "$1") -N -L "127.0.0.1:$lport:127.0.0.1:$ECHO_PORT" "$SF_USER@127.0.0.1" </dev/null &
  pid=$!
  # Watched with ss, not by connecting: a probe would be forwarded too.
  if wait_until 10 t_listening "$lport"; then
    head -c 1000000 "$DATA" >"$WORK/fwd-in"
    timeout 20 socat -t 10 - "TCP:127.0.0.1:$lport" <"$WORK/fwd-in" >"$WORK/fwd-out"
    if cmp -s "$WORK/fwd-in" "$WORK/fwd-out"; then rc=0
    else echo "echoed $(wc -c <"$WORK/fwd-out") bytes of 1000000, not the same"; fi
  else
    echo "plink -L did not listen on $lport"
  fi
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  return "$rc"
}

jsch_client() { local p=$1; shift; java -cp "$JSCH_JAR" "$SRC/tests/helpers/JschClient.java" "$p" "$SF_USER" "$KEYS/jsch" "$@" </dev/null; }
jsch_exec() { local out rc; out=$(jsch_client "$1" exec "$EXEC_CMD"); rc=$?; exec_ok "$rc" "$out"; }
jsch_sftp() { jsch_client "$1" sftp "$DATA" "up-$2.bin" "$WORK/back-jsch-$2" && roundtrip_ok "$2" "$WORK/back-jsch-$2"; }
jsch_pty() { timeout 30 java -cp "$JSCH_JAR" "$SRC/tests/helpers/JschClient.java" "$1" "$SF_USER" "$KEYS/jsch" pty </dev/null; }
jsch_forward() { jsch_client "$1" forward 127.0.0.1 "$ECHO_PORT" 1000000; }

# rsync and git speak through OpenSSH's ssh to programs the user's shell runs.
make_tree() {
  mkdir -p "$WORK/tree/a/b" "$WORK/tree/empty"
  head -c 200000 /dev/urandom >"$WORK/tree/a/one"
  head -c 1000000 /dev/urandom >"$WORK/tree/a/b/two"
  : >"$WORK/tree/zero"
  echo hi >"$WORK/tree/with space"
  ln -s a/one "$WORK/tree/link"
  chmod 640 "$WORK/tree/a/one"
}
make_tree
rsync_rt() {
  rm -rf "$WORK/rsync-back-$2"
  rsync -a -e "$SSH_CMD -p $1" "$WORK/tree/" "$SF_USER@127.0.0.1:tree-$2/" &&
    rsync -a -e "$SSH_CMD -p $1" "$SF_USER@127.0.0.1:tree-$2/" "$WORK/rsync-back-$2/" || return 1
  diff -r --no-dereference "$WORK/tree" "$SF_HOME/tree-$2" && diff -r --no-dereference "$WORK/tree" "$WORK/rsync-back-$2"
}

GIT=(git -c user.name=Test -c user.email=test@example.invalid -c init.defaultBranch=main -c safe.directory='*')
git_rt() {
  local repo=$SF_HOME/repo-$2.git clone=$WORK/clone-$2 want got
  su -s /bin/sh -c "git init -q --bare -b main '$repo'" "$SF_USER" || return 1
  export GIT_SSH_COMMAND="$SSH_CMD"
  "${GIT[@]}" clone -q "ssh://$SF_USER@127.0.0.1:$1$repo" "$clone" 2>&1 || return 1
  echo "$2" >"$clone/file"
  "${GIT[@]}" -C "$clone" add file && "${GIT[@]}" -C "$clone" commit -q -m "from $2" || return 1
  "${GIT[@]}" -C "$clone" push -q origin main 2>&1 || return 1
  rm -rf "$clone"
  "${GIT[@]}" clone -q "ssh://$SF_USER@127.0.0.1:$1$repo" "$clone" 2>&1 || return 1
  want=$2; got=$(cat "$clone/file" 2>/dev/null)
  [ "$got" = "$want" ] || { echo "the clone after the push holds '$got', want '$want'"; return 1; }
}

# mcase CLIENT FEATURE FN [OUR_PORT [CONTROL_PORT]]: FN against OpenSSH's
# sshd (the control, on CONTROL_PORT, default OPENSSH_PORT) and against
# envinit-sshd (on OUR_PORT, default SF_PORT).
ROWS=()
mcase() {
  local client=$1 feat=$2 fn=$3 port=${4:-$SF_PORT} cport=${5:-$OPENSSH_PORT} o=FAIL e=FAIL
  if "$fn" "$cport" "openssh" >"$WORK/why.o" 2>&1; then o=ok; fi
  if "$fn" "$port" "envinit" >"$WORK/why.e" 2>&1; then e=ok; fi
  if [ $o = ok ]; then pass "openssh-control/$client/$feat"
  else fail "openssh-control/$client/$feat" "setup problem: fails on OpenSSH's sshd too: $(tail -3 "$WORK/why.o" | tr '\n' ' ')"; fi
  if [ $e = ok ] && [ $o = ok ]; then pass "$client/$feat"
  elif [ $o != ok ]; then
    fail "$client/$feat" "setup problem (OpenSSH's sshd fails the case too), envinit-sshd: $e $(tail -3 "$WORK/why.e" | tr '\n' ' ')"
  else fail "$client/$feat" "$(tail -3 "$WORK/why.e" | tr '\n' ' ')"; fi
  ROWS+=("$client|$feat|$e|$o")
}

mcase go-x-crypto exec-status go_exec
mcase go-x-crypto pty-window-change go_pty
mcase go-pkg-sftp sftp-roundtrip go_sftp
mcase go-x-crypto direct-tcpip go_forward
mcase paramiko exec-status pm_exec
mcase paramiko pty-window-change pm_pty
mcase paramiko sftp-roundtrip pm_sftp
mcase paramiko direct-tcpip pm_forward
mcase plink exec-status plink_exec
mcase plink pty-window-change plink_pty
mcase psftp put-get psftp_rt
mcase plink local-forward plink_forward
mcase jsch exec-status jsch_exec $JSCH_PORT $JSCH_CONTROL_PORT
mcase jsch sftp-roundtrip jsch_sftp $JSCH_PORT $JSCH_CONTROL_PORT
mcase jsch pty-window-change jsch_pty $JSCH_PORT $JSCH_CONTROL_PORT
mcase jsch local-forward jsch_forward $JSCH_PORT $JSCH_CONTROL_PORT
mcase rsync tree-up-down rsync_rt
mcase git clone-push git_rt

echo "# client matrix (envinit-sshd / OpenSSH's sshd); curl sftp:// and scp:// (libssh2): 53-sshd-audit"
printf '# %-12s %-18s %-13s %s\n' client feature envinit-sshd openssh
for r in "${ROWS[@]}"; do
  IFS='|' read -r c f e o <<<"$r"
  printf '# %-12s %-18s %-13s %s\n' "$c" "$f" "$e" "$o"
done
exit 0
