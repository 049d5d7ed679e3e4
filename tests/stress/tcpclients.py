#!/usr/bin/env python3
"""TCP client scenarios for dotsec's stress tests (no third-party modules).

  tcpclients.py slowloris SERVER PORT SOURCE NAME [--clients 5]
                [--interval 1.0] [--max-wait 10]
      CLIENTS connections each send a framed query for NAME one byte every
      INTERVAL seconds; for each, the time from its first byte until the
      server closed it (EOF or reset) is measured (MAX-WAIT bounds the
      wait).  Meanwhile a well-behaved client asks NAME over TCP on a new
      connection every 0.25 s and counts its answers.

  tcpclients.py maxconn SERVER PORT SOURCE NAME --limit N [--extra M]
      Opens N connections, each asks NAME once (and stays open); then M
      more, each of which must be closed by the server without an answer;
      then asks NAME again on each of the N first ones; then closes all and
      asks once more on a new connection.

  tcpclients.py dot SERVER PORT SOURCE NAME --ca FILE --hostname NAME
                [--clients 5] [--duration 10] [--max-wait 10]
      DoT (the listener of listen_tls_addresses): CLIENTS threads each,
      for DURATION seconds, open a TLS connection, send 5 pipelined
      queries for NAME, read the 5 answers and close; meanwhile CLIENTS
      TCP connections that never start TLS are timed until the server
      closes them, and one TLS client sends 2000 queries and never reads.

Loopback addresses only.  Prints one JSON object on stdout (see each
function); exit status 0 when it ran, 2 on bad usage.
"""

import argparse
import json
import os
import select
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from load import build, parse  # noqa: E402


def frame(pkt):
    return struct.pack("!H", len(pkt)) + pkt


