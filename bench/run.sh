#!/bin/bash
#
# bench/run.sh -- load benchmark of dotsecd against Stubby and Unbound, all
# three validating and forwarding over DNS-over-TLS to the same upstream of
# the system tests' local signed world (tests/system/world.sh), with dnsperf
# as the client and dnsperf straight at the DoT upstream as the ceiling.
#
# Run by hand, as root (the world binds ports 53 and 853 on 127.x
# addresses), from anywhere:
#
#     bash bench/run.sh
#
# Everything is on 127.0.0.0/8.  Every run is bounded in time; every process
# the script starts is stopped by its PID on exit.  The Markdown table is
# printed on stdout and written, with the raw dnsperf outputs, to
# $BENCH_OUT.  See bench/README.md for what each run means and the pitfalls.
#
# Environment (defaults in brackets):
#   DOTSECD              the daemon [./src/dotsecd of the repository if it is
#                        executable, else built in $BENCH_BUILD_DIR]
#   BENCH_BUILD_DIR      where a copy of the repository is built when needed
#                        [/tmp/dotsec-bench-build]
#   BENCH_DURATION       seconds of load per run [20]
#   BENCH_CLIENTS        dnsperf -c [4]
#   BENCH_OUTSTANDING    dnsperf -q [200]
#   BENCH_MAX_QPS        dnsperf -Q: a fixed offered load, to compare
#                        latencies below saturation [none]
#   BENCH_TIMEOUT        dnsperf -t, seconds before a query counts as lost [5]
#   BENCH_THREADS        worker threads of dotsecd and Unbound [1]; Stubby
#                        has a single thread whatever this says
#   BENCH_SERVER_CPUS    taskset CPU list of the system under test [0]
#   BENCH_CLIENT_CPU     taskset CPU of dnsperf [the last CPU]
#   BENCH_NICE           nice value of the world, the system under test and
#                        dnsperf, so that other work on the host (builds,
#                        fuzzers) gets what they leave [-10; "" for none]
#   BENCH_SYSTEMS        systems in order [dotsec stubby unbound kresd
#                        ceiling]
#   BENCH_WORKLOADS      runs in order [hot cold nxdomain mixed tcp];
#                        also dot-hot and dot-mixed: hot and mixed over
#                        DoT (dnsperf -m dot) against the DoT listeners
#                        of dotsecd, Unbound and kresd (not Stubby);
#                        "miss" too: unique names that exist, in a signed
#                        zone of BENCH_MISS_NAMES names [200000 when
#                        asked for] (signing it takes a while)
#   BENCH_CACHE_SIZE     bytes of cache of dotsecd (cache_size) and Unbound
#                        (messages 1/4, RRsets 1/2, keys 1/4) [33554432,
#                        dotsecd's default]
#   BENCH_COLD_MAX_QPS   the cold query file has DURATION x this many
#                        unique names [60000]
#   BENCH_ZIPF_NAMES     distinct names of the mixed run [100000]
#   BENCH_ZIPF_S         Zipf exponent of the mixed run [1.0]
#   BENCH_MIXED_LINES    lines of the mixed query file [1000000]
#   BENCH_PERF           after the table, profile dotsecd with perf during
#                        one more run of each of these workloads and print
#                        its top DSOs and symbols; 1 means hot [0: none]
#   BENCH_PERF_SYSTEMS   the systems BENCH_PERF profiles [dotsec]
#   BENCH_OUT            directory for the results [a new /tmp/dotsec-bench.*]

# No "set -u": world.sh is not written for it.
set -o pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)

BENCH_BUILD_DIR=${BENCH_BUILD_DIR:-/tmp/dotsec-bench-build}
BENCH_DURATION=${BENCH_DURATION:-20}
BENCH_CLIENTS=${BENCH_CLIENTS:-4}
BENCH_OUTSTANDING=${BENCH_OUTSTANDING:-200}
BENCH_TIMEOUT=${BENCH_TIMEOUT:-5}
BENCH_MAX_QPS=${BENCH_MAX_QPS:-}
BENCH_THREADS=${BENCH_THREADS:-1}
BENCH_SERVER_CPUS=${BENCH_SERVER_CPUS:-0}
BENCH_CLIENT_CPU=${BENCH_CLIENT_CPU:-$(($(nproc) - 1))}
BENCH_NICE=${BENCH_NICE--10}
BENCH_SYSTEMS=${BENCH_SYSTEMS:-dotsec stubby unbound kresd ceiling}
BENCH_WORKLOADS=${BENCH_WORKLOADS:-hot cold nxdomain mixed tcp}
BENCH_MISS_NAMES=${BENCH_MISS_NAMES:-0}
BENCH_CACHE_SIZE=${BENCH_CACHE_SIZE:-33554432}
BENCH_COLD_MAX_QPS=${BENCH_COLD_MAX_QPS:-60000}
BENCH_ZIPF_NAMES=${BENCH_ZIPF_NAMES:-100000}
BENCH_ZIPF_S=${BENCH_ZIPF_S:-1.0}
BENCH_MIXED_LINES=${BENCH_MIXED_LINES:-1000000}
BENCH_PERF=${BENCH_PERF:-0}
BENCH_PERF_SYSTEMS=${BENCH_PERF_SYSTEMS:-dotsec}

