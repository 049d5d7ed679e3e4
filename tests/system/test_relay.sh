#!/bin/bash
# test_relay.sh -- dotsecd's loopback relay (libunbound -> relay -> getdns),
# at the address and port it logs ("relay listening on ADDR@PORT"):
#  - from any other source (127.0.0.1) it is deaf: a UDP query gets no
#    reply, a TCP connection is closed at once (dig +tcp gets no answer; a
#    raw client sees EOF or a reset right after connect); those queries
#    never reach the upstream;
#  - from its own address as source (as libunbound, whose
#    outgoing-interface it is) it answers: NOERROR with RRSIGs for a name
#    of a secure zone, over UDP and TCP, also when the query has DO=0 (the
#    relay asks the upstream with DO and keeps DNSSEC records);
#  - its replies carry no EDNS option at all (no padding), even when the
#    query asks for padding, while the upstream pads its DoT replies
#    (kdig +tls +padding): the relay strips the upstream's padding;
#  - afterwards dotsecd still answers its clients (UDP and TCP, AD set);
#  - a question asked again while it is in flight (a retransmit) is
#    answered with the reply of the query already sent: three identical
#    queries while the upstream is stopped reach it once;
#  - dotsecd stops cleanly.
#
# Run: DOTSECD=/path/to/dotsecd bash tests/system/test_relay.sh
set -eu
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

ds_init
ds_require_dotsecd
world_start
ds_dotsecd_start timeout=3000

T=$WORLD_TLD
OUTSIDER=127.0.0.1

ds_case "dotsecd logged one 'relay listening on ADDR@PORT' (127/8)"
DS_OUT=$(cat "$DS_STDERR")
RELAY=$(ds_relays | head -n 1)
RELAY_ADDR=${RELAY%@*}
RELAY_PORT=${RELAY##*@}
case $RELAY_ADDR in
127.*.*.*) ;;
*) ds_die "no usable relay address in dotsecd's log (got '$RELAY')" ;;
esac
case $RELAY_PORT in
'' | *[!0-9]*) ds_die "no usable relay port in dotsecd's log (got '$RELAY')" ;;
esac
[ "$(ds_relays | wc -l)" = 1 ] || ds_fail "$(ds_relays | wc -l) relay lines with workers: 1"
[ "$RELAY_ADDR" != "$OUTSIDER" ] || ds_die "the relay is on $OUTSIDER itself"
printf '%s: relay at %s port %s\n' "$DS_TEST" "$RELAY_ADDR" "$RELAY_PORT"

# relay_dig CASE SOURCE DIG-ARGS...: start a case and run dig against the
# relay from SOURCE (bounded); output in DS_OUT, status in DS_DIG_RC.
relay_dig() {
	local src=$2
	ds_case "$1"
	shift 2
	DS_DIG_RC=0
	DS_OUT=$(dig -b "$src" @"$RELAY_ADDR" -p "$RELAY_PORT" +time=2 +tries=1 \
		"$@" 2>&1) || DS_DIG_RC=$?
	if [ "${DS_VERBOSE:-0}" = 1 ]; then
		printf '%s\n' "$DS_OUT"
	fi
}
got_answer() {
	printf '%s\n' "$DS_OUT" | grep -q '^;; Got answer:'
}
expect_answer() {
	got_answer || ds_fail "no reply from the relay (dig status $DS_DIG_RC)"
}
expect_no_answer() {
	! got_answer || ds_fail "the relay answered a query from another source"
	[ "$DS_DIG_RC" != 0 ] || ds_fail "dig exited 0"
}
# The options of the reply's OPT record, one "; NAME: ..." line each.
opt_options() {
	printf '%s\n' "$DS_OUT" | awk '
		/^;; OPT PSEUDOSECTION:/ { on = 1; next }
		on && /^$/ { exit }
		on && /^;; / { exit }
		on && /^; / && !/^; EDNS: / { print }'
}
expect_no_opt_options() {
	local o
	# shellcheck disable=SC2119 # any UDP size
	ds_expect_opt
	o=$(opt_options)
	[ -z "$o" ] || ds_fail "EDNS options in the relay's reply: $(printf '%s' "$o" | tr '\n' ' ')"
}

