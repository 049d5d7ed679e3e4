#!/usr/bin/env python3
"""Clear-text canary for dotsec's system tests.

Listens on UDP and TCP port PORT of every ADDR given, never answers, and
writes one line per datagram, per accepted TCP connection and per chunk of
TCP data to LOGFILE.  A test asserts that LOGFILE stays empty: nothing was
ever sent to an upstream address in clear text.

Usage: canary.py LOGFILE READYFILE PORT ADDR...

READYFILE is created once every socket is bound and listening.
"""

import os
import selectors
import socket
import sys
import time


def main():
    if len(sys.argv) < 5:
        sys.stderr.write(__doc__)
        return 2
    logpath, readypath, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    addrs = sys.argv[4:]
    sel = selectors.DefaultSelector()
    for addr in addrs:
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        u.bind((addr, port))
        u.setblocking(False)
        sel.register(u, selectors.EVENT_READ, ("udp", addr))
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        t.bind((addr, port))
        t.listen(16)
        t.setblocking(False)
        sel.register(t, selectors.EVENT_READ, ("tcp-listen", addr))
    log = open(logpath, "a", buffering=1)
    with open(readypath, "w") as f:
        f.write("%d\n" % os.getpid())

    def note(text):
        log.write("%s %s\n" % (time.strftime("%H:%M:%S"), text))

    while True:
        for key, _ in sel.select():
            kind, addr = key.data
            sock = key.fileobj
            try:
                if kind == "udp":
                    data, peer = sock.recvfrom(65535)
                    note("UDP %s:%d -> %s:%d len %d" % (peer[0], peer[1], addr,
                                                        port, len(data)))
                elif kind == "tcp-listen":
                    conn, peer = sock.accept()
                    conn.setblocking(False)
                    note("TCP connect %s:%d -> %s:%d" % (peer[0], peer[1],
                                                        addr, port))
                    sel.register(conn, selectors.EVENT_READ,
                                 ("tcp", "%s:%d" % peer))
                else:
                    data = sock.recv(65535)
                    if data:
                        note("TCP data from %s len %d" % (addr, len(data)))
                    else:
                        sel.unregister(sock)
                        sock.close()
            except OSError as e:
                note("error on %s %s: %s" % (kind, addr, e))
                if kind == "tcp":
                    sel.unregister(sock)
                    sock.close()


if __name__ == "__main__":
    sys.exit(main())
