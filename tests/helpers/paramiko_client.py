#!/usr/bin/python3
"""paramiko as a test client for tests/integration/72-client-matrix.sh.

Debian's python3-paramiko, so run with /usr/bin/python3. Usage:
  paramiko_client.py PORT USER KEY exec COMMAND    exits with the remote status
  paramiko_client.py PORT USER KEY pty             prints ok when a resize reaches stty
  paramiko_client.py PORT USER KEY sftp LOCAL REMOTE BACK
  paramiko_client.py PORT USER KEY forward HOST PORT BYTES
"""
import os
import re
import sys
import time

import paramiko


def connect(port, user, key):
    c = paramiko.SSHClient()
    # The test starts the servers itself, on a private loopback.
    c.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    c.connect("127.0.0.1", port=int(port), username=user, key_filename=key,
              allow_agent=False, look_for_keys=False, timeout=10)
    return c


def read_size(chan, buf):
    """Reads until a line holding two numbers (stty size's answer)."""
    deadline = time.time() + 10
    while time.time() < deadline:
        m = re.search(rb"(\d+) (\d+)\r?\n", buf[0])
        if m:
            buf[0] = buf[0][m.end():]
            return m.group(1).decode() + " " + m.group(2).decode()
        if chan.recv_ready():
            buf[0] += chan.recv(4096)
        else:
            time.sleep(0.02)
    raise SystemExit("pty: no stty size answer in %r" % buf[0])


def do_pty(c):
    chan = c.get_transport().open_session()
    chan.get_pty(term="xterm", width=80, height=24)
    chan.exec_command("stty size; read x; stty size")
    buf = [b""]
    first = read_size(chan, buf)
    chan.resize_pty(width=132, height=50)
    time.sleep(0.2)
    chan.sendall(b"go\n")
    second = read_size(chan, buf)
    chan.recv_exit_status()
    if (first, second) != ("24 80", "50 132"):
        print("sizes %r then %r, want '24 80' then '50 132'" % (first, second))
        return 1
    print("ok")
    return 0


def do_exec(c, cmd):
    chan = c.get_transport().open_session()
    chan.exec_command(cmd)
    out = chan.makefile("rb")
    sys.stdout.buffer.write(out.read())
    return chan.recv_exit_status()


def do_sftp(c, local, remote, back):
    s = c.open_sftp()
    s.put(local, remote)
    s.get(remote, back)
    s.close()
    return 0


def do_forward(c, host, port, size):
    data = os.urandom(int(size))
    chan = c.get_transport().open_channel("direct-tcpip", (host, int(port)), ("127.0.0.1", 0))
    chan.sendall(data)
    got = b""
    while len(got) < len(data):
        part = chan.recv(65536)
        if not part:
            break
        got += part
    chan.close()
    if got != data:
        print("echoed %d bytes of %d, equal prefix: %s" % (len(got), len(data), data.startswith(got)))
        return 1
    print("ok")
    return 0


def main():
    port, user, key, what, *args = sys.argv[1:]
    c = connect(port, user, key)
    try:
        if what == "exec":
            return do_exec(c, *args)
        if what == "pty":
            return do_pty(c)
        if what == "sftp":
            return do_sftp(c, *args)
        if what == "forward":
            return do_forward(c, *args)
        raise SystemExit("unknown command " + what)
    finally:
        c.close()


if __name__ == "__main__":
    sys.exit(main())
