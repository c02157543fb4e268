"""Requests a server must refuse, sent to envinit-sshd on purpose.

Run with /usr/bin/python3 (Debian's python3-paramiko). Every connection goes
to loopback only (127.0.0.1, ::1, ::ffff:127.0.0.1). Usage:

  sf_negative.py matrix PORT USER KEY ECHO_PORT ECHO_SOCK FWD_SOCK
      one connection; each channel type, global request and session request
      once, printed as "PROBE RESULT" (allowed, refused, or ran:OUTPUT for
      what a program printed), after a first line "lport N" (our port, which
      the server's log lines name).
  sf_negative.py auth HOST PORT USER KEY
      "auth allowed" or "auth refused", then "lport N".
  sf_negative.py preauth PORT USER CASE MARK
      before authentication: CASE is userauth-success, channel-open,
      global-request or channel-request. Prints "lport N" and how the
      connection ended: "closed" or "unauthenticated" (a publickey prompt
      still stands), or "HANDLED" when the server did what was asked.
  sf_negative.py kex PORT CASE
      plain-protocol key exchange: CASE strict-offered (prints the server's
      kex list), strict-ignore / loose-ignore (an SSH_MSG_IGNORE right after
      KEXINIT, with and without kex-strict-c-v00@openssh.com; prints
      "closed" or "answered"), strict-debug (SSH_MSG_DEBUG likewise).
  sf_negative.py first-line PORT CASE COUNT
      COUNT connections whose first line (CASE blank, hello, binary) is
      sent at once and is no identification: "banner N of COUNT", N those
      that got the server's identification before it closed.
  sf_negative.py junk PORT CASE
      CASE zero, tiny, huge: a binary packet of length 0, 1 or 2^31 after
      the identifications; prints "closed" or "open".
  sf_negative.py window PORT USER KEY
      data past the channel's window: "closed" or "open".
  sf_negative.py packet PORT USER KEY SIZE
      one SSH_MSG_IGNORE of SIZE payload bytes after login: "closed" or
      "open" (a keepalive answered after it).
  sf_negative.py opens PORT USER KEY LISTENER_PID COUNT
      COUNT session opens on one connection, none closed: "granted N
      refused M", "hwm-before KB", "hwm-after KB", then "exec ok" when a
      granted session still runs a program.
  sf_negative.py envs PORT USER KEY COUNT
      COUNT env requests on one session, then exec: prints how many LC_
      variables the program got.
"""
import os
import socket
import struct
import sys
import time

import logging

import paramiko
from paramiko.common import (cMSG_CHANNEL_DATA, cMSG_CHANNEL_OPEN, cMSG_CHANNEL_REQUEST,
                             cMSG_GLOBAL_REQUEST, cMSG_IGNORE)
from paramiko.message import Message

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sf_limits  # noqa: E402  (conn_pid, hwm_kb)

TIMEOUT = 10
# refusals are what we ask for; paramiko would print each as an error
logging.getLogger("paramiko").setLevel(logging.CRITICAL)


def transport(host, port):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(TIMEOUT)
    s.connect((host, int(port)))
    t = paramiko.Transport(s)
    t.start_client(timeout=TIMEOUT)
    return t, s.getsockname()[1]


def login(port, user, key, host="127.0.0.1"):
    t, lport = transport(host, port)
    t.auth_publickey(user, paramiko.Ed25519Key.from_private_key_file(key))
    print("lport", lport, flush=True)
    return t


def open_channel(t, kind, extra=None):
    """A channel open of any KIND with EXTRA fields (a Message filler):
    the channel, or None when the server refused it."""
    with t.lock:
        chanid = t._next_channel()
        m = Message()
        m.add_byte(cMSG_CHANNEL_OPEN)
        m.add_string(kind)
        m.add_int(chanid)
        m.add_int(2097152)
        m.add_int(32768)
        if extra:
            extra(m)
        chan = paramiko.Channel(chanid)
        t._channels.put(chanid, chan)
        t.channel_events[chanid] = event = __import__("threading").Event()
        t.channels_seen[chanid] = True
        chan._set_transport(t)
        chan._set_window(2097152, 32768)
    t._send_user_message(m)
    if not event.wait(TIMEOUT) or not t.active:
        raise SystemExit(f"{kind}: no answer, connection active={t.active}")
    return t._channels.get(chanid)


