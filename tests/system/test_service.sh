#!/bin/bash
# test_service.sh -- running dotsecd as a service: access control (allowed
# and refused clients from two loopback addresses, over UDP and TCP, and
# the silent variant), the per-client rate limit (counted), SIGUSR1's
# stats line, the query log, and SIGTERM's drain: queries in flight on a
# TCP connection are still answered before dotsecd exits 0.
#
# Run: DOTSECD=/path/to/dotsecd bash tests/system/test_service.sh
set -eu
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

ds_init
ds_require_dotsecd
ds_require kill python3 ss
world_start
T=$WORLD_TLD
good=$WORLD_NET.70
bad=$WORLD_NET.71

# q SOURCE ARGS...: dig from SOURCE to dotsecd; output in DS_OUT.
q() {
	local src=$1
	shift
	DS_OUT=$(dig +time=2 +tries=1 -b "$src" @"$DS_ADDR" -p "$DS_PORT" \
		"$@" 2>&1) || true
}

# --- access control
# lib.sh's readiness check comes from $WORLD_CLIENT_ADDR.
ds_dotsecd_start extra="access_control:
  - $WORLD_CLIENT_ADDR
  - $good/32
query_log: $WORLD_DIR/queries.log"
ds_case "access_control: an allowed client is answered (UDP)"
q "$good" +dnssec "www.sec8.$T" A
[[ $DS_OUT == *"status: NOERROR"* ]] || ds_fail "no NOERROR"
ds_case "access_control: another client gets REFUSED with EDE 18 (UDP)"
q "$bad" +dnssec "www.sec8.$T" A
[[ $DS_OUT == *"status: REFUSED"* ]] || ds_fail "no REFUSED"
[[ $DS_OUT == *"EDE: 18"* ]] || ds_fail "no EDE 18 (Prohibited)"
ds_case "access_control: an allowed client is answered (TCP)"
q "$good" +tcp "www.sec8.$T" A
[[ $DS_OUT == *"status: NOERROR"* ]] || ds_fail "no NOERROR"
ds_case "access_control: another client's TCP connection is closed"
q "$bad" +tcp "www.sec8.$T" A
[[ $DS_OUT != *"status:"* ]] || ds_fail "answered over TCP"

ds_case "query log: one line per answered query, with verdict and cache"
sleep 0.2
DS_OUT=$(cat "$WORLD_DIR/queries.log" 2>&1)
n=$(grep -c "www.sec8.$T." "$WORLD_DIR/queries.log" || true)
[ "$n" -ge 3 ] || ds_fail "$n lines for www.sec8.$T"
grep -q "$good@[0-9]* udp www.sec8.$T. 1 rcode=0 verdict=secure" \
	"$WORLD_DIR/queries.log" || ds_fail "no secure line for $good"
grep -q "cache=hit" "$WORLD_DIR/queries.log" || ds_fail "no cache hit"
grep -q "$bad@[0-9]* udp www.sec8.$T. 1 rcode=5" "$WORLD_DIR/queries.log" ||
	ds_fail "the refused query is not logged"

ds_case "SIGUSR1 logs a stats line with the refusals counted"
kill -USR1 "$DS_PID"
sleep 0.3
DS_OUT=$(grep 'stats: ' "$DS_STDERR" || true)
[ -n "$DS_OUT" ] || ds_fail "no stats line"
n=$(sed -n 's/.*acl \([0-9]*\).*/\1/p' <<<"$DS_OUT")
[ "${n:-0}" -ge 2 ] || ds_fail "the refusals are not counted (${n:-none})"
ds_dotsecd_stop

# --- access_control_drop: silence over UDP
ds_dotsecd_start extra="access_control:
  - $WORLD_CLIENT_ADDR
  - $good/32
access_control_drop: 1"
ds_case "access_control_drop: another client gets no answer over UDP"
q "$bad" "www.sec8.$T" A
[[ $DS_OUT == *"timed out"* ]] || ds_fail "answered"
ds_dotsecd_stop

# --- rate limit: 5 qps per client, a burst of 40 from one client
ds_dotsecd_start extra="access_control:
  - $WORLD_NET.0/24
