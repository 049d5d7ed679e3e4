#!/bin/bash
# test_dot.sh -- the DNS-over-TLS listener (listen_tls_addresses,
# src/tlsserve.c, RFC 7858 and RFC 8310 on the clients' side):
#  - a service key that other users can read: dotsecd -t and the start
#    refuse it, naming the file;
#  - kdig +tls with the test CA and the service name gets AD answers, and a
#    wrong name is refused by kdig; ALPN "dot"; TLS 1.2 and 1.3; a session
#    ticket resumes (openssl s_client -sess_out / -sess_in);
#  - pipelined queries on one connection (tests/system/dotclient.py) all
#    come back, with the rcodes of UDP; padded queries get replies padded
#    to 468-byte blocks (RFC 8467) and the others none; the TCP keepalive
#    option (RFC 7828) when asked for, with the idle timeout;
#  - hostile clients: a TCP connection that never says hello is closed at
#    tls_handshake_timeout, garbage instead of a ClientHello is closed, a
#    client that never reads its answers; others are served meanwhile;
#  - rotation: new files and SIGHUP: a new connection sees the new
#    certificate's serial, a connection opened before keeps working; a
#    key that does not match its certificate leaves the pair in force,
#    with a log line that says why;
#  - tls_client_ca: no client certificate, an expired one, or one from
#    another CA gets no answer; the right one gets AD answers;
#  - access_control names identities: cn:CLIENT2.test refused (REFUSED and
#    EDE 18, for kdig too) while dns:client1.test is served; the query log
#    and the stats name them;
#  - dotsecd stops cleanly.
#
# Run: DOTSECD=/path/to/dotsecd bash tests/system/test_dot.sh
set -eu
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

ds_init
ds_require_dotsecd
ds_require kdig openssl python3
world_start

T=$WORLD_TLD
D=$WORLD_DIR/dot
mkdir -p "$D"
PY="python3 $(dirname "$0")/dotclient.py"
NAME=dot.test
DOT_PORT=8853

# leaf NAME CN CA SERIAL EKU [DAYS]: $D/NAME.{pem,key}, signed by the CA
# whose files are CA.pem and CA.key (a path without the suffix).
leaf() {
	local n=$1 cn=$2 ca=$3 serial=$4 eku=$5 days=${6:-30}
	printf 'subjectAltName=DNS:%s,URI:urn:dotsec:%s\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=%s\n' \
		"$cn" "$n" "$eku" >"$D/$n.ext"
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$D/$n.key" -out "$D/$n.csr" -subj "/CN=$cn" 2>/dev/null
	openssl x509 -req -in "$D/$n.csr" -CA "$ca.pem" -CAkey "$ca.key" \
		-set_serial "$serial" -days "$days" -extfile "$D/$n.ext" \
		-out "$D/$n.pem" 2>/dev/null
	chmod 600 "$D/$n.key"
}

# ca NAME: a self-signed CA, $D/NAME.{pem,key}.
ca() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$D/$1.key" -out "$D/$1.pem" -days 30 -subj "/CN=dotsec $1" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}

WCA=${WORLD_CA_FILE%.pem}
leaf svc1 "$NAME" "$WCA" 4097 serverAuth
leaf svc2 "$NAME" "$WCA" 4098 serverAuth
ca clients
ca others
leaf client1 client1.test "$D/clients" 8193 clientAuth
leaf client2 client2.test "$D/clients" 8194 clientAuth
leaf stranger client1.test "$D/others" 8195 clientAuth
leaf expired client1.test "$D/clients" 8196 clientAuth -1
cp "$D/svc1.pem" "$D/service.pem"
cp "$D/svc1.key" "$D/service.key"

dot_extra() {
	printf 'listen_tls_addresses:\n  - %s@%s\n' "$WORLD_DOTSECD_ADDR" "$DOT_PORT"
	printf 'tls_service_pem: "%s"\ntls_service_key: "%s"\n' \
		"$D/service.pem" "$D/service.key"
	printf 'tls_handshake_timeout: 1000\n'
	printf '%s\n' "$@"
}

# dotc ARGS...: dotclient.py against dotsecd's DoT port; output in DS_OUT,
# status in DC_RC.
dotc() {
	DC_RC=0
	DS_OUT=$($PY --ca "$WORLD_CA_FILE" --hostname "$NAME" \
		--source "$WORLD_CLIENT_ADDR" "$@" 2>&1) || DC_RC=$?
}
answers() { printf '%s\n' "$DS_OUT" | grep -c '^answer ' || true; }

