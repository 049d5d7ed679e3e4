#!/bin/bash
# test_speed.sh -- what the cache saves and what it costs.
#
# 1. A new name in a zone whose keys are cached costs one upstream query:
#    after a warm-up query, N new names under the wildcard of a secure zone
#    (NSEC3 sec13, NSEC sec15) send at most 1.1 x N queries to the upstream
#    (its query log) and no DNSKEY or DS query for the zone, the TLD or the
#    root again.  The same for N nonexistent names of the NSEC zone sec15
#    covered by the NSEC of the warm-up NXDOMAIN.  How many names were
#    answered from the cache (aggressive NSEC, RFC 8198) is only reported:
#    in the NSEC zone libunbound synthesises the wildcard answers too.
#    Every run here has aggressive_nsec off: what it measures is the path
#    of a miss, which dotsecd's own synthesis from NSEC3 (test_synth.sh)
#    would skip for the NSEC3 zone's names.
#    Twenty identical queries in flight (the upstream stopped for a second)
#    cost one upstream query.
# 2. Serve-stale (RFC 8767) with cache_max_ttl 2: with serve_stale on, an
#    expired name gets a fresh answer while the upstream answers, and,
#    once the upstream is stopped (SIGSTOP), the expired data within about
#    2.5 s with every TTL 30 and EDE 3; a name never seen gets SERVFAIL;
#    after SIGCONT fresh answers again.  With serve_stale off: SERVFAIL with
#    EDE 22, never EDE 3.
#    Prefetch, with cache_max_ttl 20: a name asked for at 18.5 s (the last
#    tenth of its TTL) is answered from the cache and fetched upstream once
#    more in the background; at 21 s it is still answered from the cache,
#    with a fresh TTL, and nothing went upstream for it; the same again in
#    the refreshed answer's last tenth.  A name not asked for again is not
#    fetched again.  A refresh that comes back bogus (the upstream answers
#    unsigned data) leaves the validated answer in place.  The metrics count
#    the prefetches and the failed one.
# 3. cache_size bounds memory: with cache_size 8 MiB and one worker, a cold
#    load of unique names (dnsperf, at least 5000 NOERROR answers) fills the
#    answer cache to its share (metrics) and leaves dotsecd's VmHWM at most
#    cache_size + 32 MiB (not checked in a sanitizer build, whose RSS is
#    the sanitizer's).
#
# Run: DOTSECD=/path/to/dotsecd bash tests/system/test_speed.sh
set -eu
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

ds_init
ds_require_dotsecd
ds_require dnsperf kill seq
T_START=$(date +%s)

# The upstream may be stopped (SIGSTOP) by the serve-stale cases: whatever
# happens, it gets SIGCONT before lib.sh's clean-up stops the world.
SP_STOPPED=""
sp_cont() {
	[ -n "$SP_STOPPED" ] || return 0
	kill -CONT "$SP_STOPPED" 2>/dev/null || true
	SP_STOPPED=""
}
# shellcheck disable=SC2317 # run by the EXIT trap
_sp_on_exit() {
	local rc=$?
	set +e
	sp_cont
	(exit "$rc")
	_ds_on_exit
}
trap '_sp_on_exit' EXIT

world_start
T=$WORLD_TLD
# Part of every name this run makes up.
TAG=t$$

# Every query the good upstream logged ("info: ADDR NAME. TYPE IN").
upstream_total() {
	awk '/ info: [0-9.]+ [^ ]+ [A-Za-z0-9]+ IN$/ { n++ } END { print n + 0 }' \
		"$WORLD_UPSTREAM_LOG"
}

# keys_seen ZONE: the upstream's counts of DNSKEY and DS queries for ZONE,
# the TLD and the root, as one line.
keys_seen() {
	printf '%s DNSKEY %s, %s DS %s, %s. DNSKEY %s, %s. DS %s, . DNSKEY %s' \
		"$1." "$(world_upstream_count "$1" DNSKEY)" \
		"$1." "$(world_upstream_count "$1" DS)" \
		"$T" "$(world_upstream_count "$T" DNSKEY)" \
		"$T" "$(world_upstream_count "$T" DS)" \
		"$(world_upstream_count . DNSKEY)"
}