ratelimit_qps: 5"
q "$good" "www.sec8.$T" A
burst() {
	python3 - "$DS_ADDR" "$DS_PORT" "$1" "$2" <<'PY'
import socket, struct, sys, time
addr, port, src, count = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((src, 0))
name = b"".join(bytes([len(l)]) + l for l in b"www.sec8.example".split(b".")) + b"\0"
for i in range(count):
    s.sendto(struct.pack(">HHHHHH", i, 0x0100, 1, 0, 0, 0) + name + b"\0\x01\0\x01", (addr, port))
s.settimeout(1.0)
got = {}
try:
    while True:
        d = s.recv(4096)
        got[struct.unpack(">H", d[:2])[0]] = d[3] & 0xf
except socket.timeout:
    pass
print(len(got), sum(1 for r in got.values() if r == 5))
PY
}
ds_case "ratelimit_qps 5: a burst of 40 from one client is cut to about 5"
read -r answered refused < <(burst "$good" 40)
DS_OUT="answered $answered, refused $refused"
if [ "$answered" -lt 4 ] || [ "$answered" -gt 8 ]; then
	ds_fail "answered $answered of 40"
fi
ds_case "ratelimit: another client is not affected"
q "$bad" "www.sec8.$T" A
[[ $DS_OUT == *"status: NOERROR"* ]] || ds_fail "not answered"
ds_case "ratelimit: the drops are counted"
kill -USR1 "$DS_PID"
sleep 0.3
DS_OUT=$(grep 'stats: ' "$DS_STDERR" | tail -n 1)
n=$(sed -n 's/.*ratelimited \([0-9]*\).*/\1/p' <<<"$DS_OUT")
[ "${n:-0}" -ge 30 ] || ds_fail "ratelimited count ${n:-none}"
ds_dotsecd_stop

# --- metrics and health
maddr=$WORLD_DOTSECD_ADDR@9153
ds_dotsecd_start extra="metrics_address: $maddr
health_max_age: 2"
# get PATH: "STATUS BODY" of http://WORLD_DOTSECD_ADDR:9153/PATH
get() {
	python3 - "http://$WORLD_DOTSECD_ADDR:9153/$1" <<'PY'
import sys, urllib.error, urllib.request
try:
    r = urllib.request.urlopen(sys.argv[1], timeout=5)
    print(r.status, r.read().decode())
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode())
PY
}
metric() { awk -v m="$1" '$1 == m { print $2 }' <<<"$2"; }
q "$WORLD_CLIENT_ADDR" +dnssec "www.sec8.$T" A
ds_case "/metrics: Prometheus text, counters as sent"
DS_OUT=$(get metrics)
before=$(metric 'dotsec_queries_total{transport="udp"}' "$DS_OUT")
[[ $DS_OUT == "200 "* ]] || ds_fail "status not 200"
grep -q '^# TYPE dotsec_queries_total counter' <<<"$DS_OUT" ||
	ds_fail "no TYPE line"
[ "${before:-0}" -ge 1 ] || ds_fail "udp queries: ${before:-none}"
for i in 1 2 3; do q "$WORLD_CLIENT_ADDR" "www.sec13.$T" A; done
ds_case "/metrics: the counters move with the queries"
DS_OUT=$(get metrics)
after=$(metric 'dotsec_queries_total{transport="udp"}' "$DS_OUT")
[ "${after:-0}" -ge $((before + 3)) ] ||
	ds_fail "udp queries $before -> ${after:-none}"
secure=$(metric 'dotsec_validation_total{verdict="secure"}' "$DS_OUT")
[ "${secure:-0}" -ge 2 ] || ds_fail "secure verdicts: ${secure:-none}"
grep -q '^dotsec_upstream_latency_seconds_count [1-9]' <<<"$DS_OUT" ||
	ds_fail "no upstream latency recorded"
hs=$(metric "dotsec_upstream_tls_handshakes_total{upstream=\"$WORLD_UPSTREAM_ADDR@853\"}" "$DS_OUT")
[ "${hs:-0}" -ge 1 ] || ds_fail "TLS handshakes to the upstream: ${hs:-none}"
grep -q '^dotsec_cache_size_bytes [1-9]' <<<"$DS_OUT" ||
	ds_fail "no cache size"
