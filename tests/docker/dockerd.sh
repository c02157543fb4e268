#!/bin/bash
# Starts a Docker engine for the end-to-end tests when none answers, and
# stops it again -- but only one this script started.
#
#   tests/docker/dockerd.sh start   # no-op when `docker info` already answers
#   tests/docker/dockerd.sh stop    # stops only the dockerd recorded by `start`
#   tests/docker/dockerd.sh status
#
# The engine runs without iptables and without the default bridge: every test
# container uses `--network none`, and no test traffic leaves loopback.
set -euo pipefail

STATE=${ENVINIT_DOCKERD_STATE:-/run/envinit-test-dockerd}
PIDFILE=$STATE/dockerd.pid
LOG=$STATE/dockerd.log
WAIT=${ENVINIT_DOCKERD_WAIT:-60}

say() { echo "dockerd.sh: $*" >&2; }

engine_answers() { timeout 10 docker info >/dev/null 2>&1; }

# The pid recorded by `start`, if that process is still our dockerd.
our_pid() {
  local pid
  [ -r "$PIDFILE" ] || return 1
  pid=$(cat "$PIDFILE")
  [ -n "$pid" ] && [ -d "/proc/$pid" ] || return 1
  [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$(command -v dockerd)" ] || return 1
  echo "$pid"
}

start() {
  if engine_answers; then
    say "a Docker engine already answers; starting none"; return 0
  fi
  command -v dockerd >/dev/null || { say "dockerd not installed (run: bash .ci/deps docker)"; return 1; }
  command -v docker >/dev/null || { say "docker client not installed (run: bash .ci/deps docker)"; return 1; }
  mkdir -p "$STATE"
  if pid=$(our_pid); then
    say "dockerd $pid (ours) is starting; waiting for it"
  else
    # setsid: the engine must outlive the test script or CI step that started it.
    setsid dockerd --iptables=false --ip-masq=false --bridge=none \
      --pidfile "$STATE/engine.pid" >"$LOG" 2>&1 </dev/null &
    pid=$!
    echo "$pid" >"$PIDFILE"
    say "started dockerd $pid (log: $LOG)"
  fi
  local end=$((SECONDS + WAIT))
  until engine_answers; do
    if ! kill -0 "$pid" 2>/dev/null; then
      say "dockerd $pid exited before answering; last lines of $LOG:"
      tail -n 20 "$LOG" >&2; rm -f "$PIDFILE"; return 1
    fi
    if [ $SECONDS -ge $end ]; then
      say "dockerd $pid does not answer after ${WAIT}s; last lines of $LOG:"
      tail -n 20 "$LOG" >&2; return 1
    fi
    sleep 0.2
  done
  say "Docker engine answers ($(docker version -f '{{.Server.Version}}' 2>/dev/null), storage $(docker info -f '{{.Driver}}' 2>/dev/null))"
}

stop() {
  local pid
  if ! pid=$(our_pid); then
    say "no dockerd started by this script is running; leaving any other engine alone"
    rm -f "$PIDFILE"; return 0
  fi
  say "stopping dockerd $pid"
  kill -TERM "$pid"
  local end=$((SECONDS + 30))
  while kill -0 "$pid" 2>/dev/null; do
    if [ $SECONDS -ge $end ]; then say "dockerd $pid ignored SIGTERM for 30 s; killing it"; kill -KILL "$pid"; fi
    sleep 0.1
  done
  rm -f "$PIDFILE"
}

status() {
  if engine_answers; then echo "engine answers"; else echo "no engine answers"; fi
  if pid=$(our_pid); then echo "started by dockerd.sh: pid $pid"; fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
