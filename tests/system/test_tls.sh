#!/bin/bash
# test_tls.sh -- strict DoT authentication and no clear text, ever:
#  - upstream with a certificate for the wrong name (same CA), upstream with
#    a certificate from an untrusted CA, the good upstream with a wrong SPKI
#    pin: every query -> SERVFAIL with EDE 22 or 23 within the configured
#    timeout (+ DS_TLS_SLACK_MS, default 1500), over UDP and TCP, with CD=1
#    too, without EDNS no OPT; no query reaches the bad upstream, and the
#    clear-text canary on port 53 of every upstream address logs nothing;
#  - the good upstream with the right pin and no CA file (pin alone), and
#    with CA and pin: NOERROR with AD;
#  - dotsecd under strace: connect() only to the upstream's port 853 and to
#    its own relay (from the log line "relay listening on ADDR@PORT"), and
#    no packet to any other server address or to port 53/853 elsewhere;
#    the socket connected to the upstream's port 853 got
#    setsockopt(fd, SOL_TCP, TCP_NODELAY, [1], 4) (same fd, between the
#    closes around that connect()), and the matcher rejects a copy of the
#    trace without those setsockopt lines.
#
# Run: DOTSECD=/path/to/dotsecd bash tests/system/test_tls.sh
set -eu
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

ds_init
ds_require_dotsecd
ds_require strace
world_start

T=$WORLD_TLD
TIMEOUT=3000
LIMIT=$((TIMEOUT + ${DS_TLS_SLACK_MS:-1500}))
# dig must wait longer than dotsecd may take, so that slowness is measured.
DS_DIG_TIME=$((TIMEOUT * 3 / 1000 + 5))

# no_query_reached LOG LABEL: the unbound behind LOG logged no query.
no_query_reached() {
	ds_case "$2: no query reached that upstream"
	DS_OUT=$(cat "$1")
	! grep -q ' info: .* IN$' "$1" || ds_fail "queries in $1"
}

canary_silent() {
	ds_case "$1: nothing sent in clear text (canary log empty)"
	DS_OUT=$(cat "$WORLD_CANARY_LOG" 2>/dev/null || true)
	[ "$(world_canary_count)" = 0 ] || ds_fail "the canary saw clear-text packets"
}

# tls_refused LABEL dotsecd-config...
tls_refused() {
	local label=$1 proto
	shift
	ds_dotsecd_start timeout=$TIMEOUT "$@"
	for proto in +notcp +tcp; do
		ds_dig "$label: www.sec8 A $proto" "$proto" +ignore +dnssec "www.sec8.$T" A
		ds_expect_rcode SERVFAIL
		ds_expect_ede 22 23
		ds_expect_ancount 0
		ds_expect_noflag ad
		ds_expect_max_ms "$LIMIT"
	done
	ds_dig "$label: again right away (back-off)" +dnssec "nx.sec13.$T" A
	ds_expect_rcode SERVFAIL
	ds_expect_ede 22 23
	ds_expect_max_ms "$LIMIT"
	ds_dig "$label: CD=1" +cd +dnssec "www.badsig.$T" A
	ds_expect_rcode SERVFAIL
	ds_expect_ede 22 23
	ds_expect_max_ms "$LIMIT"
	ds_dig "$label: without EDNS: SERVFAIL, no OPT" +noedns "www.sec15.$T" A
	ds_expect_rcode SERVFAIL
	ds_expect_no_opt
	ds_expect_max_ms "$LIMIT"
	ds_dotsecd_stop
	canary_silent "$label"
}

tls_refused "wrong name (cert for wrong.test)" upstream="$WORLD_WRONGNAME_ADDR"
no_query_reached "$WORLD_WRONGNAME_LOG" "wrong name"

tls_refused "untrusted CA" upstream="$WORLD_BADCA_ADDR"
no_query_reached "$WORLD_BADCA_LOG" "untrusted CA"

before=$(world_upstream_count "www.sec8.$T" A)
tls_refused "wrong SPKI pin (good upstream, CA given)" pin="$WORLD_BAD_PIN"
tls_refused "wrong SPKI pin (good upstream, no CA file)" pin="$WORLD_BAD_PIN" ca_file=
ds_case "wrong SPKI pin: no query reached the good upstream"
after=$(world_upstream_count "www.sec8.$T" A)
DS_OUT=$(tail -n 20 "$WORLD_UPSTREAM_LOG")
[ "$after" = "$before" ] || ds_fail "count of www.sec8.$T A went $before -> $after"

