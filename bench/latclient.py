#!/usr/bin/env python3
"""A small DNS-over-UDP client for bench/latency.sh: times each query.

Usage:
  latclient.py [options] SERVER < QUERIES

QUERIES has one "NAME TYPE" a line (TYPE A, AAAA, TXT, MX, NS, DNSKEY, DS,
SOA; anything else is A).  Every query has RD and EDNS0 (1232 bytes) with
the DO bit, as `dig +dnssec` sends it.

Options:
  --source ADDR     bind the sockets to ADDR (port chosen by the kernel)
  --port N          the server's port [53]
  --timeout S       seconds a query waits for its answer [5]
  --rate R          queries a second, sent on schedule whether or not the
                    earlier ones were answered (open loop), over --sockets
                    sockets in turn; 0 (default): one at a time, each from
                    a new socket (a new source port), the next sent when
                    the previous one was answered or timed out
  --sockets N       sockets of the open-loop mode [8]
  --duration S      open loop: stop sending after S seconds even if lines
                    are left

One line a query, in the order the answers came (timeouts last):
  R SENT RTT RCODE AD NAME TYPE
SENT is the wall-clock time the query left (seconds since the epoch,
microseconds), RTT the seconds to its answer ("-" for none), RCODE the
answer's (NOERROR, SERVFAIL, ...) or TIMEOUT, AD 1 when the answer had
the AD flag.  The exit status is 0 unless the arguments were wrong.
"""

import argparse
import os
import select
import socket
import struct
import sys
import time

TYPES = {"A": 1, "NS": 2, "SOA": 6, "MX": 15, "TXT": 16, "AAAA": 28,
         "DS": 43, "DNSKEY": 48}
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN",
          4: "NOTIMP", 5: "REFUSED"}


def wire_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\x00"


def make_query(qid, name, qtype):
    # RD; one question; one OPT record: UDP size 1232, DO.
    hdr = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 1)
    q = wire_name(name) + struct.pack("!HH", TYPES.get(qtype, 1), 1)
    opt = b"\x00" + struct.pack("!HHIH", 41, 1232, 0x8000, 0)
    return hdr + q + opt


def parse_answer(data):
    """(id, rcode name, ad) of a reply, or None for a packet too short."""
    if len(data) < 12:
        return None
    qid, flags = struct.unpack("!HH", data[:4])
    if not flags & 0x8000:
        return None
    return qid, RCODES.get(flags & 0xF, "RCODE%d" % (flags & 0xF)), \
        1 if flags & 0x0020 else 0


def read_queries():
    out = []
    for line in sys.stdin:
        f = line.split()
        if f:
            out.append((f[0], f[1].upper() if len(f) > 1 else "A"))
    return out


def emit(sent, rtt, rcode, ad, name, qtype):
    sys.stdout.write("R %.6f %s %s %d %s %s\n" % (
        sent, "-" if rtt is None else "%.6f" % rtt, rcode, ad, name, qtype))


def new_socket(source):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((source, 0))
    s.setblocking(False)
    return s


def one_at_a_time(args, queries):
    for name, qtype in queries:
        s = new_socket(args.source)
        qid = int.from_bytes(os.urandom(2), "big")
        pkt = make_query(qid, name, qtype)
        wall = time.time()
        t0 = time.monotonic()
        s.sendto(pkt, (args.server, args.port))
        deadline = t0 + args.timeout
        result = None
        while result is None:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            r, _, _ = select.select([s], [], [], left)
            if not r:
                continue
            try:
                data, _ = s.recvfrom(65535)
            except OSError:
                continue
            t1 = time.monotonic()
            p = parse_answer(data)
            if p and p[0] == qid:
                result = (t1 - t0, p[1], p[2])
        s.close()
        if result is None:
            emit(wall, None, "TIMEOUT", 0, name, qtype)
        else:
            emit(wall, result[0], result[1], result[2], name, qtype)
        sys.stdout.flush()


def open_loop(args, queries):
    socks = [new_socket(args.source) for _ in range(args.sockets)]
    index = {s.fileno(): i for i, s in enumerate(socks)}
    pending = {}          # (socket index, id) -> (t0, wall, name, type)
    next_id = [int.from_bytes(os.urandom(2), "big") for _ in socks]
    interval = 1.0 / args.rate
    start = time.monotonic()
    stop_at = start + args.duration if args.duration > 0 else None
    sent = 0
    poll = select.poll()
    for s in socks:
        poll.register(s, select.POLLIN)

    def expire(now):
        for key in [k for k, v in pending.items() if now - v[0] >= args.timeout]:
            t0, wall, name, qtype = pending.pop(key)
            emit(wall, None, "TIMEOUT", 0, name, qtype)

    while True:
        now = time.monotonic()
        done_sending = sent >= len(queries) or \
            (stop_at is not None and now >= stop_at)
        while not done_sending and now >= start + sent * interval:
            i = sent % len(socks)
            name, qtype = queries[sent]
            qid = next_id[i]
            next_id[i] = (qid + 1) & 0xFFFF
            wall = time.time()
            t0 = time.monotonic()
            try:
                socks[i].sendto(make_query(qid, name, qtype),
                                (args.server, args.port))
            except OSError:
                pass
            pending[(i, qid)] = (t0, wall, name, qtype)
            sent += 1
            now = time.monotonic()
            done_sending = sent >= len(queries) or \
                (stop_at is not None and now >= stop_at)
        if done_sending and not pending:
            break
        expire(now)
        if done_sending:
            wait = min(v[0] for v in pending.values()) + args.timeout - now \
                if pending else 0
        else:
            wait = start + sent * interval - now
        for fd, _ in poll.poll(max(0.0, wait) * 1000):
            s = socks[index[fd]]
            while True:
                try:
                    data, _ = s.recvfrom(65535)
                except (BlockingIOError, InterruptedError):
                    break
                except OSError:
                    break
                t1 = time.monotonic()
                p = parse_answer(data)
                if not p:
                    continue
                v = pending.pop((index[fd], p[0]), None)
                if v is None:
                    continue
                emit(v[1], t1 - v[0], p[1], p[2], v[2], v[3])
    sys.stdout.flush()
    for s in socks:
        s.close()


def main():
    ap = argparse.ArgumentParser(add_help=True)
    ap.add_argument("server")
    ap.add_argument("--source", default="0.0.0.0")
    ap.add_argument("--port", type=int, default=53)
    ap.add_argument("--timeout", type=float, default=5.0)
    ap.add_argument("--rate", type=float, default=0.0)
    ap.add_argument("--sockets", type=int, default=8)
    ap.add_argument("--duration", type=float, default=0.0)
    args = ap.parse_args()
    if args.rate < 0 or args.sockets < 1 or args.timeout <= 0:
        ap.error("bad --rate, --sockets or --timeout")
    queries = read_queries()
    if not queries:
        return 0
    if args.rate == 0:
        one_at_a_time(args, queries)
    else:
        open_loop(args, queries)
    return 0


if __name__ == "__main__":
    sys.exit(main())
