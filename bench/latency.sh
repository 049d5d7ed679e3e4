#!/bin/bash
#
# bench/latency.sh -- what a real round-trip time to the DoT upstream costs
# dotsecd, Unbound (validating DoT forwarder), Knot Resolver (kresd, the
# same) and Stubby: the first answer after start, fresh names on every
# worker, the first query after idle, failover when an upstream goes dark,
# and percentiles at fixed rates, with and without loss.  All four forward
# to the same upstreams of the system tests' signed world
# (tests/system/world.sh) with the same trust anchor.
#
# Run by hand, as root, from anywhere:
#
#     bash bench/latency.sh
#
# It re-executes itself in a network namespace of its own (unshare -n) and
# brings its loopback up; the world, the systems and the client all run
# there on 127.x addresses, and every iptables rule it adds lives and dies
# with that namespace.  The DoT leg (TCP port 853) gets a delay of
# BENCH_DELAY_MS each way: the kernel has no sch_netem, so the packets go
# through an NFQUEUE queue to bench/nfdelay.c, which holds each one that
# long (and drops BENCH_LOSS percent of them in the loss rows).  The client
# (bench/latclient.py) talks to the systems over loopback without delay.
#
# Every run is bounded in time; every process the script starts is stopped
# by its PID on exit, and the namespace goes with the last of them.  The
# Markdown table is printed on stdout and written, with every raw output,
# to $BENCH_OUT.  See bench/README.md for what each row means.
#
# Environment (defaults in brackets):
#   DOTSECD, BENCH_BUILD_DIR  as for bench/run.sh
#   BENCH_SYSTEMS        systems in order [dotsec unbound kresd stubby]
#   BENCH_PHASES         which rows [first failover rate loss]: first is
#                        (a)-(c), failover (d), rate (e), loss (f)
#   BENCH_DELAY_MS       delay of each DoT packet, each way [10]
#   BENCH_LOSS           percentage of DoT packets dropped in (f) [1]
#   BENCH_NODELAY_UPSTREAM  1: run the world's upstreams under
#                        bench/nodelay.c (TCP_NODELAY on their accepted
#                        sockets) [0: Debian's unbound as it is]
#   BENCH_THREADS        workers of dotsecd, threads of Unbound [2]; kresd
#                        and Stubby run one process, one thread
#   BENCH_SERVER_CPUS    taskset CPU list of the system [all CPUs]
#   BENCH_NICE           nice value of everything it starts [-10; "" for
#                        none]
#   BENCH_CACHE_SIZE     bytes of cache of each system that has one
#                        [33554432]
#   BENCH_TIMEOUT        seconds a query waits for its answer [5]
#   BENCH_SETTLE         seconds between a system's start and its first
#                        query [1]
#   BENCH_FRESH_COUNT    fresh names of (b) [8]
#   BENCH_IDLE           idle periods of (c), seconds [20 70]
#   BENCH_FAILOVER_RATE, BENCH_FAILOVER_DURATION   (d): fresh names a
#                        second, seconds [10, 20]
#   BENCH_FAILOVER_AFTER seconds into (d)'s stream when the first upstream
#                        goes dark [3]
#   BENCH_RATES          offered loads of (e) and (f), queries a second
#                        [50 200]
#   BENCH_DURATION       seconds of each (e) and (f) run [20]
#   BENCH_FRESH_EVERY    in (e) and (f), one query in this many is a fresh
#                        name, the others cached ones [4]
#   BENCH_OUT            directory for the results [a new
#                        /tmp/dotsec-latency.*]

# No "set -u": world.sh is not written for it.
set -o pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
BENCH_TAG=latency

# ---------------------------------------------------------------- namespace

# Outside the namespace: check what is needed to get in, then re-execute
# in a new network namespace.  Nothing else is done out here.
if [ "${DOTSEC_LATENCY_NETNS:-}" != 1 ]; then
	[ "$(id -u)" = 0 ] || {
		echo "latency: FATAL: needs root (a network namespace, iptables, ports 53 and 853)" >&2
		exit 1
	}
	command -v unshare >/dev/null 2>&1 || {
		echo "latency: FATAL: unshare not found (util-linux)" >&2
		exit 1
	}
	DOTSEC_LATENCY_OUTER_NS=$(readlink /proc/self/ns/net)
	export DOTSEC_LATENCY_NETNS=1 DOTSEC_LATENCY_OUTER_NS
	exec unshare -n -- bash "$BENCH_DIR/latency.sh" "$@"