# qdig ARGS...: dig against dotsecd like ds_dig, without opening a case;
# prints dig's output.
qdig() {
	dig -b "$WORLD_CLIENT_ADDR" @"$DS_ADDR" -p "$DS_PORT" \
		+time="${DS_DIG_TIME:-5}" +tries=1 "$@" 2>&1 || true
}

# metric NAME: its value in the metrics page on stdin (empty if none).
metric() { awk -v m="$1" '$1 == m { print $2 }'; }

# TTLs of the answer section of DS_OUT, one per line (TYPE TTL).
answer_ttls() {
	ds_section ANSWER | awk 'NF >= 5 { print $4, $2 }'
}

# expect_ede3 / expect_no_ede3: an EDE option with info-code 3 (Stale
# Answer) in DS_OUT, or none.
expect_ede3() {
	ds_ede_codes | grep -qx 3 ||
		ds_fail "no EDE 3 (Stale Answer); EDE codes: $(ds_ede_codes | tr '\n' ' ')"
}
expect_no_ede3() {
	! ds_ede_codes | grep -qx 3 || ds_fail "EDE 3 (Stale Answer) in the reply"
}
# expect_ttl30 all|none: every record of the answer section has TTL 30
# (a stale answer), or none has.
expect_ttl30() {
	local t op='!=' what="answer TTLs not all 30"
	if [ "$1" = none ]; then
		op="=="
		what="TTL 30 in the answer (a stale answer?)"
	fi
	t=$(answer_ttls)
	[ -n "$t" ] || { ds_fail "empty answer section"; return 0; }
	! awk "\$2 $op 30" <<<"$t" | grep -q . ||
		ds_fail "$what: $(tr '\n' ' ' <<<"$t")"
}

# expect_fresh: DS_OUT is a fresh validated answer for $S: NOERROR, AD,
# its data, and neither EDE 3 nor the stale TTL 30.
expect_fresh() {
	ds_expect_rcode NOERROR
	ds_expect_flag ad
	ds_expect_answer_has "$S_DATA"
	expect_no_ede3
	expect_ttl30 none
}

# upstream_stop / upstream_cont: SIGSTOP / SIGCONT the good upstream unbound.
upstream_stop() {
	local pid
	pid=$(world_upstream_pid 1)
	[ -n "$pid" ] || ds_die "the good upstream unbound is not running"
	kill -STOP "$pid"
	SP_STOPPED=$pid
}
upstream_cont() {
	sp_cont
}

# ============================================================ 1. new names

ds_dotsecd_start timeout=3000 extra="aggressive_nsec: false"
# dotsecd probes the root DNSKEY set (RFC 5011) once at start: let that
# probe finish, so that its . DNSKEY query does not fall in a measurement.
for _ in $(seq 1 50); do
	grep -q 'trust anchor: next probe in' "$DS_STDERR" && break
	sleep 0.2
done

N=10
LIMIT10=$((N * 11)) # 10 x the bound 1.1 x N

