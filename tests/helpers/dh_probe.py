#!/usr/bin/python3
"""Sends a chosen Diffie-Hellman public value e to an SSH server.

Usage: dh_probe.py PORT KEX E
  KEX: diffie-hellman-group16-sha512 or diffie-hellman-group18-sha512
  E:   an integer, or p-1 / p (the group's prime minus one, the prime)
Speaks the clear-text start of the protocol (RFC 4253: banner, KEXINIT,
KEXDH_INIT with E) on 127.0.0.1:PORT and prints "reply" when the server
answers with KEXDH_REPLY (it took E), "refused" when it closes or
disconnects instead.
"""
import os
import socket
import struct
import sys

# RFC 3526: the 4096-bit (group 16) and 8192-bit (group 18) MODP primes
# are 2^n - 2^(n-64) - 1 + 2^64 * (floor(2^(n-130) pi) + offset).
OFFSETS = {4096: 240904, 8192: 4743158}


def modp_prime(bits):
    # floor(2^k pi) by Machin's formula in integer arithmetic
    k = bits - 130
    guard = 64
    scale = 1 << (k + guard)

    def arctan_inv(x):
        total, term, n, sign = 0, scale // x, 1, 1
        while term:
            total += sign * (term // n)
            term //= x * x
            n += 2
            sign = -sign
        return total

    pi_scaled = (16 * arctan_inv(5) - 4 * arctan_inv(239)) >> guard
    return (1 << bits) - (1 << (bits - 64)) - 1 + (1 << 64) * (pi_scaled + OFFSETS[bits])


def string(b):
    return struct.pack(">I", len(b)) + b


def mpint(n):
    raw = n.to_bytes((n.bit_length() + 8) // 8, "big") if n else b""
    return string(raw)


def packet(payload):
    pad = 8 - (5 + len(payload)) % 8
    if pad < 4:
        pad += 8
    return struct.pack(">IB", 1 + len(payload) + pad, pad) + payload + os.urandom(pad)


def read_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def read_packet(s):
    head = read_exact(s, 5)
    if head is None:
        return None
    length, pad = struct.unpack(">IB", head)
    body = read_exact(s, length - 1)
    return None if body is None else body[: length - 1 - pad]


def main():
    port, kex, e_arg = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    p = modp_prime(8192 if "group18" in kex else 4096)
    e = {"p-1": p - 1, "p": p}.get(e_arg)
    e = int(e_arg) if e is None else e
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    s.sendall(b"SSH-2.0-dh_probe\r\n")
    line = b""
    while not line.startswith(b"SSH-"):
        line = b""
        while not line.endswith(b"\n"):
            c = s.recv(1)
            if not c:
                print("refused")
                return
            line += c
    if read_packet(s) is None:  # the server's KEXINIT
        print("refused")
        return
    names = [kex, "ssh-ed25519", "aes128-ctr", "aes128-ctr",
             "hmac-sha2-256-etm@openssh.com", "hmac-sha2-256-etm@openssh.com",
             "none", "none", "", ""]
    kexinit = bytes([20]) + os.urandom(16) + b"".join(string(n.encode()) for n in names)
    s.sendall(packet(kexinit + b"\x00" + struct.pack(">I", 0)))
    s.sendall(packet(bytes([30]) + mpint(e)))
    while True:
        try:
            pkt = read_packet(s)
        except (ConnectionResetError, socket.timeout):
            pkt = None
        if pkt is None or pkt[0] == 1:  # closed, or SSH_MSG_DISCONNECT
            print("refused")
            return
        if pkt[0] == 31:  # SSH_MSG_KEXDH_REPLY
            print("reply")
            return


if __name__ == "__main__":
    main()
