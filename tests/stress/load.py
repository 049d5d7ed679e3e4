#!/usr/bin/env python3
"""UDP load for dotsec's stress tests (no third-party modules).

Sends RATE queries per second over UDP for DURATION seconds, each with an
ID unique among the queries in flight (several sockets, IDs never reused
while a query waits), and matches every reply to its query by socket, ID
and question.  A query with no reply within DEADLINE ms is lost; a reply
that comes after that is counted as late (and the query stays lost).

  load.py --server ADDR --port 53 --source ADDR --rate 200 --duration 10
          --deadline 5000 [--zone wild.sec13.example | --name www.example]
          [--qtype A] [--no-edns] [--tag TAG] [--max-queries N]

--zone makes every name unique ("l<N>-<TAG>.<ZONE>", a cache miss each
time when the resolver makes no answers from cached proofs: dotsecd with
aggressive_nsec off); --name asks one name again and again.

Prints one JSON object on stdout:
  sent, answered, lost, late, unexpected, duplicate, rcodes {NAME: n},
  servfail, servfail_ede {code: n} (SERVFAILs by EDE info-code, "none"
  without one), ede_other (EDE on other rcodes), latency_ms {p50, p99,
  max}, first_ok_ms / last_fail_ms (send time, from the start, of the first
  NOERROR-answered query and of the last query that was not answered
  NOERROR), fail_sample (the first 10 answers other than NOERROR: name,
  sent_ms, latency_ms, rcode, EDE code and text), fail_offsets_ms (send
  time of every query not answered NOERROR, lost ones included), timeline
  [{t, sent, NOERROR, SERVFAIL, other, lost}] per second of send time,
  start_epoch (when the clock of the offsets started), elapsed_s.
The exit status is 0 when it ran (whatever the answers), 2 on bad usage.
"""

import argparse
import json
import os
import random
import select
import socket
import struct
import sys
import time

# The system tests' packet helpers (tests/system/dnsraw.py).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "system"))
import dnsraw  # noqa: E402

RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN",
          4: "NOTIMP", 5: "REFUSED", 16: "BADVERS"}
QTYPES = {"A": 1, "AAAA": 28, "TXT": 16, "MX": 15, "NS": 2, "SOA": 6}
NSOCKS = 8
MAX_LOSS_TRACK = 200000


def build(qid, qname, qtype, edns):
    return (dnsraw.query(qid, qname, qtype, edns=edns),
            dnsraw.question(qname, qtype))


def parse(msg):
    """(id, qr, rcode with extended bits, question bytes, [(EDE code,
    text)])."""
    if len(msg) < 12:
        raise ValueError("short")
    qid, flags, qd, an, ns, ar = struct.unpack("!HHHHHH", msg[:12])
    rcode = flags & 15
    off = 12
    question = b""
    for _ in range(qd):
        start = off
        off = dnsraw.skip_name(msg, off) + 4
        if off > len(msg):
            raise ValueError("question runs off the message")
        question += msg[start:off]
    edes = []
    for i in range(an + ns + ar):
        off = dnsraw.skip_name(msg, off)
        if off + 10 > len(msg):
            raise ValueError("record header runs off the message")
        rtype, _rclass, ttl, rdlen = struct.unpack("!HHIH", msg[off:off + 10])
        off += 10
        if off + rdlen > len(msg):
            raise ValueError("record runs off the message")
        if rtype == 41 and i >= an + ns:
            rcode |= (ttl >> 24) << 4
            p, end = off, off + rdlen
            while p + 4 <= end:
                code, olen = struct.unpack("!HH", msg[p:p + 4])
                if code == 15 and olen >= 2 and p + 4 + olen <= end:
                    edes.append((struct.unpack("!H", msg[p + 4:p + 6])[0],
                                 msg[p + 6:p + 4 + olen].decode(
                                     "utf-8", "replace")))
                p += 4 + olen
        off += rdlen
    return qid, bool(flags & 0x8000), rcode, question, edes