def connect(server, port, source, timeout=3.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((source, 0))
    s.settimeout(timeout)
    s.connect((server, port))
    return s


def read_msg(s, timeout):
    """One framed message; None on timeout, b"" when the server closed."""
    s.settimeout(timeout)
    buf = b""
    need = 2
    try:
        while True:
            chunk = s.recv(need - len(buf))
            if not chunk:
                return b""
            buf += chunk
            if len(buf) == need:
                if need == 2:
                    need = 2 + struct.unpack("!H", buf)[0]
                    if need == 2:
                        return b""
                else:
                    return buf[2:]
    except socket.timeout:
        return None
    except (ConnectionResetError, BrokenPipeError):
        return b""


def ask(s, qid, name, timeout=5.0):
    """Send one query on s; the rcode of a matching answer, or None."""
    pkt, q = build(qid, name, 1, True)
    try:
        s.sendall(frame(pkt))
    except OSError:
        return None
    while True:
        msg = read_msg(s, timeout)
        if not msg:
            return None
        try:
            rid, qr, rcode, question, _ = parse(msg)
        except ValueError:
            return None
        if rid == qid and qr and question.lower() == q.lower():
            return rcode


def closed_by_server(s, timeout):
    """True when the server closes s (EOF or reset) within timeout, with
    no answer on it."""
    s.settimeout(timeout)
    try:
        while True:
            data = s.recv(4096)
            if not data:
                return True, False
            return False, True
    except socket.timeout:
        return False, False
    except (ConnectionResetError, BrokenPipeError):
        return True, False


def cmd_slowloris(a):
    pkt, _ = build(0x5100, a.name, 1, True)
    data = frame(pkt)
    slow = []
    for i in range(a.clients):
        s = connect(a.server, a.port, a.source)
        s.setblocking(False)
        slow.append({"sock": s, "sent": 0, "t0": None, "closed_at": None,
                     "next": time.monotonic() + i * 0.05})
    good_sent = good_ok = 0
    next_good = time.monotonic()
    qid = 0x6000
    end = time.monotonic() + a.max_wait
    while time.monotonic() < end and any(c["closed_at"] is None
                                         for c in slow):
        now = time.monotonic()
        for c in slow:
            if c["closed_at"] is not None or now < c["next"]:
                continue
            if c["sent"] >= len(data):
                continue
            try:
                c["sock"].send(data[c["sent"]:c["sent"] + 1])
            except OSError:
                c["closed_at"] = now
                continue
            if c["t0"] is None:
                c["t0"] = now
            c["sent"] += 1
            c["next"] = now + a.interval
        # Closed by the server?
        socks = [c["sock"] for c in slow if c["closed_at"] is None]
        r, _, _ = select.select(socks, [], [], 0.02) if socks else ([], 0, 0)
        for s in r:
            c = next(c for c in slow if c["sock"] is s)
            try:
                got = s.recv(4096)
            except BlockingIOError:
                continue
            except OSError:
                got = b""
            if not got:
                c["closed_at"] = time.monotonic()
            else:
                c["answered"] = True
        if now >= next_good:
            next_good = now + 0.25
            good_sent += 1
            qid += 1
            try:
                g = connect(a.server, a.port, a.source)
                if ask(g, qid, a.name, 3.0) == 0:
                    good_ok += 1
                g.close()
            except OSError:
                pass
    res = []
    for c in slow:
        res.append({
            "bytes_sent": c["sent"],
            "closed_after_ms": None if c["closed_at"] is None or
            c["t0"] is None else round((c["closed_at"] - c["t0"]) * 1000),
            "answered": c.get("answered", False)})
        c["sock"].close()
    return {"slow": res, "good_sent": good_sent, "good_ok": good_ok,
            "frame_len": len(data)}


def cmd_maxconn(a):
    out = {"held": 0, "held_ok": 0, "extra": a.extra, "extra_closed": 0,
           "extra_answered": 0, "extra_open": 0, "second_ok": 0,
           "after_ok": False, "connect_errors": 0}
    held = []
    qid = 0x2000
    for _ in range(a.limit):
        try:
            s = connect(a.server, a.port, a.source)
        except OSError:
            out["connect_errors"] += 1
            continue
        qid += 1
        if ask(s, qid, a.name) == 0:
            out["held_ok"] += 1
        held.append(s)
    out["held"] = len(held)
    extra = []
    for _ in range(a.extra):
        try:
            s = connect(a.server, a.port, a.source)
        except OSError:
            # Refused at connect: closed as well.
            out["extra_closed"] += 1
            continue
        qid += 1
        pkt, _ = build(qid, a.name, 1, True)
        try:
            s.sendall(frame(pkt))
        except OSError:
            pass
        extra.append(s)
    for s in extra:
        closed, answered = closed_by_server(s, 2.0)
        if closed:
            out["extra_closed"] += 1
        elif answered:
            out["extra_answered"] += 1
        else:
            out["extra_open"] += 1
        s.close()
    for s in held:
        qid += 1
        if ask(s, qid, a.name) == 0:
            out["second_ok"] += 1
    for s in held:
        s.close()
    time.sleep(0.5)
    try:
        s = connect(a.server, a.port, a.source)
        out["after_ok"] = ask(s, qid + 1, a.name) == 0
        s.close()
    except OSError:
        out["after_ok"] = False
    return out


def cmd_dot(a):
    import ssl
    import threading
    ctx = ssl.create_default_context(cafile=a.ca)
    ctx.set_alpn_protocols(["dot"])
    out = {"conns": 0, "sent": 0, "ok": 0, "errors": [], "silent": [],
           "nonreader": None}
    lock = threading.Lock()
    end = time.monotonic() + a.duration

    def churn(k):
        qid = (k * 4099) & 0xffff
        while time.monotonic() < end:
            ok = sent = 0
            try:
                s = ctx.wrap_socket(connect(a.server, a.port, a.source),
                                    server_hostname=a.hostname)
                pkts = []
                for _ in range(5):
                    qid = (qid + 1) & 0xffff
                    pkts.append(build(qid, a.name, 1, True)[0])
                s.sendall(b"".join(frame(p) for p in pkts))
                sent = 5
                for _ in range(5):
                    msg = read_msg(s, 5.0)
                    if not msg:
                        break
                    if parse(msg)[2] == 0:
                        ok += 1
                s.close()
            except (OSError, ssl.SSLError, ValueError) as e:
                with lock:
                    if len(out["errors"]) < 5:
                        out["errors"].append(str(e))
            with lock:
                out["conns"] += 1
                out["sent"] += sent
                out["ok"] += ok

    def silent():
        s = connect(a.server, a.port, a.source)
        t0 = time.monotonic()
        closed, answered = closed_by_server(s, a.max_wait)
        with lock:
            out["silent"].append(
                {"closed_after_ms": int((time.monotonic() - t0) * 1000)
                 if closed else None, "answered": answered})
        s.close()

    def nonreader():
        try:
            s = ctx.wrap_socket(connect(a.server, a.port, a.source),
                                server_hostname=a.hostname)
            data = b"".join(frame(build(i, a.name, 16, True)[0])
                            for i in range(2000))
            s.settimeout(a.duration)
            try:
                s.sendall(data)
                out["nonreader"] = "sent all"
            except (OSError, ssl.SSLError) as e:
                out["nonreader"] = "stopped: %s" % e
            time.sleep(max(0.0, end - time.monotonic()))
            s.close()
        except (OSError, ssl.SSLError) as e:
            out["nonreader"] = "failed: %s" % e

    threads = [threading.Thread(target=churn, args=(k,))
               for k in range(a.clients)]
    threads += [threading.Thread(target=silent) for _ in range(a.clients)]
    threads.append(threading.Thread(target=nonreader))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("cmd", choices=["slowloris", "maxconn", "dot"])
    ap.add_argument("server")
    ap.add_argument("port", type=int)
    ap.add_argument("source")
    ap.add_argument("name")
    ap.add_argument("--clients", type=int, default=5)
    ap.add_argument("--interval", type=float, default=1.0)
    ap.add_argument("--max-wait", type=float, default=10.0)
    ap.add_argument("--limit", type=int, default=40)
    ap.add_argument("--extra", type=int, default=20)
    ap.add_argument("--ca")
    ap.add_argument("--hostname")
    ap.add_argument("--duration", type=float, default=10.0)
    a = ap.parse_args()
    for addr in (a.server, a.source):
        if not addr.startswith("127."):
            sys.stderr.write("tcpclients.py: loopback addresses only\n")
            return 2
    if a.clients > 200 or a.limit > 2000 or a.extra > 2000 or \
            a.max_wait > 120:
        sys.stderr.write("tcpclients.py: bounds exceeded\n")
        return 2
    if a.cmd == "dot" and (not a.ca or not a.hostname or
                           a.duration > 600):
        sys.stderr.write("tcpclients.py: dot needs --ca and --hostname\n")
        return 2
    res = {"slowloris": cmd_slowloris, "maxconn": cmd_maxconn,
           "dot": cmd_dot}[a.cmd](a)
    json.dump(res, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
