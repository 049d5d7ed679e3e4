#!/bin/bash
# test_latency: what a real network's latency costs, in counts, never
# times.  1. Failover: an upstream that goes silent is skipped at once.  Two
# good DoT upstreams; the first one stops dead (SIGSTOP: its kernel still
# takes the packets, nothing answers, as a black hole in the path does)
# while fresh names arrive at 10 a second, in both round-robin and ordered
# modes.  Counts, never times: the queries that failed, the failover and
# the recovery in dotsecd's log and /metrics.  Some of the names are in a
# zone whose keys are not cached yet, so that a DNSKEY query is among
# those stuck on the dead upstream: no answer may wait on it.
# 2. Start-up: each worker fetches the root DNSKEY (and opens its upstream
# connection) before the first client asks.
# 3. One cold start: a zone validated by one worker is not fetched again by
# the other.
# 4. A zone's first query: its keys asked for at the same time.
# 5. Idle: a query after 20 s of silence finds its upstream connection
# open.
# 6. Hedge: a query on an upstream gone silent is sent to the other one
# too, before the silent one is found unusable.

. "$(dirname "$0")/lib.sh"
ds_init
ds_require_dotsecd
ds_require kill
world_start
world_start_second_upstream

U1=$WORLD_UPSTREAM_ADDR
STREAM=40	# queries, 10 a second
MAX_FAILED=2


# upstream1_stop: the first upstream stops dead (SIGSTOP: its kernel still
# takes the packets, nothing answers).  upstream1_back: SIGCONT, and
# dotsecd finds it usable again (within 10 s).
upstream1_stop() {
	U1_PID=$(world_upstream_pid 1)
	[ -n "$U1_PID" ] && kill -STOP "$U1_PID" || ds_fail "no PID of upstream 1"
}
upstream1_back() {
	kill -CONT "$U1_PID"
	ds_wait_stderr "upstream $U1@853#$WORLD_AUTH_NAME usable again" 100 ||
		ds_fail "no 'usable again' line within 10 s"
}

# hedge_start MODE: one worker, both upstreams, round_robin_upstreams MODE,
# upstream_stall_timeout 6 s and timeout 10 s (neither ends a query before
# a hedge can); hedged: dotsec_upstream_hedged_total.
hedge_start() {
	ds_dotsecd_start upstream2="$WORLD_UPSTREAM2_ADDR" workers=1 timeout=10000 \
		"extra=round_robin_upstreams: $1
upstream_stall_timeout: 6000
metrics_address: $WORLD_DOTSECD_ADDR@9153"
}
hedged() {
	world_dotsecd_metrics | awk '$1 == "dotsec_upstream_hedged_total" { print $2 }'
}

# stream TAG: STREAM fresh names, 10 a second, half in sec8 (keys cached)
# and half in sec15 (keys not yet fetched); prints the statuses.
stream() {
	local i out=$WORLD_DIR/stream-$1
	mkdir -p "$out"
	for i in $(seq 1 "$STREAM"); do
		if [ $((i % 2)) = 0 ]; then z=$WORLD_ZONE_SEC8; else z=$WORLD_ZONE_SEC15; fi
		(dig -b "$WORLD_CLIENT_ADDR" @"$DS_ADDR" +time=4 +tries=1 +dnssec \
			"f$i-$1.wild.$z" A >"$out/$i" 2>&1 || true) &
		sleep 0.1
	done
	wait
	for i in $(seq 1 "$STREAM"); do
		s=$(sed -n 's/.*status: \([A-Z]*\),.*/\1/p' "$out/$i")
		grep -q '^;; flags:.* ad[ ;]' "$out/$i" || s="${s:-TIMEOUT}-noAD"
		printf '%s\n' "${s:-TIMEOUT}"
	done
}

for mode in 1 0; do
	name=$([ "$mode" = 1 ] && echo "round robin" || echo "ordered")
	ds_dotsecd_start upstream2="$WORLD_UPSTREAM2_ADDR" workers=2 \
		"extra=round_robin_upstreams: $mode
