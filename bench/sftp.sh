#!/bin/bash
# bench/sftp.sh — sftp throughput of sshfallback's SFTP subsystem (sftp.c)
# against OpenSSH's, all in one run on the same machine.
#
#   bench/sftp.sh [--size MIB] [--runs N]
#
# Servers, each Debian's OpenSSH sshd on 127.0.0.1 of a private network
# namespace, differing only in `Subsystem sftp`:
#   internal-sftp   OpenSSH's built-in server (the reference: ratio 1.00x)
#   sftp-server     OpenSSH's /usr/lib/openssh/sftp-server
#   sftp.c          build/tests/envinit-sftp-server (sshfallback/sftp.c)
# plus envinit-sshd alone when its session code serves sftp (sf_sftp_serve in
# sshfallback/session.c) — that one differs in the SSH layer as well.
# For each cipher (aes128-gcm@openssh.com, chacha20-poly1305@openssh.com):
# `get` (download) and `put` (upload) of a --size (default 1024) MiB random
# file with the real sftp client, both ends on tmpfs; MB/s is the median of
# --runs (default 4) rounds, servers interleaved within a round so background
# load hits all alike, and the order rotated from round to round (use a
# multiple of the server count). Server CPU is the CPU time of the sshd's
# connection processes plus the sftp server (a cpuacct cgroup per server).
# Raw timings go to bench/results/sftp-<time>/.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

SIZE=1024 RUNS=4
ARGS=("$@")
while [ $# -gt 0 ]; do
  case $1 in
    --size) SIZE=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench/sftp.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

if [ -z "${BENCH_SFTP_INNER:-}" ]; then
  [ "$(id -u)" -eq 0 ] || { echo "bench/sftp.sh: needs root (namespaces)" >&2; exit 1; }
  make --no-print-directory build/tests/envinit-sftp-server >/dev/null
  BENCH_SFTP_OUT=$ROOT/bench/results/sftp-$(date -u +%Y%m%dT%H%M%SZ)
  export BENCH_SFTP_INNER=1 BENCH_SFTP_OUT
  mkdir -p "$BENCH_SFTP_OUT"
  exec unshare --mount --net -- bash "$0" "${ARGS[@]}"
fi

export TEST_SRC=$ROOT
source "$ROOT/tests/lib.sh"
set -e
source "$ROOT/tests/integration/70-sftp-lib.bash"
for c in sftp ssh ssh-keygen /usr/sbin/sshd /usr/lib/openssh/sftp-server; do
  command -v "$c" >/dev/null || { echo "bench/sftp.sh: $c missing (.ci/deps test)" >&2; exit 1; }
done
sftp_t_setup
CL=$WORK/client
mkdir -p "$CL"
mount -t tmpfs -o size=$((SIZE * 2 + 64))m tmpfs "$CL"
at_exit "umount -l $CL"
head -c "${SIZE}M" /dev/urandom >"$CL/big"
cp "$CL/big" "$SFTP_HOME/big"
chown $SFTP_UID "$SFTP_HOME/big"
BYTES=$((SIZE * 1024 * 1024))

# Each server runs in a cpuacct cgroup of its own (cgroup v1, as on this
# machine), so its CPU time counts every process of every connection.
CG_ROOT=/sys/fs/cgroup/cpuacct
[ -w "$CG_ROOT/cgroup.procs" ] || { echo "bench/sftp.sh: needs a writable cpuacct cgroup at $CG_ROOT" >&2; exit 1; }
NAMES=() PORTS=() CGROUPS=()
cg_new() { # NAME: a fresh cgroup, removed at exit once its processes are gone
  local cg=$CG_ROOT/envinit-bench-sftp-$$-$1
  mkdir "$cg"
  at_exit "for i in \$(seq 50); do rmdir '$cg' 2>/dev/null && break; sleep 0.1; done"
  CGROUPS+=("$cg")
}
cg_join() { echo "$2" >"$1/cgroup.procs"; }
add_openssh() { # NAME PORT SUBSYSTEM
  cg_new "$1"
  sftp_start_openssh "$2" "$3"
  cg_join "${CGROUPS[-1]}" "${SFTP_PIDS[-1]}"
  NAMES+=("$1") PORTS+=("$2")
}
add_openssh internal-sftp 2301 internal-sftp
add_openssh sftp-server 2302 /usr/lib/openssh/sftp-server
add_openssh sftp.c 2303 "$SFTP_SERVER"
# BENCH_SFTP_EXTRA="name=/path/to/server ...": more Subsystem binaries to compare.
port=2310
for e in ${BENCH_SFTP_EXTRA:-}; do
  add_openssh "${e%%=*}" $port "${e#*=}"
  port=$((port + 1))