# ------------------------------------------------- (a) other sources
# Names nobody else asks for: their count in the upstream's log shows
# whether a refused query went on.
Q_UDP=www.sec15.$T
Q_TCP=foo.wild.sec15.$T
relay_dig "from $OUTSIDER over UDP: no reply" "$OUTSIDER" +notcp +dnssec "$Q_UDP" TXT
expect_no_answer
case $DS_OUT in
*"timed out"*) ;;
*) ds_fail "dig did not time out (status $DS_DIG_RC)" ;;
esac

relay_dig "from $OUTSIDER over TCP: no answer, connection closed" "$OUTSIDER" +tcp +dnssec "$Q_TCP" TXT
expect_no_answer
case $DS_OUT in
*"connection reset"* | *"end of file"*) ;;
*) ds_fail "dig does not report the connection closed by the relay" ;;
esac

# A raw TCP client: the relay must close at once, before any query.
ds_case "from $OUTSIDER over TCP: closed right after connect (raw client, 1 s)"
DS_OUT=$(python3 - "$RELAY_ADDR" "$RELAY_PORT" "$OUTSIDER" <<'EOF' 2>&1
import socket, sys, time
addr, port, src = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind((src, 0))
s.settimeout(3)
t0 = time.time()
s.connect((addr, port))
s.settimeout(1.0)
try:
    data = s.recv(512)
    how = "EOF" if data == b"" else "DATA %r" % data
except socket.timeout:
    how = "TIMEOUT"
except ConnectionResetError:
    how = "RESET"
print("%s after %.3f s" % (how, time.time() - t0))
EOF
) || true
case $DS_OUT in
EOF* | RESET*) ;;
*) ds_fail "the connection from $OUTSIDER was not closed at once: $DS_OUT" ;;
esac

ds_case "refused queries did not reach the upstream"
sleep 0.5
DS_OUT=$(tail -n 30 "$WORLD_UPSTREAM_LOG")
n_udp=$(world_upstream_count "$Q_UDP" TXT)
n_tcp=$(world_upstream_count "$Q_TCP" TXT)
[ "$n_udp" = 0 ] || ds_fail "upstream saw $n_udp queries for $Q_UDP TXT"
[ "$n_tcp" = 0 ] || ds_fail "upstream saw $n_tcp queries for $Q_TCP TXT"

# ------------------------------------------------- (b) its own address
for proto in +notcp +tcp; do
	relay_dig "from the relay's address, $proto: www.sec8 A, NOERROR with RRSIG" \
		"$RELAY_ADDR" "$proto" +dnssec "www.sec8.$T" A
	expect_answer
	ds_expect_rcode NOERROR
	ds_expect_answer_has 192.0.2.8
	ds_expect_rrsig
done
relay_dig "from the relay's address, DO=0: RRSIG kept (relay asks with DO)" \
	"$RELAY_ADDR" +nodnssec "www.sec13.$T" AAAA
expect_answer
ds_expect_rcode NOERROR
ds_expect_answer_has 2001:db8::13
ds_expect_rrsig
relay_dig "from the relay's address: NXDOMAIN with its NSEC3 proof" \
	"$RELAY_ADDR" +dnssec "nx.sec13.$T" A
expect_answer
ds_expect_rcode NXDOMAIN
ds_section_types AUTHORITY | grep -qx NSEC3 || ds_fail "no NSEC3 in AUTHORITY"
ds_expect_rrsig AUTHORITY

# ------------------------------------------------- (c) no padding
relay_dig "relay reply: OPT without options (no padding), UDP" \
	"$RELAY_ADDR" +notcp +dnssec "www.sec15.$T" A
expect_answer
ds_expect_rcode NOERROR
expect_no_opt_options
relay_dig "relay reply: OPT without options (no padding), TCP" \
	"$RELAY_ADDR" +tcp +dnssec "www.sec15.$T" AAAA
expect_answer
ds_expect_rcode NOERROR
expect_no_opt_options
relay_dig "relay reply: no padding even when the query asks for it" \
	"$RELAY_ADDR" +tcp +dnssec +padding=128 "www.sec8.$T" TXT
expect_answer
ds_expect_rcode NOERROR
expect_no_opt_options

