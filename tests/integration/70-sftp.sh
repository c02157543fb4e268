#!/bin/bash
# The SFTP subsystem (sshfallback/sftp.c) against the real OpenSSH sftp and
# scp clients, on 127.0.0.1 of a private network namespace. Servers under
# test:
#   openssh+sftp.c  Debian's sshd with `Subsystem sftp build/tests/envinit-sftp-server`
#   envinit-sshd    envinit-sshd alone (its --sftp-server program image)
#   openssh+sftp.c with sftp-server's options (-R, -P, -u, -d), also as
#                   `envinit-sshd --sftp-server -R`
# SFTP_T_SERVERS="openssh envinit options" (default: all) selects.
source "$(dirname "$0")/../lib.sh"
source "$SRC/tests/integration/70-sftp-lib.bash"
need_root
t_unshare --mount --net
require ssh sftp scp ssh-keygen ip unshare sha256sum /usr/sbin/sshd
[ -x "$SFTP_SERVER" ] || { fail build "$SFTP_SERVER missing (make $SFTP_SERVER)"; exit 1; }
sftp_t_setup

LOCAL=$WORK/local
mkdir -p "$LOCAL"
head -c 64M /dev/urandom >"$LOCAL/big"
BIG_SUM=$(sha256sum <"$LOCAL/big")
head -c 5M /dev/urandom >"$LOCAL/mid"
MID_SUM=$(sha256sum <"$LOCAL/mid")
# A tree for scp -r: nested folders, an empty file, a file with a space.
mkdir -p "$LOCAL/tree/a/b/c" "$LOCAL/tree/empty"
head -c 300K /dev/urandom >"$LOCAL/tree/a/one"
head -c 1M /dev/urandom >"$LOCAL/tree/a/b/c/two"
: >"$LOCAL/tree/a/b/zero"
echo hello >"$LOCAL/tree/with space"
chmod 640 "$LOCAL/tree/a/one"

home_sum() { sha256sum <"$SFTP_HOME/$1" 2>/dev/null; }

