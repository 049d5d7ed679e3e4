#!/bin/bash
# stress.sh -- dotsecd under load and upstream faults ("Hostile input and
# faults", parts 4-6), on loopback only, every scenario bounded in time:
#
#  a. steady UDP load (unique names: every query goes upstream) with two
#     good upstreams; upstream 1 killed (SIGKILL) a third of the way in:
#     every query is answered; the SERVFAILs of the failover window (the
#     kill to kill + timeout + tls_backoff_time + 1 s) are counted; outside
#     it at least 99 % NOERROR (upstream 2 answers);
#  b. both upstreams down: every query SERVFAIL with EDE 22 or 23 within
#     timeout + slack;
#  c. upstream 1 restarted: NOERROR again within the recovery bound
#     (timeout + tls_backoff_time + 3 s after it answers again), and at
#     least 99 % NOERROR after it;
#  d. (a second dotsecd) upstreams that accept TCP but never start TLS, and
#     that complete TLS (the world's dns.test certificate) but never answer:
#     every query SERVFAIL with EDE 22/23 within timeout + slack, and their
#     open connections stay bounded;
#  e. slowloris: TCP clients sending one byte a second are closed within
#     tcp_read_timeout + 1 s of their first byte, while UDP load and TCP
#     clients are served;
#  f. more TCP connections than tcp_max_connections: the extra ones are
#     closed without an answer, the others keep working, and a new one
#     works once they are closed;
#  g. the DoT listener: clients that connect, ask 5 pipelined queries and
#     close, over and over; TCP connections that never start TLS, closed
#     within tls_handshake_timeout + 1 s; a TLS client that sends 2000
#     queries and never reads; UDP clients served meanwhile.
#
# The 99 %: a few SERVFAILs long after a failover have been seen now and
# then (reported); a failover that does not work fails the case.
#
# Pass criteria, for each scenario: no query lost (an answer within its
# deadline, timeout + slack; nothing is dropped on purpose in a-c); RSS and
# open fds of dotsecd back to what they were before the scenario (measured
# after the load ends, polled until they settle, up to 10 s): RSS at most
# 10 % + 2 MiB above (a smaller RSS is fine), fds within 10 % + 4 either
# way.  For each dotsecd run: no sanitizer report in its stderr, exit 0 on
# SIGTERM.  Then a Markdown table and "stress: N cases, P passed, F failed".
#
# Environment: DOTSECD (as for the system tests; an --enable-sanitizers
# build is what this is meant for), STRESS_SECONDS (length of each load,
# default 10; a and c run longer when needed: 3 s past the failover window,
# 4 s past the recovery bound), STRESS_RATE (UDP queries per second,
# default 200),
# WORLD_KEEP=1, DS_VERBOSE=1.
#
# Addresses: the world's ($WORLD_NET.x, see tests/system/world.sh), the
# second upstream on .7, the hostile ones (badup.py) on .8 and .9.
#
# Run: DOTSECD=/path/to/dotsecd bash tests/stress/stress.sh
set -eu
STRESS_DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR
# shellcheck source=../system/lib.sh
. "$STRESS_DIR/../system/lib.sh"

S=${STRESS_SECONDS:-10}
RATE=${STRESS_RATE:-200}
case $S in '' | *[!0-9]*) ds_die "STRESS_SECONDS must be a whole number" ;; esac
case $RATE in '' | *[!0-9]*) ds_die "STRESS_RATE must be a whole number" ;; esac
if [ "$S" -lt 3 ] || [ "$S" -gt 600 ]; then ds_die "STRESS_SECONDS must be 3..600"; fi
if [ "$RATE" -lt 1 ] || [ "$RATE" -gt 2000 ]; then ds_die "STRESS_RATE must be 1..2000"; fi

TIMEOUT_MS=2000         # dotsecd's timeout
BACKOFF_S=2             # dotsecd's tls_backoff_time
SLACK_MS=1500           # on top of the timeout, for every answer
DEADLINE_MS=$((TIMEOUT_MS + SLACK_MS))
READ_TIMEOUT_MS=2000    # tcp_read_timeout
READ_SLACK_MS=1000
MAX_CONN=40             # tcp_max_connections
DOT_PORT=8853           # listen_tls_addresses
HS_TIMEOUT_MS=1000      # tls_handshake_timeout
DOT_CLIENTS=5
RSS_SLACK_KB=2048
FD_SLACK=4
SETTLE_MAX_S=10
FAILOVER_MS=$((TIMEOUT_MS + BACKOFF_S * 1000 + 1000))
RECOVERY_MS=$((TIMEOUT_MS + BACKOFF_S * 1000 + 3000))
# The configuration of every dotsecd run (besides lib.sh's keys): a small
# cache, so that unique names fill it during the warm-up and RSS then
# stays flat; idle upstream connections closed after 2 s; no answers made
# from validated NSEC3 (aggressive_nsec), which would answer the unique
# names below without the upstreams whose failures are the point here.
EXTRA="cache_size: 1048576
aggressive_nsec: false
idle_timeout: 2000
tcp_read_timeout: $READ_TIMEOUT_MS
tcp_max_connections: $MAX_CONN
tcp_idle_timeout: 30000"