def rname(code):
    return RCODES.get(code, str(code))


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--server", required=True)
    ap.add_argument("--port", type=int, default=53)
    ap.add_argument("--source", required=True)
    ap.add_argument("--rate", type=float, required=True)
    ap.add_argument("--duration", type=float, required=True)
    ap.add_argument("--deadline", type=float, default=5000.0,
                    help="ms for each reply")
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--zone")
    g.add_argument("--name")
    ap.add_argument("--qtype", default="A", choices=sorted(QTYPES))
    ap.add_argument("--no-edns", action="store_true")
    ap.add_argument("--tag", default="%x" % random.getrandbits(32))
    ap.add_argument("--max-queries", type=int, default=100000,
                    help="hard cap on queries sent")
    a = ap.parse_args()
    for addr in (a.server, a.source):
        if not (addr.startswith("127.") or addr == "::1"):
            sys.stderr.write("load.py: loopback addresses only\n")
            return 2
    if a.rate <= 0 or a.duration <= 0 or a.duration > 3600:
        sys.stderr.write("load.py: bad rate or duration\n")
        return 2

    qtype = QTYPES[a.qtype]
    edns = not a.no_edns
    deadline = a.deadline / 1000.0
    socks = []
    for _ in range(NSOCKS):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((a.source, 0))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        s.setblocking(False)
        socks.append(s)
    fdmap = {s.fileno(): i for i, s in enumerate(socks)}
    next_id = [random.randrange(65536) for _ in socks]

    # (sock, id) -> [seq, send time, question bytes]
    waiting = {}
    expired = {}            # (sock, id) -> seq, for late replies
    done = set()            # (sock, id) answered, for duplicates
    seq_state = {}          # seq -> "ok" | rcode name | "lost"
    sent_at = []            # seq -> send time offset
    rcodes, sf_ede, ede_other = {}, {}, {}
    lat = []
    stats = {"answered": 0, "lost": 0, "late": 0, "unexpected": 0,
             "duplicate": 0}
    first_ok = None
    fail_sample = []
    last_fail = None
    n_total = min(int(a.rate * a.duration), a.max_queries)
    start = time.monotonic()
    start_epoch = time.time()
    end_send = start + a.duration
    seq = 0

    def expire(now):
        nonlocal last_fail
        for key in [k for k, v in waiting.items() if now - v[1] > deadline]:
            s_seq, _t, _q = waiting.pop(key)
            expired[key] = s_seq
            seq_state[s_seq] = "lost"
            stats["lost"] += 1
            off = sent_at[s_seq]
            last_fail = off if last_fail is None else max(last_fail, off)
        if len(expired) > MAX_LOSS_TRACK:
            expired.clear()

    def receive(timeout):
        nonlocal first_ok, last_fail
        try:
            ready, _, _ = select.select(socks, [], [], max(timeout, 0))
        except InterruptedError:
            return
        now = time.monotonic()
        for s in ready:
            si = fdmap[s.fileno()]
            while True:
                try:
                    data = s.recv(65535)
                except (BlockingIOError, InterruptedError):
                    break
                except OSError:
                    # ICMP port unreachable and the like.
                    stats["unexpected"] += 1
                    break
                try:
                    qid, qr, rcode, question, edes = parse(data)
                except ValueError:
                    stats["unexpected"] += 1
                    continue
                key = (si, qid)
                w = waiting.get(key)
                if w is None or not qr or question.lower() != w[2].lower():
                    if key in expired:
                        stats["late"] += 1
                        del expired[key]
                    elif w is None and key in done:
                        stats["duplicate"] += 1
                    else:
                        stats["unexpected"] += 1
                    continue
                del waiting[key]
                done.add(key)
                r_seq, t_sent, _q = w
                if now - t_sent > deadline:
                    # Arrived after its deadline but before expiry ran.
                    seq_state[r_seq] = "lost"
                    stats["lost"] += 1
                    stats["late"] += 1
                    continue
                stats["answered"] += 1
                lat.append((now - t_sent) * 1000.0)
                name = rname(rcode)
                rcodes[name] = rcodes.get(name, 0) + 1
                seq_state[r_seq] = name
                off = sent_at[r_seq]
                if rcode == 0:
                    first_ok = off if first_ok is None else min(first_ok, off)
                else:
                    last_fail = off if last_fail is None else \
                        max(last_fail, off)
                if rcode == 2:
                    k = str(edes[0][0]) if edes else "none"
                    sf_ede[k] = sf_ede.get(k, 0) + 1
                elif edes:
                    k = "%s:%d" % (name, edes[0][0])
                    ede_other[k] = ede_other.get(k, 0) + 1
                if rcode != 0 and len(fail_sample) < 10:
                    fail_sample.append({
                        "name": w[2][:-4].hex() if not a.zone else
                        "l%d-%s" % (r_seq, a.tag),
                        "sent_ms": round(off * 1000),
                        "latency_ms": round((now - t_sent) * 1000, 1),
                        "rcode": name,
                        "ede": ["%d %s" % e for e in edes]})

    while seq < n_total:
        now = time.monotonic()
        if now >= end_send:
            break
        due = min(n_total, int((now - start) * a.rate) + 1)
        while seq < due:
            si = seq % NSOCKS
            # An ID not in flight on this socket.
            for _ in range(65536):
                qid = next_id[si]
                next_id[si] = (qid + 1) & 0xFFFF
                if (si, qid) not in waiting:
                    break
            else:
                break
            expired.pop((si, qid), None)
            done.discard((si, qid))
            if a.zone:
                qname = "l%d-%s.%s" % (seq, a.tag, a.zone)
            else:
                qname = a.name
            pkt, q = build(qid, qname, qtype, edns)
            t = time.monotonic()
            try:
                socks[si].sendto(pkt, (a.server, a.port))
            except OSError as e:
                sys.stderr.write("load.py: send: %s\n" % e)
            waiting[(si, qid)] = [seq, t, q]
            sent_at.append(t - start)
            seq_state[seq] = None
            seq += 1
        next_send = start + seq / a.rate
        receive(min(0.005, max(0.0, next_send - time.monotonic())))
        expire(time.monotonic())

    # Collect what is still owed, up to the deadline of the last query.
    stop = time.monotonic() + deadline + 0.2
    while waiting and time.monotonic() < stop:
        receive(0.05)
        expire(time.monotonic())
    expire(time.monotonic() + deadline + 1)
    # A short grace period only to count late replies.
    grace = time.monotonic() + 0.3
    while expired and time.monotonic() < grace:
        receive(0.05)
    for s in socks:
        s.close()

    timeline = []
    for i, off in enumerate(sent_at):
        b = int(off)
        while len(timeline) <= b:
            timeline.append({"t": len(timeline), "sent": 0, "NOERROR": 0,
                             "SERVFAIL": 0, "other": 0, "lost": 0})
        row = timeline[b]
        row["sent"] += 1
        st = seq_state.get(i)
        if st == "NOERROR":
            row["NOERROR"] += 1
        elif st == "SERVFAIL":
            row["SERVFAIL"] += 1
        elif st == "lost" or st is None:
            row["lost"] += 1
        else:
            row["other"] += 1
    lat.sort()

    def pct(p):
        if not lat:
            return None
        return round(lat[min(len(lat) - 1, int(len(lat) * p))], 1)

    out = {
        "sent": seq, "answered": stats["answered"], "lost": stats["lost"],
        "late": stats["late"], "unexpected": stats["unexpected"],
        "duplicate": stats["duplicate"], "rcodes": rcodes,
        "servfail": rcodes.get("SERVFAIL", 0), "servfail_ede": sf_ede,
        "ede_other": ede_other,
        "latency_ms": {"p50": pct(0.5), "p99": pct(0.99),
                       "max": round(lat[-1], 1) if lat else None},
        "first_ok_ms": None if first_ok is None else round(first_ok * 1000),
        "last_fail_ms": None if last_fail is None else
        round(last_fail * 1000),
        "fail_sample": fail_sample,
        "fail_offsets_ms": [round(sent_at[i] * 1000)
                            for i in range(seq)
                            if seq_state.get(i) != "NOERROR"][:20000],
        "timeline": timeline,
        "start_epoch": start_epoch,
        "elapsed_s": round(time.monotonic() - start, 2),
        "pid": os.getpid(),
    }
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