# new_names LABEL ZONE KIND N: KIND "wild" (NOERROR under *.wild.ZONE, the
# data DATA) or "nx" (NXDOMAIN next to nx.ZONE).
new_names() {
	local label=$1 zone=$2 kind=$3 n=$4 data=${5:-} warm rcode i q o c0 c1
	local k0 k1 bad="" mine=0 st
	if [ "$kind" = wild ]; then
		warm=warm-$TAG.wild.$zone
		rcode=NOERROR
	else
		warm=nx.$zone
		rcode=NXDOMAIN
	fi
	ds_dig "$label: warm-up query $warm ($rcode, AD)" +dnssec "$warm" A
	ds_expect_rcode "$rcode"
	ds_expect_flag ad
	[ -z "$data" ] || ds_expect_answer_has "$data"
	world_upstream_settle
	c0=$(upstream_total)
	k0=$(keys_seen "$zone")

	ds_case "$label: $n new names answered $rcode with AD"
	DS_OUT=""
	for i in $(seq 1 "$n"); do
		if [ "$kind" = wild ]; then
			q=n$i-$TAG.wild.$zone
		else
			# "nx..." sorts before "wild" and after "*": the apex
			# NSEC of the warm-up's proof covers every such name.
			q=nx$i-$TAG.$zone
		fi
		o=$(qdig +dnssec "$q" A)
		st=$(sed -n 's/.*status: \([A-Z]*\),.*/\1/p' <<<"$o" | head -n 1)
		if [ "$st" != "$rcode" ] ||
			! grep -q '^;; flags:[^;]* ad[ ;]' <<<"$o" ||
			{ [ -n "$data" ] && ! grep -qF "$data" <<<"$o"; }; then
			bad="$bad $q(${st:-no reply})"
			DS_OUT="$DS_OUT$o
"
		fi
	done
	[ -z "$bad" ] || ds_fail "not $rcode with AD${data:+ and $data}:$bad"
	world_upstream_settle
	c1=$(upstream_total)
	k1=$(keys_seen "$zone")
	for i in $(seq 1 "$n"); do
		if [ "$kind" = wild ]; then
			q=n$i-$TAG.wild.$zone
		else
			q=nx$i-$TAG.$zone
		fi
		[ "$(world_upstream_count "$q" A)" = 0 ] || mine=$((mine + 1))
	done
	printf '%s: info: %s: %d new names: %d new upstream queries, %d of the names reached the upstream (%d answered from the cache)\n' \
		"$DS_TEST" "$label" "$n" "$((c1 - c0))" "$mine" "$((n - mine))"

	ds_case "$label: $n new names cost at most $((LIMIT10 / 10)).$((LIMIT10 % 10)) upstream queries ($((c1 - c0)) sent)"
	DS_OUT=$(tail -n 40 "$WORLD_UPSTREAM_LOG")
	[ $(((c1 - c0) * 10)) -le "$LIMIT10" ] ||
		ds_fail "$((c1 - c0)) upstream queries for $n new names (limit 1.1 x $n)"

	ds_case "$label: no DNSKEY or DS query for $zone or its parents again"
	DS_OUT="before: $k0
after:  $k1
$(tail -n 40 "$WORLD_UPSTREAM_LOG")"
	[ "$k1" = "$k0" ] || ds_fail "key queries changed"
}

new_names "new names, NSEC3 zone (wildcard)" "sec13.$T" wild "$N" 198.51.100.13
new_names "new names, NSEC zone (wildcard)" "sec15.$T" wild "$N" 198.51.100.15
new_names "nonexistent names, NSEC zone" "sec15.$T" nx "$N"

# Identical queries in flight are merged: 20 clients ask for the same new
# name while the upstream is stopped for a second; it gets one query.
D=dup-$TAG.wild.sec13.$T
upstream_stop
dpids=""
for i in $(seq 1 20); do
	dig -b "$WORLD_CLIENT_ADDR" @"$DS_ADDR" -p "$DS_PORT" +time=8 +tries=1 \
		+dnssec "$D" A >"$WORLD_DIR/dup.$i" 2>&1 &
	dpids="$dpids $!"
done
sleep 1
upstream_cont
for p in $dpids; do wait "$p" || true; done
world_upstream_settle
ok=0
for i in $(seq 1 20); do
	grep -q 'status: NOERROR' "$WORLD_DIR/dup.$i" && ok=$((ok + 1))
done
ds_case "20 identical queries in flight: all answered NOERROR ($ok)"
DS_OUT=$(for i in $(seq 1 20); do
	if grep -q 'status: NOERROR' "$WORLD_DIR/dup.$i"; then
		printf '%s: NOERROR\n' "$i"
	else
		printf '%s: --- whole output ---\n' "$i"
		cat "$WORLD_DIR/dup.$i"
	fi
done)
[ "$ok" = 20 ] || ds_fail "$ok of 20 answered NOERROR"
ds_case "20 identical queries in flight: one upstream query"
n=$(world_upstream_count "$D" A)
DS_OUT=$(grep -i "$D" "$WORLD_UPSTREAM_LOG" || true)
[ "$n" = 1 ] || ds_fail "$n upstream queries for $D A"
ds_dotsecd_stop

# ============================================================ 2. serve-stale

S=www.sec15.$T
S_DATA=192.0.2.15

ds_dotsecd_start timeout=3000 extra="serve_stale: true
cache_max_ttl: 2"

