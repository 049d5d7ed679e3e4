#!/usr/bin/env python3
"""Check where a process sent packets, from `strace -f -e
trace=connect,sendto,sendmsg,sendmmsg -o FILE` output (other calls in the
trace are ignored); or, with --nodelay, that every socket connected to the
upstream got TCP_NODELAY.

Usage: stracecheck.py FILE --upstream ADDR@PORT [--relay ADDR@PORT]...
                      [--client ADDR] [--forbid ADDR]...
       stracecheck.py FILE --upstream ADDR@PORT --nodelay

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

--nodelay (trace connect,setsockopt,close at least): for every connect()
to the upstream on descriptor N, the same socket -- the calls on N between
the close(N) before that connect() and the close(N) after it (or the ends
of the trace) -- must have a successful
setsockopt(N, SOL_TCP, TCP_NODELAY, [1], 4), and no later one setting 0.
Descriptors are matched across threads (one descriptor table: dotsecd
runs threads, not processes); "<unfinished ...>" calls are joined with
their "<... resumed>" ends.  Exit 1 when a connection lacks it or no
connect() to the upstream was seen.
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
PID = re.compile(r"^(?:\[pid\s+)?(\d+)\]?\s+(.*)$")
RESUMED = re.compile(r"^<\.\.\. [a-z0-9_]+ resumed>(.*)$")
CONNECT_FD = re.compile(r"^connect\((\d+), (.*)$")
CLOSE_FD = re.compile(r"^close\((\d+)")
NODELAY = re.compile(r"^setsockopt\((\d+), (?:SOL_TCP|IPPROTO_TCP), "
                     r"TCP_NODELAY, \[(\d+)\], 4\)\s+=\s+(-?\d+)")


def loopback(ip):
    return ip.startswith("127.") or ip == "::1"


def pair(text):
    addr, _, port = text.rpartition("@")
    return addr, int(port)


def calls(path):
    """(line number, complete call text) of every call, in order; an
    "<unfinished ...>" call is yielded when its "<... resumed>" end
    arrives (at the line of the end)."""
    pending = {}
    with open(path, errors="replace") as f:
        for n, line in enumerate(f, 1):
            m = PID.match(line.strip())
            if not m:
                continue
            tid, text = m.group(1), m.group(2)
            r = RESUMED.match(text)
            if r:
                if tid in pending:
                    yield n, pending.pop(tid) + r.group(1)
                continue
            if text.endswith("<unfinished ...>"):
                pending[tid] = text[:-len("<unfinished ...>")].rstrip()
                continue
            yield n, text
    for text in pending.values():
        yield 0, text


def check_nodelay(path, upstream):
    """Every socket connected to the upstream got TCP_NODELAY=1."""
    sockets = {}    # fd -> the open socket's connects and nodelay calls
    done = []

    def current(fd):
        return sockets.setdefault(fd, {"fd": fd, "connect": [],
                                       "nodelay": [], "close": None})

    for n, text in calls(path):
        m = CONNECT_FD.match(text)
        if m:
            fd = m.group(1)
            for p, a in INET.findall(m.group(2)):
                if (a, int(p)) == upstream:
                    current(fd)["connect"].append(n)
            continue
        m = NODELAY.match(text)
        if m:
            if m.group(3) == "0":
                current(m.group(1))["nodelay"].append((n, m.group(2)))
            continue
        m = CLOSE_FD.match(text)
        if m and m.group(1) in sockets:
            sockets[m.group(1)]["close"] = n
            done.append(sockets.pop(m.group(1)))
    done += sockets.values()
    status, seen = 0, 0
    for sock in done:
        if not sock["connect"]:
            continue
        seen += 1
        where = "fd %s, connect() to %s@%d at line %s, %s" % (
            sock["fd"], upstream[0], upstream[1],
            ",".join(str(c) for c in sock["connect"]),
            "close at line %d" % sock["close"] if sock["close"]
            else "not closed in the trace")
        if sock["nodelay"] and sock["nodelay"][-1][1] != "0":
            lines = [str(x[0]) for x in sock["nodelay"]]
            print("ok: %s: setsockopt TCP_NODELAY [1] x%d, first at line %s"
                  % (where, len(lines), lines[0]))
        elif sock["nodelay"]:
            print("VIOLATION: %s: TCP_NODELAY last set to 0 (line %d)"
                  % (where, sock["nodelay"][-1][0]))
            status = 1
        else:
            print("VIOLATION: %s: no setsockopt(%s, SOL_TCP, TCP_NODELAY, "
                  "[1], 4) = 0 on that socket" % (where, sock["fd"]))
            status = 1
    if seen == 0:
        print("VIOLATION: no connect() to the upstream %s@%d was seen"
              % upstream)
        status = 1
    return status


def main(argv):
    path = argv[1]
    upstream, relays, client, forbid = None, set(), None, set()
    nodelay = False
    i = 2
    while i < len(argv):
        if argv[i] == "--nodelay":
            nodelay = True
            i += 1
            continue
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
    if upstream is None:
        sys.stderr.write(__doc__)
        return 2
    if nodelay:
        return check_nodelay(path, upstream)
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
