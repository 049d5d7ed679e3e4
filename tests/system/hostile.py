#!/usr/bin/env python3
"""A corpus of hand-made hostile queries for dotsec's system tests.

Usage:
  hostile.py SERVER PORT SOURCE GOODNAME [--list]

Every packet of the corpus goes to dotsecd over UDP and over TCP (each on
a new connection), and its reply is checked against the verdict
src/dnsmsg.h documents for dnsmsg_parse_query: no reply ("drop") for
what is shorter than a header or has QR=1; NOTIMP, FORMERR, REFUSED or
BADVERS; or an answer (NOERROR/NXDOMAIN) for what is odd but well-formed.
Each reply must have the query's ID, QR=1 and its opcode (dnsraw.py's
check_reply), and echo the question where the case says so.  After each
packet a normal query (GOODNAME A, EDNS) must still be answered NOERROR
over the same transport.  Then the TCP-only cases: framing abuse (a
zero-length frame, a length prefix longer than the data followed by a
close, a half length prefix, a prefix shorter than the message), bad and
good messages pipelined on one connection, a query trickled byte by byte,
a 65535-byte frame.

Every check prints "CASE<TAB>name<TAB>ok|fail<TAB>detail"; the exit
status is 0 when all are ok.  --list prints the corpus and exits.
"""

import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dnsraw  # noqa: E402
from dnsraw import (C_ANY, C_CH, C_IN, T_A, T_AXFR, T_IXFR, T_MAILA,  # noqa: E402
                    T_OPT, T_TXT, check_reply, header, opt, question,
                    wire_name)

NOERROR, FORMERR, NXDOMAIN, NOTIMP, REFUSED, BADVERS = 0, 1, 3, 4, 5, 16
T_TSIG, T_TKEY, T_MAILB = 250, 249, 253
C_CSNET, C_HS, C_NONE = 2, 4, 254
RESULTS = []


def report(name, ok, detail=""):
    RESULTS.append(ok)
    print("CASE\t%s\t%s\t%s" % (name, "ok" if ok else "fail",
                                detail.replace("\t", " ")))
    sys.stdout.flush()


def flags(opcode=0, qr=0, rd=1, tc=0, aa=0, ra=0, z=0, ad=0, cd=0):
    return (qr << 15) | (opcode << 11) | (aa << 10) | (tc << 9) | \
        (rd << 8) | (ra << 7) | (z << 6) | (ad << 5) | (cd << 4)


def rr(owner, rtype, rclass=C_IN, ttl=300, rdata=b"", rdlen=None):
    if rdlen is None:
        rdlen = len(rdata)
    return owner + struct.pack("!HHIH", rtype, rclass, ttl, rdlen) + rdata


def long_name(total, suffix):
    """A wire name of exactly `total` bytes ending in `suffix`."""
    tail = wire_name(suffix)
    need = total - len(tail)
    labels = b""
    while need > 0:
        n = min(63, need - 1)
        if need - (n + 1) == 1:
            # A 1-byte remainder cannot be a label: make this one shorter.
            n -= 1
        labels += bytes([n]) + b"a" * n
        need -= n + 1
    out = labels + tail
    assert len(out) == total, (len(out), total)
    return out


