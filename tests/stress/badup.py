#!/usr/bin/env python3
"""Hostile "upstreams" for dotsec's stress tests (no third-party modules).

  badup.py --notls ADDR:PORT --silent-tls ADDR:PORT --cert PEM --key KEY
           --status FILE [--lifetime 900] [--max-conns 256]

--notls accepts TCP connections and never starts TLS: whatever the client
sends is read and thrown away, nothing is ever written.
--silent-tls completes the TLS handshake (with the given certificate and
key, e.g. the world's "dns.test" one, so that the client authenticates
it) and then reads and throws away every query, never answering.

Loopback addresses only.  Every second (and at exit) FILE is rewritten
with one JSON object: for each listener, accepted (connections in total),
open (now), max_open, handshakes (TLS completed), bytes (received).  At
most --max-conns connections are kept per listener (the oldest is closed
beyond that); the process exits by itself after --lifetime seconds, or
on SIGTERM.
"""

import argparse
import json
import os
import select
import signal
import socket
import ssl
import sys
import time


class Listener:
    def __init__(self, name, addr, port, ctx, max_conns):
        self.name, self.ctx, self.max_conns = name, ctx, max_conns
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((addr, port))
        self.sock.listen(128)
        self.sock.setblocking(False)
        self.conns = []         # [socket, handshake done]
        self.stats = {"accepted": 0, "open": 0, "max_open": 0,
                      "handshakes": 0, "bytes": 0, "closed_by_peer": 0}

    def accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            c.setblocking(False)
            self.stats["accepted"] += 1
            if self.ctx is not None:
                c = self.ctx.wrap_socket(c, server_side=True,
                                         do_handshake_on_connect=False)
                self.conns.append([c, False])
            else:
                self.conns.append([c, True])
            while len(self.conns) > self.max_conns:
                old = self.conns.pop(0)[0]
                old.close()
            self.count()

    def count(self):
        self.stats["open"] = len(self.conns)
        self.stats["max_open"] = max(self.stats["max_open"], len(self.conns))

    def service(self, c):
        """Handshake or read; False when the connection is over."""
        ent = next(e for e in self.conns if e[0] is c)
        try:
            if not ent[1]:
                c.do_handshake()
                ent[1] = True
                self.stats["handshakes"] += 1
            while True:
                data = c.recv(65536)
                if not data:
                    self.stats["closed_by_peer"] += 1
                    return False
                self.stats["bytes"] += len(data)
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError,
                BlockingIOError, InterruptedError):
            return True
        except (ssl.SSLError, OSError):
            self.stats["closed_by_peer"] += 1
            return False


def hostport(s):
    addr, port = s.rsplit(":", 1)
    if not addr.startswith("127."):
        raise argparse.ArgumentTypeError("loopback IPv4 addresses only")
    return addr, int(port)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--notls", type=hostport)
    ap.add_argument("--silent-tls", type=hostport)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--status", required=True)
    ap.add_argument("--lifetime", type=float, default=900)
    ap.add_argument("--max-conns", type=int, default=256)
    a = ap.parse_args()

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    listeners = []
    if a.notls:
        listeners.append(Listener("notls", a.notls[0], a.notls[1], None,
                                  a.max_conns))
    if a.silent_tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.cert, a.key)
        listeners.append(Listener("silent_tls", a.silent_tls[0],
                                  a.silent_tls[1], ctx, a.max_conns))
    if not listeners:
        ap.error("nothing to listen on")

    def write_status():
        tmp = a.status + ".tmp"
        with open(tmp, "w") as f:
            json.dump({l.name: l.stats for l in listeners}, f)
        os.rename(tmp, a.status)

    write_status()
    end = time.monotonic() + a.lifetime
    last = 0.0
    while not stop and time.monotonic() < end:
        rlist = [l.sock for l in listeners]
        owner = {}
        for l in listeners:
            for c, _ in l.conns:
                rlist.append(c)
                owner[c] = l
        try:
            ready, _, _ = select.select(rlist, [], [], 0.2)
        except InterruptedError:
            continue
        except ValueError:
            # A closed socket slipped in; drop closed ones.
            for l in listeners:
                l.conns = [e for e in l.conns if e[0].fileno() >= 0]
            continue
        for r in ready:
            l = next((l for l in listeners if l.sock is r), None)
            if l is not None:
                l.accept()
                continue
            l = owner.get(r)
            if l is None or not any(e[0] is r for e in l.conns):
                continue
            if not l.service(r):
                l.conns = [e for e in l.conns if e[0] is not r]
                r.close()
                l.count()
        if time.monotonic() - last >= 1.0:
            write_status()
            last = time.monotonic()
    write_status()
    for l in listeners:
        for c, _ in l.conns:
            c.close()
        l.sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