TABLE=()
BADUP_PID=""

# Under AddressSanitizer, freed memory waits in a quarantine (256 MiB by
# default) before it is reused, so RSS grows with every allocation until
# the quarantine is full: capped here (use-after-free is still caught
# within 16 MiB of frees), RSS then levels off after the warm-up.
export ASAN_OPTIONS="quarantine_size_mb=16${ASAN_OPTIONS:+:$ASAN_OPTIONS}"

ds_init
ds_require_dotsecd
world_start
world_start_second_upstream
# The DoT listener of g (both runs have it): a certificate of the world's
# CA for dot.test.
_world_leaf "$WORLD_DIR/tls" dotsvc dot.test ca
chmod 600 "$WORLD_DIR/tls/dotsvc.key"
EXTRA="$EXTRA
listen_tls_addresses:
  - $WORLD_DOTSECD_ADDR@$DOT_PORT
tls_service_pem: \"$WORLD_DIR/tls/dotsvc.pem\"
tls_service_key: \"$WORLD_DIR/tls/dotsvc.key\"
tls_handshake_timeout: $HS_TIMEOUT_MS"
# Every query a cache miss: unique names under the wildcard of the NSEC3
# zone, which no cached proof answers with aggressive_nsec off (EXTRA).
ZONE_MISS=wild.sec13.$WORLD_TLD
NAME_HIT=www.sec8.$WORLD_TLD

if grep -qa __asan_report "$DOTSECD" 2>/dev/null; then
	printf 'stress: %s is a sanitizer build\n' "$DOTSECD"
else
	printf 'stress: %s is not a sanitizer build (memory errors show only as crashes)\n' "$DOTSECD"
fi

# ---------------------------------------------------------------- helpers

# jget FILE EXPR: a Python expression over the JSON object d in FILE.
jget() {
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
v = eval(sys.argv[2], {"d": d})
print(v if v is not None else "")' "$1" "$2"
}

# The load's JSON for a failure message, without the timeline but with a
# compact one.
load_summary() {
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
tl = d.pop("timeline", [])
fo = d.pop("fail_offsets_ms", [])
d["fail_offsets_ms (first 20)"] = fo[:20]
print(json.dumps(d, sort_keys=True))
print("timeline (t sent NOERROR SERVFAIL other lost): " + "  ".join(
    "%d:%d/%d/%d/%d/%d" % (r["t"], r["sent"], r["NOERROR"], r["SERVFAIL"],
                           r["other"], r["lost"]) for r in tl))' "$1"
}

rss_kb() {
	awk '/^VmRSS:/ { print $2; f = 1 } END { if (!f) print 0 }' \
		"/proc/$DS_PID/status" 2>/dev/null || echo 0
}

nfds() {
	find "/proc/$DS_PID/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l
}

# measure: RSS0 and FD0, before a scenario.
measure() {
	RSS0=$(rss_kb)
	FD0=$(nfds)
}

# settle: poll until RSS and fds are back within bounds of RSS0/FD0, at
# most SETTLE_MAX_S; RSS1 and FD1 are the last values.
_within() {
	[ "$RSS1" -le $((RSS0 + RSS0 / 10 + RSS_SLACK_KB)) ] &&
		[ "$FD1" -le $((FD0 + FD0 / 10 + FD_SLACK)) ] &&
		[ "$FD1" -ge $((FD0 - FD0 / 10 - FD_SLACK)) ]
}
settle() {
	local i=0
	RSS1=$(rss_kb)
	FD1=$(nfds)
	while ! _within && [ $i -lt $((SETTLE_MAX_S * 2)) ]; do
		sleep 0.5
		RSS1=$(rss_kb)
		FD1=$(nfds)
		i=$((i + 1))
	done
}