def corpus(good):
    """[(name, packet, want, transports)]; want as in dnsraw.check_reply
    ("drop" or a dict with rcode and optional echo/opt/opt_version)."""
    q = question(good)
    hdr_q = len(header(0)) + len(q)     # offset just after the question
    qname_end = 12 + len(wire_name(good)) - 1   # the root label's byte
    ch = question("version.bind", T_TXT, C_CH)
    cases = []
    ids = iter(range(0x3000, 0x4000))

    def add(name, build, want, transports=("udp", "tcp")):
        qid = next(ids)
        cases.append((name, build(qid), want, transports))

    def echo(rcode, qb, **kw):
        d = {"rcode": rcode, "echo": qb}
        d.update(kw)
        return d

    E = dict  # for readability below

    # ---- size and the QR bit: dropped, nothing can be formed.
    add("empty datagram (0 bytes)", lambda i: b"", "drop", ("udp",))
    add("1 byte", lambda i: b"\x30", "drop")
    add("11 bytes (one short of a header)",
        lambda i: header(i)[:11], "drop")
    add("QR=1 (a response)", lambda i: header(i, flags(qr=1)) + q, "drop")
    add("QR=1 with opcode NOTIFY",
        lambda i: header(i, flags(qr=1, opcode=4)) + q, "drop")
    add("QR=1, RCODE NXDOMAIN, with answers",
        lambda i: header(i, flags(qr=1) | 3, an=1) + q +
        rr(b"\xc0\x0c", T_A, rdata=b"\x01\x02\x03\x04"), "drop")

    # ---- header only / counts.
    add("12-byte header, QDCOUNT 0", lambda i: header(i, qd=0),
        E(rcode=FORMERR))
    add("12-byte header claiming QDCOUNT 1",
        lambda i: header(i, qd=1), E(rcode=FORMERR))
    add("QDCOUNT 2 (two questions)",
        lambda i: header(i, qd=2) + q + q, E(rcode=FORMERR))
    add("QDCOUNT 65535, one question",
        lambda i: header(i, qd=65535) + q, E(rcode=FORMERR))
    add("ANCOUNT 65535 with no data",
        lambda i: header(i, an=65535) + q, E(rcode=FORMERR))
    add("NSCOUNT 1 with no data",
        lambda i: header(i, ns=1) + q, E(rcode=FORMERR))
    add("ANCOUNT 1 with a real A record",
        lambda i: header(i, an=1) + q +
        rr(b"\xc0\x0c", T_A, rdata=b"\xc0\x00\x02\x01"), E(rcode=FORMERR))
    add("ARCOUNT 1 with no data",
        lambda i: header(i, ar=1) + q, E(rcode=FORMERR))
    add("ARCOUNT 65535 with one OPT",
        lambda i: header(i, ar=65535) + q + opt(), E(rcode=FORMERR))

    # ---- opcodes: NOTIMP, nothing after the header is looked at.
    for code, label in ((1, "IQUERY (1)"), (2, "STATUS (2)"), (3, "3"),
                        (4, "NOTIFY (4)"), (5, "UPDATE (5)"),
                        (6, "DSO (6)"), (15, "15")):
        add("opcode %s" % label,
            lambda i, c=code: header(i, flags(opcode=c)) + q,
            E(rcode=NOTIMP))
    add("opcode UPDATE with counts 1/65535/65535/65535 and no data",
        lambda i: header(i, flags(opcode=5, rd=0), qd=1, an=65535,
                         ns=65535, ar=65535), E(rcode=NOTIMP))
    add("opcode NOTIFY, header only",
        lambda i: header(i, flags(opcode=4), qd=0), E(rcode=NOTIMP))
    add("opcode NOTIFY with EDNS version 1",
        lambda i: header(i, flags(opcode=4), ar=1) + q + opt(version=1),
        E(rcode=NOTIMP))

    # ---- names in the question.
    fixed = struct.pack("!HH", T_A, C_IN)
    add("compression pointer to itself in the question",
        lambda i: header(i) + b"\xc0\x0c" + fixed, E(rcode=FORMERR))
    add("compression pointer into the header",
        lambda i: header(i) + b"\x03www\xc0\x02" + fixed, E(rcode=FORMERR))
    add("compression pointer past the end",
        lambda i: header(i) + b"\x03www\xff\xff" + fixed, E(rcode=FORMERR))
    add("compression pointer cut after its first byte",
        lambda i: header(i) + b"\x03www\xc0", E(rcode=FORMERR))
    add("label type 0x40 (length 64)",
        lambda i: header(i) + b"\x40" + b"a" * 64 + b"\x00" + fixed,
        E(rcode=FORMERR))
    add("label type 0x80",
        lambda i: header(i) + b"\x81a\x00" + fixed, E(rcode=FORMERR))
    add("label length past the end of the packet",
        lambda i: header(i) + b"\x32abcdefghij", E(rcode=FORMERR))
    add("name without its root label",
        lambda i: header(i) + b"\x03www\x04sec8", E(rcode=FORMERR))
    add("name of 256 bytes",
        lambda i: header(i) + long_name(256, "sec8.example") + fixed,
        E(rcode=FORMERR))
    add("name of 300 bytes in 1-byte labels",
        lambda i: header(i) + b"\x01a" * 150 + b"\x00" + fixed,
        E(rcode=FORMERR))
    add("question cut after the qtype",
        lambda i: header(i) + wire_name(good) + struct.pack("!H", T_A),
        E(rcode=FORMERR))
    add("question cut inside the qclass",
        lambda i: header(i) + wire_name(good) + struct.pack("!H", T_A) +
        b"\x00", E(rcode=FORMERR))
    # Odd but well-formed names: answered.
    n255 = long_name(255, "sec8.example")
    add("name of exactly 255 bytes (NXDOMAIN)",
        lambda i: header(i, ar=1) + n255 + fixed + opt(),
        echo(NXDOMAIN, n255 + fixed))
    n63 = wire_name("a" * 63 + ".sec8.example")
    add("label of exactly 63 bytes (NXDOMAIN)",
        lambda i: header(i, ar=1) + n63 + fixed + opt(),
        echo(NXDOMAIN, n63 + fixed))
    nbin = b"\x07a.b\x00c d" + wire_name("sec8.example")
    add("label with '.', NUL and space in it (NXDOMAIN)",
        lambda i: header(i, ar=1) + nbin + fixed + opt(),
        echo(NXDOMAIN, nbin + fixed))
    mixed = question(good.upper()[:4] + good[4:])
    add("mixed-case name, case echoed",
        lambda i: header(i, ar=1) + mixed + opt(), echo(NOERROR, mixed))

    # ---- classes: REFUSED, question echoed.
    for cls, label in ((C_CH, "CH"), (C_HS, "HS"), (C_NONE, "NONE (254)"),
                       (C_ANY, "ANY (255)"), (0, "0"), (C_CSNET, "CSNET (2)")):
        qb = question(good, T_A, cls)
        add("class %s" % label, lambda i, b=qb: header(i) + b,
            echo(REFUSED, qb))
    add("CH version.bind TXT", lambda i: header(i) + ch, echo(REFUSED, ch))

    # ---- qtypes: NOTIMP or FORMERR, whatever the class.
    for qt, label, rc in ((T_AXFR, "AXFR", NOTIMP), (T_IXFR, "IXFR", NOTIMP),
                          (T_MAILB, "MAILB", NOTIMP),
                          (T_MAILA, "MAILA", NOTIMP),
                          (0, "0", FORMERR), (T_OPT, "OPT", FORMERR),
                          (T_TSIG, "TSIG", FORMERR), (T_TKEY, "TKEY", FORMERR)):
        qb = question(good, qt)
        add("qtype %s" % label, lambda i, b=qb: header(i) + b, echo(rc, qb))
    qb = question(good, T_AXFR, C_CH)
    add("qtype AXFR in class CH (the type wins)",
        lambda i: header(i) + qb, echo(NOTIMP, qb))
    qb = question(good, 0, C_CH)
    add("qtype 0 in class CH (the type wins)",
        lambda i: header(i) + qb, echo(FORMERR, qb))

    # ---- OPT records.
    add("OPT in the answer section",
        lambda i: header(i, an=1) + q + opt(), E(rcode=FORMERR))
    add("OPT in the authority section",
        lambda i: header(i, ns=1) + q + opt(), E(rcode=FORMERR))
    add("two OPT records",
        lambda i: header(i, ar=2) + q + opt() + opt(), E(rcode=FORMERR))
    add("OPT owned by www (not the root)",
        lambda i: header(i, ar=1) + q + opt(owner=wire_name("www")),
        E(rcode=FORMERR))
    add("OPT RDLEN past the end of the packet",
        lambda i: header(i, ar=1) + q +
        b"\x00" + struct.pack("!HHIH", T_OPT, 1232, 0, 40) + b"\x00" * 8,
        E(rcode=FORMERR))
    add("OPT cut inside its fixed part",
        lambda i: header(i, ar=1) + q + b"\x00" +
        struct.pack("!HHH", T_OPT, 1232, 0), E(rcode=FORMERR))
    add("OPT RDLEN 2: option header cut",
        lambda i: header(i, ar=1) + q + opt(rdata=b"\x00\x0a"),
        E(rcode=FORMERR))
    add("option length overruns the RDATA",
        lambda i: header(i, ar=1) + q +
        opt(rdata=struct.pack("!HH", 10, 8) + b"\x00\x01"), E(rcode=FORMERR))
    add("option length 65535",
        lambda i: header(i, ar=1) + q +
        opt(rdata=struct.pack("!HH", 65001, 65535) + b"\x00" * 4),
        E(rcode=FORMERR))
    add("EDNS version 1 with a bad option length (FORMERR first)",
        lambda i: header(i, ar=1) + q +
        opt(version=1, rdata=struct.pack("!HH", 10, 8)), E(rcode=FORMERR))
    add("EDNS version 1",
        lambda i: header(i, ar=1) + q + opt(version=1),
        echo(BADVERS, q, opt=True, opt_version=0))
    add("EDNS version 255",
        lambda i: header(i, ar=1) + q + opt(version=255),
        echo(BADVERS, q, opt=True, opt_version=0))
    qb = question(good, T_AXFR)
    add("EDNS version 1 with qtype AXFR (BADVERS first)",
        lambda i: header(i, ar=1) + qb + opt(version=1),
        echo(BADVERS, qb, opt=True, opt_version=0))
    qb = question(good, T_A, C_CH)
    add("EDNS version 1 with class CH (BADVERS first)",
        lambda i: header(i, ar=1) + qb + opt(version=1),
        echo(BADVERS, qb, opt=True, opt_version=0))
    # Odd but well-formed OPTs: answered.
    add("OPT owner is a pointer to the root label",
        lambda i: header(i, ar=1) + q + b"\xc0" + bytes([qname_end]) +
        struct.pack("!HHIH", T_OPT, 1232, 0, 0), echo(NOERROR, q, opt=True))
    add("EDNS UDP size 0 (taken as 512)",
        lambda i: header(i, ar=1) + q + opt(size=0),
        echo(NOERROR, q, opt=True))
    add("EDNS UDP size 65535",
        lambda i: header(i, ar=1) + q + opt(size=65535),
        echo(NOERROR, q, opt=True))
    add("EDNS DO=1 and every Z bit set",
        lambda i: header(i, ar=1) + q + b"\x00" +
        struct.pack("!HHIH", T_OPT, 1232, 0x0000FFFF, 0),
        echo(NOERROR, q, opt=True))
    add("unknown EDNS option 65001",
        lambda i: header(i, ar=1) + q +
        opt(rdata=struct.pack("!HH", 65001, 4) + b"abcd"),
        echo(NOERROR, q, opt=True))
    add("EDNS client cookie",
        lambda i: header(i, ar=1) + q +
        opt(rdata=struct.pack("!HH", 10, 8) + b"\x01" * 8),
        echo(NOERROR, q, opt=True))
    add("200 empty padding options",
        lambda i: header(i, ar=1) + q +
        opt(rdata=struct.pack("!HH", 12, 0) * 200),
        echo(NOERROR, q, opt=True))

    # ---- other records in the additional section.
    add("additional A record owned by a pointer to the qname (ignored)",
        lambda i: header(i, ar=2) + q +
        rr(b"\xc0\x0c", T_A, rdata=b"\x7f\x00\x00\x01") + opt(),
        echo(NOERROR, q, opt=True))
    add("additional record owned by a pointer to itself",
        lambda i: header(i, ar=1) + q + b"\xc0" + bytes([hdr_q]) +
        struct.pack("!HHIH", T_A, C_IN, 0, 0), E(rcode=FORMERR))
    add("additional records whose owners point at each other (loop)",
        lambda i: header(i, ar=2) + q +
        b"\xc0" + bytes([hdr_q + 12]) + struct.pack("!HHIH", T_A, C_IN, 0, 0) +
        b"\xc0" + bytes([hdr_q]) + struct.pack("!HHIH", T_A, C_IN, 0, 0),
        E(rcode=FORMERR))
    add("additional record owned by a pointer past the end",
        lambda i: header(i, ar=1) + q + b"\xcf\xff" +
        struct.pack("!HHIH", T_A, C_IN, 0, 0), E(rcode=FORMERR))
    add("additional record with RDLEN past the end",
        lambda i: header(i, ar=1) + q + rr(b"\x00", T_A, rdlen=1000),
        E(rcode=FORMERR))
    add("additional record with a 0x40 label in its owner",
        lambda i: header(i, ar=1) + q + b"\x41a\x00" +
        struct.pack("!HHIH", T_A, C_IN, 0, 0), E(rcode=FORMERR))

    # ---- trailing bytes are ignored.
    add("4 bytes of garbage after the question",
        lambda i: header(i) + q + b"\xde\xad\xbe\xef", echo(NOERROR, q))
    add("garbage after the OPT",
        lambda i: header(i, ar=1) + q + opt() + b"\xff" * 17,
        echo(NOERROR, q, opt=True))
    add("60000 bytes of garbage after the question",
        lambda i: header(i) + q + b"\xc0" * 60000, echo(NOERROR, q))

    # ---- header flags a query should not have: answered anyway.
    add("TC=1 in the query",
        lambda i: header(i, flags(tc=1)) + q, echo(NOERROR, q))
    add("AA, RA and Z set in the query",
        lambda i: header(i, flags(aa=1, ra=1, z=1)) + q, echo(NOERROR, q))
    add("ID 0", lambda i: header(0) + q, echo(NOERROR, q))
    add("ID 65535", lambda i: header(0xFFFF) + q, echo(NOERROR, q))
    return cases