fi
# Inside: make sure this is a namespace of its own, not the one it was
# started from (the variable could have come from elsewhere): every rule
# below would otherwise touch the host.
if [ -z "${DOTSEC_LATENCY_OUTER_NS:-}" ] ||
	[ "$(readlink /proc/self/ns/net)" = "$DOTSEC_LATENCY_OUTER_NS" ]; then
	echo "latency: FATAL: not in a network namespace of its own; not touching this one" >&2
	exit 1
fi

BENCH_BUILD_DIR=${BENCH_BUILD_DIR:-/tmp/dotsec-bench-build}
BENCH_SYSTEMS=${BENCH_SYSTEMS:-dotsec unbound kresd stubby}
BENCH_PHASES=${BENCH_PHASES:-first failover rate loss}
BENCH_DELAY_MS=${BENCH_DELAY_MS:-10}
BENCH_LOSS=${BENCH_LOSS:-1}
BENCH_NODELAY_UPSTREAM=${BENCH_NODELAY_UPSTREAM:-0}
BENCH_THREADS=${BENCH_THREADS:-2}
BENCH_SERVER_CPUS=${BENCH_SERVER_CPUS:-0-$(($(nproc) - 1))}
BENCH_NICE=${BENCH_NICE--10}
BENCH_CACHE_SIZE=${BENCH_CACHE_SIZE:-33554432}
BENCH_TIMEOUT=${BENCH_TIMEOUT:-5}
BENCH_SETTLE=${BENCH_SETTLE:-1}
BENCH_FRESH_COUNT=${BENCH_FRESH_COUNT:-8}
BENCH_IDLE=${BENCH_IDLE:-20 70}
BENCH_FAILOVER_RATE=${BENCH_FAILOVER_RATE:-10}
BENCH_FAILOVER_DURATION=${BENCH_FAILOVER_DURATION:-20}
BENCH_FAILOVER_AFTER=${BENCH_FAILOVER_AFTER:-3}
BENCH_RATES=${BENCH_RATES:-50 200}
BENCH_DURATION=${BENCH_DURATION:-20}
BENCH_FRESH_EVERY=${BENCH_FRESH_EVERY:-4}

NICE=()			# the command prefix that sets BENCH_NICE
[ -z "$BENCH_NICE" ] || NICE=(nice -n "$BENCH_NICE")
BIN=""			# nfdelay and nodelay.so, built here
NFDELAY_PID=""		# nfdelay, while it runs
CLIENT_PID=""		# a background latclient, while it runs
DARK_ADDR=""		# the upstream dropped by raw-table rules, while it is
declare -A CELL		# "ROW|SYSTEM" -> the table's cell
ROWS=()			# row keys in order
declare -A ROW_LABEL	# row key -> its label

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$BENCH_DIR/lib.sh"

# ---------------------------------------------------------------- set-up

# netns_leftovers: "PID COMM" of every process of this namespace but this
# shell and the subshell that runs it (bash builtins only: no process of
# its own is counted).
netns_leftovers() {
	local p pid comm
	for p in /proc/[0-9]*; do
		pid=${p#/proc/}
		case $pid in "$$" | "$BASHPID") continue ;; esac
		[ "$p/ns/net" -ef /proc/$$/ns/net ] 2>/dev/null || continue
		comm=""
		read -r comm <"$p/comm" 2>/dev/null || continue
		printf '%s %s\n' "$pid" "$comm"
	done
}

on_exit() {
	local left pid comm
	[ -z "$CLIENT_PID" ] || stop_pid "$CLIENT_PID"
	CLIENT_PID=""
	if [ -n "$SYS_PID" ]; then
		stop_pid "$SYS_PID"
		SYS_PID=""
	fi
	[ -z "$DARK_ADDR" ] || light_upstream
	if [ -n "${WORLD_DIR:-}" ]; then
		world_stop
	fi
	[ -z "$NFDELAY_PID" ] || stop_pid "$NFDELAY_PID"
	NFDELAY_PID=""
	# Everything in this namespace was started by this script: anything
	# still here is a child that escaped the bookkeeping.
	left=$(netns_leftovers)
	if [ -n "$left" ]; then
		say "still running in the namespace, stopping by PID: $(tr '\n' ' ' <<<"$left")"
		while read -r pid comm; do
			[ -n "$pid" ] || continue
			kill -TERM "$pid" 2>/dev/null || true
			: "$comm"
		done <<<"$left"
	fi
}