metrics_address: $WORLD_DOTSECD_ADDR@9153"
	# Warm: the root, example. and sec8's keys; not sec15's.
	for i in 1 2 3 4; do
		ds_dig "$name: warm-up $i" "w$i.wild.$WORLD_ZONE_SEC8" A +dnssec
		ds_expect_rcode NOERROR
	done
	ds_case "$name: the first upstream stops answering"
	upstream1_stop
	res=$(stream "$mode")
	ds_case "$name: at most $MAX_FAILED of $STREAM fresh names failed while the first upstream was silent"
	DS_OUT=$res
	bad=$(grep -vc '^NOERROR$' <<<"$res" || true)
	[ "$bad" -le "$MAX_FAILED" ] ||
		ds_fail "$bad failed: $(sort <<<"$res" | uniq -c | tr '\n' ' ')"
	ds_case "$name: the silent upstream was found unusable"
	grep -q "upstream $U1@853#$WORLD_AUTH_NAME unusable: .*no answer for" "$DS_STDERR" ||
		ds_fail "no 'unusable' line for $U1"
	ds_case "$name: /metrics says so"
	DS_OUT=$(world_dotsecd_metrics)
	n=$(awk -v m="dotsec_upstream_unusable_total{upstream=\"$U1@853\"}" '$1 == m { print $2 }' <<<"$DS_OUT")
	[ "${n:-0}" -ge 1 ] || ds_fail "dotsec_upstream_unusable_total for $U1: '${n:-none}'"
	n=$(awk -v m="dotsec_upstream_unusable_workers{upstream=\"$U1@853\"}" '$1 == m { print $2 }' <<<"$DS_OUT")
	[ "${n:-0}" -ge 1 ] || ds_fail "dotsec_upstream_unusable_workers for $U1: '${n:-none}'"
	ds_case "$name: the first upstream is probed back once it answers again"
	upstream1_back
	ds_dig "$name: and names resolve" "after-$mode.wild.$WORLD_ZONE_SEC13" A +dnssec
	ds_expect_rcode NOERROR
	ds_expect_flag ad
	ds_dotsecd_stop
done

# Hedge: a query whose upstream has gone silent is also sent to the other
# upstream once the first has been silent for a few round trips, at least
# a sixteenth of upstream_stall_timeout (here 6 s: 375 ms; 1.5 s before 8
# answers), long
# before that upstream is found unusable (6 s), so it is answered within
# dig's 4 s.  Before, it waited the whole stall time.  Ordered mode, so
# that the first upstream has every query; a name that must go upstream
# (TXT exists, so no proof held can answer it).
hedge_start 0
ds_dig "hedge: warm-up" "www.$WORLD_ZONE_SEC8" A +dnssec
ds_expect_rcode NOERROR
ds_case "hedge: the first upstream stops answering"
upstream1_stop
DS_DIG_TIME=4 ds_dig "hedge: a name asked while it is silent is answered by the other" \
	"www.$WORLD_ZONE_SEC8" TXT +dnssec
ds_expect_rcode NOERROR
ds_expect_flag ad
ds_case "hedge: counted, and the silent upstream not yet found unusable"
n=$(hedged)
DS_OUT="dotsec_upstream_hedged_total ${n:-none}"
[ "${n:-0}" -ge 1 ] || ds_fail "dotsec_upstream_hedged_total '${n:-none}'"
grep -q "upstream $U1@853#$WORLD_AUTH_NAME unusable" "$DS_STDERR" &&
	ds_fail "found unusable already: the answer came from the stall, not the hedge"
# The request left on it still counts: the stall time passes and makes
# it unusable.
ds_case "hedge: the silent upstream is still found unusable"
ds_wait_stderr "upstream $U1@853#$WORLD_AUTH_NAME unusable: .*no answer for" 80 ||
	ds_fail "no 'unusable' line within 8 s: the hedged request no longer counted"
upstream1_back
ds_dig "hedge: after it, names resolve" "www.$WORLD_ZONE_SEC8" AAAA +dnssec
ds_expect_rcode NOERROR
ds_expect_flag ad
ds_dotsecd_stop

# Hedge, round robin: a hedge is out of turn.  Four names asked one after
# the other with the first upstream silent: the first goes to it and is
# hedged, the second to the other upstream, and so on: two hedges.  When
# a hedge took the other upstream's turn, every name went to the silent
# one first: four.
hedge_start 1
ds_dig "hedge, round robin: warm-up 1" "www.$WORLD_ZONE_SEC8" A +dnssec
ds_dig "hedge, round robin: warm-up 2" "www.$WORLD_ZONE_SEC13" A +dnssec
ds_dig "hedge, round robin: warm-up 3" "www.$WORLD_ZONE_SEC8" A +dnssec
upstream1_stop
for q in "$WORLD_ZONE_SEC8 TXT" "$WORLD_ZONE_SEC8 AAAA" "$WORLD_ZONE_SEC13 TXT" "$WORLD_ZONE_SEC13 AAAA"; do
	set -- $q
	DS_DIG_TIME=4 ds_dig "hedge, round robin: www.$1 $2" "www.$1" "$2" +dnssec
	ds_expect_rcode NOERROR
	ds_expect_flag ad