CLK_TCK=$(getconf CLK_TCK)
NICE=()			# the command prefix that sets BENCH_NICE
[ -z "$BENCH_NICE" ] || NICE=(nice -n "$BENCH_NICE")
CLIENT_PID=""		# timeout(1) running dnsperf, while it runs
PERF_PID=""		# perf record, while it runs
RESULTS=""		# table rows, one per run
RAW=""			# CSV lines, one per run
declare -A QPS_DOTSEC	# workload -> dotsec's QPS, for the ratio column

# say, die, need, warn_deps, stop_pid, find_dotsecd, hot_names, the
# systems' configurations and start_system, the upstream's log and cache,
# percentiles, check_system, renice_world.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$BENCH_DIR/lib.sh"

# ---------------------------------------------------------------- set-up

on_exit() {
	# timeout(1) passes TERM on to dnsperf.
	[ -z "$CLIENT_PID" ] || stop_pid "$CLIENT_PID"
	[ -z "$PERF_PID" ] || stop_pid "$PERF_PID"
	if [ -n "$SYS_PID" ]; then
		stop_pid "$SYS_PID"
		SYS_PID=""
	fi
	if [ -n "${WORLD_DIR:-}" ]; then
		world_stop
	fi
}

# ---------------------------------------------------------------- queries

make_queries() {
	local q=$BENCH_OUT/queries n
	mkdir -p "$q"
	hot_names >"$q/hot.txt"
	cp "$q/hot.txt" "$q/tcp.txt"
	cp "$q/hot.txt" "$q/dot-hot.txt"
	# Cold: unique names under the wildcard of the NSEC3 zone: a miss
	# for a cache of answers, which a cache that uses validated NSEC3
	# (RFC 8198: kresd, and dotsecd's aggressive_nsec) answers from the
	# records of earlier proofs once it holds the span of a name.
	# NXDOMAIN: unique names that do not exist in the same zone.
	n=$((BENCH_DURATION * BENCH_COLD_MAX_QPS))
	awk -v n="$n" -v z="sec13.$WORLD_TLD" 'BEGIN {
		for (i = 1; i <= n; i++) printf "c%d.wild.%s A\n", i, z }' \
		>"$q/cold.txt"
	awk -v n="$n" -v z="sec13.$WORLD_TLD" 'BEGIN {
		for (i = 1; i <= n; i++) printf "x%d.%s A\n", i, z }' \
		>"$q/nxdomain.txt"
	# Miss: unique names that exist (many.$WORLD_TLD, BENCH_MISS_NAMES
	# of them, in an order of their own): no proof makes their answers,
	# every one is a miss that goes upstream and is validated.
	if [ "$BENCH_MISS_NAMES" -gt 0 ]; then
		awk -v n="$BENCH_MISS_NAMES" -v z="many.$WORLD_TLD" 'BEGIN {
			srand(20261207)
			for (i = 1; i <= n; i++) p[i] = i
			for (i = n; i > 1; i--) {
				j = int(rand() * i) + 1; t = p[i]; p[i] = p[j]; p[j] = t
			}
			for (i = 1; i <= n; i++) printf "n%d.%s A\n", p[i], z }' \
			>"$q/miss.txt"
	fi
	# Mixed: BENCH_MIXED_LINES queries over BENCH_ZIPF_NAMES names drawn
	# with probability ~ 1/rank^s.  The first ranks are the hot set; the
	# others are names under the wildcards of four zones (A, every fifth
	# one TXT).
	hot_names >"$q/mixed.hot"
	awk -v k="$BENCH_ZIPF_NAMES" -v n="$BENCH_MIXED_LINES" \
		-v s="$BENCH_ZIPF_S" -v t="$WORLD_TLD" '
		{ hot[NR] = $0; nhot = NR }
		END {
			split("sec8 sec13 sec15 insecure", zone, " ")
			srand(20240611)
			for (i = 1; i <= k; i++) { h += 1 / i ^ s; cdf[i] = h }
			for (j = 0; j < n; j++) {
				u = rand() * h; lo = 1; hi = k
				while (lo < hi) {
					m = int((lo + hi) / 2)
					if (cdf[m] < u) lo = m + 1; else hi = m
				}
				if (lo <= nhot) { print hot[lo]; continue }
				printf "m%d.wild.%s.%s %s\n", lo, zone[lo % 4 + 1], t,
				    (lo % 5 == 0) ? "TXT" : "A"
			}
		}' "$q/mixed.hot" >"$q/mixed.txt"
	rm -f "$q/mixed.hot"
	cp "$q/mixed.txt" "$q/dot-mixed.txt"
}