# The right pin alone, without a CA file.
ds_dotsecd_start timeout=$TIMEOUT pin="$WORLD_SPKI_PIN" ca_file=
for proto in +notcp +tcp; do
	ds_dig "pin alone (no CA file): www.sec8 A $proto" "$proto" +dnssec "www.sec8.$T" A
	ds_expect_rcode NOERROR
	ds_expect_flag ad
	ds_expect_answer_has 192.0.2.8
done
ds_dotsecd_stop

# CA and the right pin, under strace.
trace=$WORLD_DIR/dotsecd.strace
world_register_log "$trace" "strace of dotsecd"
ds_dotsecd_start timeout=$TIMEOUT pin="$WORLD_SPKI_PIN" \
	wrapper="strace -f -qq -e trace=connect,sendto,sendmsg,sendmmsg,setsockopt,close -o $trace"
while read -r q t rcode; do
	for proto in +notcp +tcp; do
		ds_dig "CA + pin, traced: $q $t $proto" "$proto" +dnssec "$q" "$t"
		ds_expect_rcode "$rcode"
	done
done <<EOF
www.sec8.$T A NOERROR
nx.sec13.$T A NXDOMAIN
www.sec15.$T MX NOERROR
www.insecure.$T A NOERROR
www.badsig.$T A SERVFAIL
www.expired.$T A SERVFAIL
foo.wild.sec8.$T TXT NOERROR
$WORLD_BIG_NAME TXT NOERROR
EOF
ds_dig "CA + pin, traced: CD=1 bogus name" +cd "www.nosig.$T" A
ds_expect_rcode NOERROR
ds_dig "CA + pin, traced: secure name" +dnssec "www.sec13.$T" A
ds_expect_flag ad
RELAYS=$(ds_relays)
ds_dotsecd_stop

ds_case "dotsecd logged 'relay listening on ADDR@PORT'"
DS_OUT=$(cat "$DS_STDERR")
[ -n "$RELAYS" ] || ds_fail "no line 'relay listening on ADDR@PORT' in dotsecd's log"

ds_case "strace: connections only to the upstream's port 853 and the relay"
relay_args=()
for r in $RELAYS; do
	relay_args+=(--relay "$r")
done
DS_OUT=$(python3 "$DS_SYSTEM_DIR/stracecheck.py" "$trace" \
	--upstream "$WORLD_UPSTREAM_ADDR@$WORLD_UPSTREAM_PORT" \
	"${relay_args[@]}" --client "$WORLD_CLIENT_ADDR" \
	--forbid "$WORLD_NSD_ADDR" --forbid "$WORLD_PLAIN_ADDR" \
	--forbid "$WORLD_REF_ADDR" --forbid "$WORLD_WRONGNAME_ADDR" \
	--forbid "$WORLD_BADCA_ADDR" --forbid "$WORLD_UPSTREAM_ADDR" 2>&1) ||
	ds_fail "dotsecd sent packets where it must not"
printf '%s\n' "$DS_OUT"

ds_case "strace: TCP_NODELAY set on the socket connected to the upstream's port 853"
DS_OUT=$(python3 "$DS_SYSTEM_DIR/stracecheck.py" "$trace" --nodelay \
	--upstream "$WORLD_UPSTREAM_ADDR@$WORLD_UPSTREAM_PORT" 2>&1) ||
	ds_fail "an upstream connection without setsockopt(SOL_TCP, TCP_NODELAY, [1])"
printf '%s\n' "$DS_OUT"

# The matcher itself: the same trace without the TCP_NODELAY lines fails.
ds_case "strace: the TCP_NODELAY matcher rejects the trace without its setsockopt lines"
grep -v 'TCP_NODELAY' "$trace" >"$trace.nonodelay" || true
if DS_OUT=$(python3 "$DS_SYSTEM_DIR/stracecheck.py" "$trace.nonodelay" \
	--nodelay --upstream "$WORLD_UPSTREAM_ADDR@$WORLD_UPSTREAM_PORT" 2>&1); then
	ds_fail "stracecheck.py --nodelay accepted a trace without TCP_NODELAY"
fi

canary_silent "end of test"
ds_finish