def chan_request(chan, name, fill=None):
    """A channel request with want-reply: True when it succeeded."""
    m = Message()
    m.add_byte(cMSG_CHANNEL_REQUEST)
    m.add_int(chan.remote_chanid)
    m.add_string(name)
    m.add_boolean(True)
    if fill:
        fill(m)
    chan._event_pending()
    chan.transport._send_user_message(m)
    try:
        chan._wait_for_event()
        return True
    except paramiko.SSHException:
        return False


def verdict(ok):
    return "allowed" if ok else "refused"


def echo_works(chan):
    chan.settimeout(TIMEOUT)
    chan.sendall(b"ping")
    got = b""
    while len(got) < 4:
        d = chan.recv(4 - len(got))
        if not d:
            break
        got += d
    chan.close()
    return got == b"ping"


def run_output(chan):
    chan.settimeout(TIMEOUT)
    out = b""
    while True:
        d = chan.recv(4096)
        if not d:
            break
        out += d
    chan.close()
    return out.decode(errors="replace").strip().replace("\n", "|").replace(" ", "_")


def probe_open_direct_tcpip(t, ctx):
    ch = open_channel(t, "direct-tcpip", lambda m: m.add(
        "127.0.0.1", int(ctx["echo_port"]), "127.0.0.1", 40000))
    return verdict(ch is not None and echo_works(ch))


def probe_open_direct_streamlocal(t, ctx):
    ch = open_channel(t, "direct-streamlocal@openssh.com",
                      lambda m: m.add(ctx["echo_sock"], "", 0))
    return verdict(ch is not None and echo_works(ch))


def probe_open_x11(t, ctx):
    ch = open_channel(t, "x11", lambda m: m.add("127.0.0.1", 6010))
    return verdict(ch is not None)


def probe_open_agent(t, ctx):
    ch = open_channel(t, "auth-agent@openssh.com")
    return verdict(ch is not None)


def probe_open_session(t, ctx):
    ch = open_channel(t, "session")
    if ch is not None:
        ch.close()
    return verdict(ch is not None)


def global_pair(t, kind, fields, cancel_fields):
    """KIND, then its cancel (of what was granted, else of FIELDS)."""
    r = t.global_request(kind, fields, wait=True)
    got = cancel_fields(r) if r is not None else fields
    c = t.global_request("cancel-" + kind, got, wait=True)
    if not t.active:
        raise SystemExit(f"{kind}: connection ended")
    return verdict(r is not None), verdict(c is not None)


def probe_tcpip_forward(t, ctx):
    return global_pair(t, "tcpip-forward", ("127.0.0.1", 0),
                       lambda r: ("127.0.0.1", r.get_int()))


def probe_streamlocal_forward(t, ctx):
    path = ctx["fwd_sock"]
    return global_pair(t, "streamlocal-forward@openssh.com", (path,), lambda r: (path,))


def session(t):
    ch = open_channel(t, "session")
    if ch is None:
        raise SystemExit("no session channel")
    return ch


def probe_pty(t, ctx):
    ch = session(t)
    ok = chan_request(ch, "pty-req", lambda m: m.add("xterm", 80, 24, 0, 0, b"\x00"))
    ch.close()
    return verdict(ok)


def probe_x11_req(t, ctx):
    ch = session(t)
    ok = chan_request(ch, "x11-req", lambda m: (
        m.add_boolean(False), m.add("MIT-MAGIC-COOKIE-1", "ab" * 16), m.add_int(0)))
    ch.close()
    return verdict(ok)


def probe_agent_req(t, ctx):
    ch = session(t)
    ok = chan_request(ch, "auth-agent-req@openssh.com")
    ch.close()
    return verdict(ok)


