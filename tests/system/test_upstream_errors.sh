#!/bin/bash
# test_upstream_errors: when no upstream can be used, the client's SERVFAIL
# says why, per upstream.  The EDE (22, No Reachable Authority) text lists
# every upstream of the query's route with its last failure,
# "ADDR[@PORT]: reason; ADDR: reason", for the validator's path (+dnssec,
# UDP and TCP) and the CD=1 path alike:
#  - certificate for the wrong name -> "TLS authentication failed
#    (hostname mismatch)"; from an untrusted CA -> "... (untrusted CA)";
#    the good upstream with a wrong SPKI pin -> "... (pin mismatch)";
#  - nothing listening -> "connection refused" (port 853, and 8853, which
#    the text shows as ADDR@8853);
#  - a listener that accepts and never writes -> "timed out in the TLS
#    handshake"; one whose accept queue is full, so that SYNs are dropped
#    -> "timed out connecting"; one that accepts and closes at once -> "TLS
#    handshake failed";
#  - two and three failing upstreams: each named, in configuration order;
#  - a forward zone: its own upstreams named, not the default one (which
#    still answers the other names);
#  - twelve refused upstreams: over TCP all twelve; over UDP with a 512-byte
#    buffer and a long name the text is cut after a whole entry with
#    "; ...", and the reply fits (no TC);
#  - an answer supersedes a failure: the good upstream killed (refused),
#    restarted, answering; then a name it refuses makes libunbound fail,
#    and the text no longer blames the old refusal.
# For each of the one-configuration cases, dotsec-control status names
# the same failure for each upstream.
# The listeners (deadup.py) are checked with a TCP probe before use, so a
# listener that did not start fails its case instead of passing as
# "refused".
#
# Run: DOTSECD=/path/to/dotsecd bash tests/system/test_upstream_errors.sh
set -eu
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

ds_init
ds_require_dotsecd
world_start

T=$WORLD_TLD
TIMEOUT=3000
LIMIT=$((TIMEOUT + ${DS_TLS_SLACK_MS:-1500}))
DS_DIG_TIME=$((TIMEOUT * 3 / 1000 + 5))

WRONG=$WORLD_WRONGNAME_ADDR
BADCA=$WORLD_BADCA_ADDR
GOOD=$WORLD_UPSTREAM_ADDR
REFUSED=$WORLD_NET.201
REFUSED2=$WORLD_NET.202
SILENT=$WORLD_NET.203
CLOSER=$WORLD_NET.204
SYNBLACK=$WORLD_NET.205
MANY=()			# twelve addresses where nothing listens
for i in $(seq 211 222); do
	MANY+=("$WORLD_NET.$i")
done

# The failing listeners, stopped by PID with the world.
world_deadup "$WORLD_DIR/deadup.log" "deadup.py (failing listeners)" \
	--silent "$SILENT:853" --close "$CLOSER:853" --synblack "$SYNBLACK:853" \
	--lifetime 900

# probe_is ADDR:PORT WORD LABEL: a TCP client sees WORD there (deadup.py
# probe), so that the case below tests what it says it does.
probe_is() {
	ds_case "precondition: $3 ($1: $2)"
	DS_OUT=$(python3 "$DS_SYSTEM_DIR/deadup.py" probe "$1" 2>&1)
	[ "$DS_OUT" = "$2" ] || ds_fail "probe of $1 saw '$DS_OUT', expected '$2'"
}
probe_is "$REFUSED:853" refused "nothing listens"
probe_is "$REFUSED:8853" refused "nothing listens on 8853"
probe_is "$REFUSED2:853" refused "nothing listens (second)"
for a in "${MANY[@]}"; do
	probe_is "$a:853" refused "nothing listens (many)"
done
probe_is "$SILENT:853" silent "accepts, never writes"
probe_is "$CLOSER:853" eof "accepts, closes at once"
probe_is "$SYNBLACK:853" timeout "SYNs dropped"