# check_resources: a failure of the current case when RSS/fds did not
# come back.
check_resources() {
	kill -0 "$DS_PID" 2>/dev/null || {
		ds_fail "dotsecd (PID $DS_PID) is not running"
		return 0
	}
	[ "$RSS1" -le $((RSS0 + RSS0 / 10 + RSS_SLACK_KB)) ] ||
		ds_fail "RSS ${RSS0} kB before, ${RSS1} kB ${SETTLE_MAX_S}s after: more than 10% + ${RSS_SLACK_KB} kB growth"
	if [ "$FD1" -gt $((FD0 + FD0 / 10 + FD_SLACK)) ] ||
		[ "$FD1" -lt $((FD0 - FD0 / 10 - FD_SLACK)) ]; then
		ds_fail "open fds ${FD0} before, ${FD1} ${SETTLE_MAX_S}s after: not within 10% + ${FD_SLACK}"
	fi
}

# row SCENARIO SENT ANSWERED SERVFAIL LOST NOTES: a line of the table, with
# the resources and the verdict of the current case.
row() {
	local res=PASS
	[ "$DS_CASE_BAD" = 0 ] || res=FAIL
	TABLE+=("| $1 | $2 | $3 | $4 | $5 | $RSS0 / $RSS1 | $FD0 / $FD1 | $res | $6 |")
	printf 'stress: %s: sent %s, answered %s, SERVFAIL %s, lost %s, RSS %s/%s kB, fds %s/%s: %s (%s)\n' \
		"$1" "$2" "$3" "$4" "$5" "$RSS0" "$RSS1" "$FD0" "$FD1" "$res" "$6"
}

# load OUT ARGS...: start load.py against dotsecd in the background
# (LOAD_PID); wait_load waits for it.
load() {
	local out=$1
	shift
	python3 "$STRESS_DIR/load.py" --server "$DS_ADDR" --port "$DS_PORT" \
		--source "$WORLD_CLIENT_ADDR" --deadline "$DEADLINE_MS" "$@" \
		>"$out" 2>"$out.err" &
	LOAD_PID=$!
}
wait_load() {
	local rc=0
	wait "$LOAD_PID" || rc=$?
	LOAD_PID=""
	if [ "$rc" != 0 ] || ! [ -s "$1" ]; then
		DS_OUT=$(cat "$1.err" 2>/dev/null)
		ds_fail "load.py failed (status $rc)"
		# A stand-in with every key, so that the checks can go on.
		printf '%s\n' '{"sent": 0, "answered": 0, "lost": 0, "late": 0, "unexpected": 0, "duplicate": 0, "rcodes": {}, "servfail": 0, "servfail_ede": {}, "ede_other": {}, "latency_ms": {"p50": null, "p99": null, "max": null}, "first_ok_ms": null, "last_fail_ms": null, "fail_sample": [], "fail_offsets_ms": [], "timeline": [], "start_epoch": 0, "elapsed_s": 0}' >"$1"
	fi
}

# bad_in FILE FROM_S TO_S: "BAD SENT" over the whole seconds [FROM, TO) of
# the load's send time: queries not answered NOERROR, and queries sent.
bad_in() {
	jget "$1" "'%d %d' % (sum(r['sent'] - r['NOERROR'] for r in d['timeline'] if $2 <= r['t'] < $3), sum(r['sent'] for r in d['timeline'] if $2 <= r['t'] < $3))"
}

# expect_mostly_ok BAD SENT WHAT: at most 1 % of SENT bad.
expect_mostly_ok() {
	[ $(($1 * 100)) -le "$2" ] ||
		ds_fail "$1 of $2 queries $3 not answered NOERROR (more than 1%)"
}

# now_epoch: seconds since the epoch, with fractions.
now_epoch() {
	date +%s.%N
}

# expect_all_answered FILE: lost == 0, nothing late or unexpected.
expect_all_answered() {
	local f=$1 sent answered lost
	sent=$(jget "$f" 'd["sent"]')
	answered=$(jget "$f" 'd["answered"]')
	lost=$(jget "$f" 'd["lost"]')
	[ "$sent" -gt 0 ] || ds_fail "no query sent"
	[ "$lost" = 0 ] || ds_fail "$lost of $sent queries lost (no answer within ${DEADLINE_MS} ms)"
	[ "$answered" = "$sent" ] || ds_fail "$answered answers for $sent queries"
	[ "$(jget "$f" 'd["unexpected"] + d["duplicate"]')" = 0 ] ||
		ds_fail "unexpected or duplicate replies"
}

