"""Runs a terminal client under a pty whose size then changes, for
tests/integration/72-client-matrix.sh: PuTTY's plink sends a window-change
only when its own terminal changes size (SIGWINCH), so it needs a terminal.

    python3 pty_resize.py ROWS COLS NEWROWS NEWCOLS COMMAND...

COMMAND runs as the leader of a new session with the pty's slave as its
controlling terminal, stdin, stdout and stderr, the pty sized ROWS x COLS.
Once its output holds the line "ROWS COLS" (stty size on the server), the
pty is resized to NEWROWS x NEWCOLS (TIOCSWINSZ on the master; the kernel
signals SIGWINCH to the foreground process group, and COMMAND gets one
explicitly too) and "go" and a newline are typed. The output, carriage
returns removed, is copied to stdout; the exit status is COMMAND's, 124 on
a timeout.
"""
import fcntl
import os
import pty
import select
import signal
import struct
import sys
import termios
import time

TIMEOUT = 20


def set_size(fd, rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def main():
    rows, cols, new_rows, new_cols = (int(x) for x in sys.argv[1:5])
    cmd = sys.argv[5:]
    master, slave = pty.openpty()
    set_size(master, rows, cols)
    pid = os.fork()
    if pid == 0:
        os.close(master)
        os.setsid()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
        for fd in (0, 1, 2):
            os.dup2(slave, fd)
        if slave > 2:
            os.close(slave)
        try:
            os.execvp(cmd[0], cmd)
        finally:
            os._exit(127)
    os.close(slave)
    out = b""
    first = ("%d %d" % (rows, cols)).encode()
    resized = False
    end = time.monotonic() + TIMEOUT
    while time.monotonic() < end:
        r, _, _ = select.select([master], [], [], 0.1)
        if r:
            try:
                part = os.read(master, 65536)
            except OSError:  # EIO: no process holds the slave any more
                part = b""
            if not part:
                break
            out += part
        if not resized and first in out.replace(b"\r", b"").split(b"\n"):
            set_size(master, new_rows, new_cols)
            os.kill(pid, signal.SIGWINCH)
            time.sleep(0.2)
            os.write(master, b"go\n")
            resized = True
    else:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        sys.stdout.buffer.write(out.replace(b"\r", b""))
        print("timed out after %d s" % TIMEOUT)
        return 124
    _, status = os.waitpid(pid, 0)
    sys.stdout.buffer.write(out.replace(b"\r", b""))
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main())
