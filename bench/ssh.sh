#!/bin/bash
# bench/ssh.sh — envinit-sshd against OpenSSH's sshd and dropbear (Debian),
# in one run, in one private network namespace (loopback only), with the
# default OpenSSH client settings and ed25519 keys:
#   connect   median wall time of `ssh host true` over RUNS runs (default 20)
#   down/up   1 GiB server->client and client->server, chacha20-poly1305 and
#             aes128-gcm (MiB/s): median of REPS (default 3) interleaved rounds;
#             and the server's CPU time per GiB (all its processes, from a
#             cpuacct cgroup per server when /sys/fs/cgroup/cpuacct is writable)
#   -L        1 GiB through `ssh -L` to a loopback TCP server (socat), server
#             -> client (down) and client -> server (up), default cipher (MiB/s)
#   100x      100 concurrent `ssh host 'sleep 1'`: successes and wall time
#   RSS       the listener's, and one connection's server-side processes
#             (sum of VmRSS, and PSS) while a session runs `sleep`
#   kex       the server's CPU per handshake for each key exchange
#             envinit-sshd offers (SF_KEX in sshfallback/sshfallback.h),
#             envinit-sshd and OpenSSH: KEX_RUNS (default 30) connections
#             each that stop after the key exchange (the client has no
#             authentication method left after "none"), in interleaved
#             rounds of 10; CPU from the server's cpuacct cgroup (else
#             the listener's utime+stime+cutime+cstime from /proc), read
#             once every connection process is gone
# Prints a table and the ratios envinit-sshd/OpenSSH.
# Usage: bench/ssh.sh   (root; make envinit-sshd; bash .ci/deps test bench)
#   SECTIONS="connect tput fwd conc mem kex" (default all), RUNS, REPS, SIZE
#   (bytes), KEX_RUNS
set -uo pipefail
if [ -z "${SF_IN_NS:-}" ]; then export SF_IN_NS=1; exec unshare -mn -- bash "$0" "$@"; fi
SRC=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/envinit-bench-ssh.XXXXXX)
PIDS=()
CGS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for cg in "${CGS[@]}"; do for _ in $(seq 50); do rmdir "$cg" 2>/dev/null && break; sleep 0.1; done; done
  rm -rf "$WORK"
}
trap cleanup EXIT
RUNS=${RUNS:-20}
REPS=${REPS:-3}
SECTIONS=${SECTIONS:-connect tput fwd conc mem kex}
KEX_RUNS=${KEX_RUNS:-30}
on() { case " $SECTIONS " in *" $1 "*) return 0 ;; esac; return 1; }
SIZE=${SIZE:-$((1 << 30))}
for c in ssh /usr/sbin/sshd dropbear dropbearkey ip socat; do
  command -v "$c" >/dev/null || { echo "bench: $c missing (bash .ci/deps test bench)" >&2; exit 1; }
done
[ -x "$SRC/envinit-sshd" ] || { echo "bench: build envinit-sshd first (make envinit-sshd)" >&2; exit 1; }
ip link set lo up

# The user exists for all three servers: OpenSSH and dropbear use NSS, so a
# copy of /etc/passwd with the user is bind-mounted in this mount namespace.
U=benchuser UID_=4343 H=$WORK/home
mkdir -p "$H/.ssh" /run/sshd
chmod 755 "$WORK"
ssh-keygen -q -t ed25519 -N '' -f "$WORK/id"
cp "$WORK/id.pub" "$H/.ssh/authorized_keys"
chown -R $UID_:$UID_ "$H"; chmod 755 "$H"; chmod 700 "$H/.ssh"
cp /etc/passwd "$WORK/passwd"; echo "$U:x:$UID_:$UID_::$H:/bin/sh" >>"$WORK/passwd"
cp /etc/group "$WORK/group"; echo "$U:x:$UID_:" >>"$WORK/group"
mount --bind "$WORK/passwd" /etc/passwd
mount --bind "$WORK/group" /etc/group

"$SRC/envinit-sshd" -p 2222 -l 127.0.0.1 -k "$WORK/hk_ours" -u $U -q 2>"$WORK/ours.log" &
PIDS+=($!); OURS=$!
ssh-keygen -q -t ed25519 -N '' -f "$WORK/hk_openssh"
printf 'Port 2223\nListenAddress 127.0.0.1\nHostKey %s\nPidFile none\nUsePAM no\n' \
  "$WORK/hk_openssh" >"$WORK/sshd_config"