def probe_exec(t, ctx):
    ch = session(t)
    if not chan_request(ch, "exec", lambda m: m.add("echo exec-ran")):
        return "refused"
    out = run_output(ch)
    return "allowed" if out == "exec-ran" else "ran:" + out


def probe_shell(t, ctx):
    ch = session(t)
    if not chan_request(ch, "shell"):
        return "refused"
    ch.sendall(b"echo shell-ran; exit\n")
    ch.shutdown_write()
    out = run_output(ch)
    return "allowed" if out == "shell-ran" else "ran:" + out


def probe_sftp(t, ctx):
    ch = session(t)
    if not chan_request(ch, "subsystem", lambda m: m.add("sftp")):
        return "refused"
    # A forced command may have run and closed the channel already: what
    # it printed is still to be read.
    try:
        ch.sendall(struct.pack(">IBI", 5, 1, 3))  # SSH_FXP_INIT, version 3
        ch.shutdown_write()
    except OSError:
        pass
    out = b""
    ch.settimeout(TIMEOUT)
    while True:
        d = ch.recv(4096)
        if not d:
            break
        out += d
    ch.close()
    if len(out) >= 5 and out[4] == 2:  # SSH_FXP_VERSION
        return "allowed"
    return "ran:" + out.decode(errors="replace").strip().replace(" ", "_")


PROBES = [
    ("open-session", probe_open_session),
    ("open-direct-tcpip", probe_open_direct_tcpip),
    ("open-direct-streamlocal", probe_open_direct_streamlocal),
    ("open-x11", probe_open_x11),
    ("open-auth-agent", probe_open_agent),
    (("tcpip-forward", "cancel-tcpip-forward"), probe_tcpip_forward),
    (("streamlocal-forward", "cancel-streamlocal-forward"), probe_streamlocal_forward),
    ("pty-req", probe_pty),
    ("x11-req", probe_x11_req),
    ("auth-agent-req", probe_agent_req),
    ("exec", probe_exec),
    ("shell", probe_shell),
    ("sftp", probe_sftp),
]


def matrix(port, user, key, echo_port, echo_sock, fwd_sock):
    ctx = {"echo_port": echo_port, "echo_sock": echo_sock, "fwd_sock": fwd_sock}
    t = login(port, user, key)
    for name, fn in PROBES:
        got = fn(t, ctx)
        if isinstance(name, tuple):
            for n, g in zip(name, got):
                print(n, g, flush=True)
        else:
            print(name, got, flush=True)
    t.close()


def auth(host, port, user, key):
    t, lport = transport(host, port)
    try:
        t.auth_publickey(user, paramiko.Ed25519Key.from_private_key_file(key))
        print("auth allowed")
    except paramiko.AuthenticationException:
        print("auth refused")
    print("lport", lport, flush=True)
    t.close()


# ---- before authentication ----

def closed_or_unauthenticated(t, user):
    """How a connection stands after what we sent: closed, or the server
    still asks for a public key."""
    deadline = time.time() + 2
    while t.active and time.time() < deadline:
        time.sleep(0.02)
    if not t.active:
        return "closed"
    try:
        t.auth_none(user)
        return "HANDLED"  # "none" accepted: we would be logged in
    except paramiko.BadAuthenticationType as e:
        return "unauthenticated" if list(e.allowed_types) == ["publickey"] else "HANDLED"
    except (paramiko.SSHException, EOFError, OSError):
        return "closed"


