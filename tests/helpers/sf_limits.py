"""Requests OpenSSH's client will not send, for envinit-sshd's limits tests.

Usage (run with /usr/bin/python3, which has Debian's python3-paramiko):
  sf_limits.py env  PORT USER KEY LISTENER_PID COUNT SIZE
      one session, COUNT env requests LC_0..LC_{COUNT-1} of SIZE bytes each,
      then `exec`; prints "hwm-before KB", "hwm-after KB" (VmHWM of the
      connection process) and the command's output.
  sf_limits.py x11  PORT USER KEY SESSIONS
      one connection, SESSIONS sessions each asking for X11; prints
      "granted N refused M", keeping them open until stdin closes.
Connections go to 127.0.0.1 only.
"""
import os
import sys

import paramiko


def connect(port, user, key):
    t = paramiko.Transport(("127.0.0.1", int(port)))
    t.start_client(timeout=10)
    t.auth_publickey(user, paramiko.Ed25519Key.from_private_key_file(key))
    return t


def conn_pid(listener, uid):
    """The connection process: the listener's child running as the user."""
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/status") as f:
                st = dict(line.split(":", 1) for line in f if ":" in line)
        except OSError:
            continue
        if st["PPid"].strip() == listener and st["Uid"].split()[0] == str(uid):
            return name
    raise SystemExit("no connection process found")


def hwm_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise SystemExit("no VmHWM")


def env(port, user, key, listener, count, size):
    t = connect(port, user, key)
    ch = t.open_session()
    pid = conn_pid(listener, os.environ["SF_UID"])
    print("hwm-before", hwm_kb(pid), flush=True)
    value = "v" * int(size)
    for i in range(int(count)):
        ch.set_environment_variable(f"LC_{i}", value)
    # A request with a reply: once answered, every env request before it was handled.
    t.global_request("keepalive@openssh.com", wait=True)
    print("hwm-after", hwm_kb(pid), flush=True)
    ch.exec_command("echo ran; env | grep -c '^LC_'")
    out = ch.makefile().read().decode()
    print(out, end="", flush=True)
    t.close()


def x11(port, user, key, sessions):
    t = connect(port, user, key)
    granted = refused = 0
    chans = []
    for _ in range(int(sessions)):
        ch = t.open_session()
        chans.append(ch)
        try:
            ch.request_x11(auth_protocol="MIT-MAGIC-COOKIE-1", auth_cookie="ab" * 16)
            granted += 1
        except paramiko.SSHException:
            refused += 1
    print(f"granted {granted} refused {refused}", flush=True)
    sys.stdin.read()
    t.close()


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {"env": env, "x11": x11}[cmd](*args)