# ---------------------------------------------------------------- TCP only

def tcp_send(c, data, timeout=3.0):
    s = c.tcp_connect(timeout)
    s.sendall(data)
    return s


def closed_without_reply(s, timeout):
    """(closed, got): whether the server closed s within timeout, and what
    it sent before."""
    s.settimeout(timeout)
    got = b""
    end = time.time() + timeout
    try:
        while time.time() < end:
            chunk = s.recv(4096)
            if not chunk:
                return True, got
            got += chunk
    except socket.timeout:
        return False, got
    except (ConnectionResetError, BrokenPipeError):
        return True, got
    return False, got


def frame(pkt):
    return struct.pack("!H", len(pkt)) + pkt


def tcp_cases(c, good, read_timeout_s):
    q = question(good)
    good_pkt = dnsraw.query(0x4100, good)
    slack = read_timeout_s + 2.0

    # A zero-length frame: no query is that short, the stream is garbage.
    s = tcp_send(c, b"\x00\x00")
    closed, got = closed_without_reply(s, slack)
    s.close()
    report("tcp: zero-length frame: connection closed, nothing sent",
           closed and not got, "closed=%s, got %r" % (closed, got[:40]))

    # Zero-length frame after a good query, in one write: the good
    # query's answer still comes, then the connection is closed.
    s = tcp_send(c, frame(good_pkt) + b"\x00\x00")
    reply = c.tcp_read(s)
    err = "no answer before the close"
    closed = False
    if reply:
        err = check_reply(good_pkt, reply, {"rcode": NOERROR, "echo": q})
        closed, _ = closed_without_reply(s, slack)
    s.close()
    report("tcp: good query then a zero-length frame in one write: "
           "answered, then closed",
           err is None and closed, err or "closed=%s" % closed)

    # A length prefix longer than the data, then the client half-closes.
    for label, data in (
            ("prefix 200 with 30 bytes", struct.pack("!H", 200) +
             good_pkt[:30]),
            ("prefix 65535 with a whole query", struct.pack("!H", 65535) +
             good_pkt),
            ("half a length prefix", b"\x00")):
        s = tcp_send(c, data)
        try:
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        closed, got = closed_without_reply(s, slack)
        s.close()
        report("tcp: %s, then the client closes its side: closed, no reply"
               % label, closed and not got,
               "closed=%s, got %r" % (closed, got[:40]))

    # A length prefix shorter than the message: the first 12 bytes are a
    # header claiming a question that is not there (FORMERR).
    s = tcp_send(c, struct.pack("!H", 12) + good_pkt)
    reply = c.tcp_read(s)
    s.close()
    err = check_reply(good_pkt[:12], reply, {"rcode": FORMERR})
    report("tcp: prefix 12 before a whole query: the 12 bytes get FORMERR",
           err is None, err or "")

    # Bad and good messages pipelined in one write: each bad one answered
    # (or, for QR=1, not), the good ones answered, the connection kept.
    msgs, want = [], {}
    for k in range(30):
        qid = 0x4200 + k
        kind = k % 5
        if kind == 0:
            pkt, w = dnsraw.query(qid, good), {"rcode": NOERROR, "echo": q}
        elif kind == 1:
            pkt, w = header(qid, qd=2) + q + q, {"rcode": FORMERR}
        elif kind == 2:
            pkt, w = header(qid, flags(opcode=4)) + q, {"rcode": NOTIMP}
        elif kind == 3:
            pkt, w = header(qid, flags(qr=1)) + q, None     # dropped
        else:
            qb = question(good, T_A, C_CH)
            pkt, w = header(qid) + qb, {"rcode": REFUSED, "echo": qb}
        msgs.append(frame(pkt))
        if w is not None:
            want[qid] = (pkt, w)
    s = tcp_send(c, b"".join(msgs), 10.0)
    errs, n = [], len(want)
    while want:
        reply = c.tcp_read(s)
        if not reply:
            break
        qid = struct.unpack("!H", reply[:2])[0]
        if qid not in want:
            errs.append("reply with ID %#x (a dropped one?)" % qid)
            continue
        pkt, w = want.pop(qid)
        e = check_reply(pkt, reply, w)
        if e:
            errs.append(e)
    if want:
        errs.append("%d of %d not answered" % (len(want), n))
    # Same connection, still usable.
    s.sendall(frame(good_pkt))
    e = check_reply(good_pkt, c.tcp_read(s), {"rcode": NOERROR, "echo": q})
    if e:
        errs.append("then a good query on the same connection: " + e)
    s.close()
    report("tcp: 30 pipelined messages (good, FORMERR, NOTIMP, QR=1, "
           "REFUSED) in one write: 24 answers, none for QR=1, then a good "
           "query on the same connection", not errs, "; ".join(errs[:4]))

    # A query trickled byte by byte, well within the read timeout.
    data = frame(good_pkt)
    gap = min(0.02, read_timeout_s / (2 * len(data)))
    s = c.tcp_connect(5.0)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for b in data:
        s.sendall(bytes([b]))
        time.sleep(gap)
    reply = c.tcp_read(s)
    s.close()
    err = check_reply(good_pkt, reply, {"rcode": NOERROR, "echo": q})
    report("tcp: one query sent byte by byte (%d ms apart): answered"
           % (gap * 1000), err is None, err or "")

    # The largest frame: a query followed by garbage up to 65535 bytes.
    big = good_pkt + b"\x00" * (65535 - len(good_pkt))
    s = tcp_send(c, frame(big), 5.0)
    reply = c.tcp_read(s)
    s.close()
    err = check_reply(big, reply, {"rcode": NOERROR, "echo": q})
    report("tcp: a 65535-byte frame (query + garbage): answered",
           err is None, err or "")

    # RFC 7766: the client may half-close after its query.
    s = tcp_send(c, frame(good_pkt))
    s.shutdown(socket.SHUT_WR)
    reply = c.tcp_read(s)
    s.close()
    err = check_reply(good_pkt, reply, {"rcode": NOERROR, "echo": q})
    report("tcp: query, then the client half-closes: still answered",
           err is None, err or "")