ds_case "/healthz: 200 while the upstream answers"
DS_OUT=$(get healthz)
[[ $DS_OUT == "200 "* ]] || ds_fail "not 200"
upid=$(world_upstream_pid 1)
kill -STOP "$upid"
sleep 3
ds_case "/healthz: 503 with a reason once the upstream is silent"
q "$WORLD_CLIENT_ADDR" "www.sec15.$T" A
DS_OUT=$(get healthz)
[[ $DS_OUT == "503 "*reason* ]] || ds_fail "not 503 with a reason"
kill -CONT "$upid"
sleep 0.5
q "$WORLD_CLIENT_ADDR" "nx.sec15.$T" A
ds_case "/healthz: back to 200 when the upstream answers again"
DS_OUT=$(get healthz)
[[ $DS_OUT == "200 "* ]] || ds_fail "not 200"
# An idle node stays healthy: with no client query for twice
# health_max_age, dotsecd asks the upstream itself (the root's NS set).
ns0=$(world_upstream_count . NS)
sleep 4.5
ds_case "/healthz: still 200 on an idle node (health_max_age 2 s, 4.5 s idle)"
DS_OUT=$(get healthz)
[[ $DS_OUT == "200 "* ]] || ds_fail "not 200"
ds_case "/healthz: the idle node asked the upstream itself"
ns1=$(world_upstream_count . NS)
DS_OUT="upstream queries for . NS: $ns0 before, $ns1 after"
[ "$ns1" -gt "$ns0" ] || ds_fail "no probe reached the upstream"
ds_dotsecd_stop

# --- SIGHUP: switch upstreams under a query stream; a broken file is
# refused and the running configuration stays.
world_start_second_upstream
ds_dotsecd_start
stream=$WORLD_DIR/hup-stream.log
: >"$stream"
(
	i=0
	while [ ! -f "$WORLD_DIR/hup.stop" ] && [ $i -lt 400 ]; do
		# Unique names in an unsigned zone: every query needs the
		# upstream (no NSEC to synthesise wildcard answers from).
		out=$(dig +time=3 +tries=1 -b "$WORLD_CLIENT_ADDR" \
			@"$DS_ADDR" -p "$DS_PORT" "h$i.wild.insecure.$T" A 2>&1) || true
		st=$(sed -n 's/.*status: \([A-Z]*\).*/\1/p' <<<"$out" | head -n 1)
		printf '%s %s\n' "$i" "${st:-NONE}" >>"$stream"
		i=$((i + 1))
		sleep 0.05
	done
) &
spid=$!
sleep 1.5
up2_before=$(grep -c wild.insecure "$WORLD_UPSTREAM2_LOG" || true)
ds_dotsecd_conf "$DS_CONF" upstream="$WORLD_UPSTREAM2_ADDR"
kill -HUP "$DS_PID"
sleep 2
ds_case "SIGHUP: the new upstream takes the queries"
up2_after=$(grep -c wild.insecure "$WORLD_UPSTREAM2_LOG" || true)
DS_OUT="upstream 2 saw $up2_before then $up2_after queries"
[ "$up2_after" -gt "$up2_before" ] || ds_fail "upstream 2 got nothing"
grep -q 'reloaded' "$DS_STDERR" || ds_fail "no reload logged"
cp "$DS_CONF" "$WORLD_DIR/good-conf.yml"
printf 'upstream_recursive_servers: 17\nno_such_key: 1\n' >"$DS_CONF"
kill -HUP "$DS_PID"
sleep 1.5
touch "$WORLD_DIR/hup.stop"
wait "$spid" || true
ds_case "SIGHUP with a broken file: errors logged, the old configuration stays"
DS_OUT=$(grep -E 'reload|SIGHUP' "$DS_STDERR")
grep -q 'has errors; the running configuration stays' "$DS_STDERR" ||
	ds_fail "no refusal logged"
grep -q "reload: .*no_such_key" "$DS_STDERR" || ds_fail "errors not logged"
ds_case "no query failed during the reloads"
total=$(wc -l <"$stream")
ok=$(awk '$2 == "NOERROR"' "$stream" | wc -l)
DS_OUT="$ok of $total NOERROR; $(awk '$2 != "NOERROR"' "$stream" | head -n 5)"
[ "$total" -ge 20 ] || ds_fail "only $total queries"
[ "$ok" = "$total" ] || ds_fail "$((total - ok)) queries failed"
cp "$WORLD_DIR/good-conf.yml" "$DS_CONF"
ds_dotsecd_stop