/usr/sbin/sshd -f "$WORK/sshd_config" -D -e 2>"$WORK/openssh.log" &
PIDS+=($!); OPENSSH=$!
dropbearkey -t ed25519 -f "$WORK/hk_dropbear" >/dev/null 2>&1
dropbear -F -E -s -p 127.0.0.1:2224 -r "$WORK/hk_dropbear" -P "$WORK/db.pid" 2>"$WORK/dropbear.log" &
PIDS+=($!); DROPBEAR=$!

# the -L targets: 1 GiB out of port 2300, a byte count back from port 2301
socat -b 262144 TCP-LISTEN:2300,bind=127.0.0.1,reuseaddr,fork SYSTEM:"head -c $SIZE /dev/zero" &
PIDS+=($!)
socat -b 262144 TCP-LISTEN:2301,bind=127.0.0.1,reuseaddr,fork SYSTEM:"wc -c" &
PIDS+=($!)

NAMES=(envinit-sshd openssh dropbear)
declare -A PORT=([envinit-sshd]=2222 [openssh]=2223 [dropbear]=2224)
declare -A LPID=([envinit-sshd]=$OURS [openssh]=$OPENSSH [dropbear]=$DROPBEAR)
SSH=(ssh -F /dev/null -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null
     -o LogLevel=error -o BatchMode=yes -o IdentitiesOnly=yes -i "$WORK/id")
for n in "${NAMES[@]}"; do
  for i in $(seq 50); do "${SSH[@]}" -p ${PORT[$n]} $U@127.0.0.1 true 2>/dev/null && break; sleep 0.1; done
done

# Server CPU: each listener in a cpuacct cgroup of its own (cgroup v1, as on
# this machine) when one is writable, so every process of its connections
# counts (the remote `head`/`wc` too, the same for every server).
CG_ROOT=/sys/fs/cgroup/cpuacct
declare -A CG
if [ -w "$CG_ROOT/cgroup.procs" ]; then
  for n in "${NAMES[@]}"; do
    CG[$n]=$CG_ROOT/envinit-bench-ssh-$$-$n
    mkdir "${CG[$n]}" && CGS+=("${CG[$n]}") && echo "${LPID[$n]}" >"${CG[$n]}/cgroup.procs"
  done
fi
cpu_ms() { if [ -n "${CG[$1]:-}" ]; then echo $(($(cat "${CG[$1]}/cpuacct.usage") / 1000000)); else echo 0; fi; }
# cpu_per_gib C0 C1: server CPU ms per GiB moved
cpu_per_gib() { echo $((($2 - $1) * 1073741824 / SIZE)); }

now() { date +%s%N; }
ms() { echo $((($2 - $1) / 1000000)); }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
declare -A R