def udp_bursts(c, good):
    """Many datagrams in flight at once: replies go out in batches, each
    must reach the socket that asked, with its ID and question."""
    n = 150
    socks, sent = [], []
    try:
        for i in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((c.source, 0))
            s.settimeout(5.0)
            socks.append(s)
            # Every third one a NOTIFY, NOTIMP (answered on the spot too).
            name = good.upper() if i % 2 else good
            if i % 3 == 2:
                pkt = header(0x5000 + i, flags(opcode=4)) + question(name)
                want = {"rcode": NOTIMP}
            else:
                pkt = dnsraw.query(0x5000 + i, name, edns=True)
                want = {"rcode": NOERROR, "echo": question(name)}
            sent.append((pkt, want))
        for s, (pkt, _) in zip(socks, sent):
            s.sendto(pkt, (c.server, c.port))
        bad = []
        for i, (s, (pkt, want)) in enumerate(zip(socks, sent)):
            try:
                reply, _ = s.recvfrom(65535)
            except socket.timeout:
                reply = None
            err = check_reply(pkt, reply, want)
            if err:
                bad.append("client %d: %s" % (i, err))
        report("udp: %d clients' queries at once, each its own reply" % n,
               not bad, "; ".join(bad[:5]))
    finally:
        for s in socks:
            s.close()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((c.source, 0))
    s.settimeout(5.0)
    try:
        want = set(range(0x6000, 0x6000 + n))
        for qid in sorted(want):
            s.sendto(dnsraw.query(qid, good, edns=True), (c.server, c.port))
        got, errs = set(), []
        while len(got) < n:
            try:
                reply, _ = s.recvfrom(65535)
            except socket.timeout:
                break
            qid = struct.unpack("!H", reply[:2])[0]
            err = check_reply(dnsraw.query(qid, good, edns=True), reply,
                              {"rcode": NOERROR, "echo": question(good)})
            if err or qid not in want or qid in got:
                errs.append("ID %#x: %s" % (qid, err or "not asked or twice"))
            got.add(qid)
        missing = len(want - got)
        report("udp: %d queries at once from one socket, all answered" % n,
               not errs and not missing,
               "; ".join(errs[:5] + (["%d unanswered" % missing]
                                     if missing else [])))
    finally:
        s.close()


