"""Runs COMMAND (an ssh client) on a pseudo-terminal this script holds, as a
terminal user would, and prints what it wrote (CRs removed).

usage: ptyrun.py [--size ROWS COLS] [--modes] [--on MARK ACTION]... -- COMMAND...
  --size       the terminal's size before COMMAND starts
  --modes      the terminal has erase ^X, intr ^B, iutf8 and -ixon
  --on         once MARK appears in the output, do ACTION (in order):
               resize:ROWS:COLS (the kernel then sends SIGWINCH), or
               send:TEXT (Python escapes, e.g. "send:\\r~B")
COMMAND is killed after 20 s if it has not ended."""
import fcntl, os, pty, select, signal, struct, sys, termios, time

def setsize(fd, rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

def set_modes(fd):
    t = termios.tcgetattr(fd)
    t[0] = (t[0] | 0o40000) & ~termios.IXON   # iutf8 -ixon
    t[6][termios.VERASE] = b"\x18"
    t[6][termios.VINTR] = b"\x02"
    termios.tcsetattr(fd, termios.TCSANOW, t)

args, size, modes, steps = sys.argv[1:], None, False, []
while args and args[0] != "--":
    if args[0] == "--size":
        size, args = (int(args[1]), int(args[2])), args[3:]
    elif args[0] == "--modes":
        modes, args = True, args[1:]
    elif args[0] == "--on":
        steps.append((args[1].encode(), args[2]))
        args = args[3:]
    else:
        sys.exit("ptyrun.py: unknown option " + args[0])
command = args[1:]

pid, fd = pty.fork()
if pid == 0:
    if modes:
        set_modes(0)
    os.environ["TERM"] = "xterm-test"
    os.execvp(command[0], command)
if size:
    setsize(fd, *size)
buf, end = b"", time.time() + 20
while time.time() < end:
    r, _, _ = select.select([fd], [], [], 0.2)
    if r:
        try:
            d = os.read(fd, 4096)
        except OSError:
            break
        if not d:
            break
        buf += d
    if steps and steps[0][0] in buf:
        kind, _, arg = steps.pop(0)[1].partition(":")
        if kind == "resize":
            setsize(fd, *map(int, arg.split(":")))
        else:
            os.write(fd, arg.encode().decode("unicode_escape").encode("latin-1"))
sys.stdout.write(buf.decode(errors="replace").replace("\r", ""))
os.kill(pid, signal.SIGKILL)
os.waitpid(pid, 0)