# fails_with LABEL TEXT: the three paths of one query each answer
# SERVFAIL, EDE 22, with TEXT, in time.
fails_with() {
	local label=$1 text=$2 n=$DS_RUN
	ds_dig "$label: +dnssec over UDP" +dnssec "www.sec8.$T" A
	ds_expect_rcode SERVFAIL
	ds_expect_ede 22
	ds_expect_ede_text "$text"
	ds_expect_max_ms "$LIMIT"
	ds_dig "$label: +dnssec over TCP" +tcp +dnssec "www.sec13.$T" A
	ds_expect_rcode SERVFAIL
	ds_expect_ede 22
	ds_expect_ede_text "$text"
	ds_expect_max_ms "$LIMIT"
	ds_dig "$label: CD=1" +cd +dnssec "n$n.wild.sec15.$T" A
	ds_expect_rcode SERVFAIL
	ds_expect_ede 22
	ds_expect_ede_text "$text"
	ds_expect_max_ms "$LIMIT"
}

# status_says LABEL TEXT: dotsec-control status names each upstream of
# TEXT ("ADDR[@PORT]: reason; ...") with the same reason as its last
# failure.
CTL=$(dirname "$DOTSECD")/dotsec-control
status_says() {
	local label=$1 entry addr reason port out
	ds_case "$label: dotsec-control status names the same failures"
	out=$("$CTL" -s "$DS_CTL" status 2>&1) || ds_fail "status failed"
	DS_OUT=$out
	while IFS= read -r entry; do
		addr=${entry%%: *}
		reason=${entry#*: }
		port=853
		case $addr in *@*) port=${addr#*@}; addr=${addr%@*} ;; esac
		printf '%s\n' "$out" | grep -F "upstream $addr@$port" |
			grep -qF "s ago: $reason" ||
			ds_fail "no 'upstream $addr@$port ... s ago: $reason'"
	done < <(printf '%s\n' "$2" | sed 's/; /\n/g')
}

# one_upstream LABEL TEXT dotsecd-config...
one_upstream() {
	local label=$1 text=$2
	shift 2
	ds_dotsecd_start timeout=$TIMEOUT "$@"
	fails_with "$label" "$text"
	status_says "$label" "$text"
	ds_dotsecd_stop
}

one_upstream "wrong name" "$WRONG: TLS authentication failed (hostname mismatch)" \
	upstream="$WRONG"
one_upstream "untrusted CA" "$BADCA: TLS authentication failed (untrusted CA)" \
	upstream="$BADCA"
one_upstream "wrong pin" "$GOOD: TLS authentication failed (pin mismatch)" \
	pin="$WORLD_BAD_PIN"
one_upstream "refused" "$REFUSED: connection refused" upstream="$REFUSED"
one_upstream "refused, port 8853" "$REFUSED@8853: connection refused" \
	upstream="$REFUSED" port=8853
one_upstream "black hole past TCP" "$SILENT: timed out in the TLS handshake" \
	upstream="$SILENT"
one_upstream "black hole (SYN dropped)" "$SYNBLACK: timed out connecting" \
	upstream="$SYNBLACK"
one_upstream "closed at once" "$CLOSER: TLS handshake failed" \
	upstream="$CLOSER"

# A control command that takes longer than the control channel's write
# timeout (5 s) still gets its reply: explain over a black hole, each of
# its questions failing after TIMEOUT.  The reply was dropped when the
# timeout was reckoned from the event loop's time before the command.
#
# Such an explain runs on a thread of its own: while CONTROL_MAX_LATER (4)
# of them run, the channel still answers status at once and turns a fifth
# explain away as busy.  On the main loop, status waited for all four.
ds_dotsecd_start timeout=$TIMEOUT upstream="$SILENT"
ds_case "explain over a black hole: the reply comes, however long it took"
t0=$(date +%s%N)
epids=""
for i in 1 2 3 4; do
	( rc=0; "$CTL" -s "$DS_CTL" explain "www.$WORLD_ZONE_SEC8" A \
		>"$WORLD_DIR/explain-$i.out" 2>&1 || rc=$?
	  echo "$rc $((($(date +%s%N) - t0) / 1000000))" >"$WORLD_DIR/explain-$i.rc" ) &
	epids="$epids $!"
done
sleep 1
ts=$(date +%s%N)
rc=0
st=$("$CTL" -s "$DS_CTL" status 2>&1) || rc=$?
st_ms=$((($(date +%s%N) - ts) / 1000000))
running=0
for p in $epids; do
	! kill -0 "$p" 2>/dev/null || running=$((running + 1))
done
rc5=0
busy=$("$CTL" -s "$DS_CTL" explain "www.$WORLD_ZONE_SEC8" A 2>&1) || rc5=$?
for p in $epids; do
	wait "$p" || true
done
ms=0
for i in 1 2 3 4; do
	read -r erc ems <"$WORLD_DIR/explain-$i.rc" || true
	DS_OUT="$DS_OUT explain $i: exit $erc after $ems ms;"
	[ "${ems:-0}" -gt "$ms" ] && ms=$ems
	[ "$erc" = 0 ] && grep -q '^verdict: ' "$WORLD_DIR/explain-$i.out" ||
		ds_fail "explain $i: no reply with a verdict: $(cat "$WORLD_DIR/explain-$i.out")"
done
[ "$ms" -gt 5000 ] || ds_fail "explain took $ms ms: the case needs more than the 5 s write timeout"
ds_case "while four explains run: status answers at once, a fifth explain is turned away"
DS_OUT="status after $st_ms ms (exit $rc) with $running explains running: $st; fifth explain: exit $rc5: $busy"
[ "$running" = 4 ] || ds_fail "$running explains running when status was asked: the case proves nothing"
[ "$rc" = 0 ] && printf '%s\n' "$st" | grep -q 'upstream' ||
	ds_fail "status failed: $st"
[ "$st_ms" -lt 1500 ] || ds_fail "status took $st_ms ms while the explains ran"
[ "$rc5" != 0 ] && printf '%s\n' "$busy" | grep -q '^busy: 4 explains are running' ||
	ds_fail "the fifth explain was not turned away as busy: exit $rc5: $busy"

# SIGTERM while an explain runs: dotsecd waits for it (it needs a
# worker's relay), then stops as usual.
ds_case "SIGTERM during an explain: the explain's client is let go"
( rc=0; "$CTL" -s "$DS_CTL" explain "www.$WORLD_ZONE_SEC8" A \
	>"$WORLD_DIR/explain-stop.out" 2>&1 || rc=$?
  echo "$rc" >"$WORLD_DIR/explain-stop.rc" ) &
ep=$!
sleep 1
kill -0 "$ep" 2>/dev/null || ds_fail "the explain had ended before SIGTERM: the case proves nothing"
DS_STOP_WAIT=30 ds_dotsecd_stop
wait "$ep" || true
ds_case "the explain cut short by the stop: its client got an end, not a hang"
DS_OUT="exit $(cat "$WORLD_DIR/explain-stop.rc" 2>/dev/null): $(cat "$WORLD_DIR/explain-stop.out" 2>/dev/null)"
[ -s "$WORLD_DIR/explain-stop.rc" ] || ds_fail "no exit status from the explain's client"
grep -q "waiting for 1 request(s) still being answered" "$DS_STDERR" ||
	ds_fail "dotsecd did not say it waited for the explain"

one_upstream "two failing upstreams" \
	"$WRONG: TLS authentication failed (hostname mismatch); $REFUSED: connection refused" \
	upstream="$WRONG" upstream2="$REFUSED"
one_upstream "three failing upstreams" \
	"$REFUSED: connection refused; $BADCA: TLS authentication failed (untrusted CA); $SILENT: timed out in the TLS handshake" \
	upstream="$REFUSED" upstream2="$BADCA $SILENT"

# A forward zone whose upstreams fail; the default upstream is good.
ds_dotsecd_start timeout=$TIMEOUT "extra=forward_zones:
  - name: $WORLD_ZONE_SEC8
    upstream_recursive_servers:
      - address_data: $BADCA
        tls_auth_name: \"$WORLD_AUTH_NAME\"
      - address_data: $REFUSED2
        tls_auth_name: \"$WORLD_AUTH_NAME\""
zone_text="$BADCA: TLS authentication failed (untrusted CA); $REFUSED2: connection refused"
ds_dig "forward zone: +dnssec" +dnssec "www.sec8.$T" A
ds_expect_rcode SERVFAIL
ds_expect_ede 22
ds_expect_ede_text "$zone_text"
ds_expect_max_ms "$LIMIT"
ds_dig "forward zone: CD=1" +cd "nx.sec8.$T" A
ds_expect_rcode SERVFAIL
ds_expect_ede 22
ds_expect_ede_text "$zone_text"
ds_dig "forward zone: another name still goes to the default upstream" +dnssec "www.sec13.$T" A
ds_expect_rcode NOERROR
ds_expect_flag ad
ds_dotsecd_stop

# Twelve refused upstreams: the text's length.
full=""
for a in "${MANY[@]}"; do
	full="${full:+$full; }$a: connection refused"
done
long=$(printf 'a%.0s' $(seq 1 50))
long="$long.$long.$long.$long.sec8.$T"
ds_dotsecd_start timeout=$TIMEOUT upstream="${MANY[0]}" upstream2="${MANY[*]:1}"
ds_dig "twelve upstreams, TCP: all named" +tcp +dnssec "$long" A
ds_expect_rcode SERVFAIL
ds_expect_ede 22
ds_expect_ede_text "$full"
ds_dig "twelve upstreams, UDP 512, long name: cut after an entry" +bufsize=512 +ignore +dnssec "$long" A
ds_expect_rcode SERVFAIL
ds_expect_ede 22
ds_expect_noflag tc
text=$(ds_ede_text)
size=$(printf '%s\n' "$DS_OUT" | sed -n 's/^;; MSG SIZE  rcvd: \([0-9]*\)$/\1/p')
[ "${size:-9999}" -le 512 ] || ds_fail "reply of ${size:-?} bytes to a 512-byte buffer"
case $text in
*"; ...") ;;
*) ds_fail "text '$text' does not end with '; ...'" ;;
esac
case "$full; " in
"${text%; ...}; "*) ;;
*) ds_fail "text '$text' is not the list '$full' cut after an entry" ;;
esac
[ "${#text}" -gt 40 ] || ds_fail "text '$text' holds not even one entry"
# As much as fits: with the next entry ("; ENTRY" more) it would not.
kept=$(printf '%s' "${text%; ...}" | awk -F'; ' '{ print NF }')
next=$(printf '%s' "$full" | awk -F'; ' -v k="$kept" '{ print $(k + 1) }')
[ $((${size:-0} + ${#next} + 2)) -gt 512 ] ||
	ds_fail "cut too early: '$next' would still fit ($size bytes)"
ds_dotsecd_stop

# An answer supersedes the failure before it.
ds_dotsecd_start timeout=$TIMEOUT
world_upstream_kill 1
ds_dig "good upstream killed" +dnssec "www.sec8.$T" A
ds_expect_rcode SERVFAIL
ds_expect_ede 22
ds_expect_ede_text "$GOOD: connection refused"
world_upstream_restart 1
world_upstream_ctl local_zone "refused.$T." always_refuse >/dev/null
# Until an answer comes (15 s at most); the case below checks it.
for i in $(seq 1 15); do
	dig -b "$WORLD_CLIENT_ADDR" @"$DS_ADDR" -p "$DS_PORT" +time=4 +tries=1 \
		+dnssec "www.sec13.$T" A 2>&1 | grep -q 'status: NOERROR' && break
	sleep 1
	: "$i"
done
ds_dig "restarted upstream answers again" +dnssec "www.sec13.$T" A
ds_expect_rcode NOERROR
ds_dig "a name the upstream refuses: SERVFAIL, the old refusal not reported" +dnssec "www.refused.$T" A
ds_expect_rcode SERVFAIL
ds_expect_ede 22
ds_expect_ede_text "no answer from the upstreams in time"
ds_dotsecd_stop

ds_finish
