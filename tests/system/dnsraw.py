#!/usr/bin/env python3
"""Raw DNS packets for dotsec's system tests (no third-party modules).

Usage:
  dnsraw.py badinput  SERVER PORT SOURCE GOODNAME
  dnsraw.py pipeline  SERVER PORT SOURCE NAME:TYPE:RCODE...
  dnsraw.py slowclient SERVER PORT SOURCE GOODNAME

Every check prints one line "CASE<TAB>name<TAB>ok|fail<TAB>detail"; the
exit status is 0 when every case is ok.  GOODNAME is a secure name with an
A record: the liveness query after each bad packet.
"""

import random
import socket
import struct
import sys
import time

RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN",
          4: "NOTIMP", 5: "REFUSED", 16: "BADVERS"}
T_A, T_NS, T_OPT, T_AXFR, T_IXFR, T_MAILA, T_TXT = 1, 2, 41, 252, 251, 254, 16
C_IN, C_CH, C_ANY = 1, 3, 255

RESULTS = []


def report(name, ok, detail=""):
    RESULTS.append(ok)
    print("CASE\t%s\t%s\t%s" % (name, "ok" if ok else "fail", detail))
    sys.stdout.flush()


def wire_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\x00"


def header(qid, flags=0x0100, qd=1, an=0, ns=0, ar=0):
    return struct.pack("!HHHHHH", qid, flags, qd, an, ns, ar)


def question(name, qtype=T_A, qclass=C_IN):
    return wire_name(name) + struct.pack("!HH", qtype, qclass)


def opt(size=1232, version=0, do=False, rdata=b"", owner=b"\x00"):
    ttl = (version << 16) | (0x8000 if do else 0)
    return owner + struct.pack("!HHIH", T_OPT, size, ttl, len(rdata)) + rdata


def query(qid, name, qtype=T_A, qclass=C_IN, edns=True, do=False):
    ar = 1 if edns else 0
    pkt = header(qid, ar=ar) + question(name, qtype, qclass)
    if edns:
        pkt += opt(do=do)
    return pkt


def skip_name(msg, off):
    while True:
        if off >= len(msg):
            raise ValueError("name runs off the message")
        n = msg[off]
        if n == 0:
            return off + 1
        if n & 0xC0 == 0xC0:
            return off + 2
        off += 1 + n


def parse(msg):
    """Header fields, the question bytes, and the OPT of a reply."""
    if len(msg) < 12:
        raise ValueError("reply shorter than a header")
    qid, flags, qd, an, ns, ar = struct.unpack("!HHHHHH", msg[:12])
    r = {"id": qid, "qr": bool(flags & 0x8000), "opcode": (flags >> 11) & 15,
         "tc": bool(flags & 0x0200), "rd": bool(flags & 0x0100),
         "rcode": flags & 15, "qd": qd, "an": an, "ns": ns, "ar": ar,
         "question": b"", "opt": None, "len": len(msg)}
    off = 12
    for _ in range(qd):
        start = off
        off = skip_name(msg, off) + 4
        if off > len(msg):
            raise ValueError("question runs off the message")
        r["question"] += msg[start:off]
    for i in range(an + ns + ar):
        off = skip_name(msg, off)
        if off + 10 > len(msg):
            raise ValueError("record header runs off the message")
        rtype, rclass, ttl, rdlen = struct.unpack("!HHIH", msg[off:off + 10])
        off += 10 + rdlen
        if off > len(msg):
            raise ValueError("record runs off the message")
        if rtype == T_OPT and i >= an + ns:
            if r["opt"] is not None:
                raise ValueError("two OPT records in the reply")
            r["opt"] = {"size": rclass, "ext_rcode": ttl >> 24,
                        "version": (ttl >> 16) & 255}
            r["rcode"] |= (ttl >> 24) << 4
    return r


def rname(code):
    return RCODES.get(code, str(code))