# throughput: REPS rounds, each moving SIZE bytes per server, cipher and
# direction, the servers interleaved so that a change of machine load hits
# all of them alike; the median round counts. A transfer counts only when
# every byte arrived (else "fail").
mibs() { awk -v b="$SIZE" -v m="$(ms "$1" "$2")" 'BEGIN {printf "%.0f", b/1048576/(m/1000)}'; }
if on tput; then
  for _ in $(seq "$REPS"); do
    for c in chacha20-poly1305@openssh.com aes128-gcm@openssh.com; do
      k=${c%%@*}
      for n in "${NAMES[@]}"; do
        p=${PORT[$n]}
        c0=$(cpu_ms $n); t0=$(now)
        got=$("${SSH[@]}" -c $c -p $p $U@127.0.0.1 "head -c $SIZE /dev/zero" | wc -c)
        t1=$(now); c1=$(cpu_ms $n)
        v=fail; [ "$got" = "$SIZE" ] && v=$(mibs "$t0" "$t1")
        echo "$v" >>"$WORK/t.$n.down_$k"
        [ -n "${CG[$n]:-}" ] && [ "$v" != fail ] && cpu_per_gib "$c0" "$c1" >>"$WORK/t.$n.cpu_down_$k"
        c0=$(cpu_ms $n); t0=$(now)
        got=$(head -c $SIZE /dev/zero | "${SSH[@]}" -c $c -p $p $U@127.0.0.1 'wc -c')
        t1=$(now); c1=$(cpu_ms $n)
        v=fail; [ "${got// /}" = "$SIZE" ] && v=$(mibs "$t0" "$t1")
        echo "$v" >>"$WORK/t.$n.up_$k"
        [ -n "${CG[$n]:-}" ] && [ "$v" != fail ] && cpu_per_gib "$c0" "$c1" >>"$WORK/t.$n.cpu_up_$k"
      done
    done
  done
  for f in "$WORK"/t.*; do
    b=${f##*/t.}
    # any failed transfer fails the cell; each round is printed as well
    if grep -q fail "$f"; then R[${b%%.*},${b#*.}]=fail; else R[${b%%.*},${b#*.}]=$(median <"$f"); fi
    case $b in *.cpu_*) unit=ms/GiB ;; *) unit=MiB/s ;; esac
    echo "# rounds ${b%%.*} ${b#*.}: $(tr '\n' ' ' <"$f")$unit"
  done
fi

# pre-authentication CPU per key exchange: the server's cpuacct cgroup
# (above) when there is one, which counts every process. Else the
# listener's utime+stime+cutime+cstime from /proc: a connection's CPU lands
# in cutime/cstime when the listener reaps it, but a process its parent
# leaves unreaped escapes (OpenSSH's pre-auth privsep child, whose monitor
# exits without waiting for it after a failed login), so OpenSSH's figure
# is then too low.
KEXES=$(awk '/^#define SF_KEX /{f=1} f{print; if ($0 !~ /\\$/) exit}' "$SRC/sshfallback/sshfallback.h" |
  grep -o '"[^"]*"' | tr -d '"\n' | tr ',' ' ')
TCK=$(getconf CLK_TCK)
kex_cpu_ms() { # NAME
  if [ -n "${CG[$1]:-}" ]; then cpu_ms "$1"; return; fi
  awk -v t="$TCK" '{printf "%.0f", ($14 + $15 + $16 + $17) * 1000 / t}' "/proc/${LPID[$1]}/stat"
}
reaped() { # NAME: only the listener is left
  if [ -n "${CG[$1]:-}" ]; then [ "$(wc -l <"${CG[$1]}/cgroup.procs")" -le 1 ]; else ! pgrep -P "${LPID[$1]}" >/dev/null; fi
}
if on kex; then
  [ -n "$KEXES" ] || { echo "bench: no SF_KEX in sshfallback/sshfallback.h" >&2; exit 1; }
  rounds=$(((KEX_RUNS + 9) / 10))
  for k in $KEXES; do
    declare -A kcpu=() kok=()
    for _ in $(seq "$rounds"); do
      for n in envinit-sshd openssh; do
        for i in $(seq 50); do reaped $n && break; sleep 0.05; done
        c0=$(kex_cpu_ms $n)
        for _ in $(seq 10); do
          out=$("${SSH[@]}" -o KexAlgorithms="$k" -o PubkeyAuthentication=no -o PasswordAuthentication=no \
            -o KbdInteractiveAuthentication=no -p "${PORT[$n]}" $U@127.0.0.1 true 2>&1 </dev/null)
          case "$out" in *'Permission denied'*) kok[$n]=$((${kok[$n]:-0} + 1)) ;; esac
        done
        for i in $(seq 100); do reaped $n && break; sleep 0.05; done
        kcpu[$n]=$((${kcpu[$n]:-0} + $(kex_cpu_ms $n) - c0))
      done
    done
    for n in envinit-sshd openssh; do
      # a handshake that failed fails the cell
      if [ "${kok[$n]:-0}" -ne $((rounds * 10)) ]; then R[$n,kex_$k]=fail; continue; fi
      R[$n,kex_$k]=$(awk -v c="${kcpu[$n]}" -v r=$((rounds * 10)) 'BEGIN {printf "%.1f", c / r}')
    done
    unset kcpu kok
  done
fi