# build_tools: nfdelay and nodelay.so from bench/, into $BENCH_OUT/bin.
build_tools() {
	local libs
	BIN=$BENCH_OUT/bin
	mkdir -p "$BIN"
	libs=$(pkg-config --libs libnetfilter_queue 2>/dev/null) ||
		libs="-lnetfilter_queue -lnfnetlink"
	[ -f /usr/include/libnetfilter_queue/libnetfilter_queue.h ] ||
		die "libnetfilter_queue.h not found (apt-get install libnetfilter-queue-dev)"
	# shellcheck disable=SC2086 # a list of linker flags
	cc -O2 -Wall -o "$BIN/nfdelay" "$BENCH_DIR/nfdelay.c" $libs \
		>"$BIN/build.log" 2>&1 ||
		{ cat "$BIN/build.log" >&2; die "cannot build nfdelay"; }
	cc -O2 -Wall -shared -fPIC -o "$BIN/nodelay.so" "$BENCH_DIR/nodelay.c" \
		-ldl >>"$BIN/build.log" 2>&1 ||
		{ cat "$BIN/build.log" >&2; die "cannot build nodelay.so"; }
}

# start_nfdelay LOSS_PERCENT: nfdelay on queue 0 with BENCH_DELAY_MS; waits
# (5 s at most) until it has bound the queue.
start_nfdelay() {
	local log=$BENCH_OUT/nfdelay.log n i=0
	touch "$log"
	n=$(grep -c 'ready' "$log")
	"${NICE[@]}" "$BIN/nfdelay" -q 0 -d "$BENCH_DELAY_MS" -l "$1" >>"$log" 2>&1 &
	NFDELAY_PID=$!
	while [ "$(grep -c 'ready' "$log")" -le "$n" ]; do
		kill -0 "$NFDELAY_PID" 2>/dev/null || { cat "$log" >&2; die "nfdelay exited"; }
		[ $i -lt 50 ] || die "nfdelay not ready after 5 s"
		sleep 0.1
		i=$((i + 1))
	done
}

# restart_nfdelay LOSS_PERCENT: between runs (no system running).
restart_nfdelay() {
	stop_pid "$NFDELAY_PID"
	NFDELAY_PID=""
	start_nfdelay "$1"
}

# check_nfdelay: it must still run, or the DoT leg is cut.
check_nfdelay() {
	kill -0 "$NFDELAY_PID" 2>/dev/null ||
		{ cat "$BENCH_OUT/nfdelay.log" >&2; die "nfdelay (PID $NFDELAY_PID) died"; }
}

# The DoT leg through queue 0, both directions: every packet from or to
# port 853 crosses OUTPUT once on loopback.
queue_dot_leg() {
	local dir
	for dir in --dport --sport; do
		iptables -t mangle -A OUTPUT -p tcp "$dir" 853 -j NFQUEUE --queue-num 0 ||
			die "iptables cannot add the NFQUEUE rule (is NFQUEUE in this kernel?)"
	done
}

# measure_rtt: the median of 5 TCP handshakes to the first upstream's DoT
# port, in ms (SYN and SYN-ACK both cross nfdelay: one round trip).
measure_rtt() {
	python3 - "$WORLD_UPSTREAM_ADDR" "$WORLD_CLIENT_ADDR" <<'EOF'
import socket, sys, time
t = []
for _ in range(5):
    s = socket.socket()
    s.bind((sys.argv[2], 0))
    a = time.monotonic()
    s.connect((sys.argv[1], 853))
    t.append((time.monotonic() - a) * 1000)
    s.close()
    time.sleep(0.05)
print("%.1f" % sorted(t)[2])
EOF
}

# ---------------------------------------------------------------- the dark upstream

# drop_rules -A|-D ADDR: the raw table drops every DoT packet to or from
# ADDR (before nfdelay's queue in the mangle table).
drop_rules() {
	iptables -t raw "$1" OUTPUT -d "$2" -p tcp --dport 853 -j DROP &&
		iptables -t raw "$1" OUTPUT -s "$2" -p tcp --sport 853 -j DROP
}

darken_upstream() {
	drop_rules -A "$1" || die "iptables cannot add the DROP rules"
	DARK_ADDR=$1
}