# (a) expired, upstream answering: a fresh answer.
ds_dig "serve_stale on: first query $S" +dnssec "$S" A
ds_expect_rcode NOERROR
ds_expect_flag ad
ds_expect_answer_has "$S_DATA"
world_upstream_settle
s0=$(world_upstream_count "$S" A)
sleep 3
ds_dig "serve_stale on (a): $S again 3 s later (TTL capped at 2 s), upstream answering: fresh, AD, no EDE 3, TTL not 30" \
	+dnssec +time=6 "$S" A
expect_fresh
world_upstream_settle
s1=$(world_upstream_count "$S" A)
ds_case "serve_stale on (a): the expired name was fetched again from the upstream"
DS_OUT=$(tail -n 20 "$WORLD_UPSTREAM_LOG")
[ "$s1" -gt "$s0" ] || ds_fail "upstream count for $S A stayed $s0 (not expired after 3 s with cache_max_ttl 2?)"

# (b) expired, upstream stopped: the stale answer.
upstream_stop
sleep 3
ds_dig "serve_stale on (b): $S expired, upstream stopped: stale NOERROR, EDE 3, every TTL 30, within 2.5 s" \
	+dnssec +time=6 "$S" A
ds_expect_rcode NOERROR
ds_expect_answer_has "$S_DATA"
expect_ede3
expect_ttl30 all
ds_expect_max_ms 2500
printf '%s: info: stale answer after %d ms\n' "$DS_TEST" "$DS_DIG_MS"

# (c) a name never seen: nothing stale to give.
ds_dig "serve_stale on (c): a name never queried ($WORLD_ZONE_INSECURE), upstream stopped: SERVFAIL, no EDE 3" \
	+dnssec +time=12 "www.$WORLD_ZONE_INSECURE" A
ds_expect_rcode SERVFAIL
expect_no_ede3
printf '%s: info: SERVFAIL for a name never seen after %d ms\n' "$DS_TEST" "$DS_DIG_MS"

# (d) the upstream answers again: fresh answers again.  Not at once:
# libunbound remembers the failure for a few seconds (RFC 8767 5 even
# suggests a 30 s failure recheck timer), and until then the stale data
# keeps coming.  Within 15 s it must be fresh.
upstream_cont
world_upstream_settle
s2=$(world_upstream_count "$S" A)
t0=$(date +%s)
while :; do
	out=$(dig -b "$WORLD_CLIENT_ADDR" @"$DS_ADDR" -p "$DS_PORT" +time=6 \
		+tries=1 +dnssec "$S" A 2>&1) || true
	if grep -q 'status: NOERROR' <<<"$out" &&
		! grep -q '^; EDE: 3' <<<"$out"; then
		break
	fi
	[ $(($(date +%s) - t0)) -lt 15 ] || break
	sleep 1
done
printf '%s: info: fresh answers %d s after the upstream came back\n' \
	"$DS_TEST" "$(($(date +%s) - t0))"
ds_dig "serve_stale on (d): upstream answering again: $S fresh, AD, no EDE 3, TTL not 30" \
	+dnssec +time=6 "$S" A
expect_fresh
world_upstream_settle
ds_case "serve_stale on (d): the name was fetched from the upstream again"
s3=$(world_upstream_count "$S" A)
DS_OUT=$(tail -n 20 "$WORLD_UPSTREAM_LOG")
[ "$s3" -gt "$s2" ] || ds_fail "upstream count for $S A stayed $s2"
ds_dotsecd_stop

# (e) serve_stale off: SERVFAIL with EDE 22, never EDE 3.
ds_dotsecd_start timeout=3000 extra="serve_stale: false
cache_max_ttl: 2"
ds_dig "serve_stale off: first query $S" +dnssec "$S" A
ds_expect_rcode NOERROR
ds_expect_flag ad
ds_expect_answer_has "$S_DATA"
upstream_stop
sleep 3
ds_dig "serve_stale off (e): $S expired, upstream stopped: SERVFAIL with EDE 22 (no EDE 3)" \
	+dnssec +time=12 "$S" A
ds_expect_rcode SERVFAIL
expect_no_ede3
ds_expect_ede 22
printf '%s: info: SERVFAIL without serve_stale after %d ms\n' "$DS_TEST" "$DS_DIG_MS"
upstream_cont
ds_dotsecd_stop