# expect_servfail_ede FILE: every answer SERVFAIL, each with EDE 22 or 23.
expect_servfail_ede() {
	local f=$1
	[ "$(jget "$f" 'sum(v for k, v in d["rcodes"].items() if k != "SERVFAIL")')" = 0 ] ||
		ds_fail "answers other than SERVFAIL: $(jget "$f" 'd["rcodes"]')"
	[ "$(jget "$f" 'sum(v for k, v in d["servfail_ede"].items() if k not in ("22", "23"))')" = 0 ] ||
		ds_fail "SERVFAIL without EDE 22/23: $(jget "$f" 'd["servfail_ede"]')"
}

# sanitizer_check: a case over the stderr of the dotsecd run just stopped.
sanitizer_check() {
	ds_case "dotsecd (run $DS_RUN): no sanitizer report in its stderr"
	DS_OUT=$(grep -nE -A 30 'ERROR: (Address|Leak|Thread|Memory)Sanitizer|runtime error:|SUMMARY: [A-Za-z]*Sanitizer' \
		"$DS_STDERR" 2>/dev/null | head -n 80 || true)
	[ -z "$DS_OUT" ] || ds_fail "sanitizer report in $DS_STDERR"
}

# shellcheck disable=SC2317 # called from the EXIT trap
_stress_cleanup() {
	if [ -n "${LOAD_PID:-}" ]; then
		_world_kill "$LOAD_PID"
	fi
	if [ -n "$BADUP_PID" ]; then
		_world_kill "$BADUP_PID"
	fi
}
# lib.sh's exit handler needs the exit status in $? (and set -e must not
# stop the handler half-way).
# shellcheck disable=SC2317 # called from the EXIT trap
_stress_status() { return "$1"; }
trap 'rc=$?; set +e; _stress_cleanup; _stress_status "$rc"; _ds_on_exit' EXIT

# ---------------------------------------------------------------- run 1

ds_dotsecd_start upstream2="$WORLD_UPSTREAM2_ADDR" timeout="$TIMEOUT_MS" \
	backoff="$BACKOFF_S" log_level=info extra="$EXTRA"
W=$WORLD_DIR/stress
mkdir -p "$W"

# Warm-up: the validation chain, the cache filled with unique names, the
# upstream connections open.  Not judged.
ds_dig "warm-up: $NAME_HIT A" "$NAME_HIT" A
ds_expect_rcode NOERROR
load "$W/warmup.json" --rate "$RATE" --duration "$(((S + 1) / 2))" \
	--zone "$ZONE_MISS" --tag warm
wait_load "$W/warmup.json"
printf 'stress: warm-up: %s\n' "$(jget "$W/warmup.json" '(d["sent"], d["rcodes"], d["lost"])')"

# --- a. kill upstream 1 under load
measure
ds_case "a. two upstreams, upstream 1 killed under load: every query answered, NOERROR after the failover window"
# At least 3 s of load after the failover window.
dur_a=$(((S / 3 + FAILOVER_MS / 1000 + 4) > S ? (S / 3 + FAILOVER_MS / 1000 + 4) : S))
load "$W/a.json" --rate "$RATE" --duration "$dur_a" --zone "$ZONE_MISS" --tag a
sleep "$(awk -v s="$S" 'BEGIN { printf "%.1f", s / 3 }')"
t_kill=$(now_epoch)
world_upstream_kill 1 KILL
wait_load "$W/a.json"
settle
DS_OUT=$(load_summary "$W/a.json")
expect_all_answered "$W/a.json"
[ "$(jget "$W/a.json" 'sum(v for k, v in d["rcodes"].items() if k not in ("NOERROR", "SERVFAIL"))')" = 0 ] ||
	ds_fail "rcodes other than NOERROR/SERVFAIL: $(jget "$W/a.json" 'd["rcodes"]')"
kill_ms=$(jget "$W/a.json" "round(($t_kill - d['start_epoch']) * 1000)")
# The whole seconds of send time around the failover window.
w0=$((kill_ms / 1000))
w1=$(((kill_ms + FAILOVER_MS + 999) / 1000))
read -r bad_before sent_before <<<"$(bad_in "$W/a.json" 0 "$w0")"
read -r bad_win sent_win <<<"$(bad_in "$W/a.json" "$w0" "$w1")"
read -r bad_after sent_after <<<"$(bad_in "$W/a.json" "$w1" 100000)"
expect_mostly_ok "$bad_before" "$sent_before" "before the kill (0..${w0} s)"
expect_mostly_ok "$bad_after" "$sent_after" "after the failover window (${w1} s..)"
[ "$sent_after" -gt 0 ] || ds_fail "no query sent after the failover window"
check_resources
row "a. kill 1 of 2 upstreams" "$(jget "$W/a.json" 'd["sent"]')" \
	"$(jget "$W/a.json" 'd["answered"]')" "$(jget "$W/a.json" 'd["servfail"]')" \
	"$(jget "$W/a.json" 'd["lost"]')" \
	"kill at ${kill_ms} ms; not NOERROR: ${bad_before}/${sent_before} before, ${bad_win}/${sent_win} in the window (${w0}-${w1} s), ${bad_after}/${sent_after} after; p99 $(jget "$W/a.json" 'd["latency_ms"]["p99"]') ms"