light_upstream() {
	drop_rules -D "$DARK_ADDR" || say "could not remove the DROP rules of $DARK_ADDR"
	DARK_ADDR=""
}

# dropped_packets: packets the raw table's DROP rules have dropped so far.
dropped_packets() {
	iptables -t raw -nvxL OUTPUT 2>/dev/null |
		awk '$3 == "DROP" { n += $1 } END { print n + 0 }'
}

# ---------------------------------------------------------------- helpers

now() {
	date +%s.%N
}

# client [LATCLIENT OPTIONS...] < QUERIES: latclient.py at the system.
client() {
	"${NICE[@]}" python3 "$BENCH_DIR/latclient.py" --source "$WORLD_CLIENT_ADDR" \
		--timeout "$BENCH_TIMEOUT" "$@" "$SYS_ADDR"
}

# client_bg QUERIES OUT [LATCLIENT OPTIONS...]: the same in the
# background, with CLIENT_PID the client's own PID (the subshell execs
# it).  The files are opened by the subshell itself: a background job's
# standard input is otherwise /dev/null.
client_bg() {
	local in=$1 out=$2
	shift 2
	(exec "${NICE[@]}" python3 "$BENCH_DIR/latclient.py" --source "$WORLD_CLIENT_ADDR" \
		--timeout "$BENCH_TIMEOUT" "$@" "$SYS_ADDR" <"$in" >"$out") &
	CLIENT_PID=$!
}

# good FILE: latclient lines of answers that are NOERROR with AD.
good() {
	awk '$1 == "R" && $4 == "NOERROR" && $5 == 1' "$1"
}

# verdict LINE: the answer's time in ms, or what was wrong with it.
verdict() {
	awk '$1 == "R" {
		if ($4 != "NOERROR") print $4
		else if ($5 != 1) print "no AD"
		else printf "%.1f\n", $3 * 1000
		f = 1 }
		END { if (!f) print "-" }' <<<"$1"
}

# row KEY LABEL: declare a row of the table (the first time).
row() {
	if [ -z "${ROW_LABEL[$1]+x}" ]; then
		ROWS+=("$1")
		ROW_LABEL[$1]=$2
	fi
}

# cell KEY SYSTEM VALUE
cell() {
	CELL["$1|$2"]=$3
}

# begin_run SYSTEM NAME: a fresh run directory; the first upstream's
# caches (and the second's when given as $3) flushed; the system started
# and left BENCH_SETTLE seconds to settle.
begin_run() {
	local sys=$1
	RUN_DIR=$BENCH_OUT/$sys-$2
	rm -rf "$RUN_DIR"
	mkdir -p "$RUN_DIR"
	check_nfdelay
	flush_upstream
	[ -z "${3:-}" ] || flush_upstream "$3"
	RUN_OFF0=$(log_size)
	start_system "$sys" "$RUN_DIR"
	sleep "$BENCH_SETTLE"
}

# end_run SYSTEM: stop it; dotsecd must exit with status 0.
end_run() {
	stop_pid "$SYS_PID"
	SYS_PID=""
	if [ "$1" = dotsec ] && [ "$STOP_RC" != 0 ]; then
		say "$1: exit status $STOP_RC on SIGTERM; stderr (tail):"
		tail -n 20 "$RUN_DIR/stderr" >&2
	fi
}

# ---------------------------------------------------------------- (a) (b) (c)

