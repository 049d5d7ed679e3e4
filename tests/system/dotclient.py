#!/usr/bin/env python3
"""A DNS-over-TLS client for dotsec's system tests (standard library only).

Usage:
  dotclient.py [options] SERVER PORT NAME/TYPE...

Opens one TLS connection (the CA file and name given, optionally with a
client certificate), writes every query at once (pipelined), then reads
the answers in whatever order they come.  Prints first

  tls VERSION alpn=PROTO serial=HEX

then one line per answer:

  answer ID NAME TYPE RCODE ad|- len=BYTES pad=N|- keepalive=T|-

and exits 0 when every query was answered, 1 when some were not (within
--timeout), 2 when the TLS handshake failed ("handshake failed: WHY").
With --hold FILE, after the answers it waits until FILE exists and then
asks the same questions again on the same connection (a connection that
outlives a certificate rotation).
"""

import argparse
import os
import socket
import ssl
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dnsraw  # noqa: E402

TYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "MX": 15, "TXT": 16,
         "AAAA": 28, "DS": 43, "DNSKEY": 48}
O_KEEPALIVE, O_PADDING = 11, 12


def build(qid, name, qtype, do, pad, keepalive):
    opts = b""
    if keepalive:
        opts += struct.pack("!HH", O_KEEPALIVE, 0)
    pkt = dnsraw.header(qid, ar=1) + dnsraw.question(name, qtype)
    if pad:
        # RFC 8467: the query padded to a multiple of 128 bytes.
        n = len(pkt) + 11 + len(opts) + 4
        opts += struct.pack("!HH", O_PADDING, -n % 128) + b"\0" * (-n % 128)
    return pkt + dnsraw.opt(do=do, rdata=opts)


def options(msg):
    """The EDNS options of a reply: {code: value bytes}."""
    qd, an, ns, ar = struct.unpack("!HHHH", msg[4:12])
    off = 12
    for _ in range(qd):
        off = dnsraw.skip_name(msg, off) + 4
    out = {}
    for i in range(an + ns + ar):
        off = dnsraw.skip_name(msg, off)
        rtype, _, _, rdlen = struct.unpack("!HHIH", msg[off:off + 10])
        off += 10
        if rtype == 41:
            p, end = off, off + rdlen
            while p + 4 <= end:
                code, olen = struct.unpack("!HH", msg[p:p + 4])
                out[code] = msg[p + 4:p + 4 + olen]
                p += 4 + olen
        off += rdlen
    return out


def read_exact(s, n, deadline):
    buf = b""
    while len(buf) < n:
        s.settimeout(max(0.01, deadline - time.monotonic()))
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError("connection closed by the server")
        buf += chunk
    return buf


def ask(s, qs, args):
    """Send every query at once, print the answers; the count missing."""
    out = b""
    pending = {}
    for i, (name, qtype) in enumerate(qs):
        qid = (os.getpid() * 131 + i * 7919 + int(time.time())) & 0xffff
        while qid in pending:
            qid = (qid + 1) & 0xffff
        pending[qid] = (name, qtype)
        pkt = build(qid, name, TYPES[qtype], args.do, args.pad,
                    args.keepalive)
        out += struct.pack("!H", len(pkt)) + pkt
    s.sendall(out)
    deadline = time.monotonic() + args.timeout
    try:
        while pending:
            n = struct.unpack("!H", read_exact(s, 2, deadline))[0]
            msg = read_exact(s, n, deadline)
            r = dnsraw.parse(msg)
            name, qtype = pending.pop(r["id"], ("?", "?"))
            flags = struct.unpack("!H", msg[2:4])[0]
            o = options(msg)
            pad = len(o[O_PADDING]) if O_PADDING in o else "-"
            ka = (struct.unpack("!H", o[O_KEEPALIVE])[0]
                  if O_KEEPALIVE in o and len(o[O_KEEPALIVE]) == 2 else "-")
            print("answer %d %s %s %s %s len=%d pad=%s keepalive=%s" % (
                r["id"], name, qtype, dnsraw.rname(r["rcode"]),
                "ad" if flags & 0x0020 else "-", len(msg), pad, ka))
    except (OSError, EOFError, ValueError) as e:
        print("error %s" % e)
    sys.stdout.flush()
    return len(pending)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ca", required=True)
    ap.add_argument("--hostname", required=True)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--source")
    ap.add_argument("--do", action="store_true")
    ap.add_argument("--pad", action="store_true")
    ap.add_argument("--keepalive", action="store_true")
    ap.add_argument("--timeout", type=float, default=5.0)
    ap.add_argument("--hold")
    ap.add_argument("--tls12", action="store_true")
    ap.add_argument("server")
    ap.add_argument("port", type=int)
    ap.add_argument("questions", nargs="+")
    args = ap.parse_args()
    qs = [tuple(q.split("/", 1)) for q in args.questions]

    ctx = ssl.create_default_context(cafile=args.ca)
    ctx.set_alpn_protocols(["dot"])
    if args.tls12:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    if args.cert:
        ctx.load_cert_chain(args.cert, args.key)
    raw = socket.socket(socket.AF_INET6 if ":" in args.server
                        else socket.AF_INET, socket.SOCK_STREAM)
    if args.source:
        raw.bind((args.source, 0))
    raw.settimeout(args.timeout)
    try:
        raw.connect((args.server, args.port))
        s = ctx.wrap_socket(raw, server_hostname=args.hostname)
        # TLS 1.3: a missing or refused client certificate shows only
        # once the server's verdict is read; one query brings it.
    except (OSError, ssl.SSLError) as e:
        print("handshake failed: %s" % e)
        return 2
    der = s.getpeercert(binary_form=True)
    serial = "%X" % int.from_bytes(_serial(der), "big")
    print("tls %s alpn=%s serial=%s" % (
        s.version(), s.selected_alpn_protocol(), serial))
    sys.stdout.flush()
    try:
        missing = ask(s, qs, args)
        if args.hold:
            while not os.path.exists(args.hold):
                time.sleep(0.05)
            missing += ask(s, qs, args)
    except ssl.SSLError as e:
        print("handshake failed: %s" % e)
        return 2
    s.close()
    return 1 if missing else 0


def _der_item(b, off):
    """(tag, content start, content end) of the DER item at off."""
    tag, n = b[off], b[off + 1]
    off += 2
    if n & 0x80:
        k = n & 0x7f
        n = int.from_bytes(b[off:off + k], "big")
        off += k
    return tag, off, off + n


def _serial(der):
    """The serial number of a DER certificate."""
    _, off, _ = _der_item(der, 0)         # Certificate
    _, off, _ = _der_item(der, off)       # TBSCertificate
    tag, s, e = _der_item(der, off)
    if tag == 0xa0:                       # [0] version
        tag, s, e = _der_item(der, e)
    return der[s:e]


if __name__ == "__main__":
    sys.exit(main())
