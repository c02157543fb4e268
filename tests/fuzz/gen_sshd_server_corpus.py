#!/usr/bin/python3
"""Seed corpus of fuzz_sshd_server: what an SSH client sends, byte for byte.

The fuzz server offers only the "none" cipher and MAC, so a client's whole
side of a connection is known in advance: its banner, KEXINIT, the key
exchange's init message (any valid public value will do), NEWKEYS, then
plaintext packets: service request, userauth none/publickey (probes and
signed requests with signatures that cannot verify), password,
keyboard-interactive, and channel opens, channel requests and global
requests sent before any login. The keys are those of
tests/fuzz/corpus/envfile_key, which fuzz_sshd_server.c puts in its
authorized_keys (checked here).

Usage: tests/fuzz/gen_sshd_server_corpus.py [OUTDIR]
  (default tests/fuzz/corpus/sshd_server; files are rewritten)
"""
import base64
import os
import re
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
KEYS = os.path.join(HERE, "corpus", "envfile_key")
USER = b"fuzzer"
# RFC 7748's test public value: a valid curve25519 point.
X25519_PUB = bytes.fromhex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")

MSG = dict(DISCONNECT=1, IGNORE=2, UNIMPLEMENTED=3, DEBUG=4, SERVICE_REQUEST=5, KEXINIT=20,
           NEWKEYS=21, KEX_ECDH_INIT=30, USERAUTH_REQUEST=50, GLOBAL_REQUEST=80,
           CHANNEL_OPEN=90, CHANNEL_DATA=94, CHANNEL_EOF=96, CHANNEL_CLOSE=97,
           CHANNEL_REQUEST=98, USERAUTH_INFO_RESPONSE=61)


def string(b):
    if isinstance(b, str):
        b = b.encode()
    return struct.pack(">I", len(b)) + b


def u32(n):
    return struct.pack(">I", n)


def boolean(v):
    return b"\x01" if v else b"\x00"


def packet(payload):
    """One binary packet, block size 8, no MAC (the none cipher and MAC)."""
    pad = 8 - (5 + len(payload)) % 8
    if pad < 4:
        pad += 8
    return struct.pack(">IB", 1 + len(payload) + pad, pad) + payload + b"\x00" * pad


def key(name):
    with open(os.path.join(KEYS, name)) as f:
        kind, b64 = f.read().split()[:2]
    return kind, base64.b64decode(b64), b64


def check_authorized(names):
    """The keys must be those the fuzz target authorizes (its C literal)."""
    with open(os.path.join(HERE, "fuzz_sshd_server.c")) as f:
        src = f.read()
    lit = src[src.index("authorized_keys[] ="):]
    lit = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', lit[:lit.index(";\n")]))
    for n in names:
        if key(n)[2] not in lit:
            sys.exit("gen_sshd_server_corpus: key %s is not in fuzz_sshd_server.c's authorized_keys" % n)


def kexinit(kex="curve25519-sha256", extra=",ext-info-c", follows=False):
    names = [kex + extra, "ssh-ed25519", "none", "none", "none", "none", "none", "none", "", ""]
    return packet(bytes([MSG["KEXINIT"]]) + b"\x11" * 16 + b"".join(string(n) for n in names) +
                  boolean(follows) + u32(0))


def key_exchange(kex="curve25519-sha256", extra=",ext-info-c"):
    if kex.startswith("diffie-hellman"):
        init = bytes([MSG["KEX_ECDH_INIT"]]) + string(b"\x7f" + b"\x5a" * 255)  # mpint e
    else:
        init = bytes([MSG["KEX_ECDH_INIT"]]) + string(X25519_PUB)
    return kexinit(kex, extra) + packet(init) + packet(bytes([MSG["NEWKEYS"]]))


def start(kex="curve25519-sha256", extra=",ext-info-c"):
    return b"SSH-2.0-OpenSSH_9.2p1 seed\r\n" + key_exchange(kex, extra)


def service(name=b"ssh-userauth"):
    return packet(bytes([MSG["SERVICE_REQUEST"]]) + string(name))


def userauth(method, rest=b"", user=USER):
    return packet(bytes([MSG["USERAUTH_REQUEST"]]) + string(user) + string("ssh-connection") +
                  string(method) + rest)


def fake_signature(alg):
    if alg.startswith("sk-"):
        return string(alg) + string(b"\x42" * 64) + b"\x01" + u32(7)
    if alg.startswith("ecdsa"):
        return string(alg) + string(string(b"\x01" * 32) + string(b"\x02" * 32))
    if alg.startswith("rsa") or alg == "ssh-rsa":
        return string(alg) + string(b"\x33" * 256)
    return string(alg) + string(b"\x42" * 64)


def pubkey(name, signed=False, alg=None, user=USER):
    kind, blob, _ = key(name)
    alg = alg or kind
    rest = boolean(signed) + string(alg) + string(blob)
    if signed:
        rest += string(fake_signature(alg))
    return userauth("publickey", rest, user)


def channel_open(kind="session", extra=b""):
    return packet(bytes([MSG["CHANNEL_OPEN"]]) + string(kind) + u32(0) + u32(2 * 1024 * 1024) +
                  u32(32768) + extra)


def global_request(name, extra=b""):
    return packet(bytes([MSG["GLOBAL_REQUEST"]]) + string(name) + boolean(True) + extra)