# phase_first SYSTEM: a fresh process; (a) its first validated answer for
# a name three cuts below the root; (b) BENCH_FRESH_COUNT fresh names of
# the same zone, each from a new source port; (c) a fresh name after each
# idle period; then the verdicts check.
phase_first() {
	local sys=$1 d off1 off2 line n_before n_all n_b worst med nfail idle t chk
	local z=sec13.$WORLD_TLD i
	BENCH_UPSTREAMS=$WORLD_UPSTREAM_ADDR BENCH_ROUND_ROBIN=""
	begin_run "$sys" first
	d=$RUN_DIR
	say "$sys: (a) first answer, (b) $BENCH_FRESH_COUNT fresh names, (c) idle $BENCH_IDLE s"

	# (a)
	n_before=$(upstream_queries_since "$RUN_OFF0" /dev/null)
	echo "www.$z A" | client >"$d/a.out"
	world_upstream_settle
	n_all=$(upstream_queries_since "$RUN_OFF0" "$d/a-upstream.txt")
	line=$(cat "$d/a.out")
	cell a_ms "$sys" "$(verdict "$line")"
	cell a_up "$sys" "$n_before + $((n_all - n_before))"

	# (b)
	off1=$(log_size)
	for i in $(seq 1 "$BENCH_FRESH_COUNT"); do
		echo "x$i.wild.$z A"
	done | client >"$d/b.out"
	world_upstream_settle
	n_b=$(upstream_queries_since "$off1" "$d/b-upstream.txt")
	nfail=$(awk '$1 == "R" && !($4 == "NOERROR" && $5 == 1)' "$d/b.out" | wc -l)
	read -r med worst < <(good "$d/b.out" |
		awk '{ printf "%d\n", $3 * 1000000 + 0.5 }' | percentiles_ms 0.5 1)
	[ "$nfail" = 0 ] || worst="$worst ($nfail failed)"
	cell b_worst "$sys" "$worst"
	cell b_med "$sys" "$med"
	cell b_up "$sys" "$n_b"

	# (c)
	for idle in $BENCH_IDLE; do
		sleep "$idle"
		off2=$(log_size)
		echo "idle$idle.wild.$z A" | client >"$d/c-$idle.out"
		cell "c_$idle" "$sys" "$(verdict "$(cat "$d/c-$idle.out")")"
		world_upstream_settle
		upstream_queries_since "$off2" "$d/c-$idle-upstream.txt" >/dev/null
	done

	chk=$(check_system "$SYS_ADDR")
	kill -0 "$SYS_PID" 2>/dev/null || chk="DIED"
	end_run "$sys"
	[ "$sys" != dotsec ] || [ "$STOP_RC" = 0 ] || chk="$chk; exit status $STOP_RC"
	cell check "$sys" "$chk"
	t=$(cat "$d/a.out")
	say "$sys: (a) $t"
}

# ---------------------------------------------------------------- (d)

# phase_failover SYSTEM MODE: two upstreams; a stream of fresh names at
# BENCH_FAILOVER_RATE a second for BENCH_FAILOVER_DURATION s; after
# BENCH_FAILOVER_AFTER s every DoT packet to or from the first upstream is
# dropped.  MODE: rr or ordered (dotsecd's and Stubby's
# round_robin_upstreams 1 or 0), own (Unbound, kresd: their own choice).
phase_failover() {
	local sys=$1 mode=$2 d n i t_add t_prev t_drop="" res failed first worst
	local u1w u2w u1s u2s o1 o2 w1 w2 key
	# Names that exist, one each, in a signed zone: no system can answer
	# them from proofs it holds (RFC 8198), so every one goes upstream.
	local z=many.$WORLD_TLD
	BENCH_UPSTREAMS="$WORLD_UPSTREAM_ADDR $WORLD_UPSTREAM2_ADDR"
	case $mode in
	rr) BENCH_ROUND_ROBIN=1 ;;
	ordered) BENCH_ROUND_ROBIN=0 ;;
	*) BENCH_ROUND_ROBIN="" ;;
	esac
	key=d_$mode
	[ "$mode" != own ] || key=d_rr
	w1=$(log_size)
	w2=$(log_size "$WORLD_UPSTREAM2_LOG")
	begin_run "$sys" "failover-$mode" "$WORLD_UPSTREAM2_CONF"
	d=$RUN_DIR
	say "$sys: (d) failover, $mode"
	# Warm-up: the zone's keys, and both connections where both are used.
	for i in $(seq 1 10); do
		echo "n$i.$z A"
	done | client --rate 10 >"$d/warm.out"
	world_upstream_settle
	u1w=$(upstream_queries_since "$w1" /dev/null)
	u2w=$(upstream_queries_since "$w2" /dev/null "$WORLD_UPSTREAM2_LOG")
	o1=$(log_size)
	o2=$(log_size "$WORLD_UPSTREAM2_LOG")
	n=$((BENCH_FAILOVER_RATE * BENCH_FAILOVER_DURATION))
	for i in $(seq 11 "$((n + 10))"); do
		echo "n$i.$z A"
	done >"$d/names"
	client_bg "$d/names" "$d/stream.out" --rate "$BENCH_FAILOVER_RATE"
	sleep "$BENCH_FAILOVER_AFTER"
	t_add=$(now)
	darken_upstream "$WORLD_UPSTREAM_ADDR"
	# The first dropped packet: poll the rules' counters; its time is
	# taken as that of the last poll that saw none (at most one poll
	# early).
	t_prev=$t_add
	while kill -0 "$CLIENT_PID" 2>/dev/null; do
		if [ "$(dropped_packets)" -gt 0 ]; then
			t_drop=$t_prev
			break
		fi
		t_prev=$(now)
		sleep 0.01
	done
	wait "$CLIENT_PID"
	CLIENT_PID=""
	light_upstream
	world_upstream_settle
	u1s=$(upstream_queries_since "$o1" "$d/u1-upstream.txt")
	u2s=$(upstream_queries_since "$o2" "$d/u2-upstream.txt" "$WORLD_UPSTREAM2_LOG")
	end_run "$sys"
	printf 'rules added %s\nfirst drop %s\n' "$t_add" "${t_drop:-none}" >"$d/times"

	failed=$(awk '$1 == "R" && !($4 == "NOERROR" && $5 == 1)' "$d/stream.out" | wc -l)
	res=$(awk '$1 == "R"' "$d/stream.out" | wc -l)
	cell "${key}_failed" "$sys" "$failed of $res"
	cell "${key}_share" "$sys" "$u1w / $u2w, then $u1s / $u2s"
	if [ -z "$t_drop" ]; then
		cell "${key}_first" "$sys" "no packet dropped"
		cell "${key}_worst" "$sys" "-"
		return 0
	fi
	# The first good answer to a query sent after the first drop (none
	# of its packets can reach the dark upstream: an answer that was
	# already on its way does not count), from that drop; and the slowest
	# good answer received after the drop.
	read -r first worst < <(good "$d/stream.out" | awk -v t="$t_drop" '
		{ r = $2 + $3; if (r <= t) next
		  if ($2 >= t && (f == "" || r < f)) f = r
		  if (w == "" || $3 > w) w = $3 }
		END { printf "%s %s\n", (f == "" ? "none" : sprintf("%.0f", (f - t) * 1000)),
			(w == "" ? "none" : sprintf("%.0f", w * 1000)) }')
	cell "${key}_first" "$sys" "$first"
	cell "${key}_worst" "$sys" "$worst"
}