# ---------------------------------------------------------------- measures

upstream_pid() {
	cat "$WORLD_DIR/good/unbound.pid"
}

# cpu_ticks PID: utime + stime of the whole process (all threads).
cpu_ticks() {
	awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null ||
		echo 0
}

rss_mib() {
	awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status" 2>/dev/null
}

# udp_rcvbuf_errors: the kernel's count of UDP datagrams dropped because a
# socket's receive buffer was full (any socket on the host).
udp_rcvbuf_errors() {
	awk '/^Udp:/ { if (!h) { for (i = 2; i <= NF; i++) if ($i == "RcvbufErrors") c = i
		h = 1; next } print $c; exit }' /proc/net/snmp
}

# sock_drops ADDR: datagrams dropped at the system's UDP sockets on ADDR:53.
sock_drops() {
	ss -Huanm "src $1:53" | grep -o ',d[0-9]*)' | tr -d ',d)' |
		awk '{ n += $1 } END { print n + 0 }'
}

# host_busy: "busy total" jiffies of all CPUs, from /proc/stat.
host_busy() {
	awk '/^cpu / { t = 0; for (i = 2; i <= NF; i++) t += $i
		print t - $5 - $6, t; exit }' /proc/stat
}

# ---------------------------------------------------------------- one run