done
[ -x "$SFTP_FALLBACK" ] || { echo "bench/sftp.sh: $SFTP_FALLBACK not built (make envinit-sshd)" >&2; exit 1; }
cg_new envinit-sshd
sftp_start_fallback 2304
cg_join "${CGROUPS[-1]}" "${SFTP_PIDS[-1]}"
NAMES+=(envinit-sshd) PORTS+=(2304)
cg_new client
CLIENT_CG=${CGROUPS[-1]}
unset 'CGROUPS[-1]'
CIPHERS=(aes128-gcm@openssh.com chacha20-poly1305@openssh.com)
RAW=$BENCH_SFTP_OUT/raw.txt
: >"$RAW"

cg_ms() { echo $(($(cat "$1/cpuacct.usage") / 1000000)); }
# one INDEX CIPHER DIR: "wall_ms server_cpu_ms client_cpu_ms" of one transfer.
one() {
  local port=${PORTS[$1]} cg=${CGROUPS[$1]} cipher=$2 dir=$3 t0 t1 c0 c1 k0 k1 cmd
  if [ "$dir" = get ]; then cmd="get big $CL/dl"; else cmd="put $CL/big up"; fi
  c0=$(cg_ms "$cg")
  t0=$(date +%s%N)
  k0=$(cg_ms "$CLIENT_CG")
  # the client (sftp and its ssh) in a cgroup of its own as well
  sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$CLIENT_CG" sftp "${SFTP_CLIENT_OPTS[@]}" \
    -P "$port" -c "$cipher" -b - "$SFTP_USER@127.0.0.1" <<<"$cmd" >/dev/null 2>"$WORK/err" ||
    { cat "$WORK/err" >&2; return 1; }
  t1=$(date +%s%N)
  # the connection's processes may still be finishing
  wait_until 10 eval '[ "$(wc -l <"$cg/cgroup.procs")" -le 1 ]'
  c1=$(cg_ms "$cg") k1=$(cg_ms "$CLIENT_CG")
  if [ "$dir" = get ]; then [ "$(stat -c %s "$CL/dl")" -eq $BYTES ]; rm -f "$CL/dl"; else
    [ "$(stat -c %s "$SFTP_HOME/up")" -eq $BYTES ]; rm -f "$SFTP_HOME/up"; fi
  echo "$(( (t1 - t0) / 1000000 )) $((c1 - c0)) $((k1 - k0))"
}

echo "sftp: $SIZE MiB, $RUNS rounds, servers: ${NAMES[*]}" >&2
for r in $(seq "$RUNS"); do
  for c in "${CIPHERS[@]}"; do
    for d in get put; do
      # The first transfer of a group runs measurably faster (by ~10 % here:
      # it follows a transfer the other way), so each round starts with the
      # next server: with --runs a multiple of the server count, every
      # server is first equally often.
      for k in "${!NAMES[@]}"; do
        i=$(( (k + r - 1) % ${#NAMES[@]} ))
        m=$(one "$i" "$c" "$d")
        echo "${NAMES[$i]} $c $d $r $m" >>"$RAW"
        echo "  round $r ${NAMES[$i]} $c $d: wall, server CPU, client CPU (ms): $m" >&2
      done
    done
  done
done

# median NAME CIPHER DIR FIELD: FIELD 5 wall ms, 6 server CPU ms, 7 client CPU ms.
median() { awk -v n="$1" -v c="$2" -v d="$3" -v f="$4" '$1 == n && $2 == c && $3 == d { print $f }' "$RAW" |
  sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

{
  echo "sftp, $SIZE MiB each way, median of $RUNS rounds; ratios to internal-sftp (higher is better);"
  echo "server CPU = sshd's connection processes + the sftp server, per GiB; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
  printf '| server | cipher | download MB/s | ratio | server CPU s/GiB | ratio | upload MB/s | ratio | server CPU s/GiB | ratio |\n'
  printf '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n'
  for c in "${CIPHERS[@]}"; do
    ref_get_w=$(median internal-sftp "$c" get 5) ref_get_c=$(median internal-sftp "$c" get 6)
    ref_put_w=$(median internal-sftp "$c" put 5) ref_put_c=$(median internal-sftp "$c" put 6)
    for n in "${NAMES[@]}"; do
      awk -v n="$n" -v c="${c%%@*}" -v b=$BYTES -v gw="$(median "$n" "$c" get 5)" -v gc="$(median "$n" "$c" get 6)" \
        -v pw="$(median "$n" "$c" put 5)" -v pc="$(median "$n" "$c" put 6)" -v rgw="$ref_get_w" -v rgc="$ref_get_c" \
        -v rpw="$ref_put_w" -v rpc="$ref_put_c" -v gib=$((BYTES)) 'BEGIN {
          k = 1073741824 / gib / 1000
          printf "| %s | %s | %.0f | %.2fx | %.2f | %.2fx | %.0f | %.2fx | %.2f | %.2fx |\n", n, c,
            b / gw / 1000, rgw / gw, gc * k, rgc / gc, b / pw / 1000, rpw / pw, pc * k, rpc / pc }'
    done
  done
} | tee "$BENCH_SFTP_OUT/table.md"
echo "raw: $RAW"