def preauth(port, user, case, mark):
    t, lport = transport("127.0.0.1", port)
    print("lport", lport, flush=True)
    m = Message()
    if case == "userauth-success":
        m.add_byte(bytes([52]))
    elif case == "channel-open":
        m.add_byte(cMSG_CHANNEL_OPEN)
        m.add("session", 0, 2097152, 32768)
    elif case == "global-request":
        m.add_byte(cMSG_GLOBAL_REQUEST)
        m.add("tcpip-forward", True, "127.0.0.1", 0)
    elif case == "channel-request":
        m.add_byte(cMSG_CHANNEL_REQUEST)
        m.add(0, "exec", True, f"touch {mark}")
    t._send_user_message(m)
    if case == "userauth-success":
        # as if we were in: a session and a command
        m = Message()
        m.add_byte(cMSG_CHANNEL_OPEN)
        m.add("session", 0, 2097152, 32768)
        try:
            t._send_user_message(m)
            m = Message()
            m.add_byte(cMSG_CHANNEL_REQUEST)
            m.add(0, "exec", True, f"touch {mark}")
            t._send_user_message(m)
        except (paramiko.SSHException, EOFError, OSError):
            pass
    print(closed_or_unauthenticated(t, user), flush=True)
    t.close()


# ---- the plain binary packet protocol, before any keys ----

def raw_connect(port):
    s = socket.create_connection(("127.0.0.1", int(port)), timeout=TIMEOUT)
    return s


def read_line(s):
    line = b""
    while not line.endswith(b"\n"):
        d = s.recv(1)
        if not d:
            break
        line += d
    return line


def packet(payload):
    pad = 8 - (len(payload) + 5) % 8
    if pad < 4:
        pad += 8
    return struct.pack(">IB", len(payload) + pad + 1, pad) + payload + os.urandom(pad)


def read_packet(s):
    head = recv_exact(s, 5)
    length, pad = struct.unpack(">IB", head)
    body = recv_exact(s, length - 1)
    return body[:len(body) - pad]


def recv_exact(s, n):
    out = b""
    while len(out) < n:
        d = s.recv(n - len(out))
        if not d:
            raise EOFError("closed")
        out += d
    return out


def sshstr(b):
    if isinstance(b, str):
        b = b.encode()
    return struct.pack(">I", len(b)) + b


def kexinit(kex):
    names = [kex, "ssh-ed25519", "aes128-ctr", "aes128-ctr", "hmac-sha2-256",
             "hmac-sha2-256", "none", "none", "", ""]
    return (bytes([20]) + os.urandom(16) + b"".join(sshstr(n) for n in names) +
            b"\x00" + b"\x00\x00\x00\x00")


def name_lists(p):
    pos, out = 17, []
    for _ in range(10):
        n = struct.unpack(">I", p[pos:pos + 4])[0]
        out.append(p[pos + 4:pos + 4 + n].decode())
        pos += 4 + n
    return out


def start_plain(port):
    s = raw_connect(port)
    s.sendall(b"SSH-2.0-sf_negative\r\n")
    banner = read_line(s)
    if not banner.startswith(b"SSH-2.0-"):
        raise SystemExit(f"server identification: {banner!r}")
    return s


def closed_within(s, seconds):
    s.settimeout(seconds)
    try:
        while True:
            if not s.recv(65536):
                return True
    except socket.timeout:
        return False
    except OSError:
        return True


def ecdh_init():
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
    pub = X25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return bytes([30]) + sshstr(pub)


def kex(port, case):
    s = start_plain(port)
    strict = case != "loose-ignore"
    kexlist = "curve25519-sha256" + (",kex-strict-c-v00@openssh.com" if strict else "")
    s.sendall(packet(kexinit(kexlist)))
    server = read_packet(s)
    if server[0] != 20:
        raise SystemExit(f"first server packet type {server[0]}")
    if case == "strict-offered":
        print(name_lists(server)[0])
        return
    if case == "strict-debug":
        s.sendall(packet(bytes([4, 0]) + sshstr("sf_negative") + sshstr("")))
    else:
        s.sendall(packet(bytes([2]) + sshstr("sf_negative")))
    s.sendall(packet(ecdh_init()))
    s.settimeout(TIMEOUT)
    try:
        reply = read_packet(s)
        print("answered" if reply[0] == 31 else f"type-{reply[0]}")
    except (EOFError, OSError):
        print("closed")


FIRST_LINES = {"blank": b"\r\n", "hello": b"hello\r\n",
               "binary": b"\x00\xff\xfe\x13\x37\x80garbage\n"}