# ---------------------------------------------------------------- the key

ds_case "a service key readable by others: dotsecd -t refuses it, naming it"
chmod 644 "$D/service.key"
ds_dotsecd_conf "$D/mode.yml" extra="$(dot_extra)"
rc=0
DS_OUT=$("$DOTSECD" -t -c "$D/mode.yml" 2>&1) || rc=$?
[ "$rc" != 0 ] || ds_fail "dotsecd -t accepted it"
printf '%s\n' "$DS_OUT" | grep -q "service.key can be read by other users" ||
	ds_fail "no message naming the key"

ds_case "a service key readable by others: the daemon does not start"
rc=0
DS_OUT=$(timeout 10 "$DOTSECD" -c "$D/mode.yml" 2>&1) || rc=$?
[ "$rc" != 0 ] && [ "$rc" != 124 ] || ds_fail "status $rc"
printf '%s\n' "$DS_OUT" | grep -q "can be read by other users" ||
	ds_fail "no message naming the key"
chmod 600 "$D/service.key"

# ---------------------------------------------------------------- serving

ds_dotsecd_start extra="$(dot_extra)"
ds_wait_stderr "listening on .*@$DOT_PORT (dot, certificate serial 1001)" 50 ||
	ds_die "no 'listening ... (dot ...)' line"

ds_case "kdig +tls with the CA and the name: NOERROR with AD"
DS_OUT=$(kdig -b "$WORLD_CLIENT_ADDR" @"$WORLD_DOTSECD_ADDR" -p "$DOT_PORT" \
	+tls-ca="$WORLD_CA_FILE" +tls-hostname="$NAME" +dnssec +time=5 \
	+retry=0 "www.sec13.$T" A 2>&1) || true
printf '%s\n' "$DS_OUT" | grep -q 'status: NOERROR' || ds_fail "not NOERROR"
printf '%s\n' "$DS_OUT" | grep -q '^;; Flags:.* ad' || ds_fail "no AD"
printf '%s\n' "$DS_OUT" | grep -q '^;; TLS session' || ds_fail "not over TLS"

ds_case "kdig +tls with a wrong name: kdig refuses the certificate"
DS_OUT=$(kdig -b "$WORLD_CLIENT_ADDR" @"$WORLD_DOTSECD_ADDR" -p "$DOT_PORT" \
	+tls-ca="$WORLD_CA_FILE" +tls-hostname=wrong.test +time=3 +retry=0 \
	"www.sec13.$T" A 2>&1) || true
! printf '%s\n' "$DS_OUT" | grep -q 'status: NOERROR' ||
	ds_fail "answered though the name does not match"

ds_case "ALPN dot, and a session ticket resumes (openssl s_client)"
S_CLIENT=(openssl s_client -connect "$WORLD_DOTSECD_ADDR:$DOT_PORT"
	-CAfile "$WORLD_CA_FILE" -verify_hostname "$NAME" -verify_return_error
	-alpn dot -ign_eof)
DS_OUT=$( (sleep 1) | "${S_CLIENT[@]}" -sess_out "$D/sess" 2>&1) || true
printf '%s\n' "$DS_OUT" | grep -q '^ALPN protocol: dot' || ds_fail "no ALPN dot"
printf '%s\n' "$DS_OUT" | grep -q 'Verification: OK' || ds_fail "not verified"
DS_OUT=$( (sleep 1) | "${S_CLIENT[@]}" -sess_in "$D/sess" 2>&1) || true
printf '%s\n' "$DS_OUT" | grep -q '^Reused, TLSv1.3' || ds_fail "not resumed"

ds_case "TLS 1.2: answered"
dotc --tls12 --do "$WORLD_DOTSECD_ADDR" "$DOT_PORT" "www.sec13.$T/A"
printf '%s\n' "$DS_OUT" | grep -q '^tls TLSv1.2 alpn=dot' || ds_fail "not TLS 1.2"
printf '%s\n' "$DS_OUT" | grep -q "^answer .* NOERROR ad" || ds_fail "no AD answer"

