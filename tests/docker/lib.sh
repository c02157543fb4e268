# shellcheck shell=bash disable=SC2034
# Helpers for the Docker end-to-end tests (tests/integration/6*-docker-*.sh).
# Source after tests/lib.sh. Every container runs with --network none; its SSH
# server is reached only from inside its own network namespace (nsenter), on
# 127.0.0.1. A missing engine, image or bundle FAILS the test, never skips it.

DOCKER_DIR=$SRC/tests/docker
BUNDLE=${DOCKER_TEST_BUNDLE:-$SRC/dist/envinit}
# DOCKER_TEST_ENVINIT=/usr/bin/tini-static runs the PID-1 scenarios against
# another init, to check the tests themselves.
D_ENVINIT=${DOCKER_TEST_ENVINIT:-$ENVINIT}
D_CONTAINERS=()
D_PREFIX=envinit-test-$SUITE-$$

# docker_ready: an engine answers, or one is started with dockerd.sh.
docker_ready() {
  need_root
  local t
  for t in docker dockerd; do
    command -v $t >/dev/null || { fail docker-installed "$t not installed: run bash tests/docker/ci-setup.sh (or bash .ci/deps docker)"; exit 1; }
  done
  require nsenter ssh ssh-keygen
  if ! timeout 10 docker info >/dev/null 2>&1; then
    if ! bash "$DOCKER_DIR/dockerd.sh" start >"$WORK/dockerd.out" 2>&1; then
      fail docker-engine "no Docker engine answers and tests/docker/dockerd.sh start failed: $(tail -n 3 "$WORK/dockerd.out" | tr '\n' ' ')"
      exit 1
    fi
  fi
  at_exit d_cleanup
}

# d_image NAME [VAR]: sets VAR (default IMG) to the tag of the cached test
# image NAME, built if missing. (Not for $(...): a failure must end the test.)
d_image() {
  local tag t0=$SECONDS
  if ! tag=$(bash "$DOCKER_DIR/image.sh" "$1" 2>"$WORK/image-$1.err"); then
    fail "image-$1" "tests/docker/image.sh $1 failed: $(tail -n 3 "$WORK/image-$1.err" | tr '\n' ' ')"
    exit 1
  fi
  echo "# image $1 = $tag ($((SECONDS - t0)) s)"
  printf -v "${2:-IMG}" %s "$tag"
}

# VOL: the docker run options that put envinit at /opt/envinit.
# d_envinit_binary: just the static binaries of `make` -- ./envinit and its
# helper ./envinit-setup when built -- for PID-1 behaviour and OpenSSH mode.
# Sanitized, they are dynamic: the bundle's copies and its lib/ are mounted
# instead (envinit-sshd stays out).
d_envinit_binary() {
  [ -x "$D_ENVINIT" ] || { fail envinit-binary "$D_ENVINIT not built (make envinit)"; exit 1; }
  local from=$SRC
  if [ -n "$SANITIZED" ] && [ -z "${DOCKER_TEST_ENVINIT:-}" ]; then
    [ -x "$BUNDLE/bin/envinit" ] || { fail bundle "$BUNDLE missing: make SANITIZE=1 bundle"; exit 1; }
    from=$BUNDLE/bin
    VOL=(-v "$BUNDLE/lib:/opt/envinit/lib:ro" -v "$from/envinit:/opt/envinit/bin/envinit:ro")
  else
    VOL=(-v "$D_ENVINIT:/opt/envinit/bin/envinit:ro")
  fi
  if [ -z "${DOCKER_TEST_ENVINIT:-}" ] && [ -x "$from/envinit-setup" ]; then
    VOL+=(-v "$from/envinit-setup:/opt/envinit/bin/envinit-setup:ro")
  fi
}
# d_envinit_bundle: the whole bundle from `make bundle` (bin/; sanitized,
# lib/ too), read-only, as the product mounts its assets.
d_envinit_bundle() {
  local f need=(bin/envinit bin/envinit-sshd)
  # envinit's helper (SSH set-up, status), when this tree builds one.
  [ -x "$SRC/envinit-setup" ] && need+=(bin/envinit-setup)
  for f in "${need[@]}"; do
    if [ ! -x "$BUNDLE/$f" ]; then
      if [ -d "$BUNDLE/bin" ]; then
        fail bundle "$BUNDLE/$f missing: make bundle must install ${need[*]#bin/} into $BUNDLE/bin"
      else
        fail bundle "$BUNDLE missing: the bundle has not been built (make bundle)"
      fi
      exit 1
    fi
  done
  if [ -z "$SANITIZED" ] && [ -x "$ENVINIT" ] && ! cmp -s "$ENVINIT" "$BUNDLE/bin/envinit"; then
    echo "# note: $BUNDLE/bin/envinit differs from ./envinit (stale bundle? run make bundle)"
  fi
  VOL=(-v "$BUNDLE:/opt/envinit:ro")
}