def channel_request(name, extra=b""):
    return packet(bytes([MSG["CHANNEL_REQUEST"]]) + u32(0) + string(name) + boolean(True) + extra)


def login_attempt():
    return service() + userauth("none")


def seeds():
    s = {}
    s["kex_only"] = start()
    s["kex_strict"] = start(extra=",ext-info-c,kex-strict-c-v00@openssh.com") + login_attempt()
    s["kex_plain"] = start(extra="") + login_attempt()
    s["kex_dh_group16"] = start("diffie-hellman-group16-sha512") + login_attempt()
    s["kex_guess_follows"] = (b"SSH-2.0-seed\r\n" +
                              kexinit(follows=True) + packet(bytes([MSG["KEX_ECDH_INIT"]]) + string(X25519_PUB)) +
                              packet(bytes([MSG["NEWKEYS"]])) + login_attempt())
    s["auth_none"] = start() + login_attempt()
    probes = {"probe_ed25519": "key_k_ed25519", "probe_ecdsa_restrict": "key_k_ecdsab256",
              "probe_rsa_from": "key_k_rsab2048", "probe_sk_ed25519": "key_k_sked",
              "probe_sk_ecdsa": "key_k_skec", "probe_bad_option": "key_k_ecdsab521",
              "probe_unlisted": "key_k_ecdsab384", "probe_cert": "key_k_ed25519-cert"}
    for name, k in probes.items():
        s[name] = start() + login_attempt() + pubkey(k)
    s["probe_rsa_sha2"] = start() + login_attempt() + pubkey("key_k_rsab2048", alg="rsa-sha2-512")
    s["signed_ed25519"] = start() + login_attempt() + pubkey("key_k_ed25519") + pubkey("key_k_ed25519", True)
    s["signed_ecdsa"] = start() + login_attempt() + pubkey("key_k_ecdsab256", True)
    s["signed_sk"] = start() + login_attempt() + pubkey("key_k_sked", True) + pubkey("key_k_skec", True)
    s["signed_rsa"] = start() + login_attempt() + pubkey("key_k_rsab2048", True, alg="rsa-sha2-256")
    s["wrong_user"] = start() + service() + userauth("none", user=b"root") + \
        pubkey("key_k_ed25519", user=b"root\x1b[31m") + pubkey("key_k_ed25519", True, user=b"root")
    s["other_methods"] = start() + login_attempt() + \
        userauth("password", boolean(False) + string("hunter2")) + \
        userauth("keyboard-interactive", string("") + string("")) + \
        packet(bytes([MSG["USERAUTH_INFO_RESPONSE"]]) + u32(1) + string("x")) + \
        userauth("hostbased", string("ssh-ed25519") + string(key("key_k_ed25519")[1]) +
                 string("host") + string("fuzzer") + string(b"\x00" * 8))
    s["max_auth_tries"] = start() + login_attempt() + b"".join(
        pubkey(k, True) for k in ["key_k_ed25519", "key_k_ecdsab256", "key_k_ed25519",
                                  "key_k_ecdsab384", "key_k_ed25519", "key_k_sked", "key_k_ed25519"])
    s["chan_session_early"] = start() + login_attempt() + channel_open() + \
        channel_request("exec", string("id"))
    s["chan_direct_tcpip_early"] = start() + login_attempt() + \
        channel_open("direct-tcpip", string("127.0.0.1") + u32(22) + string("127.0.0.1") + u32(4242))
    s["chan_streamlocal_early"] = start() + login_attempt() + \
        channel_open("direct-streamlocal@openssh.com", string("/tmp/x.sock") + string("") + u32(0))
    s["global_tcpip_forward_early"] = start() + login_attempt() + \
        global_request("tcpip-forward", string("0.0.0.0") + u32(0))
    s["global_streamlocal_early"] = start() + login_attempt() + \
        global_request("streamlocal-forward@openssh.com", string("/tmp/y.sock"))
    s["global_keepalive_early"] = start() + login_attempt() + global_request("keepalive@openssh.com")
    s["chan_request_early"] = start() + login_attempt() + channel_request("pty-req",
        string("xterm") + u32(80) + u32(24) + u32(0) + u32(0) + string(b"\x00"))
    s["chan_before_service"] = start() + channel_open()
    s["auth_before_service"] = start() + userauth("none")
    s["service_other"] = start() + service(b"ssh-connection") + login_attempt()
    s["rekey"] = start() + login_attempt() + key_exchange(extra="") + pubkey("key_k_ed25519")
    s["noise"] = start() + packet(bytes([MSG["IGNORE"]]) + string("pad")) + \
        packet(bytes([MSG["DEBUG"]]) + boolean(True) + string("hi\x1b") + string("en")) + \
        packet(bytes([MSG["UNIMPLEMENTED"]]) + u32(3)) + packet(b"\xc8junk") + login_attempt() + \
        packet(bytes([MSG["DISCONNECT"]]) + u32(11) + string("bye") + string(""))
    s["session_after_probe"] = start() + login_attempt() + pubkey("key_k_ed25519") + channel_open()
    return s


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "corpus", "sshd_server")
    check_authorized(["key_k_ed25519", "key_k_ecdsab256", "key_k_rsab2048", "key_k_sked",
                      "key_k_skec", "key_k_ecdsab521"])
    os.makedirs(out, exist_ok=True)
    for name, data in sorted(seeds().items()):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    print("gen_sshd_server_corpus: %d seeds in %s" % (len(seeds()), out))


if __name__ == "__main__":
    main()