ds_case "12 pipelined queries on one connection: all answered, as over UDP"
Q=()
for i in 1 2 3 4 5 6 7 8; do Q+=("p$i.wild.sec13.$T/A"); done
Q+=("www.sec13.$T/A" "www.badsig.$T/A" "nx.sec13.$T/A" "www.sec8.$T/TXT")
dotc --do "$WORLD_DOTSECD_ADDR" "$DOT_PORT" "${Q[@]}"
[ "$DC_RC" = 0 ] && [ "$(answers)" = 12 ] || ds_fail "status $DC_RC, $(answers) answers"
printf '%s\n' "$DS_OUT" | grep -q "^answer [0-9]* www.badsig.$T A SERVFAIL" ||
	ds_fail "www.badsig not SERVFAIL"
printf '%s\n' "$DS_OUT" | grep -q "^answer [0-9]* nx.sec13.$T A NXDOMAIN ad" ||
	ds_fail "nx.sec13 not NXDOMAIN with AD"
[ "$(printf '%s\n' "$DS_OUT" | grep -c "^answer [0-9]* p[0-9].wild.sec13.$T A NOERROR ad")" = 8 ] ||
	ds_fail "not every wildcard name NOERROR with AD"

ds_case "padded queries: every reply padded to a multiple of 468 bytes"
dotc --do --pad "$WORLD_DOTSECD_ADDR" "$DOT_PORT" "${Q[@]}"
[ "$(answers)" = 12 ] || ds_fail "$(answers) answers"
bad=$(printf '%s\n' "$DS_OUT" | awk '/^answer / { split($7, l, "="); split($8, p, "=");
	if (p[2] == "-" || l[2] % 468 != 0) n++ } END { print n + 0 }')
[ "$bad" = 0 ] || ds_fail "$bad replies not padded to 468"

ds_case "queries not padded: replies not padded; keepalive only when asked"
dotc --do "$WORLD_DOTSECD_ADDR" "$DOT_PORT" "www.sec13.$T/A"
printf '%s\n' "$DS_OUT" | grep -q '^answer .* pad=- keepalive=-$' ||
	ds_fail "padding or keepalive without being asked"
dotc --do --keepalive "$WORLD_DOTSECD_ADDR" "$DOT_PORT" "www.sec13.$T/A"
# tcp_idle_timeout 10000 ms, in units of 100 ms.
printf '%s\n' "$DS_OUT" | grep -q '^answer .* keepalive=100$' ||
	ds_fail "no keepalive of 100 (10 s)"

# ---------------------------------------------------------------- hostile

ds_case "hostile: no hello closed at the handshake timeout, garbage closed, a non-reader; others served"
DS_OUT=$(python3 - "$WORLD_DOTSECD_ADDR" "$DOT_PORT" "$WORLD_CLIENT_ADDR" <<'EOF' 2>&1
import socket, ssl, struct, sys, time
addr, port, src = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def conn():
    s = socket.create_connection((addr, port), timeout=10, source_address=(src, 0))
    return s
# 1. silent: closed after about 1 s (tls_handshake_timeout 1000).
s = conn(); t = time.monotonic()
try:
    got = s.recv(100)
except OSError as e:
    got = b""
dt = time.monotonic() - t
print("silent closed after %.1f s, got %d bytes" % (dt, len(got)))
if got or not 0.8 <= dt <= 3.0:
    print("FAIL silent")
# 2. garbage: an HTTP request instead of a ClientHello.
s = conn(); s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
t = time.monotonic()
try:
    while s.recv(4096):
        pass
except OSError:
    pass
dt = time.monotonic() - t
print("garbage closed after %.1f s" % dt)
if dt > 0.8:
    print("FAIL garbage")
EOF
) || true
printf '%s\n' "$DS_OUT" | grep -q FAIL && ds_fail "see output"
printf '%s\n' "$DS_OUT" | grep -q "garbage closed" || ds_fail "the script did not finish"