for n in "${NAMES[@]}"; do
  p=${PORT[$n]}
  # connect latency
  on connect && for i in $(seq "$RUNS"); do
    t0=$(now); "${SSH[@]}" -p $p $U@127.0.0.1 true; t1=$(now); echo $(((t1 - t0) / 1000))
  done | median >"$WORK/lat"
  on connect && R[$n,connect_ms]=$(awk '{printf "%.1f", $1/1000}' "$WORK/lat")
  # -L: 1 GiB each way through a forwarded port to a loopback socat
  lp=$((p + 100))
  if on fwd; then
  "${SSH[@]}" -N -o ExitOnForwardFailure=yes -L $lp:127.0.0.1:2300 -L $((lp + 1)):127.0.0.1:2301 \
    -p $p $U@127.0.0.1 </dev/null &
  fp=$!
  for i in $(seq 100); do ss -Hltn "sport = :$((lp + 1))" | grep -q LISTEN && break; sleep 0.05; done
  t0=$(now); got=$(socat -b 262144 -u TCP:127.0.0.1:$lp - | wc -c); t1=$(now)
  R[$n,fwd_down]=fail
  [ "$got" = "$SIZE" ] && R[$n,fwd_down]=$(awk -v b=$SIZE -v m="$(ms "$t0" "$t1")" 'BEGIN {printf "%.0f", b/1048576/(m/1000)}')
  t0=$(now); got=$(head -c $SIZE /dev/zero | socat -b 262144 - TCP:127.0.0.1:$((lp + 1)),shut-down); t1=$(now)
  R[$n,fwd_up]=fail
  [ "${got// /}" = "$SIZE" ] && R[$n,fwd_up]=$(awk -v b=$SIZE -v m="$(ms "$t0" "$t1")" 'BEGIN {printf "%.0f", b/1048576/(m/1000)}')
  kill $fp; wait $fp 2>/dev/null
  fi
  # 100 concurrent sessions
  if on conc; then
  pids=()
  t0=$(now)
  for i in $(seq 100); do
    "${SSH[@]}" -p $p $U@127.0.0.1 'sleep 1; echo ok' >"$WORK/c.$n.$i" 2>/dev/null </dev/null &
    pids+=($!)
  done
  for q in "${pids[@]}"; do wait "$q"; done
  t1=$(now)
  R[$n,conc_ok]=$(cat "$WORK"/c.$n.* | grep -c '^ok$')
  R[$n,conc_ms]=$(ms $t0 $t1)
  fi
  on mem || continue
  # memory: the listener, and one connection's server-side processes
  l=${LPID[$n]}
  R[$n,listener_kb]=$(awk '/^VmRSS/ {print $2}' /proc/$l/status)
  "${SSH[@]}" -p $p $U@127.0.0.1 'sleep 4' </dev/null &
  sp=$!
  for i in $(seq 100); do pgrep -u $UID_ -x sleep >/dev/null && break; sleep 0.05; done
  sleep 0.3
  desc() { local q; for q in $(pgrep -P "$1"); do echo "$q"; desc "$q"; done; }
  rss=0 pss=0
  for q in $(desc $l); do
    case "$(cat /proc/$q/comm 2>/dev/null)" in sleep|sh|bash) continue ;; esac
    rss=$((rss + $(awk '/^VmRSS/ {print $2}' /proc/$q/status)))
    pss=$((pss + $(awk '/^Pss:/ {print $2}' /proc/$q/smaps_rollup)))
  done
  R[$n,conn_kb]=$rss
  R[$n,conn_pss_kb]=$pss
  wait $sp
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (a+0 > 0 && b+0 > 0) printf "%.2fx", a / b; else printf "n/a"}'; }
printf '%-50s %14s %14s %14s %16s\n' metric envinit-sshd openssh dropbear 'ours/openssh'
row() { # LABEL KEY
  printf '%-50s %14s %14s %14s %16s\n' "$1" "${R[envinit-sshd,$2]:--}" "${R[openssh,$2]:--}" \
    "${R[dropbear,$2]:--}" "$(ratio "${R[envinit-sshd,$2]:-}" "${R[openssh,$2]:-}")"
}
row 'connect median (ms)' connect_ms
row 'down chacha20 (MiB/s)' down_chacha20-poly1305
row 'up chacha20 (MiB/s)' up_chacha20-poly1305
row 'down aes128-gcm (MiB/s)' down_aes128-gcm
row 'up aes128-gcm (MiB/s)' up_aes128-gcm
row 'server CPU down chacha20 (ms/GiB)' cpu_down_chacha20-poly1305
row 'server CPU up chacha20 (ms/GiB)' cpu_up_chacha20-poly1305
row 'server CPU down aes128-gcm (ms/GiB)' cpu_down_aes128-gcm
row 'server CPU up aes128-gcm (ms/GiB)' cpu_up_aes128-gcm
row '-L down (MiB/s)' fwd_down
row '-L up (MiB/s)' fwd_up
row '100x sleep 1: successes' conc_ok
row '100x sleep 1: wall (ms)' conc_ms
row 'listener RSS (KiB)' listener_kb
row 'connection RSS (KiB)' conn_kb
row 'connection PSS (KiB)' conn_pss_kb
for k in $KEXES; do on kex && row "pre-auth CPU $k (ms)" "kex_$k"; done
echo "# runs=$RUNS reps=$REPS size=$SIZE bytes; kex_runs=$(((KEX_RUNS + 9) / 10 * 10)); $(nproc) CPUs; $(ssh -V 2>&1); $(uname -r)"