# cache_max_ttl holds after an RFC 5011 probe: libunbound keeps the TTL
# bounds process-wide, and a probe's own context must not reset them.
ds_dotsecd_start timeout=3000 extra="cache_max_ttl: 2
anchor_probe_interval: 1"
ds_dig "cache_max_ttl 2 before a probe: TTL at most 2" +dnssec "first-$TAG.wild.sec8.$T" A
ds_expect_rcode NOERROR
[ "$(answer_ttls | awk '$1 == "A" { print $2; exit }')" -le 2 ] || ds_fail "TTL above 2"
n=$(grep -c 'trust anchor: probing . DNSKEY' "$DS_STDERR" || true)
ds_case "an anchor probe ran after the first query"
i=0
while [ "$(grep -c 'trust anchor: probing . DNSKEY' "$DS_STDERR" || true)" -le "$n" ] && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
[ "$(grep -c 'trust anchor: probing . DNSKEY' "$DS_STDERR" || true)" -gt "$n" ] || ds_fail "no probe within 5 s"
sleep 1
ds_dig "cache_max_ttl 2 after a probe: TTL at most 2" +dnssec "second-$TAG.wild.sec8.$T" A
ds_expect_rcode NOERROR
[ "$(answer_ttls | awk '$1 == "A" { print $2; exit }')" -le 2 ] || ds_fail "TTL $(answer_ttls | awk '$1 == "A" { print $2; exit }') above 2"
ds_dotsecd_stop

# ============================================================ prefetch
ds_dotsecd_start timeout=3000 extra="cache_max_ttl: 20
aggressive_nsec: false
metrics_address: $WORLD_DOTSECD_ADDR@9153"
# sleep_until T MS: sleep until MS milliseconds after T (date +%s%N).
sleep_until() {
	local left=$((($1 - $(date +%s%N)) / 1000000 + $2))
	[ "$left" -le 0 ] || sleep "$((left / 1000)).$(printf '%03d' $((left % 1000)))"
}
# a_ttl: the TTL of the A record in DS_OUT's answer.
a_ttl() { answer_ttls | awk '$1 == "A" { print $2; exit }'; }
P=pf-$TAG.wild.sec13.$T
P2=pf2-$TAG.wild.sec13.$T
F=pff-$TAG.wild.sec13.$T
ds_dig "prefetch: first query for $P" +dnssec "$P" A
ds_expect_rcode NOERROR
t0=$(date +%s%N)
ds_dig "prefetch: first query for $P2" +dnssec "$P2" A
ds_expect_rcode NOERROR
ds_dig "prefetch: first query for $F" +dnssec "$F" A
tF=$(date +%s%N)
ds_expect_rcode NOERROR
ds_expect_answer_has 198.51.100.13
# F's cached entry lives as long as its smallest TTL, and its NSEC3
# proof may come from the cache, older than F's own A record: its last
# tenth is reckoned from that, not from P's (under a slow build it can
# end before P's 18.5 s).
fttl=$({ ds_section ANSWER; ds_section AUTHORITY; } |
	awk 'NF >= 5 { print $2 }' | sort -n | head -n 1)