# ---------------------------------------------------------------- (e) (f)

# rate_queries RATE TAG: RATE x BENCH_DURATION lines; one in
# BENCH_FRESH_EVERY a fresh name under the NSEC3 zone's wildcard (no
# aggressive-NSEC answer from a cache), the others the hot set in turn.
rate_queries() {
	local hot=$BENCH_OUT/hot.txt
	[ -f "$hot" ] || hot_names >"$hot"
	awk -v n="$(($1 * BENCH_DURATION))" -v k="$BENCH_FRESH_EVERY" \
		-v z="sec13.$WORLD_TLD" -v tag="$2" '
		{ h[NR - 1] = $0; nh = NR }
		END { for (i = 1; i <= n; i++)
			if (i % k == 0) printf "%s%d.wild.%s A\n", tag, i, z
			else print h[i % nh] }' "$hot"
}

# pcts FILE [NAME_REGEX]: "p50 / p99" in ms of the answers (a timeout
# counts as BENCH_TIMEOUT), with the number of failed queries (timeouts,
# SERVFAIL, a fresh name without AD) when there are any.
pcts() {
	local f=$1 re=${2:-.} p50 p99 nf
	read -r p50 p99 < <(awk -v re="$re" -v to="$BENCH_TIMEOUT" '$1 == "R" && $6 ~ re {
		printf "%d\n", ($3 == "-" ? to : $3) * 1000000 + 0.5 }' "$f" |
		percentiles_ms 0.50 0.99)
	nf=$(awk -v re="$re" '$1 == "R" && $6 ~ re &&
		(($4 != "NOERROR" && $4 != "NXDOMAIN") || ($6 ~ /\.wild\./ && $5 != 1))' "$f" | wc -l)
	if [ "$nf" = 0 ]; then
		echo "$p50 / $p99"
	else
		echo "$p50 / $p99 ($nf failed)"
	fi
}