done
ds_case "hedge, round robin: only the names sent to the silent upstream were hedged"
n=$(hedged)
DS_OUT="dotsec_upstream_hedged_total ${n:-none}"
[ "${n:-0}" -ge 1 ] && [ "${n:-0}" -le 2 ] || ds_fail "dotsec_upstream_hedged_total '${n:-none}', expected 1 or 2 of 4"
kill -CONT "$U1_PID"
ds_dotsecd_stop

# Start-up: two workers, each with the root's keys before any client
# asks; the first client query then costs no root DNSKEY query and no new
# connection.
root_keys() { world_upstream_count . DNSKEY; }
k0=$(root_keys)
ds_dotsecd_start workers=2 "extra=metrics_address: $WORLD_DOTSECD_ADDR@9153"
ds_case "start-up: each worker asked for the root DNSKEY before any client"
i=0
while [ "$(root_keys)" -lt $((k0 + 2)) ] && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
k1=$(root_keys)
DS_OUT="root DNSKEY queries: $k0 before the start, $k1 after"
[ "$k1" -ge $((k0 + 2)) ] || ds_fail "fewer than 2 root DNSKEY queries"
h1=$(world_dotsecd_metrics | awk -v m="dotsec_upstream_tls_handshakes_total{upstream=\"$U1@853\"}" '$1 == m { print $2 }')
for i in 1 2 3 4 5 6; do
	ds_dig "start-up: first queries ($i), on either worker" "first$i.wild.$WORLD_ZONE_SEC13" A +dnssec
	ds_expect_rcode NOERROR
	ds_expect_flag ad
done
ds_case "start-up: no root DNSKEY query and no new connection for them"
h2=$(world_dotsecd_metrics | awk -v m="dotsec_upstream_tls_handshakes_total{upstream=\"$U1@853\"}" '$1 == m { print $2 }')
DS_OUT="root DNSKEY queries $k1 -> $(root_keys); handshakes $h1 -> $h2"
[ "$(root_keys)" = "$k1" ] || ds_fail "the root DNSKEY was asked again"
[ "${h1:-x}" = "${h2:-y}" ] || ds_fail "new TLS connections"
ds_dotsecd_stop

# One cold start, not one per worker: fresh names in a zone that one
# worker has validated reach both workers (SO_REUSEPORT picks one by the
# client's source port, which dig picks at random), and neither asks the
# upstream for the zone's keys again: the relays share the DS and DNSKEY
# replies (the key cache).  Before the key cache, the second worker fetched
# sec13's and example.'s DS and DNSKEY once more.
FRESH=16
zone_keys() {
	echo $(($(world_upstream_count "$WORLD_ZONE_SEC13" DNSKEY) +
		$(world_upstream_count "$WORLD_ZONE_SEC13" DS) +
		$(world_upstream_count "$WORLD_TLD" DNSKEY) +
		$(world_upstream_count "$WORLD_TLD" DS)))
}
ds_dotsecd_start workers=2 "extra=metrics_address: $WORLD_DOTSECD_ADDR@9153"
ds_dig "key cache: a first name in sec13, its keys fetched once" \
	"b0.wild.$WORLD_ZONE_SEC13" A +dnssec
ds_expect_rcode NOERROR
ds_expect_flag ad
world_upstream_settle
k0=$(zone_keys)
for i in $(seq 1 $FRESH); do
	ds_dig "key cache: fresh name $i of $FRESH in sec13, on either worker" \
		"b$i.wild.$WORLD_ZONE_SEC13" A +dnssec
	ds_expect_rcode NOERROR
	ds_expect_flag ad
done
world_upstream_settle
k1=$(zone_keys)
shared=$(world_dotsecd_metrics | awk '$1 == "dotsec_upstream_shared_total" { print $2 }')
ds_case "key cache: no worker asked the upstream for sec13's or example.'s DS or DNSKEY again"
DS_OUT="DS and DNSKEY queries for sec13 and example.: $k0 after the first name, $k1 after $FRESH more; shared $shared"
[ "$k1" = "$k0" ] || ds_fail "keys fetched again: $k0 -> $k1"
ds_case "key cache: the other worker's validator got them from the key cache"
[ "${shared:-0}" -ge 2 ] || ds_fail "dotsec_upstream_shared_total ${shared:-none}"
# Keys that fail validation are not handed to the other worker: a bogus
# verdict drops what the key cache holds of the name's TLD, so that each
# worker's libunbound asks the upstream again once its own bogus TTL is
# over, as it would without the key cache (dsmismatch's DNSKEY matches no
# DS: one upstream DNSKEY query per worker, not one in all).
d0=$(world_upstream_count "$WORLD_ZONE_DSMISMATCH" DNSKEY)
for i in $(seq 1 $FRESH); do
	ds_dig "key cache: bogus name $i of $FRESH in dsmismatch, on either worker" \
		"m$i.wild.$WORLD_ZONE_DSMISMATCH" A +dnssec
	ds_expect_rcode SERVFAIL