[ -n "$fttl" ] && [ "$fttl" -ge 10 ] || ds_fail "F's smallest TTL '${fttl:-none}': no last tenth to test"
world_upstream_settle
n0=$(world_upstream_count "$P" A)
# t0: just after the answer being aged was stored (cycle 1: the first
# answer; cycle 2: the first refresh, which is stored within milliseconds
# of its trigger, long before the upstream's log settles).
for cycle in 1 2; do
	if [ "$cycle" = 1 ]; then
		# F, asked for in the last tenth of its own entry: its
		# refresh comes back bogus (the upstream now answers unsigned
		# data for it), and replaces nothing: F keeps its validated
		# answer until it expires.
		sleep_until "$tF" $((fttl * 930))
		DS_OUT=$(world_upstream_ctl local_data "$F. 3600 IN A 192.0.2.66" 2>&1) ||
			ds_fail "unbound-control local_data: $DS_OUT"
		ds_dig "prefetch: $F in its last tenth, from the cache" +dnssec "$F" A
		ds_expect_rcode NOERROR
		ds_expect_answer_has 198.51.100.13
	fi
	sleep_until "$t0" 18500
	ds_dig "prefetch $cycle: at 18.5 s, from the cache with TTL 1 or 2" +dnssec "$P" A
	t1=$(($(date +%s%N) + 150000000))
	ds_expect_rcode NOERROR
	ds_expect_flag ad
	ttl=$(a_ttl)
	[ "${ttl:-99}" -le 2 ] || ds_fail "TTL ${ttl:-none}: not the first answer's last tenth"
	if [ "$cycle" = 1 ]; then
		# The failed refresh is logged (debug) when it is over.
		ds_wait_stderr "prefetch $F.* not stored" 10 || true
		ds_dig "prefetch: after its refresh came back bogus, $F keeps its validated answer" +dnssec "$F" A
		ds_expect_rcode NOERROR
		ds_expect_flag ad
		ds_expect_answer_has 198.51.100.13
		grep -q "prefetch $F.* not stored: .*" "$DS_STDERR" ||
			ds_fail "no failed prefetch of $F logged"
	fi
	world_upstream_settle
	n1=$(world_upstream_count "$P" A)
	ds_case "prefetch $cycle: fetched upstream once more in the background ($n0 -> $n1 queries)"
	DS_OUT=$(grep -i -e "$P" "$WORLD_UPSTREAM_LOG" "$DS_STDERR" || true)
	grep -q "prefetch $P" "$DS_STDERR" || ds_fail "no prefetch logged"
	[ "$n1" = $((n0 + 1)) ] || ds_fail "upstream queries for $P A: $n0 -> $n1"
	sleep_until "$t0" 21000
	ds_dig "prefetch $cycle: at 21 s, past that answer's TTL, from the cache with a fresh TTL" +dnssec "$P" A
	ds_expect_rcode NOERROR
	ds_expect_flag ad
	ttl=$(a_ttl)
	[ "${ttl:-0}" -ge 15 ] || ds_fail "TTL ${ttl:-none}"
	world_upstream_settle
	n2=$(world_upstream_count "$P" A)
	ds_case "prefetch $cycle: nothing more went upstream ($n1 -> $n2)"
	DS_OUT=$(grep -i -e "$P" "$WORLD_UPSTREAM_LOG" || true)
	[ "$n2" = "$n1" ] || ds_fail "upstream queries for $P A: $n1 -> $n2"
	# The next cycle counts from the refreshed answer.
	t0=$t1
	n0=$n2
done
ds_case "prefetch: a name not asked for again was not fetched again"
DS_OUT=$(grep -i -e "$P2" "$WORLD_UPSTREAM_LOG" || true)
[ "$(world_upstream_count "$P2" A)" = 1 ] || ds_fail "upstream queries for $P2 A: $(world_upstream_count "$P2" A)"
ds_case "prefetch: the metrics count three prefetches, one failed"
page=$(world_dotsecd_metrics) || page=""
pf=$(metric dotsec_prefetches_total <<<"$page")
pff=$(metric dotsec_prefetch_failures_total <<<"$page")
DS_OUT="prefetches ${pf:-none}, failures ${pff:-none}"
[ "${pf:-}" = 3 ] || ds_fail "dotsec_prefetches_total ${pf:-none}"
[ "${pff:-}" = 1 ] || ds_fail "dotsec_prefetch_failures_total ${pff:-none}"
ds_dotsecd_stop

# ============================================================ 3. memory

CACHE=$((8 * 1024 * 1024))
HWM_LIMIT_KB=$(((CACHE + 32 * 1024 * 1024) / 1024))
LOAD_N=${DS_SPEED_LOAD:-40000}
ds_dotsecd_start timeout=3000 workers=1 extra="cache_size: $CACHE
aggressive_nsec: false
metrics_address: $WORLD_DOTSECD_ADDR@9153"
# One query first: the keys are fetched and the start-up probe is done.
ds_dig "cache_size 8 MiB: dotsecd answers" +dnssec "www.sec13.$T" A
ds_expect_rcode NOERROR
ds_expect_flag ad
for _ in $(seq 1 50); do
	grep -q 'trust anchor: next probe in' "$DS_STDERR" && break
	sleep 0.2
done