# phase_rate SYSTEM RATE TAG: a fresh process, the hot set asked once, then
# the mixed stream at RATE for BENCH_DURATION s.
phase_rate() {
	local sys=$1 rate=$2 tag=$3 d off up nfresh
	BENCH_UPSTREAMS=$WORLD_UPSTREAM_ADDR BENCH_ROUND_ROBIN=""
	begin_run "$sys" "$tag-$rate"
	d=$RUN_DIR
	say "$sys: ($tag) $rate q/s for $BENCH_DURATION s"
	hot_names | client >"$d/warm.out"
	rate_queries "$rate" "$tag" >"$d/queries"
	world_upstream_settle
	off=$(log_size)
	client --rate "$rate" --duration "$BENCH_DURATION" <"$d/queries" >"$d/run.out"
	world_upstream_settle
	up=$(upstream_queries_since "$off" "$d/upstream.txt")
	end_run "$sys"
	nfresh=$(awk '$1 == "R" && $6 ~ /\.wild\./' "$d/run.out" | wc -l)
	cell "${tag}_${rate}_all" "$sys" "$(pcts "$d/run.out")"
	cell "${tag}_${rate}_fresh" "$sys" "$(pcts "$d/run.out" '\.wild\.')"
	cell "${tag}_${rate}_up" "$sys" "$(awk -v u="$up" -v n="$nfresh" \
		'BEGIN { if (n > 0) printf "%d (%.2f)", u, u / n; else print u }')"
}

# ---------------------------------------------------------------- the table

declare_rows() {
	local idle rate
	row a_ms "(a) first answer after start, www.sec13 A, ms"
	row a_up "(a) upstream queries: before it + for it"
	row b_worst "(b) $BENCH_FRESH_COUNT more fresh names in sec13, one at a time: worst ms"
	row b_med "(b) median ms"
	row b_up "(b) upstream queries for them"
	for idle in $BENCH_IDLE; do
		row "c_$idle" "(c) a fresh name after $idle s idle, ms"
	done
	for m in rr ordered; do
		local what="round robin (Unbound, kresd: their own choice)"
		[ "$m" = rr ] || what="ordered (first upstream first)"
		row "d_${m}_failed" "(d) failover, $what: failed queries"
		row "d_${m}_first" "(d) $m: first good answer to a query sent after the first drop, ms from the drop"
		row "d_${m}_worst" "(d) $m: slowest good answer after it, ms"
		row "d_${m}_share" "(d) $m: upstream queries to the dropped / the other, warm-up, then stream"
	done
	for rate in $BENCH_RATES; do
		row "e_${rate}_all" "(e) $rate q/s, 1 in $BENCH_FRESH_EVERY fresh: p50 / p99 ms"
		row "e_${rate}_fresh" "(e) $rate q/s: fresh names only, p50 / p99 ms"
		row "e_${rate}_up" "(e) $rate q/s: upstream queries (per fresh name)"
	done
	for rate in $BENCH_RATES; do
		row "f_${rate}_all" "(f) $rate q/s with $BENCH_LOSS % loss: p50 / p99 ms"
		row "f_${rate}_fresh" "(f) $rate q/s with loss: fresh names only, p50 / p99 ms"
		row "f_${rate}_up" "(f) $rate q/s with loss: upstream queries (per fresh name)"
	done
	row check "check: www.sec13 AD, www.badsig SERVFAIL, clean exit"
}

print_table() {
	local k sys line sep
	line="| row |"
	sep="| --- |"
	for sys in $BENCH_SYSTEMS; do
		line="$line $sys |"
		sep="$sep ---: |"
	done
	printf '%s\n%s\n' "$line" "$sep"
	for k in "${ROWS[@]}"; do
		line="| ${ROW_LABEL[$k]} |"
		local any=0
		for sys in $BENCH_SYSTEMS; do
			[ -z "${CELL[$k|$sys]+x}" ] || any=1
			line="$line ${CELL[$k|$sys]:-n/a} |"
		done
		[ "$any" = 0 ] || printf '%s\n' "$line"
	done
}

# ---------------------------------------------------------------- main