# run_one SYSTEM WORKLOAD [perf]
run_one() {
	local sys=$1 wl=$2 prof=${3:-} d mode=udp qfile pid addr perf_pid=""
	local c0 c1 b0 b1 off up rc qps sent compl lost mean sf p50 p99 rss
	local cpu_us ratio upq ccpu check busy load t0 el label r0 r1 drops rt
	local tpid dpid d0 d1 t1 rate=()
	# TCP against the upstream would be the hot DoT run again; the DoT
	# runs are for the systems that serve DoT (not Stubby).
	[ "$sys" = ceiling ] && [ "$wl" = tcp ] && return 0
	case $wl in
	dot-*) [ "$sys" != ceiling ] && [ "$sys" != stubby ] || return 0 ;;
	esac
	d=$BENCH_OUT/$wl-$sys${prof:+-perf}
	# A run directory left by an earlier run in the same BENCH_OUT holds
	# that world's trust anchor state: every answer would be SERVFAIL.
	rm -rf "$d"
	mkdir -p "$d"
	qfile=$BENCH_OUT/queries/$wl.txt
	[ "$wl" = tcp ] && mode=tcp
	# dnsperf -m dot: port 853, the certificate not checked.
	case $wl in dot-*) mode=dot ;; esac
	flush_upstream
	if [ "$sys" = ceiling ]; then
		mode="dot"
		pid=$(upstream_pid)
		addr=$WORLD_UPSTREAM_ADDR
	else
		start_system "$sys" "$d"
		pid=$SYS_PID
		addr=$SYS_ADDR
	fi
	say "$wl / $sys: $mode to $addr, ${BENCH_DURATION}s"
	if [ -n "$prof" ]; then
		perf record -F 499 -g -p "$pid" -o "$d/perf.data" \
			-- sleep "$((BENCH_DURATION > 3 ? BENCH_DURATION - 2 : 1))" >"$d/perf.out" 2>&1 &
		perf_pid=$!
		PERF_PID=$perf_pid
	fi
	off=$(log_size)
	c0=$(cpu_ticks "$pid")
	read -r b0 _ < <(host_busy)
	r0=$(udp_rcvbuf_errors)
	t0=$(date +%s.%N)
	load=$(cut -d' ' -f1 /proc/loadavg)
	rc=0
	[ -z "$BENCH_MAX_QPS" ] || rate=(-Q "$BENCH_MAX_QPS")
	timeout -k 5 "$((BENCH_DURATION + BENCH_TIMEOUT + 30))" \
		"${NICE[@]}" taskset -c "$BENCH_CLIENT_CPU" dnsperf -m "$mode" \
		-s "$addr" -a "$WORLD_CLIENT_ADDR" -d "$qfile" -D \
		-c "$BENCH_CLIENTS" -T 1 -q "$BENCH_OUTSTANDING" \
		-t "$BENCH_TIMEOUT" -l "$BENCH_DURATION" "${rate[@]}" -v \
		>"$d/dnsperf.out" 2>"$d/dnsperf.err" &
	tpid=$!
	CLIENT_PID=$tpid
	# dnsperf's own CPU over the middle of the run (its PID is the child
	# of timeout), not over the wait for lost queries at the end.
	ccpu="-"
	if [ "$BENCH_DURATION" -ge 4 ]; then
		sleep 1
		dpid=$(ps -o pid= --ppid "$tpid" | tr -d ' ' | head -n 1)
		if [ -n "$dpid" ]; then
			d0=$(cpu_ticks "$dpid")
			t1=$(date +%s.%N)
			sleep "$((BENCH_DURATION - 2))"
			d1=$(cpu_ticks "$dpid")
			ccpu=$(awk -v a="$d0" -v b="$d1" -v h="$CLK_TCK" \
				-v s="$t1" -v e="$(date +%s.%N)" \
				'BEGIN { if (b < a) print "-"; else printf "%.0f%%", (b - a) / h / (e - s) * 100 }')
		fi
	fi
	wait "$tpid" || rc=$?
	CLIENT_PID=""
	c1=$(cpu_ticks "$pid")
	read -r b1 _ < <(host_busy)
	r1=$(udp_rcvbuf_errors)
	el=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
	up=$(upstream_queries_since "$off" "$d/upstream-queries.txt")
	rss=$(rss_mib "$pid")
	[ -z "$perf_pid" ] || wait "$perf_pid"
	PERF_PID=""
	if [ "$mode" = udp ]; then
		drops="$(sock_drops "$addr") / $((r1 - r0))"
	else
		drops="-"
	fi
	if [ "$sys" = ceiling ]; then
		check="n/a"
	elif ! kill -0 "$pid" 2>/dev/null; then
		check="DIED"
	else
		check=$(check_system "$addr")
	fi
	if [ "$sys" != ceiling ]; then
		stop_pid "$SYS_PID"
		SYS_PID=""
		[ "$sys" != dotsec ] || [ "$STOP_RC" = 0 ] ||
			check="$check; exit status $STOP_RC"
		[ "$check" = ok ] || {
			say "$wl / $sys: check: $check; stderr (tail):"
			tail -n 20 "$d/stderr" >&2
		}
	fi
	[ "$rc" = 0 ] || say "$wl / $sys: dnsperf exited with status $rc (see $d/dnsperf.err)"

	sent=$(awk '/Queries sent:/ { print $3 }' "$d/dnsperf.out")
	compl=$(awk '/Queries completed:/ { print $3 }' "$d/dnsperf.out")
	lost=$(awk '/Queries lost:/ { print $3 }' "$d/dnsperf.out")
	qps=$(awk '/Queries per second:/ { printf "%.0f", $4 }' "$d/dnsperf.out")
	# The first "Average Latency" is the queries'; DoT and TCP runs
	# print a second one, of connection set-up.
	mean=$(awk '/Average Latency/ { printf "%.3f", $4 * 1000; exit }' "$d/dnsperf.out")
	sf=$(awk '/Response codes:/ { for (i = 3; i < NF; i++)
		if ($i == "SERVFAIL") print $(i + 1) + 0 }' "$d/dnsperf.out")
	: "${sent:=0}" "${compl:=0}" "${lost:=0}" "${qps:=0}" "${mean:=-}" "${sf:=0}"
	read -r p50 p99 < <(latency_pcts "$d/dnsperf.out")
	# Keep the summary, drop the per-query lines (tens of MB).
	grep -v '^> ' "$d/dnsperf.out" >"$d/dnsperf.summary"
	rm -f "$d/dnsperf.out"
	rt=$(awk '/Run time \(s\):/ { print $4 }' "$d/dnsperf.summary")
	: "${rt:=$BENCH_DURATION}"
	if [ "$compl" -gt 0 ]; then
		# Of a core: over dnsperf's run time, not the wait for lost
		# queries at the end.
		cpu_us=$(awk -v c="$((c1 - c0))" -v h="$CLK_TCK" -v n="$compl" \
			-v s="$rt" 'BEGIN { printf "%.1f (%.0f%%)", c / h / n * 1e6,
				c / h / s * 100 }')
		upq=$(awk -v u="$up" -v n="$compl" 'BEGIN { printf "%.3g", u / n }')
	else
		cpu_us="-"
		upq="-"
	fi
	printf '%s\n' "$cpu_us" >"$d/cpu_us"
	busy=$(awk -v a="$b0" -v b="$b1" -v h="$CLK_TCK" -v s="$el" -v n="$(nproc)" \
		'BEGIN { printf "%.0f%%", (b - a) / h / s / n * 100 }')
	[ -z "$prof" ] || return 0
	if [ "$sys" = dotsec ]; then
		QPS_DOTSEC[$wl]=$qps
	fi
	if [ -n "${QPS_DOTSEC[$wl]:-}" ] && [ "${QPS_DOTSEC[$wl]}" -gt 0 ]; then
		ratio=$(awk -v a="$qps" -v b="${QPS_DOTSEC[$wl]}" 'BEGIN { printf "%.2f", a / b }')
	else
		ratio="-"
	fi
	label=$sys
	[ "$sys" = ceiling ] && label="upstream (DoT ceiling)"
	RESULTS="$RESULTS| $wl ($mode) | $label | $qps | $ratio | $mean | $p50 | $p99 | $lost of $sent | $drops | $sf | $cpu_us | $up ($upq) | $rss | $ccpu | $busy / $load | $check |