vm() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$DS_PID/status"; }
rss0=$(vm VmRSS)
qf=$WORLD_DIR/load.queries
seq 1 "$LOAD_N" | awk -v s="$TAG.wild.sec13.$T" '{ printf "c%d-%s A\n", $1, s }' >"$qf"
perf_out=$WORLD_DIR/dnsperf.out
world_register_log "$perf_out" "dnsperf output"
t0=$(date +%s%N)
dnsperf -s "$DS_ADDR" -p "$DS_PORT" -a "$WORLD_CLIENT_ADDR" -d "$qf" \
	-n 1 -l 30 -q 200 -t 5 -D >"$perf_out" 2>&1 || true
perf_ms=$((($(date +%s%N) - t0) / 1000000))
noerror=$(awk '/Response codes:/ { for (i = 1; i < NF; i++) if ($i == "NOERROR") print $(i + 1) + 0 }' "$perf_out" | head -n 1)
noerror=${noerror:-0}
completed=$(awk '/Queries completed:/ { print $3; exit }' "$perf_out")
kill -USR1 "$DS_PID" 2>/dev/null || true
sleep 0.3
rss1=$(vm VmRSS)
hwm=$(vm VmHWM)
printf '%s: info: cold load of %d unique names in %d ms: %s completed, %d NOERROR; VmRSS %s kB before, %s kB after, VmHWM %s kB (limit %d kB)\n' \
	"$DS_TEST" "$LOAD_N" "$perf_ms" "${completed:-?}" "$noerror" "$rss0" "$rss1" "$hwm" "$HWM_LIMIT_KB"
printf '%s: info: %s\n' "$DS_TEST" "$(grep 'stats: ' "$DS_STDERR" | tail -n 1 | sed 's/.*stats: /stats: /')"

ds_case "cache_size 8 MiB: the cold load was answered (>= 5000 NOERROR; $noerror)"
DS_OUT=$(cat "$perf_out")
[ "$noerror" -ge 5000 ] || ds_fail "only $noerror NOERROR answers: the memory bound below proves nothing"
# The answer cache's own accounting: full, and within its share.
metrics=$(world_dotsecd_metrics) || metrics=""
ac_bytes=$(metric dotsec_answer_cache_bytes <<<"$metrics")
ac_max=$(metric dotsec_answer_cache_max_bytes <<<"$metrics")
ac_evict=$(metric dotsec_answer_cache_evictions_total <<<"$metrics")
ds_case "cache_size 8 MiB: the answer cache filled up and stayed within its share (${ac_bytes:-?} of ${ac_max:-?} bytes, ${ac_evict:-?} evictions)"
DS_OUT=$(grep answer_cache <<<"$metrics")
[ -n "$ac_bytes" ] && [ -n "$ac_max" ] || ds_fail "no answer cache metrics"
[ "${ac_max:-0}" -eq $((CACHE / 4)) ] || ds_fail "share ${ac_max:-?}, expected $((CACHE / 4))"
[ "${ac_bytes:-1}" -le "${ac_max:-0}" ] || ds_fail "over its bound"
[ "${ac_evict:-0}" -gt 0 ] || ds_fail "no eviction: the load did not fill it"

# A sanitizer build's RSS is mostly the sanitizer's own (shadow memory,
# quarantine of freed blocks): the bound holds for the real build, which
# `make check` runs; here the figures are only reported.
if grep -qa __asan_init "$DOTSECD"; then
	printf '%s: info: sanitizer build: VmHWM %s kB is not checked against %d kB\n' \
		"$DS_TEST" "$hwm" "$HWM_LIMIT_KB"
else
	ds_case "cache_size 8 MiB: VmHWM ${hwm:-?} kB <= cache_size + 32 MiB ($HWM_LIMIT_KB kB; VmRSS ${rss1:-?} kB)"
	DS_OUT="VmRSS before $rss0 kB, after $rss1 kB; VmHWM $hwm kB
$(grep -E '^Vm' "/proc/$DS_PID/status")"
	[ -n "$hwm" ] || ds_fail "no VmHWM for PID $DS_PID"
	[ "${hwm:-999999999}" -le "$HWM_LIMIT_KB" ] ||
		ds_fail "VmHWM $hwm kB over $HWM_LIMIT_KB kB"
fi
ds_dotsecd_stop

printf '%s: info: run time %d s\n' "$DS_TEST" "$(($(date +%s) - T_START))"
ds_finish