# --- b. both upstreams down
measure
ds_case "b. both upstreams down: every query SERVFAIL with EDE 22/23 within ${DEADLINE_MS} ms"
world_upstream_kill 2 KILL
load "$W/b.json" --rate "$RATE" --duration "$S" --zone "$ZONE_MISS" --tag b
wait_load "$W/b.json"
settle
DS_OUT=$(load_summary "$W/b.json")
expect_all_answered "$W/b.json"
expect_servfail_ede "$W/b.json"
check_resources
row "b. both upstreams down" "$(jget "$W/b.json" 'd["sent"]')" \
	"$(jget "$W/b.json" 'd["answered"]')" "$(jget "$W/b.json" 'd["servfail"]')" \
	"$(jget "$W/b.json" 'd["lost"]')" \
	"EDE $(jget "$W/b.json" 'd["servfail_ede"]' | tr -d "'{} "); max $(jget "$W/b.json" 'd["latency_ms"]["max"]') ms"

# --- c. upstream 1 back
measure
ds_case "c. upstream 1 restarted: NOERROR again within ${RECOVERY_MS} ms, then only NOERROR"
world_upstream_restart 1
dur_c=$(((RECOVERY_MS / 1000 + 4) > S ? (RECOVERY_MS / 1000 + 4) : S))
load "$W/c.json" --rate "$RATE" --duration "$dur_c" --zone "$ZONE_MISS" --tag c
wait_load "$W/c.json"
settle
DS_OUT=$(load_summary "$W/c.json")
expect_all_answered "$W/c.json"
first_ok=$(jget "$W/c.json" 'd["first_ok_ms"]')
last_fail=$(jget "$W/c.json" 'd["last_fail_ms"]')
r1=$(((RECOVERY_MS + 999) / 1000))
read -r bad_after sent_after <<<"$(bad_in "$W/c.json" "$r1" 100000)"
if [ -z "$first_ok" ]; then
	ds_fail "no NOERROR at all in ${dur_c} s after the restart"
elif [ "$first_ok" -gt "$RECOVERY_MS" ]; then
	ds_fail "first NOERROR for a query sent ${first_ok} ms after the restart (bound ${RECOVERY_MS} ms)"
fi
expect_mostly_ok "$bad_after" "$sent_after" "after the recovery bound (${r1} s..)"
check_resources
row "c. upstream 1 back" "$(jget "$W/c.json" 'd["sent"]')" \
	"$(jget "$W/c.json" 'd["answered"]')" "$(jget "$W/c.json" 'd["servfail"]')" \
	"$(jget "$W/c.json" 'd["lost"]')" \
	"first NOERROR for a query sent at ${first_ok:--} ms, last other at ${last_fail:--} ms (bound ${RECOVERY_MS} ms); not NOERROR after ${r1} s: ${bad_after}/${sent_after}"

world_upstream_restart 2

# warm NAME: ask NAME until it is answered NOERROR (at most 10 s: a failed
# resolution is served from libunbound's cache for a few seconds).
warm() {
	local i=0
	until dig +time=2 +tries=1 -b "$WORLD_CLIENT_ADDR" @"$DS_ADDR" -p "$DS_PORT" \
		"$1" A 2>/dev/null | grep -q 'status: NOERROR'; do
		[ $i -lt 20 ] || return 1
		sleep 0.5
		i=$((i + 1))
	done
}

# --- e. slowloris
# The clients served meanwhile ask a cached name: this is about the
# listener, not the upstreams.
warm "$NAME_HIT" || printf 'stress: %s not answered NOERROR within 10 s before e\n' "$NAME_HIT"
measure
ds_case "e. slowloris: trickling TCP clients closed within ${READ_TIMEOUT_MS}+${READ_SLACK_MS} ms, others served"
dur_e=$((READ_TIMEOUT_MS / 1000 + 4))
load "$W/e.json" --rate "$((RATE / 2 + 1))" --duration "$dur_e" --name "$NAME_HIT" --tag e
python3 "$STRESS_DIR/tcpclients.py" slowloris "$DS_ADDR" "$DS_PORT" \
	"$WORLD_CLIENT_ADDR" "$NAME_HIT" --clients 5 --interval 1 \
	--max-wait "$((READ_TIMEOUT_MS / 1000 + 6))" >"$W/e-tcp.json" 2>"$W/e-tcp.err" ||
	ds_fail "tcpclients.py slowloris failed: $(cat "$W/e-tcp.err")"