ds_case "hostile: a client that never reads 3000 answers; another is served meanwhile"
python3 - "$WORLD_DOTSECD_ADDR" "$DOT_PORT" "$WORLD_CLIENT_ADDR" "$WORLD_CA_FILE" "$NAME" "$T" <<'EOF' >"$D/nonreader.out" 2>&1 &
import socket, ssl, struct, sys, time
addr, port, src, ca, name, tld = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
ctx = ssl.create_default_context(cafile=ca)
s = ctx.wrap_socket(socket.create_connection((addr, port), timeout=10, source_address=(src, 0)), server_hostname=name)
q = b""
for i in range(3000):
    qn = b"".join(bytes([len(l)]) + l.encode() for l in ("www.sec13." + tld).split(".")) + b"\0"
    pkt = struct.pack("!HHHHHH", i, 0x0100, 1, 0, 0, 1) + qn + struct.pack("!HH", 16, 1) + b"\0" + struct.pack("!HHIH", 41, 4096, 0x8000, 0)
    q += struct.pack("!H", len(pkt)) + pkt
try:
    s.sendall(q)
except OSError as e:
    print("send stopped: %s" % e)
print("sent")
sys.stdout.flush()
time.sleep(8)
EOF
NR=$!
sleep 2
dotc --do "$WORLD_DOTSECD_ADDR" "$DOT_PORT" "www.sec13.$T/A" "www.sec8.$T/A"
[ "$(answers)" = 2 ] || ds_fail "the other client got $(answers) answers"
kill -0 "$DS_PID" 2>/dev/null || ds_fail "dotsecd died"
kill "$NR" 2>/dev/null || true
wait "$NR" 2>/dev/null || true

# ---------------------------------------------------------------- rotation

ds_case "rotation: a connection opened before SIGHUP; new files; a new connection sees serial 1002"
rm -f "$D/go"
$PY --ca "$WORLD_CA_FILE" --hostname "$NAME" --source "$WORLD_CLIENT_ADDR" \
	--do --hold "$D/go" --timeout 10 "$WORLD_DOTSECD_ADDR" "$DOT_PORT" \
	"www.sec13.$T/A" >"$D/held.out" 2>&1 &
HELD=$!
i=0
until grep -q '^answer' "$D/held.out" || [ $i -ge 50 ]; do sleep 0.1; i=$((i + 1)); done
grep -q '^answer .* NOERROR ad' "$D/held.out" || ds_fail "the first connection got no answer"
cp "$D/svc2.pem" "$D/service.pem.new" && mv "$D/service.pem.new" "$D/service.pem"
cp "$D/svc2.key" "$D/service.key.new" && mv "$D/service.key.new" "$D/service.key"
kill -HUP "$DS_PID"
ds_wait_stderr "reload: dot: certificate serial 1002" 50 ||
	ds_fail "no 'reload: dot: certificate serial 1002' line"
dotc --do "$WORLD_DOTSECD_ADDR" "$DOT_PORT" "www.sec13.$T/A"
printf '%s\n' "$DS_OUT" | grep -q '^tls .* serial=1002$' || ds_fail "new connection: $(printf '%s\n' "$DS_OUT" | head -n 1)"
[ "$(answers)" = 1 ] || ds_fail "new connection: no answer"

ds_case "rotation: the connection opened before SIGHUP still answers, on serial 1001"
touch "$D/go"
rc=0
wait "$HELD" || rc=$?
DS_OUT=$(cat "$D/held.out")
[ "$rc" = 0 ] && [ "$(answers)" = 2 ] || ds_fail "status $rc, $(answers) answers"
grep -q '^tls .* serial=1001$' "$D/held.out" || ds_fail "not the old certificate"

ds_case "rotation: a key that does not match its certificate is refused; serial 1002 stays"
cp "$D/svc1.pem" "$D/service.pem"
kill -HUP "$DS_PID"
ds_wait_stderr "is not the key of the certificate in .*service.pem; the certificate in force (serial 1002) stays" 50 ||
	ds_fail "no log line saying why"
dotc --do "$WORLD_DOTSECD_ADDR" "$DOT_PORT" "www.sec13.$T/A"
printf '%s\n' "$DS_OUT" | grep -q '^tls .* serial=1002$' || ds_fail "$(printf '%s\n' "$DS_OUT" | head -n 1)"
[ "$(answers)" = 1 ] || ds_fail "no answer"
cp "$D/svc2.pem" "$D/service.pem"

ds_dotsecd_stop

# ---------------------------------------------------------------- clients

