#!/bin/bash
# envinit as the ENTRYPOINT of a real container, driven
# by the Docker engine. `docker stop` on an idle environment ends well within
# the grace period with status 0; the main command's exit status comes back
# from `docker run`; `docker kill -s HUP` reaches the main command; orphans
# re-parented to PID 1 never linger as zombies (checked in /proc inside).
. "$(dirname "$0")/../lib.sh"
. "$SRC/tests/docker/lib.sh"
docker_ready
d_image slim
d_envinit_binary
RUN=("${VOL[@]}" -e ENVINIT_SSH=off)

# Orphans: each subshell backgrounds a sleep and exits at once, so the sleep
# is re-parented to PID 1 and must be reaped there when it ends.
ORPHANS='i=0; while [ $i -lt 30 ]; do (sleep 0.3 </dev/null >/dev/null 2>&1 &); i=$((i+1)); done'
COUNT_ZOMBIES='z=0; for f in /proc/[0-9]*/status; do case $(sed -n "s/^State:[[:space:]]*//p" $f 2>/dev/null) in Z*) z=$((z+1));; esac; done; echo zombies=$z'


# Orphans made by `docker exec` in a running container end up as PID 1's.
# ADOPTED prints "A Z": adopted sleeps still running, and zombies anywhere.
ADOPTED='a=0 z=0; for f in /proc/[0-9]*/status; do
  set -- $(sed -n "s/^\(Name\|State\|PPid\):[[:space:]]*\([^[:space:]]*\).*/\2/p" $f 2>/dev/null)
  [ "$2" = Z ] && { z=$((z+1)); continue; }
  [ "$1" = sleep ] && [ "$3" = 1 ] && a=$((a+1)); done; echo "$a $z"'
orphans_reaped() { # NAME C
  local n=$1 c=$2 az
  docker exec "$c" sh -c 'i=0; while [ $i -lt 30 ]; do (sleep 1.5 </dev/null >/dev/null 2>&1 &); i=$((i+1)); done' \
    || { fail "$n" "docker exec failed"; return; }
  az=$(docker exec "$c" sh -c "$ADOPTED")
  if [ "${az% *}" -lt 20 ]; then
    fail "$n" "only ${az% *} of 30 orphans were re-parented to PID 1 (test setup?)"; return
  fi
  # Once the sleeps have ended, none may be left as a zombie.
  wait_until 6 sh -c "[ \"\$(docker exec $c sh -c '$ADOPTED' | cut -d' ' -f1)\" = 0 ]"
  az=$(docker exec "$c" sh -c "$ADOPTED")
  if [ "$az" = "0 0" ] && [ -z "$(d_zombies "$c")" ]; then
    pass "$n"
  else
    fail "$n" "adopted/zombies after the orphans ended: $az; zombie pids: $(d_zombies "$c" | tr '\n' ' ')"
  fi
}

# --- an idle environment (no main command) ---------------------------------
if d_run idle "${RUN[@]}" "$IMG"; then
  if wait_until 10 d_running "$C" && [ "$(docker exec "$C" cat /proc/1/comm)" = envinit ]; then
    pass idle-runs-as-pid1
  else
    fail idle-runs-as-pid1 "PID 1 is '$(docker exec "$C" cat /proc/1/comm 2>&1)'"; d_logs "$C"
  fi
  orphans_reaped idle-orphans-reaped "$C"
  t0=$(t_now_ms)
  docker stop -t 10 "$C" >/dev/null
  took=$(($(t_now_ms) - t0)); st=$(docker inspect -f '{{.State.ExitCode}}' "$C")
  echo "# docker stop of the idle environment took $took ms, status $st"
  if [ "$took" -lt 5000 ]; then pass idle-stop-fast; else fail idle-stop-fast "docker stop took $took ms (grace 10 s)"; fi
  expect_eq idle-stop-status 0 "$st"
  [ "$st" = 0 ] || d_logs "$C"
else
  fail idle-runs-as-pid1 "docker run failed"
fi

# --- main command's exit status comes back from docker run -----------------
for code in 0 1 42; do
  name=$D_PREFIX-exit$code; D_CONTAINERS+=("$name")
  out=$(timeout 60 docker run --name "$name" --network none "${RUN[@]}" "$IMG" \
        sh -c "$ORPHANS; sleep 0.6; $COUNT_ZOMBIES; exit $code" 2>&1)
  rc=$?
  expect_eq "exit-status-$code" "$code" "$rc"
  expect_eq "exit-$code-no-zombies" zombies=0 "$(echo "$out" | grep '^zombies=' || echo "no count: $out")"
done
name=$D_PREFIX-killed; D_CONTAINERS+=("$name")
timeout 60 docker run --name "$name" --network none "${RUN[@]}" "$IMG" sh -c 'kill -KILL $$' >/dev/null 2>&1
expect_eq exit-status-killed-by-signal 137 "$?"

# --- docker stop with a main command: SIGTERM forwarded, 128+15 -------------
if d_run stopmain "${RUN[@]}" "$IMG" sleep 1000 && wait_until 10 d_running "$C"; then
  t0=$(t_now_ms)
  docker stop -t 10 "$C" >/dev/null
  took=$(($(t_now_ms) - t0)); st=$(docker inspect -f '{{.State.ExitCode}}' "$C")
  echo "# docker stop with main command 'sleep 1000' took $took ms, status $st"
  if [ "$took" -lt 5000 ]; then pass stop-main-fast; else fail stop-main-fast "docker stop took $took ms (grace 10 s)"; fi
  expect_eq stop-main-status 143 "$st"
else
  fail stop-main-fast "container did not start"
fi

# --- docker kill -s HUP reaches the main command ----------------------------
if d_run hup "${RUN[@]}" "$IMG" sh -c \
      'trap "echo got-HUP; exit 7" HUP; echo ready; while :; do sleep 1 & wait $!; done' \
   && wait_until 10 sh -c "docker logs $C 2>&1 | grep -q '^ready$'"; then
  orphans_reaped hup-orphans-reaped "$C"
  docker kill -s HUP "$C" >/dev/null
  st=$(timeout 20 docker wait "$C")
  if grep -q '^got-HUP$' <<<"$(docker logs "$C" 2>&1)"; then pass hup-reaches-main; else
    fail hup-reaches-main "the main command never saw SIGHUP"; d_logs "$C"; fi
  expect_eq hup-exit-status 7 "$st"
else
  fail hup-reaches-main "container did not become ready"; [ -n "${C:-}" ] && d_logs "$C"
fi
exit 0