wait_load "$W/e.json"
settle
DS_OUT="$(load_summary "$W/e.json")
$(cat "$W/e-tcp.json" 2>/dev/null)"
expect_all_answered "$W/e.json"
[ "$(jget "$W/e.json" 'd["rcodes"].get("NOERROR", 0) == d["sent"]')" = True ] ||
	ds_fail "UDP answers other than NOERROR: $(jget "$W/e.json" 'd["rcodes"]')"
if [ -s "$W/e-tcp.json" ]; then
	lo=$((READ_TIMEOUT_MS * 9 / 10))
	hi=$((READ_TIMEOUT_MS + READ_SLACK_MS))
	bad=$(jget "$W/e-tcp.json" "[c for c in d['slow'] if c['closed_after_ms'] is None or not $lo <= c['closed_after_ms'] <= $hi or c['answered']]")
	[ "$bad" = "[]" ] || ds_fail "slow clients not closed within ${lo}..${hi} ms of their first byte: $bad"
	[ "$(jget "$W/e-tcp.json" 'd["good_ok"] == d["good_sent"] and d["good_sent"] > 0')" = True ] ||
		ds_fail "TCP queries during the slowloris: $(jget "$W/e-tcp.json" 'd["good_ok"]') of $(jget "$W/e-tcp.json" 'd["good_sent"]') answered NOERROR"
	tcp_sent=$(jget "$W/e-tcp.json" 'd["good_sent"]')
	tcp_ok=$(jget "$W/e-tcp.json" 'd["good_ok"]')
	closes=$(jget "$W/e-tcp.json" '" ".join(str(c["closed_after_ms"]) for c in d["slow"])')
else
	tcp_sent=0 tcp_ok=0 closes=-
fi
check_resources
row "e. slowloris (5 clients, 1 byte/s)" \
	"$(($(jget "$W/e.json" 'd["sent"]') + tcp_sent))" \
	"$(($(jget "$W/e.json" 'd["answered"]') + tcp_ok))" \
	"$(jget "$W/e.json" 'd["servfail"]')" \
	"$(($(jget "$W/e.json" 'd["lost"]') + tcp_sent - tcp_ok))" \
	"UDP + TCP clients; slow ones closed after ${closes} ms (tcp_read_timeout ${READ_TIMEOUT_MS} ms)"

# --- f. more TCP connections than tcp_max_connections
measure
EXTRA_CONN=$((MAX_CONN / 2))
ds_case "f. $((MAX_CONN + EXTRA_CONN)) TCP connections, tcp_max_connections $MAX_CONN: extra ones closed, the others served"
python3 "$STRESS_DIR/tcpclients.py" maxconn "$DS_ADDR" "$DS_PORT" \
	"$WORLD_CLIENT_ADDR" "$NAME_HIT" --limit "$MAX_CONN" --extra "$EXTRA_CONN" \
	>"$W/f.json" 2>"$W/f.err" || ds_fail "tcpclients.py maxconn failed: $(cat "$W/f.err")"
settle
DS_OUT=$(cat "$W/f.json" 2>/dev/null)
if [ -s "$W/f.json" ]; then
	[ "$(jget "$W/f.json" 'd["held"] == d["held_ok"] == '"$MAX_CONN")" = True ] ||
		ds_fail "first round: $(jget "$W/f.json" 'd["held_ok"]') of $MAX_CONN connections answered"
	[ "$(jget "$W/f.json" 'd["extra_closed"]')" = "$EXTRA_CONN" ] ||
		ds_fail "extra connections: $(jget "$W/f.json" 'd["extra_closed"]') of $EXTRA_CONN closed ($(jget "$W/f.json" 'd["extra_answered"]') answered, $(jget "$W/f.json" 'd["extra_open"]') left open)"
	[ "$(jget "$W/f.json" 'd["second_ok"]')" = "$MAX_CONN" ] ||
		ds_fail "second round on the $MAX_CONN first connections: $(jget "$W/f.json" 'd["second_ok"]') answered"
	[ "$(jget "$W/f.json" 'd["after_ok"]')" = True ] ||
		ds_fail "a new connection after closing them all was not served"
	f_sent=$((2 * MAX_CONN + 1))
	f_ok=$(jget "$W/f.json" 'd["held_ok"] + d["second_ok"] + int(d["after_ok"])')
	f_notes="$(jget "$W/f.json" 'd["extra_closed"]') of $EXTRA_CONN extra connections closed unanswered (not counted as lost)"