def first_line(port, case, count):
    """COUNT connections whose first line comes with the connect."""
    banner_first = 0
    for _ in range(int(count)):
        s = socket.socket()
        s.settimeout(TIMEOUT)
        # the line leaves with the handshake's last packet (TCP fast path)
        s.connect(("127.0.0.1", int(port)))
        s.sendall(FIRST_LINES[case])
        data = b""
        try:
            while True:
                d = s.recv(4096)
                if not d:
                    break
                data += d
        except OSError:
            pass
        s.close()
        banner_first += data.startswith(b"SSH-2.0-")
    print(f"banner {banner_first} of {count}")


def junk(port, case):
    s = raw_connect(port)
    s.sendall(b"SSH-2.0-sf_negative\r\n")
    read_line(s)
    lengths = {"zero": 0, "tiny": 1, "huge": 0x80000000}
    s.sendall(struct.pack(">I", lengths[case]) + b"\x04" + b"\x00" * 60)
    print("closed" if closed_within(s, 5) else "open")


# ---- resource abuse after login ----

def alive(t):
    """The connection still answers: a global request gets its reply."""
    t.global_request("keepalive@openssh.com", wait=True)
    return t.active


def wait_closed(t, seconds=5):
    deadline = time.time() + seconds
    while t.active and time.time() < deadline:
        time.sleep(0.02)
    return not t.active


def window(port, user, key):
    t = login(port, user, key)
    ch = session(t)
    chan_request(ch, "exec", lambda m: m.add("sleep 20"))
    win = ch.out_window_size
    sent, chunk = 0, b"x" * 32768
    try:
        while sent <= win + len(chunk) and t.active:
            m = Message()
            m.add_byte(cMSG_CHANNEL_DATA)
            m.add_int(ch.remote_chanid)
            m.add_string(chunk)
            t._send_user_message(m)
            sent += len(chunk)
    except (paramiko.SSHException, EOFError, OSError):
        pass
    print("window", win, "sent", sent, flush=True)
    print("closed" if wait_closed(t) else "open")


def big_packet(port, user, key, size):
    t = login(port, user, key)
    m = Message()
    m.add_byte(cMSG_IGNORE)
    m.add_string(b"i" * (int(size) - 5))  # message type and length word count
    try:
        t._send_user_message(m)
        ok = alive(t) and not wait_closed(t, 0.5)
    except (paramiko.SSHException, EOFError, OSError):
        ok = False
    print("open" if ok else "closed")


def opens(port, user, key, listener, count):
    t = login(port, user, key)
    pid = sf_limits.conn_pid(listener, os.environ["SF_UID"])
    before = sf_limits.hwm_kb(pid)
    granted = []
    refused = 0
    for _ in range(int(count)):
        ch = open_channel(t, "session")
        if ch is None:
            refused += 1
        else:
            granted.append(ch)
    print("granted", len(granted), "refused", refused, flush=True)
    print("hwm-before", before)
    print("hwm-after", sf_limits.hwm_kb(pid), flush=True)
    ch = granted[0] if granted else None
    ok = ch is not None and chan_request(ch, "exec", lambda m: m.add("echo exec-ran"))
    print("exec ok" if ok and run_output(ch) == "exec-ran" else "exec failed", flush=True)
    t.close()


def envs(port, user, key, count):
    t = login(port, user, key)
    ch = session(t)
    for i in range(int(count)):
        m = Message()
        m.add_byte(cMSG_CHANNEL_REQUEST)
        m.add_int(ch.remote_chanid)
        m.add("env", False, f"LC_N{i}", "v")
        t._send_user_message(m)
    alive(t)
    chan_request(ch, "exec", lambda m: m.add("env | grep -c '^LC_N'"))
    print(run_output(ch))
    t.close()


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {"matrix": matrix, "auth": auth, "preauth": preauth, "kex": kex, "junk": junk,
     "first-line": first_line,
     "window": window, "packet": big_packet, "opens": opens, "envs": envs}[cmd](*args)