main() {
	local sys rate t0 rtt cpu_model phase ph_first=0 ph_fail=0 ph_rate=0 ph_loss=0
	PATH="$PATH:/usr/sbin:/sbin"
	for phase in $BENCH_PHASES; do
		case $phase in
		first) ph_first=1 ;;
		failover) ph_fail=1 ;;
		rate) ph_rate=1 ;;
		loss) ph_loss=1 ;;
		*) die "unknown phase '$phase' (first failover rate loss)" ;;
		esac
	done
	for sys in $BENCH_SYSTEMS; do
		case $sys in
		dotsec | unbound | kresd | stubby) ;;
		*) die "unknown system '$sys' (dotsec unbound kresd stubby)" ;;
		esac
	done
	need iptables cc python3 ip unbound unbound-checkconf unbound-control \
		kresd stubby taskset dig ss awk sort timeout nice
	warn_deps iptables cc python3 ip unshare unbound unbound-checkconf \
		unbound-control kresd stubby taskset dig ss awk sort timeout nice
	ip link set lo up || die "cannot bring up the namespace's loopback"
	find_dotsecd
	BENCH_OUT=${BENCH_OUT:-$(mktemp -d /tmp/dotsec-latency.XXXXXX)}
	mkdir -p "$BENCH_OUT" || die "cannot create $BENCH_OUT"
	# shellcheck source=../tests/system/world.sh disable=SC1091
	. "$REPO/tests/system/world.sh"
	trap on_exit EXIT
	trap 'exit 1' INT TERM HUP
	build_tools
	queue_dot_leg
	start_nfdelay 0
	if [ "$BENCH_NODELAY_UPSTREAM" = 1 ]; then
		export LD_PRELOAD=$BIN/nodelay.so
	fi
	# (d)'s names: the warm-up's and the stream's.
	WORLD_MANY_NAMES=$((BENCH_FAILOVER_RATE * BENCH_FAILOVER_DURATION + 10))
	world_start
	world_start_second_upstream
	unset LD_PRELOAD
	case $WORLD_NET in 127.*) ;; *) die "world not on 127.0.0.0/8" ;; esac
	if [ "$BENCH_NODELAY_UPSTREAM" = 1 ]; then
		grep -q '^nodelay:' "$WORLD_DIR/good/unbound.stderr" ||
			die "the upstream's stderr does not show nodelay.so at work"
	fi
	renice_world
	rtt=$(measure_rtt) || die "no TCP handshake with the upstream's DoT port"
	say "dotsecd: $DOTSECD; TCP handshake to the upstream: $rtt ms; results in $BENCH_OUT"
	t0=$(date -u '+%Y-%m-%d %H:%M UTC')
	declare_rows

	if [ "$ph_first" = 1 ]; then
		for sys in $BENCH_SYSTEMS; do
			phase_first "$sys"
		done
	fi
	if [ "$ph_fail" = 1 ]; then
		for sys in $BENCH_SYSTEMS; do
			case $sys in
			dotsec | stubby)
				phase_failover "$sys" rr
				phase_failover "$sys" ordered
				;;
			*) phase_failover "$sys" own ;;
			esac
		done
	fi
	if [ "$ph_rate" = 1 ]; then
		for rate in $BENCH_RATES; do
			for sys in $BENCH_SYSTEMS; do
				phase_rate "$sys" "$rate" e
			done
		done
	fi
	if [ "$ph_loss" = 1 ]; then
		restart_nfdelay "$BENCH_LOSS"
		for rate in $BENCH_RATES; do
			for sys in $BENCH_SYSTEMS; do
				phase_rate "$sys" "$rate" f
			done
		done
		restart_nfdelay 0
	fi

	cpu_model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
	{
		printf '%s, %s CPUs (%s), %s.\n' "$t0" "$(nproc)" "$cpu_model" "$(uname -r)"
		printf '%s; Unbound %s; Knot Resolver %s; %s.\n' \
			"$("$DOTSECD" -V 2>&1 | head -n 1)" \
			"$(unbound -V 2>/dev/null | awk '/^Version/ { print $2; exit }')" \
			"$(kresd -V 2>/dev/null | awk '{ print $NF; exit }')" \
			"$(stubby -V 2>&1 | head -n 1)"
		printf 'DoT leg: %s ms each way (TCP handshake measured: %s ms), loss in (f) %s %%; upstreams %s.\n' \
			"$BENCH_DELAY_MS" "$rtt" "$BENCH_LOSS" \
			"$([ "$BENCH_NODELAY_UPSTREAM" = 1 ] && echo "with TCP_NODELAY (nodelay.so)" || echo "as Debian ships them (no TCP_NODELAY)")"
		printf 'dotsecd workers %s, Unbound threads %s, kresd and Stubby 1; CPUs %s; nice %s; client timeout %s s.\n\n' \
			"$BENCH_THREADS" "$BENCH_THREADS" "$BENCH_SERVER_CPUS" \
			"${BENCH_NICE:-0}" "$BENCH_TIMEOUT"
		print_table
	} | tee "$BENCH_OUT/latency.md"
	say "results: $BENCH_OUT/latency.md"
}

main "$@"