done
world_upstream_settle
d1=$(world_upstream_count "$WORLD_ZONE_DSMISMATCH" DNSKEY)
ds_case "key cache: each worker asked the upstream for dsmismatch's DNSKEY itself"
DS_OUT="dsmismatch DNSKEY queries: $d0 -> $d1"
[ "$d1" = $((d0 + 2)) ] || ds_fail "expected $((d0 + 2))"
ds_dotsecd_stop

# A zone's first query: libunbound wants the DS and DNSKEY of each zone
# on the way, one after the other, each a round trip after the answer.
# The relay asks for those of the TLD and the domain below it alongside
# the query, into the key cache, where libunbound's questions find them:
# in the upstream's log they come before the query, each once.  Before,
# they came after it (libunbound's own, one link at a time).
ds_dotsecd_start workers=1 "extra=metrics_address: $WORLD_DOTSECD_ADDR@9153"
n0=$(wc -l <"$WORLD_UPSTREAM_LOG")
ds_dig "chain: the first name in sec15" "www.$WORLD_ZONE_SEC15" A +dnssec
ds_expect_rcode NOERROR
ds_expect_flag ad
world_upstream_settle
ds_case "chain: sec15's and example.'s DS and DNSKEY asked once each, before the query"
DS_OUT=$(tail -n +"$((n0 + 1))" "$WORLD_UPSTREAM_LOG" | awk '/ info: / { print $(NF-2), $(NF-1) }')
for k in "$WORLD_TLD. DS" "$WORLD_TLD. DNSKEY" "$WORLD_ZONE_SEC15. DS" "$WORLD_ZONE_SEC15. DNSKEY"; do
	c=$(printf '%s\n' "$DS_OUT" | grep -cxF "$k" || true)
	[ "$c" = 1 ] || ds_fail "$k asked $c times"
done
last_key=$(printf '%s\n' "$DS_OUT" | grep -nE ' (DS|DNSKEY)$' | grep -v '^[0-9]*:\. ' | tail -n 1 | cut -d: -f1)
query=$(printf '%s\n' "$DS_OUT" | grep -nxF "www.$WORLD_ZONE_SEC15. A" | cut -d: -f1)
[ -n "$query" ] && [ -n "$last_key" ] && [ "$last_key" -lt "$query" ] ||
	ds_fail "the keys were not all asked before the query (last key line ${last_key:-none}, query line ${query:-none})"
kp=$(world_dotsecd_metrics | awk '$1 == "dotsec_upstream_key_prefetches_total" { print $2 }')
[ "${kp:-0}" = 4 ] || ds_fail "dotsec_upstream_key_prefetches_total ${kp:-none}, not 4"
ds_dotsecd_stop

# Warm connections: a query after 20 s of silence finds the connection
# it left (idle_timeout), with no new TCP or TLS handshake.
ds_dotsecd_start "extra=metrics_address: $WORLD_DOTSECD_ADDR@9153"
handshakes() {
	world_dotsecd_metrics | awk -v m="dotsec_upstream_tls_handshakes_total{upstream=\"$U1@853\"}" \
		'$1 == m { print $2 }'
}
ds_dig "idle: a first query" "idle1.wild.$WORLD_ZONE_SEC8" A +dnssec
ds_expect_rcode NOERROR
h1=$(handshakes)
sleep 20
ds_dig "idle: a fresh name after 20 s of silence" "idle2.wild.$WORLD_ZONE_SEC8" A +dnssec
ds_expect_rcode NOERROR
ds_case "idle: no new TLS handshake after 20 s idle"
h2=$(handshakes)
DS_OUT="handshakes before $h1, after $h2"
[ -n "$h1" ] && [ "${h1:-0}" -ge 1 ] || ds_fail "no handshake counted at all"
[ "$h2" = "$h1" ] || ds_fail "a new connection: $h1 -> $h2"
ds_dotsecd_stop

ds_finish
