#!/usr/bin/env python3
"""Write the seed corpora of the libFuzzer targets, and fuzz_config.dict.

Usage: gen_corpus.py [SRCDIR]

SRCDIR is the top of the source tree (default: two levels above this
script).  Writes SRCDIR/tests/fuzz/corpus/{fuzz_query,fuzz_shape,
fuzz_relay,fuzz_config,fuzz_cachedump,fuzz_synth,fuzz_stream,
fuzz_sigfilter}/ (replacing what is there) and
SRCDIR/tests/fuzz/fuzz_config.dict (the configuration's key names, read
from src/config.c).  Only the standard library; the packets are built here,
nothing is sent anywhere.  The input layouts are described at the top of
each fuzz_*.c.
"""

import hashlib
import os
import re
import shutil
import struct
import sys

A, NS, CNAME, SOA, MX, TXT, AAAA, SRV, NAPTR, OPT = 1, 2, 5, 6, 15, 16, 28, 33, 35, 41
RP, DS, RRSIG, NSEC, DNSKEY, NSEC3, AXFR, TSIG = 17, 43, 46, 47, 48, 50, 252, 250
IN, CH = 1, 3


def wire(name, lower=False):
    """Uncompressed wire form of a presentation name."""
    out = b""
    for label in [l for l in name.rstrip(".").split(".") if l]:
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


class Msg:
    """A DNS message under construction, with name compression."""

    def __init__(self, ident, flags2, flags3):
        self.buf = bytearray(struct.pack(">HBBHHHH", ident, flags2,
                                         flags3, 0, 0, 0, 0))
        self.names = {}

    def count(self, section):
        off = 4 + 2 * section
        n = struct.unpack_from(">H", self.buf, off)[0]
        struct.pack_into(">H", self.buf, off, n + 1)

    def name(self, name, compress=True):
        labels = [l for l in name.rstrip(".").split(".") if l]
        for i in range(len(labels)):
            suffix = ".".join(labels[i:]).lower()
            if compress and suffix in self.names:
                self.buf += struct.pack(">H", 0xc000 | self.names[suffix])
                return
            if len(self.buf) < 0x3fff:
                self.names.setdefault(suffix, len(self.buf))
            self.buf += bytes([len(labels[i])]) + labels[i].encode()
        self.buf += b"\0"

    def question(self, name, qtype, qclass=IN):
        self.name(name, compress=False)
        self.buf += struct.pack(">HH", qtype, qclass)
        self.count(0)

    def rr(self, section, name, rtype, rdata_parts, ttl=3600, rclass=IN):
        """rdata_parts: bytes, or ("name", text) to write a name."""
        self.name(name)
        self.buf += struct.pack(">HHIH", rtype, rclass, ttl, 0)
        start = len(self.buf)
        for part in rdata_parts:
            if isinstance(part, tuple):
                self.name(part[1], compress=part[0] == "name")
            else:
                self.buf += part
        struct.pack_into(">H", self.buf, start - 2, len(self.buf) - start)
        self.count(section)

    def opt(self, size=1232, do=False, version=0, ext_rcode=0,
            options=b""):
        self.buf += b"\0" + struct.pack(">HHBBBBH", OPT, size, ext_rcode,
                                        version, 0x80 if do else 0, 0,
                                        len(options)) + options
        self.count(3)

    def bytes(self):
        return bytes(self.buf)


def option(code, data):
    return struct.pack(">HH", code, len(data)) + data


def query(name, qtype, ident=0x1234, rd=True, cd=False, ad=False,
          edns=True, do=False, size=1232, version=0, qclass=IN,
          opcode=0, options=b""):
    m = Msg(ident, (opcode << 3) | (1 if rd else 0),
            (0x10 if cd else 0) | (0x20 if ad else 0))
    m.question(name, qtype, qclass)
    if edns:
        m.opt(size, do, version, options=options)
    return m.bytes()


def rrsig(covered, signer, keytag=12345):
    return [struct.pack(">HBBIIIH", covered, 13, 2, 3600, 1767225600,
                        1764547200, keytag), ("plain", signer),
            bytes(range(64))]