CTL=${DOTSEC_CONTROL:-$(dirname "$DOTSECD")/dotsec-control}
[ -x "$CTL" ] || ds_die "dotsec-control not found at $CTL (set DOTSEC_CONTROL)"
ds_dotsecd_start extra="$(dot_extra "tls_client_ca: \"$D/clients.pem\"" \
	"query_log: \"$D/queries.log\"" \
	'access_control:' "  - $WORLD_CLIENT_ADDR/32" \
	'  - "cn:CLIENT2.test refuse"' '  - "dns:client1.test allow"')"
ds_wait_stderr "client certificates required" 50 ||
	ds_die "no 'client certificates required' line"

for who in none stranger expired; do
	ds_case "tls_client_ca: client certificate '$who': no answer"
	if [ "$who" = none ]; then
		dotc --do "$WORLD_DOTSECD_ADDR" "$DOT_PORT" "www.sec13.$T/A"
	else
		dotc --do --cert "$D/$who.pem" --key "$D/$who.key" \
			"$WORLD_DOTSECD_ADDR" "$DOT_PORT" "www.sec13.$T/A"
	fi
	[ "$DC_RC" != 0 ] && [ "$(answers)" = 0 ] || ds_fail "answered (status $DC_RC)"
done

ds_case "tls_client_ca: the right client certificate gets AD answers"
dotc --do --cert "$D/client1.pem" --key "$D/client1.key" \
	"$WORLD_DOTSECD_ADDR" "$DOT_PORT" "www.sec13.$T/A" "www.sec8.$T/A"
[ "$DC_RC" = 0 ] && [ "$(printf '%s\n' "$DS_OUT" | grep -c '^answer .* NOERROR ad')" = 2 ] ||
	ds_fail "status $DC_RC"

ds_case "access_control refuses identity cn:client2.test: REFUSED with EDE 18"
dotc --do --cert "$D/client2.pem" --key "$D/client2.key" \
	"$WORLD_DOTSECD_ADDR" "$DOT_PORT" "www.sec13.$T/A"
printf '%s\n' "$DS_OUT" | grep -q '^answer .* REFUSED' || ds_fail "not REFUSED"
kdig_out=$(kdig -b "$WORLD_CLIENT_ADDR" @"$WORLD_DOTSECD_ADDR" -p "$DOT_PORT" \
	+tls-ca="$WORLD_CA_FILE" +tls-hostname="$NAME" +tls-certfile="$D/client2.pem" \
	+tls-keyfile="$D/client2.key" +time=5 +retry=0 "www.sec13.$T" A 2>&1) || true
printf '%s\n' "$kdig_out" | grep -q 'status: REFUSED' || ds_fail "kdig: not REFUSED"
printf '%s\n' "$kdig_out" | grep -qi 'EDE: 18' || ds_fail "kdig: no EDE 18: $kdig_out"

ds_case "the query log names the client identity: dns:client1.test, cn:CLIENT2.test"
DS_OUT=$(cat "$D/queries.log")
grep -q " dot www.sec13.$T\. .* id=dns:client1.test$" "$D/queries.log" || ds_fail "no id=dns:client1.test"
grep -q " dot www.sec13.$T\. .* rcode=5 .* id=cn:CLIENT2.test$" "$D/queries.log" || ds_fail "no refused id=cn:CLIENT2.test"

ds_case "stats: DoT queries by identity, handshakes and their failures"
DS_OUT=$("$CTL" -s "$DS_CTL" stats 2>&1) || true
printf '%s\n' "$DS_OUT" | grep -q '^dotsec_dot_queries_total{identity="dns:client1.test"} [1-9]' ||
	ds_fail "no count for dns:client1.test"
printf '%s\n' "$DS_OUT" | grep -q '^dotsec_dot_queries_total{identity="cn:CLIENT2.test"} [1-9]' ||
	ds_fail "no count for cn:CLIENT2.test"
printf '%s\n' "$DS_OUT" | grep -q '^dotsec_dot_queries_total{identity="other"} 0' ||
	ds_fail "other: not 0"
printf '%s\n' "$DS_OUT" | grep -q '^dotsec_tls_handshake_failures_total [1-9]' ||
	ds_fail "no handshake failures counted"
printf '%s\n' "$DS_OUT" | grep -q '^dotsec_queries_total{transport="tls"} [1-9]' ||
	ds_fail "no DoT queries counted"

ds_case "tls_client_ca: the refused handshakes are logged"
grep -q "dot: handshake with .* failed" "$DS_STDERR" || ds_fail "no log line"

ds_dotsecd_stop
ds_finish