class Client:
    def __init__(self, server, port, source):
        self.server, self.port, self.source = server, port, source

    def udp(self, pkt, timeout=2.0):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((self.source, 0))
        s.settimeout(timeout)
        try:
            s.sendto(pkt, (self.server, self.port))
            data, _ = s.recvfrom(65535)
            return data
        except socket.timeout:
            return None
        finally:
            s.close()

    def tcp_connect(self, timeout=2.0):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((self.source, 0))
        s.settimeout(timeout)
        s.connect((self.server, self.port))
        return s

    @staticmethod
    def tcp_read(s):
        """One framed message, None on timeout, b"" on close."""
        try:
            buf = b""
            while len(buf) < 2:
                chunk = s.recv(2 - len(buf))
                if not chunk:
                    return b""
                buf += chunk
            n = struct.unpack("!H", buf)[0]
            buf = b""
            while len(buf) < n:
                chunk = s.recv(n - len(buf))
                if not chunk:
                    return b""
                buf += chunk
            return buf
        except socket.timeout:
            return None
        except ConnectionResetError:
            return b""

    def tcp(self, pkt, timeout=2.0):
        s = self.tcp_connect(timeout)
        try:
            s.sendall(struct.pack("!H", len(pkt)) + pkt)
            return self.tcp_read(s)
        finally:
            s.close()


def check_reply(pkt, reply, want):
    """want: "drop", or a dict with rcode, and optional echo (question)."""
    if want == "drop":
        if reply:
            return "got a reply (%d bytes), expected none" % len(reply)
        return None
    if not reply:
        return "no reply, expected %s" % rname(want["rcode"])
    try:
        r = parse(reply)
    except ValueError as e:
        return "malformed reply: %s: %s" % (e, reply.hex())
    qid = struct.unpack("!H", pkt[:2])[0]
    errs = []
    if r["id"] != qid:
        errs.append("ID %d, expected %d" % (r["id"], qid))
    if not r["qr"]:
        errs.append("QR=0")
    if r["opcode"] != (pkt[2] >> 3) & 15:
        errs.append("opcode %d not echoed" % r["opcode"])
    if r["rcode"] != want["rcode"]:
        errs.append("rcode %s, expected %s" % (rname(r["rcode"]),
                                               rname(want["rcode"])))
    if want.get("echo") is not None and r["question"] != want["echo"]:
        errs.append("question not echoed (got %r)" % r["question"])
    if want.get("opt") is True and r["opt"] is None:
        errs.append("no OPT in the reply")
    if want.get("opt") is False and r["opt"] is not None:
        errs.append("OPT in the reply to a query without one")
    if want.get("opt_version") is not None and r["opt"] is not None \
            and r["opt"]["version"] != want["opt_version"]:
        errs.append("OPT version %d" % r["opt"]["version"])
    if errs:
        return "; ".join(errs) + " (reply %s)" % reply.hex()
    return None