def nsec(nxt, types):
    bitmap = bytearray(32)
    for t in types:
        bitmap[t // 8] |= 0x80 >> (t % 8)
    while bitmap and bitmap[-1] == 0:
        bitmap.pop()
    return [("plain", nxt), bytes([0, len(bitmap)]) + bytes(bitmap)]


def soa(zone):
    return [("name", "ns1." + zone), ("name", "hostmaster." + zone),
            struct.pack(">IIIII", 2026112501, 7200, 3600, 1209600, 3600)]


def reply(q_name, qtype, ident=0x4321, rcode=0, aa=False, tc=False,
          ad=True, cd=True, upstream_opt=True, ext_rcode=0):
    m = Msg(ident, 0x80 | (0x04 if aa else 0) | (0x02 if tc else 0) | 0x01,
            0x80 | (0x20 if ad else 0) | (0x10 if cd else 0) | rcode)
    m.question(q_name, qtype)
    return m


def finish(m, upstream_opt=True, ext_rcode=0, pad=0):
    if upstream_opt:
        m.opt(1232, True, 0, ext_rcode,
              option(12, bytes(pad)) if pad else b"")
    return m.bytes()


def replies():
    """(name, qtype, packet) of upstream replies."""
    out = []

    m = reply("www.example.com", A)
    m.rr(1, "www.example.com", A, [bytes([192, 0, 2, 1])])
    m.rr(1, "www.example.com", A, [bytes([192, 0, 2, 2])])
    m.rr(1, "www.example.com", RRSIG, rrsig(A, "example.com"))
    out.append(("a_signed", "www.example.com", A, finish(m, pad=60)))

    m = reply("nope.example.com", A, rcode=3)
    m.rr(2, "example.com", SOA, soa("example.com"))
    m.rr(2, "example.com", RRSIG, rrsig(SOA, "example.com"))
    m.rr(2, "example.com", NSEC, nsec("www.example.com",
                                      [NS, SOA, RRSIG, NSEC, DNSKEY]))
    m.rr(2, "example.com", RRSIG, rrsig(NSEC, "example.com"))
    out.append(("nxdomain_nsec", "nope.example.com", A, finish(m)))

    m = reply("Www.Example.Org", AAAA)
    m.rr(1, "www.example.org", CNAME, [("name", "edge.cdn.example.net")])
    m.rr(1, "edge.cdn.example.net", AAAA, [bytes(range(16))])
    m.rr(2, "cdn.example.net", NS, [("name", "ns1.cdn.example.net")])
    m.rr(3, "ns1.cdn.example.net", A, [bytes([198, 51, 100, 7])])
    out.append(("cname_chain", "Www.Example.Org", AAAA, finish(m)))

    m = reply("example.com", MX)
    for i in range(12):
        m.rr(1, "example.com", MX, [struct.pack(">H", 10 * i),
                                    ("name", "mx%d.mail.example.com" % i)])
    for i in range(12):
        m.rr(3, "mx%d.mail.example.com" % i, A, [bytes([203, 0, 113, i])])
        m.rr(3, "mx%d.mail.example.com" % i, AAAA,
             [bytes([0x20, 1, 0xd, 0xb8] + [0] * 11 + [i])])
    out.append(("mx_additional", "example.com", MX, finish(m)))

    m = reply("big.example.com", TXT)
    for i in range(30):
        text = ("record %02d " % i + "x" * 90).encode()
        m.rr(1, "big.example.com", TXT, [bytes([len(text)]) + text])
    m.rr(1, "big.example.com", RRSIG, rrsig(TXT, "example.com"))
    out.append(("txt_large", "big.example.com", TXT, finish(m)))

    m = reply("_sip._udp.example.com", SRV)
    m.rr(1, "_sip._udp.example.com", SRV,
         [struct.pack(">HHH", 10, 60, 5060), ("plain", "sip.example.com")])
    m.rr(1, "_sip._udp.example.com", NAPTR,
         [struct.pack(">HH", 100, 10), b"\x01S", b"\x07SIP+D2U", b"\x00",
          ("plain", "_sip._udp.example.com")])
    m.rr(1, "_sip._udp.example.com", RP,
         [("plain", "admin.example.com"), ("plain", "info.example.com")])
    m.rr(2, "example.com", SOA, soa("example.com"))
    out.append(("srv_naptr_rp", "_sip._udp.example.com", SRV, finish(m)))

    m = reply("example.com", DNSKEY, aa=True)
    m.rr(1, "example.com", DNSKEY, [struct.pack(">HBB", 257, 3, 13),
                                    bytes(range(64))])
    m.rr(1, "example.com", DNSKEY, [struct.pack(">HBB", 256, 3, 13),
                                    bytes(range(64, 128))])
    m.rr(1, "example.com", RRSIG, rrsig(DNSKEY, "example.com", 2371))
    out.append(("dnskey", "example.com", DNSKEY, finish(m)))

    m = reply("x.example.com", NSEC3)
    m.rr(2, "example.com", SOA, soa("example.com"))
    m.rr(2, "b4um86eghhds6nea196smvmlo4ors995.example.com", NSEC3,
         [bytes([1, 0, 0, 0, 0, 20]) + bytes(20)] +
         nsec("x", [A, RRSIG])[1:])
    out.append(("nsec3_query", "x.example.com", NSEC3, finish(m)))

    m = reply("tc.example.com", A, tc=True)
    out.append(("upstream_tc", "tc.example.com", A, finish(m)))

    m = reply("fail.example.com", A, rcode=2, ad=False)
    out.append(("servfail", "fail.example.com", A, finish(m, False)))

    m = reply("vers.example.com", A, rcode=0)
    out.append(("ext_rcode", "vers.example.com", A,
                finish(m, ext_rcode=1)))
    return out


def queries():
    out = [
        ("a_rd", query("www.example.com", A, edns=False)),
        ("aaaa_do", query("www.example.com", AAAA, do=True, size=4096)),
        ("ds_cd_ad", query("Example.COM", DS, cd=True, ad=True, do=True)),
        ("cookie", query("example.org", TXT, options=option(
            10, bytes(range(8))) + option(12, bytes(20)))),
        ("badvers", query("example.net", A, version=1)),
        ("notify", query("example.net", SOA, opcode=4, edns=False)),
        ("axfr", query("example.net", AXFR, edns=False)),
        ("chaos", query("version.bind", TXT, qclass=CH, edns=False)),
        ("tsig_type", query("example.net", TSIG)),
        ("root_ns", query(".", NS, size=512, do=True)),
    ]
    # Two questions; a compressed name; a cut record; two OPTs.
    q = bytearray(query("a.example", A, edns=False))
    q[5] = 2
    out.append(("qdcount2", bytes(q) + wire("b.example") + b"\0\1\0\1"))
    out.append(("compressed", bytes.fromhex("abcd01000001000000000000") +
                b"\x03www\xc0\x0c\x00\x01\x00\x01"))
    out.append(("cut_opt", query("example.com", A, do=True)[:-3]))
    q = bytearray(query("example.com", A, do=True))
    q[11] = 2
    out.append(("two_opts", bytes(q) + q[-11:]))
    return out


def yamls(srcdir):
    out = []
    with open(os.path.join(srcdir, "conf", "dotsecd.yml"), "rb") as f:
        out.append(("dotsecd.yml", f.read()))
    out.append(("private.yml", b"""\
listen_addresses:
  - 127.0.0.1@53
  - 0::1@53
upstream_recursive_servers:
  - address_data: 192.0.2.53
    tls_port: 853
    tls_auth_name: "dns.example.internal"
    tls_pubkey_pinset:
      - digest: "sha256"
        value: "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
tls_ca_file: /etc/ssl/private-ca.pem
trust_anchor_file: /usr/local/share/dotsec/root.key
timeout: 5000
log_level: notice
"""))
    out.append(("stubby.yml", b"""\
resolution_type: GETDNS_RESOLUTION_STUB
dns_transport_list:
  - GETDNS_TRANSPORT_TLS
tls_authentication: GETDNS_AUTHENTICATION_REQUIRED
tls_query_padding_blocksize: 128
edns_client_subnet_private : 1
round_robin_upstreams: 1
idle_timeout: 10000
appdata_dir: "/var/cache/stubby"
listen_addresses:
  - 127.0.0.1#5353
  - 0::1
tls_min_version: GETDNS_TLS1_2
upstream_recursive_servers:
  - address_data: 2620:fe::fe
    tls_auth_name: "dns.quad9.net"
  - address_data: 1.1.1.1
    tls_port: 853
    tls_pubkey_pinset:
      - digest: sha256
        value: GP8Knf7qBae+aIfythytMbYnL+yowaWVeD6MoLHkVRg=
"""))
    out.append(("errors.yml", b"""\
listen_addresses: 127.0.0.1@99999
upstream_recursive_servers: []
timeout: 0
workers: lots
log_level: GETDNS_LOG_DEBUG
dnssec_trust_anchors: /etc/root.key
round_robin_upstreams: maybe
unknown_key: {a: [1, 2, &x 3, *x]}
"""))
    out.append(("flow.yml", b"{edns_udp_size: 4096, tcp_max_inflight: 1, "
                b"cache_size: 1048576, serve_stale: true, "
                b"listen_addresses: [\"::1@5300\", 127.0.0.2]}\n"))
    out.append(("two_docs.yml", b"---\nworkers: 2\n...\n---\nworkers: 3\n"))
    # Anchors and aliases, one of them a list that contains itself.
    out.append(("aliases.yml", b"""\
upstream_recursive_servers:
  - &u {address_data: 192.0.2.1, tls_auth_name: &n "dns.example"}
  - *u
  - {address_data: "2001:db8::1", tls_auth_name: *n}
listen_addresses: &l [127.0.0.1@5353, *l]
"""))
    # Routing by domain (include_dir would read the fuzzing host's files).
    out.append(("routing.yml", b"""\
forward_zones:
  - name: Corp.Example
    upstream_recursive_servers:
      - address_data: 10.0.0.53
        tls_auth_name: dns.corp.example
        tls_port: 853
    tls_ca_file: /etc/ssl/corp.pem
    transport: tls
    dnssec: validate
    trust_anchors:
      - "corp.example. 3600 IN DS 12345 13 2 ABCDEF"
  - name: home.lan.
    transport: plain
    dnssec: insecure
    upstream_recursive_servers: [{address_data: 192.168.1.1, port: 53}]
domain_insecure: [broken.example, "a..b"]
local_zones_disable: [home.arpa, 10.in-addr.arpa., test]
"""))
    return out


# fuzz_cachedump.c's FUZZ_WALL and fingerprint.
DUMP_WALL = 1764547200
DUMP_FP = b"fuzz_cachedump".ljust(32, b"\0")


def cache_dump(entries, wall=DUMP_WALL, fp=DUMP_FP):
    """An answer cache dump (src/frontcache.c): entries are (verdict,
    name, qtype, bits, expiry, reply), bits 1 DO, 2 CD, 4 EDNS."""
    out = bytearray(b"DSFCDUMP" + struct.pack(">II", 1, 0) +
                    struct.pack(">Q", wall) + fp + bytes(8))
    for verdict, name, qtype, bits, expiry, pkt in entries:
        key = wire(name.lower()) + struct.pack(">HHB", qtype, IN, bits)
        out += struct.pack(">BBHHQ", verdict, 0, len(key), len(pkt),
                           expiry) + key + pkt
    out += struct.pack(">II", len(entries), 0)
    out += hashlib.sha256(bytes(out[:-8])).digest()
    return bytes(out)


def cachedumps():
    """fuzz_cachedump seeds: a control byte (bit 0: fix the fingerprint and
    checksum; bits 1-7: 10, the wall clock at the dump's time), then a
    dump.  The replies are the upstream replies of replies(): most are
    stored, some refused by the store's checks (TC, SERVFAIL)."""
    ctl = bytes([(10 << 1) | 1])
    ents = []
    for i, (tag, name, qtype, pkt) in enumerate(replies()):
        if tag in ("mx_additional", "txt_large"):
            continue    # under fuzz-smoke's -max_len of 4096 bytes
        ents.append((i % 2, name, qtype, 5, DUMP_WALL + 3600 - 60 * i, pkt))
    out = [("empty", ctl + cache_dump([])),
           ("replies", ctl + cache_dump(ents)),
           ("one_secure", ctl + cache_dump(ents[:1])),
           ("nxdomain_expiring", ctl + cache_dump(
               [(1, ents[1][1], ents[1][2], 7, DUMP_WALL + 30, ents[1][5])])),
           ("same_key_twice", ctl + cache_dump(ents[2:3] * 2))]
    # Without EDNS: a reply without OPT, key bits 0.
    m = reply("plain.example.com", A)
    m.rr(1, "plain.example.com", A, [bytes([192, 0, 2, 9])], ttl=300)
    out.append(("no_edns", ctl + cache_dump(
        [(0, "plain.example.com", A, 0, DUMP_WALL + 300, m.bytes())])))
    # As written, unfixed: the checksum is right already.
    out.append(("replies_unfixed", bytes([10 << 1]) + cache_dump(ents)))
    return out


def synth_seeds():
    """fuzz_synth seeds: a zone (names from the alphabet a, b, *, c by
    fuzz_synth.c's name_at) taught a few questions and then asked many,
    with and without salt and iterations, opt-out, a second chain; and
    the replies of fuzz_shape taught in raw mode."""

    def nm(depth, *labels):
        b = (depth - 1) & 3
        for i, lab in enumerate(labels):
            b |= lab << (2 + 2 * i)
        return b

    A_, TXT_, CNAME_, NS_, DS_ = 1, 2, 4, 8, 16
    names = [(nm(1, 0), A_ | TXT_),              # a
             (nm(2, 2, 1), A_),                  # *.b
             (nm(3, 0, 1, 3), TXT_),             # a.b.c
             (nm(2, 3, 0), CNAME_),              # c.a
             (nm(1, 1), NS_ | DS_),              # b: signed child
             (nm(1, 3), NS_)]                    # c: unsigned child
    body = bytes([len(names)]) + b"".join(bytes(n) for n in names)
    teach = b"".join(bytes([b, 0x80 | t, 1]) for b in range(0, 256, 7)
                     for t in range(2))
    ask = b"".join(bytes([b, t, 0]) for b in range(256) for t in range(4))
    out = []
    for tag, ctl, salt in (("nosalt", 0x00, b""),
                           ("salt_iter", 0x06, b"\xab\xcd"),
                           ("optout", 0x01, b"\x01"),
                           ("two_chains", 0x10 | 0x02, b"\x11"),
                           ("nsec", 0x20, b"")):
        t2 = teach
        if ctl & 0x10:
            t2 += b"".join(bytes([b, 0xc0, 1]) for b in range(3, 256, 11))
        out.append((tag, bytes([ctl, len(salt)]) + salt + body + t2 + ask))
    raw = b"".join(struct.pack(">H", len(p)) + p
                   for _, _, _, p in replies()[:6])
    out.append(("raw", bytes([0x08, 0]) + raw))
    return out


def stream_seeds():
    """fuzz_stream seeds: what a DoT client sends after the handshake."""
    def frame(m):
        return struct.pack(">H", len(m)) + m
    plain = query("www.example.com", A, do=True)
    n = len(query("www.example.com", A, do=True, options=option(12, b"")))
    padded = query("www.example.com", A, do=True,
                   options=option(12, b"\0" * (-n % 128)))
    keep = query("www.example.com", A, options=option(11, b""))
    both = query("example.com", TXT, options=option(11, b"") +
                 option(12, b"\0" * 20))
    return [
        ("one", frame(plain)),
        ("padded", frame(padded)),
        ("keepalive", frame(keep)),
        ("pipelined", frame(plain) + frame(padded) + frame(keep) +
         frame(both)),
        ("no_edns", frame(query("example.com", A, edns=False))),
        ("zero_frame", frame(plain) + b"\0\0" + frame(keep)),
        ("cut_short", frame(plain)[:-3]),
        ("garbage", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
    ]


def sigfilter_seeds():
    """fuzz_sigfilter seeds: the replies of fuzz_shape, each with its
    question's RRset as the target and, for the signed ones, the RDATA of
    their RRSIG (as rrsig() builds it) as the one kept."""
    def rdata(parts):
        return b"".join(p if isinstance(p, bytes) else wire(p[1])
                        for p in parts)
    out = []
    for i, (tag, name, qtype, pkt) in enumerate(replies()):
        owner = wire(name)
        keep = rdata(rrsig(qtype, "example.com")) if i % 2 == 0 else b""
        out.append((tag, bytes([len(owner)]) + owner +
                    struct.pack(">HB", qtype, len(keep)) + keep + pkt))
    return out


def write_dir(path, items):
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    for name, data in items:
        with open(os.path.join(path, name), "wb") as f:
            f.write(data)


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    srcdir = argv[1] if len(argv) > 1 else os.path.join(here, "..", "..")
    fuzzdir = os.path.join(srcdir, "tests", "fuzz")
    corpus = os.path.join(fuzzdir, "corpus")

    write_dir(os.path.join(corpus, "fuzz_query"), queries())
    write_dir(os.path.join(corpus, "fuzz_stream"), stream_seeds())

    # fuzz_shape: flags, max_size, mode (qname and qtype from the reply),
    # qtype, qname length; then the reply.
    variants = [
        (0x40 | 0x01 | 0x08 | 0x10 | 0x20, 1232, 0x00),   # DO, keep, AD
        (0x08, 512, 0x04),                                  # no EDNS, case
        (0x40 | 0x02 | 0x80, 512, 0x08),                    # CD, EDE text
        (0x40 | 0x01 | 0x10 | 0x80, 65535, 0x10),           # long EDE
    ]
    shape = []
    for i, (tag, name, qtype, pkt) in enumerate(replies()):
        f, size, mode = variants[i % len(variants)]
        ctl = struct.pack(">BHBHB", f, (size - 512) % 65024, mode, 0, 0)
        shape.append((tag, ctl + pkt))
    # The qname and qtype given apart from the reply.
    tag, name, qtype, pkt = replies()[0]
    qn = wire(name.upper())
    shape.append(("explicit_qname",
                  struct.pack(">BHBHB", 0x40, 720, 0x03, qtype, len(qn)) +
                  qn + pkt))
    write_dir(os.path.join(corpus, "fuzz_shape"), shape)

    # fuzz_relay: transport/failure, edns_size, query length; the query
    # as libunbound sends it (DO, CD, EDNS, mixed case); the reply.
    relay = []
    for i, (tag, name, qtype, pkt) in enumerate(replies()[:8]):
        mixed = "".join(c.upper() if j % 2 else c
                        for j, c in enumerate(name))
        q = query(mixed, qtype, ident=0x4321, rd=False, cd=True, do=True,
                  size=1232 if i % 2 else 4096)
        ctl = struct.pack(">BHH", i % 2, (1232 - 512), len(q))
        relay.append((tag, ctl + q + pkt))
    q = query("example.com", AXFR)
    relay.append(("refused_axfr", struct.pack(">BHH", 0, 0, len(q)) + q))
    write_dir(os.path.join(corpus, "fuzz_relay"), relay)

    write_dir(os.path.join(corpus, "fuzz_config"), yamls(srcdir))

    write_dir(os.path.join(corpus, "fuzz_cachedump"), cachedumps())
    write_dir(os.path.join(corpus, "fuzz_synth"), synth_seeds())
    write_dir(os.path.join(corpus, "fuzz_sigfilter"), sigfilter_seeds())

    # The dictionary: every key name of src/config.c, and YAML syntax.
    with open(os.path.join(srcdir, "src", "config.c")) as f:
        keys = re.findall(r'KEY\("([a-z0-9_]+)"', f.read())
    keys += ["address_data", "tls_port", "tls_auth_name",
             "tls_pubkey_pinset", "digest", "value", "sha256",
             "name", "port", "transport", "trust_anchors", "tls", "plain",
             "validate", "insecure", "home.arpa", "corp.example. IN DS "]
    words = ["GETDNS_RESOLUTION_STUB", "GETDNS_AUTHENTICATION_REQUIRED",
             "GETDNS_TRANSPORT_TLS", "GETDNS_TLS1_2", "GETDNS_TLS1_3",
             "GETDNS_LOG_DEBUG", "true", "false", "null", "~", "127.0.0.1@53",
             "::1#853", "- ", ": ", "---", "...", "&a", "*a", "!!str", "[",
             "]", "{", "}", "\"", "'", "|", ">", "#", "\\n  - ",
             "\"a\\0b\""]
    seen = set()
    with open(os.path.join(fuzzdir, "fuzz_config.dict"), "w") as f:
        f.write("# libFuzzer dictionary of fuzz_config: the key names of "
                "src/config.c and YAML\n# syntax.  Written by gen_corpus.py."
                "\n")
        for w in keys + words:
            if w in seen:
                continue
            seen.add(w)
            esc = w.replace("\\n", "\n").replace("\\", "\\\\") \
                   .replace("\"", "\\\"").replace("\n", "\\x0a")
            f.write('"%s"\n' % esc)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