# --- SIGHUP with a new cache_size: the answer cache is resized in place
# and keeps its answers; names asked before are answered without the
# upstream.
ds_dotsecd_start extra="cache_size: 33554432"
hup_names="www.sec13.$T www.sec8.$T nx.sec15.$T www.insecure.$T"
hup_query() {
	ds_dig "cache_size reload: $1 $2" +dnssec "$1" A
	case $1 in
	nx.*) ds_expect_rcode NXDOMAIN ;;
	*) ds_expect_rcode NOERROR ;;
	esac
}
for n in $hup_names; do hup_query "$n" before; done
world_upstream_settle
before=$(for n in $hup_names; do world_upstream_count "$n" A; done | tr '\n' ' ')
ds_dotsecd_conf "$DS_CONF" extra="cache_size: 16777216"
kill -HUP "$DS_PID"
ds_wait_stderr "the answer cache is kept" 50 || true
for n in $hup_names; do hup_query "$n" after; done
ds_dig "cache_size reload: secure answer still has AD" +dnssec "www.sec13.$T" A
ds_expect_flag ad
world_upstream_settle
after=$(for n in $hup_names; do world_upstream_count "$n" A; done | tr '\n' ' ')
ds_case "cache_size reload: answers kept, nothing new upstream"
DS_OUT="upstream queries per name before: $before; after: $after"
[ "$before" = "$after" ] || ds_fail "names were fetched again"
grep -q "the answer cache is kept" "$DS_STDERR" ||
	ds_fail "the reload of the cache settings was not logged"
ds_dotsecd_stop

# --- SIGTERM drain: queries in flight on TCP are answered first.  The
# upstream is a TLS server that never answers, so every query waits for
# dotsecd's own deadline (3 s); SIGTERM comes after 0.5 s.
tarpit=$WORLD_NET.72
python3 - "$tarpit" "$WORLD_DIR/tls/good.pem" "$WORLD_DIR/tls/good.key" \
	>"$WORLD_DIR/tarpit.log" 2>&1 <<'PY' &
import socket, ssl, sys, threading, time
addr, cert, key = sys.argv[1:4]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((addr, 853))
ls.listen(16)
ls.settimeout(1)
conns = []
end = time.time() + 60
while time.time() < end:
    try:
        c, _ = ls.accept()
    except socket.timeout:
        continue
    try:
        conns.append(ctx.wrap_socket(c, server_side=True))
        print("tls up", flush=True)
    except Exception as e:
        print("tls failed", e, flush=True)
PY
world_register_pid $!
for _ in $(seq 1 50); do ss -ltn | grep -q "$tarpit:853" && break; sleep 0.1; done
ds_dotsecd_start upstream="$tarpit" timeout=3000
ds_case "SIGTERM: in-flight TCP queries are answered, then exit 0"
out=$WORLD_DIR/drain.out
# Three queries pipelined on one connection, then wait for the answers.
python3 - "$DS_ADDR" "$DS_PORT" "$T" "$WORLD_DIR/drain.sent" >"$out" 2>&1 <<'PY' &
import socket, struct, sys, time
addr, port, tld = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def q(i, name):
    wire = b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0"
    m = struct.pack(">HHHHHH", i, 0x0100, 1, 0, 0, 0) + wire + b"\0\x01\0\x01"
    return struct.pack(">H", len(m)) + m
s = socket.create_connection((addr, port), timeout=10)
s.sendall(b"".join(q(i, "a%d.sec8.%s" % (i, tld)) for i in (1, 2, 3)))
open(sys.argv[4], "w").close()  # tell the script the queries are out
buf, got = b"", {}
end = time.time() + 10
while len(got) < 3 and time.time() < end:
    d = s.recv(4096)
    if not d:
        break
    buf += d
    while len(buf) >= 2 and len(buf) >= 2 + struct.unpack(">H", buf[:2])[0]:
        n = struct.unpack(">H", buf[:2])[0]
        m, buf = buf[2:2 + n], buf[2 + n:]
        got[struct.unpack(">H", m[:2])[0]] = m[3] & 0xf
print("answers", len(got), "servfail", sum(1 for r in got.values() if r == 2))
PY
kpid=$!
# In flight: dotsecd has taken all three and sent them towards the
# upstream (its debug log says so).
for _ in $(seq 1 100); do
	[ "$(grep -c 'relay: a[123]\.sec8' "$DS_STDERR")" -ge 3 ] && break
	sleep 0.05
done
kill -TERM "$DS_PID"
wait "$kpid" || true
DS_OUT=$(cat "$out")
[[ $DS_OUT == *"answers 3 servfail 3"* ]] ||
	ds_fail "not every query in flight was answered (SERVFAIL expected)"
rc=0
for _ in $(seq 1 100); do kill -0 "$DS_PID" 2>/dev/null || break; sleep 0.1; done
wait "$DS_PID" || rc=$?
[ "$rc" = 0 ] || ds_fail "exit status $rc"
grep -q 'answering those in flight' "$DS_STDERR" || ds_fail "no drain logged"
DS_PID=""

ds_finish