def badinput_cases(good):
    q = question(good)
    ch = question("version.bind", T_TXT, C_CH)
    cases = []

    def add(name, pkt, want):
        cases.append((name, pkt, want))

    add("shorter than a header (5 bytes)", b"\x12\x34\x01\x00\x00", "drop")
    add("shorter than a header (11 bytes)", header(0x1235)[:11], "drop")
    add("QR=1 (a response)", header(0x1236, flags=0x8100) + q, "drop")
    add("opcode STATUS (2)", header(0x1237, flags=0x0100 | (2 << 11)) + q,
        {"rcode": 4})
    add("opcode NOTIFY (4)", header(0x1238, flags=(4 << 11)) + q,
        {"rcode": 4})
    add("opcode UPDATE (5)", header(0x1239, flags=(5 << 11)) + q,
        {"rcode": 4})
    add("QDCOUNT 0", header(0x123a, qd=0), {"rcode": 1})
    add("QDCOUNT 2", header(0x123b, qd=2) + q + q, {"rcode": 1})
    add("compression pointer in the question",
        header(0x123c) + b"\x03www\xc0\x0c" + struct.pack("!HH", T_A, C_IN),
        {"rcode": 1})
    add("truncated question (type and class cut)",
        header(0x123d) + wire_name(good) + b"\x00", {"rcode": 1})
    add("truncated question (name cut)",
        header(0x123e) + wire_name(good)[:5], {"rcode": 1})
    add("class CH", header(0x123f) + ch, {"rcode": 5, "echo": ch})
    add("class ANY", header(0x1240) + question(good, T_A, C_ANY),
        {"rcode": 5, "echo": question(good, T_A, C_ANY)})
    add("AXFR", header(0x1241) + question(good, T_AXFR),
        {"rcode": 4, "echo": question(good, T_AXFR)})
    add("IXFR", header(0x1242) + question(good, T_IXFR),
        {"rcode": 4, "echo": question(good, T_IXFR)})
    add("MAILA", header(0x1243) + question(good, T_MAILA),
        {"rcode": 4, "echo": question(good, T_MAILA)})
    add("EDNS version 1", header(0x1244, ar=1) + q + opt(version=1),
        {"rcode": 16, "opt": True, "opt_version": 0})
    add("two OPT records", header(0x1245, ar=2) + q + opt() + opt(),
        {"rcode": 1})
    # More, from the contract of dnsmsg_parse_query (src/dnsmsg.h).
    add("ANCOUNT 1", header(0x1246, an=1) + q +
        wire_name(good) + struct.pack("!HHIH", T_A, C_IN, 300, 4) +
        b"\xc0\x00\x02\x01", {"rcode": 1})
    add("qtype 0", header(0x1247) + question(good, 0), {"rcode": 1})
    add("qtype OPT", header(0x1248) + question(good, T_OPT), {"rcode": 1})
    add("OPT not owned by the root", header(0x1249, ar=1) + q +
        opt(owner=wire_name("x")), {"rcode": 1})
    add("OPT option length overruns the RDATA", header(0x124a, ar=1) + q +
        opt(rdata=struct.pack("!HH", 10, 8) + b"\x00\x01"), {"rcode": 1})
    add("label with reserved bits 01 (0x40)", header(0x124b) +
        b"\x41" + b"a" * 1 + b"\x00" + struct.pack("!HH", T_A, C_IN),
        {"rcode": 1})
    long_name = b"".join(b"\x3f" + b"a" * 63 for _ in range(4)) + b"\x00"
    add("name longer than 255 bytes", header(0x124c) + long_name +
        struct.pack("!HH", T_A, C_IN), {"rcode": 1})
    add("bytes after the last record are ignored", header(0x124d) + q +
        b"\xde\xad\xbe\xef", {"rcode": 0, "echo": q})
    return cases


def liveness(c, transport, good, tag):
    pkt = query(0x4242, good, edns=True)
    try:
        reply = c.udp(pkt, 5.0) if transport == "udp" else c.tcp(pkt, 5.0)
    except OSError as e:
        return "%s: %s" % (tag, e)
    err = check_reply(pkt, reply, {"rcode": 0, "echo": question(good)})
    return err and "%s: %s" % (tag, err)


def cmd_badinput(server, port, source, good):
    c = Client(server, port, source)
    for transport in ("udp", "tcp"):
        for name, pkt, want in badinput_cases(good):
            tag = "%s %s" % (transport, name)
            timeout = 1.0 if want == "drop" else 3.0
            try:
                if transport == "udp":
                    reply = c.udp(pkt, timeout)
                else:
                    reply = c.tcp(pkt, timeout)
            except OSError as e:
                report(tag, False, "socket error: %s" % e)
                continue
            err = check_reply(pkt, reply, want)
            report(tag, err is None, err or "")
            err = liveness(c, transport, good, "normal query after it")
            report(tag + " / then a normal query: NOERROR", err is None,
                   err or "")

    # Mutations of a good query: every reply must be a response to one of
    # the packets, and the server must still answer afterwards.
    rnd = random.Random(8914)
    base = query(0, good, edns=True)
    sent = {}
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((source, 0))
    for i in range(300):
        p = bytearray(base)
        p[0:2] = struct.pack("!H", 0x5000 + i)
        for _ in range(rnd.randint(1, 4)):
            pos = rnd.randrange(2, len(p))
            p[pos] = rnd.randrange(256)
        if rnd.random() < 0.3:
            p = p[:rnd.randrange(2, len(p))]
        sent[0x5000 + i] = bytes(p)
        s.sendto(bytes(p), (server, port))
    s.settimeout(0.5)
    bad, n = [], 0
    end = time.time() + 4
    while time.time() < end:
        try:
            data, _ = s.recvfrom(65535)
        except socket.timeout:
            continue
        n += 1
        try:
            r = parse(data)
        except ValueError as e:
            bad.append("malformed reply %s (%s)" % (data.hex(), e))
            continue
        if r["id"] not in sent or not r["qr"]:
            bad.append("reply with ID %d QR %d" % (r["id"], r["qr"]))
    s.close()
    report("udp 300 mutated queries: replies well-formed (%d replies)" % n,
           not bad, "; ".join(bad[:5]))
    err = liveness(c, "udp", good, "after the mutated queries")
    report("udp after 300 mutated queries: a normal query NOERROR",
           err is None, err or "")
    err = liveness(c, "tcp", good, "after the mutated queries")
    report("tcp after 300 mutated queries: a normal query NOERROR",
           err is None, err or "")