def liveness(c, transport, good):
    pkt = dnsraw.query(0x4242, good, edns=True)
    try:
        reply = c.udp(pkt, 5.0) if transport == "udp" else c.tcp(pkt, 5.0)
    except OSError as e:
        return str(e)
    return check_reply(pkt, reply, {"rcode": NOERROR,
                                    "echo": question(good)})


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) < 4:
        sys.stderr.write(__doc__)
        return 2
    server, port, source, good = args[0], int(args[1]), args[2], args[3]
    read_timeout_s = float(os.environ.get("DS_TCP_READ_TIMEOUT_MS",
                                          "3000")) / 1000.0
    cases = corpus(good)
    if "--list" in sys.argv:
        for name, pkt, want, tr in cases:
            print("%-70s %-8s %s %s" % (
                name, "/".join(tr), want if want == "drop" else
                dnsraw.rname(want["rcode"]), pkt[:24].hex()))
        print("%d packets" % len(cases))
        return 0
    for addr in (server, source):
        if not addr.startswith("127."):
            sys.stderr.write("hostile.py: loopback addresses only\n")
            return 2
    c = dnsraw.Client(server, port, source)
    print("CORPUS\t%d" % len(cases))
    for transport in ("udp", "tcp"):
        for name, pkt, want, tr in cases:
            if transport not in tr:
                continue
            tag = "%s: %s" % (transport, name)
            timeout = 1.0 if want == "drop" else 4.0
            try:
                reply = c.udp(pkt, timeout) if transport == "udp" else \
                    c.tcp(pkt, timeout)
            except OSError as e:
                report(tag, False, "socket error: %s" % e)
                continue
            err = check_reply(pkt, reply, want)
            err2 = liveness(c, transport, good)
            if err2:
                err = (err + "; " if err else "") + \
                    "then a normal query: " + err2
            report(tag, err is None, err or "")
    tcp_cases(c, good, read_timeout_s)
    udp_bursts(c, good)
    for transport in ("udp", "tcp"):
        err = liveness(c, transport, good)
        report("%s: a normal query after everything" % transport,
               err is None, err or "")
    return 0 if all(RESULTS) else 1


if __name__ == "__main__":
    sys.exit(main())
