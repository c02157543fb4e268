#!/bin/bash
# CVM mode. A Debian image with systemd and
# openssh-server (`systemctl enable ssh`, the page's sshd_config advice) run
# with ENVINIT_CVM=1 -> envinit writes the key and the environment block, then
# execs systemd: PID 1 is systemd, systemd's sshd serves 22, the key logs in
# and the session has the block's variables. The same without openssh-server
# -> envinit-ssh.service brings up the fallback server instead.
. "$(dirname "$0")/../lib.sh"
. "$SRC/tests/docker/lib.sh"
docker_ready
d_image systemd-ssh IMG_SSH
d_image systemd IMG_NOSSH
d_keypair
# What systemd needs in a container here (--privileged fails on this host);
# SIGRTMIN+3 is systemd's "halt", so `docker stop` ends it cleanly.
SYSTEMD=(--cap-add SYS_ADMIN --tmpfs /run --tmpfs /run/lock -v /sys/fs/cgroup:/sys/fs/cgroup
         --stop-signal SIGRTMIN+3 -e ENVINIT_CVM=1 -e ENVINIT_AUTHORIZED_KEYS="$PUB"
         -e FROM_RUN=passed-at-run)

pid1_is_systemd() { [ "$(docker exec "$1" cat /proc/1/comm 2>/dev/null)" = systemd ]; }

cvm_case() { # NAME IMAGE PATTERN-OF-PORT-22-OWNER [DOCKER-RUN-ARGS...]
  local n=$1 img=$2 want=$3 out; shift 3
  if ! d_run "$n" "${VOL[@]}" --hostname cvmbox "${SYSTEMD[@]}" "$@" "$img"; then
    fail "$n-pid1-systemd" "docker run failed"; return
  fi
  if wait_until 15 pid1_is_systemd "$C"; then pass "$n-pid1-systemd"; else
    fail "$n-pid1-systemd" "/proc/1/comm is '$(docker exec "$C" cat /proc/1/comm 2>&1)'"; d_logs "$C"; return; fi
  if ! d_wait_port "$C" 22 30; then
    fail "$n-ssh-login" "nothing listens on 22 after 30 s"
    docker exec "$C" systemctl --no-pager status envinit-ssh ssh 2>&1 | tail -n 20 | sed 's/^/    | /'
    d_logs "$C"; return
  fi
  out=$(d_ssh "$C" coder 22 'echo "whoami=$(id -un)"; env' 2>&1)
  if grep -qx 'whoami=coder' <<<"$out"; then pass "$n-ssh-login"; else
    fail "$n-ssh-login" "ssh coder@127.0.0.1: $(echo "$out" | tail -n 3 | tr '\n' ' ')"; d_logs "$C"; fi
  d_env_has "$n-env" "$out" FROM_RUN=passed-at-run IMAGE_GREETING=hello-from-debian \
    CODER_USERNAME=coder CODER_ENVIRONMENT_NAME=cvmbox
  # Who serves port 22 (the command line of the process holding the
  # listening socket): systemd's sshd, or envinit-sshd.
  local owner
  owner=$(docker exec "$C" sh -c 'for d in /proc/[0-9]*; do
      for fd in $d/fd/*; do l=$(readlink $fd 2>/dev/null) || continue
        case $l in socket:*) echo "${l#socket:}" "$(tr "\0" " " <$d/cmdline)";; esac; done; done' 2>/dev/null \
    | awk -v ino="$(awk '$4 == "0A" && $2 ~ /:0016$/ { print $10; exit }' /proc/"$(d_pid "$C")"/net/tcp /proc/"$(d_pid "$C")"/net/tcp6)" \
        '$1 == "[" ino "]" { $1 = ""; print; exit }')
  if grep -q -- "$want" <<<"$owner"; then pass "$n-port22-served-by"; else
    fail "$n-port22-served-by" "want a process matching '$want', got '$owner'"; fi
  echo "# $n: envinit-ssh.service: $(docker exec "$C" systemctl is-active envinit-ssh 2>&1)"
  echo "# $n: envinit status:"; d_status "$C" | sed 's/^/#   /'
}

d_envinit_binary
cvm_case cvm-openssh "$IMG_SSH" /usr/sbin/sshd
d_envinit_bundle
# No listener will come: a short ssh_wait keeps the test fast.
cvm_case cvm-fallback "$IMG_NOSSH" /opt/envinit/bin/envinit-sshd -e ENVINIT_SSH_WAIT=2
# the unit's server is named for what it is in ps and pgrep
if pgrep --ns "$(d_pid "$C")" --nslist pid -x envinit-sshd >/dev/null; then pass cvm-fallback-comm; else
  fail cvm-fallback-comm "no process named envinit-sshd: $(pgrep --ns "$(d_pid "$C")" --nslist pid -l '' | tr '\n' ' ')"; fi
exit 0