"
	RAW="$RAW$wl,$sys,$mode,$qps,$ratio,$mean,$p50,$p99,$sent,$compl,$lost,$drops,$sf,$cpu_us,$up,$upq,$rss,$ccpu,$busy,$load,$check
"
}

# profile_system SYSTEM WORKLOAD: one more run of SYSTEM under perf record;
# its DSOs as shares of the samples and as CPU microseconds per answered
# query (the share times the run's CPU per query), then its top symbols.
profile_system() {
	local sys=$1 wl=$2 d=$BENCH_OUT/$2-$1-perf us
	say "profiling $sys during a $wl run (perf record -g)"
	run_one "$sys" "$wl" perf
	us=$(cut -d' ' -f1 "$d/cpu_us" 2>/dev/null)
	{
		printf '\nperf, %s, %s run (%s, %s µs of CPU per query): by DSO, share and µs per query\n\n~~~\n' \
			"$sys" "$wl" "$(awk '/Queries per second:/ { printf "%.0f QPS under perf", $4 }' "$d/dnsperf.summary")" \
			"${us:--}"
		perf report -g none -i "$d/perf.data" --no-children --sort dso --stdio \
			2>/dev/null | grep -E '^ +[0-9]' | head -n 10 |
			awk -v us="${us:-0}" '{ p = $1; sub(/%/, "", p)
				printf "%s %7.1f µs\n", $0, p / 100 * us }'
		printf '~~~\n\nby symbol\n\n~~~\n'
		perf report -g none -i "$d/perf.data" --no-children --sort dso,sym \
			--stdio 2>/dev/null | grep -E '^ +[0-9]' | head -n 30
		printf '~~~\n'
	} | tee "$d/perf.top"
}

# ---------------------------------------------------------------- main

