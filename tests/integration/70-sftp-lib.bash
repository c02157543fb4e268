# Helpers for tests/integration/70-sftp.sh and bench/sftp.sh (not a test:
# run.sh runs *.sh only). Sourced after tests/lib.sh by a script that already
# runs in private mount and network namespaces (`unshare --mount --net`):
# a test user that exists only in this mount namespace, OpenSSH's sshd with a
# chosen sftp Subsystem, and envinit-sshd, all on 127.0.0.1 of that network
# namespace. Nothing here talks to any other address.

SFTP_USER=sftpuser
SFTP_UID=4713
SFTP_HOME=/home/$SFTP_USER
SFTP_SERVER=${SFTP_SERVER:-$BUILD_DIR/tests/envinit-sftp-server}
SFTP_FALLBACK=${SFTP_FALLBACK:-$SRC/envinit-sshd}
SFTP_PIDS=()

# sftp_t_setup: loopback up, the user (passwd, group, shadow bind-mounted
# copies), a tmpfs /home and /run (with sshd's /run/sshd), a client key
# authorized for the user, and a host key.
sftp_t_setup() {
  ip link set lo up
  ns_user "$SFTP_USER" "$SFTP_UID" "$SFTP_HOME"
  mount -t tmpfs -o mode=755 tmpfs /home
  mount -t tmpfs -o mode=755 tmpfs /run
  mkdir -m 755 /run/sshd
  mkdir -p "$SFTP_HOME/.ssh"
  ssh-keygen -q -t ed25519 -N '' -C sftp-test -f "$WORK/id"
  ssh-keygen -q -t ed25519 -N '' -C sftp-host -f "$WORK/hostkey"
  cp "$WORK/id.pub" "$SFTP_HOME/.ssh/authorized_keys"
  chown -R $SFTP_UID:$SFTP_UID "$SFTP_HOME"
  chmod 700 "$SFTP_HOME/.ssh"
  chmod 755 "$WORK"
}

# sftp_listening PORT: a socket LISTENs on PORT in this network namespace.
sftp_listening() {
  local hex
  hex=$(printf '%04X' "$1")
  awk -v p=":$hex" 'NR > 1 && $4 == "0A" && substr($2, length($2) - 4) == p { f = 1 } END { exit !f }' \
    /proc/net/tcp
}

# sftp_start_openssh PORT SUBSYSTEM: Debian's sshd on 127.0.0.1:PORT with
# `Subsystem sftp SUBSYSTEM` (a path, or internal-sftp).
sftp_start_openssh() {
  local port=$1 sub=$2 conf=$WORK/sshd_config.$1
  cat >"$conf" <<CFG
Port $port
ListenAddress 127.0.0.1
HostKey $WORK/hostkey
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
AuthorizedKeysFile .ssh/authorized_keys
StrictModes no
PidFile none
LogLevel ERROR
Subsystem sftp $sub
CFG
  /usr/sbin/sshd -D -e -f "$conf" 2>>"$WORK/sshd.$port.log" &
  SFTP_PIDS+=($!)
  at_exit "kill $! 2>/dev/null"
  wait_until 5 sftp_listening "$port" || { echo "sshd on $port did not start:"; cat "$WORK/sshd.$port.log"; return 1; }
}

# sftp_start_fallback PORT: envinit-sshd standalone on 127.0.0.1:PORT.
sftp_start_fallback() {
  local port=$1
  "$SFTP_FALLBACK" -p "$port" -l 127.0.0.1 -k "$WORK/fallback_hostkey" -u "$SFTP_USER" \
    --passwd "$WORK/passwd" --group "$WORK/group" -q 2>>"$WORK/fallback.$port.log" &
  SFTP_PIDS+=($!)
  at_exit "kill $! 2>/dev/null"
  wait_until 5 sftp_listening "$port" || { echo "envinit-sshd on $port did not start:"; cat "$WORK/fallback.$port.log"; return 1; }
}

SFTP_CLIENT_OPTS=(-F /dev/null -i "$WORK/id" -o IdentitiesOnly=yes -o BatchMode=yes
  -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=error
  -o ConnectTimeout=10)

# sftp_batch PORT [SFTP OPTIONS...] <<<COMMANDS: the real sftp client, batch mode.
sftp_batch() { local port=$1; shift; sftp "${SFTP_CLIENT_OPTS[@]}" -P "$port" "$@" -b - "$SFTP_USER@127.0.0.1"; }
# sftp_scp PORT ARGS...: the real scp (sftp mode); "R:" in ARGS means the server.
sftp_scp() {
  local port=$1 a args=(); shift
  for a; do args+=("${a/#R:/$SFTP_USER@127.0.0.1:}"); done
  scp "${SFTP_CLIENT_OPTS[@]}" -P "$port" "${args[@]}"
}