# The same name from the upstream over DoT: padded (RFC 8467), so the
# relay's replies above have had the padding removed.
ds_case "upstream over DoT (kdig +tls +padding): the reply is padded"
DS_OUT=$(kdig -b "$WORLD_CLIENT_ADDR" +tls +tls-ca="$WORLD_CA_FILE" \
	+tls-hostname="$WORLD_AUTH_NAME" +time=3 +retry=0 +padding +dnssec \
	@"$WORLD_UPSTREAM_ADDR" -p "$WORLD_UPSTREAM_PORT" "www.sec15.$T" A 2>&1) ||
	ds_fail "kdig failed"
printf '%s\n' "$DS_OUT" | grep -q 'status: NOERROR' || ds_fail "no NOERROR from the upstream"
printf '%s\n' "$DS_OUT" | grep -q '^;; PADDING: [1-9]' ||
	ds_fail "the upstream's reply is not padded: the no-padding cases prove nothing"

# And through the same OPT parser as the relay's replies: dig's output of
# a padded reply has a "; PAD:" line, so the cases above can fail.
ds_case "upstream over DoT (dig +tls +padding): PAD seen by the relay cases' parser"
DS_OUT=$(dig -b "$WORLD_CLIENT_ADDR" +tls +tls-ca="$WORLD_CA_FILE" \
	+tls-hostname="$WORLD_AUTH_NAME" +time=3 +tries=1 +padding=128 +dnssec \
	@"$WORLD_UPSTREAM_ADDR" -p "$WORLD_UPSTREAM_PORT" "www.sec15.$T" A 2>&1) ||
	ds_fail "dig +tls failed"
ds_expect_rcode NOERROR
opt_options | grep -q '^; PAD: ' ||
	ds_fail "no '; PAD:' among the reply's options: '$(opt_options | tr '\n' ' ')'"

# ------------------------------------------------- (d) clients still served
for proto in +notcp +tcp; do
	ds_dig "dotsecd afterwards, $proto: www.sec13 A, AD" "$proto" +dnssec "www.sec13.$T" A
	ds_expect_rcode NOERROR
	ds_expect_flag ad
	ds_expect_answer_has 192.0.2.13
done
ds_dig "dotsecd afterwards: bogus name still SERVFAIL" +dnssec "www.badsig.$T" A
ds_expect_rcode SERVFAIL
ds_expect_ede 6

relay_dig "relay still deaf to $OUTSIDER at the end (UDP)" "$OUTSIDER" +notcp "www.sec13.$T" A
expect_no_answer

# The same question asked again while it is in flight (libunbound
# retransmitting to a slow upstream) is answered with the first one's
# reply: the upstream, stopped for a second, gets it once.
MERGE_NAME=merge-$$.wild.sec13.$T
UPID=$(world_upstream_pid 1)
[ -n "$UPID" ] || ds_die "the upstream unbound is not running"
kill -STOP "$UPID"
# shellcheck disable=SC2317 # run by the EXIT trap
_relay_on_exit() {
	local rc=$?
	kill -CONT "$UPID" 2>/dev/null || true
	(exit "$rc")
	_ds_on_exit
}
trap _relay_on_exit EXIT
digs=""
for i in 1 2 3; do
	dig -b "$RELAY_ADDR" @"$RELAY_ADDR" -p "$RELAY_PORT" +time=8 +tries=1 \
		+dnssec "$MERGE_NAME" A >"$WORLD_DIR/merge.$i" 2>&1 &
	digs="$digs $!"
	sleep 0.1
done
sleep 1
kill -CONT "$UPID"
for p in $digs; do wait "$p" || true; done
world_upstream_settle
for i in 1 2 3; do
	ds_case "in flight twice: query $i of 3 answered NOERROR with RRSIGs"
	DS_OUT=$(cat "$WORLD_DIR/merge.$i")
	ds_expect_rcode NOERROR
	ds_expect_rrsig
done
ds_case "in flight twice: the upstream got the question once"
n=$(world_upstream_count "$MERGE_NAME" A)
DS_OUT=$(grep -i "$MERGE_NAME" "$WORLD_UPSTREAM_LOG")
[ "$n" = 1 ] || ds_fail "$n upstream queries for $MERGE_NAME A"

ds_dotsecd_stop
ds_finish