# d_run NAME DOCKER-RUN-ARGS... IMAGE [CMD...]: starts a detached container,
# removed at exit, and sets C to its name. --network none is always added.
# (Not for $(...): the container must be registered for the cleanup.)
# Under tests/run.sh's sanitizer options the container gets them too, and
# the folder their reports go to, at the same path.
d_run() {
  C=$D_PREFIX-$1; shift
  D_CONTAINERS+=("$C")
  local san=()
  if [ -n "${SAN_DIR:-}" ]; then
    san=(-e ASAN_OPTIONS -e UBSAN_OPTIONS -e LSAN_OPTIONS -v "$SAN_DIR:$SAN_DIR")
  fi
  if ! docker run -d --name "$C" --network none "${san[@]}" "$@" >"$WORK/run-$C.out" 2>&1; then
    echo "# docker run failed: $(cat "$WORK/run-$C.out")"
    return 1
  fi
}
d_cleanup() {
  local c
  for c in "${D_CONTAINERS[@]}"; do
    if [ -n "${KEEP_CONTAINERS:-}" ]; then echo "# kept container $c" >&2; continue; fi
    docker rm -f "$c" >/dev/null 2>&1 || true
  done
}
# d_boot_login CASE NAME PORT WANT CMD DOCKER-RUN-ARGS...: d_run NAME, wait
# until PORT listens, then ssh as coder running CMD, whose output must hold
# the line WANT (CASE passes or fails on that); OUT gets the whole output.
# Returns 1 (CASE failed) when the container or its port never came up.
d_boot_login() {
  local case=$1 name=$2 port=$3 want=$4 cmd=$5; shift 5
  if ! d_run "$name" "$@"; then fail "$case" "docker run failed"; return 1; fi
  if ! d_wait_port "$C" "$port" 20; then
    fail "$case" "nothing listens on $port"; d_logs "$C"; return 1
  fi
  OUT=$(d_ssh "$C" coder "$port" "$cmd" 2>&1)
  if grep -qx "$want" <<<"$OUT"; then pass "$case"; return 0; fi
  fail "$case" "ssh -p $port coder@127.0.0.1: $(echo "$OUT" | tail -n 3 | tr '\n' ' ')"; d_logs "$C"
}
# d_logs C: the container's output, indented, for a failure's context.
d_logs() { docker logs "$1" 2>&1 | tail -n "${2:-25}" | sed 's/^/    | /'; }

d_pid() { docker inspect -f '{{.State.Pid}}' "$1"; }
d_running() { [ "$(docker inspect -f '{{.State.Running}}' "$1" 2>/dev/null)" = true ]; }

# d_listening C PORT: something listens on PORT in C's network namespace.
# Reads the kernel's socket tables through /proc/PID/net (no traffic).
d_listening() {
  local pid hex; pid=$(d_pid "$1") || return 1
  [ "$pid" -gt 0 ] 2>/dev/null || return 1
  hex=$(printf ':%04X' "$2")
  awk -v p="$hex" '$4 == "0A" && substr($2, length($2) - 4) == p { f = 1 } END { exit !f }' \
    "/proc/$pid/net/tcp" "/proc/$pid/net/tcp6" 2>/dev/null
}
# d_wait_port C PORT SECONDS: waits for a listener; fails early if C stopped.
d_wait_port() {
  local end=$((SECONDS + $3))
  until d_listening "$1" "$2"; do
    d_running "$1" || return 1
    [ $SECONDS -ge $end ] && return 1
    sleep 0.05
  done
}

# d_keypair: a fresh ed25519 key pair for this run: $KEY, $PUB (the line).
d_keypair() {
  ssh-keygen -q -t ed25519 -N '' -C "envinit-test-$$" -f "$WORK/id_ed25519"
  KEY=$WORK/id_ed25519
  PUB=$(cat "$KEY.pub")
}

# d_ssh C USER PORT CMD...: the real OpenSSH client, run inside C's network
# namespace against 127.0.0.1. Extra client options in $D_SSH_OPTS.
d_ssh() {
  local c=$1 user=$2 port=$3 pid; shift 3
  pid=$(d_pid "$c") || return 255
  # shellcheck disable=SC2086
  # ssh keeps the first value of an option: $D_SSH_OPTS goes first.
  timeout 30 nsenter --net="/proc/$pid/ns/net" ssh -F /dev/null -i "$KEY" ${D_SSH_OPTS:-} \
    -o BatchMode=yes -o IdentitiesOnly=yes -o ConnectTimeout=10 -o LogLevel=ERROR \
    -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
    -p "$port" "$user@127.0.0.1" "$@"
}

# d_status C: `envinit status` inside C (its output, and its exit status).
d_status() { docker exec "$1" /opt/envinit/bin/envinit status 2>&1; }

# d_env_has NAME ENV-OUTPUT LINE...: one case per expected NAME=value line.
d_env_has() {
  local n=$1 out=$2 l; shift 2
  for l; do
    if grep -qxF -- "$l" <<<"$out"; then pass "$n-${l%%=*}"
    else fail "$n-${l%%=*}" "'$l' not in the session's env: $(printf '%s\n' "$out" | grep -F "${l%%=*}=" | head -n 1)"; fi
  done
}

# d_zombies C: prints the pids in state Z inside C (empty when none).
d_zombies() {
  docker exec "$1" sh -c 'for f in /proc/[0-9]*/status; do
    s=$(sed -n "s/^State:[[:space:]]*//p" "$f" 2>/dev/null); case $s in Z*) echo "${f#/proc/}";; esac
  done' 2>/dev/null | sed 's#/status##'
}
