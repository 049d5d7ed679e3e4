#!/usr/bin/env python3
"""Check where a process sent packets, from `strace -f -e
trace=connect,sendto,sendmsg,sendmmsg -o FILE` output.

Usage: stracecheck.py FILE --upstream ADDR@PORT [--relay ADDR@PORT]...
                      [--client ADDR] [--forbid ADDR]...

Rules:
  connect() to an inet address: only the upstream (ADDR@PORT) or a relay.
      AF_UNIX, AF_NETLINK and AF_UNSPEC (disconnect) are listed, allowed.
  sendto()/sendmsg()/sendmmsg() with an inet destination: the upstream, a
      relay, the client address (replies to UDP clients), or another
      loopback address that is not --forbid and whose port is neither 53
      nor 853 (libunbound's own sockets, to which the relay replies).
  Anything outside 127.0.0.0/8 (or ::1) is a violation.
Prints every destination seen with its count, then the violations; exit 1
when there is a violation or no connect() to the upstream was seen.
"""

import re
import sys
from collections import Counter

CALL = re.compile(r"^(?:\[pid\s+)?(\d+)\]?\s+(connect|sendto|sendmsg|sendmmsg)\((.*)$")
INET = re.compile(r'sa_family=AF_INET, sin_port=htons\((\d+)\), '
                  r'sin_addr=inet_addr\("([0-9.]+)"\)')
INET6 = re.compile(r'sa_family=AF_INET6, sin6_port=htons\((\d+)\),.*?'
                   r'inet_pton\(AF_INET6, "([^"]+)"')
FAMILY = re.compile(r"sa_family=(AF_[A-Z0-9]+)")


def loopback(ip):
    return ip.startswith("127.") or ip == "::1"


def pair(text):
    addr, _, port = text.rpartition("@")
    return addr, int(port)


def main(argv):
    path = argv[1]
    upstream, relays, client, forbid = None, set(), None, set()
    i = 2
    while i < len(argv):
        opt, val = argv[i], argv[i + 1]
        if opt == "--upstream":
            upstream = pair(val)
        elif opt == "--relay":
            relays.add(pair(val))
        elif opt == "--client":
            client = val
        elif opt == "--forbid":
            forbid.add(val)
        else:
            sys.stderr.write(__doc__)
            return 2
        i += 2
    relay_ips = {a for a, _ in relays}
    seen, bad = Counter(), []
    upstream_connects = 0
    with open(path, errors="replace") as f:
        for line in f:
            m = CALL.match(line.strip())
            if not m:
                continue
            call, rest = m.group(2), m.group(3)
            dests = [(a, int(p)) for p, a in INET.findall(rest)]
            dests += [(a, int(p)) for p, a in INET6.findall(rest)]
            fams = FAMILY.findall(rest)
            if not dests:
                for fam in fams:
                    seen["%s %s" % (call, fam)] += 1
                continue
            for d in dests:
                if d[0] == client and call != "connect":
                    seen["%s %s@* (client)" % (call, d[0])] += 1
                elif d[0] in relay_ips and d not in relays \
                        and call != "connect":
                    seen["%s %s@* (relay address, libunbound's sockets)"
                         % (call, d[0])] += 1
                else:
                    seen["%s %s@%d" % (call, d[0], d[1])] += 1
                ok = False
                if d == upstream:
                    ok = True
                    if call == "connect":
                        upstream_connects += 1
                elif d in relays:
                    ok = True
                elif call != "connect" and loopback(d[0]):
                    if d[0] == client:
                        ok = True
                    elif d[0] in forbid:
                        ok = False
                    elif d[1] in (53, 853):
                        ok = False
                    else:
                        ok = True
                if not ok:
                    bad.append("%s to %s@%d: %s" % (call, d[0], d[1],
                                                    line.strip()[:300]))
    print("destinations seen (call, address@port, count):")
    for k, n in sorted(seen.items()):
        print("  %-60s %d" % (k, n))
    print("relays: %s" % ", ".join("%s@%d" % r for r in sorted(relays)))
    status = 0
    if upstream_connects == 0:
        print("VIOLATION: no connect() to the upstream %s@%d was seen"
              % upstream)
        status = 1
    for b in bad:
        print("VIOLATION: " + b)
        status = 1
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
