#!/usr/bin/env python3
"""Upstreams that fail below TLS, for test_upstream_errors.sh (no
third-party modules; loopback addresses only).

  deadup.py serve [--silent ADDR:PORT] [--close ADDR:PORT]
                  [--synblack ADDR:PORT] [--silent-udp ADDR:PORT]
                  [--lifetime 600]
  deadup.py probe ADDR:PORT

serve:
  --silent    accepts TCP connections and never writes a byte (a black
              hole past the TCP handshake: the TLS handshake gets no reply)
  --close     accepts TCP connections and closes each at once
  --synblack  a listener whose accept queue (backlog 0) is filled by one
              connection of its own, never accepted: the kernel drops
              every further SYN, so a connection attempt gets no answer
              at all (a black hole for the TCP handshake)
  --silent-udp  a UDP socket that never reads or answers: a plain DNS
              server gone silent (no ICMP "port unreachable" either)
  Prints "ready" once every listener is set up, and exits on SIGTERM or
  after --lifetime seconds.

probe: what a TCP client sees at ADDR:PORT within 1 s, one word:
  "refused" (reset), "timeout" (no TCP connection), "eof" (connected,
  then closed by the server), "silent" (connected, nothing comes),
  "data" (connected, bytes come), or "error:TEXT".
"""

import select
import signal
import socket
import sys
import time


def addr_port(text):
    addr, _, port = text.rpartition(":")
    if not addr.startswith("127."):
        sys.exit("deadup.py: loopback IPv4 addresses only, not %r" % addr)
    return addr, int(port)


def listener(where, backlog):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(addr_port(where))
    s.listen(backlog)
    return s


def serve(args):
    lifetime = 600.0
    silent, close, keep = [], [], []
    i = 0
    while i < len(args):
        opt = args[i]
        if i + 1 >= len(args):
            sys.exit("deadup.py: %s needs a value" % opt)
        val = args[i + 1]
        i += 2
        if opt == "--silent":
            silent.append(listener(val, 64))
        elif opt == "--close":
            close.append(listener(val, 64))
        elif opt == "--synblack":
            s = listener(val, 0)
            # The one connection the queue holds; never accepted.
            keep.append(s)
            keep.append(socket.create_connection(addr_port(val), timeout=2))
        elif opt == "--silent-udp":
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            u.bind(addr_port(val))
            keep.append(u)
        elif opt == "--lifetime":
            lifetime = float(val)
        else:
            sys.exit("deadup.py: unknown option %s" % opt)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print("ready", flush=True)
    conns = []
    end = time.monotonic() + lifetime
    while time.monotonic() < end:
        r, _, _ = select.select(silent + close, [], [], 1.0)
        for s in r:
            try:
                c, _ = s.accept()
            except OSError:
                continue
            if s in close:
                c.close()
            else:
                conns.append(c)
                # Bounded: the oldest goes beyond 256.
                if len(conns) > 256:
                    conns.pop(0).close()
    return 0


def probe(where):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(1.0)
    try:
        s.connect(addr_port(where))
    except ConnectionRefusedError:
        return "refused"
    except socket.timeout:
        return "timeout"
    except OSError as e:
        return "error:%s" % e
    try:
        data = s.recv(1)
    except socket.timeout:
        return "silent"
    except ConnectionResetError:
        return "eof"
    except OSError as e:
        return "error:%s" % e
    finally:
        s.close()
    return "data" if data else "eof"


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "serve":
        return serve(sys.argv[2:])
    if len(sys.argv) == 3 and sys.argv[1] == "probe":
        print(probe(sys.argv[2]))
        return 0
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main())