main() {
	local wl sys t0 cpu_model
	PATH="$PATH:/usr/sbin:/sbin"
	need dnsperf stubby unbound unbound-checkconf unbound-control taskset \
		dig ss awk sort uniq timeout getconf
	case $BENCH_PERF in 0 | "") ;; *) need perf ;; esac
	warn_deps dnsperf stubby unbound unbound-checkconf unbound-control \
		taskset dig ss awk sort uniq timeout getconf
	[ "$(id -u)" = 0 ] || die "needs root (the world binds ports 53 and 853)"
	find_dotsecd
	BENCH_OUT=${BENCH_OUT:-$(mktemp -d /tmp/dotsec-bench.XXXXXX)}
	mkdir -p "$BENCH_OUT" || die "cannot create $BENCH_OUT"
	# shellcheck source=../tests/system/world.sh disable=SC1091
	. "$REPO/tests/system/world.sh"
	trap on_exit EXIT
	trap 'exit 1' INT TERM HUP
	{
		printf 'load before: %s\n' "$(uptime)"
		ps -eo pid,pcpu,etime,comm --sort=-pcpu | head -n 15
	} >"$BENCH_OUT/load-before.txt"
	case " $BENCH_WORKLOADS " in
	*" miss "*) [ "$BENCH_MISS_NAMES" -gt 0 ] || BENCH_MISS_NAMES=200000 ;;
	esac
	# The DoT runs: each system's DoT listener on port 853 of its
	# address, with a certificate made here.
	case " $BENCH_WORKLOADS " in
	*" dot-"*)
		mkdir -p "$BENCH_OUT/tls"
		BENCH_DOT_PEM=$BENCH_OUT/tls/dot.pem
		BENCH_DOT_KEY=$BENCH_OUT/tls/dot.key
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
			-nodes -days 2 -subj /CN=dot.bench -keyout "$BENCH_DOT_KEY" \
			-out "$BENCH_DOT_PEM" >/dev/null 2>&1 ||
			die "cannot make the DoT listeners' certificate"
		chmod 600 "$BENCH_DOT_KEY"
		;;
	esac
	WORLD_MANY_NAMES=$BENCH_MISS_NAMES
	world_start
	case $WORLD_NET in 127.*) ;; *) die "world not on 127.0.0.0/8" ;; esac
	renice_world
	make_queries
	say "dotsecd: $DOTSECD; results in $BENCH_OUT"
	t0=$(date -u '+%Y-%m-%d %H:%M UTC')
	for wl in $BENCH_WORKLOADS; do
		for sys in $BENCH_SYSTEMS; do
			run_one "$sys" "$wl"
		done
	done
	{
		printf 'load after: %s\n' "$(uptime)"
		ps -eo pid,pcpu,etime,comm --sort=-pcpu | head -n 15
	} >"$BENCH_OUT/load-after.txt"
	cpu_model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
	{
		printf '%s, %s CPUs (%s), %s; dnsperf %s.\n' "$t0" "$(nproc)" \
			"$cpu_model" "$(uname -r)" \
			"$(dnsperf -h 2>&1 | awk '/^Version/ { print $2 }')"
		printf 'Each run %s s, dnsperf -c %s -q %s -T 1 -D on CPU %s; the system on CPUs %s with %s thread(s) (Stubby: 1); the world unpinned; nice %s.\n' \
			"$BENCH_DURATION" "$BENCH_CLIENTS" "$BENCH_OUTSTANDING" \
			"$BENCH_CLIENT_CPU" "$BENCH_SERVER_CPUS" "$BENCH_THREADS" \
			"${BENCH_NICE:-0}"
		[ -z "$BENCH_MAX_QPS" ] ||
			printf 'Offered load fixed at %s QPS (dnsperf -Q).\n' "$BENCH_MAX_QPS"
		printf '%s\n%s\n\n' "$(head -n 1 "$BENCH_OUT/load-before.txt")" \
			"$(head -n 1 "$BENCH_OUT/load-after.txt")"
		printf '| run | system | QPS | vs dotsec | mean ms | p50 ms | p99 ms | lost | UDP drops server / host | SERVFAIL | CPU µs/q (of a core) | upstream q (per client q) | RSS MiB | dnsperf CPU | host busy / load | check |\n'
		printf '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n'
		printf '%s' "$RESULTS"
	} | tee "$BENCH_OUT/results.md"
	{
		printf 'workload,system,mode,qps,vs_dotsec,mean_ms,p50_ms,p99_ms,sent,completed,lost,udp_drops_server_host,servfail,cpu_us_per_q,upstream_q,upstream_per_q,rss_mib,dnsperf_cpu,host_busy,load1,check\n'
		printf '%s' "$RAW"
	} >"$BENCH_OUT/results.csv"
	[ "$BENCH_PERF" = 1 ] && BENCH_PERF=hot
	[ "$BENCH_PERF" = 0 ] && BENCH_PERF=""
	for wl in $BENCH_PERF; do
		for sys in $BENCH_PERF_SYSTEMS; do
			profile_system "$sys" "$wl" | tee -a "$BENCH_OUT/results.md"
		done
	done
	say "results: $BENCH_OUT/results.md, $BENCH_OUT/results.csv"
}

main "$@"