QTYPES = {"A": 1, "AAAA": 28, "TXT": 16, "MX": 15}
RCODE_OF = {v: k for k, v in RCODES.items()}


def spec_query(qid, spec):
    """NAME:TYPE:RCODE -> (query packet with DO, expectation)."""
    name, qtype, rcode = spec.split(":")
    pkt = query(qid, name, QTYPES[qtype], do=True)
    return pkt, {"rcode": RCODE_OF[rcode], "echo": question(name, QTYPES[qtype])}


def cmd_pipeline(server, port, source, specs):
    """Send every query at once on one TCP connection, then read all the
    replies (in any order) and match them by ID; then one query split over
    two writes on the same connection."""
    c = Client(server, port, source)
    want = {}
    buf = b""
    for i, spec in enumerate(specs):
        pkt, w = spec_query(0x7000 + i, spec)
        want[0x7000 + i] = (spec, pkt, w)
        buf += struct.pack("!H", len(pkt)) + pkt
    s = c.tcp_connect(10.0)
    s.sendall(buf)
    while want:
        reply = c.tcp_read(s)
        if not reply:
            break
        qid = struct.unpack("!H", reply[:2])[0]
        if qid not in want:
            report("pipeline: unexpected reply ID %d" % qid, False, reply.hex())
            continue
        spec, pkt, w = want.pop(qid)
        err = check_reply(pkt, reply, w)
        report("pipelined on one connection: %s" % spec, err is None, err or "")
    for spec, _, _ in want.values():
        report("pipelined on one connection: %s" % spec, False, "no reply")

    pkt, w = spec_query(0x7100, specs[0])
    frame = struct.pack("!H", len(pkt)) + pkt
    try:
        s.sendall(frame[:7])
        time.sleep(0.3)
        s.sendall(frame[7:])
        reply = c.tcp_read(s)
    except OSError as e:
        reply = None
        report("same connection: one query split over two writes", False,
               str(e))
    else:
        err = check_reply(pkt, reply, w)
        report("same connection: one query split over two writes",
               err is None, err or "")
    s.close()


def cmd_slowclient(server, port, source, good):
    """A TCP client that sends one byte and stalls, another that connects
    and sends nothing: others are still answered, over UDP and TCP."""
    c = Client(server, port, source)
    stalled = []
    for _ in range(3):
        s = c.tcp_connect(5.0)
        s.sendall(b"\x00")
        stalled.append(s)
    idle = [c.tcp_connect(5.0) for _ in range(3)]
    t0 = time.time()
    err = liveness(c, "udp", good, "udp with stalled TCP clients")
    report("udp query answered while 6 TCP clients stall", err is None,
           err or "")
    err = liveness(c, "tcp", good, "tcp with stalled TCP clients")
    report("tcp query answered while 6 TCP clients stall", err is None,
           err or "")
    report("both answered within 3 s", time.time() - t0 < 3.0,
           "%.1f s" % (time.time() - t0))
    for s in stalled + idle:
        s.close()


def main():
    if len(sys.argv) < 6:
        sys.stderr.write(__doc__)
        return 2
    cmd, server, port, source = sys.argv[1], sys.argv[2], int(sys.argv[3]), \
        sys.argv[4]
    if cmd == "badinput":
        cmd_badinput(server, port, source, sys.argv[5])
    elif cmd == "pipeline":
        cmd_pipeline(server, port, source, sys.argv[5:])
    elif cmd == "slowclient":
        cmd_slowclient(server, port, source, sys.argv[5])
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0 if all(RESULTS) else 1


if __name__ == "__main__":
    sys.exit(main())