# run_cases LABEL PORT: every case against the server on PORT.
run_cases() {
  local L=$1 P=$2 out rc
  rm -rf "${SFTP_HOME:?}"/* "$LOCAL/got" "$LOCAL/back"

  # ---- sftp ----
  out=$(sftp_batch "$P" <<<"put $LOCAL/big big" 2>&1); rc=$?
  expect_eq "$L/put-64MiB-exit" 0 "$rc"
  expect_eq "$L/put-64MiB-checksum" "$BIG_SUM" "$(home_sum big)"
  expect_eq "$L/put-owned-by-user" "$SFTP_UID" "$(stat -c %u "$SFTP_HOME/big" 2>/dev/null)"

  out=$(sftp_batch "$P" <<<"get big $LOCAL/got" 2>&1); rc=$?
  expect_eq "$L/get-64MiB-exit" 0 "$rc"
  expect_eq "$L/get-64MiB-checksum" "$BIG_SUM" "$(sha256sum <"$LOCAL/got" 2>/dev/null)"

  out=$(sftp_batch "$P" <<<"ls -l" 2>&1)
  if grep -Eq "^-rw-r--r-- +1 +$SFTP_USER +$SFTP_USER +67108864 [A-Z][a-z]{2} [ 0-9]{2} [0-9]{2}:[0-9]{2} big$" <<<"$out"; then
    pass "$L/ls-l"
  else
    fail "$L/ls-l" "no 'ls -l' line for big in: $out"
  fi
  out=$(sftp_batch "$P" <<<"ls" 2>&1)
  expect_eq "$L/ls" big "$(echo "$out" | grep -v '^sftp>' | tr -s ' \n' ' ' | sed 's/ $//')"

  out=$(sftp_batch "$P" <<<"mkdir dir" 2>&1)
  expect "$L/mkdir" test -d "$SFTP_HOME/dir"
  expect_eq "$L/mkdir-owner" "$SFTP_UID" "$(stat -c %u "$SFTP_HOME/dir" 2>/dev/null)"

  out=$(sftp_batch "$P" <<<"rename big dir/moved" 2>&1)
  expect_eq "$L/rename" "absent $BIG_SUM" "$([ -e "$SFTP_HOME/big" ] && echo present || echo absent) $(home_sum dir/moved)"

  out=$(sftp_batch "$P" <<<"chmod 640 dir/moved" 2>&1)
  expect_eq "$L/chmod" 640 "$(stat -c %a "$SFTP_HOME/dir/moved" 2>/dev/null)"

  out=$(sftp_batch "$P" <<<"symlink dir/moved link" 2>&1)
  expect_eq "$L/symlink" dir/moved "$(readlink "$SFTP_HOME/link" 2>/dev/null)"
  out=$(sftp_batch "$P" <<<"ls -l" 2>&1)
  if grep -Eq '^lrwxrwxrwx +1 .* link$' <<<"$out"; then pass "$L/symlink-ls"; else fail "$L/symlink-ls" "$out"; fi
  out=$(sftp_batch "$P" <<<"get link $LOCAL/via-link" 2>&1)
  expect_eq "$L/get-through-symlink" "$BIG_SUM" "$(sha256sum <"$LOCAL/via-link" 2>/dev/null)"
  rm -f "$LOCAL/via-link"

  out=$(sftp_batch "$P" <<<"ln dir/moved hard" 2>&1)
  expect_eq "$L/hardlink" 2 "$(stat -c %h "$SFTP_HOME/hard" 2>/dev/null)"

  echo replaced >"$SFTP_HOME/other" && chown $SFTP_UID "$SFTP_HOME/other"
  out=$(sftp_batch "$P" <<<"rename other hard" 2>&1)
  expect_eq "$L/posix-rename-replaces" replaced "$(cat "$SFTP_HOME/hard" 2>/dev/null)"

  # copy-data: cp in the server
  out=$(sftp_batch "$P" <<<"put $LOCAL/mid mid"$'\n'"cp mid midcopy" 2>&1); rc=$?
  expect_eq "$L/cp-copy-data" "0 $MID_SUM" "$rc $(home_sum midcopy)"
  echo keep >"$SFTP_HOME/rotarget" && chown $SFTP_UID "$SFTP_HOME/rotarget" && chmod 444 "$SFTP_HOME/rotarget"
  out=$(sftp_batch "$P" <<<"cp mid rotarget" 2>&1); rc=$?
  if [ "$rc" -ne 0 ] && grep -qi 'permission denied' <<<"$out" && [ "$(cat "$SFTP_HOME/rotarget")" = keep ]; then
    pass "$L/cp-onto-read-only"
  else
    fail "$L/cp-onto-read-only" "rc=$rc: $out"
  fi
  rm -f "$SFTP_HOME/mid" "$SFTP_HOME/midcopy" "$SFTP_HOME/rotarget"

  out=$(sftp_batch "$P" <<<"df -h" 2>&1)
  if grep -q 'Size' <<<"$out"; then pass "$L/df-statvfs"; else fail "$L/df-statvfs" "$out"; fi

  out=$(sftp_batch "$P" <<<"rm dir/moved" 2>&1)
  expect "$L/rm" test ! -e "$SFTP_HOME/dir/moved"
  out=$(sftp_batch "$P" <<<"rmdir dir" 2>&1)
  expect "$L/rmdir" test ! -e "$SFTP_HOME/dir"

  out=$(sftp_batch "$P" <<<"get nosuchfile $LOCAL/nosuch" 2>&1); rc=$?
  if [ "$rc" -ne 0 ] && grep -q 'not found' <<<"$out"; then pass "$L/missing-file-get"; else fail "$L/missing-file-get" "rc=$rc: $out"; fi
  out=$(sftp_batch "$P" <<<"rm nosuchfile" 2>&1); rc=$?
  if [ "$rc" -ne 0 ] && grep -qi 'no such file' <<<"$out"; then pass "$L/missing-file-rm"; else fail "$L/missing-file-rm" "rc=$rc: $out"; fi

  mkdir -p "$SFTP_HOME/locked" && chmod 500 "$SFTP_HOME/locked" && chown $SFTP_UID "$SFTP_HOME/locked"
  out=$(sftp_batch "$P" <<<"put $LOCAL/tree/with\\ space locked/x" 2>&1); rc=$?
  if [ "$rc" -ne 0 ] && grep -qi 'permission denied' <<<"$out"; then pass "$L/permission-denied"; else fail "$L/permission-denied" "rc=$rc: $out"; fi

  # ---- scp (sftp mode, OpenSSH 9's default) ----
  out=$(sftp_scp "$P" "$LOCAL/big" R:scpbig 2>&1); rc=$?
  expect_eq "$L/scp-upload" "0 $BIG_SUM" "$rc $(home_sum scpbig)"
  out=$(sftp_scp "$P" R:scpbig "$LOCAL/scpgot" 2>&1); rc=$?
  expect_eq "$L/scp-download" "0 $BIG_SUM" "$rc $(sha256sum <"$LOCAL/scpgot" 2>/dev/null)"
  rm -f "$LOCAL/scpgot"
  out=$(sftp_scp "$P" -r "$LOCAL/tree" R: 2>&1); rc=$?
  if [ "$rc" -eq 0 ] && diff -r "$LOCAL/tree" "$SFTP_HOME/tree" >/dev/null; then pass "$L/scp-r-upload"; else fail "$L/scp-r-upload" "rc=$rc: $out"; fi
  mkdir -p "$LOCAL/back"
  out=$(sftp_scp "$P" -r R:tree "$LOCAL/back/" 2>&1); rc=$?
  if [ "$rc" -eq 0 ] && diff -r "$LOCAL/tree" "$LOCAL/back/tree" >/dev/null; then pass "$L/scp-r-download"; else fail "$L/scp-r-download" "rc=$rc: $out"; fi
  out=$(sftp_scp "$P" "$LOCAL/tree/with space" 'R:~/tilde' 2>&1); rc=$?
  expect_eq "$L/scp-tilde-expand-path" "0 hello" "$rc $(cat "$SFTP_HOME/tilde" 2>/dev/null)"
  out=$(sftp_scp "$P" R:nosuchfile "$LOCAL/nosuch" 2>&1); rc=$?
  if [ "$rc" -ne 0 ] && grep -qi 'no such file' <<<"$out"; then pass "$L/scp-missing-file"; else fail "$L/scp-missing-file" "rc=$rc: $out"; fi
  rm -rf "$LOCAL/back" "$LOCAL/got"
}

servers=${SFTP_T_SERVERS:-openssh envinit options}
if [[ " $servers " == *" openssh "* ]]; then
  sftp_start_openssh 2201 "$SFTP_SERVER" || fail openssh-start "sshd did not start"
  # Ours answers, not OpenSSH's sftp-server: it advertises no home-directory.
  out=$(sftp_batch 2201 -vv <<<"pwd" 2>&1)
  if grep -q 'copy-data' <<<"$out" && ! grep -q 'home-directory' <<<"$out"; then
    pass openssh+sftp.c/served-by-sftp.c
  else
    fail openssh+sftp.c/served-by-sftp.c "$out"
  fi
  run_cases openssh+sftp.c 2201
fi
if [[ " $servers " == *" envinit "* ]]; then
  if [ ! -x "$SFTP_FALLBACK" ]; then
    fail envinit-sshd-built "$SFTP_FALLBACK not built (make envinit-sshd)"
  elif sftp_start_fallback 2202; then
    run_cases envinit-sshd 2202
  else
    fail envinit-sshd-start "envinit-sshd did not start"
  fi
fi

# ---- sftp-server's options, under OpenSSH's sshd ----
# refused_put LABEL PORT: a put is refused with "Permission denied".
refused_put() {
  local out rc
  out=$(sftp_batch "$2" <<<"put $LOCAL/tree/with\\ space newfile" 2>&1); rc=$?
  if [ "$rc" -ne 0 ] && grep -qi 'permission denied' <<<"$out" && [ ! -e "$SFTP_HOME/newfile" ]; then
    pass "$1"
  else
    fail "$1" "rc=$rc: $out"
  fi
}
# read_only_cases LABEL PORT: get and ls work; put, rm, mkdir are refused.
read_only_cases() {
  local L=$1 P=$2 out rc
  rm -rf "${SFTP_HOME:?}"/* "$LOCAL/got"
  cp "$LOCAL/mid" "$SFTP_HOME/kept" && chown $SFTP_UID "$SFTP_HOME/kept"
  out=$(sftp_batch "$P" <<<"get kept $LOCAL/got" 2>&1); rc=$?
  expect_eq "$L/get" "0 $MID_SUM" "$rc $(sha256sum <"$LOCAL/got" 2>/dev/null)"
  out=$(sftp_batch "$P" <<<"ls" 2>&1)
  expect_eq "$L/ls" kept "$(echo "$out" | grep -v '^sftp>' | tr -s ' \n' ' ' | sed 's/ $//')"
  refused_put "$L/put-refused" "$P"
  out=$(sftp_batch "$P" <<<"rm kept" 2>&1); rc=$?
  if [ "$rc" -ne 0 ] && grep -qi 'permission denied' <<<"$out" && [ -e "$SFTP_HOME/kept" ]; then
    pass "$L/rm-refused"
  else
    fail "$L/rm-refused" "rc=$rc: $out"
  fi
  out=$(sftp_batch "$P" <<<"mkdir made" 2>&1); rc=$?
  if [ "$rc" -ne 0 ] && grep -qi 'permission denied' <<<"$out" && [ ! -e "$SFTP_HOME/made" ]; then
    pass "$L/mkdir-refused"
  else
    fail "$L/mkdir-refused" "rc=$rc: $out"
  fi
  rm -f "$LOCAL/got"
}

if [[ " $servers " == *" options "* ]]; then
  out=$("$SFTP_SERVER" -Q requests 2>&1)
  if grep -qx open <<<"$out" && grep -qx copy-data <<<"$out" && grep -qx posix-rename <<<"$out"; then
    pass options/Q-requests
  else
    fail options/Q-requests "$out"
  fi
  out=$("$SFTP_SERVER" -p nosuchrequest </dev/null 2>&1); rc=$?
  if [ "$rc" -eq 2 ] && grep -q nosuchrequest <<<"$out"; then pass options/unknown-request-name; else fail options/unknown-request-name "rc=$rc: $out"; fi

  if sftp_start_openssh 2203 "$SFTP_SERVER -R"; then
    read_only_cases options-R 2203
  else
    fail options-R-start "sshd did not start"
  fi

  if sftp_start_openssh 2204 "$SFTP_SERVER -P remove"; then
    rm -rf "${SFTP_HOME:?}"/*
    echo x >"$SFTP_HOME/victim" && chown $SFTP_UID "$SFTP_HOME/victim"
    out=$(sftp_batch 2204 <<<"rm victim" 2>&1); rc=$?
    if [ "$rc" -ne 0 ] && grep -qi 'permission denied' <<<"$out" && [ -e "$SFTP_HOME/victim" ]; then
      pass options-P-remove/rm-refused
    else
      fail options-P-remove/rm-refused "rc=$rc: $out"
    fi
    out=$(sftp_batch 2204 <<<"put $LOCAL/mid up"$'\n'"mkdir d"$'\n'"rename victim d/moved"$'\n'"rmdir nosuch" 2>&1)
    expect_eq options-P-remove/others-allowed "$MID_SUM x" \
      "$(home_sum up) $(cat "$SFTP_HOME/d/moved" 2>/dev/null)"
  else
    fail options-P-remove-start "sshd did not start"
  fi

  if sftp_start_openssh 2205 "$SFTP_SERVER -u 077"; then
    rm -rf "${SFTP_HOME:?}"/*
    cp "$LOCAL/mid" "$LOCAL/open644" && chmod 644 "$LOCAL/open644"
    cp "$LOCAL/mid" "$LOCAL/open666" && chmod 666 "$LOCAL/open666"
    out=$(sftp_batch 2205 <<<"put $LOCAL/open644 a"$'\n'"put $LOCAL/open666 b"$'\n'"mkdir d" 2>&1); rc=$?
    expect_eq options-u-077/modes "0 600 600 700 $MID_SUM" \
      "$rc $(stat -c %a "$SFTP_HOME/a" "$SFTP_HOME/b" "$SFTP_HOME/d" 2>/dev/null | tr '\n' ' ')$(home_sum a)"
    rm -f "$LOCAL/open644" "$LOCAL/open666"
  else
    fail options-u-start "sshd did not start"
  fi

  if sftp_start_openssh 2206 "$SFTP_SERVER -d /tmp"; then
    out=$(sftp_batch 2206 <<<"pwd" 2>&1)
    if grep -qx 'Remote working directory: /tmp' <<<"$out"; then pass options-d/pwd; else fail options-d/pwd "$out"; fi
  else
    fail options-d-start "sshd did not start"
  fi
  if sftp_start_openssh 2208 "$SFTP_SERVER -d %d/start"; then
    mkdir -p "$SFTP_HOME/start" && chown $SFTP_UID "$SFTP_HOME/start"
    out=$(sftp_batch 2208 <<<"pwd" 2>&1)
    if grep -qx "Remote working directory: $SFTP_HOME/start" <<<"$out"; then pass options-d-percent-d/pwd; else fail options-d-percent-d/pwd "$out"; fi
  else
    fail options-d-percent-d-start "sshd did not start"
  fi

  # envinit-sshd's own program image takes the same options after the switch.
  if [ ! -x "$SFTP_FALLBACK" ]; then
    fail envinit-sshd-built "$SFTP_FALLBACK not built (make envinit-sshd)"
  elif sftp_start_openssh 2207 "$SFTP_FALLBACK --sftp-server -R"; then
    read_only_cases envinit-sshd-sftp-server-R 2207
  else
    fail envinit-sshd-sftp-server-R-start "sshd did not start"
  fi
fi