else
	f_sent=0 f_ok=0 f_notes="no result"
fi
check_resources
row "f. $((MAX_CONN + EXTRA_CONN)) TCP conns, limit $MAX_CONN" "$f_sent" "$f_ok" 0 \
	"$((f_sent - f_ok))" "$f_notes"

# --- g. DoT: connections made and closed without pause, TCP connections
# that never say hello, a TLS client that never reads its answers; UDP
# clients served meanwhile.
warm "$NAME_HIT" || printf 'stress: %s not answered NOERROR within 10 s before g\n' "$NAME_HIT"
# A DoT warm-up, not judged: TLS sessions allocate far more than the
# scenarios before, and under AddressSanitizer what they free first fills
# the quarantine (16 MiB, above), which RSS would count as growth.  Once
# it is full, a second round that leaked would still show.
python3 "$STRESS_DIR/tcpclients.py" dot "$DS_ADDR" "$DOT_PORT" \
	"$WORLD_CLIENT_ADDR" "$NAME_HIT" --ca "$WORLD_CA_FILE" --hostname dot.test \
	--clients "$DOT_CLIENTS" --duration "$S" --max-wait 10 \
	>"$W/g-warm.json" 2>"$W/g-warm.err" ||
	printf 'stress: the DoT warm-up failed: %s\n' "$(cat "$W/g-warm.err")"
measure
ds_case "g. DoT: $DOT_CLIENTS clients reconnecting for ${S}s, $DOT_CLIENTS silent ones closed within ${HS_TIMEOUT_MS}+${READ_SLACK_MS} ms, a non-reader; UDP served"
load "$W/g.json" --rate "$((RATE / 2 + 1))" --duration "$S" --name "$NAME_HIT" --tag g
python3 "$STRESS_DIR/tcpclients.py" dot "$DS_ADDR" "$DOT_PORT" \
	"$WORLD_CLIENT_ADDR" "$NAME_HIT" --ca "$WORLD_CA_FILE" --hostname dot.test \
	--clients "$DOT_CLIENTS" --duration "$S" --max-wait 10 \
	>"$W/g-dot.json" 2>"$W/g-dot.err" ||
	ds_fail "tcpclients.py dot failed: $(cat "$W/g-dot.err")"
wait_load "$W/g.json"
settle
DS_OUT="$(load_summary "$W/g.json")
$(cat "$W/g-dot.json" 2>/dev/null)"
expect_all_answered "$W/g.json"
if [ -s "$W/g-dot.json" ]; then
	[ "$(jget "$W/g-dot.json" 'd["ok"] == d["sent"] and d["sent"] > 0 and not d["errors"]')" = True ] ||
		ds_fail "DoT: $(jget "$W/g-dot.json" 'd["ok"]') of $(jget "$W/g-dot.json" 'd["sent"]') answered NOERROR; errors $(jget "$W/g-dot.json" 'd["errors"]')"
	hi=$((HS_TIMEOUT_MS + READ_SLACK_MS))
	bad=$(jget "$W/g-dot.json" "[c for c in d['silent'] if c['closed_after_ms'] is None or c['closed_after_ms'] > $hi or c['answered']]")
	[ "$bad" = "[]" ] || ds_fail "silent connections not closed within $hi ms: $bad"
	g_sent=$(jget "$W/g-dot.json" 'd["sent"]')
	g_ok=$(jget "$W/g-dot.json" 'd["ok"]')
	g_notes="$(jget "$W/g-dot.json" 'd["conns"]') DoT connections; silent ones closed after $(jget "$W/g-dot.json" '" ".join(str(c["closed_after_ms"]) for c in d["silent"])') ms; non-reader: $(jget "$W/g-dot.json" 'd["nonreader"]')"
else
	g_sent=0 g_ok=0 g_notes="no result"
fi
check_resources
row "g. DoT churn, silent handshakes, a non-reader" \
	"$(($(jget "$W/g.json" 'd["sent"]') + g_sent))" \
	"$(($(jget "$W/g.json" 'd["answered"]') + g_ok))" \
	"$(jget "$W/g.json" 'd["servfail"]')" \
	"$(($(jget "$W/g.json" 'd["lost"]') + g_sent - g_ok))" "$g_notes"

