#!/usr/bin/env python3
"""Check that an MQTT broker on 127.0.0.1:PORT answers a CONNECT with a CONNACK.

usage: probe.py PORT [--protocol 3.1.1|5.0] [--wait SECONDS] [--host HOST]

Sends a clean-session CONNECT (client id "", keep alive 60) and expects a
CONNACK with return/reason code 0. Retries the TCP connect until --wait runs
out, so it can be started right after the broker. Standard library only.
Exit status: 0 accepted, 1 refused or unexpected answer, 3 unreachable.
"""
import argparse
import socket
import sys
import time

CONNECT = {
    # fixed header 0x10, remaining length 12, "MQTT", level 4,
    # flags 0x02 (clean session), keep alive 60, client id ""
    "3.1.1": bytes.fromhex("100c00044d5154540402003c0000"),
    # same with level 5 and an empty property block
    "5.0": bytes.fromhex("100d00044d5154540502003c000000"),
}


def read_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("connection closed after %d bytes" % len(buf))
        buf += chunk
    return buf


def probe(host, port, protocol, wait):
    deadline = time.monotonic() + wait
    last = None
    while True:
        try:
            sock = socket.create_connection((host, port), timeout=5)
            break
        except OSError as exc:
            last = exc
            if time.monotonic() >= deadline:
                print("unreachable: %s:%d: %s" % (host, port, last), file=sys.stderr)
                return 3
            time.sleep(0.2)
    with sock:
        sock.sendall(CONNECT[protocol])
        try:
            header = read_exact(sock, 2)
            if header[0] != 0x20:
                print("unexpected packet type 0x%02x" % header[0], file=sys.stderr)
                return 1
            # remaining length (variable byte integer)
            length, shift, byte = 0, 0, header[1]
            while True:
                length |= (byte & 0x7F) << shift
                if not byte & 0x80:
                    break
                shift += 7
                byte = read_exact(sock, 1)[0]
            body = read_exact(sock, length)
        except (OSError, ConnectionError) as exc:
            print("no CONNACK: %s" % exc, file=sys.stderr)
            return 1
        code = body[1] if len(body) >= 2 else None
        print(
            "MQTT %s CONNECT -> CONNACK %s (session present %d, code %s)"
            % (protocol, body.hex(" "), body[0] & 1 if body else 0, code)
        )
        if code == 0:
            # polite DISCONNECT (v5 form with reason 0 is valid for both)
            sock.sendall(b"\xe0\x00")
            return 0
        return 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("port", type=int)
    ap.add_argument("--protocol", choices=sorted(CONNECT), default="3.1.1")
    ap.add_argument("--wait", type=float, default=10.0)
    ap.add_argument("--host", default="127.0.0.1")
    args = ap.parse_args()
    sys.exit(probe(args.host, args.port, args.protocol, args.wait))


if __name__ == "__main__":
    main()