ds_dotsecd_stop
sanitizer_check

# ---------------------------------------------------------------- run 2

BAD_NOTLS=$WORLD_NET.8
BAD_SILENT=$WORLD_NET.9
python3 "$STRESS_DIR/badup.py" --notls "$BAD_NOTLS:853" \
	--silent-tls "$BAD_SILENT:853" --cert "$WORLD_DIR/tls/good.pem" \
	--key "$WORLD_DIR/tls/good.key" --status "$W/badup.json" \
	--lifetime $((S * 3 + 120)) >"$W/badup.log" 2>&1 &
BADUP_PID=$!
world_register_log "$W/badup.log" "badup.py output"
i=0
until [ -s "$W/badup.json" ] && _world_listening t "$BAD_NOTLS" 853 &&
	_world_listening t "$BAD_SILENT" 853; do
	kill -0 "$BADUP_PID" 2>/dev/null || ds_die "badup.py exited at start"
	[ $i -lt 100 ] || ds_die "badup.py not listening after 10 s"
	sleep 0.1
	i=$((i + 1))
done
ds_dotsecd_start upstream="$BAD_NOTLS" upstream2="$BAD_SILENT" \
	timeout="$TIMEOUT_MS" backoff="$BACKOFF_S" log_level=info extra="$EXTRA"

# --- d. hanging upstreams
# The same warm-up as run 1, so that the baseline has seen the same kind
# of load (every query fails here).
load "$W/warmup2.json" --rate "$RATE" --duration "$(((S + 1) / 2))" \
	--zone "$ZONE_MISS" --tag warm2
wait_load "$W/warmup2.json"
settle
measure
ds_case "d. upstreams that never start TLS / never answer: every query SERVFAIL with EDE 22/23 within ${DEADLINE_MS} ms, nothing piles up"
load "$W/d.json" --rate "$RATE" --duration "$S" --zone "$ZONE_MISS" --tag d
wait_load "$W/d.json"
settle
DS_OUT="$(load_summary "$W/d.json")
badup: $(cat "$W/badup.json" 2>/dev/null)"
expect_all_answered "$W/d.json"
expect_servfail_ede "$W/d.json"
# Connections dotsecd keeps open to the hostile upstreams, once the load
# has stopped and dotsecd settled: bounded (getdns gives up on them).
open_bad=$(jget "$W/badup.json" 'd["notls"]["open"] + d["silent_tls"]["open"]')
[ "$open_bad" -le 8 ] ||
	ds_fail "$open_bad connections still open to the hostile upstreams after the load"
check_resources
row "d. upstreams: no TLS / TLS but silent" "$(jget "$W/d.json" 'd["sent"]')" \
	"$(jget "$W/d.json" 'd["answered"]')" "$(jget "$W/d.json" 'd["servfail"]')" \
	"$(jget "$W/d.json" 'd["lost"]')" \
	"EDE $(jget "$W/d.json" 'd["servfail_ede"]' | tr -d "'{} "); max $(jget "$W/d.json" 'd["latency_ms"]["max"]') ms; hostile upstreams: $(jget "$W/badup.json" '"%d+%d accepted, %d TLS handshakes, max %d+%d open, %d now" % (d["notls"]["accepted"], d["silent_tls"]["accepted"], d["silent_tls"]["handshakes"], d["notls"]["max_open"], d["silent_tls"]["max_open"], d["notls"]["open"] + d["silent_tls"]["open"])')"

ds_dotsecd_stop
sanitizer_check
_world_kill "$BADUP_PID"
BADUP_PID=""

# ---------------------------------------------------------------- table

printf '\n| scenario | sent | answered | SERVFAIL | lost | RSS kB before / after | fds before / after | result | notes |\n'
printf '| --- | ---: | ---: | ---: | ---: | --- | --- | --- | --- |\n'
for r in "${TABLE[@]}"; do
	printf '%s\n' "$r"
done
printf '\nstress: %s s loads at %s queries/s; timeout %s ms (+%s ms slack), tls_backoff_time %s s, tcp_read_timeout %s ms, tcp_max_connections %s; RSS may grow 10%% + %s kB, fds move 10%% + %s\n\n' \
	"$S" "$RATE" "$TIMEOUT_MS" "$SLACK_MS" "$BACKOFF_S" "$READ_TIMEOUT_MS" \
	"$MAX_CONN" "$RSS_SLACK_KB" "$FD_SLACK"
ds_finish
